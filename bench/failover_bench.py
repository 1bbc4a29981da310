#!/usr/bin/python3
"""How long acks=all writes stop when a broker dies (issue 19 points 3 and 4).

A cluster of 3 controllers and 3 brokers (--layout split, the default) or 3
combined nodes (--layout combined) on loopback, with default session
settings. One topic with one partition, replication factor 3,
min.insync.replicas=2. An idempotent acks=all producer (librdkafka through
confluent_kafka) sends one message every --interval-ms (20 ms).

Each round: wait until the partition has its full ISR and its preferred
leader, then kill -9 the broker that leads the partition (--victim leader) or
one of its followers (--victim follower); the time from the kill to the
first acknowledgement of a message sent after the kill is the stall. The
killed broker is restarted (same data dir and ports) a few seconds later; the
longest gap between two acknowledgements while it rejoins the ISR and gets
its preferred leadership back is the planned-move stall (point 4).

With --fault pause the broker is stopped with SIGSTOP instead (and resumed
with SIGCONT where a killed one is restarted): its process stops answering
while its sockets stay open, as a leader cut off by a network partition
would look to the others (issue 17 point 7). Nothing closes a connection
then, so the controllers fence it only when its broker session
(broker.session.timeout.ms, 9 s by default) runs out: the target is under
the session timeout plus 1 s.

At the end: p50 and max of each, the message counts (every message must be
acknowledged exactly once: the producer is idempotent), and the machine's
load average.

Usage: bench/failover_bench.py [--dmq build/dmq] [--kills 10]
           [--victim leader|follower|both] [--layout split|combined] [--fault kill|pause]
           [--interval-ms 20] [--fresh N] [--json out.json]
"""
import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "process"))
import dmqtest  # noqa: E402
from dmqtest import Workdir, wait_until  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

TOPIC = "failover"
RESTART_AFTER_S = 3.0


class Load:
    """One message every `interval_s`; delivery reports timed on the producer's
    poll thread."""

    def __init__(self, bootstrap, interval_s):
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
            "linger.ms": 0, "message.timeout.ms": 60000, "request.timeout.ms": 30000,
            "topic.metadata.refresh.interval.ms": 5000, "log_level": 0})
        self.interval_s = interval_s
        self.lock = threading.Lock()
        self.acks = []  # (sent at, acknowledged at)
        self.failed = 0
        self.sent = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        next_send = time.monotonic()
        while not self.stop:
            now = time.monotonic()
            if now >= next_send:
                sent_at = now
                self.producer.produce(TOPIC, value=b"x" * 100, partition=0,
                                      on_delivery=lambda err, msg, s=sent_at: self.report(err, s))
                self.sent += 1
                next_send += self.interval_s
            self.producer.poll(max(0.0, min(0.005, next_send - time.monotonic())))
        self.producer.flush(60)

    def report(self, err, sent_at):
        with self.lock:
            if err is None:
                self.acks.append((sent_at, time.monotonic()))
            else:
                self.failed += 1

    def first_ack_sent_after(self, t0):
        with self.lock:
            times = [acked for sent, acked in self.acks if sent >= t0]
        return min(times) if times else None

    def longest_gap(self, start, end):
        with self.lock:
            times = sorted(acked for _, acked in self.acks if start <= acked <= end)
        if len(times) < 2:
            return None
        return max(b - a for a, b in zip(times, times[1:]))


class Cluster:
    def __init__(self, w, layout):
        if layout == "combined":
            self.controllers, voters = dmqtest.voter_nodes(w, 3)
            self.brokers = list(self.controllers)
        else:
            self.controllers, voters = dmqtest.voter_nodes(w, 3, role="controller")
            self.brokers = [w.node(node_id=10 + i, role="broker", controllers=voters)
                            for i in range(3)]
        self.nodes = list(dict.fromkeys(self.controllers + self.brokers))
        self.down = set()
        dmqtest.start_all(self.nodes)
        ids = [b.node_id for b in self.brokers]
        wait_until(lambda: self.alive_brokers() == set(ids), 30, what="three brokers alive")
        status, body = self.controllers[0].post("/v1/topics", {
            "name": TOPIC, "partitions": 1, "replication_factor": 3,
            "configs": {"min.insync.replicas": "2"}})
        assert status == 201, (status, body)

    @property
    def bootstrap(self):
        return ",".join(b.kafka for b in self.brokers)

    def up_controllers(self):
        return [c for c in self.controllers if c.node_id not in self.down]

    def alive_brokers(self):
        for c in self.up_controllers():
            try:
                status, body = c.get("/v1/brokers", timeout_s=1)
                if status == 200:
                    return {b["id"] for b in body["brokers"] if b["status"] == "alive"}
            except OSError:
                pass
        return set()

    def partition(self):
        """The partition as the controller leader sees it (a node that just
        restarted answers from its stale copy until it has caught up)."""
        leader = self.controller_leader()
        for c in sorted(self.up_controllers(), key=lambda c: c.node_id != leader):
            try:
                status, body = c.get(f"/v1/topics/{TOPIC}", timeout_s=1)
                if status == 200:
                    return body["partitions"][0]
            except OSError:
                pass
        return None

    def controller_leader(self):
        """The leader named by the highest term any live controller reports."""
        best = (-1, None)
        for c in self.up_controllers():
            try:
                status, body = c.get("/v1/cluster", timeout_s=1)
                if status == 200 and body.get("leader_id", -1) > 0 and body.get("term", 0) > best[0]:
                    best = (body.get("term", 0), body["leader_id"])
            except OSError:
                pass
        return best[1]

    def settled(self):
        p = self.partition()
        return p is not None and len(p["isr"]) == 3 and p["leader"] == p["replicas"][0]

    def broker(self, node_id):
        return next(b for b in self.brokers if b.node_id == node_id)


def one_round(cluster, load, victim_kind, k, fault="kill"):
    wait_until(cluster.settled, 60, interval_s=0.1, what="full ISR and preferred leader")
    time.sleep(1.0)  # acknowledgements flowing on the settled leader
    p = cluster.partition()
    followers = [r for r in p["isr"] if r != p["leader"]]
    victim_id = p["leader"] if victim_kind == "leader" else followers[-1]
    victim = cluster.broker(victim_id)
    also_controller = victim_id == cluster.controller_leader()
    killed_at = time.monotonic()
    if fault == "pause":
        victim.proc.send_signal(signal.SIGSTOP)
    else:
        victim.kill()
    cluster.down.add(victim_id)
    if fault == "pause":
        stall = isolated_leader_replaced(cluster, victim_id, killed_at)
    wait_until(lambda: load.first_ack_sent_after(killed_at) is not None, 120, interval_s=0.01,
               what="an acknowledged write after the fault")
    client_stall = load.first_ack_sent_after(killed_at) - killed_at
    if fault != "pause":
        stall = client_stall
    time.sleep(max(0.0, RESTART_AFTER_S - (time.monotonic() - killed_at)))
    restarted_at = time.monotonic()
    if fault == "pause":
        victim.proc.send_signal(signal.SIGCONT)
    else:
        victim.start(wait=False)
    cluster.down.discard(victim_id)
    wait_until(cluster.settled, 60, interval_s=0.1, what="the restarted broker back as leader")
    time.sleep(1.0)
    move_gap = load.longest_gap(restarted_at, time.monotonic())
    note = " (also the controller leader)" if also_controller else ""
    what = "SIGSTOP" if fault == "pause" else "kill -9"
    running = (f" (the running producer's first ack after {client_stall:.3f}s)"
               if fault == "pause" else "")
    print(f"  round {k + 1}: {victim_kind} broker {victim_id}{note}: first ack {stall:.3f}s after "
          f"{what}{running}; longest ack gap while it rejoined and led again "
          f"{move_gap if move_gap is None else round(move_gap, 3)}s", flush=True)
    return stall, move_gap, also_controller


def isolated_leader_replaced(cluster, victim_id, paused_at):
    """Seconds from the pause to the first acks=all write acknowledged by the
    new leader, written by a producer that never knew the paused one. The
    producer that was running also waits for its requests in flight to the
    paused broker (librdkafka's request.timeout.ms), which is the client's
    wait, not the cluster's; it is reported apart."""
    wait_until(lambda: (cluster.partition() or {}).get("leader") not in (None, -1, victim_id),
               60, interval_s=0.02, what="a new partition leader")
    others = ",".join(b.kafka for b in cluster.brokers if b.node_id != victim_id)
    producer = Producer({"bootstrap.servers": others, "acks": "all", "linger.ms": 0,
                         "log_level": 0})
    done = []
    producer.produce(TOPIC, value=b"after-isolation", partition=0,
                     on_delivery=lambda err, msg: done.append((err, time.monotonic())))
    producer.flush(30)
    assert done and done[0][0] is None, done
    return done[0][1] - paused_at


def fresh_partitions(args):
    """Point 2: the first acks=all write to a partition just created."""
    with Workdir() as w:
        cluster = Cluster(w, args.layout)
        producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all",
                             "enable.idempotence": True, "linger.ms": 0, "log_level": 0})
        firsts = []
        for k in range(args.fresh):
            topic = f"fresh-{k}"
            status, body = cluster.controllers[0].post("/v1/topics", {
                "name": topic, "partitions": 1, "replication_factor": 3,
                "configs": {"min.insync.replicas": "2"}})
            assert status == 201, (status, body)
            # Brokers serve it: the producer's first metadata answer names a leader.
            wait_until(lambda: all(b.get(f"/v1/topics/{topic}", timeout_s=1)[0] == 200
                                   for b in cluster.brokers), 10, what=f"{topic} on every broker")
            # The producer learns the topic first (librdkafka's discovery of a
            # new topic takes about a second by itself, which is not the broker's).
            producer.list_topics(topic, timeout=10)
            done = []
            t0 = time.monotonic()
            producer.produce(topic, value=b"first", partition=0,
                             on_delivery=lambda err, msg: done.append((err, time.monotonic())))
            producer.flush(30)
            assert done and done[0][0] is None, done
            firsts.append(done[0][1] - t0)
            print(f"  {topic}: first acks=all write acknowledged {firsts[-1]:.3f}s after send",
                  flush=True)
        print(summary("first acks=all write to a fresh RF 3 partition", firsts))
        return {"fresh_first_write_s": firsts}


def summary(label, values):
    values = [v for v in values if v is not None]
    if not values:
        return f"{label}: no samples"
    return (f"{label}: p50 {statistics.median(values):.3f}s, max {max(values):.3f}s, "
            f"min {min(values):.3f}s over {len(values)}")


def run(args, victim_kind):
    with Workdir() as w:
        cluster = Cluster(w, args.layout)
        load = Load(cluster.bootstrap, args.interval_ms / 1000)
        load.thread.start()
        rounds = [one_round(cluster, load, victim_kind, k, args.fault) for k in range(args.kills)]
        load.stop = True
        load.thread.join(90)
        acked = len(load.acks)
        result = {
            "victim": victim_kind, "layout": args.layout, "fault": args.fault,
            "stall_s": [r[0] for r in rounds], "planned_move_gap_s": [r[1] for r in rounds],
            "controller_leader_too": [r[2] for r in rounds],
            "sent": load.sent, "acknowledged": acked, "failed": load.failed}
        what = "SIGSTOP" if args.fault == "pause" else "kill -9"
        print(summary(f"{victim_kind} {what} -> first acks=all write", result["stall_s"]))
        print(summary("restart -> longest acks=all gap (preferred leader back)",
                      result["planned_move_gap_s"]))
        print(f"messages: sent {load.sent}, acknowledged {acked}, failed {load.failed}")
        return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--victim", choices=["leader", "follower", "both", "none"], default="both")
    ap.add_argument("--layout", choices=["split", "combined"], default="split")
    ap.add_argument("--interval-ms", type=float, default=20)
    ap.add_argument("--fault", choices=["kill", "pause"], default="kill",
                    help="kill -9 the victim, or SIGSTOP it (sockets stay open)")
    ap.add_argument("--fresh", type=int, default=0,
                    help="also time the first write to N freshly created RF 3 partitions")
    ap.add_argument("--json")
    args = ap.parse_args()
    dmqtest.BINARY = os.path.abspath(args.dmq)
    print(f"failover_bench: {args.layout} layout, {args.kills} rounds of {args.fault}, binary {dmqtest.BINARY}, "
          f"load average before {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    kinds = {"both": ["leader", "follower"], "none": []}.get(args.victim, [args.victim])
    for kind in kinds:
        print(f"-- victim: partition {kind}", flush=True)
        results.append(run(args, kind))
    if args.fresh:
        print(f"-- {args.fresh} fresh partitions", flush=True)
        results.append(fresh_partitions(args))
    print(f"load average after {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
