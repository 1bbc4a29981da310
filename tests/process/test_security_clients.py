"""Real Kafka clients over SASL_SSL against a real dmq node: librdkafka
(confluent-kafka-python and kcat), kafka-python and kafkajs each produce and
consume with SCRAM-SHA-512 and with OAUTHBEARER (an HS256 token minted by the
test). Users come from --sasl.scram.bootstrap.file (alice) and POST
/v1/scram-users (bob); the REST answers never show a salt, key or password."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from test_kafka_kafkajs import CLIENTS, ensure_kafkajs  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

STATE = {}


def produce_confluent(config, topic, values):
    p = Producer({**config, "acks": "all"})
    errors = []
    for v in values:
        p.produce(topic, v.encode(), on_delivery=lambda e, m: errors.append(e) if e else None)
    assert p.flush(30) == 0, "messages left unsent"
    assert not errors, errors


def consume_confluent(config, topic, count, partition=0):
    c = Consumer({**config, "group.id": "unused", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, partition, 0)])
    got = []
    for _ in range(60):
        for m in c.consume(num_messages=1000, timeout=0.5):
            assert not m.error(), m.error()
            got.append(m.value().decode())
        if len(got) >= count:
            break
    c.close()
    return got


def test_scram_users_over_rest():
    c = STATE["c"]
    status, body = c.node.post("/v1/scram-users", {"name": "bob", "mechanism": "SCRAM-SHA-256",
                                                   "password": "bob-pw-0123456789", "iterations": 8192})
    assert status == 201, body
    status, body = c.node.get("/v1/scram-users")
    assert status == 200
    users = {u["name"]: u["credentials"] for u in body["users"]}
    assert {"mechanism": "SCRAM-SHA-256", "iterations": 8192} in users["bob"], users
    assert len(users["alice"]) == 2, users
    text = json.dumps(body) + open(c.node.log_path, errors="replace").read()
    assert "bob-pw-0123456789" not in text and sectest.PASSWORD not in text, "a password leaked"
    status, body = c.node.post("/v1/scram-users", {"name": "x", "mechanism": "MD5", "password": "p"})
    assert status == 400, body
    status, _ = c.node.delete("/v1/scram-users/nobody?mechanism=SCRAM-SHA-256")
    assert status == 404


def test_confluent_scram_sha512():
    c = STATE["c"]
    values = [f"scram-{i}" for i in range(200)]
    produce_confluent(c.rdkafka_scram(), "conf-scram", values)
    assert consume_confluent(c.rdkafka_scram(), "conf-scram", len(values)) == values


def test_confluent_scram_sha256_rest_user():
    c = STATE["c"]
    config = c.rdkafka_scram("bob", "bob-pw-0123456789", "SCRAM-SHA-256")
    produce_confluent(config, "conf-bob", ["b1", "b2"])
    assert consume_confluent(config, "conf-bob", 2) == ["b1", "b2"]


def test_confluent_oauthbearer():
    c = STATE["c"]
    config = c.rdkafka_oauth(c.token())
    values = [f"oauth-{i}" for i in range(100)]
    produce_confluent(config, "conf-oauth", values)
    assert consume_confluent(config, "conf-oauth", len(values)) == values


def kcat(c, *args, stdin=None):
    base = ["kcat", "-b", c.tls_bootstrap, "-X", "security.protocol=SASL_SSL", "-X",
            "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=alice", "-X",
            f"sasl.password={sectest.PASSWORD}", "-X", f"ssl.ca.location={c.ca}"]
    return subprocess.run(base + list(args), input=stdin, capture_output=True, text=True, timeout=60)


def test_kcat_scram_sha512():
    c = STATE["c"]
    r = kcat(c, "-P", "-t", "kcat-scram", stdin="k1\nk2\nk3\n")
    assert r.returncode == 0, r.stderr
    r = kcat(c, "-C", "-t", "kcat-scram", "-o", "beginning", "-e", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["k1", "k2", "k3"], r.stdout


def kafka_python_config(c, **sasl):
    return dict(bootstrap_servers=c.tls_bootstrap, security_protocol="SASL_SSL", ssl_cafile=c.ca,
                **sasl)


class TokenProvider:
    def __init__(self, token):
        self._token = token

    def token(self):
        return self._token


def roundtrip_kafka_python(config, topic):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.structs import TopicPartition as KTP
    p = KafkaProducer(acks="all", **config)
    for i in range(50):
        p.send(topic, f"kp-{i}".encode())
    p.flush(30)
    p.close()
    consumer = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=5000, **config)
    consumer.assign([KTP(topic, 0)])
    consumer.seek_to_beginning()
    got = [m.value.decode() for m in consumer]
    consumer.close()
    assert got == [f"kp-{i}" for i in range(50)], got[:5]


def test_kafka_python_scram_sha512():
    c = STATE["c"]
    # kafka-python 2.0.2 uses SaslHandshake v0 and bare SASL tokens.
    roundtrip_kafka_python(kafka_python_config(c, sasl_mechanism="SCRAM-SHA-512",
                                               sasl_plain_username="alice",
                                               sasl_plain_password=sectest.PASSWORD), "kp-scram")


def test_kafka_python_oauthbearer():
    c = STATE["c"]
    roundtrip_kafka_python(kafka_python_config(c, sasl_mechanism="OAUTHBEARER",
                                               sasl_oauth_token_provider=TokenProvider(c.token())),
                           "kp-oauth")


def kafkajs(c, topic, *sasl):
    ensure_kafkajs()
    return subprocess.run(["node", os.path.join(CLIENTS, "kafkajs_sasl.js"), c.tls_bootstrap, topic,
                           "20", c.ca, *sasl], capture_output=True, text=True, timeout=120)


def test_kafkajs_scram_sha512():
    c = STATE["c"]
    r = kafkajs(c, "js-scram", "scram-sha-512", "alice", sectest.PASSWORD)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["offsets"][0]["high"] == "20", r.stdout
    got = consume_confluent(c.rdkafka_scram(), "js-scram", 20)
    assert got == [f"js-{i}" for i in range(20)], got


def test_kafkajs_oauthbearer():
    c = STATE["c"]
    r = kafkajs(c, "js-oauth", "oauthbearer", c.token())
    assert r.returncode == 0, r.stderr
    got = consume_confluent(c.rdkafka_oauth(c.token()), "js-oauth", 20)
    assert got == [f"js-{i}" for i in range(20)], got


def describe_scram_raw(address):
    """DescribeUserScramCredentials v0 (flexible) for every user, by hand:
    no client DMQ tests with implements it. Returns {user: {mechanism: iterations}}."""
    import socket
    import struct
    body = struct.pack(">hhi", 50, 0, 11) + struct.pack(">h", 4) + b"test" + b"\x00"  # header v2
    body += b"\x00" + b"\x00"  # users: null; tagged fields
    with socket.create_connection(address, timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        data = s.recv(size, socket.MSG_WAITALL)
    at = 4 + 1 + 4  # correlation id, header tags, throttle
    assert struct.unpack_from(">h", data, at)[0] == 0
    at += 2 + 1  # error code, null message
    count = data[at] - 1
    at += 1
    users = {}
    for _ in range(count):
        n = data[at] - 1
        user = data[at + 1:at + 1 + n].decode()
        at += 1 + n + 2 + 1  # name, error, null message
        infos = data[at] - 1
        at += 1
        users[user] = {}
        for _ in range(infos):
            mechanism, iterations = struct.unpack_from(">bi", data, at)
            users[user][mechanism] = iterations
            at += 5 + 1
        at += 1
    return users


def test_describe_user_scram_credentials():
    c = STATE["c"]
    users = describe_scram_raw(("127.0.0.1", c.plain_port))
    assert users["alice"] == {1: 4096, 2: 4096}, users
    assert users["bob"] == {1: 8192}, users


def main():
    with dmqtest.Workdir() as w:
        STATE["c"] = sectest.SecureCluster(w)
        dmqtest.run([test_scram_users_over_rest, test_describe_user_scram_credentials,
                     test_confluent_scram_sha512,
                     test_confluent_scram_sha256_rest_user, test_confluent_oauthbearer,
                     test_kcat_scram_sha512, test_kafka_python_scram_sha512,
                     test_kafka_python_oauthbearer, test_kafkajs_scram_sha512,
                     test_kafkajs_oauthbearer])


if __name__ == "__main__":
    main()
