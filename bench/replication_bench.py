#!/usr/bin/python3
"""What replication costs (issue 6, item 7): produce throughput, produce
acknowledgement latency and end-to-end latency for replication factor 3 with
acks=all against replication factor 1 (acks=1 and acks=all), in one run, on
one 3-node cluster of `--role=combined` processes on loopback.

Every topic has one partition, so each row measures one leader (for RF 3, the
leader plus two fetching followers that fsync before they report their
offset). The load generators are librdkafka (confluent_kafka) processes from
kafka_bench.py: w_kafka_produce for throughput (linger.ms=5, no compression),
w_kafka_lat_produce/w_kafka_lat_consume for end-to-end latency (acks=all),
plus a paced producer here that times each delivery report (send ->
acknowledgement) for the acks setting of the row.

Throughput rows are measured in --rounds rounds (configurations in rotated
order) and the median is shown, because the machine's load drifts. The ack
latency producer warms up first (one message, then 100) and reports the
first acknowledgement apart.

Usage: bench/replication_bench.py [--dmq build/dmq] [--n100 200000]
           [--n1k 50000] [--rounds 3] [--rate 2000] [--lat-secs 10] [--json out.json]
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_bench as kb  # noqa: E402

# Each row: (label, replication factor, acks).
CONFIGS = [
    ("RF 1, acks=1", 1, "1"),
    ("RF 1, acks=all", 1, "all"),
    ("RF 3, acks=1", 3, "1"),
    ("RF 3, acks=all", 3, "all"),
]


class Cluster:
    """Three combined nodes; cpu() is the sum over the three processes, so
    kafka_bench's run_worker and run_latency can charge server CPU to it."""

    def __init__(self, binary, workdir, flush):
        self.http = [kb.free_port() for _ in range(3)]
        self.kafka = [kb.free_port() for _ in range(3)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(self.http))
        self.servers = []
        self.proc = None  # the process kafka_bench's run_latency samples, see bench_latency
        for i in range(3):
            self.servers.append(kb.Server(f"dmq-{i + 1}", [
                binary, "--role=combined", f"--node-id={i + 1}", f"--controllers={voters}",
                f"--data-dir={os.path.join(workdir, f'dmq-{i + 1}')}", "--log-level=warn",
                f"--http-listen=127.0.0.1:{self.http[i]}",
                f"--kafka-listen=127.0.0.1:{self.kafka[i]}",
                f"--log.flush.on.ack={'true' if flush else 'false'}"], workdir))
        self.bootstrap = ",".join(f"127.0.0.1:{p}" for p in self.kafka)

        def all_alive():
            brokers = json.loads(self.get("/v1/brokers"))["brokers"]
            return sum(b["status"] == "alive" for b in brokers) == 3
        try:
            kb.wait_until(all_alive, 30, "three DMQ brokers alive")
        except BaseException:
            self.stop()
            raise

    def get(self, path, node=0):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http[node]}{path}", timeout=5) as r:
            return r.read()

    def leader_proc(self, topic):
        leader = json.loads(self.get(f"/v1/topics/{topic}"))["partitions"][0]["leader"]
        return self.servers[leader - 1].proc

    def cpu(self):
        return sum(s.cpu() for s in self.servers)

    def create_topic(self, name, rf):
        body = {"name": name, "partitions": 1, "replication_factor": rf,
                "configs": {"min.insync.replicas": "2" if rf == 3 else "1"}}
        req = urllib.request.Request(f"http://127.0.0.1:{self.http[0]}/v1/topics", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

        def ready():
            p = json.loads(self.get(f"/v1/topics/{name}"))["partitions"][0]
            return p["leader"] > 0 and len(p["isr"]) == rf
        kb.wait_until(ready, 20, f"topic {name} with a leader and a full ISR")

    def stop(self):
        for s in self.servers:
            s.stop()


def w_ack_latency(q, bootstrap, topic, rate, secs, size, acks):
    """Paced producer; the latency of a message is send -> delivery report."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 0,
                  "compression.type": "none"})
    lats, errors = [], [0]
    slow = []  # (seconds into the run, latency ms) of messages over 100 ms
    body = kb.payload(size)
    # Warm-up: connections, metadata and the first produce of a fresh topic
    # are timed apart (first_ack_ms), not mixed into the steady-state tail.
    t_first = time.monotonic()
    first = []
    p.produce(topic, body, on_delivery=lambda err, _m: first.append(err))
    p.flush(30)
    first_ack_ms = (time.monotonic() - t_first) * 1000
    for _ in range(100):
        p.produce(topic, body)
    p.flush(30)
    t0 = time.monotonic()

    def send(k):
        for _ in range(k):
            t = time.monotonic()

            def done(err, _msg, t=t):
                if err is None:
                    lat = (time.monotonic() - t) * 1000
                    lats.append(lat)
                    if lat > 100:
                        slow.append((t - t0, lat))
                else:
                    errors[0] += 1
            p.produce(topic, body, on_delivery=done)
        p.poll(0)
    n = kb.paced(rate, secs, send)
    p.flush(30)
    q.put({"sent": n, "lats": lats, "errors": errors[0], "slow": slow, "first_ack_ms": first_ack_ms})


def bench_throughput(args, cluster, rows):
    """Every configuration and size once per round, rounds in rotated order
    (the machine is shared: load drifts); each row keeps the median round."""
    runs = {}
    for rnd in range(args.rounds):
        order = CONFIGS[rnd % len(CONFIGS):] + CONFIGS[:rnd % len(CONFIGS)]
        for label, rf, acks in order:
            for size, n in ((100, args.n100), (1024, args.n1k)):
                topic = f"t{size}rf{rf}a{acks}r{rnd}"
                cluster.create_topic(topic, rf)
                r = kb.run_worker(kb.w_kafka_produce, cluster.bootstrap, topic, n, size, acks,
                                  server=cluster, timeout=300)
                runs.setdefault((label, size), []).append(
                    dict(kb.row(label, "produce", size, r, True), errors=r.get("errors", 0)))
    for label, _rf, _acks in CONFIGS:
        for size in (100, 1024):
            results = sorted(runs[(label, size)], key=lambda r: r["msgs_s"])
            median = dict(results[len(results) // 2])
            median["rounds_msgs_s"] = [r["msgs_s"] for r in runs[(label, size)]]
            rows.append(median)


def bench_latency(args, cluster, label, rf, acks, lats):
    tag = f"rf{rf}a{acks}"
    topic = f"ack{tag}"
    cluster.create_topic(topic, rf)
    s0 = cluster.cpu()
    r = kb.run_worker(w_ack_latency, cluster.bootstrap, topic, args.rate, args.lat_secs,
                      kb.LAT_SIZE, acks, timeout=args.lat_secs + 90)
    ack = sorted(r["lats"])
    entry = {"config": label, "rate": args.rate, "sent": r["sent"], "acked": len(ack),
             "errors": r["errors"], "ack_p50": kb.pct(ack, 50), "ack_p99": kb.pct(ack, 99),
             "server_cpu": cluster.cpu() - s0, "slow": len(r["slow"]), "first_ack_ms": r["first_ack_ms"],
             "slow_from_s": min((t for t, _ in r["slow"]), default=None),
             "slow_to_s": max((t for t, _ in r["slow"]), default=None),
             "slow_max_ms": max((lat for _, lat in r["slow"]), default=None)}
    if acks == "all":  # kafka_bench's latency producer always asks for acks=all
        topic = f"e2e{tag}"
        cluster.create_topic(topic, rf)
        # kafka_bench may sample the server process's run-queue waits: that of
        # the partition leader.
        cluster.proc = cluster.leader_proc(topic)
        e2e = kb.run_latency(kb.w_kafka_lat_produce, (cluster.bootstrap, topic),
                             kb.w_kafka_lat_consume, (cluster.bootstrap, topic, 10),
                             args.rate, args.lat_secs, cluster)
        entry.update(e2e_p50=e2e["p50"], e2e_p99=e2e["p99"], e2e_received=e2e["received"])
    lats.append(entry)
    print(f"  {label}: ack p99 {entry['ack_p99']:.2f} ms", file=sys.stderr)


def ratio(rows, size, a, b):
    ra = next((r for r in rows if r["system"] == a and r["size"] == size), None)
    rb = next((r for r in rows if r["system"] == b and r["size"] == size), None)
    if not ra or not rb or not rb["msgs_s"]:
        return float("nan")
    return ra["msgs_s"] / rb["msgs_s"]


def fmt(v):
    return "n/a" if v is None or v != v else f"{v:.2f}"


def print_tables(rows, lats, args):
    print(f"\nThroughput: {args.n100} x 100 B and {args.n1k} x 1 KiB messages per row, "
          "one partition, one librdkafka producer (linger.ms=5); median of "
          f"{args.rounds} rounds (all rounds in the last column)\n")
    print("| configuration | msg size | msgs/s | MB/s | errors | generator CPU | 3 servers CPU | rounds msgs/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        rounds = " / ".join(f"{v / 1000:.0f}k" for v in r["rounds_msgs_s"])
        print(f"| {r['system']} | {r['size']} B | {r['msgs_s']:,.0f} | {r['mb_s']:.1f} | {r['errors']} | "
              f"{r['gen_cpu_pct']:.0f}% | {r['server_cpu_pct']:.0f}% | {rounds} |")
    print(f"\nLatency at {args.rate} msg/s for {args.lat_secs:g} s ({kb.LAT_SIZE} B; ack = send -> "
          "delivery report with linger.ms=0; end to end = acks=all producer with linger.ms="
          f"{kb.LAT_LINGER_MS} -> consumer with fetch.wait.max.ms=10)\n")
    print("| configuration | acked / sent | first ack ms | ack p50 ms | ack p99 ms | end-to-end p50 ms | end-to-end p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for l in lats:
        print(f"| {l['config']} | {l['acked']} / {l['sent']} | {l['first_ack_ms']:.0f} | {fmt(l['ack_p50'])} | "
              f"{fmt(l['ack_p99'])} | {fmt(l.get('e2e_p50'))} | {fmt(l.get('e2e_p99'))} |")
    for l in lats:
        if l["slow"]:
            print(f"\n{l['config']}: {l['slow']} acknowledgements over 100 ms (worst {l['slow_max_ms']:.0f} ms), "
                  f"sent between {l['slow_from_s']:.2f} s and {l['slow_to_s']:.2f} s into the run", end="")
    print("\n\nRatios, RF 3 acks=all against RF 1:")
    for size in (100, 1024):
        print(f"- throughput {size} B: {ratio(rows, size, 'RF 3, acks=all', 'RF 1, acks=all'):.2f}x "
              f"of RF 1 acks=all, {ratio(rows, size, 'RF 3, acks=all', 'RF 1, acks=1'):.2f}x of RF 1 acks=1")
    p99 = {l["config"]: l["ack_p99"] for l in lats}
    if p99.get("RF 1, acks=all") and p99.get("RF 3, acks=all"):
        print(f"- ack p99: {p99['RF 3, acks=all'] / p99['RF 1, acks=all']:.2f}x of RF 1 acks=all, "
              f"{p99['RF 3, acks=all'] / p99['RF 1, acks=1']:.2f}x of RF 1 acks=1")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmq", default=os.path.join(kb.HERE, "..", "build", "dmq"))
    ap.add_argument("--n100", type=int, default=200000)
    ap.add_argument("--n1k", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=3, help="throughput rounds; the median is shown")
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--lat-secs", type=float, default=10)
    ap.add_argument("--page-cache", action="store_true", help="--log.flush.on.ack=false")
    ap.add_argument("--tmp", default=None, help="parent of the temporary data dirs")
    ap.add_argument("--json")
    args = ap.parse_args()
    # SIGTERM unwinds like an exception: the servers are stopped by PID and
    # the temporary dirs removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="repl-bench-", dir=args.tmp)
    rows, lats = [], []
    t0 = time.monotonic()
    cluster = None
    try:
        cluster = Cluster(args.dmq, workdir, not args.page_cache)
        bench_throughput(args, cluster, rows)
        for label, rf, acks in CONFIGS:
            bench_latency(args, cluster, label, rf, acks, lats)
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print_tables(rows, lats, args)
    print(f"\nTotal {time.monotonic() - t0:.0f}s on {os.cpu_count()} CPUs, "
          f"log.flush.on.ack={'false' if args.page_cache else 'true'}.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"throughput": rows, "latency": lats}, f, indent=1)


if __name__ == "__main__":
    main()
