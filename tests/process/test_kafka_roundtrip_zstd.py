"""100,000 messages with keys and headers through a real dmq node with
confluent-kafka, compression.codec=zstd (see kafka_roundtrip.py)."""

import kafka_roundtrip

if __name__ == "__main__":
    kafka_roundtrip.run("zstd")
