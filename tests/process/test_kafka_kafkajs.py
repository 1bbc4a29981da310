"""kafkajs 2.2.4 (installed from npm into tests/clients/node_modules on first
run) against a real dmq node: admin createTopics, producer acks=-1 with keys,
headers and gzip, ListOffsets and Metadata through the admin client; the
messages are read back with confluent-kafka and compared."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients")
COUNT = 10000


def ensure_kafkajs():
    if os.path.isdir(os.path.join(CLIENTS, "node_modules", "kafkajs")):
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install kafkajs"
    subprocess.run([npm, "install", "--save-exact", "--no-audit", "--no-fund", "--prefix", CLIENTS, "kafkajs@2.2.4"],
                   check=True, timeout=300)


def read_back(bootstrap, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in (0, 1)])
    got = {0: [], 1: []}
    n = 0
    for _ in range(120):
        for m in consumer.consume(num_messages=5000, timeout=0.5):
            assert not m.error(), m.error()
            got[m.partition()].append((m.key(), m.value(), m.headers()))
            n += 1
        if n >= COUNT:
            break
    consumer.close()
    return got


def main():
    ensure_kafkajs()
    node_bin = shutil.which("node") or "/usr/bin/node"
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            out = subprocess.run([node_bin, os.path.join(CLIENTS, "kafkajs_produce.js"), node.kafka,
                                  "kjs", str(COUNT)], capture_output=True, timeout=120)
            assert out.returncode == 0, out.stderr.decode(errors="replace")
            result = json.loads(out.stdout.decode().strip().splitlines()[-1])
            assert result["partitions"] == 2, result
            highs = sorted((o["partition"], int(o["high"])) for o in result["offsets"])
            assert highs == [(0, COUNT // 2), (1, COUNT // 2)], highs
            got = read_back(node.kafka, "kjs")
            for p in (0, 1):
                expected = [(b"k%d" % i, b"v%d" % i, [("i", b"%d" % i)]) for i in range(COUNT) if i % 2 == p]
                assert got[p] == expected, (p, len(got[p]), got[p][:3], expected[:3])
            print("kafkajs: createTopics, produce acks=-1 (none+gzip), offsets, metadata ok")
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            node.stop()


if __name__ == "__main__":
    main()
