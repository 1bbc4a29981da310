"""AlterConfigs and IncrementalAlterConfigs against a real dmq node: topic
configs changed with confluent-kafka's and kafka-python's admin clients
(AlterConfigs replaces the topic's whole set of dynamic configs), then with
raw IncrementalAlterConfigs v0 frames (SET, DELETE, APPEND, validate_only).
DescribeConfigs shows each change as soon as the call is answered; refusals
(unknown topic, a broker resource, an unknown operation) answer with Kafka's
error codes on a connection that stays usable."""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka.admin import AdminClient, ConfigResource  # noqa: E402
from kafka.admin import ConfigResource as KpConfigResource  # noqa: E402
from kafka.admin import ConfigResourceType, KafkaAdminClient  # noqa: E402

NONE, UNKNOWN_TOPIC, INVALID_REQUEST = 0, 3, 42
SET, DELETE, APPEND = 0, 1, 2


def main():
    kafka_roundtrip.run_on_node(run)


def described(admin, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([res])[res].result(10)
    return {k: (e.value, e.source) for k, e in entries.items()}


def dynamic(admin, topic):
    topic_source = 1  # DYNAMIC_TOPIC_CONFIG
    return {k: v for k, (v, s) in described(admin, topic).items() if s == topic_source}


def run(node):
    node.post("/v1/topics", {"name": "cfg", "partitions": 1, "replication_factor": 1})
    dmqtest.wait_until(lambda: node.get("/v1/topics/cfg")[0] == 200, 10, what="topic cfg")
    admin = AdminClient({"bootstrap.servers": node.kafka})

    res = ConfigResource(ConfigResource.Type.TOPIC, "cfg",
                         set_config={"retention.ms": "86400000", "max.message.bytes": "2000000"})
    admin.alter_configs([res])[res].result(10)
    assert dynamic(admin, "cfg") == {"retention.ms": "86400000", "max.message.bytes": "2000000"}
    print("confluent-kafka alter_configs: ok", flush=True)

    # kafka-python: AlterConfigs replaces the set, so retention.ms is gone.
    kp = KafkaAdminClient(bootstrap_servers=node.kafka)
    out = kp.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, "cfg",
                                             configs={"retention.bytes": "1000000"})])
    assert all(r[0] == NONE for r in out.resources), out
    kp.close()
    assert dynamic(admin, "cfg") == {"retention.bytes": "1000000"}
    print("kafka-python alter_configs: ok", flush=True)

    host, port = node.kafka.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        ops = [("retention.ms", SET, "5000"), ("retention.bytes", DELETE, None),
               ("cleanup.policy", APPEND, "delete"), ("cleanup.policy", APPEND, "compact")]
        assert incremental(sock, 2, "cfg", ops[:3]) == (NONE, None)
        assert incremental(sock, 2, "cfg", ops[3:]) == (NONE, None)
        assert dynamic(admin, "cfg") == {"retention.ms": "5000", "cleanup.policy": "delete,compact"}
        # validate_only changes nothing.
        assert incremental(sock, 2, "cfg", [("retention.ms", SET, "1")], validate=True)[0] == NONE
        assert dynamic(admin, "cfg")["retention.ms"] == "5000"
        assert incremental(sock, 2, "nope", ops[:1])[0] == UNKNOWN_TOPIC
        code, message = incremental(sock, 4, "1", ops[:1])
        assert code == INVALID_REQUEST and "broker" in message, message
        assert incremental(sock, 2, "cfg", [("retention.ms", 9, "1")])[0] == INVALID_REQUEST
        assert incremental(sock, 2, "cfg", [("retention.ms", SET, None)])[0] == INVALID_REQUEST
        # Still the same connection, still answering.
        assert incremental(sock, 2, "cfg", [("retention.ms", DELETE, None)]) == (NONE, None)
    assert "retention.ms" not in dynamic(admin, "cfg")
    print("IncrementalAlterConfigs v0: ok", flush=True)


def kstring(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def incremental(sock, resource_type, name, ops, validate=False):
    """One IncrementalAlterConfigs v0 request for one resource: (error, message)."""
    body = struct.pack(">ib", 1, resource_type) + kstring(name) + struct.pack(">i", len(ops))
    for key, op, value in ops:
        body += kstring(key) + struct.pack(">b", op) + kstring(value)
    body += struct.pack(">?", validate)
    header = struct.pack(">hhi", 44, 0, 9) + kstring("test")
    sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    resp = dmqtest.read_kafka_frame(sock)
    pos = 4 + 4 + 4  # correlation, throttle, response count
    code, mlen = struct.unpack_from(">hh", resp, pos)
    message = None if mlen < 0 else resp[pos + 4:pos + 4 + mlen].decode()
    return code, message


if __name__ == "__main__":
    main()
