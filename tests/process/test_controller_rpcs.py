"""Controller RPCs for replication and idempotent producers, on real dmq
processes: AlterPartition (POST /internal/partitions/alter, KIP-497) and
producer-id blocks (POST /internal/producer-ids, KIP-730).

AlterPartition: an ISR shrink with the right epochs commits, every node's
GET /v1/topics/{name} shows the new ISR and the next partition epoch; a stale
partition epoch gets 409 and changes nothing; a broker that does not lead gets
409 not_leader; a fenced broker cannot join the ISR; of two racing changes
built on the same epoch exactly one commits. Producer ids: blocks are
disjoint and increasing across calls, through follower controllers
(forwarding), concurrent callers, a killed controller leader, and a kill -9
and restart of a single node.

The 3-controller cluster has no broker processes: the test registers brokers
over the REST API and heartbeats for them, so nothing but the test changes
ISRs."""

import json
import signal
import threading
import urllib.request
import uuid

from dmqtest import Workdir, free_port, run, start_all, voter_nodes, wait_until

SESSION_MS = 2000
BLOCK = 1000


class FakeBroker:
    """A broker registration kept alive by heartbeats from a test thread."""

    def __init__(self, nodes, broker_id):
        self.nodes = nodes
        self.broker_id = broker_id
        self.epoch = None
        self.stopped = threading.Event()
        self.thread = None

    def register(self, via):
        status, body = via.post("/internal/brokers/register", {
            "broker_id": self.broker_id, "incarnation_id": str(uuid.uuid4()),
            "kafka_host": "127.0.0.1", "kafka_port": free_port(),
            "http_host": "127.0.0.1", "http_port": free_port()}, timeout_s=10)
        assert status == 200, (status, body)
        self.epoch = body["broker_epoch"]
        self.thread = threading.Thread(target=self._heartbeat, daemon=True)
        self.thread.start()
        return self

    def _heartbeat(self):
        # Any live controller forwards to the leader. The metadata index is
        # past the registration, so the controller unfences the broker.
        body = {"broker_id": self.broker_id, "broker_epoch": self.epoch,
                "metadata_applied_index": 1 << 62}
        while not self.stopped.wait(0.3):
            for node in self.nodes:
                if node.proc is None or node.proc.poll() is not None:
                    continue
                try:
                    if node.post("/internal/brokers/heartbeat", body, timeout_s=2)[0] == 200:
                        break
                except Exception:
                    pass

    def stop(self):
        self.stopped.set()
        if self.thread:
            self.thread.join()


def brokers_view(node):
    status, body = node.get("/v1/brokers", timeout_s=2)
    assert status == 200, body
    return {b["id"]: b for b in body["brokers"]}


def partition(node, topic, index=0):
    status, body = node.get(f"/v1/topics/{topic}", timeout_s=2)
    assert status == 200, (status, body)
    return next(p for p in body["partitions"] if p["partition"] == index)


def alter(node, broker_id, broker_epoch, topic, part, isr, **overrides):
    body = {"broker_id": broker_id, "broker_epoch": broker_epoch, "topic": topic,
            "partition": 0, "leader_epoch": part["leader_epoch"],
            "partition_epoch": part["partition_epoch"], "isr": isr}
    body.update(overrides)
    return node.post("/internal/partitions/alter", body, timeout_s=40)


def expect_error(reply, status, code):
    got_status, body = reply
    assert got_status == status and body["error"]["code"] == code, (got_status, body)
    assert body["error"]["message"], body


def allocate(node, broker_id, epoch):
    status, body = node.post("/internal/producer-ids", {"broker_id": broker_id, "broker_epoch": epoch},
                             timeout_s=40)
    assert status == 200, (status, body)
    assert body["count"] == BLOCK and body["first_producer_id"] >= 0, body
    return body["first_producer_id"], body["first_producer_id"] + body["count"]


def assert_disjoint_increasing(blocks):
    """Blocks in the order they were granted: each starts at or after the last end."""
    for before, after in zip(blocks, blocks[1:]):
        assert after[0] >= before[1], blocks


def leader_of(nodes):
    for node in nodes:
        if node.proc.poll() is not None:
            continue
        try:
            status, body = node.get("/v1/cluster", timeout_s=1)
            if status == 200 and body["leader_id"]:
                return next(n for n in nodes if n.node_id == body["leader_id"])
        except Exception:
            pass
    return None


def start_controllers(w, count, session_ms=SESSION_MS):
    nodes, _ = voter_nodes(w, count, role="controller",
                           extra=[f"--broker.session.timeout.ms={session_ms}"])
    start_all(nodes, timeout_s=15)
    wait_until(lambda: leader_of(nodes), 10, what="a controller leader")
    return nodes


def alter_partition_scenario(nodes, brokers, follower):
    """ISR shrink, stale epochs, a non-leader, a fenced newcomer, a race."""
    # Read-your-writes on the node that relayed the write: it answers once its
    # own applied index has reached the leader's after the write.
    request = urllib.request.Request(
        follower.url + "/v1/topics", method="POST",
        data=json.dumps({"name": "r", "partitions": 1, "replication_factor": 3}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=40) as reply:
        assert reply.status == 201, reply.status
        written_at = int(reply.headers["X-DMQ-Applied-Index"])
    status, view = follower.get("/v1/cluster")
    assert status == 200 and view["applied_index"] >= written_at, (written_at, view)
    p = partition(follower, "r")
    by_id = {b.broker_id: b for b in brokers}
    lead = by_id[p["leader"]]
    others = [b for b in brokers if b is not lead]
    assert sorted(p["isr"]) == sorted(by_id), p
    kept, dropped = others

    # Shrink through a follower controller (forwarded to the leader).
    reply = alter(follower, lead.broker_id, lead.epoch, "r", p, [lead.broker_id, kept.broker_id])
    assert reply[0] == 200, reply
    assert reply[1] == {"leader": lead.broker_id, "leader_epoch": p["leader_epoch"],
                        "partition_epoch": p["partition_epoch"] + 1,
                        "isr": [lead.broker_id, kept.broker_id]}, reply
    shrunk = dict(p, isr=[lead.broker_id, kept.broker_id], partition_epoch=p["partition_epoch"] + 1)
    for node in nodes:
        wait_until(lambda: partition(node, "r") == shrunk, 5, what=f"new isr on node {node.node_id}")

    # The same request again is built on the old partition epoch.
    expect_error(alter(follower, lead.broker_id, lead.epoch, "r", p, [lead.broker_id]),
                 409, "stale_partition_epoch")
    # A broker that does not lead, even with current epochs.
    expect_error(alter(follower, kept.broker_id, kept.epoch, "r", shrunk, [kept.broker_id]),
                 409, "not_leader")
    # The leader with an old leader epoch (a zombie leadership).
    expect_error(alter(follower, lead.broker_id, lead.epoch, "r", shrunk, [lead.broker_id],
                       leader_epoch=shrunk["leader_epoch"] + 1), 409, "not_leader")
    expect_error(alter(follower, lead.broker_id, lead.epoch - 1, "r", shrunk, [lead.broker_id]),
                 409, "stale_broker_epoch")
    expect_error(alter(follower, lead.broker_id, lead.epoch, "r", shrunk, [kept.broker_id]),
                 400, "invalid_isr")
    expect_error(alter(follower, lead.broker_id, lead.epoch, "r", shrunk, [lead.broker_id, 99]),
                 400, "invalid_isr")
    assert partition(follower, "r") == shrunk

    # The dropped replica's broker stops heartbeating and is fenced; it cannot rejoin.
    dropped.stop()
    wait_until(lambda: brokers_view(follower)[dropped.broker_id]["status"] == "fenced",
               SESSION_MS / 1000 + 5, what="broker fenced")
    assert partition(follower, "r") == shrunk  # it was in no ISR: nothing else changed
    expect_error(alter(follower, lead.broker_id, lead.epoch, "r", shrunk,
                       [lead.broker_id, kept.broker_id, dropped.broker_id]), 400, "invalid_isr")
    assert partition(follower, "r") == shrunk

    # Two changes built on the same state, sent at once through different
    # controllers: one commits, the other is told its epoch is stale.
    replies = [None, None]
    requests = [(nodes[0], [lead.broker_id]), (nodes[1], [kept.broker_id, lead.broker_id])]

    def send(i):
        node, isr = requests[i]
        replies[i] = alter(node, lead.broker_id, lead.epoch, "r", shrunk, isr)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i in range(2) if replies[i][0] == 200]
    assert len(winners) == 1, replies
    expect_error(replies[1 - winners[0]], 409, "stale_partition_epoch")
    final = partition(follower, "r")
    assert final["partition_epoch"] == shrunk["partition_epoch"] + 1, final
    assert final["isr"] == requests[winners[0]][1], (final, replies)
    return lead


def producer_id_scenario(nodes, broker):
    blocks = []
    for i in range(4):  # alternate between the controllers: followers forward
        blocks.append(allocate(nodes[i % len(nodes)], broker.broker_id, broker.epoch))
    assert_disjoint_increasing(blocks)

    # Concurrent callers through every controller: all get a block, none shared.
    concurrent = []
    lock = threading.Lock()

    def grab(node):
        block = allocate(node, broker.broker_id, broker.epoch)
        with lock:
            concurrent.append(block)

    threads = [threading.Thread(target=grab, args=(nodes[i % len(nodes)],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(concurrent) == 6
    every = sorted(blocks + concurrent)
    assert_disjoint_increasing(every)
    assert min(b[0] for b in concurrent) >= blocks[-1][1]

    expect_error(nodes[0].post("/internal/producer-ids", {"broker_id": broker.broker_id,
                                                          "broker_epoch": broker.epoch - 1}),
                 409, "stale_broker_epoch")
    expect_error(nodes[0].post("/internal/producer-ids", {"broker_id": 77, "broker_epoch": 1}),
                 404, "unknown_broker")
    expect_error(nodes[0].post("/internal/producer-ids", {"broker_id": "x"}), 400, "invalid_request")

    # kill -9 the controller leader: the next block comes from the new leader
    # and still starts after every block handed out.
    old = leader_of(nodes)
    old.kill()
    survivors = [n for n in nodes if n is not old]
    wait_until(lambda: leader_of(survivors) not in (None, old), 10, what="a new controller leader")
    after_failover = wait_until(lambda: try_allocate(survivors[0], broker), 10,
                                what="allocation after failover")
    assert after_failover[0] >= every[-1][1], (after_failover, every)
    # The old leader returns (its log and state from disk) and serves too.
    old.start()
    last = wait_until(lambda: try_allocate(old, broker), 10, what="allocation via restarted node")
    assert last[0] >= after_failover[1], (last, after_failover)


def try_allocate(node, broker):
    status, body = node.post("/internal/producer-ids",
                             {"broker_id": broker.broker_id, "broker_epoch": broker.epoch}, timeout_s=40)
    if status == 503:
        return None  # election in progress: retry
    assert status == 200, (status, body)
    return body["first_producer_id"], body["first_producer_id"] + body["count"]


def test_three_controllers():
    with Workdir() as w:
        nodes = start_controllers(w, 3)
        leader = leader_of(nodes)
        follower = next(n for n in nodes if n is not leader)
        brokers = [FakeBroker(nodes, 11 + i).register(follower) for i in range(3)]
        try:
            wait_until(lambda: all(v["status"] == "alive" for v in brokers_view(follower).values())
                       and len(brokers_view(follower)) == 3, 10, what="brokers unfenced")
            lead = alter_partition_scenario(nodes, brokers, follower)
            producer_id_scenario(nodes, lead)
        finally:
            for b in brokers:
                b.stop()


def test_single_combined_node():
    with Workdir() as w:
        node = w.node(extra=[f"--broker.session.timeout.ms={SESSION_MS}"]).start()
        wait_until(lambda: brokers_view(node).get(1, {}).get("status") == "alive", 10,
                   what="the node's broker alive")
        epoch = brokers_view(node)[1]["epoch"]
        status, body = node.post("/v1/topics", {"name": "t", "partitions": 2, "replication_factor": 1})
        assert status == 201, body
        p = partition(node, "t")
        assert p["leader"] == 1 and p["isr"] == [1], p

        reply = alter(node, 1, epoch, "t", p, [1])
        assert reply == (200, {"leader": 1, "leader_epoch": p["leader_epoch"],
                               "partition_epoch": p["partition_epoch"] + 1, "isr": [1]}), reply
        now = partition(node, "t")
        assert now == dict(p, partition_epoch=p["partition_epoch"] + 1), (now, p)
        expect_error(alter(node, 1, epoch, "t", p, [1]), 409, "stale_partition_epoch")
        expect_error(alter(node, 1, epoch, "nope", now, [1]), 404, "unknown_topic")
        expect_error(alter(node, 1, epoch, "t", now, [1], partition=7), 404, "unknown_partition")
        expect_error(alter(node, 5, epoch, "t", now, [1]), 404, "unknown_broker")
        for bad in ["{", "[]", {"broker_id": 1}, {"broker_id": 1, "broker_epoch": epoch, "topic": 5,
                                                  "partition": 0, "leader_epoch": 0,
                                                  "partition_epoch": 0, "isr": [1]},
                    {"broker_id": 1, "broker_epoch": epoch, "topic": "t", "partition": 0,
                     "leader_epoch": 0, "partition_epoch": 0, "isr": ["1"]}]:
            status, body = node.post("/internal/partitions/alter", bad)
            assert status == 400 and body["error"]["code"] in ("invalid_json", "invalid_request"), \
                (bad, status, body)
        assert partition(node, "t") == now

        blocks = [allocate(node, 1, epoch), allocate(node, 1, epoch)]
        assert_disjoint_increasing(blocks)
        node.kill()
        node.start()
        # The restarted broker registers again: a new epoch; the old one is refused.
        wait_until(lambda: brokers_view(node)[1]["epoch"] != epoch
                   and brokers_view(node)[1]["status"] == "alive", 10, what="re-registration")
        new_epoch = brokers_view(node)[1]["epoch"]
        expect_error(node.post("/internal/producer-ids", {"broker_id": 1, "broker_epoch": epoch}),
                     409, "stale_broker_epoch")
        blocks.append(allocate(node, 1, new_epoch))
        assert_disjoint_increasing(blocks)
        assert node.stop() == 0


def test_real_brokers_change_the_isr():
    """Broker processes call AlterPartition through HttpControllerClient: a
    stopped follower leaves the ISR (the session is long, so this is not a
    fence), and joins again once it catches up. A broker-only node proxies the
    RPCs to the controllers."""
    with Workdir() as w:
        # The controller fences, so the long session must be its own: with
        # SESSION_MS (2 s, as long as the brokers' heartbeat interval) a
        # heartbeat a few milliseconds late fenced a live broker now and then.
        ctrl = start_controllers(w, 1, session_ms=60000)[0]
        voters = f"1@127.0.0.1:{ctrl.http_port}"
        extra = ["--broker.session.timeout.ms=60000", "--replica.lag.time.max.ms=1000"]
        brokers = [w.node(node_id=100 + i, role="broker", controllers=voters, extra=extra)
                   for i in range(2)]
        for b in brokers:
            b.start()
        wait_until(lambda: len(brokers_view(ctrl)) == 2
                   and all(v["status"] == "alive" for v in brokers_view(ctrl).values()), 15,
                   what="brokers alive")
        status, body = brokers[0].post("/v1/topics", {"name": "x", "partitions": 1,
                                                      "replication_factor": 2})
        assert status == 201, body
        p = partition(ctrl, "x")
        follower = next(b for b in brokers if b.node_id != p["leader"])
        assert sorted(p["isr"]) == [100, 101], p

        follower.send_signal(signal.SIGSTOP)
        try:
            shrunk = wait_until(lambda: (lambda q: q if q["isr"] == [p["leader"]] else None)(
                partition(ctrl, "x")), 15, what="isr shrink by the leader")
            assert shrunk["partition_epoch"] > p["partition_epoch"], shrunk
            assert shrunk["leader_epoch"] == p["leader_epoch"], shrunk
            assert brokers_view(ctrl)[follower.node_id]["status"] == "alive"
        finally:
            follower.send_signal(signal.SIGCONT)
        grown = wait_until(lambda: (lambda q: q if sorted(q["isr"]) == [100, 101] else None)(
            partition(ctrl, "x")), 15, what="isr expansion by the leader")
        assert grown["partition_epoch"] > shrunk["partition_epoch"], grown

        # The broker-only node proxies both RPCs to the controllers.
        epoch = brokers_view(ctrl)[brokers[1].node_id]["epoch"]
        first = allocate(brokers[1], brokers[1].node_id, epoch)
        second = allocate(brokers[0], brokers[1].node_id, epoch)
        assert_disjoint_increasing([first, second])
        expect_error(alter(brokers[1], follower.node_id, 1, "x", grown, [follower.node_id]),
                     409, "stale_broker_epoch")
        for b in brokers:
            assert b.stop() == 0


if __name__ == "__main__":
    run([test_single_combined_node, test_three_controllers, test_real_brokers_change_the_isr])
