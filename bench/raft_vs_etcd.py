#!/usr/bin/python3
"""Controller quorum vs etcd: commits per second and commit latency.

Starts a 3-controller DMQ cluster and a 3-member etcd cluster on loopback
(fresh temporary data dirs, free ports, fsync on commit in both: DMQ's
group-committed LMDB transaction, etcd's default WAL fsync), finds each
leader, and runs bench/http_load against each leader at every concurrency
level in the same run:

  DMQ   POST /internal/raft/propose   body = S raw bytes
  etcd  POST /v3/kv/put               {"key":b64,"value":b64 of S bytes}

Prints a markdown table (and, with --json, every raw result), plus what the
DMQ leader's /metrics say about group commit during each level: fsyncs,
entries per fsync, mean persist time.

Every wait is bounded; every process is stopped by its PID; the temporary
directory is removed unless --keep is given.

Usage (from the repository root, after building `dmq` and `http_load`):
  bench/raft_vs_etcd.py --build-dir build-bench
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_ports(n):
    """n distinct free loopback ports (held open together so none repeats)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def http(method, url, body=None, timeout=3.0):
    """(status, body text) or (None, reason) on a transport error."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def wait_until(what, timeout_s, probe, interval_s=0.2):
    """Polls probe() until it returns a true value; raises after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise RuntimeError(f"timed out after {timeout_s}s waiting for {what}")


class Procs:
    """Child processes, each in its own session, stopped by PID."""

    def __init__(self):
        self.procs = []  # (name, Popen)

    def start(self, name, argv, log_path):
        out = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.procs.append((name, p))
        return p

    def check_alive(self):
        for name, p in self.procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} (pid {p.pid}) exited with {p.returncode}")

    def stop_all(self):
        for _, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} (pid {p.pid}) ignored SIGTERM; killing")
                p.kill()
                p.wait(timeout=5)
        self.procs = []


def cpu_ticks(pids):
    """utime+stime of the given processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


# ---------------------------------------------------------------- DMQ cluster

class DmqCluster:
    def __init__(self, binary, workdir, procs):
        self.binary, self.workdir, self.procs = binary, workdir, procs
        self.ports = free_ports(3)
        self.pids = []
        self.leader_port = None

    def start(self):
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(self.ports))
        for i, port in enumerate(self.ports):
            node = i + 1
            data = os.path.join(self.workdir, f"dmq-{node}")
            os.makedirs(data)
            argv = [self.binary, "--role=controller", f"--node-id={node}", f"--data-dir={data}",
                    f"--http-listen=127.0.0.1:{port}", f"--controllers={voters}",
                    "--log-level=warn"]
            p = self.procs.start(f"dmq-{node}", argv, os.path.join(self.workdir, f"dmq-{node}.log"))
            self.pids.append(p.pid)

    def leader(self):
        """Port of the leader all three agree on, or None."""
        ids = set()
        for port in self.ports:
            status, body = http("GET", f"http://127.0.0.1:{port}/v1/cluster", timeout=1)
            if status != 200:
                return None
            ids.add(json.loads(body).get("leader_id"))  # null while there is none
        if len(ids) != 1:
            return None
        leader_id = ids.pop()
        if leader_id not in (1, 2, 3):
            return None
        return self.ports[leader_id - 1]

    def wait_ready(self, timeout_s):
        self.leader_port = wait_until("a DMQ controller leader", timeout_s,
                                      lambda: self.procs.check_alive() or self.leader())
        # One write end to end, so the first measured request is not the first ever.
        status, body = http("POST", self.url(), b"warm", timeout=10)
        if status != 200:
            raise RuntimeError(f"DMQ propose failed: {status} {body}")

    def url(self):
        return f"http://127.0.0.1:{self.leader_port}/internal/raft/propose"

    def max_term(self):
        """Highest Raft term any controller reports (an election moves it)."""
        terms = []
        for port in self.ports:
            status, body = http("GET", f"http://127.0.0.1:{port}/v1/cluster", timeout=5)
            if status == 200:
                terms.append(json.loads(body).get("term", 0))
        return max(terms, default=None)

    def metrics(self):
        """The leader's dmq_raft_* samples; {} if it does not answer within 10 s."""
        def scrape():
            status, body = http("GET", f"http://127.0.0.1:{self.leader_port}/metrics", timeout=5)
            return body if status == 200 else None
        try:
            body = wait_until("the DMQ leader's /metrics", 10, scrape, interval_s=0.5)
        except RuntimeError as e:
            log(str(e))
            return {}
        out = {}
        for line in body.splitlines():
            if line.startswith("dmq_raft_") and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out


def histogram_quantile(before, after, family, q):
    """Upper bound (seconds) of the bucket holding quantile q of the delta."""
    buckets = []
    for name, value in after.items():
        if name.startswith(family + "_bucket{") and 'le="' in name:
            le = name.split('le="', 1)[1].split('"', 1)[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.append((bound, value - before.get(name, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    target = q * buckets[-1][1]
    for bound, count in buckets:
        if count >= target:
            return bound
    return None


def group_commit_stats(before, after):
    if not before or not after:
        return None  # a scrape failed: no numbers rather than wrong ones

    def delta(name):
        return after.get(name, 0.0) - before.get(name, 0.0)

    fsyncs = delta("dmq_raft_ready_batches_total")
    entries = delta("dmq_raft_entries_persisted_total")
    persist_n = delta("dmq_raft_persist_seconds_count")
    commit_n = delta("dmq_raft_commit_seconds_count")
    return {
        "fsyncs": fsyncs,
        "entries_persisted": entries,
        "entries_per_fsync": entries / fsyncs if fsyncs else None,
        "persist_mean_ms": 1000 * delta("dmq_raft_persist_seconds_sum") / persist_n
        if persist_n else None,
        "persist_p99_le_ms": _ms(histogram_quantile(before, after, "dmq_raft_persist_seconds", 0.99)),
        "commit_mean_ms": 1000 * delta("dmq_raft_commit_seconds_sum") / commit_n
        if commit_n else None,
        "commit_p99_le_ms": _ms(histogram_quantile(before, after, "dmq_raft_commit_seconds", 0.99)),
        "proposals": delta("dmq_raft_proposals_total"),
        "proposals_failed": delta("dmq_raft_proposals_failed_total"),
    }


def _ms(seconds):
    return None if seconds is None else 1000 * seconds


# --------------------------------------------------------------- etcd cluster

class EtcdCluster:
    def __init__(self, binary, workdir, procs):
        self.binary, self.workdir, self.procs = binary, workdir, procs
        ports = free_ports(6)
        self.client_ports, self.peer_ports = ports[:3], ports[3:]
        self.pids = []
        self.leader_port = None

    def start(self):
        initial = ",".join(f"m{i + 1}=http://127.0.0.1:{p}" for i, p in enumerate(self.peer_ports))
        token = f"dmq-bench-{os.getpid()}"
        for i in range(3):
            name = f"m{i + 1}"
            client = f"http://127.0.0.1:{self.client_ports[i]}"
            peer = f"http://127.0.0.1:{self.peer_ports[i]}"
            # fsync of the WAL on every commit is etcd's default (no
            # --unsafe-no-fsync): equal durability with DMQ.
            argv = [self.binary, "--name", name,
                    "--data-dir", os.path.join(self.workdir, f"etcd-{name}"),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", initial, "--initial-cluster-token", token,
                    "--initial-cluster-state", "new",
                    "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn"]
            p = self.procs.start(f"etcd-{name}", argv,
                                 os.path.join(self.workdir, f"etcd-{name}.log"))
            self.pids.append(p.pid)

    def leader(self):
        for port in self.client_ports:
            status, body = http("POST", f"http://127.0.0.1:{port}/v3/maintenance/status", "{}",
                                timeout=1)
            if status != 200:
                continue
            s = json.loads(body)
            leader = s.get("leader")
            if leader and leader != "0" and s.get("header", {}).get("member_id") == leader:
                return port
        return None

    def wait_ready(self, timeout_s):
        self.leader_port = wait_until("an etcd leader", timeout_s,
                                      lambda: self.procs.check_alive() or self.leader())
        key = base64.b64encode(b"bench/warm").decode()
        status, body = http("POST", self.url(), json.dumps({"key": key, "value": key}), timeout=10)
        if status != 200:
            raise RuntimeError(f"etcd put failed: {status} {body}")

    def url(self):
        return f"http://127.0.0.1:{self.leader_port}/v3/kv/put"


# ------------------------------------------------------------------ running

def run_load(http_load, url, mode, concurrency, args, label):
    argv = [http_load, "--url", url, "--mode", mode, "-c", str(concurrency),
            "-d", str(args.duration), "-w", str(args.warmup), "-s", str(args.size),
            "--timeout", "10", "--label", label]
    budget = args.warmup + args.duration + 30  # the last requests may take up to --timeout
    r = subprocess.run(argv, capture_output=True, text=True, timeout=budget)
    if r.returncode != 0:
        raise RuntimeError(f"http_load failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(cluster, http_load, mode, concurrency, args, label, all_pids):
    ticks0, t0 = cpu_ticks(cluster.pids), time.monotonic()
    all0 = cpu_ticks(all_pids)
    result = run_load(http_load, cluster.url(), mode, concurrency, args, label)
    wall = time.monotonic() - t0
    hz = os.sysconf("SC_CLK_TCK")
    result["servers_cpu_pct"] = 100.0 * (cpu_ticks(cluster.pids) - ticks0) / hz / wall
    result["other_cluster_cpu_pct"] = 100.0 * ((cpu_ticks(all_pids) - all0) -
                                               (cpu_ticks(cluster.pids) - ticks0)) / hz / wall
    return result


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def print_tables(rows, args, fsync_note):
    print(f"\n3 members each on loopback, {args.size}-byte values, closed loop, "
          f"{args.duration:g} s measured after {args.warmup:g} s warm-up per level. {fsync_note}\n")
    print("| concurrency | DMQ commits/s | DMQ p50 ms | DMQ p99 ms | etcd puts/s | etcd p50 ms "
          "| etcd p99 ms | ratio DMQ/etcd |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        d, e = r["dmq"], r["etcd"]
        ratio = d["ops_per_s"] / e["ops_per_s"] if e["ops_per_s"] else None
        print(f"| {r['concurrency']} | {d['ops_per_s']:.0f} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} "
              f"| {e['ops_per_s']:.0f} | {e['p50_ms']:.2f} | {e['p99_ms']:.2f} | {fmt(ratio, 2)} |")
    print("\nErrors, starved connections (completed nothing in the measured window), elections "
          "and CPU (100% = one core):\n")
    print("| concurrency | DMQ errors | DMQ starved connections | DMQ term before→after "
          "| etcd errors | etcd starved connections | DMQ servers CPU % "
          "| etcd servers CPU % | load generator CPU % (DMQ / etcd) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        d, e = r["dmq"], r["etcd"]
        print(f"| {r['concurrency']} | {d['errors']} | {d.get('starved_connections', '-')} "
              f"| {r['dmq_term'][0]}→{r['dmq_term'][1]} "
              f"| {e['errors']} | {e.get('starved_connections', '-')} | {d['servers_cpu_pct']:.0f} "
              f"| {e['servers_cpu_pct']:.0f} | {d['loadgen_cpu_pct']:.0f} / "
              f"{e['loadgen_cpu_pct']:.0f} |")
    print("\nDMQ leader group commit (deltas of /metrics over each level):\n")
    print("| concurrency | fsyncs (Ready batches) | entries persisted | entries per fsync "
          "| persist mean ms | persist p99 bucket ms | commit mean ms | commit p99 bucket ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        g = r["dmq_group_commit"]
        if g is None:
            print(f"| {r['concurrency']} | leader's /metrics did not answer | | | | | | |")
            continue
        print(f"| {r['concurrency']} | {g['fsyncs']:.0f} | {g['entries_persisted']:.0f} "
              f"| {fmt(g['entries_per_fsync'], 2)} | {fmt(g['persist_mean_ms'], 2)} "
              f"| {fmt(g['persist_p99_le_ms'], 1)} | {fmt(g['commit_mean_ms'], 2)} "
              f"| {fmt(g['commit_p99_le_ms'], 1)} |")
    sys.stdout.flush()


def measure_fsync_ms(directory):
    """Mean latency of a 4 KiB O_DSYNC write on the data disk (like dd oflag=dsync)."""
    path = os.path.join(directory, "fsync-probe")
    block, count = b"\0" * 4096, 200
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DSYNC, 0o600)
    try:
        t0 = time.monotonic()
        for _ in range(count):
            os.write(fd, block)
        return 1000 * (time.monotonic() - t0) / count
    finally:
        os.close(fd)
        os.unlink(path)


def ensure_etcd():
    if shutil.which("etcd") and shutil.which("etcdctl"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("etcd is missing: apt-get install -y etcd-server etcd-client")
    log("installing etcd-server and etcd-client")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "etcd-server", "etcd-client"], check=True,
                   env=env, timeout=600, stdout=subprocess.DEVNULL)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("DMQ_BUILD_DIR", "build"),
                    help="where dmq and bench/http_load were built (relative to the repo root)")
    ap.add_argument("--levels", default="1,16,128", help="concurrency levels")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per run")
    ap.add_argument("--size", type=int, default=256, help="value bytes")
    ap.add_argument("--workdir", default=None, help="parent of the temporary data dirs")
    ap.add_argument("--json", default=None, help="also write every raw result to this file")
    ap.add_argument("--keep", action="store_true", help="keep data dirs and logs")
    return ap.parse_args()


def main():
    args = parse_args()
    build = os.path.join(ROOT, args.build_dir)
    dmq = os.path.join(build, "dmq")
    http_load = os.path.join(build, "bench", "http_load")
    for path in (dmq, http_load):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"missing {path}: build the dmq and http_load targets first")
    ensure_etcd()
    levels = [int(x) for x in args.levels.split(",")]

    # SIGTERM runs the same clean-up as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="dmq-bench-", dir=args.workdir)
    procs = Procs()
    try:
        fsync_ms = measure_fsync_ms(workdir)
        fsync_note = f"Data disk: {fsync_ms:.2f} ms per 4 KiB O_DSYNC write."
        log(f"workdir {workdir}; {fsync_note}")
        dmq_cluster = DmqCluster(dmq, workdir, procs)
        etcd_cluster = EtcdCluster(shutil.which("etcd"), workdir, procs)
        dmq_cluster.start()
        etcd_cluster.start()
        dmq_cluster.wait_ready(30)
        etcd_cluster.wait_ready(30)
        log(f"DMQ leader on :{dmq_cluster.leader_port}, etcd leader on :{etcd_cluster.leader_port}")
        all_pids = dmq_cluster.pids + etcd_cluster.pids
        rows = []
        for c in levels:
            row = {"concurrency": c}
            before, term_before = dmq_cluster.metrics(), dmq_cluster.max_term()
            row["dmq"] = measure(dmq_cluster, http_load, "raw", c, args, f"dmq-c{c}", all_pids)
            row["dmq_group_commit"] = group_commit_stats(before, dmq_cluster.metrics())
            row["dmq_term"] = (term_before, dmq_cluster.max_term())
            log(f"dmq  c={c}: {json.dumps(row['dmq'])}")
            row["etcd"] = measure(etcd_cluster, http_load, "etcd", c, args, f"etcd-c{c}", all_pids)
            log(f"etcd c={c}: {json.dumps(row['etcd'])}")
            procs.check_alive()
            if row["dmq_term"][0] != row["dmq_term"][1]:
                log(f"warning: DMQ elections during c={c}: term {row['dmq_term']}")
            # A level must start on a settled cluster: follow a new leader.
            dmq_cluster.wait_ready(30)
            if etcd_cluster.leader() != etcd_cluster.leader_port:
                log("warning: the etcd leader changed during the run")
                etcd_cluster.wait_ready(30)
            rows.append(row)
        print_tables(rows, args, fsync_note)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"fsync_ms": fsync_ms, "rows": rows}, f, indent=1)
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
