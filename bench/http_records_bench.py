#!/usr/bin/python3
"""HTTP produce and consume against the Kafka protocol, same records, one run.

One combined node (fsync on acknowledgement, the default). N records of
--size bytes (ASCII, so they travel as JSON strings) go into a topic of 3
partitions
1. over the Kafka protocol: one confluent-kafka producer, acks=all,
   linger.ms=5; then one confluent-kafka consumer reads them all back;
2. over HTTP: --clients processes, each POSTing bodies of 1,000 records to
   /v1/topics/{t}/records on a keep-alive connection (bodies are built before
   the clock starts: the client's JSON encoding is not DMQ's cost); then one
   reader per partition pages GET /v1/topics/{t}/partitions/{p}/records with
   max_bytes=4 MiB.
   Then the same records again through a consumer group over HTTP: --clients
   instances of one group (POST /v1/consumers/{g}, subscribe, long-poll
   GET .../records?max_bytes=4 MiB, commit after each poll), timed from the
   first poll to the last record.
3. over the Kafka protocol again with librdkafka's C API (bench/rdkafka_load.cpp,
   acks=all, linger.ms=5), the client that costs the least per record.
Each phase is timed from its first request to its last acknowledged record
(produce) or last record read (consume); the answer is records and MB per
second, and HTTP's share of the Kafka rate.

Usage: bench/http_records_bench.py [--dmq build/dmq] [--messages 200000] [--size 1024]
                                   [--clients 4] [--json out.json]
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_bench import build_rdkafka_load, combined_node, rest_request as request  # noqa: E402  (shared bench helpers)

HERE = os.path.dirname(os.path.abspath(__file__))
PARTITIONS = 3
PER_REQUEST = 1000



def http_producer(port, topic, bodies, ready, go, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ready.set()
    go.wait()
    acked = 0
    for body in bodies:
        conn.request("POST", f"/v1/topics/{topic}/records", body,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        answer = json.loads(r.read())
        if r.status != 200:
            raise RuntimeError(f"produce answered {r.status}: {answer}")
        acked += sum(1 for o in answer["offsets"] if o.get("offset") is not None)
    out.put((acked, time.monotonic()))


def http_reader(port, topic, partition, expected, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    offset, read, nbytes = 0, 0, 0
    while read < expected:
        conn.request("GET", f"/v1/topics/{topic}/partitions/{partition}/records"
                            f"?offset={offset}&max_bytes=4194304&timeout_ms=1000")
        r = conn.getresponse()
        raw = r.read()
        body = json.loads(raw)
        read += len(body["records"])
        nbytes += sum(len(x["value"]) for x in body["records"])
        offset = body["next_offset"]
    out.put((read, nbytes, time.monotonic()))


def run_http(port, topic, n, size, clients):
    value = "v" * size
    per_client = n // clients
    bodies = [[json.dumps({"records": [{"value": value}] * PER_REQUEST}).encode()
               for _ in range(per_client // PER_REQUEST)] for _ in range(clients)]
    total = sum(len(b) for b in bodies) * PER_REQUEST
    ready = [mp.Event() for _ in range(clients)]
    go, out = mp.Event(), mp.Queue()
    procs = [mp.Process(target=http_producer, args=(port, topic, bodies[i], ready[i], go, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    for r in ready:
        r.wait(30)
    start = time.monotonic()
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    produce_s = max(t for _, t in results) - start
    acked = sum(a for a, _ in results)
    assert acked == total, (acked, total)
    counts = {p["partition"]: p["high_watermark"]
              for p in request(port, "GET", f"/v1/topics/{topic}")["partitions"]}
    start = time.monotonic()
    readers = [mp.Process(target=http_reader, args=(port, topic, p, counts[p], out))
               for p in range(PARTITIONS)]
    for r in readers:
        r.start()
    got = [out.get(timeout=600) for _ in readers]
    for r in readers:
        r.join()
    consume_s = max(t for _, _, t in got) - start
    return total, produce_s, sum(c for c, _, _ in got), consume_s


def http_group_member(port, group, topic, ready, go, finished, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(method, path, body=None):
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path} answered {r.status}: {raw[:200]}")
        return json.loads(raw) if raw else None

    created = call("POST", f"/v1/consumers/{group}",
                   {"auto.offset.reset": "earliest", "auto.commit.enable": "false"})
    base = created["base_uri"].split(f":{port}", 1)[1]
    call("POST", base + "/subscription", {"topics": [topic]})
    ready.set()
    go.wait()
    while not finished.is_set():
        records = call("GET", base + "/records?timeout=500&max_bytes=4194304")["records"]
        if records:
            call("POST", base + "/offsets")
            out.put((len(records), time.monotonic()))
    call("DELETE", base)


def run_http_group(port, topic, expected, members):
    """Reads `expected` records of `topic` with `members` HTTP instances of one group."""
    ready = [mp.Event() for _ in range(members)]
    go, finished, out = mp.Event(), mp.Event(), mp.Queue()
    procs = [mp.Process(target=http_group_member,
                        args=(port, "bench-group", topic, ready[i], go, finished, out))
             for i in range(members)]
    for p in procs:
        p.start()
    for r in ready:
        r.wait(60)
    # Every member holds partitions before the clock starts.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            g = request(port, "GET", "/v1/groups/bench-group")
        except OSError:  # 404 until the first member joined
            g = {}
        if g.get("state") == "Stable" and len(g.get("members", [])) == members:
            break
        time.sleep(0.2)
    start = time.monotonic()
    go.set()
    read, last = 0, start
    while read < expected:
        n, t = out.get(timeout=120)
        read += n
        last = max(last, t)
    finished.set()
    for p in procs:
        p.join(30)
    return read, last - start


def run_kafka(bootstrap, topic, n, size):
    from confluent_kafka import Consumer, Producer, TopicPartition
    value = b"v" * size
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "queue.buffering.max.messages": 1000000})
    errors = []
    start = time.monotonic()
    for i in range(n):
        while True:
            try:
                p.produce(topic, value=value, partition=i % PARTITIONS,
                          on_delivery=lambda err, m: err and errors.append(err))
                break
            except BufferError:
                p.poll(0.01)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(300) == 0 and not errors, errors[:3]
    produce_s = time.monotonic() - start
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-reader",
                  "enable.auto.commit": False, "fetch.max.bytes": 4194304})
    c.assign([TopicPartition(topic, part, 0) for part in range(PARTITIONS)])
    read = 0
    start = time.monotonic()
    deadline = start + 300
    while read < n and time.monotonic() < deadline:
        for m in c.consume(1000, 1.0):
            if not m.error():
                read += 1
    consume_s = time.monotonic() - start
    c.close()
    return n, produce_s, read, consume_s


def run_kafka_c(bootstrap, topic, n, size, workdir):
    """The same produce through librdkafka's C API (bench/rdkafka_load.cpp):
    the Kafka protocol's rate without Python in the client."""
    loader = build_rdkafka_load(workdir)
    if not loader:
        return None
    out = subprocess.run([loader, bootstrap, topic, str(n), str(size), "all", "5"],
                         check=True, timeout=600, capture_output=True, text=True)
    res = json.loads(out.stdout)
    return res["n"] / res["secs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--json")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="dmq-http-bench-")
    try:
        with combined_node(args.dmq, workdir) as (http_port, kafka_port):
            return report(args, workdir, http_port, kafka_port)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(args, workdir, http_port, kafka_port):
    for t in ("via-kafka", "via-http", "via-kafka-c"):
        request(http_port, "POST", "/v1/topics",
                {"name": t, "partitions": PARTITIONS, "replication_factor": 1})
    rows = {"kafka": run_kafka(f"127.0.0.1:{kafka_port}", "via-kafka", args.messages, args.size),
            "http": run_http(http_port, "via-http", args.messages, args.size, args.clients)}
    group_read, group_s = run_http_group(http_port, "via-http", rows["http"][0], args.clients)
    c_rps = run_kafka_c(f"127.0.0.1:{kafka_port}", "via-kafka-c", args.messages, args.size,
                        workdir)
    mb = args.size / 1e6
    result = {}
    for name, (sent, produce_s, read, consume_s) in rows.items():
        result[name] = {"produce_rps": sent / produce_s, "produce_mbps": sent * mb / produce_s,
                        "consume_rps": read / consume_s, "consume_mbps": read * mb / consume_s}
    print(f"{args.messages} records of {args.size} B, 3 partitions, acks=all, "
          f"HTTP: {args.clients} clients x {PER_REQUEST} records per request; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'':8} {'produce rec/s':>14} {'MB/s':>8} {'consume rec/s':>14} {'MB/s':>8}")
    for name, r in result.items():
        print(f"{name:8} {r['produce_rps']:14,.0f} {r['produce_mbps']:8.1f} "
              f"{r['consume_rps']:14,.0f} {r['consume_mbps']:8.1f}")
    print(f"HTTP / Kafka: produce {result['http']['produce_rps'] / result['kafka']['produce_rps']:.2f}, "
          f"consume {result['http']['consume_rps'] / result['kafka']['consume_rps']:.2f}")
    result["http_group_consume_rps"] = group_read / group_s
    print(f"HTTP consumer group ({args.clients} instances, commit per poll): consume "
          f"{group_read / group_s:,.0f} rec/s {group_read * mb / group_s:.1f} MB/s; "
          f"HTTP group / Kafka consume {result['http_group_consume_rps'] / result['kafka']['consume_rps']:.2f}")
    if c_rps:
        result["kafka_c_produce_rps"] = c_rps
        print(f"kafka (librdkafka C) produce {c_rps:,.0f} rec/s {c_rps * mb:.1f} MB/s; "
              f"HTTP / Kafka C: produce {result['http']['produce_rps'] / c_rps:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
