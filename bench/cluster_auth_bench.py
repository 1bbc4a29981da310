#!/usr/bin/python3
"""What authenticating node-to-node traffic costs: the same 3-node cluster on
loopback, once without and once with --cluster.secret.file, in one run.

- metadata writes: topic creations through REST, one after another, at the
  leader (each is a Raft append to two followers, every HTTP request signed
  and checked, then applied);
- replicated produce: confluent-kafka, 1 KiB values, acks=all, 3 replicas
  (replica fetches authenticate once per connection, so this should not move).

Usage: bench/cluster_auth_bench.py [--build-dir build] [--topics 300] [--messages 50000]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/process"))


def run_cluster(dmqtest, sectest, secret, topics, messages):
    from confluent_kafka import Producer
    with dmqtest.Workdir() as w:
        extra = []
        if secret:
            extra.append(f"--cluster.secret.file={sectest.secret_file(w.path, 's', secret)}")
        nodes, _ = dmqtest.voter_nodes(w, 3, extra=extra)
        dmqtest.start_all(nodes)
        leader_id = dmqtest.wait_until(lambda: nodes[0].get("/v1/cluster")[1]["leader_id"], 15)
        leader = nodes[leader_id - 1]
        dmqtest.wait_until(lambda: leader.post("/v1/topics", {"name": "bench", "partitions": 1,
                                                              "replication_factor": 3})[0] in (200, 201),
                           30, interval_s=0.3)
        start = time.monotonic()
        for i in range(topics):
            status, body = leader.post("/v1/topics", {"name": f"t{i}", "partitions": 1,
                                                      "replication_factor": 1}, timeout_s=30)
            assert status in (200, 201), body
        writes_per_s = topics / (time.monotonic() - start)
        p = Producer({"bootstrap.servers": ",".join(n.kafka for n in nodes), "acks": "all",
                      "linger.ms": 5})
        value = b"x" * 1024
        start = time.monotonic()
        for _ in range(messages):
            while True:
                try:
                    p.produce("bench", value)
                    break
                except BufferError:
                    p.poll(0.01)
        assert p.flush(120) == 0
        produce_per_s = messages / (time.monotonic() - start)
        return writes_per_s, produce_per_s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--messages", type=int, default=50000)
    args = parser.parse_args()
    os.environ["DMQ_BINARY"] = os.path.abspath(os.path.join(args.build_dir, "dmq"))
    import dmqtest
    import sectest
    rows = []
    for label, secret in (("no secret", None), ("cluster secret", "bench-secret-" + "x" * 20)):
        writes, produce = run_cluster(dmqtest, sectest, secret, args.topics, args.messages)
        rows.append((label, writes, produce))
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| cluster | metadata writes/s | produce msgs/s (1 KiB, acks=all, RF 3) |")
    print("|---|---|---|")
    for label, writes, produce in rows:
        print(f"| {label} | {writes:.0f} | {produce:.0f} |")
    print(f"with/without: writes {rows[1][1] / rows[0][1]:.2f}, produce {rows[1][2] / rows[0][2]:.2f}")


if __name__ == "__main__":
    main()
