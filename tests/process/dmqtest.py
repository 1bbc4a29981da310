"""Helpers for process tests: real dmq processes on 127.0.0.1, free ports,
temporary data dirs, bounded waits. Used by the test_*.py scripts."""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BINARY = os.environ.get("DMQ_BINARY", os.path.join(os.path.dirname(__file__), "../../build/dmq"))
# The same node with the test-only hooks (power-off endpoint) compiled in;
# nodes started with DMQ_TEST_FAULT_FS=1 run it.
TEST_HOOKS_BINARY = os.path.join(os.path.dirname(BINARY), "dmq-test-hooks")
SOURCE_DIR = os.environ.get("DMQ_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))

_reserved_ports = set()


# Listening ports come from below the kernel's ephemeral range (32768-60999
# here), picked at random: the kernel hands out ephemeral ports in sequence,
# so tests running side by side that asked it for "any free port" often got
# the same one (seen as "Address already in use"), and a node's port could
# also be taken meanwhile by some client's outgoing connection.
_PORT_RANGE = (20000, 32000)
_random_ports = random.Random(os.getpid() ^ time.time_ns())


def free_port():
    """A port that was free a moment ago and that this test has not handed out."""
    for _ in range(1000):
        port = _random_ports.randrange(*_PORT_RANGE)
        if port in _reserved_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _reserved_ports.add(port)
        return port
    raise RuntimeError("no free port")


def recv_exact(sock, n):
    """Exactly n bytes from a socket (ConnectionError when it closes first)."""
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def read_kafka_frame(sock):
    """One size-prefixed Kafka frame, without its size."""
    size = int.from_bytes(recv_exact(sock, 4), "big", signed=True)
    return recv_exact(sock, size)


def wait_until(predicate, timeout_s, interval_s=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; bounded by time."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the node may not be up yet
            last_error = e
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last error: {last_error})")


def http(method, url, body=None, timeout_s=5, context=None, headers=None):
    """Returns (status, parsed JSON or text). `context`: an ssl.SSLContext for
    https; `headers`: extra request headers."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            status, raw, ctype = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    text = raw.decode()
    if "json" in ctype:
        return status, json.loads(text)
    return status, text


class Node:
    """One dmq process. Output goes to <workdir>/node-<id>.log."""

    def __init__(self, workdir, node_id=1, role="combined", controllers=None, extra=None,
                 http_port=None, kafka_port=None):
        self.node_id = node_id
        self.role = role
        self.http_port = http_port or free_port()
        self.kafka_port = kafka_port or free_port()
        self.data_dir = os.path.join(workdir, f"node-{node_id}")
        self.log_path = os.path.join(workdir, f"node-{node_id}.log")
        self.controllers = controllers
        self.extra = list(extra or [])
        self.proc = None
        self.ssl_context = None  # set for a node serving HTTPS

    @property
    def url(self):
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.http_port}"

    @property
    def kafka(self):
        return f"127.0.0.1:{self.kafka_port}"

    def args(self):
        binary = TEST_HOOKS_BINARY if os.environ.get("DMQ_TEST_FAULT_FS") == "1" else BINARY
        a = [binary, f"--role={self.role}", f"--node-id={self.node_id}",
             f"--data-dir={self.data_dir}", f"--http-listen=127.0.0.1:{self.http_port}",
             f"--kafka-listen=127.0.0.1:{self.kafka_port}"]
        if self.controllers:
            a.append(f"--controllers={self.controllers}")
        return a + self.extra

    def start(self, wait=True):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            wait_until(lambda: self.alive() and self.get("/v1/health", timeout_s=1)[0] == 200,
                       15, what=f"node {self.node_id} health")
        return self

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"node {self.node_id} exited with {self.proc.returncode if self.proc else None}:\n"
                                 + self.tail_log())
        return True

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout_s=15):
        """Stops the process by PID; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"node {self.node_id} did not stop within {timeout_s}s")

    def kill(self):
        return self.stop(signal.SIGKILL)

    def tail_log(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def get(self, path, **kw):
        return http("GET", self.url + path, context=self.ssl_context, **kw)

    def post(self, path, body=None, **kw):
        return http("POST", self.url + path, body, context=self.ssl_context, **kw)

    def delete(self, path, **kw):
        return http("DELETE", self.url + path, context=self.ssl_context, **kw)


class Workdir:
    """A temp dir removed on success, kept (and printed) on failure."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="dmq-test-")
        self.nodes = []
        return self

    def node(self, **kw):
        n = Node(self.path, **kw)
        self.nodes.append(n)
        return n

    def __exit__(self, exc_type, exc, tb):
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait()
        if exc_type is None:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print(f"test failed; logs kept in {self.path}", file=sys.stderr)
            for n in self.nodes:
                print(f"--- node {n.node_id} log tail ---\n{n.tail_log()}", file=sys.stderr)
        return False


def voter_nodes(w, count, role="combined", extra=None):
    """`count` voters with node ids 1..count on free ports, not started;
    returns (nodes, the --controllers value naming them)."""
    ports = [free_port() for _ in range(count)]
    voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ports))
    nodes = [w.node(node_id=i + 1, role=role, controllers=voters, http_port=ports[i], extra=extra)
             for i in range(count)]
    return nodes, voters


def start_all(nodes, timeout_s=20):
    """Starts the nodes together (a quorum needs its peers), then waits until
    each answers /v1/health."""
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        wait_until(lambda: n.alive() and n.get("/v1/health", timeout_s=1)[0] == 200, timeout_s,
                   what=f"node {n.node_id} up")


def run(tests):
    """Runs test functions in order; exits non-zero on the first failure."""
    for test in tests:
        start = time.monotonic()
        print(f"== {test.__name__}", flush=True)
        test()
        print(f"   ok ({time.monotonic() - start:.1f}s)", flush=True)


def create_one_partition_topic(node, name, configs=None):
    """Creates a 1-partition, 1-replica topic once the node's broker
    registered (REST answers not_enough_brokers before), and waits for its
    leader."""
    body = {"name": name, "partitions": 1, "replication_factor": 1, "configs": configs or {}}
    wait_until(lambda: node.post("/v1/topics", body)[0] in (200, 201), 20, interval_s=0.2,
               what=f"topic {name} created")
    wait_until(lambda: all(p["leader"] >= 0 for p in node.get(f"/v1/topics/{name}")[1]["partitions"]),
               20, what=f"leader of {name}")


def check_acknowledged(acked, found):
    """Checks delivery reports against what a consumer read.

    `acked`: {record id: (partition, offset)} from successful delivery
    reports; the offset is -1 or None when the report carried none (librdkafka
    acknowledges a message implicitly after a retriable error on an earlier
    request). `found`: {record id: [(partition, offset), ...]} where it was read.
    A report with an offset must name a place the record was read at; one
    without is checked for presence only. Returns (problems, counts)."""
    with_offset = {n: at for n, at in acked.items() if at[1] is not None and at[1] >= 0}
    missing = sorted(n for n in acked if not found.get(n))
    moved = [(n, at, found[n]) for n, at in with_offset.items()
             if found.get(n) and tuple(at) not in found[n]]
    counts = {"acknowledged": len(acked), "with_offset": len(with_offset),
              "without_offset": len(acked) - len(with_offset), "missing": len(missing),
              "moved": len(moved)}
    problems = []
    if missing:
        problems.append(f"{len(missing)} acknowledged records missing, first {missing[:10]}")
    if moved:
        problems.append(f"{len(moved)} acknowledged at one (partition, offset), read elsewhere "
                        f"(id, acked, read): {moved[:5]}")
    return problems, counts


def power_off(node):
    """POST /internal/test/power-off (a node started with DMQ_TEST_FAULT_FS=1):
    the node drops every write not yet fsynced and dies as if by SIGKILL."""
    try:
        status, body = node.post("/internal/test/power-off", timeout_s=5)
        assert status in (200, 202), f"power-off answered {status}: {body}"
    except AssertionError:
        raise
    except Exception:
        pass  # the process may die before it answers
    code = node.proc.wait(timeout=10)
    assert code in (-signal.SIGKILL, 137), f"node {node.node_id} exited with {code} after power-off"
