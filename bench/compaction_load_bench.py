#!/usr/bin/python3
"""Coordinator load time of __consumer_offsets after many offset commits,
with the log cleaner off and on (bench/README.md, "compaction").

For each mode a fresh single dmq node (one __consumer_offsets partition)
takes COMMITS offset commits from a confluent-kafka consumer (one group,
PARTITIONS partitions per commit request, synchronous), waits for the
cleaner to settle (mode "compact"), then restarts; the load time is the
time between the coordinator's "loading" and "loaded" log lines after the
restart, and "first answer" the time from the restart until OffsetFetch
returns the last commit.

    /usr/bin/python3 bench/compaction_load_bench.py [--commits 1000000] [--partitions 100]
"""

import argparse
import datetime
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

from confluent_kafka import Consumer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BINARY = os.path.join(HERE, "..", "build", "dmq")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def wait(pred, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


class Node:
    def __init__(self, binary, workdir, extra):
        self.binary, self.workdir, self.extra = binary, workdir, extra
        self.http, self.kafka = free_port(), free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, "node.log")

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--role=combined", f"--data-dir={self.workdir}/data",
             f"--http-listen=127.0.0.1:{self.http}", f"--kafka-listen=127.0.0.1:{self.kafka}"]
            + self.extra, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait(lambda: http("GET", f"http://127.0.0.1:{self.http}/v1/health") == 200, 30, "health")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def offsets_bytes(workdir):
    return sum(os.path.getsize(f) for f in
               glob.glob(os.path.join(workdir, "data", "logs", "__consumer_offsets-*", "*.log")))


def load_seconds(log_path, after_line):
    stamps = {}
    with open(log_path) as f:
        lines = f.read().splitlines()[after_line:]
    for line in lines:
        m = re.match(r"(\S+) INFO  group: (loading|loaded) __consumer_offsets-0", line)
        if m:
            stamps[m.group(2)] = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
    return (stamps["loaded"] - stamps["loading"]).total_seconds(), \
        next((l for l in lines if "loaded __consumer_offsets-0" in l), "")


def run(binary, mode, commits, partitions, segment_bytes):
    workdir = tempfile.mkdtemp(prefix=f"dmq-compaction-bench-{mode}-")
    extra = ["--offsets.topic.num.partitions=1", f"--offsets.topic.segment.bytes={segment_bytes}",
             "--log.cleaner.backoff.ms=500", "--log-level=info"]
    if mode == "no-cleaner":
        extra.append("--log.cleaner.enable=false")
    node = Node(binary, workdir, extra)
    node.start()
    try:
        wait(lambda: http("POST", f"http://127.0.0.1:{node.http}/v1/topics",
                          {"name": "t", "partitions": partitions, "replication_factor": 1}) == 201,
             30, "topic")
        c = Consumer({"bootstrap.servers": f"127.0.0.1:{node.kafka}", "group.id": "bench",
                      "enable.auto.commit": False})
        start = time.monotonic()
        requests = commits // partitions
        for i in range(1, requests + 1):
            c.commit(offsets=[TopicPartition("t", p, i) for p in range(partitions)],
                     asynchronous=False)
        commit_s = time.monotonic() - start
        c.close()
        if mode == "compact":
            # Until the cleaner has gone over every closed segment.
            last, stable_since = None, time.monotonic()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and time.monotonic() - stable_since < 5:
                size = offsets_bytes(workdir)
                if size != last:
                    last, stable_since = size, time.monotonic()
                time.sleep(0.5)
        size = offsets_bytes(workdir)
        node.stop()
        with open(node.log_path) as f:
            before = len(f.read().splitlines())
        restart = time.monotonic()
        node.start()
        c = Consumer({"bootstrap.servers": f"127.0.0.1:{node.kafka}", "group.id": "bench",
                      "enable.auto.commit": False})
        got = None
        while got is None and time.monotonic() - restart < 300:
            try:
                got = c.committed([TopicPartition("t", 0)], timeout=10)
            except Exception:  # COORDINATOR_LOAD_IN_PROGRESS and friends: ask again
                time.sleep(0.05)
        first_answer_s = time.monotonic() - restart
        assert got and got[0].offset == requests, got
        c.close()
        load_s, line = load_seconds(node.log_path, before)
        node.stop()
        print(f"{mode:10s} commits={commits} ({requests} requests of {partitions}) in {commit_s:.1f} s; "
              f"__consumer_offsets on disk {size / 1e6:.2f} MB; load {load_s:.3f} s; "
              f"first OffsetFetch answer {first_answer_s:.2f} s after restart\n    {line}",
              flush=True)
    finally:
        if node.proc and node.proc.poll() is None:
            node.proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--commits", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=100)
    ap.add_argument("--segment-bytes", type=int, default=16 << 20)
    ap.add_argument("--modes", default="no-cleaner,compact")
    a = ap.parse_args()
    for mode in a.modes.split(","):
        run(a.binary, mode, a.commits, a.partitions, a.segment_bytes)


if __name__ == "__main__":
    sys.exit(main())
