"""HTTPS on the HTTP listener (--http.listeners=HTTPS://...): REST over TLS
with curl and Python trusting the test CA, plain HTTP and TLS 1.1 refused on
that port, the certificate replaced on SIGHUP while an open keep-alive
connection keeps working, a missing certificate file exits 2; and a 3-node
cluster whose nodes talk HTTPS to each other with client certificates
required (mTLS between nodes): Raft, broker registration, the metadata tail
and REST forwarding all work, a real Kafka client produces and consumes, and
a client without a certificate is refused at the handshake."""

import http.client
import os
import signal
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from dmqtest import wait_until  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402


def client_context(ca, keystore=None):
    ctx = ssl.create_default_context(cafile=ca)
    if keystore:
        ctx.load_cert_chain(keystore)
    return ctx


def https_node(w, ca, keystore, node_id=1, controllers=None, http_port=None, extra=()):
    port = http_port or dmqtest.free_port()
    node = w.node(node_id=node_id, controllers=controllers, http_port=port, extra=[
        f"--http.listeners=HTTPS://127.0.0.1:{port}", f"--ssl.keystore.location={keystore}",
        f"--ssl.truststore.location={ca}"] + list(extra))
    node.ssl_context = client_context(ca, keystore)
    return node


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True,
                          text=True, timeout=30)


def serial_of(port, ca):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=client_context(ca), timeout=5)
    conn.request("GET", "/v1/health")
    conn.getresponse().read()
    serial = conn.sock.getpeercert()["serialNumber"]
    return conn, serial


def test_https_rest_and_reload():
    with dmqtest.Workdir() as w:
        ca = sectest.make_ca(w.path)
        keystore = sectest.make_server_cert(w.path, "node")
        node = https_node(w, ca, keystore).start()
        port = node.http_port
        r = curl("--cacert", ca, f"https://127.0.0.1:{port}/v1/health")
        assert r.returncode == 0 and '"status"' in r.stdout, (r.returncode, r.stdout, r.stderr)
        # 503 not_enough_brokers until the node's broker has registered.
        wait_until(lambda: node.post("/v1/topics", {"name": "over-tls", "partitions": 2})[0]
                   in (200, 201, 409), 20, interval_s=0.2, what="topic created")
        status, body = node.get("/v1/topics/over-tls")
        assert status == 200 and len(body["partitions"]) == 2, body
        # Plain HTTP and an old protocol version get no answer.
        r = curl(f"http://127.0.0.1:{port}/v1/health")
        assert r.returncode != 0 or "status" not in r.stdout, r.stdout
        r = curl("--cacert", ca, "--tls-max", "1.1", f"https://127.0.0.1:{port}/v1/health")
        assert r.returncode != 0, r.stdout
        # An untrusted client refuses the server (the certificate is the CA's).
        r = curl(f"https://127.0.0.1:{port}/v1/health")
        assert r.returncode != 0, r.stdout

        old_conn, old_serial = serial_of(port, ca)
        sectest.make_server_cert(w.path, "node")  # a new certificate in the same file
        node.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: TLS certificates reloaded" in open(node.log_path).read(), 10,
                   what="reload logged")
        new_conn, new_serial = serial_of(port, ca)
        assert new_serial != old_serial, (old_serial, new_serial)
        # The connection opened before the reload still works.
        old_conn.request("GET", "/v1/cluster")
        assert old_conn.getresponse().status == 200
        old_conn.close()
        new_conn.close()

        # A keystore that is not there: a configuration error, exit 2.
        r = subprocess.run([dmqtest.BINARY, f"--data-dir={w.path}/bad",
                            f"--http.listeners=HTTPS://127.0.0.1:{dmqtest.free_port()}",
                            f"--kafka-listen=127.0.0.1:{dmqtest.free_port()}",
                            f"--http.ssl.keystore.location={w.path}/missing.pem"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "http.ssl.keystore.location" in r.stderr + r.stdout, r
        r = subprocess.run([dmqtest.BINARY, f"--data-dir={w.path}/bad",
                            "--http.listeners=SPDY://127.0.0.1:1"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 2 and "--http.listeners" in r.stderr, r


def test_cluster_over_mtls():
    with dmqtest.Workdir() as w:
        ca = sectest.make_ca(w.path)
        keystore = sectest.make_server_cert(w.path, "node")
        ports = [dmqtest.free_port() for _ in range(3)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ports))
        nodes = [https_node(w, ca, keystore, node_id=i + 1, controllers=voters, http_port=ports[i],
                            extra=["--http.ssl.client.auth=required"]) for i in range(3)]
        dmqtest.start_all(nodes)
        for n in nodes:
            assert "SECURITY WARNING: the HTTP listener" not in open(n.log_path).read()
        # No client certificate: refused at the handshake.
        r = curl("--cacert", ca, f"https://127.0.0.1:{ports[0]}/v1/health")
        assert r.returncode != 0, r.stdout
        wait_until(lambda: all(n.get("/v1/cluster")[1]["leader_id"] for n in nodes), 15,
                   what="a leader")
        # Created through a follower: forwarded to the leader over HTTPS.
        leader = nodes[0].get("/v1/cluster")[1]["leader_id"]
        follower = next(n for n in nodes if n.node_id != leader)
        wait_until(lambda: follower.post("/v1/topics", {"name": "mtls", "partitions": 1,
                                                        "replication_factor": 3})[0] in (200, 201),
                   30, interval_s=0.3, what="topic with 3 replicas (all brokers registered)")
        bootstrap = ",".join(n.kafka for n in nodes)
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        for i in range(100):
            p.produce("mtls", f"m{i}".encode())
        assert p.flush(60) == 0
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g", "enable.auto.commit": False})
        c.assign([TopicPartition("mtls", 0, 0)])
        got = []
        deadline = time.monotonic() + 60
        while len(got) < 100 and time.monotonic() < deadline:
            got += [m.value().decode() for m in c.consume(num_messages=200, timeout=0.5)
                    if not m.error()]
        c.close()
        assert got == [f"m{i}" for i in range(100)], got[:5]
        # Each node's metadata copy (tailed over HTTPS by brokers) has the topic.
        for n in nodes:
            wait_until(lambda n=n: n.get("/v1/topics/mtls")[0] == 200, 10, what="topic everywhere")


def main():
    dmqtest.run([test_https_rest_and_reload, test_cluster_over_mtls])


if __name__ == "__main__":
    main()
