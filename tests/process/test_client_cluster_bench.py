"""`dmq cluster status` and `dmq bench produce|consume` as processes: status
against a three-node cluster (every broker listed, the Raft view over --http,
an under-replicated partition reported once a broker is gone), and the bench
numbers are consistent and match what kcat reads back."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
from test_client_topic import dmq, ok, one_line_error  # noqa: E402


def all_alive(node, count):
    status, body = node.get("/v1/brokers")
    return status == 200 and sum(b.get("status") == "alive" for b in body["brokers"]) == count


def check_status(nodes):
    b = ",".join(n.kafka for n in nodes)
    ok(["topic", "create", "rep", "--partitions", "2", "--replication-factor", "3"], b)
    # Followers join the ISR shortly after the topic is placed.
    dmqtest.wait_until(lambda: json.loads(ok(["cluster", "status", "--json"], b))
                       ["unhealthy_partitions"] == [], 30, what="full ISR")
    status = json.loads(ok(["cluster", "status", "--json", "--http", nodes[0].url[7:]], b))
    assert sorted(x["id"] for x in status["brokers"]) == [1, 2, 3], status
    assert status["controller_id"] in (1, 2, 3), status
    assert status["raft"]["leader_id"] in (1, 2, 3) and len(status["raft"]["voters"]) == 3, status
    text = ok(["cluster", "status", "--http", nodes[0].url[7:]], b)
    assert "controller leader:" in text and "BROKER" in text, text
    assert "all partitions have a leader and a full ISR" in text, text

    # Leadership moves: kill the leader of partition 0; dmq produce and consume
    # (bootstrap list still naming the dead broker first) refresh the metadata
    # and retry until the new leader answers.
    ok(["produce", "rep", "--partition", "0"], b, stdin="".join(f"r{i}\n" for i in range(100)))
    desc = json.loads(ok(["topic", "describe", "rep", "--json"], b))
    leader = desc["partitions"][0]["leader"]
    victim = next(n for n in nodes if n.node_id == leader)
    survivors_nodes = [n for n in nodes if n is not victim]
    victim.kill()
    dead_first = ",".join([victim.kafka] + [n.kafka for n in survivors_nodes])
    ok(["produce", "rep", "--partition", "0"], dead_first,
       stdin="".join(f"r{i}\n" for i in range(100, 200)))
    read = ok(["consume", "rep", "--partition", "0", "--from-beginning", "--exit-at-end"],
              dead_first).split()
    assert read == [f"r{i}" for i in range(200)], (len(read), read[:3], read[-3:])
    moved = json.loads(ok(["topic", "describe", "rep", "--json"], dead_first))
    assert moved["partitions"][0]["leader"] != leader, moved

    # A broker that is gone leaves its partitions under-replicated.
    survivors = ",".join(n.kafka for n in survivors_nodes)

    def degraded():
        s = json.loads(ok(["cluster", "status", "--json"], survivors))
        rep = [u for u in s["unhealthy_partitions"] if u["topic"] == "rep"]
        return len(rep) == 2 and s

    s = dmqtest.wait_until(degraded, 30, interval_s=0.5, what="under-replicated partitions")
    assert all(u["isr"] < 3 for u in s["unhealthy_partitions"]), s
    text = ok(["cluster", "status"], survivors)
    assert "under-replicated" in text and "rep" in text, text
    text = ok(["cluster", "status", "--http", survivors_nodes[0].url[7:]], survivors)
    assert "controller leader:" in text, text
    code, _, err = dmq(["cluster", "status", "--http", "127.0.0.1:1"], survivors)
    one_line_error(code, err, 1, "/v1/cluster")


def check_bench(node):
    b = node.kafka
    ok(["topic", "create", "perf", "--partitions", "3"], b)
    out = json.loads(ok(["bench", "produce", "perf", "--records", "20000", "--record-size", "200",
                         "--batch-records", "250", "--compression", "zstd", "--json"], b))
    assert out["mode"] == "produce" and out["records"] == 20000, out
    assert out["bytes"] == 20000 * 200 and out["mb_per_s"] > 0 and out["records_per_s"] > 0, out
    lat = out["latency_ms"]
    assert lat["samples"] == 80, lat  # one Produce per batch
    assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    count = subprocess.run(["kcat", "-b", b, "-C", "-t", "perf", "-o", "beginning", "-e", "-q",
                            "-f", "%S\n"], capture_output=True, text=True, timeout=60)
    sizes = count.stdout.split()
    assert len(sizes) == 20000 and set(sizes) == {"200"}, (len(sizes), set(sizes))

    read = json.loads(ok(["bench", "consume", "perf", "--records", "20000", "--json"], b))
    assert read["mode"] == "consume" and read["records"] == 20000, read
    assert read["bytes"] == 20000 * 200 and read["latency_ms"]["samples"] >= 1, read
    text = ok(["bench", "produce", "perf", "--records", "1000"], b)
    assert "records/s" in text and "MB/s" in text and "p99" in text, text
    code, _, err = dmq(["bench", "produce", "perf", "--records", "0"], b)
    one_line_error(code, err, 2, "--records")


def main():
    with dmqtest.Workdir() as w:
        # A short lag time lets the ISR shrink soon after a broker dies.
        nodes, _ = dmqtest.voter_nodes(w, 3, extra=["--replica.lag.time.max.ms=2000",
                                                    "--broker.session.timeout.ms=3000"])
        dmqtest.start_all(nodes)
        dmqtest.wait_until(lambda: all_alive(nodes[0], 3), 30, what="three brokers alive")
        check_bench(nodes[0])
        check_status(nodes)
        print("cluster status and bench ok")


if __name__ == "__main__":
    main()
