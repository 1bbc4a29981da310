#!/usr/bin/env python3
"""HTTP produce and consume (POST /v1/topics/{t}/records, GET
/v1/topics/{t}/partitions/{p}/records), checked against real Kafka clients:
what HTTP produces, confluent-kafka and kcat read at the offsets HTTP
answered, keyed records land where a Java-compatible (murmur2) producer puts
them, and what a Kafka producer wrote HTTP reads back byte for byte. Bad
input gets a JSON error and the node keeps serving. On three nodes any node
takes a produce or a consume for a partition another node leads."""

import base64
import json
import subprocess
import threading
import time

from dmqtest import Workdir, http, run, start_all, voter_nodes, wait_until
from share_common import create_topic


def post_records(node, topic, records, timeout_s=30):
    return http("POST", node.url + f"/v1/topics/{topic}/records", {"records": records},
                timeout_s=timeout_s)


def get_records(node, topic, partition, query="", timeout_s=40):
    return http("GET", node.url + f"/v1/topics/{topic}/partitions/{partition}/records{query}",
                timeout_s=timeout_s)


def single_node(w):
    node = w.node().start()
    wait_until(lambda: any(b["status"] == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
               20, what="the broker registered")
    return node


def consume_all(bootstrap, topic, partitions, expected, timeout_s=30):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-" + topic,
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = {}
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and len(out) < expected:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            out[(m.partition(), m.offset())] = (m.key(), m.value(), m.headers() or [])
    finally:
        c.close()
    return out


def test_http_produce_is_read_by_kafka_clients_at_the_answered_offsets():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "orders", 4)
        records = [{"key": f"user-{i % 7}", "value": f"order {i}"} for i in range(200)]
        records.append({"key": "bin", "value": base64.b64encode(b"\x00\xff\x10").decode(),
                        "value_encoding": "base64", "headers": [{"key": "h", "value": "v"}]})
        records.append({"value": {"nested": [1, 2]}, "headers": {"trace": "abc"}})
        records.append({"partition": 3, "key": "tomb", "value": None})
        status, body = post_records(node, "orders", records)
        assert status == 200, (status, body)
        offsets = body["offsets"]
        assert len(offsets) == len(records)
        positions = [(o["partition"], o["offset"]) for o in offsets]
        assert len(set(positions)) == len(positions), "two records answered at one offset"
        assert offsets[-1]["partition"] == 3

        found = consume_all(node.kafka, "orders", 4, len(records))
        for rec, pos in zip(records, positions):
            assert pos in found, f"{rec} answered at {pos}, not found there"
            key, value, headers = found[pos]
            assert key == (rec["key"].encode() if rec.get("key") else None)
            if rec.get("value_encoding") == "base64":
                assert value == b"\x00\xff\x10"
            elif isinstance(rec.get("value"), dict):
                assert json.loads(value) == rec["value"]
                assert headers == [("trace", b"abc")]
            elif rec["value"] is None:
                assert value is None
            else:
                assert value == rec["value"].encode()

        # Keyed records land where a murmur2 producer (Java's default) puts them.
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": node.kafka, "partitioner": "murmur2_random"})
        delivered = {}
        for i in range(7):
            p.produce("orders", key=f"user-{i}", value=b"x",
                      on_delivery=lambda err, m, i=i: delivered.__setitem__(i, m.partition()))
        assert p.flush(30) == 0
        for i in range(7):
            assert offsets[i]["partition"] == delivered[i], (i, offsets[i], delivered[i])

        # kcat reads the binary value and the header as HTTP wrote them.
        bin_partition, bin_offset = positions[200]
        out = subprocess.run(["kcat", "-b", node.kafka, "-C", "-t", "orders", "-p",
                              str(bin_partition), "-o", str(bin_offset), "-c", "1", "-e",
                              "-f", "%k|%h|%S\n"], capture_output=True, timeout=30)
        assert out.stdout.decode().strip() == "bin|h=v|3", out


def test_http_consume_reads_what_a_kafka_producer_wrote():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "events", 2)
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": node.kafka, "acks": "all", "compression.type": "zstd"})
        sent = []
        for i in range(300):
            value = bytes([i % 256]) * 3 if i % 50 == 0 else f"event {i}".encode()
            p.produce("events", value=value, key=f"k{i}".encode(), partition=i % 2,
                      headers=[("n", str(i).encode())])
            sent.append((i % 2, value))
        assert p.flush(30) == 0

        for part in range(2):
            expected = [v for pp, v in sent if pp == part]
            got, offset = [], 0
            for _ in range(20):  # pages of at most 40 records
                status, body = get_records(node, "events", part, f"?offset={offset}&max_records=40")
                assert status == 200, body
                for r in body["records"]:
                    raw = (base64.b64decode(r["value"]) if r.get("value_encoding") == "base64"
                           else r["value"].encode())
                    got.append((r["offset"], raw, r["headers"]))
                if body["next_offset"] == offset and not body["records"]:
                    break
                offset = body["next_offset"]
                if offset >= body["high_watermark"]:
                    break
            assert [o for o, _, _ in got] == list(range(len(expected))), "offsets not contiguous"
            assert [v for _, v, _ in got] == expected
            assert all(h[0]["key"] == "n" for _, _, h in got)

        # earliest / latest, and a long poll that a new record ends.
        status, body = get_records(node, "events", 0, "?offset=latest")
        assert status == 200 and body["records"] == [] and body["next_offset"] == 150, body
        result = {}

        def poll():
            result["answer"] = get_records(node, "events", 0, "?offset=150&timeout_ms=20000")
            result["at"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        assert "answer" not in result, "the long poll answered before anything arrived"
        sent_at = time.monotonic()
        assert post_records(node, "events", [{"partition": 0, "value": "late"}])[0] == 200
        t.join(25)
        status, body = result["answer"]
        assert status == 200 and [r["value"] for r in body["records"]] == ["late"], body
        print(f"   long poll answered {1000 * (result['at'] - sent_at):.0f} ms after the produce")


def test_bad_input_gets_json_errors_and_the_node_keeps_serving():
    with Workdir() as w:
        node = single_node(w)
        create_topic(node, "t", 2)
        url = node.url + "/v1/topics/t/records"
        cases = [
            (http("POST", url, "{\"records\": [", timeout_s=5), 400, "invalid_request"),
            (http("POST", url, {"records": []}), 400, "invalid_request"),
            (http("POST", url, {"rows": [{"value": "x"}]}), 400, "invalid_request"),
            (http("POST", url, {"records": [{"value": "%%%", "value_encoding": "base64"}]}), 400,
             "invalid_request"),
            (http("POST", url, {"records": [{"value": "x", "partition": -1}]}), 400, "invalid_request"),
            (http("POST", url, {"records": [{"value": "x", "partition": 7}]}), 404, "unknown_partition"),
            (http("POST", url, {"records": [{"value": "x", "headers": 5}]}), 400, "invalid_request"),
            (post_records(node, "nope", [{"value": "x"}]), 404, "unknown_topic"),
            (post_records(node, "__consumer_offsets", [{"value": "x"}]), 404, None),
            (get_records(node, "t", 9), 404, "unknown_partition"),
            (get_records(node, "t", 0, "?offset=99"), 416, "offset_out_of_range"),
            (get_records(node, "t", 0, "?offset=abc"), 400, "invalid_request"),
            (get_records(node, "t", 0, "?timeout_ms=999999"), 400, "invalid_request"),
            (get_records(node, "t", 0, "?max_bytes=0"), 400, "invalid_request"),
            (get_records(node, "nope", 0), 404, "unknown_topic"),
        ]
        for (status, body), want_status, want_code in cases:
            if want_status == 404 and want_code is None:  # internal topic: refused either way
                assert status in (400, 404), (status, body)
                continue
            assert status == want_status, (status, body, want_code)
            assert body["error"]["code"] == want_code, body
        # A body nested a few hundred thousand levels deep (it once overflowed
        # an HTTP thread's stack and killed the node) is refused like any other.
        deep = '{"records":[{"value":' + "[" * 150000 + "]" * 150000 + "}]}"
        for path in ("/v1/topics/t/records", "/v1/topics"):
            status, body = http("POST", node.url + path, deep, timeout_s=10)
            assert status == 400 and "deep" in body["error"]["message"], (path, status, body)
        assert node.alive()
        # A record over max.message.bytes is refused as too large, nothing stored.
        create_topic(node, "small", 1, configs={"max.message.bytes": "2000"})
        status, body = post_records(node, "small", [{"value": "x" * 5000}])
        assert status == 413 and body["error"]["code"] == "message_too_large", (status, body)
        assert get_records(node, "small", 0)[1]["high_watermark"] == 0
        status, body = post_records(node, "t", [{"value": "still serving"}])
        assert status == 200, body
        assert node.alive()


def test_any_node_serves_partitions_led_elsewhere():
    with Workdir() as w:
        nodes, _ = voter_nodes(w, 3, extra=["--default.replication.factor=3"])
        start_all(nodes)
        wait_until(lambda: sum(b["status"] == "alive"
                               for b in nodes[0].get("/v1/brokers")[1]["brokers"]) == 3,
                   20, what="three brokers")
        create_topic(nodes[0], "spread", 3, rf=3)
        answered = []
        for round_ in range(6):
            node = nodes[round_ % 3]
            recs = [{"partition": p, "value": f"r{round_}-p{p}"} for p in range(3)]
            status, body = post_records(node, "spread", recs)
            assert status == 200, body
            answered += [(o["partition"], o["offset"], r["value"])
                         for o, r in zip(body["offsets"], recs)]
        leaders = {p["partition"]: p["leader"] for p in nodes[0].get("/v1/topics/spread")[1]["partitions"]}
        for part in range(3):
            # Ask a node that does not lead the partition.
            other = next(n for n in nodes if n.node_id != leaders[part])
            status, body = get_records(other, "spread", part)
            assert status == 200, body
            got = [(part, r["offset"], r["value"]) for r in body["records"]]
            assert got == sorted(a for a in answered if a[0] == part), (got, answered)
        found = consume_all(",".join(n.kafka for n in nodes), "spread", 3, len(answered))
        for part, offset, value in answered:
            assert found[(part, offset)][1] == value.encode()


if __name__ == "__main__":
    run([test_http_produce_is_read_by_kafka_clients_at_the_answered_offsets,
         test_http_consume_reads_what_a_kafka_producer_wrote,
         test_bad_input_gets_json_errors_and_the_node_keeps_serving,
         test_any_node_serves_partitions_led_elsewhere])
