#!/usr/bin/env python3
"""DescribeLogDirs (v0-v4) and DescribeProducers (v0) as kafka-python 2.0.2
sends them (its protocol classes, kafka_python_raw.py), against one combined
node with records from confluent-kafka's idempotent and transactional
producers. Each partition size equals the bytes of its segment files on disk
and what GET /v1/log-dirs and GET /v1/topics/{t} report; v4's volume sizes
match statvfs; the producers are the ones that wrote, with the open
transaction's first offset. Then DeleteRecords over REST
(POST /v1/topics/{t}/partitions/{p}/delete-records) and the CLI
(`dmq topic delete-records`), with their refusals."""

import os
import subprocess

from confluent_kafka import Consumer, Producer, TopicPartition

import kafka_python_raw as raw
from dmqtest import BINARY, Workdir, run, wait_until
from share_common import create_topic

TOPIC = "sized"


def segment_bytes(node, partition):
    d = os.path.join(node.data_dir, "logs", f"{TOPIC}-{partition}")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".log"))


def produce(node):
    p = Producer({"bootstrap.servers": node.kafka, "enable.idempotence": True, "linger.ms": 5})
    for i in range(500):
        p.produce(TOPIC, value=b"v%d" % i, partition=0)
    for i in range(200):
        p.produce(TOPIC, value=b"w%d" % i, partition=1)
    assert p.flush(30) == 0


def open_transaction(node):
    """A transactional producer with one record in partition 1 (offset 200),
    left open."""
    t = Producer({"bootstrap.servers": node.kafka, "transactional.id": "tx-sized"})
    t.init_transactions(30)
    t.begin_transaction()
    t.produce(TOPIC, value=b"in-txn", partition=1)
    assert t.flush(30) == 0
    return t


def check_log_dirs(node):
    logs = os.path.realpath(os.path.join(node.data_dir, "logs"))
    on_disk = {0: segment_bytes(node, 0), 1: segment_bytes(node, 1)}
    assert on_disk[0] > 500 and on_disk[1] > 200, on_disk
    rest = node.get("/v1/log-dirs")[1]
    assert rest["node_id"] == 1 and len(rest["log_dirs"]) == 1, rest
    rest_dir = rest["log_dirs"][0]
    assert rest_dir["path"] == logs and rest_dir["error"] is None, rest_dir
    rest_sizes = {p["partition"]: p["size_bytes"] for p in rest_dir["partitions"] if p["topic"] == TOPIC}
    assert rest_sizes == on_disk, (rest_sizes, on_disk)
    described = {p["partition"]: p["size_bytes"] for p in node.get(f"/v1/topics/{TOPIC}")[1]["partitions"]}
    assert described == on_disk, (described, on_disk)
    vfs = os.statvfs(logs)
    for version in range(5):
        request = raw.DescribeLogDirsRequest[version](
            **({"header_tags": None, "tags": None} if version >= 2 else {}),
            topics=None)
        resp = raw.send(node.kafka, request)
        assert len(resp.results) == 1, resp
        result = resp.results[0]
        error_code, log_dir, topics = result[0], result[1], result[2]
        assert error_code == 0 and log_dir == logs, (version, result)
        sizes = {p[0]: p[1] for t in topics if t[0] == TOPIC for p in t[1]}
        assert sizes == on_disk, (version, sizes, on_disk)
        lags = [p[2] for t in topics for p in t[1]]
        assert all(lag == 0 for lag in lags), lags  # a leader has no lag
        assert not any(p[3] for t in topics for p in t[1])  # never a future log
        if version >= 4:
            total, usable = result[3], result[4]
            assert total == vfs.f_blocks * vfs.f_frsize, (total, vfs)
            assert abs(usable - vfs.f_bavail * vfs.f_frsize) < 256 << 20, (usable, vfs)
    # Asked for one partition: only that one.
    resp = raw.send(node.kafka, raw.DescribeLogDirsRequest[1](topics=[(TOPIC, [1])]))
    topics = resp.results[0][2]
    assert [(t[0], [p[0] for p in t[1]]) for t in topics] == [(TOPIC, [1])], topics
    print(f"   DescribeLogDirs v0-v4: {on_disk} bytes in {logs}, as on disk and over REST")


def check_producers(node):
    request = raw.DescribeProducersRequest_v0(
        header_tags=None, tags=None,
        topics=[(TOPIC, [0, 1, 9], None), ("no-such-topic", [0], None)])
    resp = raw.send(node.kafka, request)
    (name, partitions, _), (other, other_parts, _) = resp.topics
    assert name == TOPIC and other == "no-such-topic", resp.topics
    by_index = {p[0]: p for p in partitions}
    assert by_index[9][1] == 3 and other_parts[0][1] == 3, resp.topics  # UNKNOWN_TOPIC_OR_PARTITION
    p0 = by_index[0][3]
    assert by_index[0][1] == 0 and len(p0) == 1, by_index[0]
    idempotent_id, epoch, last_seq, last_ts, _, txn_start = p0[0][:6]
    assert idempotent_id >= 0 and epoch == 0 and last_seq == 499 and last_ts > 0, p0
    assert txn_start == -1, p0
    p1 = {s[0]: s for s in by_index[1][3]}
    assert p1[idempotent_id][2] == 199, p1  # the same producer's last sequence there
    txn = [s for pid, s in p1.items() if pid != idempotent_id]
    assert len(txn) == 1 and txn[0][5] == 200, p1  # the open transaction starts at offset 200
    print(f"   DescribeProducers: idempotent producer {idempotent_id}, transaction open at offset 200")


def low_watermark(node, partition):
    c = Consumer({"bootstrap.servers": node.kafka, "group.id": "wm"})
    try:
        return c.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=10)[0]
    finally:
        c.close()


def check_delete_records_rest(node):
    path = f"/v1/topics/{TOPIC}/partitions/0/delete-records"
    status, body = node.post(path, {"before_offset": 120})
    assert status == 200 and body == {"topic": TOPIC, "partition": 0, "low_watermark": 120}, body
    assert low_watermark(node, 0) == 120
    assert node.get(f"/v1/topics/{TOPIC}")[1]["partitions"][0]["log_start_offset"] == 120
    for bad_body in ({}, {"before_offset": "10"}, {"before_offset": -5}):
        status, body = node.post(path, bad_body)
        assert status == 400 and body["error"]["code"] == "invalid_request", (bad_body, body)
    status, body = node.post(path, {"before_offset": 10 ** 6})
    assert status == 416 and body["error"]["code"] == "offset_out_of_range", body
    status, body = node.post(f"/v1/topics/{TOPIC}/partitions/7/delete-records", {"before_offset": 1})
    assert status == 404 and body["error"]["code"] == "unknown_partition", body
    status, body = node.post("/v1/topics/nope/partitions/0/delete-records", {"before_offset": 1})
    assert status == 404 and body["error"]["code"] == "unknown_topic", body
    assert low_watermark(node, 0) == 120  # refusals moved nothing


def dmq(node, *args):
    return subprocess.run([BINARY, *args, "--brokers", node.kafka], capture_output=True, text=True,
                          timeout=60)


def check_delete_records_cli(node):
    out = dmq(node, "topic", "delete-records", TOPIC, "--partition", "1", "--offset", "50")
    assert out.returncode == 0, out.stderr
    assert "below offset 50" in out.stdout, out.stdout
    assert low_watermark(node, 1) == 50
    out = dmq(node, "topic", "delete-records", TOPIC, "--partition", "0", "--offset", "150", "--json")
    assert out.returncode == 0, out.stderr
    assert '"low_watermark":150' in out.stdout.replace(" ", ""), out.stdout
    out = dmq(node, "topic", "delete-records", TOPIC, "--partition", "0", "--offset", "999999")
    assert out.returncode == 1 and "OFFSET_OUT_OF_RANGE" in out.stderr, (out.returncode, out.stderr)
    out = dmq(node, "topic", "delete-records", TOPIC, "--partition", "5", "--offset", "1")
    assert out.returncode == 2 and "2 partitions" in out.stderr, (out.returncode, out.stderr)
    out = dmq(node, "topic", "delete-records", TOPIC, "--partition", "0")
    assert out.returncode == 2 and "--offset" in out.stderr, (out.returncode, out.stderr)
    assert low_watermark(node, 0) == 150 and low_watermark(node, 1) == 50


def test_describe_apis_and_delete_records():
    with Workdir() as w:
        node = w.node().start()
        wait_until(lambda: any(b["status"] == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
                   20, what="the broker registered")
        create_topic(node, TOPIC, 2)
        produce(node)
        txn = open_transaction(node)
        check_log_dirs(node)
        check_producers(node)
        txn.abort_transaction(30)
        check_delete_records_rest(node)
        check_delete_records_cli(node)


if __name__ == "__main__":
    run([test_describe_apis_and_delete_records])
