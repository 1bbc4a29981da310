"""Admin APIs through real clients against a real dmq node: confluent-kafka's
AdminClient (CreateTopics with defaults and validate_only, CreatePartitions,
DescribeConfigs for a topic and the broker, DeleteTopics, the error codes),
offsets by time (ListOffsets), and kafka-python's admin DescribeConfigs."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from confluent_kafka import KafkaError, Producer, TopicPartition, Consumer  # noqa: E402
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,  # noqa: E402
                                   NewTopic)
from kafka.admin import ConfigResource as KPResource  # noqa: E402
from kafka.admin import ConfigResourceType, KafkaAdminClient  # noqa: E402
from kafka.admin import NewTopic as KPNewTopic  # noqa: E402


def error_of(future):
    try:
        future.result(timeout=30)
        return None
    except Exception as e:  # confluent wraps the KafkaError in KafkaException
        return e.args[0].code()


def run(node):
    b = node.kafka
    admin = AdminClient({"bootstrap.servers": b})
    f = admin.create_topics([NewTopic("a1", num_partitions=2, replication_factor=1,
                                      config={"retention.ms": "3600000"}),
                             NewTopic("bad/name", num_partitions=1, replication_factor=1),
                             NewTopic("a2", num_partitions=1, replication_factor=3)],
                            operation_timeout=10)
    assert error_of(f["a1"]) is None
    assert error_of(f["bad/name"]) == KafkaError.TOPIC_EXCEPTION
    assert error_of(f["a2"]) == KafkaError.INVALID_REPLICATION_FACTOR
    assert error_of(admin.create_topics([NewTopic("a1", 1, 1)])["a1"]) == KafkaError.TOPIC_ALREADY_EXISTS
    v = admin.create_topics([NewTopic("dry", 1, 1)], validate_only=True)
    assert error_of(v["dry"]) is None
    assert "dry" not in admin.list_topics(timeout=10).topics
    md = admin.list_topics(timeout=10)
    assert len(md.topics["a1"].partitions) == 2 and md.topics["a1"].partitions[1].leader == node.node_id

    assert error_of(admin.create_partitions([NewPartitions("a1", 4)])["a1"]) is None
    dmqtest.wait_until(lambda: len(admin.list_topics(timeout=10).topics["a1"].partitions) == 4, 10,
                       what="4 partitions")
    assert error_of(admin.create_partitions([NewPartitions("a1", 2)])["a1"]) == KafkaError.INVALID_PARTITIONS

    res = ConfigResource(ConfigResource.Type.TOPIC, "a1")
    configs = admin.describe_configs([res])[res].result(timeout=30)
    assert configs["retention.ms"].value == "3600000", configs["retention.ms"]
    assert configs["max.message.bytes"].value == "1048588"
    broker = ConfigResource(ConfigResource.Type.BROKER, str(node.node_id))
    bconf = admin.describe_configs([broker])[broker].result(timeout=30)
    assert bconf["num.partitions"].value == "1", bconf["num.partitions"]

    # Offsets by time: the first record at or after a timestamp.
    p = Producer({"bootstrap.servers": b, "acks": "all"})
    for i in range(10):
        p.produce("a1", value=b"%d" % i, partition=0, timestamp=1_000_000 + i * 1000)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": b, "group.id": "x"})
    found = c.offsets_for_times([TopicPartition("a1", 0, 1_004_500)], timeout=10)
    assert found[0].offset == 5, found
    lo, hi = c.get_watermark_offsets(TopicPartition("a1", 0), timeout=10)
    assert (lo, hi) == (0, 10), (lo, hi)
    c.close()

    assert error_of(admin.delete_topics(["a1"], operation_timeout=10)["a1"]) is None
    assert error_of(admin.delete_topics(["nope"], operation_timeout=10)["nope"]) == \
        KafkaError.UNKNOWN_TOPIC_OR_PART
    assert "a1" not in admin.list_topics(timeout=10).topics

    kp = KafkaAdminClient(bootstrap_servers=b)
    kp.create_topics([KPNewTopic("kpa", 1, 1)])
    out = kp.describe_configs([KPResource(ConfigResourceType.TOPIC, "kpa")])
    names = {c[0] for c in out[0].resources[0][4]}
    assert "retention.ms" in names and "segment.bytes" in names, names
    kp.close()
    print("admin: create/validate/partitions/describe configs/offsets by time/delete ok")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node)
            code = node.stop()
            assert code == 0, f"dmq exited with {code}"
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            node.stop()


if __name__ == "__main__":
    main()
