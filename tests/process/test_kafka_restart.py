"""Acknowledged means on disk: messages acknowledged with acks=all survive a
kill -9 of the node and are all served after the restart (log recovery), and
a clean restart keeps offsets and data as well."""

import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

COUNT = 20000


def wait_partitions_served(node, topic):
    from confluent_kafka import Consumer, TopicPartition

    def ready():
        # A fresh client each time: librdkafka's watermark query does not
        # refresh the metadata it cached while the node was still
        # re-registering (partitions without a leader).
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "x"})
        try:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=2)
            return hi >= 0
        finally:
            c.close()
    dmqtest.wait_until(ready, 20, what="partition served after restart")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        try:
            kafka_roundtrip.create_topic(node.kafka, "durable", kafka_roundtrip.PARTITIONS)
            kafka_roundtrip.produce(node.kafka, "durable", COUNT, "lz4")  # every one acknowledged
            node.stop(signal.SIGKILL)
            node.start()
            wait_partitions_served(node, "durable")
            kafka_roundtrip.check(kafka_roundtrip.consume(node.kafka, "durable", COUNT), COUNT)
            assert node.stop() == 0
            node.start()
            wait_partitions_served(node, "durable")
            kafka_roundtrip.check(kafka_roundtrip.consume(node.kafka, "durable", COUNT), COUNT)
            print(f"restart: {COUNT} acknowledged messages survived kill -9 and a clean restart")
        except BaseException:
            print(node.tail_log(60))
            raise
        finally:
            node.stop()


if __name__ == "__main__":
    main()
