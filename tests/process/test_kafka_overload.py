"""Overload of the Kafka listener against a real dmq node:
- queued.max.request.bytes: clients that pipeline large produce requests
  without reading their answers keep the request bytes in flight under the
  bound (plus one frame) and the node's RSS bounded, while another client
  (kcat, confluent-kafka) keeps being served;
- unsent answers: a client that asks for large answers and never reads them
  makes the broker stop reading from it, and the node's RSS stays bounded;
- max.connections, max.connections.per.ip and its overrides: connections
  beyond a limit are closed at once (Kafka's ConnectionQuotas), the others
  are served, and a freed place is taken again;
- compression bombs: a batch that inflates beyond the decompression bound is
  answered CORRUPT_MESSAGE (librdkafka on a compacted topic, kafka-python's
  magic-1 gzip wrapper) and the node stays up with bounded RSS."""

import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402

from confluent_kafka import KafkaError, Producer  # noqa: E402
from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

MIB = 1 << 20


def rss_bytes(node):
    with open(f"/proc/{node.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def metric(node, name, labels=""):
    status, text = node.get("/metrics")
    assert status == 200
    total = 0.0
    found = False
    for line in text.splitlines():
        if line.startswith(name + (labels or "")) and (labels or line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    assert found, f"metric {name}{labels} missing"
    return total


def metadata_works(node, timeout_s=10):
    r = subprocess.run(["kcat", "-b", node.kafka, "-L", "-m", str(timeout_s)],
                       capture_output=True, timeout=timeout_s + 20)
    return r.returncode == 0 and f"broker {node.node_id} at".encode() in r.stdout


def produce_ok(bootstrap, topic, value=b"v", timeout_s=30, **conf):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0, **conf})
    result = []
    p.produce(topic, value=value, key=b"k", on_delivery=lambda err, msg: result.append(err))
    p.flush(timeout_s)
    return result[0] if result else "no delivery report"


def produce_request(topic, batch, correlation_id):
    """Produce v3, acks=-1, one partition; the whole frame with its size."""
    t = topic.encode()
    body = struct.pack(">hhi", -1, -1, 30000)
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">iii", 1, 0, len(batch)) + batch
    frame = struct.pack(">hhih", 0, 3, correlation_id, 5) + b"flood" + body
    return struct.pack(">i", len(frame)) + frame


def big_batch(value_bytes):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1, batch_size=value_bytes + 1024)
    b.append(0, int(time.time() * 1000), b"k", os.urandom(value_bytes), [])
    return bytes(b.build())


def flood(port, payload, seconds, sent_counter):
    """Writes `payload` again and again for `seconds` without reading."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # answers pile up in the broker
    s.settimeout(0.5)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                s.sendall(payload)
                sent_counter.append(len(payload))
            except socket.timeout:
                # The broker stopped reading us (its socket buffer is full):
                # that is the behaviour under test. The frame may be cut in
                # the middle; this connection is not used for anything else.
                time.sleep(0.1)
    except OSError:
        pass
    return s


def test_queued_request_bytes_bound():
    with dmqtest.Workdir() as w:
        node = w.node(extra=["--socket.request.max.bytes=1048576",
                             "--queued.max.request.bytes=2097152"]).start()
        dmqtest.create_one_partition_topic(node, "flood")
        assert produce_ok(node.kafka, "flood") is None
        baseline = rss_bytes(node)
        payload = produce_request("flood", big_batch(256 * 1024), 7)
        sent = []
        sockets = []
        threads = [threading.Thread(target=lambda: sockets.append(flood(node.kafka_port, payload, 8, sent)))
                   for _ in range(16)]
        for t in threads:
            t.start()
        time.sleep(2)
        # Others are served while the flood runs.
        started = time.monotonic()
        assert metadata_works(node), "kcat metadata failed during the flood"
        assert produce_ok(node.kafka, "flood", timeout_s=30) is None, "produce failed during the flood"
        served_s = time.monotonic() - started
        peak_rss = rss_bytes(node)
        for t in threads:
            t.join(30)
        peak = metric(node, "dmq_kafka_queued_request_bytes_peak")
        paused = metric(node, "dmq_kafka_reading_paused_total", '{reason="queued.max.request.bytes"}')
        print(f"   sent {sum(sent) / MIB:.0f} MiB in requests; queued peak {peak / MIB:.2f} MiB; "
              f"paused {paused:.0f} times; rss {baseline / MIB:.0f} -> {peak_rss / MIB:.0f} MiB; "
              f"another client served in {served_s:.1f}s")
        # The bound, plus at most one frame granted while something was left.
        assert peak <= 2 * MIB + 1 * MIB + 64 * 1024, f"queued peak {peak} over the bound"
        assert paused > 0, "the budget never stopped reading: the test did not load the broker"
        assert peak_rss - baseline < 160 * MIB, f"rss grew by {(peak_rss - baseline) / MIB:.0f} MiB"
        for s in sockets:
            s.close()
        dmqtest.wait_until(lambda: metric(node, "dmq_kafka_queued_request_bytes") == 0, 30,
                           what="queued request bytes back to 0 once the clients left")
        assert produce_ok(node.kafka, "flood") is None
        node.alive()


def fetch_request_v3(topic, offset, max_bytes, correlation_id):
    t = topic.encode()
    body = struct.pack(">iiiii", -1, 0, 0, max_bytes, 1)  # replica, max_wait, min_bytes, max_bytes
    body += struct.pack(">h", len(t)) + t + struct.pack(">iiqi", 1, 0, offset, max_bytes)
    frame = struct.pack(">hhih", 1, 3, correlation_id, 5) + b"flood" + body
    return struct.pack(">i", len(frame)) + frame


def test_unread_answers_stop_reading():
    """Fetch v3 answers are down-converted into memory the broker owns: a
    client asking for 1 MiB answers without reading them must not make the
    broker hold 128 of them."""
    with dmqtest.Workdir() as w:
        node = w.node().start()
        dmqtest.create_one_partition_topic(node, "big")
        p = Producer({"bootstrap.servers": node.kafka, "acks": "all", "linger.ms": 5})
        for i in range(1200):
            p.produce("big", value=os.urandom(1000), key=b"%d" % i)
        assert p.flush(30) == 0
        baseline = rss_bytes(node)
        payload = b"".join(fetch_request_v3("big", 0, MIB, i) for i in range(64))
        sockets = [flood(node.kafka_port, payload, 5, []) for _ in range(2)]
        dmqtest.wait_until(lambda: metric(node, "dmq_kafka_reading_paused_total",
                                          '{reason="unsent_response_bytes"}') > 0, 20,
                           what="reading paused for unsent answers")
        grown = rss_bytes(node) - baseline
        print(f"   rss grew by {grown / MIB:.0f} MiB with answers unread")
        assert grown < 64 * MIB, f"rss grew by {grown / MIB:.0f} MiB"
        assert metadata_works(node)
        for s in sockets:
            s.close()
        node.alive()


def api_versions_answered(sock):
    frame = struct.pack(">hhih", 18, 0, 1, 1) + b"t"
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    try:
        return len(dmqtest.read_kafka_frame(sock)) > 0
    except (ConnectionError, OSError):
        return False


def connect_from(source_ip, port):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source_ip, 0))
    s.connect(("127.0.0.1", port))
    return s


def test_connection_limits():
    with dmqtest.Workdir() as w:
        node = w.node(extra=["--max.connections=5", "--max.connections.per.ip=3",
                             "--max.connections.per.ip.overrides=127.0.0.4:0,127.0.0.5:1"]).start()
        port = node.kafka_port
        ones = [connect_from("127.0.0.1", port) for _ in range(3)]
        assert all(api_versions_answered(s) for s in ones)
        fourth = connect_from("127.0.0.1", port)
        assert not api_versions_answered(fourth), "a 4th connection from one IP was served"
        fourth.close()
        assert metric(node, "dmq_kafka_connections_refused_total",
                      '{limit="max.connections.per.ip"}') >= 1
        # Overrides: 0 refuses every connection from that address.
        blocked = connect_from("127.0.0.4", port)
        assert not api_versions_answered(blocked), "an address overridden to 0 was served"
        blocked.close()
        # Another address has its own count, up to the broker's total of 5.
        twos = [connect_from("127.0.0.2", port) for _ in range(2)]
        assert all(api_versions_answered(s) for s in twos)
        over_total = connect_from("127.0.0.3", port)
        assert not api_versions_answered(over_total), "a 6th connection was served"
        over_total.close()
        assert metric(node, "dmq_kafka_connections_refused_total", '{limit="max.connections"}') >= 1
        # A freed place is taken again.
        ones.pop().close()
        dmqtest.wait_until(lambda: metric(node, "dmq_kafka_connections_open") <= 4, 10,
                           what="the closed connection counted out")
        again = connect_from("127.0.0.3", port)
        assert api_versions_answered(again), "a freed place was not given to a new connection"
        for s in ones + twos + [again]:
            s.close()
        node.alive()


def test_compression_bomb():
    with dmqtest.Workdir() as w:
        node = w.node().start()
        dmqtest.create_one_partition_topic(node, "compacted", {"cleanup.policy": "compact"})
        dmqtest.create_one_partition_topic(node, "plain")
        baseline = rss_bytes(node)
        bomb = bytes(96 * MIB)  # zeros: zstd makes a few KiB of them
        # librdkafka, magic 2: a compacted topic's keys are checked, which
        # decompresses the batch (bounded at 64 MiB).
        err = produce_ok(node.kafka, "compacted", value=bomb, timeout_s=60, **{
            "compression.type": "zstd", "message.max.bytes": 200 * MIB})
        # Kafka's CORRUPT_MESSAGE is error code 2, librdkafka's INVALID_MSG.
        assert err is not None and err.code() == KafkaError.INVALID_MSG, f"zstd bomb answered {err}"
        # kafka-python at 0.10: a magic-1 message set whose gzip wrapper
        # inflates beyond the bound; converting it to magic 2 decompresses it.
        from kafka import KafkaProducer
        from kafka.errors import CorruptRecordException
        kp = KafkaProducer(bootstrap_servers=node.kafka, api_version=(0, 10, 0),
                           compression_type="gzip", max_request_size=200 * MIB,
                           buffer_memory=400 * MIB, retries=0, acks="all")
        try:
            kp.send("plain", value=bomb).get(timeout=60)
            raise AssertionError("the gzip bomb was accepted")
        except CorruptRecordException:
            pass
        finally:
            kp.close(5)
        grown = rss_bytes(node) - baseline
        print(f"   rss grew by {grown / MIB:.0f} MiB after two bombs")
        assert grown < 160 * MIB, f"rss grew by {grown / MIB:.0f} MiB"
        assert produce_ok(node.kafka, "compacted", value=b"after") is None
        node.alive()


def test_bad_option_values():
    for args in (["--queued.max.request.bytes=1000"],  # below socket.request.max.bytes
                 ["--max.connections.per.ip.overrides=127.0.0.1"],
                 ["--max.connections=-1"]):
        r = subprocess.run([dmqtest.BINARY, *args], capture_output=True, timeout=30)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert b"dmq:" in r.stderr and b"\n" == r.stderr[-1:], r.stderr


if __name__ == "__main__":
    only = sys.argv[1:]
    dmqtest.run([t for t in (test_bad_option_values, test_connection_limits,
                             test_queued_request_bytes_bound, test_unread_answers_stop_reading,
                             test_compression_bomb) if not only or t.__name__ in only])
