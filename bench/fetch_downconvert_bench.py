#!/usr/bin/python3
"""Fetch throughput with down-conversion against verbatim batches, in one run
(issue 21, point 5).

One combined dmq node; one partition filled with N records of S bytes by
librdkafka (magic-2 batches, uncompressed). Then a raw fetch loop reads the
whole partition three times over one connection each:
  verbatim  Fetch v4: the stored batches, sent with sendfile
  magic1    Fetch v3: every batch down-converted to magic 1 (kafka-go, sarama)
  magic0    Fetch v1: down-converted to magic 0
The loop only walks entry headers to find the next offset, so the client costs
the same in every mode. Reported: MB/s and records/s of the read, the broker's
CPU seconds for it (/proc/<pid>/stat) and per record, the slowest single
Fetch, and the slowest ApiVersions round trip of a second client probing the
node meanwhile (down-conversion runs on the event loop: that is how long one
conversion holds other connections back). The reader is a Python loop, so
MB/s and records/s are bounded by the client; broker CPU per record is the
cost of the conversion.

Usage: bench/fetch_downconvert_bench.py [--dmq build/dmq] [--records 500000]
                                        [--size 100] [--fetch-bytes 1048576]
"""
import argparse
import multiprocessing as mp
import os
import socket
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "process"))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def recv_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            raise ConnectionError("closed")
        got += k
    return bytes(buf)


def fetch_frame(version, topic, offset, max_bytes, correlation):
    body = struct.pack(">iii", -1, 100, 1)
    if version >= 3:
        body += struct.pack(">i", max_bytes)
    if version >= 4:
        body += struct.pack(">b", 0)
    body += struct.pack(">ih", 1, len(topic)) + topic
    body += struct.pack(">iiqi", 1, 0, offset, max_bytes)
    header = struct.pack(">hhih", 1, version, correlation, 5) + b"bench"
    return struct.pack(">i", len(header) + len(body)) + header + body


def records_span(version, resp):
    """(records bytes, next offset) of the only partition in a Fetch response."""
    pos = 4 + (4 if version >= 1 else 0) + 4  # correlation, throttle, topic count
    name_len = struct.unpack_from(">h", resp, pos)[0]
    pos += 2 + name_len + 4 + 4  # name, partition count, partition index
    error = struct.unpack_from(">h", resp, pos)[0]
    pos += 2 + 8  # error, high watermark
    if version >= 4:
        pos += 8 + 4  # last stable offset, aborted transactions (null = -1)
    size = struct.unpack_from(">i", resp, pos)[0]
    pos += 4
    if error:
        raise RuntimeError(f"fetch error {error}")
    data = resp[pos:pos + max(size, 0)]
    # Walk entries: both layouts start with offset int64 and a length int32.
    # A message set's entry offset is the record's own; a batch's is its base.
    last, p, count = None, 0, 0
    while p + 12 <= len(data):
        base, length = struct.unpack_from(">qi", data, p)
        if p + 12 + length > len(data):
            break
        if version >= 4:
            last_delta = struct.unpack_from(">i", data, p + 23)[0]
            records = struct.unpack_from(">i", data, p + 57)[0]
            last, count = base + last_delta, count + records
        else:
            last, count = base, count + 1
        p += 12 + length
    return len(data), (None if last is None else last + 1), count


def read_all(addr, version, topic, total, max_bytes):
    host, port = addr.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    offset, nbytes, records, slowest, corr = 0, 0, 0, 0.0, 0
    start = time.monotonic()
    while offset < total:
        corr += 1
        t0 = time.monotonic()
        sock.sendall(fetch_frame(version, topic, offset, max_bytes, corr))
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        resp = recv_exact(sock, size)
        slowest = max(slowest, time.monotonic() - t0)
        got, nxt, count = records_span(version, resp)
        if nxt is None:
            raise RuntimeError(f"no progress at offset {offset}")
        nbytes, records, offset = nbytes + got, records + count, nxt
    sock.close()
    return time.monotonic() - start, nbytes, records, slowest


def probe(addr, stop, out):
    """Another client's view: ApiVersions round trips on a second connection
    while the reader runs; the slowest shows how long the loop was held."""
    host, port = addr.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    header = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
    frame = struct.pack(">i", len(header)) + header
    worst, n = 0.0, 0
    while not stop.is_set():
        t0 = time.monotonic()
        sock.sendall(frame)
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        recv_exact(sock, size)
        worst, n = max(worst, time.monotonic() - t0), n + 1
        time.sleep(0.001)
    out.put((worst, n))


def measured(addr, version, total, max_bytes, pid):
    stop, out = mp.Event(), mp.Queue()
    prober = mp.Process(target=probe, args=(addr, stop, out))
    prober.start()
    cpu0 = proc_cpu_s(pid)
    secs, nbytes, records, slowest = read_all(addr, version, b"dc", total, max_bytes)
    cpu = proc_cpu_s(pid) - cpu0
    stop.set()
    worst, _ = out.get(timeout=10)
    prober.join()
    return secs, nbytes, records, slowest, cpu, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--records", type=int, default=500000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--fetch-bytes", type=int, default=1 << 20)
    args = ap.parse_args()
    os.environ["DMQ_BINARY"] = os.path.abspath(args.dmq)
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            node.post("/v1/topics", {"name": "dc", "partitions": 1, "replication_factor": 1})
            dmqtest.wait_until(lambda: node.get("/v1/topics/dc")[0] == 200, 10, what="topic")
            p = Producer({"bootstrap.servers": node.kafka, "linger.ms": 20,
                          "batch.num.messages": 10000, "acks": 1})
            value = (b"0123456789abcdef" * (args.size // 16 + 1))[:args.size]
            for i in range(args.records):
                while True:
                    try:
                        p.produce("dc", key=b"%d" % i, value=value, partition=0)
                        break
                    except BufferError:
                        p.poll(0.05)
            assert p.flush(120) == 0
            print(f"{args.records} records of {args.size} B, fetch size {args.fetch_bytes} B")
            print(f"{'mode':9} {'MB/s':>7} {'krec/s':>7} {'broker cpu s':>12} "
                  f"{'cpu us/rec':>10} {'slowest fetch ms':>16} {'probe max ms':>12}")
            for name, version in (("verbatim", 4), ("magic1", 3), ("magic0", 1), ("verbatim", 4),
                                  ("magic1", 3), ("magic0", 1)):
                secs, nbytes, records, slowest, cpu, worst = measured(
                    node.kafka, version, args.records, args.fetch_bytes, node.proc.pid)
                print(f"{name:9} {nbytes / secs / 1e6:7.1f} {records / secs / 1e3:7.1f} "
                      f"{cpu:12.2f} {cpu / records * 1e6:10.2f} {slowest * 1e3:16.1f} "
                      f"{worst * 1e3:12.1f}", flush=True)
        finally:
            node.stop()


if __name__ == "__main__":
    main()
