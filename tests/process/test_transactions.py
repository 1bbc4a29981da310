"""Kafka transactions on a real dmq node with confluent-kafka-python.

1. A transactional producer (init, begin, produce to several partitions of
   two topics, commit; then begin, produce, abort): a read_committed
   consumer sees every committed record and none of the aborted ones; a
   read_uncommitted consumer sees both (the aborted ones are in the log);
   the last stable offset holds a read_committed consumer back while a
   transaction is open.
2. send_offsets_to_transaction: the group's committed offset moves only
   when the transaction commits, not when it aborts.
3. A second producer with the same transactional.id fences the first: the
   first's next commit fails with a fatal fencing error, and its open
   transaction is aborted (its records never reach a read_committed consumer).
4. transaction.timeout.ms: a transaction left open is aborted by the
   coordinator; its records never become visible to read_committed.
5. DescribeTransactions/ListTransactions through the admin client and
   GET /v1/transactions; the coordinator reloads __transaction_state after
   a restart and a committed transaction stays committed.
6. kafkajs 2.2.4 (from npm, as test_kafka_kafkajs.py installs it):
   commit over two topics, abort, sendOffsets, fencing by a second instance.
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

TOPICS = ["txn-a", "txn-b"]
PARTITIONS = 3


def make_producer(broker, txn_id, **extra):
    conf = {"bootstrap.servers": broker, "transactional.id": txn_id, "linger.ms": 5}
    conf.update(extra)
    p = Producer(conf)
    p.init_transactions(30)
    return p


def read_all(broker, isolation, topics=TOPICS, group=None, timeout_s=20, expect=None):
    """Every record of `topics` from the beginning: [(topic, partition, offset, value)]."""
    c = Consumer({"bootstrap.servers": broker, "group.id": group or f"reader-{time.monotonic_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": isolation})
    c.subscribe(topics)
    out = []
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        msgs = c.consume(500, 0.5)
        real = [m for m in msgs if m.error() is None]
        out += [(m.topic(), m.partition(), m.offset(), m.value().decode()) for m in real]
        if expect is not None and len(out) >= expect:
            # Keep reading a little: a record too many must show up.
            if idle_since is None:
                idle_since = time.monotonic()
            if time.monotonic() - idle_since > 2:
                break
    c.close()
    return out


def values(records):
    return sorted(v for (_, _, _, v) in records)


def test_commit_and_abort():
    with dmqtest.Workdir() as w:
        node = w.node()
        node.start()
        for t in TOPICS:
            dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": t, "partitions": PARTITIONS,
                                                                "replication_factor": 1})[0] == 201,
                               15, what=f"topic {t}")
        p = make_producer(node.kafka, "txn-1")
        committed = []
        p.begin_transaction()
        for i in range(60):
            v = f"commit-{i}"
            p.produce(TOPICS[i % 2], value=v, partition=i % PARTITIONS)
            committed.append(v)
        p.commit_transaction(30)
        aborted = []
        p.begin_transaction()
        for i in range(30):
            v = f"abort-{i}"
            p.produce(TOPICS[i % 2], value=v, partition=i % PARTITIONS)
            aborted.append(v)
        p.flush(30)
        p.abort_transaction(30)
        # A second committed transaction after the abort, same producer.
        p.begin_transaction()
        for i in range(12):
            v = f"after-{i}"
            p.produce(TOPICS[i % 2], value=v, partition=i % PARTITIONS)
            committed.append(v)
        p.commit_transaction(30)

        got = read_all(node.kafka, "read_committed", expect=len(committed))
        assert values(got) == sorted(committed), \
            f"read_committed saw {len(got)} records; aborted among them: " \
            f"{[v for v in values(got) if v.startswith('abort')][:5]}"
        raw = read_all(node.kafka, "read_uncommitted", expect=len(committed) + len(aborted))
        assert values(raw) == sorted(committed + aborted), f"read_uncommitted saw {len(raw)}"

        # The LSO holds read_committed back while a transaction is open.
        p.begin_transaction()
        p.produce(TOPICS[0], value="pending", partition=0)
        p.flush(30)
        lc = read_all(node.kafka, "read_committed", topics=[TOPICS[0]], timeout_s=5)
        assert "pending" not in values(lc), "read_committed saw a record of an open transaction"
        lu = read_all(node.kafka, "read_uncommitted", topics=[TOPICS[0]], timeout_s=5)
        assert "pending" in values(lu), "read_uncommitted must see the open transaction's record"
        p.commit_transaction(30)
        lc = read_all(node.kafka, "read_committed", topics=[TOPICS[0]],
                      expect=len([v for v in committed if True]) // 2 + 1)
        assert "pending" in values(lc), "the committed record must become visible"


def test_offsets_in_transaction():
    with dmqtest.Workdir() as w:
        node = w.node()
        node.start()
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "in", "partitions": 1,
                                                            "replication_factor": 1})[0] == 201,
                           15, what="topic in")
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "out", "partitions": 1,
                                                            "replication_factor": 1})[0] == 201,
                           15, what="topic out")
        plain = Producer({"bootstrap.servers": node.kafka})
        for i in range(20):
            plain.produce("in", value=f"in-{i}")
        plain.flush(30)
        group = "ctp-group"
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "isolation.level": "read_committed"})
        c.subscribe(["in"])
        batch = []
        deadline = time.monotonic() + 30
        while len(batch) < 10 and time.monotonic() < deadline:
            batch += [m for m in c.consume(10 - len(batch), 1) if m.error() is None]
        assert len(batch) == 10, f"consumed {len(batch)}"
        p = make_producer(node.kafka, "ctp-1")

        def committed_offset():
            return c.committed([TopicPartition("in", 0)], 10)[0].offset

        # Aborted: the offsets stay where they were.
        p.begin_transaction()
        for m in batch:
            p.produce("out", value=m.value())
        p.send_offsets_to_transaction([TopicPartition("in", 0, batch[-1].offset() + 1)],
                                      c.consumer_group_metadata(), 30)
        p.abort_transaction(30)
        assert committed_offset() < 0, f"an aborted transaction committed offset {committed_offset()}"
        # Committed: the offsets move with the output.
        p.begin_transaction()
        for m in batch:
            p.produce("out", value=m.value())
        p.send_offsets_to_transaction([TopicPartition("in", 0, batch[-1].offset() + 1)],
                                      c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        dmqtest.wait_until(lambda: committed_offset() == batch[-1].offset() + 1, 10,
                           what="the transaction's offset commit")
        c.close()
        out = read_all(node.kafka, "read_committed", topics=["out"], expect=10)
        assert values(out) == sorted(f"in-{i}" for i in range(10)), values(out)


def test_fencing_and_timeout():
    with dmqtest.Workdir() as w:
        node = w.node(extra=["--transaction.abort.timed.out.transaction.cleanup.interval.ms=200"])
        node.start()
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "fence", "partitions": 2,
                                                            "replication_factor": 1})[0] == 201,
                           15, what="topic fence")
        first = make_producer(node.kafka, "fenced-id")
        first.begin_transaction()
        first.produce("fence", value="zombie-0", partition=0)
        first.flush(30)
        # The second instance fences the first and aborts its open transaction.
        second = make_producer(node.kafka, "fenced-id")
        second.begin_transaction()
        second.produce("fence", value="live-0", partition=1)
        second.commit_transaction(30)
        fenced = None
        try:
            first.produce("fence", value="zombie-1", partition=1)
            first.commit_transaction(10)
        except KafkaException as e:
            fenced = e.args[0]
        assert fenced is not None, "the fenced producer committed"
        assert fenced.fatal() or "fenc" in str(fenced).lower(), f"not a fencing error: {fenced}"

        # A transaction left open past transaction.timeout.ms is aborted.
        slow = make_producer(node.kafka, "slow-id", **{"transaction.timeout.ms": 2000})
        slow.begin_transaction()
        slow.produce("fence", value="expired-0", partition=0)
        slow.flush(30)
        status = {}

        def aborted_by_coordinator():
            s, body = node.get("/v1/transactions")
            status["last"] = body
            return s == 200 and any(t["transactional_id"] == "slow-id" and t["state"] == "CompleteAbort"
                                    for t in body["transactions"])
        dmqtest.wait_until(aborted_by_coordinator, 20, interval_s=0.2,
                           what=f"slow-id aborted by the coordinator ({status})")
        got = values(read_all(node.kafka, "read_committed", topics=["fence"], expect=1))
        assert got == ["live-0"], f"read_committed saw {got}"


def test_describe_list_and_restart():
    with dmqtest.Workdir() as w:
        node = w.node()
        node.start()
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "durable", "partitions": 1,
                                                            "replication_factor": 1})[0] == 201,
                           15, what="topic durable")
        p = make_producer(node.kafka, "durable-id")
        p.begin_transaction()
        p.produce("durable", value="one")
        p.commit_transaction(30)
        p.begin_transaction()
        p.produce("durable", value="two")
        p.flush(30)
        s, body = node.get("/v1/transactions")
        assert s == 200, body
        mine = [t for t in body["transactions"] if t["transactional_id"] == "durable-id"]
        assert mine and mine[0]["state"] == "Ongoing", body
        assert mine[0]["partitions"] == [{"topic": "durable", "partition": 0}], mine
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({"bootstrap.servers": node.kafka})
        if hasattr(admin, "list_transactions"):
            listed = admin.list_transactions().result(10)
            assert any(t.transactional_id == "durable-id" for t in listed), listed
        # Restart with the transaction open: after reload it is still open,
        # the committed record stays visible, the open one is not.
        node.kill()
        node.start()
        dmqtest.wait_until(lambda: node.get("/v1/transactions")[0] == 200 and any(
            t["transactional_id"] == "durable-id" for t in node.get("/v1/transactions")[1]["transactions"]),
            20, what="durable-id reloaded")
        got = values(read_all(node.kafka, "read_committed", topics=["durable"], expect=1, timeout_s=10))
        assert got == ["one"], f"read_committed after restart saw {got}"
        raw = values(read_all(node.kafka, "read_uncommitted", topics=["durable"], expect=2, timeout_s=10))
        assert raw == ["one", "two"], raw


def test_kafkajs():
    from test_kafka_kafkajs import CLIENTS, ensure_kafkajs
    ensure_kafkajs()
    node_bin = shutil.which("node") or "/usr/bin/node"
    with dmqtest.Workdir() as w:
        node = w.node()
        node.start()
        for t in ("kjs-a", "kjs-b"):
            dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": t, "partitions": 2,
                                                                "replication_factor": 1})[0] == 201,
                               15, what=f"topic {t}")
        out = subprocess.run([node_bin, os.path.join(CLIENTS, "kafkajs_txn.js"), node.kafka,
                              "kjs-a", "kjs-b", "kjs-group"], capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        result = json.loads(out.stdout.decode().strip().splitlines()[-1])
        assert result["fenced"], f"the first kafkajs producer was not fenced: {result}"
        got = values(read_all(node.kafka, "read_committed", topics=["kjs-a", "kjs-b"], expect=5))
        assert got == sorted(["kjs-commit-a0", "kjs-commit-a1", "kjs-commit-b0", "kjs-offsets-b1",
                              "kjs-second"]), got
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "kjs-group"})
        committed = c.committed([TopicPartition("kjs-a", 0)], 10)[0].offset
        c.close()
        assert committed == 1, f"sendOffsets committed {committed}"


if __name__ == "__main__":
    dmqtest.run([test_commit_and_abort, test_offsets_in_transaction, test_fencing_and_timeout,
                 test_describe_list_and_restart, test_kafkajs])
