#!/usr/bin/python3
"""Transactional against idempotent produce throughput, one node, one run.

One combined node (fsync on acknowledgement, the default), a topic of 3
partitions. --messages records of --size bytes are produced with
confluent-kafka (linger.ms=5, acks=all):
1. idempotent: enable.idempotence=true, one flush at the end;
2. transactional: the same producer settings with a transactional.id, in
   transactions of --per-txn records (begin, produce, commit_transaction,
   which flushes and waits for the markers to be written).
Then a read_committed consumer reads the transactional topic back (every
record must be there). Each phase is timed from its first record to its
last acknowledgement (transactional: the last commit); the answer is records
per second for both and the transactional cost in percent.

Usage: bench/txn_bench.py [--dmq build/dmq] [--messages 100000] [--size 1024]
                          [--per-txn 100] [--json out.json]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kafka_bench import combined_node, rest_request as request  # noqa: E402  (shared bench helpers)
from confluent_kafka import Consumer, Producer  # noqa: E402

PARTITIONS = 3


def produce(bootstrap, topic, n, size, per_txn):
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all",
            "enable.idempotence": True, "queue.buffering.max.messages": 1000000}
    if per_txn:
        conf["transactional.id"] = f"bench-{time.monotonic_ns()}"
    p = Producer(conf)
    if per_txn:
        p.init_transactions(30)
    value = b"x" * size
    errors = []

    def report(err, _msg):
        if err is not None:
            errors.append(err)

    start = time.monotonic()
    sent = 0
    while sent < n:
        batch = min(per_txn or n, n - sent)
        if per_txn:
            p.begin_transaction()
        for i in range(batch):
            while True:
                try:
                    p.produce(topic, value=value, partition=(sent + i) % PARTITIONS,
                              on_delivery=report)
                    break
                except BufferError:
                    p.poll(0.01)
        sent += batch
        if per_txn:
            p.commit_transaction(60)
        else:
            p.poll(0)
    p.flush(120)
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(f"{len(errors)} delivery errors, first {errors[0]}")
    return n / elapsed


def read_committed(bootstrap, topic, n):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-reader",
                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 120
    while got < n and time.monotonic() < deadline:
        got += sum(1 for m in c.consume(10000, 0.5) if m.error() is None)
    c.close()
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--per-txn", type=int, default=100)
    ap.add_argument("--json")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="dmq-txn-bench-")
    try:
        with combined_node(args.dmq, workdir) as (http_port, kafka_port):
            return compare(args, http_port, f"127.0.0.1:{kafka_port}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def compare(args, http_port, bootstrap):
    for t in ("idempotent", "transactional"):
        request(http_port, "POST", "/v1/topics",
                {"name": t, "partitions": PARTITIONS, "replication_factor": 1})
    idem = produce(bootstrap, "idempotent", args.messages, args.size, 0)
    txn = produce(bootstrap, "transactional", args.messages, args.size, args.per_txn)
    seen = read_committed(bootstrap, "transactional", args.messages)
    cost = 100.0 * (1 - txn / idem)
    print(f"{args.messages} records of {args.size} B, {PARTITIONS} partitions, acks=all, "
          f"{args.per_txn} records per transaction; load average {os.getloadavg()[0]:.1f}")
    print(f"idempotent    {idem:12,.0f} rec/s")
    print(f"transactional {txn:12,.0f} rec/s   (cost {cost:.1f}%)")
    print(f"read_committed read back {seen} of {args.messages}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"idempotent_rps": idem, "transactional_rps": txn, "cost_pct": cost,
                       "read_committed": seen}, f)
    return 0 if seen == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
