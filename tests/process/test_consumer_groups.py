"""Consumer groups against real dmq processes with real clients.

- confluent_split_and_failover: three confluent-kafka consumer processes in one
  group on a 6-partition topic get two partitions each; closing one
  (LeaveGroup) hands its partitions to the other two; `kill -9` of another is
  noticed within session.timeout.ms and the survivor owns all six; every
  message is consumed at least once.
- resume_from_commit: a consumer commits part of a topic and is killed with
  SIGKILL; a new consumer in the group starts exactly at the committed offsets
  and nothing is skipped; the node restarts in between (the group is loaded
  back from __consumer_offsets).
- cooperative_sticky_and_static_members: cooperative-sticky consumers split and
  hand over partitions; a static member (group.instance.id) killed and restarted
  within the session timeout gets its partitions back in the same generation,
  without a rebalance.
- kafka_python_and_kafkajs_groups: two kafka-python consumers, then two
  kafkajs consumers, split a topic and commit; REST shows their groups;
  kafka-python's admin client lists, describes, fetches all offsets and
  deletes groups (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, then success).
- kcat_balanced_consumer: `kcat -G` consumes everything; the group and its
  offsets show up in GET /v1/groups/{id}.
- offsets_expire: with offsets.retention.minutes=1 the offsets of an empty
  group are tombstoned after a minute and stay gone after a restart.
- coordinator_failover: three nodes, __consumer_offsets with replication
  factor 3; `kill -9` of the coordinator's process loses no committed offset.
- live_group_survives_coordinator_kill: the same with two consumers running:
  they move to the new coordinator and consume everything.

Consumer processes are this script run as `consumer` children: they print one
JSON object per line (assignments, messages, commits) on stdout.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dmqtest import Workdir, run, start_all, voter_nodes, wait_until  # noqa: E402

PYTHON = "/usr/bin/python3"
SESSION_MS = 6000
GROUP_ARGS = ["--group.initial.rebalance.delay.ms=300"]
CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients")


# ---- child: one consumer process ------------------------------------------------

def consumer_main(bootstrap, group, topic, kind, limit="0"):
    """Consumes `topic` in `group`, committing synchronously after every batch
    it printed (at-least-once). SIGTERM closes the consumer (LeaveGroup).
    With a `limit`, it stops consuming after that many messages (and keeps
    heartbeating) until it is killed."""
    limit = int(limit)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def emit(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    if kind == "kafka-python":
        from kafka import KafkaConsumer
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
                          consumer_timeout_ms=200, api_version_auto_timeout_ms=10000)
        last = None
        while not stop:
            for m in c:
                emit({"msg": [m.partition, m.offset]})
            now = sorted(tp.partition for tp in c.assignment())
            if now != last:
                emit({"assigned": now})
                last = now
            c.commit()
            emit({"committed": 1})
        c.close()
        emit({"closed": 1})
        return

    from confluent_kafka import Consumer
    config = {"bootstrap.servers": bootstrap, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500}
    # kind is "confluent" or "confluent:<librdkafka setting>=<value>,..."
    for setting in kind.partition(":")[2].split(","):
        if setting:
            key, _, value = setting.partition("=")
            config[key] = value
    c = Consumer(config)
    c.subscribe([topic], on_revoke=lambda _c, parts: emit(
        {"revoked": sorted(p.partition for p in parts)}))
    total = 0
    owned = None
    while not stop:
        # The whole assignment (incremental assignors hand out only changes).
        now = sorted(p.partition for p in c.assignment())
        if now != owned:
            owned = now
            emit({"assigned": now})
        if limit and total >= limit:
            emit({"paused": total})
            while not stop:
                time.sleep(0.2)
            break
        msgs = c.consume(min(100, limit - total) if limit else 500, 0.2)
        total += len(msgs)
        for m in msgs:
            if m.error():
                emit({"error": str(m.error())})
                continue
            emit({"msg": [m.partition(), m.offset()]})
        if msgs:
            c.commit(asynchronous=False)
            emit({"committed": len(msgs)})
    c.close()
    emit({"closed": 1})


# ---- parent helpers -----------------------------------------------------------------

class ConsumerProc:
    """A consumer child process and what it reported so far."""

    def __init__(self, bootstrap, group, topic, kind="confluent", limit=0):
        self.proc = subprocess.Popen([PYTHON, os.path.abspath(__file__), "consumer", bootstrap,
                                      group, topic, kind, str(limit)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.assigned = None
        self.messages = []
        self.errors = []
        self.closed = False
        self.committed = 0
        self.paused = False
        self.revoked = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def poll(self):
        while True:
            try:
                obj = self.lines.get_nowait()
            except queue.Empty:
                return
            if "assigned" in obj:
                self.assigned = obj["assigned"]
            elif "revoked" in obj:
                self.revoked.append(obj["revoked"])
            elif "msg" in obj:
                self.messages.append(tuple(obj["msg"]))
            elif "committed" in obj:
                self.committed += 1
            elif "error" in obj:
                self.errors.append(obj["error"])
            elif "paused" in obj:
                self.paused = True
            elif "closed" in obj:
                self.closed = True

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.poll()

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stderr(self):
        try:
            return self.proc.stderr.read()
        except Exception:
            return ""


def poll_all(consumers):
    for c in consumers:
        c.poll()


def split_evenly(consumers, partitions, each):
    """True once every consumer owns `each` partitions and together all of them."""
    poll_all(consumers)
    owned = [c.assigned for c in consumers]
    if any(o is None or len(o) != each for o in owned):
        return False
    return sorted(p for o in owned for p in o) == list(range(partitions))


def start_node(w, extra=None):
    node = w.node(extra=GROUP_ARGS + list(extra or []))
    node.start()
    wait_until(lambda: any(b.get("status") == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
               15, what="broker registration")
    return node


def create_topic(bootstrap, name, partitions, rf=1):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=rf)],
                        operation_timeout=10)[name].result(timeout=30)


def produce(bootstrap, topic, partitions, per_partition, start=0):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(start, start + per_partition):
        for part in range(partitions):
            p.produce(topic, value=b"%d-%d" % (part, i), partition=part)
    assert p.flush(30) == 0


def consumed_everything(consumers, partitions, per_partition):
    poll_all(consumers)
    seen = {(p, o) for c in consumers for (p, o) in c.messages}
    return all((p, o) in seen for p in range(partitions) for o in range(per_partition))


def group_view(node, group):
    status, body = node.get(f"/v1/groups/{group}")
    return body if status == 200 else None


def metric(node, name):
    """The value of one sample of GET /metrics (None if absent)."""
    status, text = node.get("/metrics")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def committed_offsets(node, group):
    view = group_view(node, group)
    if not view:
        return {}
    return {o["partition"]: o["committed_offset"] for o in view["offsets"]}


# ---- tests -------------------------------------------------------------------------

def test_confluent_split_and_failover():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node.kafka, "six", 6)
        consumers = [ConsumerProc(node.kafka, "g-split", "six") for _ in range(3)]
        try:
            wait_until(lambda: split_evenly(consumers, 6, 2), 30, what="2 partitions each")
            view = group_view(node, "g-split")
            assert view["state"] == "Stable" and len(view["members"]) == 3, view
            assert sorted(len(m["assignment"]) for m in view["members"]) == [2, 2, 2], view

            produce(node.kafka, "six", 6, 50)
            wait_until(lambda: consumed_everything(consumers, 6, 50), 30, what="first 300 consumed")

            # A clean close leaves the group: the other two take over its partitions.
            consumers[2].stop()
            assert consumers[2].closed
            wait_until(lambda: split_evenly(consumers[:2], 6, 3), 15, what="3 partitions each")

            # kill -9: noticed when the session times out, then one consumer owns all six.
            killed_at = time.monotonic()
            consumers[1].kill()
            wait_until(lambda: split_evenly(consumers[:1], 6, 6), SESSION_MS / 1000 + 10,
                       what="survivor owns all partitions")
            took = time.monotonic() - killed_at
            assert took <= SESSION_MS / 1000 + 5, f"failure noticed after {took:.1f}s"
            print(f"   kill -9 noticed and rebalanced in {took:.1f}s (session {SESSION_MS} ms)")

            produce(node.kafka, "six", 6, 50, start=50)
            wait_until(lambda: consumed_everything(consumers, 6, 100), 30, what="all consumed")
            assert not any(c.errors for c in consumers), [c.errors for c in consumers]
            view = group_view(node, "g-split")
            wait_until(lambda: all(o["lag"] == 0 for o in group_view(node, "g-split")["offsets"]),
                       10, what="lag 0")
            wait_until(lambda: metric(node, 'dmq_groups{state="Stable"}') == 1, 10,
                       what="groups-by-state gauge")
            assert metric(node, "dmq_group_rebalances_total") >= 3
            assert metric(node, "dmq_group_offset_commits_total") >= 6
            # The gauge is refreshed by the coordinator's timer, not at commit time.
            wait_until(lambda: metric(node, 'dmq_group_lag{group="g-split"}') == 0, 10,
                       what="lag gauge 0")
        finally:
            for c in consumers:
                if c.proc.poll() is None:
                    c.kill()


def test_resume_from_commit():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node.kafka, "resume", 3)
        produce(node.kafka, "resume", 3, 200)
        first = ConsumerProc(node.kafka, "g-resume", "resume", limit=250)
        try:
            # It consumes and commits 250 of the 600 messages, then is SIGKILLed.
            wait_until(lambda: first.poll() or first.paused, 30, what="250 consumed")
            first.kill()
            first.poll()
        finally:
            if first.proc.poll() is None:
                first.kill()
        # The node restarts: the group comes back from __consumer_offsets.
        committed = wait_until(lambda: committed_offsets(node, "g-resume"), 10, what="offsets")
        assert node.stop() == 0
        node.start()
        wait_until(lambda: committed_offsets(node, "g-resume") == committed, 20,
                   what="offsets loaded after restart")
        assert sum(committed.values()) > 0, committed
        second = ConsumerProc(node.kafka, "g-resume", "resume")
        try:
            wait_until(lambda: consumed_everything([first, second], 3, 200), 60,
                       what="everything consumed by the two")
            firsts = {}
            for p, o in second.messages:
                firsts.setdefault(p, o)
            for p, offset in committed.items():
                if offset < 200:
                    assert firsts.get(p) == offset, (p, firsts, committed)
            print(f"   committed {committed}, the new consumer started at {firsts}")
        finally:
            second.kill()


def test_cooperative_sticky_and_static_members():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node.kafka, "coop", 6)
        # cooperative-sticky (KIP-429) runs on the same JoinGroup/SyncGroup rounds.
        coop = [ConsumerProc(node.kafka, "g-coop", "coop",
                             kind="confluent:partition.assignment.strategy=cooperative-sticky")
                for _ in range(3)]
        try:
            wait_until(lambda: split_evenly(coop, 6, 2), 40, what="cooperative 2/2/2")
            assert group_view(node, "g-coop")["protocol"] == "cooperative-sticky"
            coop[0].stop()
            wait_until(lambda: split_evenly(coop[1:], 6, 3), 30, what="cooperative 3/3")
        finally:
            for c in coop:
                if c.proc.poll() is None:
                    c.kill()

        # Static members (KIP-345): a member restarted with its group.instance.id
        # within the session timeout gets its partitions back without a rebalance.
        static = [ConsumerProc(node.kafka, "g-static", "coop", kind=f"confluent:group.instance.id=i{i}")
                  for i in range(2)]
        try:
            wait_until(lambda: split_evenly(static, 6, 3), 40, what="static 3/3")
            before = group_view(node, "g-static")
            mine = static[0].assigned
            static[0].kill()
            static[0] = ConsumerProc(node.kafka, "g-static", "coop", kind="confluent:group.instance.id=i0")
            wait_until(lambda: split_evenly(static, 6, 3), 20, what="restarted static member")
            assert static[0].assigned == mine, (static[0].assigned, mine)
            after = group_view(node, "g-static")
            assert after["generation_id"] == before["generation_id"], (before, after)
            assert static[1].revoked == [], static[1].revoked
            ids_before = {m["group_instance_id"]: m["member_id"] for m in before["members"]}
            ids_after = {m["group_instance_id"]: m["member_id"] for m in after["members"]}
            assert ids_after["i1"] == ids_before["i1"] and ids_after["i0"] != ids_before["i0"]
        finally:
            for c in static:
                if c.proc.poll() is None:
                    c.kill()


def test_offsets_expire():
    """offsets.retention.minutes=1: a group's offsets go one minute after it
    became Empty, as tombstones that a restart does not undo."""
    from confluent_kafka import Consumer, TopicPartition
    with Workdir() as w:
        node = start_node(w, extra=["--offsets.retention.minutes=1",
                                    "--offsets.retention.check.interval.ms=500"])
        create_topic(node.kafka, "exp", 1)
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "g-exp",
                      "enable.auto.commit": False})
        wait_until(lambda: c.commit(offsets=[TopicPartition("exp", 0, 7)], asynchronous=False),
                   20, what="commit")
        c.close()
        committed_at = time.monotonic()
        assert committed_offsets(node, "g-exp") == {0: 7}
        wait_until(lambda: node.get("/v1/groups/g-exp")[0] == 404, 90, interval_s=0.5,
                   what="offsets expired and the group removed")
        took = time.monotonic() - committed_at
        assert took >= 59, f"expired after {took:.1f}s"
        assert node.stop() == 0
        node.start()
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "g-exp",
                      "enable.auto.commit": False})
        got = wait_until(lambda: c.committed([TopicPartition("exp", 0)], timeout=5), 30,
                         what="OffsetFetch after restart")
        c.close()
        assert got[0].offset < 0, got
        print(f"   expired after {took:.1f}s; still gone after a restart")


def test_live_group_survives_coordinator_kill():
    """Two consumers keep consuming while the coordinator's process is killed:
    they find the new coordinator, which loaded the group, and nothing committed
    is lost or skipped."""
    with Workdir() as w:
        nodes = start_cluster(w)
        bootstrap = ",".join(n.kafka for n in nodes)
        create_topic(bootstrap, "live", 3, rf=3)
        produce(bootstrap, "live", 3, 50)
        consumers = [ConsumerProc(bootstrap, "g-live", "live") for _ in range(2)]
        try:
            wait_until(lambda: consumed_everything(consumers, 3, 50), 60, what="first half")
            view = wait_until(lambda: (lambda v: v if v and v["state"] == "Stable" and
                                       sum(o["committed_offset"] for o in v["offsets"]) == 150
                                       else None)(group_view(nodes[0], "g-live")),
                              30, what="stable group with commits")
            victim = nodes[view["coordinator"] - 1]
            victim.kill()
            survivors = [n for n in nodes if n is not victim]
            survivor_bootstrap = ",".join(n.kafka for n in survivors)
            wait_until(lambda: (lambda v: v and v["coordinator"] != view["coordinator"])(
                group_view(survivors[0], "g-live")), 30, what="a new coordinator")
            produce(survivor_bootstrap, "live", 3, 50, start=50)
            wait_until(lambda: consumed_everything(consumers, 3, 100), 90, what="second half")
            after = wait_until(lambda: (lambda v: v if v and
                                        sum(o["committed_offset"] for o in v["offsets"]) == 300
                                        else None)(group_view(survivors[0], "g-live")),
                               30, what="commits on the new coordinator")
            assert after["state"] in ("Stable", "PreparingRebalance", "CompletingRebalance"), after
            print(f"   coordinator {view['coordinator']} killed; {after['coordinator']} took the "
                  f"group over at generation {after['generation_id']}")
        finally:
            for c in consumers:
                if c.proc.poll() is None:
                    c.kill()


def ensure_kafkajs():
    if os.path.isdir(os.path.join(CLIENTS, "node_modules", "kafkajs")):
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install kafkajs"
    subprocess.run([npm, "install", "--save-exact", "--no-audit", "--no-fund", "--prefix", CLIENTS,
                    "kafkajs@2.2.4"], check=True, timeout=300)


def admin_checks(node):
    """kafka-python's admin client: ListGroups, DescribeGroups, OffsetFetch
    (all partitions) and DeleteGroups (refused while the group has members)."""
    from kafka import KafkaAdminClient
    from kafka.errors import GroupIdNotFoundError, NonEmptyGroupError
    admin = KafkaAdminClient(bootstrap_servers=node.kafka)
    try:
        assert ("g-kp", "consumer") in admin.list_consumer_groups()
        (desc,) = admin.describe_consumer_groups(["g-kp"])
        assert desc.state == "Stable" and desc.protocol_type == "consumer", desc
        assert len(desc.members) == 2, desc
        owned = sorted(p for m in desc.members for t in m.member_assignment.assignment
                       for p in t[1])
        assert owned == list(range(6)), desc
        offsets = admin.list_consumer_group_offsets("g-kp")
        assert {tp.partition: o.offset for tp, o in offsets.items()} == {p: 20 for p in range(6)}
        result = dict(admin.delete_consumer_groups(["g-kp", "nope"]))
        assert result["g-kp"] is NonEmptyGroupError, result
        assert result["nope"] is GroupIdNotFoundError, result
    finally:
        admin.close()


KAFKAJS_GROUP = r"""
const { Kafka, logLevel } = require('kafkajs');
const [bootstrap, topic, group, total] = process.argv.slice(2);
const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'kjs-group' });
const seen = new Set();
const owned = {};
const consumers = [0, 1].map(() => kafka.consumer({ groupId: group, sessionTimeout: 6000,
                                                     heartbeatInterval: 500 }));
async function main() {
  for (const [i, c] of consumers.entries()) {
    c.on(c.events.GROUP_JOIN, e => {
      owned[i] = Object.values(e.payload.memberAssignment).flat();
    });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({ eachMessage: async ({ partition, message }) => {
      seen.add(partition + ':' + message.offset);
    } });
  }
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const both = owned[0] && owned[1] && owned[0].length + owned[1].length === 6 &&
                 owned[0].length > 0 && owned[1].length > 0;
    if (both && seen.size >= Number(total)) break;
    await new Promise(r => setTimeout(r, 100));
  }
  // What both owned together, before the first disconnect rebalances the group.
  const split = JSON.parse(JSON.stringify(owned));
  for (const c of consumers) await c.disconnect();
  console.log(JSON.stringify({ owned: split, seen: seen.size }));
}
main().catch(e => { console.error(e); process.exit(1); });
"""


def test_kafka_python_and_kafkajs_groups():
    ensure_kafkajs()
    with Workdir() as w:
        node = start_node(w)
        create_topic(node.kafka, "mixed", 6)
        produce(node.kafka, "mixed", 6, 20)
        kp = [ConsumerProc(node.kafka, "g-kp", "mixed", kind="kafka-python") for _ in range(2)]
        try:
            wait_until(lambda: split_evenly(kp, 6, 3), 40, what="kafka-python split 3/3")
            wait_until(lambda: consumed_everything(kp, 6, 20), 30, what="kafka-python consumed")
            wait_until(lambda: sum(committed_offsets(node, "g-kp").values()) == 120, 15,
                       what="kafka-python commits")
            view = group_view(node, "g-kp")
            assert view["state"] == "Stable" and len(view["members"]) == 2, view
            admin_checks(node)
        finally:
            for c in kp:
                c.kill()

        script = os.path.join(w.path, "kjs_group.js")
        with open(script, "w") as f:
            f.write(KAFKAJS_GROUP)
        env = dict(os.environ, NODE_PATH=os.path.join(CLIENTS, "node_modules"))
        out = subprocess.run([shutil.which("node") or "/usr/bin/node", script, node.kafka, "mixed",
                              "g-kjs", "120"], capture_output=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        result = json.loads(out.stdout.decode().strip().splitlines()[-1])
        assert result["seen"] == 120, result
        owned = sorted(result["owned"]["0"] + result["owned"]["1"])
        assert owned == list(range(6)), result
        assert sorted([len(result["owned"]["0"]), len(result["owned"]["1"])]) == [3, 3], result
        wait_until(lambda: sum(committed_offsets(node, "g-kjs").values()) == 120, 15,
                   what="kafkajs commits")
        status, groups = node.get("/v1/groups")
        names = {g["group_id"] for g in groups["groups"]}
        assert {"g-kp", "g-kjs"} <= names, groups
        # kafkajs left the group on disconnect: it is Empty and may be deleted.
        from kafka import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=node.kafka)
        try:
            wait_until(lambda: group_view(node, "g-kjs")["state"] == "Empty", 15, what="Empty")
            assert dict(admin.delete_consumer_groups(["g-kjs"]))["g-kjs"].errno == 0
        finally:
            admin.close()
        assert node.get("/v1/groups/g-kjs")[0] == 404


def test_kcat_balanced_consumer():
    kcat = shutil.which("kcat")
    assert kcat, "kcat is needed"
    with Workdir() as w:
        node = start_node(w)
        create_topic(node.kafka, "kc", 2)
        produce(node.kafka, "kc", 2, 25)
        out = subprocess.run([kcat, "-b", node.kafka, "-G", "g-kcat", "-o", "beginning", "-e",
                              "-q", "-f", "%p:%o\n", "-X", "session.timeout.ms=6000", "kc"],
                             capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        got = sorted(out.stdout.decode().split())
        assert got == sorted(f"{p}:{o}" for p in range(2) for o in range(25)), got
        wait_until(lambda: committed_offsets(node, "g-kcat") == {0: 25, 1: 25}, 15,
                   what="kcat's commits")


def start_cluster(w):
    """Three combined nodes; __consumer_offsets with replication factor 3."""
    extra = GROUP_ARGS + ["--broker.session.timeout.ms=3000",
                          "--broker.heartbeat.interval.ms=500",
                          "--offsets.topic.replication.factor=3",
                          "--offsets.topic.num.partitions=4"]
    nodes, _ = voter_nodes(w, 3, extra=extra)
    start_all(nodes)
    wait_until(lambda: sum(b["status"] == "alive" for b in nodes[0].get("/v1/brokers")[1]["brokers"]) == 3,
               20, what="three brokers")
    return nodes


def test_coordinator_failover():
    with Workdir() as w:
        nodes = start_cluster(w)
        bootstrap = ",".join(n.kafka for n in nodes)
        create_topic(bootstrap, "ft", 3, rf=3)
        produce(bootstrap, "ft", 3, 30)

        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g-ft",
                      "enable.auto.commit": False})
        offsets = [TopicPartition("ft", p, 10 + p) for p in range(3)]
        wait_until(lambda: c.commit(offsets=offsets, asynchronous=False), 30, what="commit")
        c.close()
        view = wait_until(lambda: group_view(nodes[0], "g-ft"), 10, what="group view")
        coordinator = view["coordinator"]
        assert {o["partition"]: o["committed_offset"] for o in view["offsets"]} == {0: 10, 1: 11, 2: 12}
        status, topic = nodes[0].get("/v1/topics/__consumer_offsets")
        part = topic["partitions"][view["offsets_partition"]]
        assert len(part["replicas"]) == 3, part

        victim = nodes[coordinator - 1]
        victim.kill()
        survivors = [n for n in nodes if n is not victim]
        survivor_bootstrap = ",".join(n.kafka for n in survivors)

        def fetched():
            c2 = Consumer({"bootstrap.servers": survivor_bootstrap, "group.id": "g-ft",
                           "enable.auto.commit": False})
            try:
                got = c2.committed([TopicPartition("ft", p) for p in range(3)], timeout=5)
                return {tp.partition: tp.offset for tp in got}
            except Exception:
                return None
            finally:
                c2.close()

        got = wait_until(lambda: (lambda r: r if r and all(v >= 0 for v in r.values()) else None)(fetched()),
                         45, interval_s=0.5, what="offsets from the new coordinator")
        assert got == {0: 10, 1: 11, 2: 12}, got
        view = wait_until(lambda: group_view(survivors[0], "g-ft"), 20, what="group view")
        assert view["coordinator"] != coordinator, view
        # Every node lists the group, wherever its coordinator is.
        for n in survivors:
            status, listing = n.get("/v1/groups")
            assert [g["coordinator"] for g in listing["groups"] if g["group_id"] == "g-ft"] == \
                [view["coordinator"]], listing
        print(f"   coordinator {coordinator} killed; node {view['coordinator']} serves the offsets")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "consumer":
        consumer_main(*sys.argv[2:7])
        sys.exit(0)
    tests = [test_confluent_split_and_failover, test_resume_from_commit,
             test_cooperative_sticky_and_static_members,
             test_kafka_python_and_kafkajs_groups, test_kcat_balanced_consumer, test_offsets_expire,
             test_coordinator_failover, test_live_group_survives_coordinator_kill]
    only = os.environ.get("ONLY")
    run([t for t in tests if not only or only in t.__name__])
