// kafkajs 2.2.4 over SASL_SSL: produces `count` messages with acks=-1 and
// prints the topic's offsets, or exits 1 with the error's type and message.
// Usage: node kafkajs_sasl.js <bootstrap> <topic> <count> <ca.pem> scram-sha-512 <user> <password>
//        node kafkajs_sasl.js <bootstrap> <topic> <count> <ca.pem> oauthbearer <token>
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

function saslConfig(mechanism, a, b) {
  if (mechanism === 'oauthbearer') {
    return { mechanism, oauthBearerProvider: async () => ({ value: a }) };
  }
  return { mechanism, username: a, password: b };
}

async function main() {
  const [bootstrap, topic, countText, ca, mechanism, a, b] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'dmq-sasl-test',
    brokers: [bootstrap],
    ssl: { ca: [fs.readFileSync(ca, 'utf-8')], servername: 'localhost' },
    sasl: saslConfig(mechanism, a, b),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < Number(countText); i++) messages.push({ value: `js-${i}` });
  await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  console.log(JSON.stringify({ offsets }));
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
