#!/usr/bin/python3
"""Produce and consume throughput over SASL_SSL (SCRAM-SHA-512, TLS) against
PLAINTEXT, in one run on one node serving both listeners, 1 KiB messages,
acks=all, librdkafka. Produce: bench/rdkafka_load.cpp (C, no Python in the
loop); consume: confluent-kafka batch consume from offset 0. Prints a JSON
object with messages/s and MB/s per listener and the SASL_SSL/PLAINTEXT
ratios (the cost of TLS is 1 - ratio).

Over TLS, fetch cannot use sendfile(2) (the kernel would send the file's
bytes unencrypted): the broker reads the range and writes it through TLS.

The clients run on the same machine and encrypt too, so throughput mixes
their cost with the broker's. Each phase therefore also reports the CPU
time it took the broker (utime+stime of the dmq process, from /proc) per MB
of payload, which is the part DMQ controls, and the clients' CPU seconds
(the produce loader as a child process, the consumer in this process), and
the 1-minute load average when the run ended.

Usage: bench/tls_bench.py [--dmq build/dmq] [--n 300000] [--size 1024] [--json out.json]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "process"))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from kafka_bench import build_rdkafka_load  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def produce(loader, bootstrap, topic, n, size, extra):
    out = subprocess.run([loader, bootstrap, topic, str(n), str(size), "all", "5", *extra],
                         capture_output=True, text=True, timeout=900, check=True)
    r = json.loads(out.stdout)
    assert r["errors"] == 0 and r["n"] == n, r
    return r["secs"]


def consume(config, topic, n):
    c = Consumer({**config, "group.id": "bench", "enable.auto.commit": False,
                  "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760})
    c.assign([TopicPartition(topic, 0, 0)])
    got, start = 0, time.monotonic()
    while got < n and time.monotonic() - start < 600:
        for m in c.consume(num_messages=10000, timeout=1.0):
            if not m.error():
                got += 1
    secs = time.monotonic() - start
    c.close()
    assert got >= n, f"consumed {got} of {n}"
    return secs


def run(args, w):
    c = sectest.SecureCluster(w, extra=["--log-level=warn"])
    loader = build_rdkafka_load(w.path)
    assert loader, "rdkafka_load did not build"
    plain = {"bootstrap.servers": c.plain_bootstrap}
    secure = c.rdkafka_scram()
    secure_extra = [f"{k}={v}" for k, v in secure.items() if k != "bootstrap.servers"]
    admin = AdminClient(plain)
    for f in admin.create_topics([NewTopic(t, 1, 1) for t in ("bench-plain", "bench-tls")]).values():
        f.result()
    mb = args.n * args.size / 1e6
    result = {"messages": args.n, "size": args.size, "acks": "all"}
    for name, bootstrap, config, extra, topic in (
            ("plaintext", c.plain_bootstrap, plain, [], "bench-plain"),
            ("sasl_ssl", c.tls_bootstrap, secure, secure_extra, "bench-tls")):
        broker0, client0 = cpu_seconds(c.node.proc.pid), children_cpu()
        p = produce(loader, bootstrap, topic, args.n, args.size, extra)
        broker1, client1 = cpu_seconds(c.node.proc.pid), self_cpu()
        produce_client = children_cpu() - client0
        s = consume(config, topic, args.n)
        broker2, consume_client = cpu_seconds(c.node.proc.pid), self_cpu() - client1
        result[name] = {"produce_msgs_per_s": round(args.n / p), "produce_mb_per_s": round(mb / p, 1),
                        "consume_msgs_per_s": round(args.n / s), "consume_mb_per_s": round(mb / s, 1),
                        "produce_broker_cpu_ms_per_mb": round((broker1 - broker0) * 1000 / mb, 2),
                        "consume_broker_cpu_ms_per_mb": round((broker2 - broker1) * 1000 / mb, 2),
                        "produce_client_cpu_s": round(produce_client, 2),
                        "consume_client_cpu_s": round(consume_client, 2),
                        "produce_wall_s": round(p, 2), "consume_wall_s": round(s, 2)}
    for k in ("produce_msgs_per_s", "consume_msgs_per_s"):
        result[k.replace("msgs_per_s", "ratio")] = round(result["sasl_ssl"][k] / result["plaintext"][k], 3)
    for k in ("produce_broker_cpu_ms_per_mb", "consume_broker_cpu_ms_per_mb"):
        plain_cpu = result["plaintext"][k]
        result[k.replace("_ms_per_mb", "_tls_over_plain")] = (
            round(result["sasl_ssl"][k] / plain_cpu, 2) if plain_cpu else None)
    result["load_1m"] = os.getloadavg()[0]
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--n", type=int, default=300000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--json")
    args = ap.parse_args()
    dmqtest.BINARY = os.path.abspath(args.dmq)
    with dmqtest.Workdir() as w:
        result = run(args, w)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
