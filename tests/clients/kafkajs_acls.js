// kafkajs 2.2.4 ACL administration over SASL_SSL (SCRAM-SHA-512): creates
// READ on topic <topic> for <principal>, then prints every ACL of that
// principal as DescribeAcls answers them, or exits 1 with the error.
// Usage: node kafkajs_acls.js <bootstrap> <ca.pem> <user> <password> <principal> <topic>
const fs = require('fs');
const {
  Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes,
} = require('kafkajs');

async function main() {
  const [bootstrap, ca, user, password, principal, topic] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'dmq-acl-test',
    brokers: [bootstrap],
    ssl: { ca: [fs.readFileSync(ca, 'utf-8')], servername: 'localhost' },
    sasl: { mechanism: 'scram-sha-512', username: user, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createAcls({
    acl: [{
      resourceType: AclResourceTypes.TOPIC, resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL, principal, host: '*',
      operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW,
    }],
  });
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal,
    host: '*', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  await admin.disconnect();
  console.log(JSON.stringify(described.resources));
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
