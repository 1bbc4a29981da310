"""kafka-python 2.0.2 against a real dmq node: version probe (ApiVersions v0
then Metadata v0), KafkaAdminClient create/delete, KafkaProducer (acks=1 and
acks=all, gzip) and KafkaConsumer with assign(), keys and headers intact."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

COUNT = 20000


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            run(node.kafka)
        except BaseException:
            print(node.tail_log(80))
            raise
        finally:
            assert node.stop() == 0


def run(bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    admin.create_topics([NewTopic("kp", num_partitions=2, replication_factor=1)])
    dmqtest.wait_until(lambda: "kp" in admin.list_topics(), 10, what="topic kp")

    for acks, codec in ((1, None), ("all", "gzip")):
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks=acks, compression_type=codec,
                                 linger_ms=5)
        futures = [producer.send("kp", key=b"k%d" % i, value=b"v%d-%s" % (i, str(acks).encode()),
                                 headers=[("i", b"%d" % i)], partition=i % 2)
                   for i in range(COUNT)]
        producer.flush(60)
        offsets = [f.get(timeout=30).offset for f in futures]
        assert offsets[:4] == [0, 0, 1, 1] or acks != 1, offsets[:4]
        producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", group_id=None)
    consumer.assign([TopicPartition("kp", 0), TopicPartition("kp", 1)])
    consumer.seek_to_beginning()
    got = {0: [], 1: []}
    deadline = time.monotonic() + 60
    while sum(map(len, got.values())) < 2 * COUNT and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=1000, max_records=5000).items():
            for r in records:
                got[tp.partition].append((r.offset, r.key, r.value, r.headers))
    consumer.close()
    for p in (0, 1):
        expected = []
        for acks in (b"1", b"all"):
            expected += [(b"k%d" % i, b"v%d-%s" % (i, acks), [("i", b"%d" % i)])
                         for i in range(COUNT) if i % 2 == p]
        assert len(got[p]) == len(expected), (p, len(got[p]), len(expected))
        for n, ((offset, key, value, headers), e) in enumerate(zip(got[p], expected)):
            assert offset == n and (key, value, headers) == e, (p, n, key, value, headers, e)

    admin.delete_topics(["kp"])
    dmqtest.wait_until(lambda: "kp" not in admin.list_topics(), 10, what="kp deleted")
    admin.close()
    print("kafka-python: admin, producer (acks=1, acks=all+gzip), consumer with assign ok")


if __name__ == "__main__":
    main()
