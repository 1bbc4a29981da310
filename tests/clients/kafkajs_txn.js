// kafkajs 2.2.4 transactional producer against a dmq node: a committed
// transaction over two topics, an aborted one, sendOffsets in a committed
// transaction, then a second producer with the same transactionalId fences
// the first. Prints one JSON line with what it did; the caller reads the
// topics back with read_committed.
// Usage: node kafkajs_txn.js <bootstrap> <topicA> <topicB> <group>
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topicA, topicB, group] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'dmq-txn-test', brokers: [bootstrap], logLevel: logLevel.ERROR });
  const producer = kafka.producer({ transactionalId: 'kjs-txn', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();

  let txn = await producer.transaction();
  await txn.send({ topic: topicA, acks: -1, messages: [{ value: 'kjs-commit-a0', partition: 0 }, { value: 'kjs-commit-a1', partition: 1 }] });
  await txn.send({ topic: topicB, acks: -1, messages: [{ value: 'kjs-commit-b0', partition: 0 }] });
  await txn.commit();

  txn = await producer.transaction();
  await txn.send({ topic: topicA, acks: -1, messages: [{ value: 'kjs-abort-a0', partition: 0 }, { value: 'kjs-abort-a1', partition: 1 }] });
  await txn.abort();

  txn = await producer.transaction();
  await txn.send({ topic: topicB, acks: -1, messages: [{ value: 'kjs-offsets-b1', partition: 1 }] });
  await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: topicA, partitions: [{ partition: 0, offset: '1' }] }] });
  await txn.commit();

  // A second instance with the same transactionalId fences the first while
  // the first has a transaction open (kafkajs takes a new epoch on every
  // transaction(): the fencing happens there).
  const stale = await producer.transaction();
  await stale.send({ topic: topicA, acks: -1, messages: [{ value: 'kjs-zombie-0', partition: 0 }] });
  const second = kafka.producer({ transactionalId: 'kjs-txn', maxInFlightRequests: 1, idempotent: true });
  await second.connect();
  const live = await second.transaction();
  await live.send({ topic: topicA, acks: -1, messages: [{ value: 'kjs-second', partition: 1 }] });
  await live.commit();
  let fenced = '';
  try {
    await stale.send({ topic: topicA, acks: -1, messages: [{ value: 'kjs-zombie-1', partition: 1 }] });
    await stale.commit();
  } catch (e) {
    fenced = e.type || e.name || String(e);
  }
  await second.disconnect();
  await producer.disconnect().catch(() => {});
  console.log(JSON.stringify({ fenced }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
