"""`dmq consume TOPIC --group G` joins the consumer group as a Kafka client
does: two such processes share a 4-partition topic (each gets partitions,
seen by `GET /v1/groups/G` and `dmq group describe --json`), print every
record exactly once between them, and when one is interrupted it commits,
leaves, and the other takes its partitions over from the committed offsets
without losing or repeating a record. A confluent-kafka consumer then joins
beside it and they split the partitions and new records; committed offsets
are cross-checked with confluent-kafka."""

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402
from test_client_group import real_consumer_position  # noqa: E402
from test_client_topic import ok  # noqa: E402

from confluent_kafka import Consumer  # noqa: E402

TOPIC, GROUP, PARTITIONS = "jt", "jg", 4


class GroupConsumer:
    """A `dmq consume --group` process whose lines are collected by a thread."""

    def __init__(self, b):
        self.proc = subprocess.Popen(
            [dmqtest.BINARY, "consume", TOPIC, "--group", GROUP, "--from-beginning",
             f"--brokers={b}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)
        self.reader.join(timeout=10)
        assert self.proc.returncode == 0, (self.proc.returncode, self.proc.stderr.read())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def produce(b, start, count):
    """`count` records per partition, values p<partition>-<index>."""
    for p in range(PARTITIONS):
        ok(["produce", TOPIC, "--partition", str(p)], b,
           stdin="".join(f"p{p}-{i}\n" for i in range(start, start + count)))
    return {f"p{p}-{i}" for p in range(PARTITIONS) for i in range(start, start + count)}


def rest_assignments(node):
    """member id -> assigned partitions of TOPIC, from GET /v1/groups/G."""
    status, body = node.get(f"/v1/groups/{GROUP}")
    if status != 200 or body.get("state") != "Stable":
        return {}
    return {m["member_id"]: sorted(a["partition"] for a in m["assignment"] if a["topic"] == TOPIC)
            for m in body["members"]}


def wait_for_members(node, count):
    """Waits for `count` members that together hold every partition, each some."""
    def shared():
        got = rest_assignments(node)
        parts = sorted(p for ps in got.values() for p in ps)
        return len(got) == count and all(got.values()) and parts == list(range(PARTITIONS))
    dmqtest.wait_until(shared, 40, interval_s=0.2, what=f"{count} members sharing {TOPIC}")
    return rest_assignments(node)


def wait_for_lines(consumers, total, what):
    dmqtest.wait_until(lambda: sum(len(c.lines) for c in consumers) >= total, 40,
                       interval_s=0.1, what=what)
    time.sleep(1.5)  # anything beyond `total` would be a duplicate: let it show


def committed_offsets(b):
    desc = json.loads(ok(["group", "describe", GROUP, "--json"], b))
    return {o["partition"]: o["committed_offset"] for o in desc["offsets"] if o["topic"] == TOPIC}


def check_describe_shows_assignment(b, rest):
    desc = json.loads(ok(["group", "describe", GROUP, "--json"], b))
    assert desc["state"] == "Stable" and len(desc["members"]) == 2, desc
    shown = {m["member_id"]: sorted(p for a in m["assignment"] if a["topic"] == TOPIC
                                    for p in a["partitions"]) for m in desc["members"]}
    assert shown == rest, (shown, rest)
    table = ok(["group", "describe", GROUP], b)
    assert "ASSIGNMENT" in table, table
    for member, parts in rest.items():
        row = next(line for line in table.splitlines() if line.startswith(member))
        assert row.split()[-1] == f"{TOPIC}:" + ",".join(map(str, parts)), (row, parts)


def share_with_a_real_consumer(b, node, dmq_member):
    """A confluent-kafka consumer joins the group beside the dmq member: the
    two agree on an assignment (whichever leads) and read 40 new records
    exactly once between them; closing it commits and hands its partitions
    back."""
    real = Consumer({"bootstrap.servers": b, "group.id": GROUP, "auto.offset.reset": "earliest",
                     "enable.auto.commit": True, "auto.commit.interval.ms": 500,
                     "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000})
    real.subscribe([TOPIC])
    got, new = [], None
    before = len(dmq_member.lines)
    deadline = time.time() + 60
    while time.time() < deadline:
        m = real.poll(0.2)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
        if new is None:
            members = rest_assignments(node)
            if len(members) == 2 and all(members.values()):
                new = produce(b, 150, 10)
        elif len(got) + len(dmq_member.lines) - before >= 40:
            break
    assert new is not None, "the real consumer never got a share of the partitions"
    for _ in range(10):  # anything more would be a duplicate
        m = real.poll(0.1)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
    real.close()
    assert got, "the real consumer read nothing"
    seen = collections.Counter(got + dmq_member.lines[before:])
    assert set(seen) == new and max(seen.values()) == 1, (seen.most_common(3), len(seen))
    wait_for_members(node, 1)
    return new


def run(node):
    b = node.kafka
    ok(["topic", "create", TOPIC, "--partitions", str(PARTITIONS)], b)
    a, c = GroupConsumer(b), GroupConsumer(b)
    try:
        rest = wait_for_members(node, 2)
        check_describe_shows_assignment(b, rest)

        # 400 records: each member prints its partitions' share, none twice.
        first = produce(b, 0, 100)
        wait_for_lines([a, c], 400, "400 records printed by the two members")
        assert a.lines and c.lines, (len(a.lines), len(c.lines))
        seen = collections.Counter(a.lines + c.lines)
        assert set(seen) == first and max(seen.values()) == 1, seen.most_common(3)
        assert {v.split("-")[0] for v in a.lines}.isdisjoint({v.split("-")[0] for v in c.lines})
        dmqtest.wait_until(lambda: committed_offsets(b) == {p: 100 for p in range(PARTITIONS)},
                           15, interval_s=0.3, what="offsets 100 committed on every partition")

        # SIGINT one: it commits and leaves; the other takes every partition.
        a.interrupt()
        dmqtest.wait_until(lambda: sorted(sum(rest_assignments(node).values(), [])) ==
                           list(range(PARTITIONS)) and len(rest_assignments(node)) == 1,
                           30, interval_s=0.2, what="the remaining member owning every partition")
        before = len(c.lines)
        second = produce(b, 100, 50)
        wait_for_lines([c], before + 200, "200 more records printed by the remaining member")
        seen = collections.Counter(a.lines + c.lines)
        assert set(seen) == first | second and max(seen.values()) == 1, seen.most_common(3)
        assert set(c.lines[before:]) == second, len(c.lines[before:])
        share_with_a_real_consumer(b, node, c)
        c.interrupt()

        # Committed where a real Kafka consumer of the group resumes.
        assert committed_offsets(b) == {p: 160 for p in range(PARTITIONS)}
        real = real_consumer_position(b, GROUP, TOPIC, list(range(PARTITIONS)))
        assert real == {p: 160 for p in range(PARTITIONS)}, real
        status, body = node.get(f"/v1/groups/{GROUP}")
        assert status == 200 and body["members"] == [], body
    finally:
        a.kill()
        c.kill()
    print("consume --group membership, takeover and commits ok")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node)
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            assert node.stop() == 0


if __name__ == "__main__":
    main()
