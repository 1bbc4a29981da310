#!/usr/bin/python3
"""RSS and thread count of a combined dmq node holding 0, 1,000 and 10,000
idle Kafka connections (issue 17, item 7).

Each connection is a plain TCP socket that sends one ApiVersions request,
reads its answer, then stays open doing nothing: the state of a client that
connected and waits. The node and this script each need one descriptor per
connection, so the script raises its own RLIMIT_NOFILE (the node inherits
it) and says so when the hard limit is too low.

Usage: bench/kafka_idle_bench.py [--dmq build/dmq] [--levels 0,1000,10000] [--json out.json]
"""
import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kafka_bench import free_port, wait_until  # noqa: E402


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return {"rss_mib": round(out["VmRSS"] / 1024, 1), "threads": out["Threads"]}


API_VERSIONS = struct.pack(">hhih", 18, 0, 1, 4) + b"idle"
API_VERSIONS_FRAME = struct.pack(">i", len(API_VERSIONS)) + API_VERSIONS


def open_idle(port, count, sockets):
    """Adds `count` connections, each answered once; non-blocking, with many
    handshakes in flight so 10,000 take seconds, not minutes."""
    sel = selectors.DefaultSelector()
    pending = 0
    opened = 0
    deadline = time.monotonic() + 120
    while (opened < count or pending) and time.monotonic() < deadline:
        while opened < count and pending < 256:
            s = socket.socket()
            s.connect(("127.0.0.1", port))
            s.sendall(API_VERSIONS_FRAME)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, bytearray())
            opened += 1
            pending += 1
        for key, _ in sel.select(timeout=1):
            s, got = key.fileobj, key.data
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the node closed an idle connection during set-up")
            got += chunk
            if len(got) >= 4 and len(got) >= 4 + struct.unpack(">i", got[:4])[0]:
                sel.unregister(s)
                sockets.append(s)
                pending -= 1
    if pending or opened < count:
        raise RuntimeError(f"only {len(sockets)} connections were answered within 120s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--levels", default="0,1000,10000")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds before each reading")
    ap.add_argument("--json")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    need = max(levels) + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit(f"kafka_idle_bench: needs {need} open files, the hard limit is {hard} "
                 "(raise it, e.g. in /etc/security/limits.conf)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))

    work = tempfile.mkdtemp(prefix="dmq-idle-bench-")
    http_port, kafka_port = free_port(), free_port()
    log = open(os.path.join(work, "node.log"), "wb")
    node = subprocess.Popen([args.dmq, f"--data-dir={work}/data",
                             f"--http-listen=127.0.0.1:{http_port}",
                             f"--kafka-listen=127.0.0.1:{kafka_port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    sockets = []
    rows = []
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", kafka_port), 1).close() or True,
                   20, "the Kafka listener")
        for level in sorted(levels):
            start = time.monotonic()
            open_idle(kafka_port, level - len(sockets), sockets)
            took = time.monotonic() - start
            time.sleep(args.settle)
            row = {"connections": len(sockets), **proc_status(node.pid),
                   "setup_s": round(took, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        for s in sockets:
            s.close()
        node.terminate()
        node.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    print("\n| idle Kafka connections | RSS MiB | threads | set-up s |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['connections']} | {r['rss_mib']} | {r['threads']} | {r['setup_s']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
