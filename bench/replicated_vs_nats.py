#!/usr/bin/python3
"""Replicated writes side by side: DMQ with replication factor 3, acks=all and
an fsync before every acknowledgement (three `--role=combined` nodes) against
NATS JetStream R3 (three clustered `nats-server` processes, file storage), in
one run on one machine.

Both are driven by C load generators that cost the same per message: DMQ by
bench/rdkafka_load.cpp (librdkafka; linger.ms=5 for throughput, 0 for
latency), NATS by bench/nats_load.cpp (Debian's libnats; asynchronous
JetStream publishes with --window unacknowledged). Each system gets a fresh
one-partition topic / one stream per row, the same message count, and the
same payload sizes (100 B and 1 KiB). Throughput rows run --rounds times in
alternating order and show the median and the spread; the latency row paces
--rate messages per second for --lat-secs and shows the acknowledgement
latency (send -> acknowledgement) percentiles.

Installs Debian's nats-server and libnats-dev when missing (as root).

Usage: bench/replicated_vs_nats.py [--dmq build/dmq] [--n100 500000]
           [--n1k 200000] [--rounds 3] [--rate 2000] [--lat-secs 10] [--json out.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_bench as kb  # noqa: E402
import replication_bench as rb  # noqa: E402


def ensure_nats():
    missing = [pkg for pkg, probe in (("nats-server", "/usr/sbin/nats-server"),
                                      ("libnats-dev", "/usr/include/nats/nats.h"))
               if not os.path.exists(probe) and not shutil.which(os.path.basename(probe))]
    if missing:
        subprocess.run(["apt-get", "install", "-y", *missing], check=True,
                       stdout=subprocess.DEVNULL)


def build(workdir, source, libs):
    out = os.path.join(workdir, os.path.splitext(source)[0])
    subprocess.run(["g++", "-O2", "-std=c++17", os.path.join(kb.HERE, source), *libs, "-o", out],
                   check=True, timeout=180)
    return out


class NatsCluster:
    """Three JetStream servers in one cluster; streams are created with 3
    replicas, so a publish is acknowledged once a quorum stored it."""

    def __init__(self, workdir):
        self.client = [kb.free_port() for _ in range(3)]
        self.route = [kb.free_port() for _ in range(3)]
        routes = ",".join(f"nats://127.0.0.1:{p}" for p in self.route)
        self.servers = []
        for i in range(3):
            self.servers.append(kb.Server(f"nats-{i + 1}", [
                "nats-server", "-js", "-sd", os.path.join(workdir, f"nats-{i + 1}"),
                "-a", "127.0.0.1", "-p", str(self.client[i]), "-n", f"n{i + 1}",
                "--cluster_name", "bench", "--cluster", f"nats://127.0.0.1:{self.route[i]}",
                "--routes", routes], workdir))
        self.urls = ",".join(f"nats://127.0.0.1:{p}" for p in self.client)
        try:
            kb.wait_until(self._meta_leader_known, 60, "a JetStream meta leader")
        except BaseException:
            self.stop()
            raise

    def _request(self, subject, body):
        # Until the cluster has a JetStream meta leader an API request gets no
        # answer at all, so every attempt is bounded.
        nc = kb.Nats(self.client[0])
        nc.s.settimeout(2)
        try:
            return nc.request(subject, body)
        finally:
            nc.s.close()

    def _meta_leader_known(self):
        return self._request(b"$JS.API.INFO", {}) is not None

    def create_stream(self, name):
        body = {"name": name, "subjects": [name.lower()], "storage": "file", "num_replicas": 3}
        kb.wait_until(lambda: self._request(b"$JS.API.STREAM.CREATE." + name.encode(), body), 30,
                      f"stream {name}")

    def cpu(self):
        return sum(s.cpu() for s in self.servers)

    def stop(self):
        for s in self.servers:
            s.stop()


def run_loader(argv, server):
    os.sync()
    s0 = server.cpu()
    out = subprocess.run(argv, timeout=600, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} failed: {out.stderr.strip()} {out.stdout}")
    res = json.loads(out.stdout)
    res["server_cpu"] = server.cpu() - s0
    return res


def dmq_row(cluster, loader, size, n, tag, rate=None):
    topic = f"r{size}{tag}"
    cluster.create_topic(topic, 3)
    argv = [loader, cluster.bootstrap, topic, str(n), str(size), "all", "0" if rate else "5"]
    return run_loader(argv + ([f"--rate={rate}"] if rate else []), cluster)


def nats_row(nats, loader, size, n, tag, rate=None):
    stream = f"R{size}{tag}".upper()
    nats.create_stream(stream)
    argv = [loader, nats.urls, stream.lower(), str(n), str(size)]
    return run_loader(argv + ([f"--rate={rate}"] if rate else []), nats)


def summary(results, size):
    mbs = sorted(r["n"] * size / r["secs"] / 1e6 for r in results)
    cpu_per_mb = statistics.median(r["server_cpu"] / (r["n"] * size / 1e6) for r in results)
    return {"mb_s": statistics.median(mbs), "min": mbs[0], "max": mbs[-1],
            "server_cpu_s_per_mb": cpu_per_mb, "errors": sum(r["errors"] for r in results)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmq", default=os.path.join(kb.HERE, "..", "build", "dmq"))
    ap.add_argument("--n100", type=int, default=500000)
    ap.add_argument("--n1k", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--lat-secs", type=float, default=10)
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    ensure_nats()
    workdir = tempfile.mkdtemp(prefix="dmq-vs-nats-", dir=args.tmp)
    load = [os.getloadavg()[0]]
    results = {}
    try:
        rdkafka = build(workdir, "rdkafka_load.cpp", ["-lrdkafka", "-pthread"])
        natsgen = build(workdir, "nats_load.cpp", ["-lnats", "-pthread"])
        dmq = rb.Cluster(os.path.abspath(args.dmq), workdir, flush=True)
        nats = NatsCluster(workdir)
        try:
            for size, n in ((100, args.n100), (1024, args.n1k)):
                runs = {"DMQ RF 3 acks=all": [], "NATS JetStream R3": []}
                for k in range(args.rounds):
                    order = [("DMQ RF 3 acks=all", dmq_row, dmq, rdkafka),
                             ("NATS JetStream R3", nats_row, nats, natsgen)]
                    for name, fn, system, loader in (order if k % 2 == 0 else order[::-1]):
                        runs[name].append(fn(system, loader, size, n, f"t{k}"))
                        load.append(os.getloadavg()[0])
                for name, rs in runs.items():
                    results[(name, size, "throughput")] = summary(rs, size)
            n_lat = int(args.rate * args.lat_secs)
            results[("DMQ RF 3 acks=all", 1024, "latency")] = dmq_row(
                dmq, rdkafka, 1024, n_lat, "lat", rate=args.rate)
            results[("NATS JetStream R3", 1024, "latency")] = nats_row(
                nats, natsgen, 1024, n_lat, "lat", rate=args.rate)
            load.append(os.getloadavg()[0])
        finally:
            dmq.stop()
            nats.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args, load)


def report(results, args, load):
    print(f"\nmachine load average during the run: {min(load):.1f}-{max(load):.1f}")
    print(f"throughput, median of {args.rounds} (min-max), server CPU seconds per acknowledged MB")
    print("| system | msg size | msgs | MB/s | spread | server CPU s/MB | errors |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for (name, size, kind), r in sorted(results.items()):
        if kind != "throughput":
            continue
        n = args.n100 if size == 100 else args.n1k
        print(f"| {name} | {size} B | {n} | {r['mb_s']:.1f} | {r['min']:.1f}-{r['max']:.1f} | "
              f"{r['server_cpu_s_per_mb']:.4f} | {r['errors']} |")
    for size in (100, 1024):
        d = results.get(("DMQ RF 3 acks=all", size, "throughput"))
        s = results.get(("NATS JetStream R3", size, "throughput"))
        if d and s:
            print(f"DMQ / NATS at {size} B: {d['mb_s'] / s['mb_s']:.2f}x")
    print(f"\nacknowledgement latency at {args.rate} msg/s, 1 KiB, {args.lat_secs:g} s")
    print("| system | acked | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for (name, size, kind), r in sorted(results.items()):
        if kind == "latency":
            print(f"| {name} | {r['n']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{k[0]}|{k[1]}|{k[2]}": v for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
