"""Key-based log compaction on a real dmq node with real clients.

1. A topic with cleanup.policy=compact and small segments takes 100,000
   updates over 1,000 keys (confluent-kafka producer, acks=all) plus 100
   keys that end with a tombstone; once the segments close, the cleaner
   leaves exactly the latest record per key: kcat and a confluent-kafka
   consumer reading from the beginning see 1,000 live keys with their last
   values, offsets strictly increasing and each equal to the offset the
   producer was told; the tombstones are there, then vanish once
   delete.retention.ms has passed.
2. A record without a key is refused (INVALID_RECORD).
3. __consumer_offsets is compacted: under a commit loop its size on disk
   stops growing, and after a restart the coordinator loads the compacted
   log and answers the last commit.
"""

import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "compacted"
LIVE_KEYS = 1000
UPDATES = 100_000
DEAD_KEYS = 100
DELETE_RETENTION_MS = 20_000
SEGMENT_MS = 3000


def kcat(args, timeout=120):
    r = subprocess.run(["kcat"] + args, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"kcat {args} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def produce_updates(broker):
    """Returns {key: (offset, value)} of the latest record per key, from delivery reports."""
    told = {}
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(err)
            return
        key = msg.key().decode()
        value = msg.value().decode() if msg.value() is not None else None
        if key not in told or told[key][0] < msg.offset():
            told[key] = (msg.offset(), value)

    # batch.size below segment.bytes: a batch never spans segments.
    p = Producer({"bootstrap.servers": broker, "acks": "all", "linger.ms": 20, "batch.size": 16384,
                  "enable.idempotence": True, "compression.type": "lz4"})

    def send(key, value):
        for _ in range(600):  # bounded: the local queue drains as acks come back
            try:
                p.produce(TOPIC, key=key, value=value, on_delivery=report)
                return
            except BufferError:
                p.poll(0.1)
        raise AssertionError("producer queue stayed full")

    for i in range(UPDATES):
        send(f"key-{i % LIVE_KEYS:04d}", f"value-{i}")
        if i % 1000 == 0:
            p.poll(0)
    for d in range(DEAD_KEYS):
        send(f"dead-{d:03d}", f"doomed-{d}")
    p.flush(60)
    for d in range(DEAD_KEYS):
        send(f"dead-{d:03d}", None)
    assert p.flush(60) == 0, "undelivered messages"
    assert not errors, errors[:3]
    return told, p


def read_kcat(broker):
    """[(offset, key, value or None)] read from the beginning to the end."""
    out = kcat(["-b", broker, "-C", "-t", TOPIC, "-p", "0", "-o", "beginning", "-e", "-Z",
                "-f", "%o\t%k\t%S\t%s\n"])
    rows = []
    for line in out.splitlines():
        offset, key, size, value = line.split("\t", 3)
        rows.append((int(offset), key, None if size == "-1" else value))
    return rows


def read_confluent(broker, end):
    c = Consumer({"bootstrap.servers": broker, "group.id": "compaction-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    rows = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                if rows and rows[-1][0] >= end - 1:
                    break
                continue
            if m.error():
                raise KafkaException(m.error())
            rows.append((m.offset(), m.key().decode(),
                         m.value().decode() if m.value() is not None else None))
            if m.offset() >= end - 1:
                break
    finally:
        c.close()
    return rows


def check_rows(rows, told, expect_tombstones):
    offsets = [r[0] for r in rows]
    assert offsets == sorted(set(offsets)), "offsets not strictly increasing"
    latest = {}
    for offset, key, value in rows:
        latest[key] = (offset, value)
    live = {k: v for k, v in latest.items() if k.startswith("key-")}
    assert len(live) == LIVE_KEYS, len(live)
    for key, (offset, value) in live.items():
        assert told[key] == (offset, value), (key, told[key], (offset, value))
    dead = {k: v for k, v in latest.items() if k.startswith("dead-")}
    if expect_tombstones:
        assert len(dead) == DEAD_KEYS and all(v[1] is None for v in dead.values()), dead
        for key, (offset, _) in dead.items():
            assert told[key][0] == offset, (key, told[key], offset)
    else:
        assert not dead, f"{len(dead)} tombstones left"


def test_compacted_topic():
    with dmqtest.Workdir() as w:
        node = w.node(extra=["--log.cleaner.backoff.ms=200"])
        node.start()
        configs = {"cleanup.policy": "compact", "segment.bytes": "65536",
                   "segment.ms": str(SEGMENT_MS), "min.cleanable.dirty.ratio": "0.01",
                   "delete.retention.ms": str(DELETE_RETENTION_MS)}
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": TOPIC, "partitions": 1,
                                                            "replication_factor": 1,
                                                            "configs": configs})[0] == 201,
                           15, what="topic created")
        status, body = node.post("/v1/topics", {"name": "bad-policy", "partitions": 1,
                                                "replication_factor": 1,
                                                "configs": {"cleanup.policy": "shred"}})
        assert status == 400 and "cleanup.policy" in body["error"]["message"], (status, body)

        # Kafka's CreateTopics takes the same configs, and refuses a bad one.
        admin = AdminClient({"bootstrap.servers": node.kafka})
        ok = admin.create_topics([NewTopic("compacted-by-kafka", 1, 1,
                                           config={"cleanup.policy": "compact,delete"})])
        ok["compacted-by-kafka"].result(30)
        bad = admin.create_topics([NewTopic("bad-ratio", 1, 1,
                                            config={"min.cleanable.dirty.ratio": "2"})])
        try:
            bad["bad-ratio"].result(30)
            raise AssertionError("min.cleanable.dirty.ratio=2 was accepted")
        except KafkaException as e:
            assert e.args[0].code() == KafkaError.INVALID_CONFIG, e

        told, producer = produce_updates(node.kafka)
        # segment.ms closes the last segment at the next append: a record on
        # its own key rolls it, so every update lies in a closed segment.
        time.sleep(SEGMENT_MS / 1000 + 0.5)
        producer.produce(TOPIC, key="roller", value="roll")
        assert producer.flush(30) == 0
        told["roller"] = (None, "roll")

        expected = LIVE_KEYS + DEAD_KEYS + 1
        rows = []

        def compacted():
            nonlocal rows
            rows = read_kcat(node.kafka)
            return len(rows) == expected

        dmqtest.wait_until(compacted, 60, interval_s=1, what=f"{expected} records after cleaning")
        check_rows([r for r in rows if r[1] != "roller"], told, expect_tombstones=True)
        end = rows[-1][0] + 1
        check_rows([r for r in read_confluent(node.kafka, end) if r[1] != "roller"], told,
                   expect_tombstones=True)
        status, metrics = node.get("/metrics")
        removed = re.search(r"^dmq_log_cleaner_records_removed_total (\S+)$", metrics, re.M)
        assert status == 200 and removed and float(removed.group(1)) >= UPDATES - LIVE_KEYS, removed

        # Keyless records are refused on a compacted topic.
        failures = []
        p = Producer({"bootstrap.servers": node.kafka, "acks": "all", "retries": 0})
        p.produce(TOPIC, value="no key", on_delivery=lambda err, msg: failures.append(err))
        p.flush(30)
        assert failures and failures[0] is not None and "INVALID_RECORD" in str(failures[0]), failures

        # Tombstones go once delete.retention.ms has passed (and the
        # segments around them get cleaned again).
        def tombstones_gone():
            nonlocal rows
            rows = read_kcat(node.kafka)
            return not any(r[1].startswith("dead-") for r in rows)

        dmqtest.wait_until(tombstones_gone, DELETE_RETENTION_MS / 1000 + 60, interval_s=1,
                           what="tombstones removed")
        check_rows([r for r in rows if r[1] != "roller"], told, expect_tombstones=False)
        assert len(rows) == LIVE_KEYS + 1, len(rows)
        assert node.stop() == 0


def offsets_log_bytes(node):
    return sum(os.path.getsize(f)
               for f in glob.glob(os.path.join(node.data_dir, "logs", "__consumer_offsets-*", "*.log")))


def test_consumer_offsets_bounded():
    with dmqtest.Workdir() as w:
        node = w.node(extra=["--log.cleaner.backoff.ms=200", "--offsets.topic.num.partitions=1",
                             "--offsets.topic.segment.bytes=16384"])
        node.start()
        dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "t", "partitions": 1,
                                                            "replication_factor": 1})[0] == 201,
                           15, what="topic created")
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "committer",
                      "enable.auto.commit": False})
        sizes = []
        try:
            for i in range(1, 6001):
                c.commit(offsets=[TopicPartition("t", 0, i)], asynchronous=False)
                if i % 1500 == 0:
                    time.sleep(1)  # a cleaner round or two
                    sizes.append(offsets_log_bytes(node))
        finally:
            c.close()
        print(f"   __consumer_offsets bytes after each 1500 commits: {sizes}")
        # Uncompacted, 6000 commits take well over 300 KB; compacted, the
        # log holds the latest commit plus at most a few open segments.
        assert sizes[-1] < 5 * 16384 + 16384, sizes
        assert sizes[-1] <= sizes[1] + 2 * 16384, sizes
        status, group = node.get("/v1/groups/committer")
        assert status == 200, group
        # The coordinator loads the compacted log (offset gaps, emptied
        # segments) after a restart and still knows the last commit.
        assert node.stop() == 0
        node.start()
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "committer",
                      "enable.auto.commit": False})
        committed = None
        deadline = time.monotonic() + 60
        try:
            while committed is None and time.monotonic() < deadline:
                try:
                    committed = c.committed([TopicPartition("t", 0)], timeout=10)
                except KafkaException:  # COORDINATOR_LOAD_IN_PROGRESS: ask again
                    time.sleep(0.1)
        finally:
            c.close()
        assert committed and committed[0].offset == 6000, committed
        assert node.stop() == 0


if __name__ == "__main__":
    dmqtest.run([test_compacted_topic, test_consumer_offsets_bounded])
