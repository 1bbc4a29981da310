#!/usr/bin/python3
"""Produce/consume/latency benchmark of DMQ's Kafka data plane against Redis
Streams and NATS JetStream, with the disk's sequential write bandwidth as the
physical limit (issue 5, item 7).

Load generators: librdkafka (confluent_kafka 2.0.2, and kcat for a C-only
cross-check) for DMQ; redis-py with pipelining for Redis; a minimal NATS text
protocol client with a window of outstanding JetStream acks for NATS. Every
load generator runs in its own process so its CPU time can be set against the
server's (read from /proc/<pid>/stat).

Usage: bench/kafka_bench.py [--dmq build/dmq] [--n100 1000000] [--n1k 500000]
                            [--rate 5000] [--lat-secs 10] [--json out.json]
(see bench/README.md for the method and the other options)
"""
import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rest_request(port, method, path, body=None, timeout=30):
    """A JSON call to a node's REST API on 127.0.0.1; the parsed answer."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


@contextlib.contextmanager
def combined_node(binary, workdir):
    """One `--role=combined` node on free ports with its data in workdir,
    yielded as (http_port, kafka_port) once its broker is registered; stopped
    with SIGTERM on the way out."""
    http_port, kafka_port = free_port(), free_port()
    log = open(os.path.join(workdir, "node.log"), "wb")
    node = subprocess.Popen([binary, "--role=combined", f"--data-dir={workdir}/data",
                             f"--http-listen=127.0.0.1:{http_port}",
                             f"--kafka-listen=127.0.0.1:{kafka_port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: any(b["status"] == "alive"
                               for b in rest_request(http_port, "GET", "/v1/brokers")["brokers"]),
                   20, "the broker")
        yield http_port, kafka_port
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=30)
        log.close()


def proc_cpu_s(pid):
    """utime+stime of a process in seconds (fields 14, 15 of /proc/pid/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def payload(size):
    # Incompressible-ish but cheap: compression is off everywhere anyway.
    return (os.urandom(size // 2).hex() + "x")[:size].encode()


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


class Server:
    """A child server process in its own process group; stop() is bounded."""

    def __init__(self, name, argv, workdir):
        self.name = name
        self.log = open(os.path.join(workdir, name + ".log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def cpu(self):
        return proc_cpu_s(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


# ---------------------------------------------------------------- workers ---
# Each worker runs in a child process and returns a dict through a queue:
# n, secs (first send to last ack), cpu (the worker's own CPU seconds).

def _self_cpu():
    t = os.times()
    return t.user + t.system


def w_kafka_produce(q, bootstrap, topic, n, size, acks):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
                  "compression.type": "none", "queue.buffering.max.messages": 1000000,
                  "queue.buffering.max.kbytes": 1048576})
    body = payload(size)
    errors = [0]

    def cb(err, _msg):
        if err is not None:
            errors[0] += 1
    # Warm-up: a first produce() to a topic librdkafka has no metadata for
    # waits for its once-a-second topic scan (up to 1 s of a run this short).
    p.list_topics(topic, timeout=10)
    c0 = _self_cpu()
    t0 = time.monotonic()
    wall0 = time.time()
    for _ in range(n):
        while True:
            try:
                p.produce(topic, body, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.001)
        p.poll(0)
    left = p.flush(60)
    secs = time.monotonic() - t0
    q.put({"n": n - left - errors[0], "secs": secs, "cpu": _self_cpu() - c0, "errors": errors[0] + left,
           "wall": (wall0, time.time())})


def w_kafka_consume(q, bootstrap, topic, n):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-" + topic,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    # assign, not subscribe: measures the fetch path, not group coordination.
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = 0
    nbytes = 0
    # The clock starts when the first batch is in: connecting, metadata and the
    # first ListOffsets take ~0.5 s here, as long as the whole measured read.
    first = c.consume(1000, 30.0)
    c0 = _self_cpu()
    t0 = time.monotonic()
    deadline = t0 + 60
    while got < n - len(first) and time.monotonic() < deadline:
        for m in c.consume(min(10000, n - len(first) - got), 1.0):
            if m.error():
                continue
            got += 1
            nbytes += len(m.value())
    secs = time.monotonic() - t0
    c.close()
    q.put({"n": got, "secs": secs, "cpu": _self_cpu() - c0, "bytes": nbytes})


def quiet_gc():
    """Latency clients run without Python's cyclic GC: a full collection in a
    consumer that has kept ~5,000 results stalls it for ~5 ms, about 0.9 s
    into every run, which showed up as every system's p99."""
    import gc
    gc.disable()


def paced(rate, secs, send):
    """Calls send(k) to keep `rate` messages/s for `secs`; send embeds the time."""
    total = int(rate * secs)
    sent = 0
    t0 = time.monotonic()
    while sent < total:
        due = min(total, int((time.monotonic() - t0) * rate) + 1)
        if due > sent:
            send(due - sent)
            sent = due
        else:
            time.sleep(0.0005)
    return sent


def stamp(size):
    head = str(time.time_ns()).encode()
    return head + b" " + b"x" * max(0, size - len(head) - 1)


def rdkafka_debug(conf, name):
    """With --lat-debug DIR: librdkafka debug logs of a latency client in DIR/name.log."""
    if not LAT_DEBUG_DIR:
        return conf
    import logging
    logger = logging.getLogger(name)
    handler = logging.FileHandler(os.path.join(LAT_DEBUG_DIR, name + ".log"))
    handler.setFormatter(logging.Formatter("%(created).6f %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return dict(conf, debug="broker,fetch,msg,protocol", logger=logger)


def w_kafka_lat_produce(q, bootstrap, topic, rate, secs, size):
    quiet_gc()
    from confluent_kafka import Producer
    p = Producer(rdkafka_debug({"bootstrap.servers": bootstrap, "acks": "all",
                                "linger.ms": LAT_LINGER_MS, "compression.type": "none",
                                "socket.nagle.disable": True},
                               f"{topic}-producer"))
    # Warm-up: know the partition's leader before the clock starts. A first
    # produce() to a topic librdkafka has no metadata for can wait for its
    # 1 s topic scan (seen: the first messages delivered ~1.02 s late, the
    # stall of 3 in 14 runs); start-up is not end-to-end latency.
    p.list_topics(topic, timeout=10)

    def send(k):
        for _ in range(k):
            p.produce(topic, stamp(size))
        p.poll(0)
    n = paced(rate, secs, send)
    p.flush(30)
    q.put({"sent": n})


def w_kafka_lat_consume(q, bootstrap, topic, fetch_wait_ms, n, ready):
    quiet_gc()
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(rdkafka_debug({"bootstrap.servers": bootstrap, "group.id": "lat-" + topic,
                                "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                "fetch.wait.max.ms": fetch_wait_ms, "socket.nagle.disable": True},
                               f"{topic}-consumer"))
    # assign, not subscribe: measures the fetch path, not group coordination.
    # Warm-up, as for the producer: metadata, the leader's connection and the
    # start offset (a ListOffsets round trip) before the producer starts, so
    # the fetcher is running when the first message is sent.
    c.list_topics(topic, timeout=10)
    low, _high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.assign([TopicPartition(topic, 0, low)])
    lats = []
    worst = (0.0, -1, 0)  # latency ms, offset, send time (ns since the epoch)
    c.consume(1, 0.2)  # nothing to read yet: lets the first Fetch go out
    deadline = time.monotonic() + 60
    ready.set()
    while len(lats) < n and time.monotonic() < deadline:
        # poll returns as soon as one message is there; consume(k, t) would wait
        # for k messages or t seconds and add that wait to every latency.
        m = c.poll(0.2)
        if m is not None and not m.error():
            sent = int(m.value().split(b" ", 1)[0])
            lats.append((time.time_ns() - sent) / 1e6)
            if lats[-1] > worst[0]:
                worst = (lats[-1], m.offset(), sent)
    c.close()
    q.put({"lats": lats, "worst": worst})


# Redis: redis-py pipelines of XADDs, the way its normal client batches.
REDIS_PIPE = 100


def w_redis_produce(q, port, n, size):
    import redis
    r = redis.Redis(port=port)
    body = payload(size)
    c0 = _self_cpu()
    t0 = time.monotonic()
    done = 0
    while done < n:
        k = min(REDIS_PIPE, n - done)
        pipe = r.pipeline(transaction=False)
        for _ in range(k):
            pipe.xadd("bench", {"v": body})
        pipe.execute()
        done += k
    q.put({"n": done, "secs": time.monotonic() - t0, "cpu": _self_cpu() - c0})


def w_redis_consume(q, port, n):
    import redis
    r = redis.Redis(port=port)
    got = 0
    nbytes = 0
    last = "-"
    c0 = _self_cpu()
    t0 = time.monotonic()
    while got < n:
        rows = r.xrange("bench", min=last, max="+", count=10000)
        if last != "-" and rows and rows[0][0] == last_id:
            rows = rows[1:]
        if not rows:
            break
        for rid, fields in rows:
            nbytes += len(fields[b"v"])
        got += len(rows)
        last_id = rows[-1][0]
        last = last_id
    q.put({"n": got, "secs": time.monotonic() - t0, "cpu": _self_cpu() - c0, "bytes": nbytes})


def w_redis_lat_produce(q, port, rate, secs, size):
    quiet_gc()
    import redis
    r = redis.Redis(port=port)

    def send(k):
        pipe = r.pipeline(transaction=False)
        for _ in range(k):
            pipe.xadd("lat", {"v": stamp(size)})
        pipe.execute()
    q.put({"sent": paced(rate, secs, send)})


def w_redis_lat_consume(q, port, n, ready):
    quiet_gc()
    import redis
    r = redis.Redis(port=port)
    lats = []
    last = "0-0"
    ready.set()
    deadline = time.monotonic() + 60
    while len(lats) < n and time.monotonic() < deadline:
        res = r.xread({"lat": last}, count=1000, block=200)
        for _stream, rows in res or []:
            for rid, fields in rows:
                lats.append((time.time_ns() - int(fields[b"v"].split(b" ", 1)[0])) / 1e6)
                last = rid
    q.put({"lats": lats})


# NATS: a minimal text-protocol client (no Debian package for the Python one).
class Nats:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.out = []
        self.readline()  # INFO
        self.s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nPING\r\n')
        while True:
            line = self.readline()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise RuntimeError(line)

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise RuntimeError("nats closed")
        self.buf += d

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def readn(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d

    def next_msg(self):
        """Returns (subject, reply, headers, payload); answers PINGs."""
        while True:
            line = self.readline()
            if line.startswith(b"MSG "):
                parts = line.split()
                reply = parts[3] if len(parts) == 5 else None
                return parts[1], reply, b"", self.readn(int(parts[-1]))
            if line.startswith(b"HMSG "):
                parts = line.split()
                reply = parts[3] if len(parts) == 6 else None
                d = self.readn(int(parts[-1]))
                h = int(parts[-2])
                return parts[1], reply, d[:h], d[h:]
            if line == b"PING":
                self.s.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise RuntimeError(line)

    def pub(self, subj, data, reply=None):
        r = b" " + reply if reply else b""
        self.out.append(b"PUB %s%s %d\r\n%s\r\n" % (subj, r, len(data), data))

    def flush(self):
        if self.out:
            self.s.sendall(b"".join(self.out))
            self.out = []

    def sub(self, subj, sid):
        self.s.sendall(b"SUB %s %d\r\n" % (subj, sid))

    def request(self, subj, obj):
        self.sub(b"_INBOX.req", 99)
        self.pub(subj, json.dumps(obj).encode(), b"_INBOX.req")
        self.flush()
        _s, _r, _h, d = self.next_msg()
        self.s.sendall(b"UNSUB 99\r\n")
        res = json.loads(d)
        if "error" in res:
            raise RuntimeError(f"{subj}: {res['error']}")
        return res


NATS_WINDOW = 1000  # outstanding JetStream acks, like nats.py's async publish


def nats_publish(nc, subj, n, make_body, pace=None):
    """Publishes n messages with at most NATS_WINDOW un-acked; returns acks."""
    nc.sub(b"_INBOX.ack.*", 1)
    acked = 0
    sent = 0
    while acked < n:
        burst = 0
        while sent < n and sent - acked < NATS_WINDOW and burst < 100:
            nc.pub(subj, make_body(), b"_INBOX.ack.%d" % sent)
            sent += 1
            burst += 1
        nc.flush()
        if sent - acked >= NATS_WINDOW or sent == n:
            _s, _r, _h, d = nc.next_msg()
            if b"error" in d:
                raise RuntimeError(d)
            acked += 1
            # Drain any further acks already buffered without blocking.
            while b"\r\n" in nc.buf and acked < n:
                _s, _r, _h, d = nc.next_msg()
                acked += 1
    return acked


def w_nats_produce(q, port, subj, n, size):
    nc = Nats(port)
    body = payload(size)
    c0 = _self_cpu()
    t0 = time.monotonic()
    acked = nats_publish(nc, subj.encode(), n, lambda: body)
    q.put({"n": acked, "secs": time.monotonic() - t0, "cpu": _self_cpu() - c0})


def w_nats_consume(q, port, stream, n):
    """Pull consumer, batches of 1000, ack policy none."""
    nc = Nats(port)
    info = nc.request(b"$JS.API.CONSUMER.CREATE." + stream.encode(),
                      {"stream_name": stream, "config": {"ack_policy": "none",
                                                         "deliver_policy": "all",
                                                         "inactive_threshold": 60000000000}})
    name = info["name"].encode()
    nc.sub(b"_INBOX.pull", 2)
    got = 0
    nbytes = 0
    c0 = _self_cpu()
    t0 = time.monotonic()
    next_subj = b"$JS.API.CONSUMER.MSG.NEXT." + stream.encode() + b"." + name
    while got < n:
        batch = min(1000, n - got)
        nc.pub(next_subj, json.dumps({"batch": batch, "expires": 2000000000}).encode(), b"_INBOX.pull")
        nc.flush()
        k = 0
        while k < batch:
            _s, _r, h, d = nc.next_msg()
            if h and not d:  # a status message (e.g. 408 request timeout)
                raise RuntimeError(h)
            k += 1
            nbytes += len(d)
        got += k
    q.put({"n": got, "secs": time.monotonic() - t0, "cpu": _self_cpu() - c0, "bytes": nbytes})


def w_nats_lat_produce(q, port, rate, secs, size):
    quiet_gc()
    nc = Nats(port)
    nc.sub(b"_INBOX.ack.*", 1)
    state = {"sent": 0, "acked": 0}

    def send(k):
        for _ in range(k):
            nc.pub(b"lat", stamp(size), b"_INBOX.ack.%d" % state["sent"])
            state["sent"] += 1
        nc.flush()
        nc.s.setblocking(False)
        try:
            while True:
                nc._fill()
        except (BlockingIOError, RuntimeError):
            pass
        nc.s.setblocking(True)
        state["acked"] += nc.buf.count(b"MSG ")
        nc.buf = b""
    n = paced(rate, secs, send)
    q.put({"sent": n})


def w_nats_lat_consume(q, port, n, ready):
    quiet_gc()
    """Push consumer on the LAT stream, ack policy none, delivered to an inbox."""
    nc = Nats(port)
    nc.sub(b"_INBOX.lat", 3)
    nc.request(b"$JS.API.CONSUMER.CREATE.LAT",
               {"stream_name": "LAT", "config": {"ack_policy": "none", "deliver_policy": "new",
                                                 "deliver_subject": "_INBOX.lat"}})
    ready.set()
    lats = []
    nc.s.settimeout(5)
    try:
        while len(lats) < n:
            _s, _r, h, d = nc.next_msg()
            if d:
                lats.append((time.time_ns() - int(d.split(b" ", 1)[0])) / 1e6)
    except socket.timeout:
        pass
    q.put({"lats": lats})


# ----------------------------------------------------------------- runner ---

def drop_page_cache():
    """Frees the clean page cache (root only; otherwise a no-op). On this VM a
    page the guest has never touched costs a trip to the hypervisor on first
    use: a run whose writes land in fresh page cache spent 75% of the
    server's CPU in the kernel's copy into it (copy_folio_from_iter_atomic)
    and went at half the speed of a run that reused freed pages. Dropping the
    cache before each run makes every run reuse the same warm memory."""
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def run_worker(fn, *args, server=None, timeout=120, fresh_cache=True):
    """Runs fn in a child process; adds the server's CPU seconds over the run."""
    # Dirty pages left by the previous run (or system) would be written back
    # during this one and compete for the disk: start each run clean.
    os.sync()
    # Not before a latency run: it measures a server in its steady state, and
    # right after a drop its first reads of metadata pages (LMDB, mmapped) go
    # to a disk that is busy with the run's fsyncs.
    if fresh_cache:
        drop_page_cache()
    q = mp.Queue()
    p = mp.Process(target=fn, args=(q,) + args)
    s0 = server.cpu() if server else 0.0
    p.start()
    try:
        res = q.get(timeout=timeout)
    finally:
        p.join(10)
        if p.is_alive():
            p.kill()
    if server:
        res["server_cpu"] = server.cpu() - s0
    return res


LAT_SIZE = 100  # bytes per latency-test message (timestamp + padding)
LAT_LINGER_MS = 0  # the latency producer's linger.ms (--lat-linger-ms); adds to p50
LAT_DEBUG_DIR = None  # --lat-debug: librdkafka debug logs of the latency clients
# --sched-sample: off by default because it disturbs what it measures. Reading
# /proc/<pid>/task/*/schedstat of every server thread every 100 ms costs ~10 ms
# of CPU per sample against a server with hundreds of (idle) HTTP worker
# threads; with it on, DMQ's p99 at 5,000 msg/s was 3.3-3.9 ms in bursts
# every ~115 ms, and 0.48 ms with it off.
SCHED_SAMPLE = False


class RunqueueSampler:
    """Samples how long each thread of a process waited for a CPU
    (/proc/<pid>/task/*/schedstat, field 2) every 100 ms in a background thread.
    On a shared machine this is what explains a latency stall that no syscall,
    log line or client back-off does: the server was runnable but not running."""

    def __init__(self, pid):
        self.pid = pid
        self.worst_ms = 0.0  # the longest wait of one thread within one sample
        self.total_ms = 0.0  # summed over threads and samples
        self._stop = False
        self._thread = None

    def _read(self):
        waits = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                    waits[tid] = int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
        return waits

    def _run(self):
        prev = self._read()
        while not self._stop:
            time.sleep(0.1)
            try:
                cur = self._read()
            except OSError:
                return
            deltas = [(cur[t] - prev[t]) / 1e6 for t in cur if t in prev]
            if deltas:
                self.worst_ms = max(self.worst_ms, max(deltas))
                self.total_ms += sum(deltas)
            prev = cur

    def __enter__(self):
        import threading
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()


def run_latency(prod, prod_args, cons, cons_args, rate, secs, server):
    q_c = mp.Queue()
    ready = mp.Event()
    n = int(rate * secs)
    c = mp.Process(target=cons, args=(q_c,) + cons_args + (n, ready))
    c.start()
    if not ready.wait(30):
        c.kill()
        raise RuntimeError("latency consumer not ready")
    s0 = server.cpu()
    sampler = RunqueueSampler(server.proc.pid) if SCHED_SAMPLE else contextlib.nullcontext()
    with sampler as rq:
        res_p = run_worker(prod, *prod_args, rate, secs, LAT_SIZE, timeout=secs + 60,
                           fresh_cache=False)
        res = q_c.get(timeout=90)
    c.join(10)
    lats = sorted(res["lats"])
    if res.get("worst"):
        w = res["worst"]
        print(f"  worst latency {w[0]:.1f} ms: offset {w[1]}, sent at {w[2] / 1e9:.6f}",
              file=sys.stderr)
    return {"sent": res_p["sent"], "received": len(lats), "p50": pct(lats, 50),
            "p99": pct(lats, 99), "max": lats[-1] if lats else float("nan"),
            "server_cpu": server.cpu() - s0,
            "rq_worst_ms": rq.worst_ms if SCHED_SAMPLE else float("nan"),
            "load": os.getloadavg()[0]}


def row(system, test, size, res, durable):
    n = res["n"]
    secs = max(res["secs"], 1e-9)
    nbytes = res.get("bytes", n * size)
    print(f"  {system} {test} {size} B: {n / secs:,.0f} msgs/s", file=sys.stderr)
    return {"system": system, "test": test, "size": size, "n": n, "secs": secs,
            "msgs_s": n / secs, "mb_s": nbytes / secs / 1e6,
            "gen_cpu_pct": 100 * res["cpu"] / secs,
            "server_cpu_pct": 100 * res.get("server_cpu", 0) / secs, "durable": durable}


class Dmq:
    def __init__(self, binary, workdir, flush):
        self.http = free_port()
        self.kafka = free_port()
        d = os.path.join(workdir, f"dmq-flush-{flush}")
        self.server = Server(f"dmq-flush-{flush}", [
            binary, "--role=combined", f"--data-dir={d}", "--log-level=warn",
            f"--http-listen=127.0.0.1:{self.http}", f"--kafka-listen=127.0.0.1:{self.kafka}",
            f"--log.flush.on.ack={'true' if flush else 'false'}"], workdir)
        wait_until(lambda: b'"alive"' in self.get("/v1/brokers"), 30, "DMQ broker alive")
        self.bootstrap = f"127.0.0.1:{self.kafka}"

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}", timeout=5) as r:
            return r.read()

    def create_topic(self, name):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http}/v1/topics", method="POST",
            data=json.dumps({"name": name, "partitions": 1, "replication_factor": 1}).encode())
        urllib.request.urlopen(req, timeout=10).read()

    COMMIT_METRICS = ("dmq_group_commit_rounds_total", "dmq_group_commit_requests_total",
                      "dmq_group_commit_records_total", "dmq_log_flush_seconds_sum",
                      "dmq_log_flush_seconds_count")

    def commits(self):
        """Group commit counters from /metrics (rounds, requests, records, flush time)."""
        out = dict.fromkeys(self.COMMIT_METRICS, 0.0)
        for line in self.get("/metrics").decode().splitlines():
            name = line.split(" ", 1)[0]
            if name in out:
                out[name] = float(line.split()[-1])
        return out


def bench_dmq(args, workdir, flush, rows, lats, notes):
    name = f"DMQ flush.on.ack={'true' if flush else 'false'}"
    dmq = Dmq(args.dmq, workdir, flush)
    try:
        for size, n in ((100, args.n100), (1024, args.n1k)):
            for acks in ("1", "all"):
                topic = f"b{size}a{acks}"
                dmq.create_topic(topic)
                c0 = dmq.commits()
                r = run_worker(w_kafka_produce, dmq.bootstrap, topic, n, size, acks,
                               server=dmq.server)
                c1 = dmq.commits()
                rows.append(row(name, f"produce acks={acks}", size, r, flush))
                if flush:
                    notes.append(commit_note(f"{name} produce {size} B acks={acks}", c0, c1,
                                             size, r["secs"]))
            r = run_worker(w_kafka_consume, dmq.bootstrap, f"b{size}a1", n, server=dmq.server)
            rows.append(row(name, "consume", size, r, flush))
        # One Python producer process is CPU-bound near 100 MB/s: a second one
        # shows whether the broker or the generator was the ceiling.
        topic = "b1024p2"
        dmq.create_topic(topic)
        c0 = dmq.commits()
        r = kafka_produce_procs(dmq.bootstrap, topic, args.n1k * 2, 1024, "all", 2, dmq.server)
        c1 = dmq.commits()
        rows.append(row(name, "produce acks=all, 2 producer processes", 1024, r, flush))
        if flush:
            notes.append(commit_note(f"{name} produce 1024 B acks=all, 2 processes", c0, c1, 1024,
                                     r["secs"]))
        if args.kcat:
            for size, n in ((100, args.n100), (1024, args.n1k)):
                rows.append(kcat_produce(dmq, workdir, size, n))
        loader = build_rdkafka_load(workdir)
        if loader:
            for size, n in ((100, args.n100), (1024, args.n1k)):
                rows.append(rdkafka_c_produce(dmq, loader, size, n))
        # librdkafka's default fetch.wait.max.ms=500, then 10 ms: the second shows
        # the broker's own path if Fetch long polls are not woken by new data.
        for wait_ms in (500, 10):
            topic = f"lat{wait_ms}"
            dmq.create_topic(topic)
            res = run_latency(w_kafka_lat_produce, (dmq.bootstrap, topic), w_kafka_lat_consume,
                              (dmq.bootstrap, topic, wait_ms), args.rate, args.lat_secs, dmq.server)
            lats.append(dict(system=f"{name}, fetch.wait.max.ms={wait_ms}", **res))
    finally:
        dmq.server.stop()


def commit_note(what, c0, c1, size, secs):
    """What one group commit covered and cost during a produce run."""
    d = {k: c1[k] - c0[k] for k in c1}
    rounds = d["dmq_group_commit_rounds_total"]
    if not rounds:
        return f"{what}: no group commits"
    flush_s = d["dmq_log_flush_seconds_sum"]
    return (f"{what}: {rounds:.0f} group commits, each {d['dmq_group_commit_requests_total'] / rounds:.1f} "
            f"produce requests and {d['dmq_group_commit_records_total'] * size / rounds / 1e6:.2f} MB, "
            f"fsync {1000 * flush_s / max(1, d['dmq_log_flush_seconds_count']):.1f} ms; "
            f"the flusher was busy {100 * flush_s / secs:.0f}% of the run")


def kafka_produce_procs(bootstrap, topic, n, size, acks, procs, server):
    """`procs` librdkafka producer processes in parallel, n messages in all."""
    q = mp.Queue()
    ps = [mp.Process(target=w_kafka_produce, args=(q, bootstrap, topic, n // procs, size, acks))
          for _ in range(procs)]
    s0 = server.cpu()
    for p in ps:
        p.start()
    try:
        res = [q.get(timeout=120) for _ in ps]
    finally:
        for p in ps:
            p.join(10)
    # From the first send of any process to the last ack of any: process
    # start-up (fork, import, connect) is not the broker's throughput.
    secs = max(r["wall"][1] for r in res) - min(r["wall"][0] for r in res)
    return {"n": sum(r["n"] for r in res), "secs": secs, "cpu": sum(r["cpu"] for r in res),
            "server_cpu": server.cpu() - s0}


def kcat_produce(dmq, workdir, size, n):
    """librdkafka's C path end to end: kcat -P reads newline-separated messages."""
    path = os.path.join(workdir, f"kcat-{size}.txt")
    line = payload(size - 1) + b"\n"
    with open(path, "wb") as f:
        f.write(line * n)
    topic = f"kcat{size}"
    dmq.create_topic(topic)
    s0 = dmq.server.cpu()
    t0 = time.monotonic()
    before = os.times()
    subprocess.run(["kcat", "-P", "-l", "-b", dmq.bootstrap, "-t", topic, "-X", "linger.ms=5",
                    "-X", "acks=1", "-X", "queue.buffering.max.messages=1000000", path],
                   check=True, timeout=120, stdout=subprocess.DEVNULL)
    secs = time.monotonic() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    os.unlink(path)
    return row(dmq.server.name.replace("dmq-flush-True", "DMQ flush.on.ack=true")
               .replace("dmq-flush-False", "DMQ flush.on.ack=false"),
               "produce acks=1 (kcat, C)", size,
               {"n": n, "secs": secs, "cpu": cpu, "server_cpu": dmq.server.cpu() - s0}, None)


def build_rdkafka_load(workdir):
    """bench/rdkafka_load.cpp, compiled once per run (None if that fails)."""
    out = os.path.join(workdir, "rdkafka_load")
    if os.path.exists(out):
        return out
    try:
        subprocess.run(["g++", "-O2", "-std=c++17", os.path.join(HERE, "rdkafka_load.cpp"),
                        "-lrdkafka", "-o", out], check=True, timeout=120)
        return out
    except (OSError, subprocess.SubprocessError) as e:
        print(f"rdkafka_load not built: {e!r}", file=sys.stderr)
        return None


def rdkafka_c_produce(dmq, loader, size, n):
    """librdkafka without Python: acks=all, linger.ms=5, one shared payload."""
    topic = f"rdc{size}"
    dmq.create_topic(topic)
    os.sync()
    drop_page_cache()
    s0 = dmq.server.cpu()
    out = subprocess.run([loader, dmq.bootstrap, topic, str(n), str(size), "all", "5"],
                         check=True, timeout=180, capture_output=True, text=True)
    res = json.loads(out.stdout)
    res["server_cpu"] = dmq.server.cpu() - s0
    return row(dmq.server.name.replace("dmq-flush-True", "DMQ flush.on.ack=true")
               .replace("dmq-flush-False", "DMQ flush.on.ack=false"),
               "produce acks=all (librdkafka C, bench/rdkafka_load.cpp)", size, res, None)


def bench_redis(args, workdir, rows, lats, fsync="everysec"):
    """fsync "everysec" is the peer the issue names (the page-cache class, like
    NATS's default and DMQ with log.flush.on.ack=false); "always" fsyncs before
    each reply (one fsync per event-loop round), the class of DMQ's default."""
    port = free_port()
    d = os.path.join(workdir, f"redis-{fsync}")
    os.makedirs(d)
    srv = Server("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--dir", d, "--appendonly", "yes", "--appendfsync", fsync,
                           "--save", ""], workdir)
    name = f"Redis Streams (AOF {fsync})"
    try:
        import redis
        wait_until(lambda: redis.Redis(port=port).ping(), 20, "redis")
        for size, n in ((100, args.n100), (1024, args.n1k)):
            redis.Redis(port=port).delete("bench")
            r = run_worker(w_redis_produce, port, n, size, server=srv)
            rows.append(row(name, f"XADD pipeline {REDIS_PIPE}", size, r, fsync == "always"))
            r = run_worker(w_redis_consume, port, n, server=srv)
            rows.append(row(name, "consume (XRANGE)", size, r, fsync == "always"))
        res = run_latency(w_redis_lat_produce, (port,), w_redis_lat_consume, (port,),
                          args.rate, args.lat_secs, srv)
        lats.append(dict(system=name, **res))
    finally:
        srv.stop()


def bench_nats(args, workdir, rows, lats):
    port = free_port()
    d = os.path.join(workdir, "nats")
    srv = Server("nats", ["nats-server", "-js", "-sd", d, "-a", "127.0.0.1", "-p", str(port)], workdir)
    name = "NATS JetStream (file)"
    try:
        wait_until(lambda: Nats(port) is not None, 20, "nats")
        nc = Nats(port)
        wait_until(lambda: nc.request(b"$JS.API.INFO", {}) is not None, 20, "jetstream")
        for size, n in ((100, args.n100), (1024, args.n1k)):
            stream = f"B{size}"
            nc.request(b"$JS.API.STREAM.CREATE." + stream.encode(),
                       {"name": stream, "subjects": [f"b{size}"], "storage": "file"})
            r = run_worker(w_nats_produce, port, f"b{size}", n, size, server=srv)
            rows.append(row(name, f"publish window {NATS_WINDOW}", size, r, False))
            r = run_worker(w_nats_consume, port, stream, n, server=srv)
            rows.append(row(name, "consume (pull 1000)", size, r, False))
        nc.request(b"$JS.API.STREAM.CREATE.LAT", {"name": "LAT", "subjects": ["lat"], "storage": "file"})
        res = run_latency(w_nats_lat_produce, (port,), w_nats_lat_consume, (port,),
                          args.rate, args.lat_secs, srv)
        lats.append(dict(system=name, **res))
    finally:
        srv.stop()


def disk_bw(workdir):
    path = os.path.join(workdir, "dd.bin")
    t0 = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=512", "oflag=direct",
                    "conv=fdatasync"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secs = time.monotonic() - t0
    os.unlink(path)
    return 512 * 1048576 / secs / 1e6


def ensure_packages():
    missing = [p for p, b in (("redis-server", "redis-server"), ("nats-server", "nats-server"))
               if shutil.which(b) is None]
    if not os.path.exists("/usr/include/librdkafka/rdkafka.h"):
        missing.append("librdkafka-dev")  # for bench/rdkafka_load.cpp
    try:
        import redis  # noqa: F401
    except ImportError:
        missing.append("python3-redis")
    if missing:
        subprocess.run(["apt-get", "install", "-y"] + missing, check=True, timeout=300,
                       stdout=subprocess.DEVNULL)


def fmt_ms(value):
    return "-" if value is None or value != value else f"{value:.0f}"


def print_tables(rows, lats, disks, notes):
    print("\nDisk sequential write (dd bs=1M count=512 oflag=direct conv=fdatasync) before each "
          "system: " + ", ".join(f"{s} **{d:.0f} MB/s**" for s, d in disks.items()) +
          "; \"% of disk\" is against the figure taken before the row's system.\n")
    print("| system | test | msg size | msgs | msgs/s | MB/s | % of disk | generator CPU | server CPU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['system']} | {r['test']} | {r['size']} B | {r['n']} | {r['msgs_s']:,.0f} | "
              f"{r['mb_s']:.1f} | {100 * r['mb_s'] / r['disk_mb_s']:.0f}% | {r['gen_cpu_pct']:.0f}% | "
              f"{r['server_cpu_pct']:.0f}% |")
    print("\n| system | rate | sent | received | p50 ms | p99 ms | max ms | server CPU s "
          "| server's longest wait for a CPU, ms | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for l in lats:
        print(f"| {l['system']} | {l['rate']}/s | {l['sent']} | {l['received']} | {l['p50']:.2f} | "
              f"{l['p99']:.2f} | {l['max']:.2f} | {l['server_cpu']:.2f} | "
              f"{fmt_ms(l.get('rq_worst_ms'))} | {l.get('load', float('nan')):.1f} |")
    if notes:
        print("\nDMQ /metrics during each produce run:\n")
        for n in notes:
            print("- " + n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    # Runs of a few seconds at least, so that the page cache's writeback and
    # the disk take part (a 50 MB run fits in the cache and ends in 0.2 s).
    ap.add_argument("--n100", type=int, default=1000000)
    ap.add_argument("--n1k", type=int, default=500000)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--lat-secs", type=float, default=10)
    # 0: the latency producer sends at once, as the Redis and NATS clients do.
    ap.add_argument("--lat-linger-ms", type=int, default=0)
    ap.add_argument("--lat-debug", metavar="DIR",
                    help="write librdkafka debug logs (broker,fetch,msg,protocol) of the "
                         "latency producer and consumer to DIR")
    ap.add_argument("--sched-sample", action="store_true",
                    help="sample how long the server waited for a CPU during latency runs "
                         "(disturbs them: see SCHED_SAMPLE)")
    ap.add_argument("--systems", default="dmq,dmq-nosync,redis,redis-always,nats")
    ap.add_argument("--no-kcat", dest="kcat", action="store_false")
    ap.add_argument("--tmp", default=None, help="parent of the temporary data dirs")
    ap.add_argument("--nice", type=int, default=0,
                    help="add this to the niceness of the whole run (servers and generators "
                         "alike; negative needs root): keeps other users' jobs on a shared "
                         "machine from starving the systems under test")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.nice:
        os.nice(args.nice)
    # SIGTERM (e.g. from `timeout`) unwinds like an exception, so every server
    # is stopped by PID and the temporary dirs are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    global LAT_LINGER_MS, LAT_DEBUG_DIR, SCHED_SAMPLE
    LAT_LINGER_MS = args.lat_linger_ms
    SCHED_SAMPLE = args.sched_sample
    LAT_DEBUG_DIR = args.lat_debug
    ensure_packages()
    load0 = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="kafka-bench-", dir=args.tmp)
    rows, lats, notes = [], [], []
    t0 = time.monotonic()
    try:
        systems = args.systems.split(",")
        disks = []
        for s in systems:
            t = time.monotonic()
            # The disk is measured right before each system: a shared virtual
            # disk's bandwidth drifts (224-747 MB/s within an hour here).
            disks.append(disk_bw(workdir))
            first_row = len(rows)
            try:
                if s == "dmq":
                    bench_dmq(args, workdir, True, rows, lats, notes)
                elif s == "dmq-nosync":
                    bench_dmq(args, workdir, False, rows, lats, notes)
                elif s == "redis":
                    bench_redis(args, workdir, rows, lats)
                elif s == "redis-always":
                    bench_redis(args, workdir, rows, lats, fsync="always")
                elif s == "nats":
                    bench_nats(args, workdir, rows, lats)
            except Exception as e:  # report what ran; one system failing keeps the others
                print(f"{s}: FAILED: {e!r}", file=sys.stderr)
            for r in rows[first_row:]:
                r["disk_mb_s"] = disks[-1]
            print(f"{s}: {time.monotonic() - t:.0f}s", file=sys.stderr)
        for l in lats:
            l["rate"] = args.rate
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_tables(rows, lats, dict(zip(systems, disks)), notes)
    print(f"\nTotal {time.monotonic() - t0:.0f}s on {os.cpu_count()} CPUs; load average "
          f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"disk_mb_s": dict(zip(systems, disks)), "throughput": rows, "latency": lats, "notes": notes}, f, indent=1)


if __name__ == "__main__":
    main()
