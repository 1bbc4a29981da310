"""OAUTHBEARER with tokens from an OAuth token endpoint (client credentials
grant) that the test runs with http.server and that answers with a JWT the
test mints (HS256, the key dmq validates with); the client produces and
consumes over SASL_SSL. A token endpoint handing out a token signed with
another key gets the client refused, and the node keeps serving.

The client is kcat with sasl.oauthbearer.method=oidc when its librdkafka
has OIDC. Debian 12's librdkafka 2.0.2 is built without libcurl, so
librdkafka refuses the property ("not supported in this build: OAuth/OIDC
depends on libcurl and OpenSSL which were not available at build time");
then confluent-kafka (same librdkafka) does the same grant in its oauth_cb,
which is what librdkafka's OIDC login does, and kcat is checked to report
exactly that limitation."""

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402

CLIENT_ID = "kcat-client"
CLIENT_SECRET = "kcat-client-secret-" + os.urandom(8).hex()


class TokenEndpoint:
    """POST /token with HTTP Basic client credentials -> {"access_token": mint()}."""

    def __init__(self, mint):
        endpoint = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = self.rfile.read(length).decode()
                expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != expected or "grant_type=client_credentials" not in form:
                    self.send_response(401)
                    self.end_headers()
                    return
                endpoint.requests += 1
                body = json.dumps({"access_token": mint(), "token_type": "bearer",
                                   "expires_in": 3600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def kcat(c, endpoint, *args, stdin=None):
    base = ["kcat", "-b", c.tls_bootstrap, "-X", "security.protocol=SASL_SSL",
            "-X", "sasl.mechanisms=OAUTHBEARER", "-X", "sasl.oauthbearer.method=oidc",
            "-X", f"sasl.oauthbearer.client.id={CLIENT_ID}",
            "-X", f"sasl.oauthbearer.client.secret={CLIENT_SECRET}",
            "-X", f"sasl.oauthbearer.token.endpoint.url={endpoint.url}",
            "-X", f"ssl.ca.location={c.ca}"]
    return subprocess.run(base + list(args), input=stdin, capture_output=True, text=True, timeout=60)


def kcat_has_oidc():
    r = subprocess.run(["kcat", "-X", "sasl.oauthbearer.method=oidc", "-b", "127.0.0.1:1", "-L",
                        "-m", "1"], capture_output=True, text=True, timeout=30)
    if "not supported in this build" in r.stderr:
        assert "libcurl" in r.stderr, r.stderr
        return False
    return True


def fetch_token(endpoint):
    """What librdkafka's OIDC login does: a client credentials grant."""
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(endpoint.url, data=b"grant_type=client_credentials",
                                     headers={"Authorization": "Basic " + basic}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    return answer["access_token"], time.time() + answer["expires_in"]


def roundtrip_confluent(c, endpoint, topic):
    from confluent_kafka import Consumer, Producer, TopicPartition
    config = {"bootstrap.servers": c.tls_bootstrap, "security.protocol": "SASL_SSL",
              "sasl.mechanisms": "OAUTHBEARER", "ssl.ca.location": c.ca,
              "oauth_cb": lambda _config: fetch_token(endpoint)}
    p = Producer({**config, "acks": "all"})
    for v in ("o1", "o2", "o3"):
        p.produce(topic, v.encode())
    assert p.flush(30) == 0
    consumer = Consumer({**config, "group.id": "oidc", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = []
    for _ in range(60):
        got += [m.value().decode() for m in consumer.consume(num_messages=10, timeout=0.5)
                if not m.error()]
        if len(got) >= 3:
            break
    consumer.close()
    assert got == ["o1", "o2", "o3"], got


def test_kcat_oidc_produce_consume():
    if not kcat_has_oidc():
        print("   kcat's librdkafka has no OIDC (built without libcurl): confluent-kafka's "
              "oauth_cb does the client credentials grant instead")
        with dmqtest.Workdir() as w:
            c = sectest.SecureCluster(w)
            endpoint = TokenEndpoint(lambda: c.token(sub="oidc-client"))
            try:
                roundtrip_confluent(c, endpoint, "oidc")
                assert endpoint.requests >= 2, endpoint.requests
            finally:
                endpoint.close()
            forged = TokenEndpoint(lambda: sectest.hs256_token("another-key-" + "x" * 40))
            try:
                from confluent_kafka.admin import AdminClient
                admin = AdminClient({"bootstrap.servers": c.tls_bootstrap,
                                     "security.protocol": "SASL_SSL",
                                     "sasl.mechanisms": "OAUTHBEARER", "ssl.ca.location": c.ca,
                                     "oauth_cb": lambda _config: fetch_token(forged)})
                try:
                    admin.list_topics(timeout=5)
                    raise AssertionError("a token signed with another key was accepted")
                except Exception as e:
                    assert "another key" not in str(e), e
            finally:
                forged.close()
            assert c.node.alive()
        return
    with dmqtest.Workdir() as w:
        c = sectest.SecureCluster(w)
        endpoint = TokenEndpoint(lambda: c.token(sub="kcat-oidc"))
        try:
            r = kcat(c, endpoint, "-P", "-t", "oidc", stdin="o1\no2\no3\n")
            assert r.returncode == 0, r.stderr
            r = kcat(c, endpoint, "-C", "-t", "oidc", "-o", "beginning", "-e", "-q")
            assert r.returncode == 0, r.stderr
            assert r.stdout.split() == ["o1", "o2", "o3"], r.stdout
            assert endpoint.requests >= 2, endpoint.requests
        finally:
            endpoint.close()
        # A token endpoint minting with another key: dmq refuses the token.
        forged = TokenEndpoint(lambda: sectest.hs256_token("another-key-" + "x" * 40,
                                                           sub="kcat-oidc", aud="dmq",
                                                           iss="https://issuer.test"))
        try:
            r = kcat(c, forged, "-L", "-m", "5")
            assert r.returncode != 0, r.stdout
            assert "Authentication failed" in r.stderr or "SASL" in r.stderr, r.stderr
        finally:
            forged.close()
        assert c.node.alive()


if __name__ == "__main__":
    dmqtest.run([test_kcat_oidc_produce_consume])
