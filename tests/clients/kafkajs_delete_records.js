// kafkajs admin.deleteTopicRecords against DMQ: argv BROKER TOPIC PARTITION
// OFFSET. Prints one JSON line: {"ok": true} or {"error": "<kafkajs type>"}.
const { Kafka, logLevel } = require("kafkajs");
const { errorType } = require("./kafkajs_error");

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
    console.log(JSON.stringify({ error: errorType(e) }));
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
