"""`dmq topic create|list|describe|delete` as processes against a real dmq
node, cross-checked with kcat -L; usage errors exit 2 with one line, runtime
errors exit 1 with one line."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402


def dmq(args, brokers=None, stdin=None, env=None, timeout=60):
    """Runs `dmq ARGS`; returns (exit code, stdout, stderr) as text."""
    full = [dmqtest.BINARY] + args + ([f"--brokers={brokers}"] if brokers else [])
    r = subprocess.run(full, input=stdin, capture_output=True, timeout=timeout, text=True,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout, r.stderr


def ok(args, brokers, **kw):
    code, out, err = dmq(args, brokers, **kw)
    assert code == 0, f"dmq {args} exited {code}: {err}"
    return out


def one_line_error(code, err, expected_code, fragment):
    assert code == expected_code, f"exit {code} (expected {expected_code}): {err}"
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err!r}"
    assert fragment in err, f"{fragment!r} not in {err!r}"


def kcat_metadata(brokers, topic):
    # Not `-t topic`: asking for one topic would auto-create a deleted one.
    r = subprocess.run(["kcat", "-b", brokers, "-L", "-J"], capture_output=True,
                       timeout=30, text=True)
    assert r.returncode == 0, r.stderr
    topics = json.loads(r.stdout)["topics"]
    return next((t for t in topics if t["topic"] == topic), None)


def run(node):
    b = node.kafka

    # create, then the topic is visible to a real Kafka client with leaders.
    created = json.loads(ok(["topic", "create", "orders", "--partitions", "3",
                             "--replication-factor", "1", "--config", "retention.ms=123456",
                             "--json"], b))
    assert created == {"name": "orders", "partitions": 3, "replication_factor": 1,
                       "created": True}, created
    meta = kcat_metadata(b, "orders")
    assert meta is not None and len(meta["partitions"]) == 3, meta
    assert all(p["leader"] == node.node_id for p in meta["partitions"]), meta

    # A topic kcat creates shows up in `dmq topic list`.
    subprocess.run(["kcat", "-b", b, "-P", "-t", "from-kcat"], input=b"x\n", check=True, timeout=30)
    listed = json.loads(ok(["topic", "list", "--json"], b))["topics"]
    names = {t["name"]: t for t in listed}
    assert names["orders"]["partitions"] == 3 and not names["orders"]["internal"], names
    assert "from-kcat" in names, names
    table = ok(["topic", "list"], b)
    assert table.splitlines()[0].split() == ["NAME", "PARTITIONS", "REPLICATION", "INTERNAL"], table
    assert any(line.split()[:2] == ["orders", "3"] for line in table.splitlines()), table

    # describe: partitions with leader, replicas and ISR; the config given at creation.
    desc = json.loads(ok(["topic", "describe", "orders", "--json"], b))
    assert [p["partition"] for p in desc["partitions"]] == [0, 1, 2], desc
    assert all(p["leader"] == 1 and p["replicas"] == [1] and p["isr"] == [1]
               for p in desc["partitions"]), desc
    assert desc["configs"]["retention.ms"] == "123456", desc["configs"]
    text = ok(["topic", "describe", "orders"], b)
    assert "PARTITION  LEADER" in text and "retention.ms" in text, text

    # Existing topic: exit 1 and one line, unless --if-not-exists.
    code, _, err = dmq(["topic", "create", "orders", "--partitions", "3"], b)
    one_line_error(code, err, 1, "TOPIC_ALREADY_EXISTS")
    again = json.loads(ok(["topic", "create", "orders", "--if-not-exists", "--json"], b))
    assert again["created"] is False, again

    # Brokers from the environment when --brokers is absent.
    env_list = json.loads(ok(["topic", "list", "--json"], None, env={"DMQ_BROKERS": b}))
    assert any(t["name"] == "orders" for t in env_list["topics"]), env_list

    # delete: gone from kcat's view; deleting again is an error.
    assert json.loads(ok(["topic", "delete", "orders", "--json"], b)) == {"deleted": "orders"}
    dmqtest.wait_until(lambda: kcat_metadata(b, "orders") is None, 15, what="orders deleted")
    code, _, err = dmq(["topic", "delete", "orders"], b)
    one_line_error(code, err, 1, "does not exist")
    code, _, err = dmq(["topic", "describe", "orders"], b)
    one_line_error(code, err, 1, "does not exist")

    # Usage errors: exit 2, one line.
    code, _, err = dmq(["topic", "create"], b)
    one_line_error(code, err, 2, "name")
    code, _, err = dmq(["topic", "create", "x", "--partitions", "0"], b)
    one_line_error(code, err, 2, "--partitions")
    code, _, err = dmq(["topic", "frobnicate"], b)
    one_line_error(code, err, 2, "dmq")
    code, _, err = dmq(["topic", "list", "--brokers", "not-an-address"])
    one_line_error(code, err, 2, "not host:port")
    code, out, _ = dmq(["topic", "--help"])
    assert code == 0 and "create" in out, out

    # No broker there: exit 1, one line, no hang.
    code, _, err = dmq(["topic", "list", "--timeout-ms", "2000"], f"127.0.0.1:{dmqtest.free_port()}")
    one_line_error(code, err, 1, "cannot connect")

    # A node still starts without a subcommand: --help of the node parser.
    code, out, _ = dmq(["--help"])
    assert code == 0 and "--role" in out, out
    print("topic create/list/describe/delete ok")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node)
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            assert node.stop() == 0


if __name__ == "__main__":
    main()
