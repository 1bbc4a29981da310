"""`dmq group list|describe|reset-offsets|delete` as processes against a real
dmq node. Offsets committed by `dmq consume --group` are what a real Kafka
consumer (confluent-kafka) in that group resumes from, and offsets a real
consumer committed show up in `dmq group describe`."""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402
from test_client_topic import dmq, ok, one_line_error  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402


def offsets_of(desc):
    return {(o["topic"], o["partition"]): o for o in desc["offsets"]}


def real_consumer_position(b, group, topic, partitions):
    consumer = Consumer({"bootstrap.servers": b, "group.id": group, "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: tp.offset for tp in committed}
    finally:
        consumer.close()


def run(node):
    b = node.kafka
    ok(["topic", "create", "gt", "--partitions", "2"], b)
    ok(["produce", "gt", "--partition", "0"], b, stdin="".join(f"a{i}\n" for i in range(30)))
    ok(["produce", "gt", "--partition", "1"], b, stdin="".join(f"b{i}\n" for i in range(20)))

    # dmq consume --group commits what it printed.
    out = ok(["consume", "gt", "--group", "g1", "--from-beginning", "--partition", "0",
              "--max-messages", "10"], b).split()
    assert out == [f"a{i}" for i in range(10)], out
    assert real_consumer_position(b, "g1", "gt", [0]) == {0: 10}

    listed = json.loads(ok(["group", "list", "--json"], b))["groups"]
    assert any(g["group"] == "g1" for g in listed), listed
    assert "g1" in ok(["group", "list"], b)

    desc = json.loads(ok(["group", "describe", "g1", "--json"], b))
    assert desc["state"] == "Empty" and desc["members"] == [], desc
    row = offsets_of(desc)[("gt", 0)]
    assert (row["committed_offset"], row["log_end_offset"], row["lag"]) == (10, 30, 20), row
    text = ok(["group", "describe", "g1"], b)
    assert "CURRENT-OFFSET" in text and "LAG" in text, text

    # Resuming with the group continues after the commit.
    more = ok(["consume", "gt", "--group", "g1", "--partition", "0", "--max-messages", "5"],
              b).split()
    assert more == [f"a{i}" for i in range(10, 15)], more

    # reset-offsets: a dry run changes nothing; --execute moves every partition.
    plan = json.loads(ok(["group", "reset-offsets", "g1", "--topic", "gt", "--to-earliest",
                          "--json"], b))
    assert plan["executed"] is False, plan
    assert real_consumer_position(b, "g1", "gt", [0]) == {0: 15}
    ok(["group", "reset-offsets", "g1", "--topic", "gt", "--to-offset", "4", "--execute"], b)
    assert real_consumer_position(b, "g1", "gt", [0, 1]) == {0: 4, 1: 4}
    ok(["group", "reset-offsets", "g1", "--topic", "gt", "--to-latest", "--execute"], b)
    assert real_consumer_position(b, "g1", "gt", [0, 1]) == {0: 30, 1: 20}

    # A real consumer's commits appear in describe; while it is a live
    # member, reset-offsets refuses.
    consumer = Consumer({"bootstrap.servers": b, "group.id": "g2", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe(["gt"])
    got = 0
    deadline = time.monotonic() + 30
    while got < 50 and time.monotonic() < deadline:
        got += sum(1 for m in consumer.consume(num_messages=100, timeout=1.0) if not m.error())
    assert got == 50, got
    consumer.commit(asynchronous=False)
    desc = json.loads(ok(["group", "describe", "g2", "--json"], b))
    assert desc["state"] == "Stable" and len(desc["members"]) == 1, desc
    assert all(o["lag"] == 0 for o in desc["offsets"]) and len(desc["offsets"]) == 2, desc
    code, _, err = dmq(["group", "reset-offsets", "g2", "--topic", "gt", "--to-earliest",
                        "--execute"], b)
    one_line_error(code, err, 1, "active members")
    # With --partition dmq commits as a simple consumer, which a group with
    # joined members refuses (without it, dmq would join the group instead).
    code, _, err = dmq(["consume", "gt", "--group", "g2", "--partition", "0", "--from-beginning",
                        "--max-messages", "1"], b)
    one_line_error(code, err, 1, "active members")
    consumer.close()

    # delete: gone; a second delete and a describe of it are errors.
    assert json.loads(ok(["group", "delete", "g1", "--json"], b)) == {"deleted": "g1"}
    code, _, err = dmq(["group", "delete", "g1"], b)
    one_line_error(code, err, 1, "does not exist")
    code, _, err = dmq(["group", "describe", "never-was"], b)
    one_line_error(code, err, 1, "does not exist")
    code, _, err = dmq(["group", "reset-offsets", "g1", "--topic", "gt"], b)
    one_line_error(code, err, 2, "--to-earliest")
    print("group list/describe/reset-offsets/delete ok")


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
