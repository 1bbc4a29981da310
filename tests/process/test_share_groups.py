#!/usr/bin/env python3
"""Share groups over REST against a real dmq node: many HTTP workers share the
partitions and every record is accepted exactly once; a worker that stops
while holding locks has its records redelivered to others after the lock
timeout; records that always fail reach the dead-letter topic after exactly
share.delivery.count.limit deliveries, with the headers that say why; bad
input gets a clear JSON error."""

import os
import signal
import subprocess
import time

from dmqtest import BINARY, Workdir, run, wait_until
from share_common import Ledger, Worker, ack, ack_entry, create_topic, fetch, produce, read_topic

PARTITIONS = 3
WORKERS = 5
CLI_WORKERS = 2
RECORDS = 10000


def start_node(w, extra=None):
    node = w.node(extra=extra)
    node.start()
    wait_until(lambda: any(b.get("status") == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
               15, what="broker registration")
    return node


def cli_worker(node, topic, group, command, log_path, extra=()):
    """`dmq consume TOPIC --share GROUP --exec COMMAND` against the node's REST port."""
    log = open(log_path, "wb")
    return subprocess.Popen([BINARY, "consume", topic, "--share", group, "--http",
                             f"127.0.0.1:{node.http_port}", "--exec", command, *extra],
                            stdout=log, stderr=subprocess.STDOUT)


def stop_cli(procs):
    for p in procs:
        p.send_signal(signal.SIGINT)
    codes = [p.wait(30) for p in procs]
    assert codes == [0] * len(procs), codes


def cli_accepted(paths):
    """(topic, partition, offset) -> times a CLI worker's command accepted it."""
    seen = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                topic, p, o = line.split()
                key = (topic, int(p), int(o))
                seen[key] = seen.get(key, 0) + 1
    return seen


def metric_sum(node, name, group):
    _, text = node.get("/metrics")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and f'group="{group}"' in line:
            total += float(line.split()[-1])
    return total


def test_workers_accept_every_record_once():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node, "jobs", PARTITIONS, configs={"share.auto.offset.reset": "earliest"})
        per = RECORDS // PARTITIONS
        values = {p: [b"job-%d-%d" % (p, i) for i in range(per + (1 if p < RECORDS % PARTITIONS else 0))]
                  for p in range(PARTITIONS)}
        produce(node.kafka, "jobs", values)
        ledger = Ledger()
        deadline = time.monotonic() + 240
        workers = [Worker([node], "workers", ["jobs"], ledger, lambda r: ("accept", None), deadline)
                   for _ in range(WORKERS)]
        # Two CLI workers: the command appends the record's coordinates to a
        # file of its own and exits 0, which accepts the record.
        files = [os.path.join(w.path, f"cli-{i}.txt") for i in range(CLI_WORKERS)]
        start = time.monotonic()
        cli = [cli_worker(node, "jobs", "workers",
                          f'echo "$DMQ_TOPIC $DMQ_PARTITION $DMQ_OFFSET" >> {files[i]}',
                          os.path.join(w.path, f"cli-{i}.log")) for i in range(CLI_WORKERS)]
        for t in workers:
            t.start()

        def accepted_total():
            return len(ledger.accepted) + sum(cli_accepted(files).values())

        wait_until(lambda: accepted_total() >= RECORDS or ledger.errors, 240, interval_s=0.2,
                   what=f"{RECORDS} accepted")
        took = time.monotonic() - start
        for t in workers:
            t.stop_flag.set()
        for t in workers:
            t.join(60)
        stop_cli(cli)
        assert not ledger.errors, ledger.errors[:3]
        by_cli = cli_accepted(files)
        per_cli = [sum(cli_accepted([f]).values()) for f in files]
        assert all(per_cli), f"a CLI worker accepted nothing: {per_cli}"
        expected = {("jobs", p, o) for p in range(PARTITIONS) for o in range(len(values[p]))}
        overall = {k: ledger.accepted.get(k, 0) + by_cli.get(k, 0) for k in set(ledger.accepted) | set(by_cli)}
        assert set(overall) == expected, len(set(overall) ^ expected)
        twice = [k for k, n in overall.items() if n != 1]
        assert not twice, f"accepted more than once: {twice[:5]}"
        assert not ledger.after_accept, ledger.after_accept[:5]
        members = {t.member for t in workers}
        assert len(members) == WORKERS, members
        status, body = fetch(node, "workers", ["jobs"], wait_ms=0)
        assert status == 200 and body["records"] == [], body
        _, view = node.get("/v1/share-groups/workers")
        starts = {p["partition"]: p["start_offset"] for p in view["partitions"]}
        assert starts == {p: len(values[p]) for p in range(PARTITIONS)}, view
        assert metric_sum(node, "dmq_share_group_acknowledged_total", "workers") == RECORDS
        print(f"   {RECORDS} records accepted once each by {WORKERS} HTTP and {CLI_WORKERS} CLI workers "
              f"({sum(by_cli.values())} by the CLI) in {took:.1f}s")


def test_stopped_worker_has_its_records_redelivered():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node, "locks", 1, configs={"share.auto.offset.reset": "earliest",
                                                "share.record.lock.duration.ms": "1500"})
        produce(node.kafka, "locks", {0: [b"r%d" % i for i in range(40)]})
        status, held = fetch(node, "g-locks", ["locks"], max_records=25, wait_ms=2000)
        assert status == 200 and len(held["records"]) == 25, (status, held)
        quitter = held["member_id"]
        # The other worker gets only what is not locked...
        status, rest = fetch(node, "g-locks", ["locks"], max_records=100, wait_ms=0)
        other = rest["member_id"]
        assert [r["offset"] for r in rest["records"]] == list(range(25, 40)), rest
        status, body = ack(node, "g-locks", other, [ack_entry(r) for r in rest["records"]])
        assert status == 200, body
        # ...and cannot acknowledge a record the quitter holds.
        status, body = ack(node, "g-locks", other, [ack_entry(held["records"][0])])
        assert status == 409 and body["error"]["code"] == "record_locked_by_another_member", body
        # Once the locks expire, the quitter's records come to the other worker.
        got = []
        deadline = time.monotonic() + 15
        while len(got) < 25 and time.monotonic() < deadline:
            status, body = fetch(node, "g-locks", ["locks"], other, max_records=100, wait_ms=500)
            got += body["records"]
        assert sorted(r["offset"] for r in got) == list(range(25)), got
        assert all(r["delivery_count"] == 2 for r in got), got
        status, body = ack(node, "g-locks", other, [ack_entry(r) for r in got])
        assert status == 200, body
        # The quitter's late acknowledgement is refused: its locks are gone.
        status, body = ack(node, "g-locks", quitter, [ack_entry(held["records"][1])])
        assert status == 409 and body["error"]["code"] == "record_not_in_flight", body
        assert metric_sum(node, "dmq_share_group_lock_expiries_total", "g-locks") == 25
        assert metric_sum(node, "dmq_share_group_redeliveries_total", "g-locks") == 25
        print("   25 locks expired and went to the other worker, delivery_count 2")


def test_failing_records_reach_the_dead_letter_topic():
    limit = 3
    with Workdir() as w:
        node = start_node(w)
        create_topic(node, "dlq", 1)
        create_topic(node, "tasks", 2, configs={
            "share.auto.offset.reset": "earliest", "share.delivery.count.limit": str(limit),
            "share.dead.letter.topic": "dlq", "share.retry.backoff.ms": "20",
            "share.retry.backoff.max.ms": "80"})
        values = {p: [(b"bad-%d-%d" if i % 10 == 3 else b"ok-%d-%d") % (p, i) for i in range(60)]
                  for p in range(2)}
        values[1][5] = b"poison-1-5"
        produce(node.kafka, "tasks", values)

        def decide(r):
            if r["value"].startswith("bad"):
                return "release", f"cannot handle {r['value']} (try {r['delivery_count']})"
            if r["value"].startswith("poison"):
                return "reject", "poison message"
            return "accept", None

        ledger = Ledger()
        deadline = time.monotonic() + 60
        workers = [Worker([node], "g-dlq", ["tasks"], ledger, decide, deadline, max_records=7)
                   for _ in range(3)]
        for t in workers:
            t.start()
        failing = {(p, o) for p in range(2) for o, v in enumerate(values[p]) if not v.startswith(b"ok")}
        wait_until(lambda: (lambda v: v and sum(p["dead_lettered"] for p in v["partitions"]) == len(failing))(
            node.get("/v1/share-groups/g-dlq")[1]), 60, interval_s=0.2, what="dead letters")
        wait_until(lambda: len(ledger.accepted) == 120 - len(failing), 30, what="all good accepted")
        for t in workers:
            t.stop_flag.set()
        for t in workers:
            t.join(30)
        assert not ledger.errors, ledger.errors[:3]
        dead = read_topic(node.kafka, "dlq", 1, len(failing))
        seen = [(int(h["dmq.dlq.source.partition"]), int(h["dmq.dlq.source.offset"])) for _, _, _, h in dead]
        assert sorted(seen) == sorted(failing), (sorted(seen), sorted(failing))
        for _, _, value, h in dead:
            p, o = int(h["dmq.dlq.source.partition"]), int(h["dmq.dlq.source.offset"])
            assert value == values[p][o], (value, values[p][o])
            assert h["dmq.dlq.source.topic"] == "tasks" and h["dmq.dlq.group"] == "g-dlq", h
            if value.startswith(b"poison"):
                assert h["dmq.dlq.delivery.count"] == "1" and h["dmq.dlq.error"] == "poison message", h
            else:
                assert h["dmq.dlq.delivery.count"] == str(limit), h
                assert h["dmq.dlq.error"] == f"cannot handle {value.decode()} (try {limit})", h
        for (p, o) in failing:
            counts = ledger.deliveries[("tasks", p, o)]
            assert max(counts) == (1 if values[p][o].startswith(b"poison") else limit), counts
        assert metric_sum(node, "dmq_share_group_dead_lettered_total", "g-dlq") == len(failing)
        print(f"   {len(failing)} failing records dead-lettered once each, after {limit} deliveries")


def test_cli_worker_releases_failures_until_they_are_dead_lettered():
    limit = 2
    with Workdir() as w:
        node = start_node(w)
        create_topic(node, "cli-dlq", 1)
        create_topic(node, "cli-tasks", 1, configs={
            "share.auto.offset.reset": "earliest", "share.delivery.count.limit": str(limit),
            "share.dead.letter.topic": "cli-dlq", "share.retry.backoff.ms": "20",
            "share.retry.backoff.max.ms": "40"})
        values = [b"fail-0", b"ok-1", b"ok-2", b"fail-3", b"ok-4"]
        produce(node.kafka, "cli-tasks", {0: values})
        done = os.path.join(w.path, "done.txt")
        command = ('v=$(cat); case "$v" in fail*) echo "cannot do $v" >&2; exit 3;; esac; '
                   f'echo "$DMQ_OFFSET $DMQ_DELIVERY_COUNT $v" >> {done}')
        proc = cli_worker(node, "cli-tasks", "g-cli", command, os.path.join(w.path, "cli.log"),
                          ["--share-batch", "2"])
        try:
            wait_until(lambda: (lambda v: v and v["partitions"][0]["dead_lettered"] == 2
                                and v["partitions"][0]["start_offset"] == 5)(
                node.get("/v1/share-groups/g-cli")[1]), 60, interval_s=0.2, what="dead letters")
        finally:
            stop_cli([proc])
        with open(done) as f:
            handled = sorted(line.split() for line in f)
        assert handled == [["1", "1", "ok-1"], ["2", "1", "ok-2"], ["4", "1", "ok-4"]], handled
        dead = read_topic(node.kafka, "cli-dlq", 1, 2)
        assert sorted(int(h["dmq.dlq.source.offset"]) for _, _, _, h in dead) == [0, 3], dead
        for _, _, value, h in dead:
            assert h["dmq.dlq.delivery.count"] == str(limit), h
            assert h["dmq.dlq.error"] == f"exit status 3: cannot do {value.decode()}\n", h
        print(f"   the CLI worker accepted 3 records and released 2 until they were dead-lettered")


def test_bad_input_gets_clear_errors():
    with Workdir() as w:
        node = start_node(w)
        create_topic(node, "bad", 1, configs={"share.auto.offset.reset": "earliest"})
        produce(node.kafka, "bad", {0: [b"a", b"b", b"\xff\xfe"]})

        def code(status_body):
            status, body = status_body
            return status, body["error"]["code"] if isinstance(body, dict) and "error" in body else body

        url = "/v1/share-groups/g-bad"
        assert code(fetch(node, "g-bad", ["nope"])) == (404, "unknown_topic")
        assert code(node.post(url + "/fetch", "{not json")) == (400, "invalid_json")
        assert code(node.post(url + "/fetch", {"topics": []}))[0] == 400
        assert code(node.post(url + "/fetch", {"topics": ["bad"], "max_records": 0}))[0] == 400
        assert code(node.post(url + "/fetch", {"topics": ["bad"], "wait_ms": -1}))[0] == 400
        assert code(ack(node, "never-fetched", "m", [{"topic": "bad", "partition": 0, "offset": 0,
                                                     "type": "accept"}])) == (404, "unknown_group")
        status, body = fetch(node, "g-bad", ["bad"], max_records=2, wait_ms=2000)
        assert status == 200 and len(body["records"]) == 2, body
        member = body["member_id"]
        status, third = fetch(node, "g-bad", ["bad"], max_records=1, wait_ms=2000)
        assert third["records"][0]["value"] == "//4=" and third["records"][0]["value_encoding"] == "base64", third
        assert code(ack(node, "g-bad", member, [{"topic": "bad", "partition": 0, "offset": 99,
                                                 "type": "accept"}])) == (404, "record_not_delivered")
        assert code(ack(node, "g-bad", member, [ack_entry(third["records"][0])])) == \
            (409, "record_locked_by_another_member")
        assert code(ack(node, "g-bad", member, [dict(ack_entry(body["records"][0]), type="maybe")]))[0] == 400
        assert code(node.post(url + "/ack", {"acks": [ack_entry(body["records"][0])]})) == \
            (400, "member_id_required")
        assert code(node.post(url + "/ack", "[1,2]"))[0] == 400
        assert code(ack(node, "g-bad", member, [ack_entry(body["records"][0])] * 2)) == \
            (400, "invalid_request")
        # All or none: one bad ack refuses the whole call.
        assert code(ack(node, "g-bad", member, [ack_entry(body["records"][0]),
                                                {"topic": "bad", "partition": 0, "offset": 99,
                                                 "type": "accept"}]))[0] == 404
        status, ok = ack(node, "g-bad", member, [ack_entry(r) for r in body["records"]])
        assert status == 200 and ok["acknowledged"] == 2, ok
        assert code(ack(node, "g-bad", member, [ack_entry(body["records"][0])])) == \
            (409, "record_not_in_flight")
        assert code(node.get("/v1/share-groups/unknown-group")) == (404, "unknown_group")
        print("   unknown topic/group, malformed JSON, bad values, foreign and undelivered acks refused")


def test_delete_share_group():
    """DELETE /v1/share-groups/{g}: 409 while a member is active, then the
    group's state is gone, also after a restart (tombstoned, not only dropped
    from memory): the next fetch starts afresh."""
    with Workdir() as w:
        node = start_node(w, extra=["--group.share.session.timeout.ms=1500"])
        create_topic(node, "del", 1, configs={"share.auto.offset.reset": "earliest"})
        produce(node.kafka, "del", {0: [b"a", b"b", b"c"]})
        status, body = fetch(node, "g-del", ["del"], max_records=2, wait_ms=2000)
        assert status == 200 and len(body["records"]) == 2, body
        member = body["member_id"]
        status, _ = ack(node, "g-del", member, [ack_entry(body["records"][0])])
        assert status == 200
        url = "/v1/share-groups/g-del"
        status, err = node.delete(url)
        assert status == 409 and err["error"]["code"] == "non_empty_group", (status, err)
        assert node.get(url)[0] == 200  # refused: nothing of it was deleted
        status, err = node.delete("/v1/share-groups/never-seen")
        assert status == 404 and err["error"]["code"] == "unknown_group", (status, err)
        # The member leaves group.share.session.timeout.ms after its last call
        # (its lock on offset 1 does not keep the group alive).
        deleted = {}

        def delete_answers_200():
            deleted["answer"] = node.delete(url)
            return deleted["answer"][0] == 200

        wait_until(delete_answers_200, 15, interval_s=0.2, what="the delete accepted")
        assert deleted["answer"][1] == {"group_id": "g-del", "deleted": True}, deleted
        status, err = node.get(url)
        assert status == 404 and err["error"]["code"] == "unknown_group", (status, err)
        node.stop()
        node.start()
        wait_until(lambda: node.get(url)[0] == 404 and
                   node.get(url)[1]["error"]["code"] == "unknown_group", 20, interval_s=0.2,
                   what="the reloaded coordinator answers for the group")
        # A new group of the same name: every record again, first delivery.
        status, body = fetch(node, "g-del", ["del"], max_records=10, wait_ms=5000)
        assert status == 200, body
        assert [(r["offset"], r["delivery_count"]) for r in body["records"]] == [(0, 1), (1, 1), (2, 1)], body
        print("   delete refused with an active member, accepted after it left, gone after a restart")


if __name__ == "__main__":
    run([test_bad_input_gets_clear_errors, test_delete_share_group,
         test_stopped_worker_has_its_records_redelivered,
         test_cli_worker_releases_failures_until_they_are_dead_lettered,
         test_failing_records_reach_the_dead_letter_topic, test_workers_accept_every_record_once])
