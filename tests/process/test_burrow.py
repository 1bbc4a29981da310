"""Burrow 1.2.1 (Debian's `burrow`), the consumer-lag monitor, against a real
dmq node: the test starts the ZooKeeper Burrow requires (Debian's
`zookeeper`, standalone, in a temp dir) and a Burrow of its own speaking
Kafka 0.10.0 (ListOffsets v0, Fetch v2 down-converted, Metadata v1). Burrow
reads __consumer_offsets, lists the group, and reports the same lag as
DMQ's GET /v1/groups/{id}. Every process is stopped by its PID."""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

RECORDS, COMMITTED = 200, 50
GROUP = "burrow-watched"

ZOO_CFG = """tickTime=2000
dataDir={data}
clientPort={port}
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr
"""

BURROW_TOML = """[general]
pidfile="{dir}/burrow.pid"
[logging]
filename="{dir}/burrow.log"
level="info"
[zookeeper]
servers=["127.0.0.1:{zk_port}"]
timeout=6
root-path="/burrow"
[client-profile.dmq]
client-id="burrow-test"
kafka-version="0.10.0"
[cluster.local]
class-name="kafka"
servers=["{bootstrap}"]
client-profile="dmq"
topic-refresh=2
offset-refresh=2
[consumer.local]
class-name="kafka"
cluster="local"
servers=["{bootstrap}"]
client-profile="dmq"
offsets-topic="__consumer_offsets"
start-latest=false
[httpserver.default]
address="127.0.0.1:{http_port}"
[storage.default]
class-name="inmemory"
workers=4
intervals=10
expire-group=604800
min-distance=1
"""


def zookeeper_classpath():
    jars = ["zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-simple", "log4j-1.2", "netty-all",
            "jackson-databind", "jackson-core", "jackson-annotations", "metrics-core",
            "snappy-java", "commons-cli", "audience-annotations"]
    found = []
    for name in jars:
        found += sorted(glob.glob(f"/usr/share/java/{name}.jar"))
    return ":".join(found)


def start_zookeeper(workdir):
    port = dmqtest.free_port()
    data = os.path.join(workdir, "zk")
    os.makedirs(data)
    cfg = os.path.join(workdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(ZOO_CFG.format(data=data, port=port))
    log = open(os.path.join(workdir, "zk.log"), "w")
    proc = subprocess.Popen(["java", "-Xmx128m", "-cp", zookeeper_classpath(),
                             "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
                            stdout=log, stderr=subprocess.STDOUT)

    def serving():  # the port listens before sessions are accepted
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"srvr")
            return b"Mode:" in s.recv(4096)
    dmqtest.wait_until(serving, 60, interval_s=0.3, what="zookeeper")
    return proc, port


def start_burrow(workdir, zk_port, bootstrap):
    d = os.path.join(workdir, "burrow")
    os.makedirs(d)
    http_port = dmqtest.free_port()
    with open(os.path.join(d, "burrow.toml"), "w") as f:
        f.write(BURROW_TOML.format(dir=d, zk_port=zk_port, bootstrap=bootstrap,
                                   http_port=http_port))
    log = open(os.path.join(d, "stdout.log"), "w")
    proc = subprocess.Popen(["/usr/bin/Burrow", "--config-dir", d], stdout=log,
                            stderr=subprocess.STDOUT, cwd=d)
    return proc, f"http://127.0.0.1:{http_port}", d


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def fill_and_commit(bootstrap):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(RECORDS):
        p.produce("watched", value=b"%d" % i, partition=0)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                  "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("watched", 0, COMMITTED)], asynchronous=False)
    c.close()


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        zk = burrow = None
        burrow_dir = None
        try:
            node.post("/v1/topics", {"name": "watched", "partitions": 1, "replication_factor": 1})
            dmqtest.wait_until(lambda: node.get("/v1/topics/watched")[0] == 200, 10,
                               what="topic watched")
            fill_and_commit(node.kafka)
            status, group = node.get(f"/v1/groups/{GROUP}")
            assert status == 200 and group["lag"] == RECORDS - COMMITTED, group
            zk, zk_port = start_zookeeper(workdir)
            burrow, url, burrow_dir = start_burrow(workdir, zk_port, node.kafka)
            base = f"{url}/v3/kafka/local"

            def listed():
                assert burrow.poll() is None, "Burrow exited"
                return GROUP in get_json(f"{base}/consumer").get("consumers", [])
            dmqtest.wait_until(listed, 90, interval_s=1, what="Burrow lists the group")

            def lag():
                status = get_json(f"{base}/consumer/{GROUP}/lag").get("status") or {}
                return status.get("totallag")
            dmqtest.wait_until(lambda: lag() == RECORDS - COMMITTED, 60, interval_s=1,
                               what=f"Burrow's lag {RECORDS - COMMITTED}")
            print(f"Burrow lists {GROUP} with lag {lag()}, as DMQ does: ok", flush=True)
        except BaseException:
            print(node.tail_log(40))
            zk_log = os.path.join(workdir, "zk.log")
            if os.path.exists(zk_log):
                print(open(zk_log).read()[-3000:])
            if burrow_dir:
                for name in ("burrow.log", "stdout.log"):
                    path = os.path.join(burrow_dir, name)
                    if os.path.exists(path):
                        print(open(path).read()[-4000:])
            raise
        finally:
            stop(burrow)
            stop(zk)
            assert node.stop() == 0


if __name__ == "__main__":
    main()
