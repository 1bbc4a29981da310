// kafkajs admin.deleteTopicRecords against DMQ: argv BROKER TOPIC PARTITION
// OFFSET. Prints one JSON line: {"ok": true} or {"error": "<kafkajs type>"}.
const { Kafka, logLevel } = require("kafkajs");

async function main() {
  const [broker, topic, partition, offset] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: "dmq-delete-records", brokers: broker.split(","), logLevel: logLevel.NOTHING,
                            retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // deleteTopicRecords finds the leaders in metadata it does not load itself.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: Number(partition), offset }] });
    console.log(JSON.stringify({ ok: true }));
  } catch (e) {
    // The broker's error code sits in the per-partition errors, possibly
    // under the retrier's wrapper.
    let cause = e;
    while (cause.cause || cause.originalError) cause = cause.cause || cause.originalError;
    if (cause.partitions && cause.partitions[0] && cause.partitions[0].error) cause = cause.partitions[0].error;
    console.log(JSON.stringify({ error: cause.type || cause.name || String(cause.message) }));
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
