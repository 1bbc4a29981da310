"""Cluster metadata: brokers register with the controller quorum, topics are
created through the REST API of any node and seen by every node, a killed
broker is fenced and loses its leaderships within the session timeout, it is
unfenced when it returns, and the loss of the controller leader fences no
broker. Bad requests get JSON errors and change nothing."""

import time

from dmqtest import Workdir, http, run, start_all, voter_nodes, wait_until

SESSION_MS = 3000


def start(w, controllers=3, brokers=3, combined=0):
    """Starts the processes; returns (controller nodes, broker nodes)."""
    extra = [f"--broker.session.timeout.ms={SESSION_MS}", "--broker.heartbeat.interval.ms=500"]
    ctrl, voters = voter_nodes(w, combined or controllers,
                               role="combined" if combined else "controller", extra=extra)
    brk = [] if combined else [w.node(node_id=100 + i, role="broker", controllers=voters, extra=extra)
                               for i in range(brokers)]
    start_all(ctrl + brk, timeout_s=15)
    return ctrl, (ctrl if combined else brk)


def brokers_view(node):
    status, body = node.get("/v1/brokers", timeout_s=2)
    assert status == 200, body
    return {b["id"]: b for b in body["brokers"]}


def all_alive(node, ids):
    view = brokers_view(node)
    return all(i in view and view[i]["status"] == "alive" for i in ids)


def topic(node, name):
    status, body = node.get(f"/v1/topics/{name}", timeout_s=2)
    return body if status == 200 else None


def leader_id(nodes):
    for node in nodes:
        try:
            status, body = node.get("/v1/cluster", timeout_s=1)
            if status == 200 and body["leader_id"]:
                return body["leader_id"]
        except Exception:
            pass
    return None


def scenario(ctrl, brokers):
    everyone = list({id(n): n for n in ctrl + brokers}.values())
    broker_ids = [b.node_id for b in brokers]
    wait_until(lambda: all(all_alive(n, broker_ids) for n in everyone), 20, what="brokers alive everywhere")

    # Create through a node that may not be the controller leader.
    status, body = http("POST", brokers[-1].url + "/v1/topics",
                        {"name": "orders", "partitions": 6, "replication_factor": 3})
    assert status == 201, (status, body)
    assert len(body["partitions"]) == 6
    leaders = [p["leader"] for p in body["partitions"]]
    assert sorted(leaders) == sorted(broker_ids * 2), leaders  # two leaderships per broker
    for p in body["partitions"]:
        assert sorted(p["replicas"]) == sorted(broker_ids) and sorted(p["isr"]) == sorted(broker_ids)

    # Visible on every node within a second.
    start = time.monotonic()
    wait_until(lambda: all(topic(n, "orders") for n in everyone), 5, what="topic everywhere")
    seen_after = time.monotonic() - start
    print(f"   topic visible on every node {seen_after:.2f}s after the 201")
    assert seen_after < 1.0, seen_after
    status, body = http("GET", ctrl[0].url + "/v1/topics")
    assert [t["name"] for t in body["topics"]] == ["orders"]
    assert body["topics"][0]["partitions"] == 6 and body["topics"][0]["replication_factor"] == 3

    status, body = http("POST", ctrl[0].url + "/v1/topics",
                        {"name": "orders", "partitions": 1, "replication_factor": 1})
    assert status == 409 and body["error"]["code"] == "topic_exists", body

    # kill -9 a broker: fenced and its leaderships moved within the session timeout + 2 s.
    # (In combined mode, not the controller leader: losing it adds an election
    # and the new leader's grace period, checked in controller_failover.)
    controller_leader = leader_id(ctrl)
    victim = next(b for b in brokers if b.node_id != controller_leader)
    observer = next(n for n in everyone if n is not victim)
    before = topic(observer, "orders")
    led = [p["partition"] for p in before["partitions"] if p["leader"] == victim.node_id]
    assert led
    victim.kill()
    killed = time.monotonic()

    def moved():
        t = topic(observer, "orders")
        fenced = brokers_view(observer)[victim.node_id]["status"] == "fenced"
        ok = fenced and all(p["leader"] not in (victim.node_id, -1) for p in t["partitions"])
        return ok and t

    after = wait_until(moved, SESSION_MS / 1000 + 5, interval_s=0.1, what="fence and leader moves")
    took = time.monotonic() - killed
    print(f"   broker {victim.node_id} fenced, leaders moved after {took:.2f}s")
    assert took < SESSION_MS / 1000 + 2, took
    for p in after["partitions"]:
        if p["partition"] in led:
            old = next(q for q in before["partitions"] if q["partition"] == p["partition"])
            assert p["leader_epoch"] > old["leader_epoch"]
        assert victim.node_id not in p["isr"]

    # It returns: unfenced, preferred leaders restored.
    victim.start()
    returned = time.monotonic()
    wait_until(lambda: brokers_view(observer)[victim.node_id]["status"] == "alive", 10,
               what="broker unfenced")

    def preferred_leaders():
        t = topic(observer, "orders")
        return all(p["leader"] == p["replicas"][0] for p in t["partitions"])

    wait_until(preferred_leaders, 10, interval_s=0.1, what="preferred leaders restored")
    took = time.monotonic() - returned
    print(f"   preferred leaders restored {took:.2f}s after the broker returned")
    assert took < 10, took
    assert any(p["leader"] == victim.node_id for p in topic(observer, "orders")["partitions"])
    return everyone


def controller_failover(ctrl, brokers, everyone):
    old = leader_id(ctrl)
    old_node = next(n for n in ctrl if n.node_id == old)
    survivors = [n for n in everyone if n is not old_node]
    epochs = {b: v["epoch"] for b, v in brokers_view(survivors[0]).items()}
    old_node.kill()
    killed = time.monotonic()

    def create_works():
        status, body = http("POST", survivors[0].url + "/v1/topics",
                            {"name": "after-failover", "partitions": 1, "replication_factor": 1},
                            timeout_s=5)
        return status == 201 or (status == 409 and body["error"]["code"] == "topic_exists")

    wait_until(create_works, 10, interval_s=0.1, what="topic creation after controller failover")
    took = time.monotonic() - killed
    print(f"   topic creation works {took:.2f}s after the controller leader was killed")
    assert took < 3.0 + 0.5, took  # 3 s bound, plus the HTTP round trip of the check itself
    # No broker was fenced by the new leader (grace period); epochs unchanged.
    time.sleep(SESSION_MS / 1000 + 1)
    view = brokers_view(survivors[0])
    live = [b.node_id for b in brokers if b is not old_node]
    for b in live:
        assert view[b]["status"] == "alive", view
        assert view[b]["epoch"] == epochs[b], (view[b], epochs[b])


def controlled_shutdown(brokers, observer):
    """SIGTERM on a broker moves its leaderships away before it exits 0."""
    leaving = brokers[1]
    led = [p for p in topic(observer, "orders")["partitions"] if p["leader"] == leaving.node_id]
    assert led, "the broker leads nothing; the check would prove nothing"
    assert leaving.stop() == 0
    view = brokers_view(observer)
    assert view[leaving.node_id]["status"] == "fenced", view
    t = topic(observer, "orders")
    assert all(p["leader"] not in (leaving.node_id, -1) for p in t["partitions"]), t
    assert "controlled shutdown" in leaving.tail_log()


def test_three_controllers_three_brokers():
    with Workdir() as w:
        ctrl, brokers = start(w)
        everyone = scenario(ctrl, brokers)
        controller_failover(ctrl, brokers, everyone)
        alive_controller = next(c for c in ctrl if c.proc.poll() is None)
        controlled_shutdown(brokers, alive_controller)


def test_three_combined_nodes():
    with Workdir() as w:
        ctrl, brokers = start(w, combined=3)
        everyone = scenario(ctrl, brokers)
        controller_failover(ctrl, brokers, everyone)


def test_single_combined_node_and_bad_input():
    with Workdir() as w:
        node = w.node().start()
        wait_until(lambda: all_alive(node, [1]), 10, what="the node's broker alive")
        status, body = node.post("/v1/topics", {"name": "t1", "partitions": 3, "replication_factor": 1})
        assert status == 201, body
        bad = [
            ("{", 400, "invalid_json"),
            ([1], 400, "invalid_json"),
            ({"name": 5}, 400, None),
            ({"name": "x", "partitions": "3"}, 400, None),
            ({"name": "x", "partitions": 0}, 400, "invalid_partitions"),
            ({"name": "x", "partitions": -4}, 400, "invalid_partitions"),
            ({"name": "x", "partitions": 10 ** 9}, 400, "invalid_partitions"),
            ({"name": "x", "replication_factor": 2}, 503, "not_enough_brokers"),
            ({"name": "bad/name"}, 400, "invalid_topic_name"),
            ({"name": "a" * 250}, 400, "invalid_topic_name"),
            ({"name": ".."}, 400, "invalid_topic_name"),
            ({"name": "t1"}, 409, "topic_exists"),
        ]
        for body, want_status, want_code in bad:
            status, reply = node.post("/v1/topics", body)
            assert status == want_status, (body, status, reply)
            assert "error" in reply and reply["error"]["message"], reply
            if want_code:
                assert reply["error"]["code"] == want_code, (body, reply)
        status, reply = node.post("/v1/topics", "x" * (2 << 20))
        assert status == 413 and reply["error"]["code"] == "payload_too_large", reply
        status, reply = node.delete("/v1/topics/nope")
        assert status == 404 and reply["error"]["code"] == "unknown_topic", reply
        status, reply = node.get("/v1/topics/nope")
        assert status == 404 and reply["error"]["code"] == "unknown_topic", reply
        # Broker protocol: a stale epoch and a duplicate id from another incarnation.
        status, reply = node.post("/internal/brokers/heartbeat", {"broker_id": 1, "broker_epoch": 1})
        assert status == 409 and reply["error"]["code"] == "stale_broker_epoch", reply
        status, reply = node.post("/internal/brokers/register", {
            "broker_id": 1, "incarnation_id": "another-process", "kafka_host": "127.0.0.1",
            "kafka_port": 1, "http_host": "127.0.0.1", "http_port": 1})
        assert status == 409 and reply["error"]["code"] == "duplicate_broker_id", reply
        status, reply = node.post("/internal/brokers/register", {"broker_id": "x"})
        assert status == 400, reply
        # Nothing changed: one topic, the broker alive with its epoch.
        status, body = node.get("/v1/topics")
        assert [t["name"] for t in body["topics"]] == ["t1"]
        assert all_alive(node, [1])
        # Offsets in the topic view come from the partition logs this node hosts.
        import subprocess
        subprocess.run(["kcat", "-b", node.kafka, "-t", "t1", "-P", "-p", "1"], input=b"a\nb\nc\n",
                       check=True, timeout=30)
        part = next(p for p in topic(node, "t1")["partitions"] if p["partition"] == 1)
        assert part["log_start_offset"] == 0 and part["high_watermark"] == 3, part
        status, text = node.get("/metrics")
        assert 'dmq_brokers{state="alive"} 1\n' in text and "dmq_topics 1\n" in text, text
        assert "dmq_partitions 3\n" in text and "dmq_offline_partitions 0\n" in text
        status, reply = node.delete("/v1/topics/t1")
        assert status == 200, reply
        wait_until(lambda: node.get("/v1/topics")[1]["topics"] == [], 5, what="topic deleted")
        assert node.stop() == 0


if __name__ == "__main__":
    run([test_single_combined_node_and_bad_input, test_three_controllers_three_brokers,
         test_three_combined_nodes])
