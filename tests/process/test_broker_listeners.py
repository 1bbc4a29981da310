"""Brokers register every advertised listener (name, host, port, security
protocol), so Metadata answered on listener X names the other brokers by
their listener X, as Kafka does: a client bootstrapped on EXTERNAL is sent to
EXTERNAL ports, one on INTERNAL to INTERNAL ports (checked with
confluent-kafka and kafka-python). A registration in the old shape (first
listener only) is still accepted, and one with a bad listener gets 400."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from dmqtest import wait_until  # noqa: E402

from confluent_kafka.admin import AdminClient  # noqa: E402
from kafka import KafkaAdminClient  # noqa: E402


def brokers_seen_by_confluent(bootstrap):
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    return {b.id: b.port for b in md.brokers.values()}


def brokers_seen_by_kafka_python(bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        return {b["node_id"]: b["port"] for b in admin.describe_cluster()["brokers"]}
    finally:
        admin.close()


def test_metadata_names_brokers_by_the_listener_used():
    with dmqtest.Workdir() as w:
        internal = {i: dmqtest.free_port() for i in (1, 2)}
        external = {i: dmqtest.free_port() for i in (1, 2)}
        ports = [dmqtest.free_port() for _ in range(2)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ports))
        nodes = []
        for i in (1, 2):
            nodes.append(w.node(node_id=i, controllers=voters, http_port=ports[i - 1],
                                kafka_port=internal[i], extra=[
                f"--listeners=INTERNAL://127.0.0.1:{internal[i]},EXTERNAL://127.0.0.1:{external[i]}",
                "--listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"]))
        dmqtest.start_all(nodes)

        def registered():
            status, body = nodes[0].get("/v1/brokers")
            brokers = body["brokers"] if status == 200 else []
            return len(brokers) == 2 and all(len(b["listeners"]) == 2 for b in brokers) and brokers
        brokers = wait_until(registered, 20, what="both brokers registered with their listeners")
        b2 = next(b for b in brokers if b["id"] == 2)
        assert {(l["name"], l["port"], l["security_protocol"]) for l in b2["listeners"]} == {
            ("INTERNAL", internal[2], "PLAINTEXT"), ("EXTERNAL", external[2], "PLAINTEXT")}, b2

        # Each broker's copy of the metadata learns that both are unfenced on
        # its own (a client may ask either one), so every view is awaited; a
        # view naming a broker by the wrong listener never matches.
        for seen_by, bootstrap, expected in (
                (brokers_seen_by_confluent, external[1], external),
                (brokers_seen_by_confluent, internal[1], internal),
                (brokers_seen_by_kafka_python, external[1], external),
                (brokers_seen_by_kafka_python, internal[2], internal)):
            wait_until(lambda: seen_by(f"127.0.0.1:{bootstrap}") == expected, 20,
                       what=f"both brokers in Metadata via port {bootstrap}, named {expected}")

        # The old shape (no "listeners") is accepted; a bad listener is a 400.
        old = {"broker_id": 9, "incarnation_id": "00000000-0000-0000-0000-000000000009",
               "kafka_host": "127.0.0.1", "kafka_port": dmqtest.free_port(),
               "http_host": "127.0.0.1", "http_port": dmqtest.free_port()}
        status, body = nodes[0].post("/internal/brokers/register", old, timeout_s=20)
        assert status == 200, (status, body)
        for bad in ([{"name": "X", "host": "h", "port": 0, "security_protocol": "PLAINTEXT"}],
                    [{"name": "X", "host": "h", "port": 1, "security_protocol": "KERBEROS"}],
                    [{"name": "", "host": "h", "port": 1, "security_protocol": "SSL"}],
                    "INTERNAL://h:1", [1]):
            status, body = nodes[0].post("/internal/brokers/register", {**old, "listeners": bad})
            assert status == 400 and body["error"]["code"] == "invalid_request", (bad, status, body)
        for n in nodes:
            assert n.alive()


if __name__ == "__main__":
    dmqtest.run([test_metadata_names_brokers_by_the_listener_used])
