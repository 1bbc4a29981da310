"""kcat (librdkafka 2.0.2) against a real dmq node: -L lists the broker and
the topics, -P produces keyed messages with headers, -C reads them back from
the beginning to the end, -Q finds an offset by timestamp."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402


def kcat(args, stdin=None, timeout=60):
    r = subprocess.run(["kcat"] + args, input=stdin, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"kcat {args} failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
    return r.stdout


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node)
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            code = node.stop()
            assert code == 0, f"dmq exited with {code}:\n{node.tail_log(30)}"


def run(node):
    b = node.kafka
    # The broker registers with the controller shortly after start-up.
    dmqtest.wait_until(lambda: node.post("/v1/topics", {"name": "kc", "partitions": 2,
                                                        "replication_factor": 1})[0] == 201,
                       15, what="topic kc created")
    dmqtest.wait_until(lambda: b"topic \"kc\" with 2 partitions" in kcat(["-b", b, "-L", "-t", "kc"]),
                       15, what="topic kc in metadata")
    listing = kcat(["-b", b, "-L"]).decode()
    assert f"broker {node.node_id} at 127.0.0.1:{node.kafka_port}" in listing, listing
    assert "leader 1, replicas: 1, isrs: 1" in listing, listing

    count = 2000
    lines = "".join(f"key{i}:value {i} {'x' * (i % 50)}\n" for i in range(count)).encode()
    kcat(["-b", b, "-P", "-t", "kc", "-p", "1", "-K:", "-H", "origin=kcat", "-X", "acks=all"], lines)
    out = kcat(["-b", b, "-C", "-t", "kc", "-p", "1", "-o", "beginning", "-e",
                "-f", "%o|%k|%s|%h\n"]).decode().splitlines()
    assert len(out) == count, len(out)
    for i, line in enumerate(out):
        assert line == f"{i}|key{i}|value {i} {'x' * (i % 50)}|origin=kcat", line

    # Partition 0 is empty: -e ends at once, without error.
    assert kcat(["-b", b, "-C", "-t", "kc", "-p", "0", "-o", "beginning", "-e"]) == b""
    # Offsets by time (ListOffsets): a timestamp far in the past gives offset 0.
    q = kcat(["-b", b, "-Q", "-t", "kc:1:1000"]).decode()
    assert q.strip() == "kc [1] offset 0", q

    # Auto-creation through Metadata (auto.create.topics.enable=true).
    kcat(["-b", b, "-P", "-t", "auto-made", "-X", "acks=1"], b"hello\n")
    got = kcat(["-b", b, "-C", "-t", "auto-made", "-o", "beginning", "-e"])
    assert got == b"hello\n", got
    print("kcat: metadata, produce, consume, offsets by time, auto-creation ok")


if __name__ == "__main__":
    main()
