"""Go Kafka clients from Debian against a real dmq node: Shopify/sarama
1.22.1 (its default Kafka 0.8.2 protocol, 0.10.2.0 and its newest, 2.2.0),
segmentio/kafka-go 0.2.1 (fixed versions) and confluent-kafka-go 0.11.6 (cgo
over Debian's librdkafka, which negotiates versions; idempotent producer). Each program
(tests/clients/go/src/dmqcompat/) reports metadata, produce with acks=all,
consume from the oldest offset, a consumer group that commits and a restarted
member that resumes at the commit, and the client's admin calls. The results
are written to <build>/compat-results.jsonl and must match the matrix in
README.md (tests/clients/compat_matrix.py renders it).

The programs are built in GOPATH mode against /usr/share/gocode (no module
proxy), with the Go build cache kept in the build directory so later runs only
relink."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

SOURCE = os.environ.get("DMQ_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.dirname(os.path.abspath(os.environ["DMQ_BINARY"]))
GO_ROOT = os.path.join(SOURCE, "tests", "clients", "go")
OUT = os.path.join(BUILD, "go-clients")
RESULTS = os.path.join(BUILD, "compat-results.jsonl")

RUNS = [  # (program, prefix, extra arguments)
    ("kafkago", "kg", []),
    ("sarama", "sd", []),
    ("sarama", "s10", ["-version", "0.10.2.0"]),
    ("sarama", "s22", ["-version", "2.2.0"]),
    ("confluent", "ck", []),
]
# What DMQ does not serve yet; anything else must work or be refused by the
# client itself (n/a). A failure here must also be visible in README's matrix.
KNOWN_GAPS = set()


def build(program):
    os.makedirs(OUT, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=f"{GO_ROOT}:/usr/share/gocode",
               GOCACHE=os.path.join(OUT, "cache"), GOFLAGS="")
    binary = os.path.join(OUT, program)
    subprocess.run(["go", "build", "-o", binary, f"dmqcompat/{program}"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return binary


def main():
    binaries = {p: build(p) for p in {r[0] for r in RUNS}}
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            for program, prefix, extra in RUNS:
                topic = prefix + "-topic"
                node.post("/v1/topics", {"name": topic, "partitions": 1, "replication_factor": 1})
                dmqtest.wait_until(lambda: node.get(f"/v1/topics/{topic}")[0] == 200, 10,
                                   what=topic)
                out = subprocess.run([binaries[program], "-brokers", node.kafka,
                                      "-prefix", prefix] + extra,
                                     capture_output=True, text=True, timeout=240)
                got = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
                for r in got:
                    print(f"{r['client']:9} {r['config']:9} {r['capability']:22} {r['result']:4} "
                          f"{r['detail']}", flush=True)
                assert got, (program, extra, out.stderr[-2000:])
                rows += got
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            assert node.stop() == 0
    with open(RESULTS, "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    bad = [r for r in rows if r["result"] == "no"
           and (r["client"], r["config"], r["capability"]) not in KNOWN_GAPS]
    assert not bad, bad
    check = subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "clients",
                                                         "compat_matrix.py"),
                            RESULTS, "--check", os.path.join(SOURCE, "README.md")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


if __name__ == "__main__":
    main()
