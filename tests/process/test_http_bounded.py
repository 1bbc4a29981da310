"""Bounded HTTP (issue 17, point 1): thousands of idle keep-alive connections
cost no thread, idle ones time out (http.idle.timeout.ms), a connection over
http.max.connections gets a 503 with a JSON error, malformed requests get
400/411/413/431 and the node stays up, an idle combined node runs at most 32
threads, and a storm of slow REST requests does not stop Raft from electing a
leader and committing a write."""

import concurrent.futures
import json
import os
import socket
import time

from confluent_kafka import Producer

from dmqtest import Workdir, run, start_all, voter_nodes, wait_until

IDLE_CONNECTIONS = 2000
MAX_IDLE_THREADS = 32


def threads_of(node):
    with open(f"/proc/{node.proc.pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


def connect(node, timeout_s=10):
    s = socket.create_connection(("127.0.0.1", node.http_port), timeout=timeout_s)
    s.settimeout(timeout_s)
    return s


def send_get(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


def read_response(sock):
    """(status, headers dict lower-case, body bytes) of one response; raises
    ConnectionError when the socket closes first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return status, headers, body


def exchange(node, raw):
    """Sends raw bytes on a new connection, returns (status, JSON body)."""
    with connect(node) as s:
        s.sendall(raw)
        status, _, body = read_response(s)
        return status, json.loads(body)


def closed_by_server(sock, within_s):
    """True when the server closes `sock` within `within_s`."""
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def create_topic(node, name, replication_factor):
    """Retried until the brokers have registered."""
    def created():
        status, body = node.post("/v1/topics", {"name": name, "partitions": 1,
                                                "replication_factor": replication_factor},
                                 timeout_s=10)
        assert status in (201, 503), (status, body)
        return status == 201
    wait_until(created, 20, interval_s=0.2, what=f"topic {name} created")


def produce(node, topic, count):
    p = Producer({"bootstrap.servers": node.kafka, "acks": "all", "linger.ms": 5})
    delivered = []
    for i in range(count):
        p.produce(topic, value=f"v{i}".encode(),
                  on_delivery=lambda err, msg: delivered.append(err is None))
    assert p.flush(30) == 0, "produce did not finish"
    return delivered.count(True)


def test_thousands_of_idle_connections_cost_no_thread():
    with Workdir() as w:
        node = w.node(extra=["--http.max.connections=5000"]).start()
        create_topic(node, "idle", 1)
        # Worker threads leave 10 s after their last task.
        wait_until(lambda: threads_of(node) <= MAX_IDLE_THREADS, 30,
                   what=f"an idle node at <= {MAX_IDLE_THREADS} threads")
        sockets = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                sockets.append(connect(node))
            for s in sockets:
                send_get(s, "/v1/health")
            for s in sockets:
                status, _, _ = read_response(s)
                assert status == 200, status
            # All served and held open: the node still answers and takes writes.
            assert node.get("/v1/health", timeout_s=5)[0] == 200
            assert produce(node, "idle", 200) == 200
            threads = threads_of(node)
            print(f"   {IDLE_CONNECTIONS} idle keep-alive connections: {threads} threads")
            wait_until(lambda: threads_of(node) <= MAX_IDLE_THREADS, 30,
                       what=f"<= {MAX_IDLE_THREADS} threads with {IDLE_CONNECTIONS} idle connections")
            # Every connection is still usable.
            for s in sockets[:: IDLE_CONNECTIONS // 20]:
                send_get(s, "/v1/health")
                assert read_response(s)[0] == 200
        finally:
            for s in sockets:
                s.close()


def test_a_node_ignores_sigpipe():
    """Writes to sockets whose peer left (Kafka sendfile, HTTP clients) must
    fail with EPIPE, not kill the node (cpp-httplib's server used to set this
    as a side effect; a frozen-and-resumed cluster showed the cost)."""
    with Workdir() as w:
        node = w.node().start()
        with open(f"/proc/{node.proc.pid}/status") as f:
            ignored = next(int(l.split()[1], 16) for l in f if l.startswith("SigIgn:"))
        assert ignored & (1 << (13 - 1)), f"SIGPIPE not ignored (SigIgn {ignored:x})"


def test_idle_connections_time_out_but_long_polls_do_not():
    with Workdir() as w:
        node = w.node(extra=["--http.idle.timeout.ms=500"]).start()
        create_topic(node, "t", 1)
        with connect(node) as s:
            send_get(s, "/v1/health")
            assert read_response(s)[0] == 200
            assert closed_by_server(s, 5), "an idle connection was not closed"
        # A long poll of 2 s on a 0.5 s idle timeout is answered, on a
        # connection that then stays usable.
        with connect(node) as s:
            start = time.monotonic()
            send_get(s, "/v1/topics/t/partitions/0/records?offset=latest&timeout_ms=2000")
            status, _, body = read_response(s)
            assert status == 200, body
            assert time.monotonic() - start >= 1.5
            send_get(s, "/v1/health")
            assert read_response(s)[0] == 200


def test_connections_over_the_cap_get_503():
    with Workdir() as w:
        node = w.node(extra=["--http.max.connections=5"]).start()
        held = []
        try:
            # Earlier connections (the start-up health check's) close asynchronously.
            def fill():
                for s in held:
                    s.close()
                held.clear()
                for _ in range(5):
                    s = connect(node)
                    send_get(s, "/v1/health")
                    held.append(s)
                return all(read_response(s)[0] == 200 for s in held)
            wait_until(fill, 10, interval_s=0.2, what="5 connections served")
            with connect(node) as extra:
                send_get(extra, "/v1/health")
                status, headers, body = read_response(extra)
                assert status == 503, status
                assert json.loads(body)["error"]["code"] == "too_many_connections"
                assert headers.get("connection") == "close"
                assert closed_by_server(extra, 5)
            # A cluster peer's connection is not counted: /internal/ is served.
            with connect(node) as peer:
                send_get(peer, "/internal/raft/joined/1")
                assert read_response(peer)[0] == 200
            # Once one closes, a new client is served again.
            held.pop().close()

            def served():
                with connect(node) as s:
                    send_get(s, "/v1/health")
                    return read_response(s)[0] == 200
            wait_until(served, 10, what="a client served after one left")
        finally:
            for s in held:
                s.close()


def test_malformed_requests_get_clear_errors():
    with Workdir() as w:
        node = w.node().start()
        cases = [
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /v1/health HTTP/9.9\r\n\r\n", 505),
            (b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
            (b"POST /v1/topics HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
            (b"POST /v1/topics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
            (b"POST /v1/topics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            (b"GET /v1/%zz HTTP/1.1\r\n\r\n", 400),
        ]
        for raw, expected in cases:
            status, body = exchange(node, raw)
            assert status == expected, (raw[:40], status, body)
            assert body["error"]["code"] and body["error"]["message"]
        # A body shorter than its Content-Length, then the client half-closes.
        with connect(node) as s:
            s.sendall(b"POST /v1/topics HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"name\":")
            s.shutdown(socket.SHUT_WR)
            status, _, body = read_response(s)
            assert status == 400, body
        # A head cut short by the client's close.
        with connect(node) as s:
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost")
            s.shutdown(socket.SHUT_WR)
            assert read_response(s)[0] == 400
        assert node.alive() and node.get("/v1/health")[0] == 200


def test_rest_storm_does_not_delay_raft():
    """Hundreds of long polls fill every node's REST lane; meanwhile the
    leader is killed, a new one is elected and a write commits through it."""
    with Workdir() as w:
        nodes, _ = voter_nodes(w, 3)
        start_all(nodes)
        create_topic(nodes[0], "slow", 3)

        def leader():
            status, view = nodes[0].get("/v1/cluster", timeout_s=2)
            return status == 200 and view.get("leader_id")
        leader_id = wait_until(leader, 20, what="a leader")
        storm = []
        for node in nodes:
            for _ in range(150):
                s = connect(node)
                send_get(s, "/v1/topics/slow/partitions/0/records?offset=latest&timeout_ms=20000")
                storm.append(s)
        try:
            time.sleep(1)  # the lanes fill
            nodes[leader_id - 1].kill()
            survivors = [n for n in nodes if n.node_id != leader_id]
            start = time.monotonic()

            def proposed():
                status, body = survivors[0].post("/internal/raft/propose", b"storm-write",
                                                 timeout_s=3)
                return status == 200 and body["index"]
            wait_until(proposed, 12, interval_s=0.1,
                       what="a write committed by a new leader during the storm")
            print(f"   new leader and a committed write {time.monotonic() - start:.1f}s "
                  f"after the kill, {len(storm)} slow REST requests in flight")
        finally:
            for s in storm:
                s.close()


if __name__ == "__main__":
    run([test_a_node_ignores_sigpipe,
         test_thousands_of_idle_connections_cost_no_thread,
         test_idle_connections_time_out_but_long_polls_do_not,
         test_connections_over_the_cap_get_503,
         test_malformed_requests_get_clear_errors,
         test_rest_storm_does_not_delay_raft])
