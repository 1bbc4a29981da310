#!/usr/bin/env python3
"""`make demo`: a failover demonstration that checks itself.

Starts 3 controllers and 3 brokers on loopback, a topic with 3 partitions
and replication factor 3, a producer (`dmq produce`, acks=all) fed a
numbered line every 5 ms, and a consumer group (`dmq consume --group`). It
prints a line per second (records in the log, consumed, lag, controller
leader, partition leaders), kills the controller leader with SIGKILL at
10 s and the leader of partition 0 at 25 s, and reports how long each
failover took. At 50 s the producer's input ends; once the producer has had
every line acknowledged and the group has caught up, the whole topic is read
back and every acknowledged line must be there. Ctrl-C tears everything down.

Exit code 0 when nothing acknowledged was lost, 1 otherwise.
Usage: scripts/demo.py [--dmq build/dmq] [--keep]   (--keep: leave the data directory)
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOPIC, GROUP, PARTITIONS = "demo", "demo-group", 3
KILL_CONTROLLER_AT, KILL_BROKER_AT, STOP_AT = 10, 25, 50


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=1.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read())


def post(port, path, body, timeout=5.0):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


class Cluster:
    def __init__(self, dmq, workdir):
        self.dmq, self.workdir = dmq, workdir
        self.http = {i: free_port() for i in range(1, 7)}
        self.kafka = {i: free_port() for i in range(4, 7)}
        self.voters = ",".join(f"{i}@127.0.0.1:{self.http[i]}" for i in range(1, 4))
        self.procs = {}

    def start(self, node_id):
        role = "controller" if node_id <= 3 else "broker"
        args = [self.dmq, f"--role={role}", f"--node-id={node_id}",
                f"--data-dir={self.workdir}/node-{node_id}", f"--controllers={self.voters}",
                f"--http-listen=127.0.0.1:{self.http[node_id]}"]
        if role == "broker":
            args.append(f"--kafka-listen=127.0.0.1:{self.kafka[node_id]}")
        log = open(f"{self.workdir}/node-{node_id}.log", "ab")
        self.procs[node_id] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def alive(self):
        return [i for i, p in self.procs.items() if p.poll() is None]

    def kill(self, node_id):
        self.procs[node_id].send_signal(signal.SIGKILL)
        self.procs[node_id].wait()

    def ask(self, path, nodes=None):
        """The first live node's answer (nodes: where to ask)."""
        for i in nodes or self.alive():
            try:
                return get(self.http[i], path)
            except Exception:
                continue
        return None

    def controller_leader(self, nodes=None):
        view = self.ask("/v1/cluster", nodes or [i for i in self.alive() if i <= 3])
        return view["leader_id"] if view else None

    def partitions(self):
        # Brokers answer with the offsets of the replicas they host; controllers have none.
        topic = self.ask(f"/v1/topics/{TOPIC}", [i for i in self.alive() if i > 3])
        return {p["partition"]: p for p in topic["partitions"]} if topic else {}

    def bootstrap(self):
        return ",".join(f"127.0.0.1:{self.kafka[i]}" for i in range(4, 7))

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_for(what, predicate, timeout_s, interval_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:
            pass
        time.sleep(interval_s)
    raise RuntimeError(f"timed out after {timeout_s} s waiting for {what}")


class Feeder(threading.Thread):
    """Writes numbered lines into the producer's stdin until stopped."""

    def __init__(self, stdin):
        super().__init__(daemon=True)
        self.stdin, self.sent, self.stop_flag = stdin, 0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                self.stdin.write(f"line-{self.sent}\n".encode())
                self.stdin.flush()
            except (BrokenPipeError, OSError):
                return
            self.sent += 1
            time.sleep(0.005)
        self.stdin.close()


def committed(cluster):
    group = cluster.ask(f"/v1/groups/{GROUP}")
    if not group:
        return 0
    return sum(o.get("committed_offset") or 0 for o in group.get("offsets", []) if o["topic"] == TOPIC)


def status_line(cluster, start):
    parts = cluster.partitions()
    in_log = sum(p.get("high_watermark") or 0 for p in parts.values())
    consumed = committed(cluster)
    leaders = " ".join(f"p{i}={parts[i]['leader']}" for i in sorted(parts))
    return (f"{time.monotonic() - start:5.1f}s  in log {in_log:7,}  consumed {consumed:7,}  "
            f"lag {max(0, in_log - consumed):6,}  controller leader {cluster.controller_leader()}  "
            f"partition leaders {leaders}")


def kill_controller_leader(cluster, report):
    victim = cluster.controller_leader()
    t0 = time.monotonic()
    cluster.kill(victim)
    survivors = [i for i in cluster.alive() if i <= 3]
    new = wait_for("a new controller leader",
                   lambda: (lambda l: l if l and l != victim else None)(cluster.controller_leader(survivors)), 30)
    elected = time.monotonic() - t0
    # The failover is over when a metadata write commits again.
    port = cluster.http[new]
    wait_for("a metadata write", lambda: post(port, "/v1/topics", {
        "name": f"probe-{int(time.time())}", "partitions": 1, "replication_factor": 1})[0] == 201, 30)
    report.append(f"controller leader {victim} killed: {new} elected after {elected:.2f} s, "
                  f"first metadata write committed after {time.monotonic() - t0:.2f} s")
    print(f"  >>> {report[-1]}", flush=True)


def kill_partition_leader(cluster, report):
    before = cluster.partitions()[0]
    victim, hw = before["leader"], before["high_watermark"]
    t0 = time.monotonic()
    cluster.kill(victim)
    moved = wait_for("a new leader of partition 0",
                     lambda: (lambda p: p if p["leader"] not in (victim, -1) else None)(cluster.partitions()[0]), 60)
    elected = time.monotonic() - t0
    wait_for("writes to partition 0", lambda: (cluster.partitions()[0]["high_watermark"] or 0) > hw, 60)
    report.append(f"broker {victim} (leader of partition 0) killed: broker {moved['leader']} leads it "
                  f"after {elected:.2f} s, writes acknowledged again after {time.monotonic() - t0:.2f} s")
    print(f"  >>> {report[-1]}", flush=True)


def read_back(dmq, bootstrap):
    out = subprocess.run([dmq, "consume", TOPIC, "--brokers", bootstrap, "--from-beginning",
                          "--exit-at-end", "--format", "%v\n"], capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"reading the topic back failed: {out.stderr.decode().strip()}")
    return out.stdout.decode().split("\n")


def run(args, workdir):
    cluster = Cluster(args.dmq, workdir)
    try:
        return demonstrate(args, workdir, cluster)
    finally:
        cluster.stop()


def demonstrate(args, workdir, cluster):
    for i in range(1, 7):
        cluster.start(i)
    print(f"3 controllers (1-3) and 3 brokers (4-6) starting; logs and data in {workdir}", flush=True)
    wait_for("three live brokers", lambda: sum(b["status"] == "alive" for b in cluster.ask("/v1/brokers")["brokers"]) == 3, 30)
    status, body = post(cluster.http[1], "/v1/topics", {"name": TOPIC, "partitions": PARTITIONS,
                                                        "replication_factor": 3,
                                                        "configs": {"min.insync.replicas": "2"}})
    assert status == 201, body
    wait_for("partition leaders", lambda: all(p["leader"] >= 0 for p in cluster.partitions().values()), 20)
    env = dict(os.environ, DMQ_BROKERS=cluster.bootstrap())
    producer = subprocess.Popen([args.dmq, "produce", TOPIC, "--acks", "all"], stdin=subprocess.PIPE,
                                stderr=open(f"{workdir}/producer.log", "wb"), env=env)
    consumer = subprocess.Popen([args.dmq, "consume", TOPIC, "--group", GROUP, "--from-beginning"],
                                stdout=subprocess.DEVNULL, stderr=open(f"{workdir}/consumer.log", "wb"), env=env)
    feeder = Feeder(producer.stdin)
    feeder.start()
    start, report, events = time.monotonic(), [], [(KILL_CONTROLLER_AT, kill_controller_leader),
                                                   (KILL_BROKER_AT, kill_partition_leader)]
    try:
        while time.monotonic() - start < STOP_AT:
            if events and time.monotonic() - start >= events[0][0]:
                threading.Thread(target=events.pop(0)[1], args=(cluster, report), daemon=True).start()
            print(status_line(cluster, start), flush=True)
            time.sleep(1)
        feeder.stop_flag.set()
        feeder.join(5)
        print(f"input closed after {feeder.sent:,} lines; waiting for the producer's acknowledgements", flush=True)
        producer_ok = producer.wait(90) == 0
        wait_for("the group to catch up", lambda: committed(cluster) >= sum(
            p["high_watermark"] for p in cluster.partitions().values()), 60, 0.5)
        print(status_line(cluster, start), flush=True)
    finally:
        for p in (producer, consumer):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in (producer, consumer):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    lines = read_back(args.dmq, cluster.bootstrap())
    sent = {f"line-{i}" for i in range(feeder.sent)}
    found = [l for l in lines if l.startswith("line-")]
    missing = sent - set(found)
    duplicated = len(found) - len(set(found))
    print("\nfailovers:")
    for r in report:
        print(f"  {r}")
    print(f"producer: {feeder.sent:,} lines sent, all acknowledged: {'yes' if producer_ok else 'NO'}")
    print(f"read back: {len(set(found)):,} distinct, {len(missing)} missing, {duplicated} duplicated "
          f"(a retried batch whose first answer was lost with its broker)")
    ok = producer_ok and not missing and len(report) == 2
    print("PASS: nothing acknowledged was lost" if ok else "FAIL")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(os.path.dirname(__file__), "..", "build", "dmq"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.dmq = os.path.abspath(args.dmq)
    workdir = tempfile.mkdtemp(prefix="dmq-demo-")
    code = 1
    try:
        code = run(args, workdir)
    except KeyboardInterrupt:
        print("\ninterrupted: tearing down")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
