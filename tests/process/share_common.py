"""Helpers for the share-group process tests: topics with share.* configs,
producing with confluent-kafka, HTTP share workers, reading a dead-letter
topic. Every loop is bounded by count and time."""

import threading
import time

from dmqtest import http, wait_until


def create_topic(node, name, partitions, rf=1, configs=None):
    status, body = node.post("/v1/topics", {"name": name, "partitions": partitions,
                                            "replication_factor": rf, "configs": configs or {}})
    assert status == 201, (status, body)
    # Every partition has a leader before anyone produces.
    wait_until(lambda: all(p["leader"] >= 0 for p in node.get(f"/v1/topics/{name}")[1]["partitions"]),
               20, what=f"leaders of {name}")


def produce(bootstrap, topic, values_by_partition):
    """values_by_partition: {partition: [bytes, ...]}; offsets follow the order."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "enable.idempotence": True})
    for part, values in values_by_partition.items():
        for v in values:
            p.produce(topic, value=v, key=b"k", partition=part)
            p.poll(0)
    assert p.flush(60) == 0


def read_topic(bootstrap, topic, partitions, expected, timeout_s=30):
    """Every record of `topic` as (partition, offset, value, {header: value}),
    once `expected` are there (or what there is after timeout_s)."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader-" + topic,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and len(out) < expected:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            headers = {k: (v.decode() if v is not None else None) for k, v in (m.headers() or [])}
            out.append((m.partition(), m.offset(), m.value(), headers))
        # A little longer: anything beyond `expected` is a duplicate to catch.
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            m = c.poll(0.2)
            if m is not None and not m.error():
                headers = {k: (v.decode() if v is not None else None) for k, v in (m.headers() or [])}
                out.append((m.partition(), m.offset(), m.value(), headers))
    finally:
        c.close()
    return out


def fetch(node, group, topics, member=None, max_records=100, wait_ms=200, timeout_s=40):
    body = {"topics": topics, "max_records": max_records, "wait_ms": wait_ms}
    if member:
        body["member_id"] = member
    return http("POST", node.url + f"/v1/share-groups/{group}/fetch", body, timeout_s=timeout_s)


def ack(node, group, member, acks, timeout_s=40):
    return http("POST", node.url + f"/v1/share-groups/{group}/ack",
                {"member_id": member, "acks": acks}, timeout_s=timeout_s)


def ack_entry(r, kind="accept", error=None):
    a = {"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "type": kind}
    if error is not None:
        a["error"] = error
    return a


class Ledger:
    """What the workers saw, shared between their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = {}      # (topic, partition, offset) -> times an accept was answered 200
        self.uncertain = set()  # accepts whose answer was lost (connection error)
        self.after_accept = []  # deliveries of a record after its accept was answered
        self.deliveries = {}    # (topic, partition, offset) -> delivery counts seen
        self.errors = []


class Worker(threading.Thread):
    """Fetches and acknowledges until told to stop or `deadline`; `decide`
    maps a record to ("accept"|"release"|"reject", error text). Fails over to
    the next node on a connection error or a 503."""

    def __init__(self, nodes, group, topics, ledger, decide, deadline, max_records=100,
                 hold=None):
        super().__init__(daemon=True)
        self.nodes, self.group, self.topics, self.ledger = nodes, group, topics, ledger
        self.decide, self.deadline, self.max_records = decide, deadline, max_records
        self.hold = hold  # if set: stop after one fetch, holding its locks
        self.member = None
        self.held = []
        self.stop_flag = threading.Event()
        self.turn = 0

    def node(self):
        alive = [n for n in self.nodes if n.proc.poll() is None]
        return alive[self.turn % len(alive)]

    def run(self):
        while not self.stop_flag.is_set() and time.monotonic() < self.deadline:
            try:
                status, body = fetch(self.node(), self.group, self.topics, self.member,
                                     self.max_records)
            except Exception:
                self.turn += 1
                time.sleep(0.1)
                continue
            if status == 503:
                self.turn += 1
                time.sleep(0.1)
                continue
            if status != 200:
                self.ledger.errors.append(("fetch", status, body))
                return
            self.member = body["member_id"]
            records = body["records"]
            self.note_deliveries(records)
            if self.hold:
                self.held = records
                return
            if records:
                self.acknowledge(records)

    def note_deliveries(self, records):
        with self.ledger.lock:
            for r in records:
                key = (r["topic"], r["partition"], r["offset"])
                self.ledger.deliveries.setdefault(key, []).append(r["delivery_count"])
                if self.ledger.accepted.get(key):
                    self.ledger.after_accept.append((key, r["delivery_count"]))

    def acknowledge(self, records):
        acks = []
        for r in records:
            kind, error = self.decide(r)
            acks.append(ack_entry(r, kind, error))
        for attempt in range(100):
            try:
                status, body = ack(self.node(), self.group, self.member, acks)
            except Exception:
                # The coordinator may have persisted it and died before answering.
                self.mark_uncertain(acks)
                self.turn += 1
                time.sleep(0.1)
                continue
            if status == 503:
                # A node that forwarded the call may have lost the answer of
                # a coordinator that applied it, and a coordinator that timed
                # out may still apply it: the outcome is unknown.
                self.mark_uncertain(acks)
                self.turn += 1
                time.sleep(0.1)
                continue
            if status == 200:
                with self.ledger.lock:
                    for a in acks:
                        if a["type"] == "accept":
                            key = (a["topic"], a["partition"], a["offset"])
                            self.ledger.accepted[key] = self.ledger.accepted.get(key, 0) + 1
                return
            if status == 409 and attempt > 0:
                return  # persisted by an attempt whose answer was lost, or its lock expired
            self.ledger.errors.append(("ack", status, body))
            return
        self.ledger.errors.append(("ack", "no answer after 100 attempts", acks[:1]))

    def mark_uncertain(self, acks):
        with self.ledger.lock:
            for a in acks:
                if a["type"] == "accept":
                    self.ledger.uncertain.add((a["topic"], a["partition"], a["offset"]))
