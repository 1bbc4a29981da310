#!/usr/bin/env python3
"""DeleteRecords (KIP-107) with kafkajs's admin.deleteTopicRecords on a 3-node
cluster (replication factor 3, small segments): the log start offset moves to
the requested offset on the leader (ListOffsets earliest from confluent-kafka,
a consumer from the beginning starts there and reads every later record),
closed segments below it are deleted, an offset past the high watermark is
refused with OFFSET_OUT_OF_RANGE, and the followers follow, so a new leader
after the old one stops keeps the records deleted."""

import json
import os
import shutil
import subprocess

from confluent_kafka import Consumer, Producer, TopicPartition

from dmqtest import Workdir, run, start_all, voter_nodes, wait_until
from test_kafka_kafkajs import CLIENTS, ensure_kafkajs

TOPIC = "trimmed"
COUNT = 300


def delete_records(bootstrap, offset):
    node_bin = shutil.which("node") or "/usr/bin/node"
    out = subprocess.run([node_bin, os.path.join(CLIENTS, "kafkajs_delete_records.js"), bootstrap, TOPIC,
                          "0", str(offset)], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def earliest(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "wm"})
    try:
        return c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
    finally:
        c.close()


def read_from_beginning(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])  # below the log start: reset to earliest
    got = []
    for _ in range(60):
        for m in c.consume(num_messages=1000, timeout=0.5):
            assert not m.error(), m.error()
            got.append((m.offset(), m.value()))
        if got and got[-1][0] == COUNT - 1:
            break
    c.close()
    return got


def test_delete_records():
    ensure_kafkajs()
    with Workdir() as w:
        nodes, _ = voter_nodes(w, 3)
        start_all(nodes)
        wait_until(lambda: sum(b["status"] == "alive" for b in nodes[0].get("/v1/brokers")[1]["brokers"]) == 3,
                   30, what="three brokers")
        status, body = nodes[0].post("/v1/topics", {"name": TOPIC, "partitions": 1, "replication_factor": 3,
                                                   "configs": {"segment.bytes": "4096", "min.insync.replicas": "2"}})
        assert status == 201, body
        wait_until(lambda: len(nodes[0].get(f"/v1/topics/{TOPIC}")[1]["partitions"][0]["isr"]) == 3, 30,
                   what="a full ISR")
        bootstrap = ",".join(n.kafka for n in nodes)
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0, "batch.num.messages": 1})
        for i in range(COUNT):
            p.produce(TOPIC, value=b"v%04d" % i + b"x" * 100)
            p.poll(0)
        assert p.flush(30) == 0
        assert earliest(bootstrap) == (0, COUNT)

        refused = delete_records(bootstrap, COUNT + 50)
        assert refused == {"error": "OFFSET_OUT_OF_RANGE"}, refused
        assert delete_records(bootstrap, 180) == {"ok": True}
        assert earliest(bootstrap) == (180, COUNT)
        got = read_from_beginning(bootstrap)
        assert [o for o, _ in got] == list(range(180, COUNT)), got[:3]
        assert got[0][1].startswith(b"v0180")
        leader_id = nodes[0].get(f"/v1/topics/{TOPIC}")[1]["partitions"][0]["leader"]
        leader = nodes[leader_id - 1]
        segments = [f for f in os.listdir(os.path.join(leader.data_dir, "logs", f"{TOPIC}-0")) if f.endswith(".log")]
        assert all(int(f.split(".")[0]) >= 150 for f in segments), segments  # segments wholly below went

        # The followers follow the leader's log start (from their fetches), so
        # the next leader keeps the records deleted.
        assert delete_records(bootstrap, 100) == {"ok": True}  # below the start: nothing moves back
        assert earliest(bootstrap) == (180, COUNT)
        # Each node's GET /v1/topics/{t} shows its own replica's log start.
        wait_until(lambda: all(n.get(f"/v1/topics/{TOPIC}")[1]["partitions"][0]["log_start_offset"] == 180
                               for n in nodes), 20, what="every replica's log start at 180")
        leader.stop()
        rest = [n for n in nodes if n is not leader]

        def new_leader():
            part = rest[0].get(f"/v1/topics/{TOPIC}")[1]["partitions"][0]
            return part["leader"] not in (-1, leader_id)
        wait_until(new_leader, 30, what="a new leader")
        survivors = ",".join(n.kafka for n in rest)
        wait_until(lambda: earliest(survivors) == (180, COUNT), 20, what="the new leader's log start")
        print("log start 180 on the new leader; segments on the old one:", sorted(segments)[:3])


if __name__ == "__main__":
    run([test_delete_records])
