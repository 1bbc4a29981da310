"""A broker whose process is gone is fenced at once, not after its session
(issue 19 point 3), with real dmq processes and a real Kafka client.

Every controller holds an idle connection to each broker's Kafka listener
(src/controller/broker_watch.h); when it closes and a new connect is refused,
the broker's registration is fenced. The nodes here run with a 30 s broker
session, so anything that happens within a few seconds of a kill can only come
from that path, not from session expiry.

- killed_broker_fenced_fast: kill -9 of a broker that is not the controller
  leader: it is fenced and leaves every ISR, and every partition it led has
  a new leader, within 10 s (a third of its session); then the same for the
  node that is also the controller leader (the new controller leader fences
  it from its own watch instead of granting a 30 s grace period).
- frozen_broker_not_fenced: SIGSTOP of a broker for 8 s (within its session):
  it stays alive in /v1/brokers on every check and keeps its leaderships.
- kill_leaders_long_session: test_replication's kill_leaders load (an
  idempotent acks=all producer, kill -9 of a partition leader every 10 s,
  restart 4 s later) with the 30 s session: nothing acknowledged is missing
  or duplicated. Without the fast fence the restarted broker could not even
  register again (its old registration would hold the id for 30 s).

Usage: test_fast_failover.py [test names...]   (default: all, in order)"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import test_replication as repl  # noqa: E402
import dmqtest  # noqa: E402
from dmqtest import Workdir, wait_until  # noqa: E402

SESSION_MS = 30000
FAST_S = 10.0  # a third of the session: only the connection path is this fast
repl.SESSION_MS = SESSION_MS


def broker_status(cluster):
    """{broker id: status} as the controller leader reports it."""
    leader = cluster.controller_leader()
    for n in sorted(cluster.up(), key=lambda n: n.node_id != leader):
        try:
            status, body = n.get("/v1/brokers", timeout_s=2)
            if status == 200:
                return {b["id"]: b["status"] for b in body["brokers"]}
        except Exception:
            pass
    return {}


def out_of_the_way(cluster, victim_id):
    """The victim is fenced, in no ISR and leads nothing."""
    if broker_status(cluster).get(victim_id) != "fenced":
        return False
    parts = cluster.view()["partitions"]
    return all(victim_id not in p["isr"] and p["leader"] not in (victim_id, -1) for p in parts)


def kill_and_time(cluster, victim):
    # The controllers open their watch connection to a broker just after it
    # registers; a broker killed before that connection was ever up is left
    # to its session (src/controller/broker_watch.h), so give it a moment.
    time.sleep(1.0)
    killed = time.monotonic()
    cluster.kill(victim)
    wait_until(lambda: out_of_the_way(cluster, victim.node_id), FAST_S, interval_s=0.05,
               what=f"broker {victim.node_id} fenced and out of every ISR "
                    f"(its session is {SESSION_MS / 1000:.0f} s)")
    took = time.monotonic() - killed
    print(f"   broker {victim.node_id} fenced, out of every ISR, its partitions led elsewhere "
          f"{took:.2f}s after kill -9", flush=True)
    cluster.restart(victim)
    wait_until(lambda: broker_status(cluster).get(victim.node_id) == "alive", 30,
               what=f"broker {victim.node_id} alive again")
    repl.wait_full_isr(cluster, 30)


def test_killed_broker_fenced_fast():
    with Workdir() as w:
        cluster = repl.Cluster(w)
        cluster.create_topic()
        controller = cluster.controller_leader()
        _, victim = next((k, n) for k, n in ((k, cluster.node(cluster.leader_of(k)))
                                             for k in range(repl.PARTITIONS))
                         if n.node_id != controller)
        print(f"   kill -9 broker {victim.node_id} (partition leader, not the controller leader)")
        kill_and_time(cluster, victim)
        controller = cluster.controller_leader()
        print(f"   kill -9 node {controller} (partition leader and controller leader)")
        kill_and_time(cluster, cluster.node(controller))


def test_frozen_broker_not_fenced():
    with Workdir() as w:
        cluster = repl.Cluster(w)
        cluster.create_topic()
        controller = cluster.controller_leader()
        victim = next(n for n in cluster.nodes if n.node_id != controller)
        led = sorted(p["partition"] for p in cluster.view()["partitions"]
                     if p["leader"] == victim.node_id)
        victim.send_signal(signal.SIGSTOP)
        cluster.down.add(victim.node_id)
        try:
            stopped = time.monotonic()
            checks = 0
            while time.monotonic() - stopped < 8.0:
                status = broker_status(cluster).get(victim.node_id)
                assert status == "alive", f"broker {victim.node_id} {status} while frozen " \
                                          f"{time.monotonic() - stopped:.1f}s (session 30 s)"
                checks += 1
                time.sleep(0.1)
        finally:
            victim.send_signal(signal.SIGCONT)
            cluster.down.discard(victim.node_id)
        still_led = sorted(p["partition"] for p in cluster.view()["partitions"]
                           if p["leader"] == victim.node_id)
        assert still_led == led, f"leaderships moved from a frozen broker: {led} -> {still_led}"
        time.sleep(1.0)  # after SIGCONT too: nothing fences it
        assert broker_status(cluster).get(victim.node_id) == "alive"
        print(f"   broker {victim.node_id} frozen 8 s: alive on all {checks} checks, "
              f"kept partitions {led}", flush=True)


def test_kill_leaders_long_session():
    repl.fault_run("kill_leaders_long_session", 60, repl.kill_and_restart)


TESTS = [test_killed_broker_fenced_fast, test_frozen_broker_not_fenced,
         test_kill_leaders_long_session]


def main():
    names = sys.argv[1:]
    dmqtest.run([t for t in TESTS if not names or t.__name__.removeprefix("test_") in names])


if __name__ == "__main__":
    main()
