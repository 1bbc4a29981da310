"""A real full disk under a real dmq node. The data directory is a small
tmpfs (mounted in a user and mount namespace of our own, `unshare -rm`, so
no root is needed), a filler file takes most of it, and confluent-kafka
produces until the disk refuses. Then:
- produce is answered KAFKA_STORAGE_ERROR and the node stays up;
- every acknowledged record stays readable, metadata and health answer;
- a follower whose disk is full leaves the ISR, the leader keeps
  acknowledging acks=all writes, and the follower rejoins once space is back;
- the controller (LMDB on the same full disk) neither crashes nor
  acknowledges what it could not store;
- once the filler is deleted, writes resume by themselves;
- after a kill -9 and a restart, recovery keeps every acknowledged record at
  the offset its acknowledgement named.
Skipped, with the reason, only where user namespaces are not allowed."""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402

MIB = 1 << 20
TOPIC = "full"


def reexec_in_namespace():
    """Runs this script again as root of a fresh user+mount namespace;
    returns its exit code, or None when namespaces are not available."""
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    env = dict(os.environ, DMQ_DISK_FULL_IN_NAMESPACE="1")
    return subprocess.run(["unshare", "-rm", sys.executable, os.path.abspath(__file__),
                           *sys.argv[1:]],
                          env=env).returncode


def mount_tmpfs(path, size_mib):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", path], check=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave_bytes):
    """A new file taking all but `leave_bytes` of the filesystem."""
    filler = os.path.join(path, f"filler-{time.time_ns()}")
    with open(filler, "wb") as f:
        remaining = free_bytes(path) - leave_bytes
        chunk = bytes(MIB)
        while remaining > 0:
            n = min(remaining, MIB)
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError:
                break  # full already
            remaining -= n
    return filler


def produce_until_refused(bootstrap, acked, first_id, max_records):
    """Produces 8 KiB records one at a time until one is refused; returns
    the refusal's error name (None if none was refused)."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0,
                  "enable.idempotence": False, "linger.ms": 0, "message.timeout.ms": 20000})
    for i in range(first_id, first_id + max_records):
        result = []
        p.produce(TOPIC, key=str(i).encode(), value=str(i).encode().ljust(8192, b"."),
                  on_delivery=lambda err, msg: result.append((err, msg.partition(), msg.offset())))
        p.flush(30)
        assert result, f"no delivery report for record {i}"
        err, partition, offset = result[0]
        if err is not None:
            return err.name(), i + 1
        acked[i] = (partition, offset)
    return None, first_id + max_records


def read_all(bootstrap, expected_end):
    """{record id: [(partition, offset)]} of every record in the topic."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{time.time_ns()}",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    found = {}
    deadline = time.monotonic() + 60
    last = -1
    while last + 1 < expected_end and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            continue
        found.setdefault(int(m.key()), []).append((m.partition(), m.offset()))
        last = m.offset()
    c.close()
    return found


def high_watermark(bootstrap):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "hw"})
    low, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
    c.close()
    return high


def check_every_ack_readable(node, acked, what):
    # After a kill -9 the old broker session must expire before the new
    # process leads the partition again.
    end = dmqtest.wait_until(lambda: high_watermark(node.kafka) or None, 60, interval_s=0.5,
                             what="the partition's high watermark")
    problems, counts = dmqtest.check_acknowledged(acked, read_all(node.kafka, end))
    print(f"   {what}: {counts}")
    assert not problems, problems


def test_disk_full():
    with dmqtest.Workdir() as w:
        data = os.path.join(w.path, "data")
        mount_tmpfs(data, 40)
        node = w.node(extra=["--segment.bytes=1048576", "--log.flush.on.ack=true"])
        node.data_dir = os.path.join(data, "node-1")
        node.start()
        dmqtest.create_one_partition_topic(node, TOPIC)
        acked = {}
        error, next_id = produce_until_refused(node.kafka, acked, 0, 50)
        assert error is None, f"refused before the disk was full: {error}"
        filler = fill(data, 3 * MIB)
        error, next_id = produce_until_refused(node.kafka, acked, next_id, 2000)
        print(f"   {len(acked)} records acknowledged, then {error}; "
              f"{free_bytes(data)} bytes free")
        assert error == "KAFKA_STORAGE_ERROR", f"a full disk answered {error}"
        node.alive()
        # Still full: reads, metadata and health keep working.
        assert node.get("/v1/health")[0] == 200
        r = subprocess.run(["kcat", "-b", node.kafka, "-L", "-m", "10"], capture_output=True,
                           timeout=40)
        assert r.returncode == 0 and TOPIC.encode() in r.stdout, r.stderr
        check_every_ack_readable(node, acked, "while full")
        # The controller's LMDB sits on the same full disk: a metadata write
        # must fail or wait, never crash the node.
        # Not a byte left, then metadata writes until LMDB needs a new page.
        last_bytes = fill(data, 0)
        for i in range(20):
            try:
                node.post("/v1/topics", {"name": f"while-full-{i}", "partitions": 4,
                                         "replication_factor": 1}, timeout_s=3)
            except Exception:
                pass  # a timeout is a fine answer too
            node.alive()
        status, text = node.get("/metrics")
        refused = [l for l in text.splitlines() if l.startswith("dmq_raft_persist_failures_total")]
        print(f"   Raft log writes refused by the disk so far: {refused}")
        assert refused and float(refused[0].split()[-1]) > 0, \
            "the metadata writes never reached a full LMDB: the controller path went untested"
        error, next_id = produce_until_refused(node.kafka, acked, next_id, 1)
        assert error == "KAFKA_STORAGE_ERROR", f"still full, but produce answered {error}"
        # Space comes back: writes resume without a restart.
        os.remove(filler)
        os.remove(last_bytes)

        def resumed():
            nonlocal next_id
            error, next_id = produce_until_refused(node.kafka, acked, next_id, 1)
            return error is None

        dmqtest.wait_until(resumed, 30, interval_s=0.5, what="produce to work again")
        error, next_id = produce_until_refused(node.kafka, acked, next_id, 20)
        assert error is None, error
        status, body = node.post("/v1/topics", {"name": "after-full", "partitions": 1,
                                                "replication_factor": 1}, timeout_s=15)
        assert status in (200, 201, 409), (status, body)
        check_every_ack_readable(node, acked, "after freeing space")
        # A hard stop, then recovery: nothing acknowledged is lost.
        node.kill()
        node.start()
        check_every_ack_readable(node, acked, "after kill -9 and restart")
        error, next_id = produce_until_refused(node.kafka, acked, next_id, 5)
        assert error is None, error


def topic_partition(node, name):
    status, body = node.get(f"/v1/topics/{name}")
    return body["partitions"][0] if status == 200 else None


def test_follower_disk_full():
    """RF 2, min.insync.replicas 1: the follower's disk fills up. The leader
    keeps answering, the follower stops appending and leaves the ISR after
    replica.lag.time.max.ms, acks=all writes go on; with space back the
    follower catches up and rejoins the ISR."""
    with dmqtest.Workdir() as w:
        http1 = dmqtest.free_port()
        voters = f"1@127.0.0.1:{http1}"
        extra = ["--segment.bytes=1048576", "--replica.lag.time.max.ms=3000"]
        # The controller keeps its Raft log off the brokers' disks: were it
        # on the follower's full disk, no ISR change could commit (that case
        # is test_disk_full's), and acks=all would rightly wait.
        controller = w.node(node_id=1, role="controller", controllers=voters, http_port=http1)
        nodes = [w.node(node_id=2, role="broker", controllers=voters, extra=extra),
                 w.node(node_id=3, role="broker", controllers=voters, extra=extra)]
        for n in nodes:
            mount = os.path.join(w.path, f"data-{n.node_id}")
            mount_tmpfs(mount, 40)
            n.data_dir = os.path.join(mount, "node")
            n.mount = mount
        dmqtest.start_all([controller, *nodes])
        body = {"name": TOPIC, "partitions": 1, "replication_factor": 2}
        dmqtest.wait_until(lambda: controller.post("/v1/topics", body)[0] in (200, 201), 30,
                           interval_s=0.3, what="topic created with 2 replicas")
        dmqtest.wait_until(lambda: len((topic_partition(controller, TOPIC) or {}).get("isr", [])) == 2,
                           30, what="both replicas in the ISR")
        leader_id = topic_partition(controller, TOPIC)["leader"]
        leader = nodes[leader_id - 2]
        follower = nodes[3 - leader_id]
        acked = {}
        error, next_id = produce_until_refused(leader.kafka, acked, 0, 20)
        assert error is None, error
        filler = fill(follower.mount, 256 * 1024)
        # The follower cannot append; acks=all waits for the ISR to shrink, then goes on.
        error, next_id = produce_until_refused(leader.kafka, acked, next_id, 200)
        assert error is None, f"the leader refused while only the follower's disk was full: {error}"
        isr = topic_partition(controller, TOPIC)["isr"]
        print(f"   {len(acked)} acknowledged with the follower's disk full; ISR {isr}")
        assert isr == [leader_id], f"the follower stayed in the ISR: {isr}"
        follower.alive()
        leader.alive()
        os.remove(filler)
        dmqtest.wait_until(lambda: sorted(topic_partition(controller, TOPIC)["isr"]) == [2, 3], 60,
                           interval_s=0.5, what="the follower back in the ISR")
        check_every_ack_readable(leader, acked, "after the follower rejoined")


def main():
    if os.environ.get("DMQ_DISK_FULL_IN_NAMESPACE") == "1":
        dmqtest.run([t for t in (test_disk_full, test_follower_disk_full)
                     if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]])
        return 0
    if shutil.which("unshare") is None:
        print("SKIPPED: no unshare(1), so no small filesystem can be mounted without root")
        return 0
    code = reexec_in_namespace()
    if code is None:
        print("SKIPPED: unprivileged user namespaces are disabled (unshare -rm failed), "
              "so no small filesystem can be mounted without root")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
