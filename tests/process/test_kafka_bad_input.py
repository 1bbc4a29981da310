"""Bad input against a real dmq node: garbage bytes, a frame claiming 2 GiB,
a truncated frame, an unknown API key, a corrupt batch CRC (CORRUPT_MESSAGE)
and a batch over message.max.bytes (MESSAGE_TOO_LARGE). Each bad connection
is answered or closed; the node keeps serving everyone else."""

import os
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import KafkaError, KafkaException, Producer  # noqa: E402


def closed_after(port, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    try:
        data = s.recv(1)
    except ConnectionResetError:
        data = b""
    s.close()
    return data == b""


def metadata_works(node):
    r = subprocess.run(["kcat", "-b", node.kafka, "-L", "-m", "5"], capture_output=True, timeout=30)
    return r.returncode == 0 and f"broker {node.node_id} at".encode() in r.stdout


def produce_error(bootstrap, topic, value, **conf):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0,
                  "message.max.bytes": 10_000_000, **conf})
    result = []
    p.produce(topic, value=value, on_delivery=lambda err, msg: result.append(err))
    p.flush(30)
    return result[0] if result else "no delivery report"


def raw_produce_error(port, topic, batch):
    """Produce v3 with hand-made bytes; returns the partition's error code."""
    t = topic.encode()
    body = struct.pack(">hhi", -1, -1, 10000)  # null transactional id, acks=-1, timeout
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">iii", 1, 0, len(batch)) + batch
    frame = struct.pack(">hhih", 0, 3, 42, 4) + b"test" + body
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(struct.pack(">i", len(frame)) + frame)
    size = struct.unpack(">i", recv_exactly(s, 4))[0]
    resp = recv_exactly(s, size)
    s.close()
    corr, ntopics, nlen = struct.unpack(">iih", resp[:10])
    assert corr == 42 and ntopics == 1
    pos = 10 + nlen
    nparts, index, error = struct.unpack(">iih", resp[pos:pos + 10])
    return error


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def bad_crc_batch():
    """A well-framed magic-2 batch of one record whose CRC-32C is wrong."""
    records = bytes([16, 0, 0, 0, 1, ord("k"), 2, ord("v"), 0])  # one small record
    body = struct.pack(">hiqqqhii", 0, 0, 1000, 1000, -1, -1, -1, 1) + records
    header = struct.pack(">qiib", 0, 4 + 1 + 4 + len(body), -1, 2)
    return header + struct.pack(">I", 0xDEADBEEF) + body


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir, extra=["--message.max.bytes=100000"])
        try:
            port = node.kafka_port
            assert closed_after(port, b"\x7f\xff\xff\xff")                       # 2 GiB claim
            assert closed_after(port, struct.pack(">i", 40) + os.urandom(40))    # garbage
            assert closed_after(port, struct.pack(">ihhih", 10, 999, 0, 1, -1))  # unknown key
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(struct.pack(">i", 100) + b"\x00\x03\x00\x01")              # truncated, then gone
            s.close()
            assert metadata_works(node)
            produce_error(node.kafka, "crc", b"warm-up")  # auto-creates the topic
            assert raw_produce_error(port, "crc", bad_crc_batch()) == 2  # CORRUPT_MESSAGE
            err = produce_error(node.kafka, "big", b"x" * 200_000)
            assert isinstance(err, KafkaError) and err.code() == KafkaError.MSG_SIZE_TOO_LARGE, err
            assert metadata_works(node)
            print("bad input: closed bad connections, MESSAGE_TOO_LARGE, node still serving")
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            assert node.stop() == 0


if __name__ == "__main__":
    main()
