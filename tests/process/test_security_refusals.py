"""Every refusal on the SASL_SSL port, each checked with a real client and
followed by a good client that must still work: a wrong password (librdkafka,
kafka-python, kafkajs), an unknown user, an expired token, a token signed with
another key, a token for another audience, a plaintext client on the TLS
port, and a Kafka request sent before authenticating. No secret reaches the
node's log."""

import os
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from test_security_clients import kafkajs, produce_confluent  # noqa: E402

from confluent_kafka import KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

STATE = {}
WRONG = "wrong-password-987654"


def good_client_still_works():
    c = STATE["c"]
    produce_confluent(c.rdkafka_scram(), "after-refusal", ["ok"])


def rdkafka_refused(config, expect):
    """librdkafka reports the broker's SaslAuthenticate error through error_cb."""
    errors = []
    admin = AdminClient({**config, "error_cb": lambda e: errors.append(e)})
    try:
        admin.list_topics(timeout=5)
        raise AssertionError("metadata succeeded although authentication should fail")
    except KafkaException as e:
        errors.append(e)
    # error_cb runs from poll(); give it the moment librdkafka needs.
    dmqtest.wait_until(lambda: admin.poll(0.1) is not None and expect in " ".join(map(str, errors)),
                       10, what=f"the client to report '{expect}'")
    text = " ".join(str(e) for e in errors)
    assert expect in text, text
    good_client_still_works()


def test_wrong_password_librdkafka():
    c = STATE["c"]
    rdkafka_refused(c.rdkafka_scram(password=WRONG), "Authentication failed: invalid credentials")


def test_unknown_user_librdkafka():
    c = STATE["c"]
    rdkafka_refused(c.rdkafka_scram(user="mallory"), "Authentication failed: invalid credentials")


def test_wrong_password_plain():
    c = STATE["c"]
    config = {**c.rdkafka_scram(password=WRONG), "sasl.mechanisms": "PLAIN"}
    rdkafka_refused(config, "invalid credentials")


def test_expired_token():
    c = STATE["c"]
    rdkafka_refused(c.rdkafka_oauth(c.token(exp_in_s=-3600)), "expired")


def test_token_signed_with_another_key():
    c = STATE["c"]
    forged = sectest.hs256_token("another-secret-another-secret-another-secret")
    rdkafka_refused(c.rdkafka_oauth(forged), "Authentication failed")


def test_token_for_another_audience():
    c = STATE["c"]
    rdkafka_refused(c.rdkafka_oauth(c.token(aud="someone-else")), "Authentication failed")


def test_wrong_password_kafka_python():
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    c = STATE["c"]
    try:
        KafkaProducer(bootstrap_servers=c.tls_bootstrap, security_protocol="SASL_SSL",
                      ssl_cafile=c.ca, sasl_mechanism="SCRAM-SHA-512",
                      sasl_plain_username="alice", sasl_plain_password=WRONG,
                      api_version_auto_timeout_ms=5000, request_timeout_ms=5000,
                      max_block_ms=5000)
        raise AssertionError("kafka-python connected with a wrong password")
    except KafkaError as e:
        # kafka-python 2.0.2 cannot tell the reason: the broker closes the connection.
        assert "NoBrokersAvailable" in type(e).__name__ or "Authentication" in str(e), repr(e)
    good_client_still_works()


def test_wrong_password_kafkajs():
    c = STATE["c"]
    r = kafkajs(c, "js-refused", "scram-sha-512", "alice", WRONG)
    assert r.returncode != 0
    assert "SASL SCRAM SHA512 authentication failed" in r.stderr or "Authentication failed" in r.stderr, r.stderr
    good_client_still_works()


def api_versions_frame():
    body = struct.pack(">hhi", 18, 0, 7) + struct.pack(">h", 4) + b"test"
    return struct.pack(">i", len(body)) + body


def metadata_frame():
    body = struct.pack(">hhi", 3, 1, 9) + struct.pack(">h", 4) + b"test" + struct.pack(">i", -1)
    return struct.pack(">i", len(body)) + body


def closed_by_peer(sock):
    sock.settimeout(10)
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def test_plaintext_client_on_tls_port():
    c = STATE["c"]
    with socket.create_connection(("127.0.0.1", c.tls_port), timeout=10) as s:
        s.sendall(api_versions_frame())
        assert closed_by_peer(s), "the TLS port answered a plaintext request"
    # librdkafka with security.protocol=PLAINTEXT against the TLS port gets nowhere.
    admin = AdminClient({"bootstrap.servers": c.tls_bootstrap})
    try:
        admin.list_topics(timeout=3)
        raise AssertionError("a plaintext client got metadata from the TLS port")
    except KafkaException:
        pass
    good_client_still_works()


def test_request_before_authentication():
    c = STATE["c"]
    context = ssl.create_default_context(cafile=c.ca)
    with socket.create_connection(("127.0.0.1", c.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(metadata_frame())
            assert closed_by_peer(s), "Metadata was served before SASL authentication"
    good_client_still_works()


def test_no_secret_in_log():
    c = STATE["c"]
    log = open(c.node.log_path, errors="replace").read()
    for secret in (sectest.PASSWORD, WRONG, c.hs_secret, c.token().split(".")[2]):
        assert secret not in log, "a secret reached the log"
    assert "authentication failed" in log.lower()


def main():
    with dmqtest.Workdir() as w:
        STATE["c"] = sectest.SecureCluster(w)
        good_client_still_works()
        dmqtest.run([test_wrong_password_librdkafka, test_unknown_user_librdkafka,
                     test_wrong_password_plain, test_expired_token,
                     test_token_signed_with_another_key, test_token_for_another_audience,
                     test_wrong_password_kafka_python, test_wrong_password_kafkajs,
                     test_plaintext_client_on_tls_port, test_request_before_authentication,
                     test_no_secret_in_log])


if __name__ == "__main__":
    main()
