"""Shared body of the test_kafka_roundtrip_<codec>.py client tests: 100,000
messages with keys and headers go through a real dmq node with
confluent-kafka (librdkafka 2.0.2) and must come back byte for byte and in
order per partition. Each codec has its own script so ctest runs them in
parallel."""

import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTITIONS = 3


def message(i):
    """Deterministic key, value (0..299 bytes, every byte value) and headers."""
    digest = hashlib.sha256(str(i).encode()).digest()
    value = (digest * 10)[: (i * 7919) % 300]
    key = b"key-%d" % i if i % 10 else None  # some null keys
    headers = [("idx", str(i).encode()), ("bin", digest[:5])]
    if i % 13 == 0:
        headers.append(("empty", b""))
    return key, value, headers


def start_node(workdir, extra=None):
    """A combined node whose broker has registered (so topics can be placed)."""
    node = dmqtest.Node(workdir, extra=extra).start()

    def broker_alive():
        status, body = node.get("/v1/brokers")
        return status == 200 and any(b.get("status") == "alive" for b in body.get("brokers", []))

    dmqtest.wait_until(broker_alive, 15, what="broker registration")
    return node


def run_on_node(run, extra=None):
    """Runs `run(node)` against a fresh combined node in a temp dir; prints the
    node's log tail on failure and checks that it stops cleanly."""
    with tempfile.TemporaryDirectory() as workdir:
        node = start_node(workdir, extra)
        try:
            run(node)
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            assert node.stop() == 0


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=10)
    futures[name].result(timeout=30)
    return admin


def produce(bootstrap, topic, count, codec):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "compression.codec": codec,
                         "linger.ms": 5, "batch.num.messages": 2000})
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    for i in range(count):
        key, value, headers = message(i)
        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=headers,
                                 partition=i % PARTITIONS, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 1000 == 0:
            producer.poll(0)
    left = producer.flush(60)
    assert left == 0, f"{left} messages not delivered"
    assert not errors, f"delivery errors: {errors[:5]}"


def consume(bootstrap, topic, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-with-assign",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    got = {p: [] for p in range(PARTITIONS)}
    received = 0
    deadline = time.monotonic() + 120
    while received < count and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=5000, timeout=1.0):
            if msg.error():
                raise AssertionError(f"consumer error: {msg.error()}")
            got[msg.partition()].append((msg.offset(), msg.key(), msg.value(), msg.headers() or []))
            received += 1
    consumer.close()
    assert received == count, f"received {received} of {count}"
    return got


def check(got, count):
    expected = {p: [] for p in range(PARTITIONS)}
    for i in range(count):
        expected[i % PARTITIONS].append(message(i))
    for p in range(PARTITIONS):
        assert len(got[p]) == len(expected[p]), f"partition {p}: {len(got[p])} != {len(expected[p])}"
        for n, ((offset, key, value, headers), (ekey, evalue, eheaders)) in enumerate(
                zip(got[p], expected[p])):
            assert offset == n, f"partition {p}: offset {offset} at position {n}"
            assert key == ekey, f"partition {p} offset {n}: key {key!r} != {ekey!r}"
            assert value == evalue, f"partition {p} offset {n}: value differs"
            assert [(k, v) for k, v in headers] == eheaders, f"partition {p} offset {n}: headers"


def run(codec, count=100_000):
    with tempfile.TemporaryDirectory() as workdir:
        node = start_node(workdir)
        try:
            bootstrap = node.kafka
            topic = f"roundtrip-{codec}"
            admin = create_topic(bootstrap, topic, PARTITIONS)
            produce(bootstrap, topic, count, codec)
            check(consume(bootstrap, topic, count), count)
            admin.delete_topics([topic], operation_timeout=10)[topic].result(timeout=30)
            code = node.stop()
            assert code == 0, f"dmq exited with {code}"
            print(f"{codec}: {count} messages round-tripped")
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            node.stop()
