#!/usr/bin/python3
"""Client quotas: a throttled producer's achieved rate against its quota, and
what quota accounting costs a producer that is not throttled (issue 17,
point 3).

One combined dmq node (built binary, free ports, temp dir).
  throttled  client id "throttled" with producer_byte_rate Q (POST /v1/quotas)
             produces 10 KiB records as fast as librdkafka is let for T
             seconds; printed: acknowledged bytes per second in each second,
             the whole run's rate against Q, and the throttle events
             librdkafka reported (throttle_cb).
  cost       N records of S bytes with acks=1, three ways, on a fresh topic
             each: no quota configured (the fast path), a quota on another
             client id (every request resolves KIP-55's eight levels), a
             quota on this client id far above its rate (every request also
             records into its sliding window). Printed: records/s and the
             broker's CPU microseconds per record (/proc/<pid>/stat).

Usage: bench/quota_bench.py [--dmq build/dmq] [--quota 1048576] [--secs 20]
                            [--records 300000] [--size 100]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "process"))
sys.path.insert(0, HERE)
import dmqtest  # noqa: E402
from kafka_bench import proc_cpu_s  # noqa: E402

from confluent_kafka import Producer  # noqa: E402


def set_quota(node, client_id, rate):
    status, body = node.post("/v1/quotas", {"entity": {"client-id": client_id},
                                            "ops": [{"key": "producer_byte_rate", "value": rate}]})
    assert status == 200, body


def throttled(node, quota, secs):
    dmqtest.create_one_partition_topic(node, "throttled")
    set_quota(node, "throttled", quota)
    throttles = []
    per_second = [0] * int(secs + 1)
    p = Producer({"bootstrap.servers": node.kafka, "client.id": "throttled", "linger.ms": 5,
                  "queue.buffering.max.kbytes": 4096,
                  "throttle_cb": lambda e: throttles.append(e.throttle_time)})
    value = os.urandom(10 * 1024)
    start = time.monotonic()

    def acked(err, msg):
        if err is None:
            per_second[min(int(time.monotonic() - start), len(per_second) - 1)] += len(msg.value())

    while time.monotonic() - start < secs:
        try:
            p.produce("throttled", value, on_delivery=acked)
        except BufferError:
            p.poll(0.05)
        p.poll(0)
    p.purge()
    p.flush(5)
    total = sum(per_second[:int(secs)])
    print(f"throttled producer, quota {quota / 1024:.0f} KiB/s, {secs:.0f} s:")
    print("  KiB/s per second: " + " ".join(f"{b / 1024:.0f}" for b in per_second[:int(secs)]))
    print(f"  whole run {total / secs / 1024:.0f} KiB/s = {total / secs / quota:.2f} x quota; "
          f"{len(throttles)} throttle events, median "
          f"{sorted(throttles)[len(throttles) // 2] if throttles else 0:.1f} s")


def produce_n(node, topic, client_id, n, size):
    p = Producer({"bootstrap.servers": node.kafka, "client.id": client_id, "linger.ms": 5,
                  "acks": 1, "queue.buffering.max.messages": 1000000})
    p.list_topics(topic, timeout=10)
    body = os.urandom(size)
    c0 = proc_cpu_s(node.proc.pid)
    t0 = time.monotonic()
    for _ in range(n):
        while True:
            try:
                p.produce(topic, body)
                break
            except BufferError:
                p.poll(0.001)
        p.poll(0)
    assert p.flush(120) == 0
    secs = time.monotonic() - t0
    return n / secs, (proc_cpu_s(node.proc.pid) - c0) / n * 1e6


def cost(node, n, size):
    print(f"quota accounting cost, {n} records of {size} B, acks=1:")
    for i, (label, setup) in enumerate([
            ("no quota configured", lambda: None),
            ("quota on another client id", lambda: set_quota(node, "someone-else", 1e6)),
            ("quota on this client id, never reached", lambda: set_quota(node, "measured", 1e12))]):
        setup()
        topic = f"cost-{i}"
        dmqtest.create_one_partition_topic(node, topic)
        rate, cpu_us = produce_n(node, topic, "measured", n, size)
        print(f"  {label:40s} {rate:10.0f} records/s  {cpu_us:6.2f} broker CPU us/record")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--quota", type=float, default=1048576)
    ap.add_argument("--secs", type=float, default=20)
    ap.add_argument("--records", type=int, default=300000)
    ap.add_argument("--size", type=int, default=100)
    args = ap.parse_args()
    dmqtest.BINARY = os.path.abspath(args.dmq)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with dmqtest.Workdir() as w:
        node = w.node(node_id=1).start()
        throttled(node, args.quota, args.secs)
        cost(node, args.records, args.size)
        node.stop()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
