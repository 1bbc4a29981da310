"""`dmq produce` and `dmq consume` as processes against a real dmq node,
cross-checked with kcat both ways: records produced by dmq (every codec, keys,
headers) read back by kcat, and records produced by kcat read by dmq with
--format and --json; start positions, --max-messages, --partition, keyed
partitioning as Kafka's Java client and kafka-python place keys, and SIGINT."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402
from test_client_topic import dmq, ok, one_line_error  # noqa: E402

from kafka.partitioner.default import DefaultPartitioner  # noqa: E402


def kcat(args, stdin=None):
    r = subprocess.run(["kcat"] + args, input=stdin, capture_output=True, timeout=60)
    assert r.returncode == 0, f"kcat {args}: {r.stderr.decode(errors='replace')}"
    return r.stdout.decode()


def kcat_read(b, topic, fmt="%p|%o|%k|%s|%h\n"):
    return kcat(["-b", b, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt]).splitlines()


def produce_with_every_codec(b):
    ok(["topic", "create", "codecs", "--partitions", "3"], b)
    expected = set()
    for codec in ["none", "gzip", "lz4", "zstd"]:
        lines = "".join(f"{codec}-k{i}:{codec} value {i}\n" for i in range(300))
        out = json.loads(ok(["produce", "codecs", "--key-separator", ":", "--header", "src=dmq",
                             "--header", f"codec={codec}", "--compression", codec, "--json",
                             "--batch-records", "100"], b, stdin=lines))
        assert out["records"] == 300, out
        expected |= {(f"{codec}-k{i}", f"{codec} value {i}", f"src=dmq,codec={codec}")
                     for i in range(300)}
    got = kcat_read(b, "codecs")
    assert len(got) == len(expected), (len(got), len(expected))
    seen = set()
    partitioner = DefaultPartitioner()
    for line in got:
        p, _, k, v, h = line.split("|")
        seen.add((k, v, h))
        # Keys land where Kafka's murmur2 partitioner (kafka-python's copy) puts them.
        assert int(p) == partitioner(k.encode(), [0, 1, 2], [0, 1, 2]), line
    assert seen == expected


def consume_what_kcat_produced(b):
    kcat(["-b", b, "-P", "-t", "fromkcat", "-p", "0", "-K", "=", "-H", "h1=v1"],
         "".join(f"key{i}=value {i}\n" for i in range(50)).encode())
    lines = ok(["consume", "fromkcat", "--from-beginning", "--max-messages", "50",
                "--format", "%p|%o|%k|%v|%h\\n"], b).splitlines()
    assert lines == [f"0|{i}|key{i}|value {i}|h1=v1" for i in range(50)], lines[:3]
    records = [json.loads(x) for x in ok(["consume", "fromkcat", "--from-beginning",
                                          "--exit-at-end", "--json"], b).splitlines()]
    assert len(records) == 50, len(records)
    r = records[7]
    assert (r["topic"], r["partition"], r["offset"], r["key"], r["value"]) == \
        ("fromkcat", 0, 7, "key7", "value 7"), r
    assert r["headers"] == [{"key": "h1", "value": "v1"}] and r["timestamp"] > 0, r
    # The contract's plain form: a value per line.
    plain = ok(["consume", "fromkcat", "--from-beginning", "--max-messages", "3"], b)
    assert plain == "value 0\nvalue 1\nvalue 2\n", plain


def start_positions(b):
    ok(["topic", "create", "pos", "--partitions", "1"], b)
    ok(["produce", "pos", "--acks", "1"], b, stdin="".join(f"v{i}\n" for i in range(10)))
    time.sleep(0.05)  # the next batch gets a later timestamp than the first
    middle_ms = int(time.time() * 1000)
    time.sleep(0.05)
    ok(["produce", "pos"], b, stdin="".join(f"v{i}\n" for i in range(10, 20)))
    # acks=0: no answers; the records still arrive.
    ok(["produce", "pos", "--acks", "0"], b, stdin="z1\nz2\n")
    dmqtest.wait_until(lambda: ok(["consume", "pos", "--offset", "20", "--exit-at-end"], b)
                       == "z1\nz2\n", 15, what="acks=0 records")
    at = ok(["consume", "pos", "--offset", "15", "--exit-at-end"], b).split()
    assert at == [f"v{i}" for i in range(15, 20)] + ["z1", "z2"], at
    since = ok(["consume", "pos", "--from-timestamp", str(middle_ms), "--exit-at-end"], b).split()
    assert since == [f"v{i}" for i in range(10, 20)] + ["z1", "z2"], since
    assert ok(["consume", "pos", "--from-end", "--exit-at-end"], b) == ""

    # --from-end waits for new records: start it, then produce with kcat.
    proc = subprocess.Popen([dmqtest.BINARY, "consume", "pos", "--from-end", "--max-messages", "2",
                             f"--brokers={b}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(1.0)  # let it take its position at the end before the new records
    kcat(["-b", b, "-P", "-t", "pos"], b"new1\nnew2\n")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.split() == ["new1", "new2"], (proc.returncode, out, err)

    code, _, err = dmq(["consume", "pos", "--offset", "999", "--exit-at-end"], b)
    one_line_error(code, err, 1, "OFFSET_OUT_OF_RANGE")


def partitions_and_files(b, workdir):
    ok(["topic", "create", "parts", "--partitions", "4"], b)
    path = os.path.join(workdir, "big.txt")
    with open(path, "w") as f:
        for i in range(20000):
            f.write(f"line {i} {'x' * (i % 100)}\n")
    out = json.loads(ok(["produce", "parts", "--file", path, "--partition", "2", "--json",
                         "--compression", "lz4"], b))
    assert out["records"] == 20000, out
    counts = kcat(["-b", b, "-C", "-t", "parts", "-o", "beginning", "-e", "-q", "-f", "%p\n"])
    assert counts.split() == ["2"] * 20000
    only = ok(["consume", "parts", "--partition", "2", "--from-beginning", "--max-messages", "3"], b)
    assert only == "line 0 \nline 1 x\nline 2 xx\n", only
    code, _, err = dmq(["consume", "parts", "--partition", "9"], b)
    one_line_error(code, err, 1, "no partition 9")
    code, _, err = dmq(["produce", "parts", "--compression", "brotli"], b, stdin="x\n")
    one_line_error(code, err, 2, "--compression")
    code, _, err = dmq(["produce", "nosuchtopic"], b, stdin="x\n")
    one_line_error(code, err, 1, "does not exist")
    code, _, err = dmq(["consume", "parts", "--format", "%z"], b)
    one_line_error(code, err, 2, "unknown placeholder")


def interactive_lines_go_out_at_once(b):
    """A line typed into `dmq produce` is sent before stdin ends."""
    ok(["topic", "create", "live", "--partitions", "1"], b)
    proc = subprocess.Popen([dmqtest.BINARY, "produce", "live", f"--brokers={b}"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("typed line\n")
        proc.stdin.flush()
        dmqtest.wait_until(lambda: ok(["consume", "live", "--from-beginning", "--exit-at-end"], b)
                           == "typed line\n", 15, what="the typed line in the topic")
    finally:
        proc.stdin.close()
        proc.wait(timeout=15)
    assert proc.returncode == 0, proc.stderr.read()


def sigint_commits(b):
    ok(["topic", "create", "sig", "--partitions", "2"], b)
    ok(["produce", "sig"], b, stdin="".join(f"s{i}\n" for i in range(100)))
    proc = subprocess.Popen([dmqtest.BINARY, "consume", "sig", "--group", "sig-group",
                             "--from-beginning", f"--brokers={b}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Output arrives as it is fetched; once all 100 are out, interrupt.
    lines = []
    while len(lines) < 100:
        line = proc.stdout.readline()
        assert line, f"consumer ended early: {proc.stderr.read()}"
        lines.append(line)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, (proc.returncode, err)
    desc = json.loads(ok(["group", "describe", "sig-group", "--json"], b))
    committed = sum(o["committed_offset"] for o in desc["offsets"])
    assert committed == 100 and all(o["lag"] == 0 for o in desc["offsets"]), desc
    # A restart with the group resumes after the commit: nothing new to read.
    assert ok(["consume", "sig", "--group", "sig-group", "--exit-at-end"], b) == ""


def run(node, workdir):
    b = node.kafka
    produce_with_every_codec(b)
    consume_what_kcat_produced(b)
    start_positions(b)
    partitions_and_files(b, workdir)
    interactive_lines_go_out_at_once(b)
    sigint_commits(b)
    print("produce/consume with kcat cross-checks ok")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node, workdir)
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            assert node.stop() == 0


if __name__ == "__main__":
    main()
