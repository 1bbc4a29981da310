#!/usr/bin/env python3
"""Share groups across a coordinator failover: three combined nodes,
replication factor 3 everywhere. HTTP workers accept good records and reject
bad ones while the coordinator of the group is killed with SIGKILL. After
the failover no acknowledgement that was answered is lost (no accepted
record is delivered again), every good record is accepted, none twice, and
every bad record is in the dead-letter topic exactly once."""

import time

from dmqtest import Workdir, run, start_all, voter_nodes, wait_until
from share_common import Ledger, Worker, create_topic, produce, read_topic

PARTITIONS = 3
PER_PARTITION = 1000


def start_cluster(w):
    extra = ["--broker.session.timeout.ms=3000", "--broker.heartbeat.interval.ms=500",
             "--offsets.topic.replication.factor=3", "--offsets.topic.num.partitions=4"]
    nodes, _ = voter_nodes(w, 3, extra=extra)
    start_all(nodes)
    wait_until(lambda: sum(b["status"] == "alive" for b in nodes[0].get("/v1/brokers")[1]["brokers"]) == 3,
               20, what="three brokers")
    return nodes


def coordinator_of(nodes, group):
    for n in nodes:
        if n.proc.poll() is not None:
            continue
        try:
            status, body = n.get(f"/v1/share-groups/{group}")
        except Exception:
            continue
        if status == 200:
            return body["coordinator"]
    return None


def test_coordinator_kill_loses_no_ack_and_duplicates_no_dead_letter():
    with Workdir() as w:
        nodes = start_cluster(w)
        bootstrap = ",".join(n.kafka for n in nodes)
        create_topic(nodes[0], "dead", 1, rf=3)
        create_topic(nodes[0], "work", PARTITIONS, rf=3, configs={
            "share.auto.offset.reset": "earliest", "share.dead.letter.topic": "dead",
            "share.record.lock.duration.ms": "5000"})
        values = {p: [(b"bad-%d-%d" if i % 25 == 7 else b"good-%d-%d") % (p, i)
                      for i in range(PER_PARTITION)] for p in range(PARTITIONS)}
        produce(bootstrap, "work", values)
        bad = {("work", p, o) for p in range(PARTITIONS) for o, v in enumerate(values[p])
               if v.startswith(b"bad")}
        good = {("work", p, o) for p in range(PARTITIONS) for o in range(PER_PARTITION)} - bad

        def decide(r):
            return ("reject", "unprocessable") if r["value"].startswith("bad") else ("accept", None)

        ledger = Ledger()
        deadline = time.monotonic() + 180
        workers = [Worker(nodes, "g-fail", ["work"], ledger, decide, deadline, max_records=20)
                   for _ in range(4)]
        for t in workers:
            t.start()
        wait_until(lambda: len(ledger.accepted) >= len(good) // 3, 60, interval_s=0.1,
                   what="a third accepted")
        victim_id = wait_until(lambda: coordinator_of(nodes, "g-fail"), 10, what="the coordinator")
        victim = nodes[victim_id - 1]
        accepted_before = len(ledger.accepted)
        victim.kill()
        survivors = [n for n in nodes if n is not victim]
        new_id = wait_until(lambda: (lambda c: c if c and c != victim_id else None)(
            coordinator_of(survivors, "g-fail")), 40, interval_s=0.2, what="a new coordinator")
        done = lambda: set(ledger.accepted) | ledger.uncertain >= good
        try:
            wait_until(lambda: done() or ledger.errors, 150, interval_s=0.2, what="every good record")
        except AssertionError:
            missing = sorted(good - set(ledger.accepted) - ledger.uncertain)
            print(f"missing {len(missing)}, first {missing[:5]}; group: "
                  f"{survivors[0].get('/v1/share-groups/g-fail')[1]}")
            raise
        wait_until(lambda: (lambda v: v and sum(p["dead_lettered"] for p in v["partitions"]) == len(bad))(
            survivors[0].get("/v1/share-groups/g-fail")[1]), 60, interval_s=0.2, what="dead letters")
        # Every record is done on the new coordinator: an uncertain accept was
        # either applied or its record came back and was accepted again.
        wait_until(lambda: (lambda v: v and all(p["start_offset"] == PER_PARTITION
                                                for p in v["partitions"]))(
            survivors[0].get("/v1/share-groups/g-fail")[1]), 30, interval_s=0.2,
            what="every partition acknowledged to its end")
        for t in workers:
            t.stop_flag.set()
        for t in workers:
            t.join(60)
        assert not ledger.errors, ledger.errors[:3]
        # No answered acknowledgement was lost: nothing accepted came back.
        assert not ledger.after_accept, ledger.after_accept[:5]
        twice = [k for k, n in ledger.accepted.items() if n != 1]
        assert not twice, twice[:5]
        missing = good - set(ledger.accepted) - ledger.uncertain
        assert not missing, sorted(missing)[:5]
        assert not (set(ledger.accepted) & bad)
        survivor_bootstrap = ",".join(n.kafka for n in survivors)
        dead = read_topic(survivor_bootstrap, "dead", 1, len(bad), timeout_s=60)
        seen = [(h["dmq.dlq.source.topic"], int(h["dmq.dlq.source.partition"]),
                 int(h["dmq.dlq.source.offset"])) for _, _, _, h in dead]
        assert len(seen) == len(set(seen)), f"{len(seen) - len(set(seen))} duplicated dead letters"
        assert set(seen) == bad, (len(set(seen)), len(bad))
        print(f"   coordinator {victim_id} killed after {accepted_before} accepts; {new_id} took over; "
              f"{len(good)} accepted ({len(ledger.uncertain)} answers lost in the crash), "
              f"{len(bad)} dead letters once each")


if __name__ == "__main__":
    run([test_coordinator_kill_loses_no_ack_and_duplicates_no_dead_letter])
