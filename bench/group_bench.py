#!/usr/bin/python3
"""Consumer-group benchmark (issue 7, item 5), against one real `dmq` node.

1. Join: 10 confluent-kafka consumer processes subscribe to a 20-partition
   topic at the same moment; the clock stops when all ten own disjoint
   partitions covering the topic and GET /v1/groups/{id} says Stable. Run with
   Kafka's default group.initial.rebalance.delay.ms (3000) and with 0, since
   the delay dominates the first number by design.
2. Consume throughput: N messages (100-byte values) in 10 partitions are
   consumed by a group of 1 and of 4 consumer processes, each committing
   synchronously every 10,000 messages; the clock runs from the start of the
   processes (joining included) until the last message arrived.

Usage: bench/group_bench.py [--dmq build/dmq] [--trials 5] [--messages 1000000]
                            [--json out.json]
"""
import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = pred()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def get_json(url):
    with urllib.request.urlopen(url, timeout=3) as r:
        return json.loads(r.read())


class Node:
    def __init__(self, binary, extra):
        self.dir = tempfile.mkdtemp(prefix="dmq-group-bench-")
        self.http = free_port()
        self.kafka_port = free_port()
        self.bootstrap = f"127.0.0.1:{self.kafka_port}"
        log = open(os.path.join(self.dir, "node.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, f"--data-dir={self.dir}/data", f"--http-listen=127.0.0.1:{self.http}",
             f"--kafka-listen=127.0.0.1:{self.kafka_port}"] + extra, stdout=log,
            stderr=subprocess.STDOUT)
        wait_until(lambda: any(b["status"] == "alive" for b in
                               get_json(f"http://127.0.0.1:{self.http}/v1/brokers")["brokers"]),
                   20, "broker up")

    def group(self, gid):
        return get_json(f"http://127.0.0.1:{self.http}/v1/groups/{gid}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def create_topic(bootstrap, name, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    admin.create_topics([NewTopic(name, num_partitions=partitions,
                                  replication_factor=1)])[name].result(30)


def produce(bootstrap, topic, partitions, count):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 10,
                  "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000})
    value = b"x" * 100
    for i in range(count):
        while True:
            try:
                p.produce(topic, value=value, partition=i % partitions)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(120) == 0


# ---- consumer processes ---------------------------------------------------------

def join_worker(bootstrap, group, topic, go, out):
    """Subscribes when `go` is set; reports its assignment whenever it changes."""
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                  "enable.auto.commit": False})
    go.wait()
    c.subscribe([topic])
    owned = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        c.consume(1, 0.02)
        now = sorted(p.partition for p in c.assignment())
        if now != owned:
            owned = now
            out.put((os.getpid(), now))
    c.close()


def consume_worker(bootstrap, group, topic, expected, out):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "fetch.max.bytes": 52428800, "session.timeout.ms": 10000})
    c.subscribe([topic])
    n = 0
    since_commit = 0
    while True:
        msgs = c.consume(10000, 0.2)
        n += len(msgs)
        since_commit += len(msgs)
        if since_commit >= 10000:
            c.commit(asynchronous=False)
            since_commit = 0
        out.put(len(msgs))
        if expected.value <= 0:
            break
    c.close()


def bench_join(node, trials, consumers=10, partitions=20):
    topic = f"join-{partitions}"
    create_topic(node.bootstrap, topic, partitions)
    times = []
    for t in range(trials):
        group = f"join-{time.monotonic_ns()}"
        go = mp.Event()
        out = mp.Queue()
        procs = [mp.Process(target=join_worker, args=(node.bootstrap, group, topic, go, out))
                 for _ in range(consumers)]
        for p in procs:
            p.start()
        time.sleep(1.0)  # let the processes import and build their consumers
        start = time.monotonic()
        go.set()
        owned = {}

        def stable():
            while not out.empty():
                pid, parts = out.get()
                owned[pid] = parts
            if len(owned) != consumers or any(not v for v in owned.values()):
                return False
            all_parts = sorted(p for v in owned.values() for p in v)
            if all_parts != list(range(partitions)):
                return False
            g = node.group(group)
            return g["state"] == "Stable" and len(g["members"]) == consumers

        wait_until(stable, 60, "a stable group")
        times.append(time.monotonic() - start)
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()
    return times


def bench_consume(node, messages, group_sizes=(1, 4), partitions=10):
    topic = "tput"
    create_topic(node.bootstrap, topic, partitions)
    produce(node.bootstrap, topic, partitions, messages)
    results = {}
    for size in group_sizes:
        group = f"tput-{size}-{time.monotonic_ns()}"
        out = mp.Queue()
        remaining = mp.Value("q", messages)
        procs = [mp.Process(target=consume_worker,
                            args=(node.bootstrap, group, topic, remaining, out))
                 for _ in range(size)]
        start = time.monotonic()
        for p in procs:
            p.start()
        got = 0
        deadline = start + 300
        while got < messages and time.monotonic() < deadline:
            try:
                got += out.get(timeout=1)
            except Exception:
                pass
        took = time.monotonic() - start
        remaining.value = 0
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        results[size] = {"messages": got, "seconds": took, "msgs_per_s": got / took,
                         "mb_per_s": got * 100 / took / 1e6}
    return results


def bench_kcat(node, messages, topic="tput"):
    """One `kcat -G` balanced consumer (librdkafka without Python) reading the
    same topic from the beginning to the end of every partition."""
    kcat = shutil.which("kcat")
    if not kcat:
        return None
    group = f"kcat-{time.monotonic_ns()}"
    start = time.monotonic()
    out = subprocess.run([kcat, "-b", node.bootstrap, "-G", group, "-o", "beginning", "-e", "-q",
                          "-f", "\\n", "-X", "fetch.max.bytes=52428800", topic],
                         capture_output=True, timeout=300)
    took = time.monotonic() - start
    got = out.stdout.count(b"\n")
    return {"messages": got, "seconds": took, "msgs_per_s": got / took,
            "mb_per_s": got * 100 / took / 1e6}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--json")
    args = ap.parse_args()
    report = {}
    for delay in (3000, 0):
        node = Node(args.dmq, [f"--group.initial.rebalance.delay.ms={delay}"])
        try:
            times = bench_join(node, args.trials)
        finally:
            node.stop()
        report[f"join10_delay{delay}_s"] = times
        print(f"10 consumers join, group.initial.rebalance.delay.ms={delay}: "
              f"median {statistics.median(times):.2f}s min {min(times):.2f}s "
              f"max {max(times):.2f}s ({len(times)} trials)", flush=True)
    node = Node(args.dmq, ["--group.initial.rebalance.delay.ms=0"])
    try:
        tput = bench_consume(node, args.messages)
        kcat = bench_kcat(node, args.messages)
        if kcat:
            tput["kcat -G"] = kcat
    finally:
        node.stop()
    report["consume"] = tput
    for size, r in tput.items():
        print(f"{size if isinstance(size, str) else f'group of {size}'}: {r['messages']} msgs in {r['seconds']:.2f}s = "
              f"{r['msgs_per_s']:,.0f} msg/s, {r['mb_per_s']:.1f} MB/s of values", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
