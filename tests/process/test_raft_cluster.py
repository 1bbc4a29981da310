"""Controller quorum: three real `dmq --role=controller` processes elect a
leader, commit 1,000 writes, survive kill -9 of the leader with a new leader in
under 3 s, lose no committed write, and let the killed node catch up (by log or
by snapshot). A node restarted with a wiped data dir must not vote as new."""

import base64
import concurrent.futures
import shutil
import time

from dmqtest import Workdir, run, start_all, voter_nodes, wait_until

FAILOVER_LIMIT_S = 3.0


def start_cluster(w, n=3, extra=None):
    nodes, _ = voter_nodes(w, n, role="controller", extra=extra)
    start_all(nodes, timeout_s=15)
    return nodes


def cluster_view(node):
    status, body = node.get("/v1/cluster", timeout_s=1)
    return body if status == 200 else None


def leader_of(nodes, exclude=None):
    """The leader id agreed by every live node, or None."""
    ids = set()
    for node in nodes:
        if node is exclude:
            continue
        view = cluster_view(node)
        if view is None:
            return None
        ids.add(view["leader_id"])
    if len(ids) == 1 and None not in ids:
        return ids.pop()
    return None


def propose(node, data):
    status, body = node.post("/internal/raft/propose", data.encode(), timeout_s=10)
    assert status == 200, (status, body)
    return body["index"]


def committed_payloads(node, applied_at_least):
    """Every opaque payload in the committed log of `node`, read through the tail endpoint."""
    wait_until(lambda: cluster_view(node)["applied_index"] >= applied_at_least, 20,
               what=f"node {node.node_id} applied {applied_at_least}")
    payloads, index = [], 1
    while True:
        status, body = node.get(f"/internal/raft/entries?from={index}&max_bytes=1000000")
        assert status == 200
        assert not body["snapshot_needed"], "log compacted below the test's window"
        if not body["entries"]:
            return payloads
        for e in body["entries"]:
            data = base64.b64decode(e["data"])
            if e["type"] == 0 and data[:2] == b"\xffP":
                payloads.append(data[2:].decode())
            index = e["index"] + 1


def test_election_writes_failover_and_catch_up():
    with Workdir() as w:
        nodes = start_cluster(w)
        leader_id = wait_until(lambda: leader_of(nodes), 10, what="a leader")
        leader = nodes[leader_id - 1]
        view = cluster_view(leader)
        assert view["term"] >= 1 and len(view["voters"]) == 3, view

        # 1,000 writes through the leader, 16 at a time.
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            indexes = list(pool.map(lambda i: propose(leader, f"write-{i}"), range(1000)))
        assert len(set(indexes)) == 1000
        last = max(indexes)

        wait_until(lambda: (v := cluster_view(leader)) and
                   all(p.get("match_index", 0) >= last for p in v["voters"]) and v, 10,
                   what="all voters matched")

        # kill -9 the leader; a new leader must be agreed by the others in < 3 s.
        leader.kill()
        killed_at = time.monotonic()
        survivors = [n for n in nodes if n is not leader]
        new_leader = wait_until(lambda: (l := leader_of(survivors)) != leader_id and l, 10,
                                interval_s=0.02, what="new leader")
        failover_s = time.monotonic() - killed_at
        print(f"   failover: node {new_leader} leads after {failover_s:.2f}s")
        assert new_leader != leader_id
        assert failover_s < FAILOVER_LIMIT_S, failover_s

        # No committed write lost on the survivors; new writes go through.
        for node in survivors:
            got = committed_payloads(node, last)
            assert sorted(got) == sorted(f"write-{i}" for i in range(1000)), len(got)
        more = [propose(survivors[0], f"after-{i}") for i in range(50)]

        # The killed node restarts and catches up.
        leader.start()
        got = committed_payloads(leader, max(more))
        assert len(got) == 1050 and set(got) >= {f"after-{i}" for i in range(50)}, len(got)
        for node in nodes:
            assert node.stop() == 0


def test_catch_up_by_snapshot():
    with Workdir() as w:
        # Snapshots every 200 entries, keeping 50: a node away for 600 writes needs one.
        nodes = start_cluster(w, extra=["--raft.snapshot.entries=200", "--raft.snapshot.keep=50"])
        leader_id = wait_until(lambda: leader_of(nodes), 10, what="a leader")
        follower = next(n for n in nodes if n.node_id != leader_id)
        follower.kill()
        leader = nodes[leader_id - 1]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            indexes = list(pool.map(lambda i: propose(leader, f"s-{i}"), range(600)))
        status, body = leader.get("/internal/raft/entries?from=1")
        assert body["snapshot_needed"], "the leader's log was not compacted"
        follower.start()
        wait_until(lambda: cluster_view(follower)["applied_index"] >= max(indexes), 20,
                   what="follower caught up through a snapshot")
        view = cluster_view(follower)
        assert view["first_index"] > 1, view
        # It serves as a voter again: stop the leader, the others still have a quorum.
        leader.kill()
        survivors = [n for n in nodes if n is not leader]
        wait_until(lambda: leader_of(survivors) not in (None, leader_id), 10,
                   what="leader after snapshot catch-up")
        propose(survivors[0], "after-snapshot")


def test_wiped_node_is_refused_then_rejoins():
    with Workdir() as w:
        nodes = start_cluster(w)
        leader_id = wait_until(lambda: leader_of(nodes), 10, what="a leader")
        leader = nodes[leader_id - 1]
        for i in range(20):
            propose(leader, f"w-{i}")
        victim = next(n for n in nodes if n.node_id != leader_id)
        # The leader records that the victim holds log entries.
        wait_until(lambda: leader.get(f"/internal/raft/joined/{victim.node_id}")[1]["joined"], 10,
                   what="victim recorded as joined")
        victim.kill()
        shutil.rmtree(victim.data_dir)
        # Restarted empty, it might vote twice in a term it already voted in: refused.
        victim.start(wait=False)
        assert victim.proc.wait(timeout=15) == 1
        assert "is a member of the running cluster" in victim.tail_log(), victim.tail_log()

        # The operator's way back: remove it, start it, add it again.
        status, body = leader.delete(f"/v1/cluster/voters/{victim.node_id}")
        assert status == 200, body
        shutil.rmtree(victim.data_dir, ignore_errors=True)
        victim.start()
        status, body = leader.post("/v1/cluster/voters",
                                   {"id": victim.node_id, "address": f"127.0.0.1:{victim.http_port}"})
        assert status == 200, body
        wait_until(lambda: (v := cluster_view(leader)) and
                   any(x["id"] == victim.node_id and x.get("match_index", 0) > 20
                       for x in v["voters"]) and v, 15, what="victim caught up as a voter")
        got = committed_payloads(victim, 21)
        assert set(got) >= {f"w-{i}" for i in range(20)}


def test_bad_requests_get_json_errors():
    with Workdir() as w:
        nodes = start_cluster(w)
        leader_id = wait_until(lambda: leader_of(nodes), 10, what="a leader")
        node = nodes[0]
        for body in ("{", "[]", {"id": "x", "address": "127.0.0.1:1"}, {"id": 7},
                     {"id": 7, "address": "nope"}):
            status, reply = node.post("/v1/cluster/voters", body)
            assert status == 400, (body, status, reply)
            assert reply["error"]["code"] in ("invalid_json", "invalid_voter"), reply
        status, reply = node.delete("/v1/cluster/voters/abc")
        assert status == 400 and reply["error"]["code"] == "invalid_voter"
        status, reply = node.post("/v1/cluster/transfer-leader", {"to": -1})
        assert status == 400, reply
        status, reply = node.post("/internal/raft/messages", "not json")
        assert status == 400 and reply["error"]["code"] == "malformed_raft_messages"
        # Transfer works through any node.
        target = next(n.node_id for n in nodes if n.node_id != leader_id)
        status, reply = node.post("/v1/cluster/transfer-leader", {"to": target})
        assert status == 200 and reply["leader_id"] == target, reply
        wait_until(lambda: leader_of(nodes) == target, 5, what="transfer visible everywhere")
        for n in nodes:
            assert n.alive()


if __name__ == "__main__":
    run([test_election_writes_failover_and_catch_up, test_catch_up_by_snapshot,
         test_wiped_node_is_refused_then_rejoins, test_bad_requests_get_json_errors])
