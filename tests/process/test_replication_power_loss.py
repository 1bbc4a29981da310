#!/usr/bin/python3
"""acks=all survives a power loss of every node after a truncation.

The scenario of test_replication_truncation (min.insync.replicas=2 here):
the leader takes an acks=1 tail while its followers are frozen, is killed,
a follower leads and takes acks=all writes at the same offsets, and the old
leader returns, truncates its divergent tail, re-appends the new leader's
data and leads again. It then acknowledges more acks=all writes, and every
node is powered off at once: with DMQ_TEST_FAULT_FS=1 partition logs live on
the fault-injecting file layer, and POST /internal/test/power-off drops every
write not yet fsynced and kills the process. After a restart every
acknowledged record must be read at the offset its acknowledgement named.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dmqtest import Workdir, power_off, run, start_all, wait_until  # noqa: E402
from test_replication_truncation import (  # noqa: E402
    diverge_and_restore, partition, produce, read_from, start_cluster, verify_acknowledged)


def test_power_loss_after_truncation():
    os.environ["DMQ_TEST_FAULT_FS"] = "1"
    try:
        with Workdir() as w:
            nodes = start_cluster(w)
            leader, committed, later, acked = diverge_and_restore(nodes, 2)
            with open(leader.log_path, "rb") as f:
                assert "divergent tail" in f.read().decode(errors="replace"), \
                    "the returning leader did not truncate"
            last = [b"m-%d" % i for i in range(200)]
            acked.update(produce(leader.kafka, last, "all"))

            for n in nodes:
                power_off(n)
            start_all(nodes)
            everyone = ",".join(n.kafka for n in nodes)
            wait_until(lambda: partition(nodes[0])["leader"] > 0, 30, interval_s=0.2,
                       what="a partition leader after the restart")
            expected = len(committed) + len(later) + len(last)
            got = read_from(everyone, expected, timeout_s=60)
            print(f"   read {len(got)} records after the power loss (acknowledged {len(acked)})")
            verify_acknowledged(acked, got)
    finally:
        del os.environ["DMQ_TEST_FAULT_FS"]


if __name__ == "__main__":
    run([test_power_loss_after_truncation])
