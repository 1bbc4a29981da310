"""Scale-out that moves data (issue 21 point 2): partition reassignment
(KIP-455), POST /v1/rebalance, preferred/unclean leader election, with real
dmq processes and confluent-kafka.

- scale_out: three combined nodes, topics "ra" (6 partitions, RF 2) and "rb"
  (4 partitions, RF 3), min.insync.replicas=2; an idempotent acks=all
  producer writes to both the whole time. A fourth broker (broker-only) is
  started and POST /v1/rebalance answers the planned moves; the test waits
  (bounded) until GET /v1/reassignments is empty, keeps producing, then reads
  every partition back from the beginning: every acknowledged record must be
  there, once, in order. The new broker must hold its share of the replicas
  (floor of the mean, at least) and lead its share of the partitions.
- elect_preferred: with auto.leader.rebalance.enable=false, the preferred
  replica of a partition is restarted; leadership stays away from it until
  POST /v1/elect-leaders {"type":"preferred"} moves it back; a second call
  answers election_not_needed.
- kafka_apis: AlterPartitionReassignments and ListPartitionReassignments
  with kafkajs's admin client (a move that completes; INVALID_REPLICA_ASSIGNMENT
  for an unknown broker, an empty list and duplicates; UNKNOWN_TOPIC_OR_PARTITION),
  ElectLeaders v0 and v1 with kafka-python's protocol classes (preferred:
  elected, then ELECTION_NOT_NEEDED; UNKNOWN_TOPIC_OR_PARTITION; unclean:
  nothing to do). v2 (flexible) is covered by the schema round-trip unit test.
- refusals: unknown topic or partition, a replica on an unknown broker, an
  empty replica list, duplicate ids, a malformed body, a bad election type:
  each a JSON 4xx error with a reason, and the node keeps serving.

Usage: test_rebalance.py [test names...]"""

import collections
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from dmqtest import Workdir, check_acknowledged, start_all, voter_nodes, wait_until  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from test_kafka_kafkajs import CLIENTS, ensure_kafkajs  # noqa: E402

TOPICS = {"ra": (6, 2), "rb": (4, 3)}
EXTRA = ["--broker.session.timeout.ms=4000", "--broker.heartbeat.interval.ms=500",
         "--replica.lag.time.max.ms=5000", "--log-level=info"]


def brokers_alive(node, ids):
    status, body = node.get("/v1/brokers", timeout_s=2)
    view = {b["id"]: b["status"] for b in body["brokers"]} if status == 200 else {}
    return all(view.get(i) == "alive" for i in ids)


def three_brokers(w, extra):
    """Three combined nodes, started, with their brokers alive: (nodes, voters)."""
    nodes, voters = voter_nodes(w, 3, extra=extra)
    start_all(nodes)
    wait_until(lambda: brokers_alive(nodes[0], [1, 2, 3]), 20, what="three brokers")
    return nodes, voters


def topic_view(node, name):
    status, body = node.get(f"/v1/topics/{name}", timeout_s=3)
    assert status == 200, (status, body)
    return body


def create_topics(node, topics):
    for name, (partitions, rf) in topics.items():
        status, body = node.post("/v1/topics", {"name": name, "partitions": partitions,
                                                "replication_factor": rf,
                                                "configs": {"min.insync.replicas": "2"}})
        assert status == 201, (status, body)
        wait_until(lambda: all(p["leader"] >= 0 for p in topic_view(node, name)["partitions"]),
                   20, what=f"leaders of {name}")


class Load:
    """Numbered values to every partition of TOPICS from one idempotent
    acks=all producer thread; records every acknowledged (topic, n)."""

    def __init__(self, bootstrap, rate=300):
        self.bootstrap = bootstrap
        self.rate = rate
        self.acked = {}  # (topic, n) -> (partition, offset)
        self.errors = collections.Counter()
        self.stop_flag = threading.Event()
        self.fatal = None
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_flag.set()
        self.thread.join(120)
        assert not self.thread.is_alive(), "producer did not finish"
        assert self.fatal is None, f"producer failed: {self.fatal}"

    def _delivered(self, err, msg):
        key = (msg.topic(), int(msg.value()))
        if err is None:
            self.acked[key] = (msg.partition(), msg.offset())
        else:
            self.errors[err.name()] += 1

    def _run(self):
        try:
            p = Producer({"bootstrap.servers": self.bootstrap, "acks": "all",
                          "enable.idempotence": True, "linger.ms": 5,
                          "message.timeout.ms": 60000, "request.timeout.ms": 5000,
                          "topic.metadata.refresh.interval.ms": 1000,
                          "reconnect.backoff.max.ms": 500})
            t0 = time.monotonic()
            names = sorted(TOPICS)
            while not self.stop_flag.is_set():
                due = int((time.monotonic() - t0) * self.rate)
                while self.sent < due:
                    n = self.sent
                    topic = names[n % len(names)]
                    p.produce(topic, value=b"%d" % n, partition=(n // 2) % TOPICS[topic][0],
                              on_delivery=self._delivered)
                    self.sent += 1
                p.poll(0.01)
            left = p.flush(90)
            if left:
                self.fatal = f"{left} records unflushed"
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.fatal = repr(e)


def read_back(bootstrap):
    """Every record of TOPICS from the beginning to the high watermark:
    {(topic, n): [(partition, offset)]}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "rebalance-verify",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        tps = [(t, p) for t, (n, _) in TOPICS.items() for p in range(n)]
        hw = {tp: c.get_watermark_offsets(TopicPartition(*tp), timeout=10)[1] for tp in tps}
        c.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in tps])
        found = collections.defaultdict(list)
        next_offset = {tp: 0 for tp in tps}
        deadline = time.monotonic() + 90
        while any(next_offset[tp] < hw[tp] for tp in tps) and time.monotonic() < deadline:
            for m in c.consume(num_messages=5000, timeout=1.0):
                assert not m.error(), f"consumer error: {m.error()}"
                found[(m.topic(), int(m.value()))].append((m.partition(), m.offset()))
                next_offset[(m.topic(), m.partition())] = m.offset() + 1
        short = {tp: (next_offset[tp], hw[tp]) for tp in tps if next_offset[tp] < hw[tp]}
        assert not short, f"could not read to the high watermark: {short}"
        return found
    finally:
        c.close()


def share_counts(node):
    """({broker: replicas}, {broker: leaders}) over TOPICS."""
    replicas, leaders = collections.Counter(), collections.Counter()
    for name in TOPICS:
        for p in topic_view(node, name)["partitions"]:
            replicas.update(p["replicas"])
            leaders[p["leader"]] += 1
    return replicas, leaders


def test_scale_out():
    with Workdir() as w:
        nodes, voters = three_brokers(w, EXTRA)
        create_topics(nodes[0], TOPICS)
        bootstrap = ",".join(n.kafka for n in nodes)
        load = Load(bootstrap).start()
        time.sleep(4)
        fourth = w.node(node_id=4, role="broker", controllers=voters, extra=EXTRA)
        fourth.start()
        wait_until(lambda: brokers_alive(nodes[0], [1, 2, 3, 4]), 20, what="broker 4 alive")
        status, body = nodes[0].post("/v1/rebalance", {})
        assert status == 200, (status, body)
        moves = body["moves"]
        assert any(4 in m["to"] and 4 not in m["from"] for m in moves), moves
        print(f"   rebalance planned {len(moves)} moves", flush=True)
        # The moves are visible while the new replicas catch up, then finish.
        status, listed = fourth.get("/v1/reassignments")
        assert status == 200, listed
        wait_until(lambda: nodes[1].get("/v1/reassignments")[1]["reassignments"] == [], 90,
                   interval_s=0.5, what="reassignments to finish")
        replicas, _ = share_counts(nodes[0])
        total = sum(replicas.values())
        assert replicas[4] >= total // 4, f"broker 4 holds {replicas[4]} of {total}: {replicas}"
        assert max(replicas.values()) - min(replicas[b] for b in (1, 2, 3, 4)) <= 1, replicas
        # Preferred leaders move to broker 4 (auto.leader.rebalance.enable).
        partitions = sum(n for n, _ in TOPICS.values())
        wait_until(lambda: share_counts(nodes[0])[1][4] >= partitions // 4, 30, interval_s=0.5,
                   what="broker 4 to lead its share")
        time.sleep(3)  # more writes against the new layout
        load.stop()
        found = read_back(bootstrap + "," + fourth.kafka)
        problems, counts = check_acknowledged(load.acked, found)
        dups = sum(len(v) - 1 for v in found.values() if len(v) > 1)
        print(f"   sent={load.sent} {counts} duplicates={dups} errors={dict(load.errors)} "
              f"replicas={dict(replicas)}", flush=True)
        assert not problems, problems
        assert dups == 0, f"{dups} records read twice"
        assert len(load.acked) > load.sent // 2, "too few acknowledged"
        # The removed replicas' copies are deleted from the brokers that lost them.
        for n in nodes + [fourth]:
            for name in TOPICS:
                for p in topic_view(nodes[0], name)["partitions"]:
                    path = os.path.join(n.data_dir, "logs", f"{name}-{p['partition']}")
                    if n.node_id not in p["replicas"]:
                        wait_until(lambda: not os.path.exists(path), 10,
                                   what=f"{path} deleted")


def test_elect_preferred():
    with Workdir() as w:
        extra = EXTRA + ["--auto.leader.rebalance.enable=false"]
        nodes, _ = three_brokers(w, extra)
        create_topics(nodes[0], {"pe": (1, 3)})
        preferred = topic_view(nodes[0], "pe")["partitions"][0]["replicas"][0]
        node = next(n for n in nodes if n.node_id == preferred)
        other = next(n for n in nodes if n.node_id != preferred)
        node.stop()
        wait_until(lambda: topic_view(other, "pe")["partitions"][0]["leader"] not in (-1, preferred),
                   20, what="leadership to move away")
        node.start()
        wait_until(lambda: preferred in topic_view(other, "pe")["partitions"][0]["isr"], 30,
                   what="the preferred replica back in the ISR")
        time.sleep(2)  # no automatic move back
        assert topic_view(other, "pe")["partitions"][0]["leader"] != preferred
        status, body = other.post("/v1/elect-leaders", {"type": "preferred", "partitions": [
            {"topic": "pe", "partition": 0}]})
        assert status == 200, (status, body)
        assert body["results"] == [{"topic": "pe", "partition": 0, "result": "elected"}], body
        assert topic_view(other, "pe")["partitions"][0]["leader"] == preferred
        status, body = other.post("/v1/elect-leaders", {"type": "preferred", "partitions": [
            {"topic": "pe", "partition": 0}, {"topic": "nope", "partition": 0}]})
        assert status == 200, (status, body)
        assert [r["result"] for r in body["results"]] == [
            "election_not_needed", "unknown_topic_or_partition"], body
        status, body = other.post("/v1/elect-leaders", {"type": "unclean"})
        assert status == 200 and body["results"] == [], (status, body)


def expect_error(node, path, body, status, code):
    got_status, got = node.post(path, body)
    assert got_status == status, (path, body, got_status, got)
    assert got["error"]["code"] == code and got["error"]["message"], got


def test_refusals():
    with Workdir() as w:
        nodes, _ = three_brokers(w, EXTRA)
        create_topics(nodes[0], {"rf": (2, 2)})
        for n in (nodes[0], nodes[2]):  # a controller follower relays to the leader
            expect_error(n, "/v1/topics/nope/partitions/0/reassign", {"replicas": [1]}, 404,
                         "unknown_topic")
            expect_error(n, "/v1/topics/rf/partitions/7/reassign", {"replicas": [1]}, 404,
                         "unknown_partition")
            expect_error(n, "/v1/topics/rf/partitions/0/reassign", {"replicas": [1, 42]}, 400,
                         "invalid_replica_assignment")
            expect_error(n, "/v1/topics/rf/partitions/0/reassign", {"replicas": []}, 400,
                         "invalid_replica_assignment")
            expect_error(n, "/v1/topics/rf/partitions/0/reassign", {"replicas": [2, 2]}, 400,
                         "invalid_replica_assignment")
            expect_error(n, "/v1/topics/rf/partitions/0/reassign", {"replicas": "1,2"}, 400,
                         "invalid_replica_assignment")
            expect_error(n, "/v1/elect-leaders", {"type": "dirty"}, 400, "invalid_request")
            expect_error(n, "/v1/elect-leaders", {"type": "preferred", "partitions": [1]}, 400,
                         "invalid_request")
        status, body = nodes[0].post("/v1/topics/rf/partitions/0/reassign", b"{not json")
        assert status == 400 and "error" in body, (status, body)
        status, body = nodes[0].get("/v1/reassignments")
        assert status == 200 and body == {"reassignments": []}, body
        # A valid move still works after the refusals.
        current = topic_view(nodes[0], "rf")["partitions"][0]["replicas"]
        target = [b for b in (1, 2, 3) if b not in current][:1] + current[:1]
        status, body = nodes[1].post("/v1/topics/rf/partitions/0/reassign", {"replicas": target})
        assert status == 200, (status, body)
        wait_until(lambda: topic_view(nodes[0], "rf")["partitions"][0]["replicas"] == target, 30,
                   interval_s=0.3, what="the move to complete")
        assert all(n.alive() for n in nodes)
        # `dmq cluster rebalance`: the planned moves as JSON, a table, usage errors exit 2.
        cli = [dmqtest.BINARY, "cluster", "rebalance", "--http", f"127.0.0.1:{nodes[0].http_port}"]
        out = subprocess.run(cli + ["--json"], capture_output=True, timeout=90)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        moves = json.loads(out.stdout)["moves"]
        assert all(set(m) == {"topic", "partition", "from", "to"} for m in moves), moves
        out = subprocess.run(cli, capture_output=True, timeout=90)
        assert out.returncode == 0, out
        assert b"nothing to move" in out.stdout or b"partitions move" in out.stdout, out
        out = subprocess.run(cli[:3] + ["--http", "no-port"], capture_output=True, timeout=30)
        assert out.returncode == 2 and b"host:port" in out.stderr, out


def kafkajs(bootstrap, *args):
    node_bin = shutil.which("node") or "/usr/bin/node"
    out = subprocess.run([node_bin, os.path.join(CLIENTS, "kafkajs_reassign.js"), bootstrap, *args],
                         capture_output=True, timeout=90)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def elect_leaders(bootstrap, version, election_type, topic_partitions):
    """ElectLeaders v0/v1 through kafka-python's protocol layer (its admin
    client has no election call). Returns (top-level error, {(topic,
    partition): error})."""
    from kafka.client_async import KafkaClient
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Array, Int8, Int16, Int32, Schema, String

    results = Array(("topic", String("utf-8")), ("partition_result", Array(
        ("partition_id", Int32), ("error_code", Int16), ("error_message", String("utf-8")))))
    top = [("throttle_time_ms", Int32)] + ([("error_code", Int16)] if version >= 1 else [])
    resp = type("ElectLeadersResponse", (Response,), {
        "API_KEY": 43, "API_VERSION": version, "SCHEMA": Schema(*top, ("results", results))})
    fields = [("election_type", Int8)] if version >= 1 else []
    fields += [("topic_partitions", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))),
               ("timeout_ms", Int32)]
    req_type = type("ElectLeadersRequest", (Request,), {
        "API_KEY": 43, "API_VERSION": version, "RESPONSE_TYPE": resp, "SCHEMA": Schema(*fields)})
    values = ([election_type] if version >= 1 else []) + [topic_partitions, 30000]
    client = KafkaClient(bootstrap_servers=bootstrap, api_version=(2, 4, 0))
    try:
        node = wait_until(lambda: next((n.nodeId for n in client.cluster.brokers()
                                        if client.ready(n.nodeId)), None) if client.poll(
                                            timeout_ms=100) is not None else None, 20,
                          what="a kafka-python connection")
        future = client.send(node, req_type(*values))
        client.poll(future=future, timeout_ms=30000)
        assert future.succeeded(), future.exception
        r = future.value
        errors = {(t[0], p[0]): p[1] for t in r.results for p in t[1]}
        return (r.error_code if version >= 1 else 0), errors
    finally:
        client.close()


def test_kafka_apis():
    ensure_kafkajs()
    with Workdir() as w:
        extra = EXTRA + ["--auto.leader.rebalance.enable=false"]
        nodes, _ = three_brokers(w, extra)
        create_topics(nodes[0], {"ka": (2, 2)})
        bootstrap = ",".join(n.kafka for n in nodes)
        current = topic_view(nodes[0], "ka")["partitions"][0]["replicas"]
        spare = next(b for b in (1, 2, 3) if b not in current)
        target = [spare, current[0]]
        assert kafkajs(bootstrap, "alter", "ka", "0", ",".join(map(str, target))) == {"ok": True}
        wait_until(lambda: topic_view(nodes[0], "ka")["partitions"][0]["replicas"] == target, 30,
                   interval_s=0.3, what="the kafkajs move to complete")
        assert kafkajs(bootstrap, "list") == {"topics": []}
        for replicas, error in (("1,42", "INVALID_REPLICA_ASSIGNMENT"),
                                ("", "INVALID_REPLICA_ASSIGNMENT"),
                                ("2,2", "INVALID_REPLICA_ASSIGNMENT")):
            assert kafkajs(bootstrap, "alter", "ka", "1", replicas) == {"error": error}, replicas
        assert kafkajs(bootstrap, "alter", "nope", "0", "1") == {"error": "UNKNOWN_TOPIC_OR_PARTITION"}
        # A reorder makes the other replica preferred; only ElectLeaders moves leadership.
        p1 = topic_view(nodes[0], "ka")["partitions"][1]
        reordered = list(reversed(p1["replicas"]))
        status, body = nodes[0].post("/v1/topics/ka/partitions/1/reassign", {"replicas": reordered})
        assert status == 200, body
        time.sleep(1.5)
        assert topic_view(nodes[0], "ka")["partitions"][1]["leader"] == p1["leader"]
        top, errors = elect_leaders(bootstrap, 1, 0, [("ka", [1]), ("nope", [0])])
        assert top == 0 and errors == {("ka", 1): 0, ("nope", 0): 3}, (top, errors)
        wait_until(lambda: topic_view(nodes[0], "ka")["partitions"][1]["leader"] == reordered[0],
                   10, what="the preferred replica to lead")
        _, errors = elect_leaders(bootstrap, 0, 0, [("ka", [1])])
        assert errors == {("ka", 1): 84}, errors  # ELECTION_NOT_NEEDED
        top, errors = elect_leaders(bootstrap, 1, 1, None)
        assert top == 0 and errors == {}, (top, errors)


if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in (test_scale_out, test_elect_preferred, test_refusals,
                                                   test_kafka_apis)}
    names = sys.argv[1:] or list(tests)
    dmqtest.run([tests[n] for n in names])
