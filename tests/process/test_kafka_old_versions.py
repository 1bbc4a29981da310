"""Old protocol versions against a real dmq node, with kafka-python 2.0.2
pinned to old brokers (api_version) so that it speaks what sarama, kafka-go
and Burrow speak: Produce v0 (magic 0) and v2 (magic 1), Fetch v1 and v3
(stored batches down-converted to magic 0 and 1), ListOffsets v0,
OffsetCommit/OffsetFetch v0 and v1, JoinGroup v0, CreateTopics v0 and
Metadata v0. Records produced with the newest client (librdkafka, magic 2
with headers) are read by the old ones and the other way round. Then raw
frames: a magic-0 message set with a bad CRC gets CORRUPT_MESSAGE and stores
nothing; an API key DMQ does not know closes the connection (as Kafka does)
and the node logs why once."""

import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

COUNT = 300
CORRUPT_MESSAGE = 2


def main():
    kafka_roundtrip.run_on_node(run)


def produce_old(bootstrap, topic, api_version, tag):
    producer = KafkaProducer(bootstrap_servers=bootstrap, api_version=api_version, acks="all")
    futures = [producer.send(topic, key=b"k%d" % i, value=b"%s-%d" % (tag, i), partition=0)
               for i in range(COUNT)]
    producer.flush(30)
    offsets = [f.get(timeout=30).offset for f in futures]
    producer.close()
    assert offsets == sorted(offsets) and len(set(offsets)) == COUNT, offsets[:5]
    return offsets


def consume_old(bootstrap, topic, api_version, expect):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, api_version=api_version,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             group_id=None, consumer_timeout_ms=5000)
    consumer.assign([TopicPartition(topic, 0)])
    got = []
    for msg in consumer:
        got.append((msg.offset, msg.key, msg.value))
        if len(got) == len(expect):
            break
    consumer.close()
    assert got == expect, (api_version, got[:3], expect[:3])


def consume_new(bootstrap, topic, count):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "new-reader",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < count and time.monotonic() < deadline:
        for msg in c.consume(num_messages=1000, timeout=0.5):
            if not msg.error():
                got.append((msg.offset(), msg.key(), msg.value()))
    c.close()
    return got


def run(node):
    bootstrap = node.kafka
    # CreateTopics v0 (kafka-python asks v0 from a 0.10.1 broker).
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version=(0, 10, 1))
    admin.create_topics([NewTopic("old", num_partitions=1, replication_factor=1)])
    admin.close()
    dmqtest.wait_until(lambda: node.get("/v1/topics/old")[0] == 200, 10, what="topic old")

    expect = []
    for api_version, tag in (((0, 8, 2), b"magic0"), ((0, 10, 0), b"magic1")):
        offsets = produce_old(bootstrap, "old", api_version, tag)
        expect += [(o, b"k%d" % i, b"%s-%d" % (tag, i)) for i, o in enumerate(offsets)]
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(COUNT):
        p.produce("old", key=b"k%d" % i, value=b"magic2-%d" % i, partition=0,
                  headers=[("h", b"dropped for old readers")])
    assert p.flush(30) == 0
    expect += [(2 * COUNT + i, b"k%d" % i, b"magic2-%d" % i) for i in range(COUNT)]

    # Fetch v1 (magic 0), v3 (magic 1), and the newest client reading it all.
    for api_version in ((0, 9), (0, 10, 1)):
        consume_old(bootstrap, "old", api_version, expect)
    assert consume_new(bootstrap, "old", len(expect)) == expect

    print("produce v0/v2 + fetch v1/v3 down-converted: ok", flush=True)
    for check in (check_old_group, check_corrupt_message_set, check_unknown_api_key):
        check(node)
        print(f"{check.__name__}: ok", flush=True)


def check_old_group(node):
    """OffsetCommit/OffsetFetch v0 (0.8.1), v1 (0.8.2) and a v0 JoinGroup group
    (0.9): a restarted consumer resumes at its commit."""
    bootstrap = node.kafka
    for api_version, group in (((0, 8, 1), "g081"), ((0, 8, 2), "g082"), ((0, 9), "g09")):
        for round_no in range(2):
            consumer = KafkaConsumer(
                bootstrap_servers=bootstrap, api_version=api_version, group_id=group,
                enable_auto_commit=False, auto_offset_reset="earliest", consumer_timeout_ms=8000)
            if api_version < (0, 9):
                consumer.assign([TopicPartition("old", 0)])  # no group management before 0.9
            else:
                consumer.subscribe(["old"])
            first = None
            for n, msg in enumerate(consumer):
                first = msg.offset if first is None else first
                if n + 1 == 100:
                    break
            consumer.commit()
            consumer.close()
            assert first == 100 * round_no, (api_version, round_no, first)


def frame(api_key, version, body, correlation=7):
    header = struct.pack(">hhih", api_key, version, correlation, 4) + b"test"
    return struct.pack(">i", len(header) + len(body)) + header + body


def message_v0(value, bad_crc=False):
    body = struct.pack(">bb", 0, 0) + struct.pack(">i", -1) + struct.pack(">i", len(value)) + value
    crc = zlib.crc32(body) ^ (1 if bad_crc else 0)
    message = struct.pack(">I", crc) + body
    return struct.pack(">qi", 0, len(message)) + message


def produce_v0(sock, topic, message_set):
    body = struct.pack(">hii", -1, 10000, 1) + struct.pack(">h", len(topic)) + topic
    body += struct.pack(">ii", 1, 0) + struct.pack(">i", len(message_set)) + message_set
    sock.sendall(frame(0, 0, body))
    resp = dmqtest.read_kafka_frame(sock)
    # correlation, [topic: name, [partition, error, base_offset]]
    pos = 4 + 4
    name_len = struct.unpack(">h", resp[pos:pos + 2])[0]
    pos += 2 + name_len + 4
    _, error, _ = struct.unpack(">ihq", resp[pos:pos + 14])
    return error


def check_corrupt_message_set(node):
    node.post("/v1/topics", {"name": "crc", "partitions": 1, "replication_factor": 1})
    dmqtest.wait_until(lambda: node.get("/v1/topics/crc")[0] == 200, 10, what="topic crc")
    host, port = node.kafka.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        good, bad = message_v0(b"good"), message_v0(b"bad", bad_crc=True)
        assert produce_v0(sock, b"crc", good + bad) == CORRUPT_MESSAGE
        assert produce_v0(sock, b"crc", good[:-3]) == CORRUPT_MESSAGE  # truncated
        # The connection stays usable and nothing of the refused sets was stored.
        assert produce_v0(sock, b"crc", good) == 0
    got = consume_new(node.kafka, "crc", 1)
    assert [v for _, _, v in got] == [b"good"], got
    assert consume_new(node.kafka, "crc", 2) == got


def check_unknown_api_key(node):
    host, port = node.kafka.split(":")
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(frame(9999, 0, b""))
            try:
                data = sock.recv(1)
            except ConnectionResetError:
                data = b""
            assert data == b"", data
    dmqtest.wait_until(lambda: "unknown API key" in node.tail_log(200), 5, what="log line")
    assert node.tail_log(400).count("unknown API key (api key 9999") == 1


if __name__ == "__main__":
    main()
