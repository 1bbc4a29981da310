"""Client quotas (KIP-13/55/219/546) against a real dmq process and real
clients.

AlterClientQuotas and DescribeClientQuotas are sent with kafka-python's
protocol codec (its admin client has no quota calls; neither has Debian's
confluent-kafka or sarama), GET/POST /v1/quotas with urllib. A librdkafka
producer (confluent-kafka) with a 100 KiB/s producer_byte_rate stays near the
quota while another client id produces many times faster; librdkafka reports
the broker's throttle_time_ms through throttle_cb; removing the quota lifts
the limit. The same for a consumer's consumer_byte_rate. The broker default
(--quota.producer.default) and KIP-55's precedence, a per-user quota with
SASL/SCRAM, and Kafka's refusals (unknown key, negative value, bad entity
type) over both the Kafka port and REST.

The rate windows are shortened (--quota.window.num=5): Kafka's burst
allowance is the whole window, so a short test measures closer to the quota."""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from kafka.client_async import KafkaClient  # noqa: E402
from kafka.protocol.api import Request, Response  # noqa: E402
from kafka.protocol.types import AbstractType, Array, Boolean, Int8, Int16, Int32, Schema, String  # noqa: E402

QUOTA = 100 * 1024  # bytes/s
RUN_S = 10.0
WINDOW = ["--quota.window.num=5", "--quota.window.size.seconds=1"]
INVALID_REQUEST = 42


class Float64(AbstractType):
    @classmethod
    def encode(cls, value):
        return struct.pack(">d", value)

    @classmethod
    def decode(cls, data):
        return struct.unpack(">d", data.read(8))[0]


NullableString = String("utf-8")  # kafka-python's String encodes None as length -1
ENTITY = Array(("entity_type", String("utf-8")), ("entity_name", NullableString))


class AlterClientQuotasResponse_v0(Response):
    API_KEY = 49
    API_VERSION = 0
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("entries", Array(("error_code", Int16), ("error_message", NullableString),
                                      ("entity", ENTITY))))


class AlterClientQuotasRequest_v0(Request):
    API_KEY = 49
    API_VERSION = 0
    RESPONSE_TYPE = AlterClientQuotasResponse_v0
    SCHEMA = Schema(("entries", Array(("entity", ENTITY),
                                      ("ops", Array(("key", String("utf-8")), ("value", Float64),
                                                    ("remove", Boolean))))),
                    ("validate_only", Boolean))


class DescribeClientQuotasResponse_v0(Response):
    API_KEY = 48
    API_VERSION = 0
    SCHEMA = Schema(("throttle_time_ms", Int32), ("error_code", Int16),
                    ("error_message", NullableString),
                    ("entries", Array(("entity", ENTITY),
                                      ("values", Array(("key", String("utf-8")), ("value", Float64))))))


class DescribeClientQuotasRequest_v0(Request):
    API_KEY = 48
    API_VERSION = 0
    RESPONSE_TYPE = DescribeClientQuotasResponse_v0
    SCHEMA = Schema(("components", Array(("entity_type", String("utf-8")), ("match_type", Int8),
                                         ("match", NullableString))),
                    ("strict", Boolean))


def kafka_call(bootstrap, request):
    """Sends `request` with kafka-python's client and codec; the decoded answer."""
    client = KafkaClient(bootstrap_servers=bootstrap, api_version=(2, 6))
    try:
        node = [None]

        def connected():
            node[0] = client.least_loaded_node()
            if node[0] is not None and client.ready(node[0]):
                return True
            client.poll(timeout_ms=100)
            return False

        dmqtest.wait_until(connected, 10, what="kafka-python connection")
        future = client.send(node[0], request)
        client.poll(future=future, timeout_ms=10000)
        assert future.succeeded(), future.exception
        return future.value
    finally:
        client.close()


def alter(bootstrap, entity, ops, validate_only=False):
    """entity: [(type, name or None)]; ops: [(key, value, remove)] -> entries."""
    resp = kafka_call(bootstrap, AlterClientQuotasRequest_v0(
        entries=[(entity, ops)], validate_only=validate_only))
    return resp.entries


def describe(bootstrap, components, strict=False):
    resp = kafka_call(bootstrap, DescribeClientQuotasRequest_v0(components=components, strict=strict))
    assert resp.error_code == 0, resp
    return {tuple(sorted(tuple(e) for e in entry[0])): dict((k, v) for k, v in entry[1])
            for entry in resp.entries}


def produce_for(bootstrap, client_id, topic, seconds, extra=None):
    """Produces 10 KiB values as fast as the broker lets `client_id`; returns
    (acknowledged bytes per second, throttle times in seconds reported by
    librdkafka's throttle_cb)."""
    throttles = []
    # 64 KiB batches: what is in flight when the first throttle comes back is
    # read before the connection is muted, and counts against the window.
    conf = {"bootstrap.servers": bootstrap, "client.id": client_id, "linger.ms": 5,
            "batch.size": 65536, "queue.buffering.max.kbytes": 1024, "throttle_cb": lambda e: throttles.append(e.throttle_time)}
    conf.update(extra or {})
    producer = Producer(conf)
    acked = [0]
    value = os.urandom(10 * 1024)

    def on_delivery(err, msg):
        if err is None:
            acked[0] += len(msg.value())

    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            producer.produce(topic, value, on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    elapsed = time.monotonic() - start
    rate = acked[0] / elapsed
    producer.purge()
    producer.flush(5)
    return rate, throttles


def consume_for(bootstrap, client_id, topic, seconds):
    """Reads `topic` from the start as `client_id`; (bytes per second, throttles)."""
    throttles = []
    consumer = Consumer({"bootstrap.servers": bootstrap, "client.id": client_id,
                         "group.id": f"g-{client_id}-{time.monotonic_ns()}", "enable.auto.commit": False,
                         "fetch.max.bytes": 65536, "max.partition.fetch.bytes": 65536, "message.max.bytes": 65536,
                         "throttle_cb": lambda e: throttles.append(e.throttle_time)})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for m in consumer.consume(100, 0.2):
            if m.error() is None:
                got += len(m.value() or b"")
    elapsed = time.monotonic() - start
    consumer.close()
    return got / elapsed, throttles


def fill(bootstrap, topic, total):
    # Small batches: a Fetch returns at least one whole batch (KIP-74), so
    # 1 MB batches would let each throttled fetch overshoot the quota.
    p = Producer({"bootstrap.servers": bootstrap, "client.id": "filler", "linger.ms": 5,
                  "batch.size": 32768})
    value = os.urandom(10 * 1024)
    for _ in range(total // len(value)):
        while True:
            try:
                p.produce(topic, value)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    assert p.flush(30) == 0


def set_rest(node, entity, ops):
    status, body = node.post("/v1/quotas", {"entity": entity, "ops": ops})
    assert status == 200, body


def test_api_refusals_and_rest(node):
    b = node.kafka
    # Set over Kafka, read over Kafka and REST.
    entries = alter(b, [("user", "alice"), ("client-id", None)], [("producer_byte_rate", 2048.0, False),
                                                                  ("request_percentage", 12.5, False)])
    assert entries[0][0] == 0, entries
    got = describe(b, [("user", 0, "alice")])
    assert got == {(("client-id", None), ("user", "alice")): {"producer_byte_rate": 2048.0,
                                                              "request_percentage": 12.5}}, got
    assert describe(b, [("user", 0, "alice")], strict=True) == {}
    assert describe(b, [("client-id", 1, None)]) == got
    status, body = node.get("/v1/quotas?user=alice")
    assert status == 200 and body["quotas"] == [
        {"entity": {"client-id": None, "user": "alice"},
         "values": {"producer_byte_rate": 2048.0, "request_percentage": 12.5}}], body
    # validate_only changes nothing.
    assert alter(b, [("client-id", "v")], [("consumer_byte_rate", 5.0, False)], True)[0][0] == 0
    assert describe(b, [("client-id", 0, "v")]) == {}
    # Removal, over REST.
    set_rest(node, {"user": "alice", "client-id": None}, [{"key": "request_percentage", "remove": True}])
    dmqtest.wait_until(lambda: describe(b, [("user", 0, "alice")]) ==
                       {(("client-id", None), ("user", "alice")): {"producer_byte_rate": 2048.0}},
                       5, what="removal visible")
    # Kafka's refusals: INVALID_REQUEST with a reason, nothing stored.
    for entity, ops in [([("client-id", "x")], [("bogus_rate", 1.0, False)]),
                        ([("client-id", "x")], [("producer_byte_rate", -5.0, False)]),
                        ([("client-id", "x")], [("producer_byte_rate", 10.5, False)]),
                        ([("ip", "10.0.0.1")], [("producer_byte_rate", 1.0, False)]),
                        ([("group", "g")], [("producer_byte_rate", 1.0, False)]),
                        ([], [("producer_byte_rate", 1.0, False)])]:
        e = alter(b, entity, ops)[0]
        assert e[0] == INVALID_REQUEST and e[1], (entity, ops, e)
    resp = kafka_call(b, DescribeClientQuotasRequest_v0(components=[("ip", 2, None)], strict=False))
    assert resp.error_code == INVALID_REQUEST and resp.error_message, resp
    assert describe(b, [("client-id", 0, "x")]) == {}
    for bad in [{"entity": {"client-id": "x"}, "ops": [{"key": "bogus", "value": 1}]},
                {"entity": {"client-id": "x"}, "ops": [{"key": "producer_byte_rate", "value": -1}]},
                {"entity": {"ip": "1.2.3.4"}, "ops": [{"key": "producer_byte_rate", "value": 1}]},
                {"entity": {}, "ops": [{"key": "producer_byte_rate", "value": 1}]},
                {"entity": {"client-id": "x"}, "ops": []},
                {"entity": {"client-id": 7}, "ops": [{"key": "producer_byte_rate", "value": 1}]},
                "not json"]:
        status, body = node.post("/v1/quotas", bad)
        assert status == 400 and body["error"]["code"] == "invalid_request" and body["error"]["message"], (bad, body)
    assert node.get("/v1/health")[0] == 200


def test_produce_quota(node):
    b = node.kafka
    dmqtest.create_one_partition_topic(node, "pq")
    set_rest(node, {"client-id": "slow"}, [{"key": "producer_byte_rate", "value": QUOTA}])
    slow, throttles = produce_for(b, "slow", "pq", RUN_S)
    fast, _ = produce_for(b, "fast", "pq", RUN_S)
    print(f"   produce: quota {QUOTA / 1024:.0f} KiB/s, throttled client {slow / 1024:.0f} KiB/s "
          f"({len(throttles)} throttle events, max {max(throttles or [0]):.1f} s), "
          f"unquota'd client {fast / 1024:.0f} KiB/s")
    assert slow < 3 * QUOTA, slow
    assert throttles and max(throttles) > 0
    assert fast > 10 * QUOTA, fast
    status, body = node.get("/metrics")
    assert 'dmq_quota_throttle_time_ms_total{type="produce",user="",client_id="slow"}' in body, \
        [line for line in body.splitlines() if "quota" in line]
    # Removing the quota lifts the limit.
    set_rest(node, {"client-id": "slow"}, [{"key": "producer_byte_rate", "remove": True}])
    lifted, _ = produce_for(b, "slow", "pq", 3.0)
    assert lifted > 10 * QUOTA, lifted


def test_fetch_quota(node):
    b = node.kafka
    dmqtest.create_one_partition_topic(node, "fq")
    fill(b, "fq", 4 * 1024 * 1024)
    set_rest(node, {"client-id": "slowc"}, [{"key": "consumer_byte_rate", "value": QUOTA}])
    slow, throttles = consume_for(b, "slowc", "fq", RUN_S)
    fast, _ = consume_for(b, "fastc", "fq", RUN_S / 2)
    print(f"   fetch: quota {QUOTA / 1024:.0f} KiB/s, throttled consumer {slow / 1024:.0f} KiB/s "
          f"({len(throttles)} throttle events), unquota'd consumer {fast / 1024:.0f} KiB/s")
    assert slow < 3 * QUOTA, slow
    assert throttles and max(throttles) > 0
    assert fast > 5 * QUOTA, fast


def test_defaults_and_precedence(w):
    node = w.node(node_id=1, extra=WINDOW + [f"--quota.producer.default={QUOTA}"]).start()
    b = node.kafka
    dmqtest.create_one_partition_topic(node, "dq")
    slow, throttles = produce_for(b, "anyone", "dq", RUN_S)
    assert slow < 3 * QUOTA and throttles, slow
    # A client-id quota wins over the broker default, /clients/<default>
    # over nothing, and /clients/<c> over /clients/<default> (KIP-55).
    set_rest(node, {"client-id": None}, [{"key": "producer_byte_rate", "value": 100 * QUOTA}])
    set_rest(node, {"client-id": "capped"}, [{"key": "producer_byte_rate", "value": QUOTA}])
    free, _ = produce_for(b, "other", "dq", 3.0)
    assert free > 10 * QUOTA, free
    capped, throttles = produce_for(b, "capped", "dq", RUN_S)
    assert capped < 3 * QUOTA and throttles, capped
    node.stop()


def test_user_quota_with_sasl(w):
    cluster = sectest.SecureCluster(w, extra=WINDOW)
    node = cluster.node
    dmqtest.create_one_partition_topic(node, "uq")
    set_rest(node, {"user": "alice"}, [{"key": "producer_byte_rate", "value": QUOTA}])
    alice, throttles = produce_for(cluster.tls_bootstrap, "a1", "uq", RUN_S,
                                   extra={k: v for k, v in cluster.rdkafka_scram().items()
                                          if k != "bootstrap.servers"})
    anonymous, _ = produce_for(cluster.plain_bootstrap, "a1", "uq", 3.0)
    print(f"   user quota: alice {alice / 1024:.0f} KiB/s, anonymous (same client id) "
          f"{anonymous / 1024:.0f} KiB/s")
    assert alice < 3 * QUOTA and throttles, alice
    assert anonymous > 10 * QUOTA, anonymous
    status, body = node.get("/metrics")
    assert 'type="produce",user="alice",client_id=""' in body


def defaults_and_precedence():
    with dmqtest.Workdir() as w:
        test_defaults_and_precedence(w)


def user_quota_with_sasl():
    with dmqtest.Workdir() as w:
        test_user_quota_with_sasl(w)


def main():
    with dmqtest.Workdir() as w:
        node = w.node(node_id=1, extra=WINDOW).start()

        def kafka_apis_and_refusals():
            test_api_refusals_and_rest(node)

        def producer_throttled():
            test_produce_quota(node)

        def consumer_throttled():
            test_fetch_quota(node)

        dmqtest.run([kafka_apis_and_refusals, producer_throttled, consumer_throttled])
        node.stop()
    dmqtest.run([defaults_and_precedence, user_quota_with_sasl])


if __name__ == "__main__":
    main()
