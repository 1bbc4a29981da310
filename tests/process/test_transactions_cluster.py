"""Transactions across brokers: 3 nodes, RF 3, min.insync.replicas 2.

1. Partitions led by three different brokers and a coordinator on one of
   them: markers reach the other leaders (node-to-node), the partition
   leaders verify with the coordinator (KIP-890), a read_committed consumer
   sees the committed transactions and none of the aborted one.
2. Consume-transform-produce, exactly once, under kill -9 of the
   transaction coordinator: a loop reads `in` (read_committed), writes each
   record to `out` and commits the input offsets in the same transaction;
   mid-run the broker coordinating its transactional id is killed and
   restarted. The loop recovers (a new producer instance after a fatal
   error, from the committed offsets); at the end `out` read with
   read_committed holds every input exactly once. Prints inputs, outputs,
   missing and duplicated; fails unless both are zero.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

INPUTS = 600


def cluster(w):
    nodes, _ = dmqtest.voter_nodes(w, 3, extra=["--transaction.state.log.num.partitions=3"])
    dmqtest.start_all(nodes)
    dmqtest.wait_until(lambda: sum(b["status"] == "alive"
                                   for b in nodes[0].get("/v1/brokers")[1]["brokers"]) == 3,
                       30, what="three brokers")
    return nodes


def create(node, name, partitions):
    dmqtest.wait_until(lambda: node.post("/v1/topics", {
        "name": name, "partitions": partitions, "replication_factor": 3,
        "configs": {"min.insync.replicas": "2"}})[0] in (201, 409), 20, what=f"topic {name}")


def bootstrap(nodes):
    return ",".join(n.kafka for n in nodes)


def read_committed(boot, topic, expect, timeout_s=60):
    c = Consumer({"bootstrap.servers": boot, "group.id": f"check-{time.monotonic_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    c.subscribe([topic])
    out = []
    deadline = time.monotonic() + timeout_s
    settle = None
    while time.monotonic() < deadline:
        out += [m.value().decode() for m in c.consume(1000, 0.5) if m.error() is None]
        if len(out) >= expect:
            settle = settle or time.monotonic()
            if time.monotonic() - settle > 3:
                break
    c.close()
    return out


def leaders(node, topic):
    status, body = node.get(f"/v1/topics/{topic}")
    assert status == 200, body
    return {p["partition"]: p["leader"] for p in body["partitions"]}


def test_markers_reach_every_leader():
    with dmqtest.Workdir() as w:
        nodes = cluster(w)
        create(nodes[0], "spread", 3)
        dmqtest.wait_until(lambda: len(set(leaders(nodes[0], "spread").values())) == 3
                           and -1 not in leaders(nodes[0], "spread").values(), 30,
                           what="three distinct leaders")
        boot = bootstrap(nodes)
        p = Producer({"bootstrap.servers": boot, "transactional.id": "spread-1", "linger.ms": 5})
        p.init_transactions(60)
        committed = []
        for t in range(3):
            p.begin_transaction()
            for i in range(30):
                v = f"c{t}-{i}"
                p.produce("spread", value=v, partition=i % 3)
                committed.append(v)
            p.commit_transaction(60)
        p.begin_transaction()
        for i in range(30):
            p.produce("spread", value=f"aborted-{i}", partition=i % 3)
        p.flush(60)
        p.abort_transaction(60)
        got = read_committed(boot, "spread", len(committed))
        assert sorted(got) == sorted(committed), \
            f"read_committed saw {len(got)} of {len(committed)}; aborted: " \
            f"{[v for v in got if v.startswith('aborted')][:5]}"


def coordinator_of(nodes, txn_id):
    for n in nodes:
        try:
            s, body = n.get("/v1/transactions?local=1", timeout_s=2)
        except Exception:
            continue
        if s == 200 and any(t["transactional_id"] == txn_id for t in body["transactions"]):
            return n
    return None


class Pipeline:
    """One consume-transform-produce instance: its consumer and producer."""

    def __init__(self, boot, txn_id):
        self.c = Consumer({"bootstrap.servers": boot, "group.id": "ctp",
                           "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "isolation.level": "read_committed", "session.timeout.ms": 10000})
        self.c.subscribe(["in"])
        self.p = Producer({"bootstrap.servers": boot, "transactional.id": txn_id,
                           "linger.ms": 5, "transaction.timeout.ms": 20000})
        self.p.init_transactions(60)

    def step(self):
        msgs = [m for m in self.c.consume(50, 1) if m.error() is None]
        if not msgs:
            return 0
        self.p.begin_transaction()
        for m in msgs:
            self.p.produce("out", value=m.value())
        offsets = {}
        for m in msgs:
            offsets[m.partition()] = max(offsets.get(m.partition(), -1), m.offset() + 1)
        self.p.send_offsets_to_transaction([TopicPartition("in", part, off)
                                            for part, off in offsets.items()],
                                           self.c.consumer_group_metadata(), 30)
        self.p.commit_transaction(30)
        return len(msgs)

    def close(self):
        try:
            self.c.close()
        except Exception:
            pass


def test_exactly_once_under_coordinator_kill():
    with dmqtest.Workdir() as w:
        nodes = cluster(w)
        create(nodes[0], "in", 3)
        create(nodes[0], "out", 3)
        boot = bootstrap(nodes)
        feed = Producer({"bootstrap.servers": boot, "acks": "all", "enable.idempotence": True})
        for i in range(INPUTS):
            feed.produce("in", value=f"rec-{i:05d}", partition=i % 3)
        assert feed.flush(60) == 0
        pipe = Pipeline(boot, "ctp-1")
        done = 0
        killed = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                done += pipe.step()
            except KafkaException as e:
                err = e.args[0]
                print(f"pipeline error: {err}", flush=True)
                if err.txn_requires_abort():
                    try:
                        pipe.p.abort_transaction(30)
                    except KafkaException:
                        pass
                # Rewind to the committed offsets: a new instance (fences the old).
                pipe.close()
                pipe = Pipeline(boot, "ctp-1")
            if killed is None and done >= INPUTS // 3:
                killed = coordinator_of(nodes, "ctp-1")
                assert killed is not None, "no broker coordinates ctp-1"
                print(f"kill -9 node {killed.node_id} (coordinator) after {done} records", flush=True)
                killed.kill()
                killed.start(wait=False)
            if killed is not None and done >= INPUTS:
                break
        pipe.close()
        out = read_committed(boot, "out", INPUTS, timeout_s=60)
        expected = {f"rec-{i:05d}" for i in range(INPUTS)}
        missing = expected - set(out)
        duplicated = len(out) - len(set(out))
        print(f"inputs {INPUTS}, outputs {len(out)}, missing {len(missing)}, duplicated {duplicated}",
              flush=True)
        assert not missing and duplicated == 0, sorted(missing)[:10]


if __name__ == "__main__":
    dmqtest.run([test_markers_reach_every_leader, test_exactly_once_under_coordinator_kill])
