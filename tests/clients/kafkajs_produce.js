// kafkajs 2.2.4 against a dmq node: admin createTopics (waits for leaders),
// producer with acks=-1 (keys, headers, gzip and uncompressed batches),
// admin fetchTopicOffsets (ListOffsets) and fetchTopicMetadata.
// Usage: node kafkajs_produce.js <bootstrap> <topic> <count>
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, countText] = process.argv.slice(2);
  const count = Number(countText);
  const kafka = new Kafka({ clientId: 'dmq-test', brokers: [bootstrap], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  if (!created) throw new Error('createTopics returned false');

  const producer = kafka.producer();
  await producer.connect();
  const chunk = 1000;
  for (let start = 0; start < count; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      messages.push({ key: `k${i}`, value: `v${i}`, partition: i % 2, headers: { i: `${i}` } });
    }
    const compression = (start / chunk) % 2 ? CompressionTypes.GZIP : CompressionTypes.None;
    await producer.send({ topic, messages, acks: -1, compression });
  }
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.disconnect();
  console.log(JSON.stringify({ offsets, partitions: meta.topics[0].partitions.length }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
