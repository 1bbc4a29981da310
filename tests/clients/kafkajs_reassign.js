// kafkajs admin.alterPartitionReassignments / listPartitionReassignments
// against DMQ. argv: BROKERS alter TOPIC PARTITION REPLICAS(comma-separated,
// "" for an empty list) | BROKERS list. Prints one JSON line: {"ok": true},
// {"topics": [...]} or {"error": "<Kafka error type>"}.
const { Kafka, logLevel } = require("kafkajs");
const { errorType } = require("./kafkajs_error");

async function main() {
  const [brokers, action, topic, partition, replicas] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: "dmq-reassign", brokers: brokers.split(","),
                            logLevel: logLevel.NOTHING, retry: { retries: 1 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (action === "alter") {
      const ids = replicas === "" ? [] : replicas.split(",").map(Number);
      await admin.alterPartitionReassignments({
        topics: [{ topic, partitionAssignment: [{ partition: Number(partition), replicas: ids }] }],
        timeout: 30000,
      });
      console.log(JSON.stringify({ ok: true }));
    } else {
      const r = await admin.listPartitionReassignments({ timeout: 30000 });
      console.log(JSON.stringify({ topics: r.topics }));
    }
  } catch (e) {
    console.log(JSON.stringify({ error: errorType(e) }));
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
