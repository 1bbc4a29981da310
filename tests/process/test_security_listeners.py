"""Listeners: one node serving PLAINTEXT on loopback and SASL_SSL on another
port at once, each Metadata answer naming the listener the client came in on;
SIGHUP replaces the TLS certificate for new connections while an open
connection keeps working; a connection whose SASL session expired
(connections.max.reauth.ms) is closed on its next request."""

import os
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from test_security_clients import consume_confluent, produce_confluent  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

STATE = {}


def test_mixed_listeners_advertise_their_own_port():
    c = STATE["c"]
    plain = AdminClient({"bootstrap.servers": c.plain_bootstrap}).list_topics(timeout=10)
    secure = AdminClient(c.rdkafka_scram()).list_topics(timeout=10)
    assert [b.port for b in plain.brokers.values()] == [c.plain_port], plain.brokers
    assert [b.port for b in secure.brokers.values()] == [c.tls_port], secure.brokers
    produce_confluent({"bootstrap.servers": c.plain_bootstrap}, "mixed", ["p1"])
    produce_confluent(c.rdkafka_scram(), "mixed", ["s1"])
    assert consume_confluent({"bootstrap.servers": c.plain_bootstrap}, "mixed", 2) == ["p1", "s1"]
    assert consume_confluent(c.rdkafka_scram(), "mixed", 2) == ["p1", "s1"]


def peer_subject_cn():
    c = STATE["c"]
    context = ssl.create_default_context(cafile=c.ca)
    with socket.create_connection(("127.0.0.1", c.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


def test_sighup_reloads_certificate():
    c = STATE["c"]
    assert peer_subject_cn() == "localhost"
    # An open, authenticated producer connection from before the reload.
    producer = Producer({**c.rdkafka_scram(), "acks": "all"})
    producer.produce("reload", b"before")
    assert producer.flush(30) == 0
    new_keystore = sectest.make_server_cert(c.dir, "server2", cn="localhost-renewed")
    os.replace(new_keystore, c.keystore)
    c.node.send_signal(signal.SIGHUP)
    dmqtest.wait_until(lambda: peer_subject_cn() == "localhost-renewed", 10,
                       what="new connections to see the new certificate")
    producer.produce("reload", b"after")
    assert producer.flush(30) == 0
    assert consume_confluent(c.rdkafka_scram(), "reload", 2) == ["before", "after"]
    assert "TLS certificates reloaded" in open(c.node.log_path, errors="replace").read()


def test_bad_certificate_keeps_the_old_one():
    c = STATE["c"]
    with open(c.keystore, "w") as f:
        f.write("not a certificate\n")
    c.node.send_signal(signal.SIGHUP)
    dmqtest.wait_until(lambda: "keeping the old TLS certificates" in
                       open(c.node.log_path, errors="replace").read(), 10, what="reload refused")
    assert peer_subject_cn() == "localhost-renewed"


def test_expired_session_is_closed():
    with dmqtest.Workdir() as w:
        c = sectest.SecureCluster(w, extra=["--connections.max.reauth.ms=1500"])
        from kafka import KafkaProducer
        # kafka-python 2.0.2 cannot re-authenticate (no KIP-368): after the
        # session lifetime its connection is closed and it reconnects.
        p = KafkaProducer(bootstrap_servers=c.tls_bootstrap, security_protocol="SASL_SSL",
                          ssl_cafile=c.ca, sasl_mechanism="SCRAM-SHA-512",
                          sasl_plain_username="alice", sasl_plain_password=sectest.PASSWORD,
                          acks="all", reconnect_backoff_ms=100)
        p.send("reauth", b"1").get(timeout=20)
        time.sleep(2.0)  # let the session expire (1.5 s); the next request closes it
        for i in range(3):
            try:
                p.send("reauth", b"2").get(timeout=20)
                break
            except Exception:  # the closed connection fails in-flight requests; retry
                continue
        p.close()
        dmqtest.wait_until(lambda: "SASL session expired" in
                           open(c.node.log_path, errors="replace").read(), 10,
                           what="the expired session to be closed")


def main():
    with dmqtest.Workdir() as w:
        STATE["c"] = sectest.SecureCluster(w)
        dmqtest.run([test_mixed_listeners_advertise_their_own_port, test_sighup_reloads_certificate,
                     test_bad_certificate_keeps_the_old_one])
    dmqtest.run([test_expired_session_is_closed])


if __name__ == "__main__":
    main()
