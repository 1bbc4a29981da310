#!/usr/bin/python3
"""What HTTP connections cost a node, and what HTTP polling costs the data plane.

One combined node (fsync on acknowledgement, the default).
1. Threads and VmRSS (from /proc/<pid>/status) of the idle node, then with
   --connections idle keep-alive HTTP connections (each served one
   GET /v1/health, then left open), then again once they are closed.
2. Produce throughput (librdkafka's C API, bench/rdkafka_load.cpp: acks=all,
   linger.ms=5, --messages records of --size bytes) unloaded, then while
   --connections HTTP clients poll GET /v1/topics (each on its own keep-alive
   connection, one request every --poll-interval seconds; 0 = as fast as the
   answers come), alternating for --rounds rounds (the machine may be shared:
   alternating spreads other load over both). The median loaded rate is given
   as a share of the median unloaded rate (target: >= 80%), with the polls
   answered per second, their p99 latency and the node's threads and RSS
   under load.

Usage: bench/http_idle_bench.py [--dmq build/dmq] [--connections 1000] [--messages 200000]
                                [--size 1024] [--poll-interval 1.0] [--poll-seconds 20]
                                [--rounds 3] [--json out.json]
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_bench import build_rdkafka_load, free_port, wait_until  # noqa: E402  (shared bench helpers)

POLLER_PROCESSES = 4
WORKER_IDLE_EXIT_S = 12  # the server's worker threads leave after 10 s without work


def status_of(pid):
    """(threads, VmRSS in MB) of a process."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["Threads"][0]), int(fields["VmRSS"][0]) / 1024


def request(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def open_idle_connections(port, count):
    """`count` keep-alive connections, each served one request, left open."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    for s in sockets:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    for s in sockets:
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("a connection was closed")
            data += chunk
        if not data.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"answered {data[:40]!r}")
    return sockets


async def poll(port, interval, stop_at, latencies, errors):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        errors.append(1)
        return
    loop = asyncio.get_running_loop()
    # Spread the clients over the interval so they do not poll in lockstep.
    await asyncio.sleep(interval * (hash(id(writer)) % 1000) / 1000)
    while loop.time() < stop_at:
        start = loop.time()
        try:
            writer.write(b"GET /v1/topics HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(1)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors.append(1)
            return
        latencies.append(loop.time() - start)
        if interval > 0:
            await asyncio.sleep(max(0.0, interval - (loop.time() - start)))
    writer.close()


def poller_process(port, clients, interval, seconds, ready, out):
    async def main():
        loop = asyncio.get_running_loop()
        ready.set()
        stop_at = loop.time() + seconds
        latencies, errors = [], []
        await asyncio.gather(*(poll(port, interval, stop_at, latencies, errors)
                               for _ in range(clients)))
        out.put((latencies, len(errors)))
    asyncio.run(main())


def produce_rate(loader, bootstrap, topic, messages, size):
    out = subprocess.run([loader, bootstrap, topic, str(messages), str(size), "all", "5"],
                         check=True, timeout=600, capture_output=True, text=True)
    res = json.loads(out.stdout)
    return res["n"] / res["secs"], res["errors"]


def produce_under_polling(args, port, pid, loader, bootstrap, topic):
    """Starts the pollers, measures a produce run inside their window."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    per_process = args.connections // POLLER_PROCESSES
    window = args.poll_seconds
    procs = []
    for _ in range(POLLER_PROCESSES):
        ready = ctx.Event()
        p = ctx.Process(target=poller_process,
                        args=(port, per_process, args.poll_interval, window, ready, out))
        p.start()
        ready.wait(30)
        procs.append(p)
    time.sleep(3)  # every client connected and polling
    started = time.monotonic()
    rate, errors = produce_rate(loader, bootstrap, topic, args.messages, args.size)
    produce_secs = time.monotonic() - started
    threads, rss = status_of(pid)
    results = [out.get(timeout=window + 120) for _ in procs]
    for p in procs:
        p.join(30)
    latencies = sorted(l for part, _ in results for l in part)
    poll_errors = sum(e for _, e in results)
    if produce_secs > window - 3:
        print(f"warning: produce took {produce_secs:.0f}s, longer than the polling window; "
              "raise --poll-seconds", file=sys.stderr)
    return {
        "rate": rate, "errors": errors, "threads": threads, "rss_mb": rss,
        "polls_per_s": len(latencies) / window, "poll_errors": poll_errors,
        "poll_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
    }


def start_node(args, workdir):
    http_port, kafka_port = free_port(), free_port()
    log = open(os.path.join(workdir, "node.log"), "wb")
    proc = subprocess.Popen([args.dmq, "--role=combined", f"--data-dir={workdir}/data",
                             f"--http-listen=127.0.0.1:{http_port}",
                             f"--kafka-listen=127.0.0.1:{kafka_port}",
                             f"--http.max.connections={args.connections + 1000}"],
                            stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: request(http_port, "GET", "/v1/health") == 200, 20, "node health")
    return proc, http_port, f"127.0.0.1:{kafka_port}"


def create_topic(port, name):
    def created():
        try:
            return request(port, "POST", "/v1/topics",
                           {"name": name, "partitions": 3, "replication_factor": 1}) == 201
        except urllib.error.HTTPError:
            return False
    wait_until(created, 20, f"topic {name}")


def measure_idle(args, pid, port):
    time.sleep(WORKER_IDLE_EXIT_S)
    rows = [("0 connections", *status_of(pid))]
    sockets = open_idle_connections(port, args.connections)
    rows.append((f"{args.connections} idle connections (just served)", *status_of(pid)))
    time.sleep(WORKER_IDLE_EXIT_S)
    rows.append((f"{args.connections} idle connections (settled)", *status_of(pid)))
    for s in sockets:
        s.close()
    time.sleep(2)
    rows.append(("closed again", *status_of(pid)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dmq", default=os.path.join(os.path.dirname(__file__), "../build/dmq"))
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--poll-interval", type=float, default=1.0)
    ap.add_argument("--poll-seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.connections)), hard))
    workdir = tempfile.mkdtemp(prefix="dmq-http-idle-")
    loader = build_rdkafka_load(workdir)
    if loader is None:
        sys.exit("needs g++ and librdkafka-dev (scripts/install-deps.sh)")
    proc, port, bootstrap = start_node(args, workdir)
    try:
        idle = measure_idle(args, proc.pid, port)
        create_topic(port, "warmup")
        produce_rate(loader, bootstrap, "warmup", args.messages // 4, args.size)
        unloaded, loaded = [], []
        for round_ in range(args.rounds):
            create_topic(port, f"unloaded{round_}")
            create_topic(port, f"loaded{round_}")
            rate, _ = produce_rate(loader, bootstrap, f"unloaded{round_}", args.messages, args.size)
            unloaded.append(rate)
            loaded.append(produce_under_polling(args, port, proc.pid, loader, bootstrap,
                                                f"loaded{round_}"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    print("| node state | threads | RSS MB |\n|---|---:|---:|")
    for name, threads, rss in idle:
        print(f"| {name} | {threads} | {rss:.1f} |")
    median_unloaded = statistics.median(unloaded)
    median_loaded = statistics.median(r["rate"] for r in loaded)
    share = median_loaded / median_unloaded
    print(f"\nproduce acks=all, {args.size} B (librdkafka C), {args.rounds} rounds")
    print("| round | unloaded msg/s | loaded msg/s | polls/s | poll p99 ms | poll errors "
          "| threads | RSS MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, (u, r) in enumerate(zip(unloaded, loaded)):
        p99 = "n/a" if r["poll_p99_ms"] is None else f"{r['poll_p99_ms']:.1f}"
        print(f"| {i + 1} | {u:,.0f} | {r['rate']:,.0f} | {r['polls_per_s']:,.0f} | {p99} "
              f"| {r['poll_errors']} | {r['threads']} | {r['rss_mb']:.1f} |")
    print(f"\nmedian with {args.connections} HTTP clients polling /v1/topics every "
          f"{args.poll_interval}s: {median_loaded:,.0f} msg/s = {share:.0%} of unloaded "
          f"{median_unloaded:,.0f} msg/s (target >= 80%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"idle": idle, "unloaded": unloaded, "loaded": loaded, "share": share}, f,
                      indent=1)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
