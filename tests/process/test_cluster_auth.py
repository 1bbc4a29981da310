"""Node-to-node traffic authenticated with --cluster.secret.file, on a real
3-node cluster: from outside, a forged Raft vote with a higher term, a forged
append, a forged broker registration, a forged AlterPartition, a request with
an old timestamp, a replayed request, an unsigned request and a signature made
with another secret are each refused with 401 and a JSON error, before any
handler runs: the leader and the term do not move. Replica fetches on the
Kafka port authenticate as cluster members (a partition with 3 replicas keeps
all 3 in its ISR), and a real client produces and consumes afterwards. The
secret never shows in a log, /metrics or a REST answer; a secret file others
can read, and a missing one, stop the node with exit code 2."""

import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from dmqtest import wait_until  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

SECRET = "cluster-secret-" + os.urandom(12).hex()


def view(node):
    status, body = node.get("/v1/cluster", timeout_s=2)
    assert status == 200, (status, body)
    return body


def leader_and_term(nodes):
    """(leader id, term) agreed by every node, or None."""
    views = [view(n) for n in nodes]
    pairs = {(v["leader_id"], v["term"]) for v in views}
    if len(pairs) == 1 and None not in next(iter(pairs)):
        return pairs.pop()
    return None


def send(node, method, path, body=None, header=None):
    headers = {"X-DMQ-Cluster-Auth": header} if header else {}
    return sectest.raw_http(method, node.url + path, body, headers)


def expect_refused(reply, what):
    status, body = reply
    assert status == 401, (what, status, body)
    assert body["error"]["code"] == "cluster_auth_failed" and body["error"]["message"], (what, body)


def forged_requests(term, leader_id):
    """(name, method, path, body) of what an outsider would send."""
    vote = {"messages": [{"type": 2, "from": 9, "to": leader_id, "term": term + 50,
                          "log_index": 1 << 40, "log_term": term + 50}]}
    append = {"messages": [{"type": 4, "from": 9, "to": leader_id, "term": term + 50,
                            "log_index": 0, "log_term": 0, "commit": 1 << 40,
                            "entries": [[term + 50, 1, 0, ""]]}]}
    register = {"broker_id": 77, "incarnation_id": "0f0f0f0f-0000-0000-0000-000000000000",
                "kafka_host": "203.0.113.9", "kafka_port": 9092,
                "http_host": "203.0.113.9", "http_port": 8080}
    alter = {"broker_id": 1, "broker_epoch": 1, "topic": "secure", "partition": 0,
             "leader_epoch": 0, "partition_epoch": 0, "isr": [1]}
    return [("vote", "POST", "/internal/raft/messages", json.dumps(vote)),
            ("append", "POST", "/internal/raft/messages", json.dumps(append)),
            ("register", "POST", "/internal/brokers/register", json.dumps(register)),
            ("alter_partition", "POST", "/internal/partitions/alter", json.dumps(alter)),
            ("producer_ids", "POST", "/internal/producer-ids", json.dumps({"broker_id": 1,
                                                                          "broker_epoch": 1})),
            ("tail", "GET", "/internal/raft/entries?from=1", None)]


def check_forgeries(nodes):
    before = wait_until(lambda: leader_and_term(nodes), 15, what="a leader")
    leader_id, term = before
    for name, method, path, body in forged_requests(term, leader_id):
        for node in nodes:
            expect_refused(send(node, method, path, body), f"unsigned {name}")
            other = sectest.cluster_auth_header("not-the-cluster-secret!", method, path,
                                                body or b"", node=2)
            expect_refused(send(node, method, path, body, other), f"{name} signed with another key")
            # The right key over a different body: the body hash is covered.
            header = sectest.cluster_auth_header(SECRET, method, path, b"{}", node=2)
            if body:
                expect_refused(send(node, method, path, body, header), f"{name} with a swapped body")
    # A genuine-looking request with an old timestamp, and one replayed.
    target = f"/internal/raft/joined/{leader_id}"
    old = sectest.cluster_auth_header(SECRET, "GET", target, node=2,
                                      ts_ms=int(time.time() * 1000) - 120_000)
    expect_refused(send(nodes[0], "GET", target, None, old), "old timestamp")
    fresh = sectest.cluster_auth_header(SECRET, "GET", target, node=2)
    status, body = send(nodes[0], "GET", target, None, fresh)
    assert status == 200, (status, body)  # the operator, holding the secret, is a member
    expect_refused(send(nodes[0], "GET", target, None, fresh), "replayed request")
    for bad in ("v1 node=2", "v2 node=2,ts=1,nonce=AAAA,sig=AAAA", "x" * 300, "v1 " + "," * 50):
        expect_refused(send(nodes[0], "GET", target, None, bad), f"malformed header {bad[:20]}")
    # Nothing moved: same leader, same term, on every node, a while later.
    time.sleep(1.5)
    after = wait_until(lambda: leader_and_term(nodes), 10, what="a leader")
    assert after == before, f"leader/term moved from {before} to {after}"
    status, brokers = nodes[0].get("/v1/brokers")
    assert status == 200 and all(b["id"] != 77 for b in brokers["brokers"]), brokers
    print(f"   leader {leader_id} term {term} unchanged after the forged requests")


def produce_consume(nodes, topic, count=200):
    bootstrap = ",".join(n.kafka for n in nodes)
    # Every broker registers (a signed request) before three replicas fit.
    wait_until(lambda: nodes[0].post("/v1/topics", {"name": topic, "partitions": 1,
                                                    "replication_factor": 3})[0] in (200, 201),
               30, interval_s=0.3, what="a topic with 3 replicas")
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors = []
    for i in range(count):
        p.produce(topic, f"v{i}".encode(), on_delivery=lambda e, m: errors.append(e) if e else None)
    assert p.flush(60) == 0 and not errors, errors
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 60
    while len(got) < count and time.monotonic() < deadline:
        for m in c.consume(num_messages=500, timeout=0.5):
            assert not m.error(), m.error()
            got.append(m.value().decode())
    c.close()
    assert got == [f"v{i}" for i in range(count)], got[:5]

    def full_isr():
        status, t = nodes[0].get(f"/v1/topics/{topic}")
        return status == 200 and sorted(t["partitions"][0]["isr"]) == [1, 2, 3]
    # Followers fetch over the Kafka port as authenticated cluster members.
    wait_until(full_isr, 30, what="all three replicas in the ISR")


def kafka_call(sock, api_key, version, body, correlation):
    client = b"outsider"
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    frame = header + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    size = struct.unpack(">i", recv_exactly(sock, 4))[0]
    data = recv_exactly(sock, size)
    assert struct.unpack(">i", data[:4])[0] == correlation
    return data[4:]


def recv_exactly(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def kstring(text):
    return struct.pack(">h", len(text)) + text.encode()


def follower_fetch(sock, topic, replica_id):
    """Fetch v4 as follower `replica_id`; the first partition's error code."""
    body = struct.pack(">iiiib", replica_id, 0, 1, 1 << 20, 0) + struct.pack(">i", 1) + kstring(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20)
    reply = kafka_call(sock, 1, 4, body, 7)
    # throttle, topic count, topic name, partition count, partition index, error code
    name_len = struct.unpack(">h", reply[8:10])[0]
    at = 10 + name_len + 4 + 4
    return struct.unpack(">h", reply[at:at + 2])[0]


def member_proof(sock, token):
    """SaslHandshake v1 DMQ-CLUSTER then SaslAuthenticate v1; the two error codes."""
    reply = kafka_call(sock, 17, 1, kstring("DMQ-CLUSTER"), 1)
    handshake_error = struct.unpack(">h", reply[:2])[0]
    reply = kafka_call(sock, 36, 1, struct.pack(">i", len(token)) + token.encode(), 2)
    return handshake_error, struct.unpack(">h", reply[:2])[0]


def check_replica_fetch_needs_membership(nodes, topic):
    leader_id = nodes[0].get(f"/v1/topics/{topic}")[1]["partitions"][0]["leader"]
    leader = nodes[leader_id - 1]
    other = next(n.node_id for n in nodes if n.node_id != leader_id)
    with socket.create_connection(("127.0.0.1", leader.kafka_port), timeout=10) as sock:
        assert follower_fetch(sock, topic, other) == 31  # CLUSTER_AUTHORIZATION_FAILED
    # A proof signed with the secret but made for another broker.
    with socket.create_connection(("127.0.0.1", leader.kafka_port), timeout=10) as sock:
        token = sectest.cluster_auth_header(SECRET, "KAFKA", f"/kafka/cluster-member/{other}",
                                            node=other)
        assert member_proof(sock, token) == (0, 58)  # SASL_AUTHENTICATION_FAILED
    with socket.create_connection(("127.0.0.1", leader.kafka_port), timeout=10) as sock:
        token = sectest.cluster_auth_header("wrong-secret-0123456789", "KAFKA",
                                            f"/kafka/cluster-member/{leader_id}", node=other)
        assert member_proof(sock, token) == (0, 58)
    # The right proof, then the fetch is served.
    with socket.create_connection(("127.0.0.1", leader.kafka_port), timeout=10) as sock:
        token = sectest.cluster_auth_header(SECRET, "KAFKA", f"/kafka/cluster-member/{leader_id}",
                                            node=other)
        assert member_proof(sock, token) == (0, 0)
        assert follower_fetch(sock, topic, other) == 0


def check_no_secret_anywhere(nodes):
    for node in nodes:
        for path in ("/metrics", "/v1/health", "/v1/cluster", "/v1/brokers", "/v1/topics"):
            status, body = node.get(path)
            assert SECRET not in (body if isinstance(body, str) else json.dumps(body)), path
        with open(node.log_path, errors="replace") as f:
            log = f.read()
        assert SECRET not in log, f"secret in the log of node {node.node_id}"
        assert "refused POST /internal/raft/messages" in log or node is not nodes[0], log[-2000:]
    status, metrics = nodes[0].get("/metrics")
    assert 'dmq_cluster_auth_refused_total{reason="bad_signature"}' in metrics, metrics[:500]


def test_secured_cluster():
    with dmqtest.Workdir() as w:
        secret = sectest.secret_file(w.path, "cluster.secret", SECRET + "\n")
        nodes, _ = dmqtest.voter_nodes(w, 3, extra=[f"--cluster.secret.file={secret}",
                                                    "--default.replication.factor=3"])
        dmqtest.start_all(nodes)
        check_forgeries(nodes)
        produce_consume(nodes, "secure")
        check_replica_fetch_needs_membership(nodes, "secure")
        check_no_secret_anywhere(nodes)
        for n in nodes:
            assert n.alive()


def exit_code_of(w, args):
    port = dmqtest.free_port()
    r = subprocess.run([dmqtest.BINARY, f"--data-dir={w.path}/bad", f"--http-listen=127.0.0.1:{port}",
                        f"--kafka-listen=127.0.0.1:{dmqtest.free_port()}"] + args,
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def test_bad_secret_files_exit_2():
    with dmqtest.Workdir() as w:
        readable = sectest.secret_file(w.path, "open.secret", SECRET)
        os.chmod(readable, 0o644)
        short = sectest.secret_file(w.path, "short.secret", "tiny")
        for args, words in ((["--cluster.secret.file=" + readable], "chmod 600"),
                            (["--cluster.secret.file=" + w.path + "/missing"], "cluster.secret.file"),
                            (["--cluster.secret.file=" + short], "cluster.secret.file")):
            code, out = exit_code_of(w, args)
            assert code == 2, (args, code, out)
            assert words in out and SECRET not in out, out


def test_power_off_only_in_test_hooks_binary():
    """The power-off endpoint is compiled only into dmq-test-hooks: the
    installed binary has none even with DMQ_TEST_FAULT_FS=1; in the test
    binary it needs the cluster signature when a secret is set."""
    os.environ["DMQ_TEST_FAULT_FS"] = "1"
    try:
        with dmqtest.Workdir() as w:
            production = w.node(node_id=1)
            production.args = lambda a=production.args: [dmqtest.BINARY] + a()[1:]
            production.start()
            status, body = production.post("/internal/test/power-off")
            assert status == 404, (status, body)
            assert production.alive()
            production.stop()
            secret = sectest.secret_file(w.path, "cluster.secret", SECRET)
            hooked = w.node(node_id=1, extra=[f"--cluster.secret.file={secret}"])
            assert hooked.args()[0] == dmqtest.TEST_HOOKS_BINARY
            hooked.data_dir += "-hooked"
            hooked.start()
            expect_refused(send(hooked, "POST", "/internal/test/power-off"), "unsigned power-off")
            assert hooked.alive()
            header = sectest.cluster_auth_header(SECRET, "POST", "/internal/test/power-off", node=1)
            try:
                send(hooked, "POST", "/internal/test/power-off", b"", header)
            except Exception:
                pass  # the process dies before it answers
            assert hooked.proc.wait(timeout=10) in (137, -9)
    finally:
        del os.environ["DMQ_TEST_FAULT_FS"]


def test_warning_for_an_open_routable_http_listener():
    with dmqtest.Workdir() as w:
        secret = sectest.secret_file(w.path, "cluster.secret", SECRET)
        for node_id, extra, warned in ((1, [], True), (2, [f"--cluster.secret.file={secret}"], False)):
            port = dmqtest.free_port()
            node = w.node(node_id=node_id, http_port=port,
                          extra=[f"--http.listeners=HTTP://0.0.0.0:{port}"] + extra).start()
            log = open(node.log_path).read()
            assert ("SECURITY WARNING: the HTTP listener" in log) == warned, log[-1500:]
            assert SECRET not in log
            node.stop()


def main():
    dmqtest.run([test_bad_secret_files_exit_2, test_warning_for_an_open_routable_http_listener, test_power_off_only_in_test_hooks_binary,
                 test_secured_cluster])


if __name__ == "__main__":
    main()
