#!/usr/bin/python3
"""How long moving a partition takes (issue 21 point 2): one partition of
--mb MB on broker 1 (a combined node) is reassigned to broker 2 (a
broker-only node) with POST /v1/topics/{t}/partitions/0/reassign, and the
time from the request until the controller committed the final replica set
is measured, without a throttle and with --follower.replication.throttled.rate
on broker 2 for each --rates value (bytes/s). The data is written first with
confluent-kafka (1 KiB values, acks=all); nothing else runs meanwhile.

Usage: bench/reassign_bench.py [--dmq build/dmq] [--mb 64] [--rates 8388608,33554432]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "process"))
import dmqtest  # noqa: E402
from dmqtest import Workdir, wait_until  # noqa: E402

from confluent_kafka import Producer  # noqa: E402


def fill(bootstrap, topic, mb):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
                  "batch.size": 1 << 20})
    value = b"x" * 1024
    for i in range(mb * 1024):
        while True:
            try:
                p.produce(topic, value=value, partition=0)
                break
            except BufferError:
                p.poll(0.05)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(120) == 0, "records left unflushed"


def one_move(mb, rate):
    with Workdir() as w:
        first = w.node(node_id=1, role="combined", controllers=None,
                       extra=["--log-level=warn"])
        first.controllers = f"1@127.0.0.1:{first.http_port}"
        first.start()
        extra = ["--log-level=warn"]
        if rate:
            extra.append(f"--follower.replication.throttled.rate={rate}")
        second = w.node(node_id=2, role="broker", controllers=first.controllers, extra=extra)
        second.start()
        wait_until(lambda: len([b for b in first.get("/v1/brokers")[1]["brokers"]
                                if b["status"] == "alive"]) == 2, 20, what="two brokers")
        status, body = first.post("/v1/topics", {"name": "m", "partitions": 1,
                                                 "replication_factor": 1})
        assert status == 201, body
        if body["partitions"][0]["replicas"] != [1]:
            status, body = first.post("/v1/topics/m/partitions/0/reassign", {"replicas": [1]})
            assert status == 200, body
            wait_until(lambda: first.get("/v1/topics/m")[1]["partitions"][0]["replicas"] == [1],
                       30, what="partition on broker 1")
        fill(first.kafka, "m", mb)
        t0 = time.monotonic()
        status, body = first.post("/v1/topics/m/partitions/0/reassign", {"replicas": [2]})
        assert status == 200, body
        wait_until(lambda: first.get("/v1/topics/m")[1]["partitions"][0]["replicas"] == [2],
                   3600, interval_s=0.05, what="the move to complete")
        return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=None)
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--rates", default="8388608,33554432")
    a = ap.parse_args()
    if a.dmq:
        dmqtest.BINARY = os.path.abspath(a.dmq)
    rows = [(0, one_move(a.mb, 0))]
    for r in (int(x) for x in a.rates.split(",") if x):
        rows.append((r, one_move(a.mb, r)))
    print(f"| throttle (follower.replication.throttled.rate) | move of {a.mb} MB | MB/s |")
    print("|---|---|---|")
    for rate, secs in rows:
        label = "none" if rate == 0 else f"{rate / 1048576:.0f} MiB/s"
        print(f"| {label} | {secs:.2f} s | {a.mb / secs:.1f} |")


if __name__ == "__main__":
    main()
