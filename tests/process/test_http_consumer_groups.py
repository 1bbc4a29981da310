#!/usr/bin/env python3
"""Consumer-group consumption over HTTP (POST /v1/consumers/{g}, Confluent
REST Proxy v2's shape under /v1): HTTP instances are real members of the
Kafka group. Two HTTP instances and a confluent-kafka consumer in one group
split a 6-partition topic and read 3,000 records exactly once between them;
deleting an instance moves its partitions to the others, which resume at its
commits; an idle instance expires and leaves the group; a recreated instance
resumes at the committed offset; bad requests get JSON errors."""

import threading
import time

from dmqtest import Workdir, http, run, wait_until
from share_common import create_topic


def single_node(w, extra=None):
    node = w.node(extra=["--group.initial.rebalance.delay.ms=300"] + (extra or [])).start()
    wait_until(lambda: any(b["status"] == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
               20, what="the broker registered")
    return node


def produce(node, topic, values):
    for start in range(0, len(values), 500):
        chunk = [{"key": v, "value": v} for v in values[start:start + 500]]
        status, body = http("POST", node.url + f"/v1/topics/{topic}/records", {"records": chunk},
                            timeout_s=30)
        assert status == 200, (status, body)


def new_instance(node, group, **config):
    status, body = node.post(f"/v1/consumers/{group}", config, timeout_s=20)
    assert status == 200, (status, body)
    assert body["base_uri"].startswith(node.url), body
    return body["base_uri"]


def subscribe(base, topics):
    status, body = http("POST", base + "/subscription", {"topics": topics})
    assert status == 204, (status, body)


def poll(base, timeout_ms=500):
    status, body = http("GET", base + f"/records?timeout={timeout_ms}", timeout_s=40)
    assert status == 200, (status, body)
    return body["records"]


def commit(base, body=None):
    status, answer = http("POST", base + "/offsets", body, timeout_s=20)
    return status, answer


def group_view(node, group):
    status, body = node.get(f"/v1/groups/{group}")
    return body if status == 200 else None


def stable_with(node, group, members, partitions):
    g = group_view(node, group)
    if not g or g["state"] != "Stable" or len(g["members"]) != members:
        return False
    assigned = [(a["topic"], a["partition"]) for m in g["members"] for a in m["assignment"]]
    return len(assigned) == partitions and len(set(assigned)) == partitions and g


class HttpReader(threading.Thread):
    """Polls an instance and commits after every non-empty poll."""

    def __init__(self, base, seen, lock):
        super().__init__(daemon=True)
        self.base, self.seen, self.lock = base, seen, lock
        self.stop = threading.Event()
        self.count = 0

    def run(self):
        while not self.stop.is_set():
            records = poll(self.base, 300)
            with self.lock:
                for r in records:
                    self.seen.append((r["value"], "http", r["topic"], r["partition"], r["offset"]))
            self.count += len(records)
            if records:
                status, body = commit(self.base)
                assert status == 200, (status, body)


class KafkaReader(threading.Thread):
    def __init__(self, bootstrap, group, topic, seen, lock):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "session.timeout.ms": 10000})
        self.consumer.subscribe([topic])
        self.seen, self.lock = seen, lock
        self.stop = threading.Event()
        self.count = 0

    def run(self):
        try:
            while not self.stop.is_set():
                msgs = self.consumer.consume(100, 0.2)
                good = [m for m in msgs if not m.error()]
                with self.lock:
                    for m in good:
                        self.seen.append((m.value().decode(), "kafka", m.topic(), m.partition(),
                                          m.offset()))
                self.count += len(good)
                if good:
                    self.consumer.commit(asynchronous=False)
        finally:
            self.consumer.close()


def wait_all_seen(seen, lock, expected, timeout_s=60):
    def done():
        with lock:
            return expected <= {v for v, *_ in seen}
    wait_until(done, timeout_s, interval_s=0.2, what=f"{len(expected)} records consumed")


def test_http_instances_and_a_kafka_consumer_split_a_topic_exactly_once():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "events", 6)
        group = "mixed"
        a = new_instance(node, group, **{"auto.offset.reset": "earliest", "auto.commit.enable": "false"})
        b = new_instance(node, group, name="b", **{"auto.offset.reset": "earliest",
                                                   "auto.commit.enable": "false"})
        assert b.endswith("/instances/b"), b
        subscribe(a, ["events"])
        subscribe(b, ["events"])
        status, body = http("GET", a + "/subscription")
        assert status == 200 and body["topics"] == ["events"], (status, body)
        seen, lock = [], threading.Lock()
        kafka = KafkaReader(node.kafka, group, "events", seen, lock)
        kafka.start()
        readers = [HttpReader(a, seen, lock), HttpReader(b, seen, lock)]
        for r in readers:
            r.start()
        # Every member in the group and holding partitions before anything is produced.
        g = wait_until(lambda: stable_with(node, group, 3, 6), 40, interval_s=0.2,
                       what="3 members sharing 6 partitions")
        assert all(m["assignment"] for m in g["members"]), g
        assert {m["client_id"] for m in g["members"]} >= {"dmq-rest-consumer"}, g

        values = [f"r-{i}" for i in range(3000)]
        produce(node, "events", values)
        wait_all_seen(seen, lock, set(values))
        time.sleep(1)  # anything read twice would come now
        with lock:
            got = [v for v, *_ in seen]
            sources = {src for _, src, *_ in seen}
        assert len(got) == len(set(got)) == 3000, f"{len(got)} reads of {len(set(got))} records"
        assert sources == {"http", "kafka"}, sources
        assert readers[0].count > 0 and readers[1].count > 0 and kafka.count > 0, \
            (readers[0].count, readers[1].count, kafka.count)

        # Deleting b: its partitions move to a and the Kafka consumer, which
        # start at b's commits (no record read twice, none lost).
        readers[1].stop.set()
        readers[1].join(10)
        status, _ = http("DELETE", b)
        assert status == 204, status
        wait_until(lambda: stable_with(node, group, 2, 6), 40, interval_s=0.2,
                   what="2 members sharing 6 partitions")
        more = [f"s-{i}" for i in range(600)]
        produce(node, "events", more)
        wait_all_seen(seen, lock, set(values) | set(more))
        time.sleep(1)
        with lock:
            got = [v for v, *_ in seen]
        assert len(got) == len(set(got)) == 3600, f"{len(got)} reads of {len(set(got))} records"
        status, body = http("GET", b + "/records")
        assert status == 404 and body["error"]["code"] == "consumer_instance_not_found", (status, body)

        readers[0].stop.set()
        kafka.stop.set()
        readers[0].join(10)
        kafka.join(10)
        status, body = http("GET", a + "/offsets", {"partitions": [{"topic": "events", "partition": p}
                                                                   for p in range(6)]})
        assert status == 200, (status, body)
        committed = sum(o["offset"] for o in body["offsets"])
        assert committed == 3600, body


def test_an_idle_instance_expires_and_leaves_its_group():
    with Workdir() as w:
        node = single_node(w, ["--rest.consumer.instance.timeout.ms=2000"])
        create_topic(node, "idle", 2)
        base = new_instance(node, "sleepy")
        subscribe(base, ["idle"])
        wait_until(lambda: stable_with(node, "sleepy", 1, 2), 30, interval_s=0.2,
                   what="the instance joined")
        # No request for longer than the timeout: it leaves the group.
        wait_until(lambda: (group_view(node, "sleepy") or {}).get("members") == [], 20,
                   interval_s=0.2, what="the expired instance left")
        status, body = http("GET", base + "/records")
        assert status == 404 and body["error"]["code"] == "consumer_instance_not_found", (status, body)
        metrics = dict(line.rsplit(" ", 1) for line in node.get("/metrics")[1].splitlines()
                       if line.startswith("dmq_rest_consumer_"))
        assert float(metrics["dmq_rest_consumer_instances_expired_total"]) == 1, metrics
        assert float(metrics["dmq_rest_consumer_instances"]) == 0, metrics


def test_a_recreated_instance_resumes_at_the_committed_offset():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "resume", 1)
        produce(node, "resume", [f"v-{i}" for i in range(300)])
        base = new_instance(node, "g1", name="worker", **{"auto.offset.reset": "earliest",
                                                          "auto.commit.enable": "false"})
        subscribe(base, ["resume"])
        records = wait_until(lambda: poll(base), 30, what="records")
        last = records[min(99, len(records) - 1)]
        status, body = commit(base, {"offsets": [{"topic": "resume", "partition": 0,
                                                  "offset": last["offset"]}]})
        assert status == 200, (status, body)
        status, body = http("GET", base + "/offsets", {"partitions": [{"topic": "resume",
                                                                       "partition": 0}]})
        assert status == 200 and body["offsets"][0]["offset"] == last["offset"] + 1, body
        assert http("DELETE", base)[0] == 204

        again = new_instance(node, "g1", name="worker", **{"auto.offset.reset": "earliest"})
        subscribe(again, ["resume"])
        records = wait_until(lambda: poll(again), 30, what="records after the restart")
        assert records[0]["offset"] == last["offset"] + 1, records[0]
        assert records[0]["value"] == f"v-{last['offset'] + 1}", records[0]
        # auto.commit.enable (the default): the next poll commits what this
        # one returned (in the background, as a Kafka consumer's auto commit).
        poll(again, 0)
        wait_until(lambda: http("GET", again + "/offsets")[1]["offsets"][0]["offset"]
                   == records[-1]["offset"] + 1, 10, what="the auto commit")


def test_refusals():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "t", 1)
        status, body = node.post("/v1/consumers/g", "{not json")
        assert status == 400 and body["error"]["code"] == "invalid_json" or status == 400, body
        status, body = node.post("/v1/consumers/g", {"auto.offset.reset": "middle"})
        assert status == 400 and "auto.offset.reset" in body["error"]["message"], body
        status, body = node.post("/v1/consumers/g", {"auto.commit.enable": "maybe"})
        assert status == 400, body
        status, body = node.post("/v1/consumers/g", {"name": "bad/name"})
        assert status == 400 or status == 404, body
        base = new_instance(node, "g", name="one")
        status, body = node.post("/v1/consumers/g", {"name": "one"})
        assert status == 409 and body["error"]["code"] == "consumer_instance_exists", body
        status, body = http("GET", base + "/records")
        assert status == 409 and body["error"]["code"] == "not_subscribed", body
        status, body = http("POST", base + "/subscription", {"topics": []})
        assert status == 400, body
        status, body = http("POST", base + "/subscription", "[1,2")
        assert status == 400, body
        status, body = http("GET", base + "/records?timeout=-5")
        assert status == 400, body
        status, body = commit(base, {"offsets": [{"topic": "t"}]})
        assert status == 400, body
        status, body = http("GET", node.url + "/v1/consumers/g/instances/nobody/records")
        assert status == 404 and body["error"]["code"] == "consumer_instance_not_found", body
        assert http("DELETE", node.url + "/v1/consumers/g/instances/nobody")[0] == 404
        assert node.get("/v1/health")[0] == 200


if __name__ == "__main__":
    run([
        test_refusals,
        test_a_recreated_instance_resumes_at_the_committed_offset,
        test_an_idle_instance_expires_and_leaves_its_group,
        test_http_instances_and_a_kafka_consumer_split_a_topic_exactly_once,
    ])
