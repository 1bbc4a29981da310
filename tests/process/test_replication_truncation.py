#!/usr/bin/python3
"""A returning leader truncates its divergent tail (KIP-101).

Three combined nodes, one partition with replication factor 3 and
min.insync.replicas=1. The followers are frozen (SIGSTOP, shorter than the
session timeout) while the leader takes acks=1 writes only it holds; then the
leader is killed and the followers resume. A follower becomes leader and takes
new acks=all writes at the same offsets. When the old leader returns it must
find the divergence point with OffsetForLeaderEpoch, drop the acks=1 tail and
copy the new leader's data; preferred-leader election then makes it leader
again, so a consumer reading from it sees exactly the committed history.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dmqtest import Workdir, check_acknowledged, run, start_all, voter_nodes, wait_until  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

SESSION_MS = 3000
TOPIC = "diverge"


def start_cluster(w):
    extra = [f"--broker.session.timeout.ms={SESSION_MS}", "--broker.heartbeat.interval.ms=500",
             "--replica.lag.time.max.ms=30000"]
    nodes, _ = voter_nodes(w, 3, extra=extra)
    start_all(nodes, timeout_s=15)
    wait_until(lambda: sum(b["status"] == "alive"
                           for b in nodes[0].get("/v1/brokers", timeout_s=2)[1]["brokers"]) == 3,
               20, what="three brokers registered")
    return nodes


def partition(node):
    status, body = node.get(f"/v1/topics/{TOPIC}", timeout_s=2)
    assert status == 200, body
    return body["partitions"][0]


def produce(bootstrap, values, acks):
    """Writes `values` to partition 0; every one must be acknowledged.
    Returns {value: (partition, offset)} from the delivery reports."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 0,
                  "message.timeout.ms": 10000, "retries": 0 if acks == "1" else 2147483647})
    failed, acked = [], {}

    def delivered(err, msg):
        if err:
            failed.append(err)
        else:
            acked[msg.value()] = (msg.partition(), msg.offset())
    for v in values:
        p.produce(TOPIC, value=v, partition=0, on_delivery=delivered)
    assert p.flush(20) == 0, "messages still queued"
    assert not failed, failed
    return acked


def read_from(bootstrap, expected_count, timeout_s=30):
    """Partition 0 from offset 0: [(offset, value), ...]."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got = []
    deadline = time.time() + timeout_s
    while len(got) < expected_count and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append((m.offset(), m.value()))
    # Anything beyond the expected count would be a resurrected tail.
    end = time.time() + 2
    while time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.append((m.offset(), m.value()))
    c.close()
    return got


def verify_acknowledged(acked, got):
    """Every acks=all acknowledgement names the offset a consumer reads it at."""
    found = {}
    for off, v in got:
        found.setdefault(v, []).append((0, off))
    problems, counts = check_acknowledged(acked, found)
    print(f"   acknowledgements: {counts}")
    assert not problems, problems


def diverge_and_restore(nodes, min_insync):
    """The scenario up to the old leader leading again after truncating its
    divergent tail. Returns (old leader, committed, later, {value: (partition,
    offset)} of the acks=all writes)."""
    by_id = {n.node_id: n for n in nodes}
    status, body = nodes[0].post("/v1/topics", {
        "name": TOPIC, "partitions": 1, "replication_factor": 3,
        "configs": {"min.insync.replicas": str(min_insync)}})
    assert status == 201, body
    p = partition(nodes[0])
    old_leader = by_id[p["leader"]]
    followers = [by_id[r] for r in p["replicas"] if r != old_leader.node_id]
    everyone = ",".join(n.kafka for n in nodes)

    committed = [b"c-%d" % i for i in range(100)]
    acked = produce(everyone, committed, "all")

    for f in followers:
        f.send_signal(signal.SIGSTOP)
    try:
        # A frozen follower may still have a fetch parked at the leader:
        # the answer to it (the first write) waits in its socket buffer
        # and is applied when it resumes. Only what comes after stays on
        # the leader alone.
        produce(old_leader.kafka, [b"lost-0"], "1")
        time.sleep(0.5)
        produce(old_leader.kafka, [b"lost-%d" % i for i in range(1, 50)], "1")
        old_leader.kill()
    finally:
        for f in followers:
            f.send_signal(signal.SIGCONT)

    survivor = followers[0]
    wait_until(lambda: partition(survivor)["leader"] in [f.node_id for f in followers],
               SESSION_MS / 1000 + 10, what="a follower elected")
    new_leader = by_id[partition(survivor)["leader"]]
    later = [b"n-%d" % i for i in range(30)]
    acked.update(produce(",".join(f.kafka for f in followers), later, "all"))

    old_leader.start()
    # Back in the ISR, then preferred leader again (it is replicas[0]).
    wait_until(lambda: partition(new_leader)["leader"] == old_leader.node_id, 30,
               what="old leader restored as preferred leader")
    return old_leader, committed, later, acked


def test_returning_leader_truncates():
    with Workdir() as w:
        nodes = start_cluster(w)
        old_leader, committed, later, acked = diverge_and_restore(nodes, 1)
        with open(old_leader.log_path, "rb") as f:
            log = f.read().decode(errors="replace")
        assert "divergent tail" in log, "the returning leader did not truncate"

        got = read_from(old_leader.kafka, len(committed) + len(later))
        print(f"read {len(got)} messages from the restored leader "
              f"(expected {len(committed) + len(later)})")
        values = [v for _, v in got]
        assert values in (committed + later, committed + [b"lost-0"] + later), \
            (values[:5], values[95:110], len(values))
        verify_acknowledged(acked, got)


if __name__ == "__main__":
    run([test_returning_leader_truncates])
