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
3. Offsets sent to a transaction outlive their group coordinator: after
   send_offsets_to_transaction the broker coordinating the group is killed
   with -9; the transaction then commits and the group's committed offset
   is the one the transaction carried (an aborted one leaves it alone).
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


def group_coordinator(nodes, group):
    for n in nodes:
        try:
            s, body = n.get(f"/v1/groups/{group}", timeout_s=2)
        except Exception:
            continue
        if s == 200:
            return nodes[body["coordinator"] - 1]
    return None


def committed(boot, group, tp):
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
    try:
        return c.committed([tp], timeout=20)[0].offset
    finally:
        c.close()


def end_transaction(producer, commit):
    """Commits or aborts, retrying what librdkafka calls retriable (the
    coordinators may be moving after the kill)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return producer.commit_transaction(30) if commit else producer.abort_transaction(30)
        except KafkaException as e:
            if not e.args[0].retriable() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def offsets_across_coordinator_kill(nodes, boot, group, offset, commit):
    """Sends `offset` for in-0 in a transaction, kill -9s the group's
    coordinator, restarts it, then commits or aborts."""
    tp = TopicPartition("in", 0)
    consumer = Consumer({"bootstrap.servers": boot, "group.id": group})
    p = Producer({"bootstrap.servers": boot, "transactional.id": f"offsets-{offset}"})
    p.init_transactions(60)
    p.begin_transaction()
    p.produce("out", value=f"with-offset-{offset}")
    p.send_offsets_to_transaction([TopicPartition("in", 0, offset)],
                                  consumer.consumer_group_metadata(), 30)
    killed = group_coordinator(nodes, group)
    assert killed is not None, f"no broker coordinates {group}"
    print(f"kill -9 node {killed.node_id} (coordinates {group}) before "
          f"{'commit' if commit else 'abort'}", flush=True)
    killed.kill()
    killed.start(wait=False)
    end_transaction(p, commit)
    consumer.close()
    return committed(boot, group, tp)


def test_txn_offsets_survive_group_coordinator_kill():
    with dmqtest.Workdir() as w:
        nodes = cluster(w)
        create(nodes[0], "in", 1)
        create(nodes[0], "out", 1)
        boot = bootstrap(nodes)
        group = "eos-offsets"
        # A plain commit first, so the group exists and REST names its coordinator.
        c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("in", 0, 1)], asynchronous=False)
        c.close()
        after_commit = offsets_across_coordinator_kill(nodes, boot, group, 42, commit=True)
        print(f"committed after the committed transaction: {after_commit}", flush=True)
        assert after_commit == 42, f"the transaction's offset was lost: committed {after_commit}"
        for n in nodes:  # the killed node is back before the next kill
            dmqtest.wait_until(lambda: n.alive() and n.get("/v1/health", timeout_s=1)[0] == 200,
                               30, what=f"node {n.node_id} up")
        after_abort = offsets_across_coordinator_kill(nodes, boot, group, 77, commit=False)
        print(f"committed after the aborted transaction: {after_abort}", flush=True)
        assert after_abort == 42, f"an aborted transaction moved the offset to {after_abort}"


if __name__ == "__main__":
    dmqtest.run([test_markers_reach_every_leader, test_exactly_once_under_coordinator_kill,
                 test_txn_offsets_survive_group_coordinator_kill])
