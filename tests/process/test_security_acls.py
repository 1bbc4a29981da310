"""Kafka ACLs and REST bearer tokens with --authorizer.enabled, against real
dmq processes and real clients.

One node with SASL_SSL (SCRAM users admin, alice, bob from the bootstrap
file; admin is a super user): REST refuses requests without a valid token
(401) and without the permission (403); ACLs created with kafka-python's
admin client are listed over REST and the other way round; alice, with READ
on one topic, consumes it but is refused producing to it and does not see
other topics in Metadata; a group she lacks READ on refuses her; DENY wins
over ALLOW; REST listings show each principal only what it may describe;
share-group fetch and ack need READ on their topics; an idempotent
producer whose only WRITE ALLOW a DENY cancels gets
CLUSTER_AUTHORIZATION_FAILED from InitProducerId. Then three nodes: an ACL created over REST on one node takes
effect on every broker within a second, and replication (replica fetches,
CLUSTER_ACTION) keeps working with the authorizer on."""

import json
import os
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer  # noqa: E402

STATE = {}
ISSUER = "https://issuer.test"


def rest(node, method, path, token=None, body=None, raw_auth=None):
    """(status, parsed JSON or text) with an optional bearer token."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if raw_auth is not None:
        headers["Authorization"] = raw_auth
    request = urllib.request.Request(node.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    text = raw.decode()
    return status, (json.loads(text) if "json" in ctype else text)


def acl(principal, resource_type, name, operation, permission="ALLOW", pattern="LITERAL"):
    return {"principal": principal, "host": "*", "resource_type": resource_type,
            "resource_name": name, "pattern_type": pattern, "operation": operation,
            "permission_type": permission}


class AclNode:
    """One combined node: PLAINTEXT on loopback, SASL_SSL with SCRAM, the
    authorizer on with admin as super user, REST tokens signed with HS256."""

    def __init__(self, w):
        d = w.path
        self.ca = sectest.make_ca(d)
        keystore = sectest.make_server_cert(d, "server")
        self.secret = sectest.b64url(os.urandom(48))
        hs_file = sectest.secret_file(d, "hs256.secret", self.secret)
        users = "".join(f"{u}:SCRAM-SHA-512:{u}-pw-0123456789\n" for u in ("admin", "alice", "bob"))
        bootstrap = sectest.secret_file(d, "scram-users", users)
        self.plain_port = dmqtest.free_port()
        self.tls_port = dmqtest.free_port()
        self.node = w.node(kafka_port=self.plain_port, extra=[
            f"--listeners=PLAINTEXT://127.0.0.1:{self.plain_port},SASL_SSL://127.0.0.1:{self.tls_port}",
            f"--ssl.keystore.location={keystore}",
            "--sasl.enabled.mechanisms=SCRAM-SHA-512",
            f"--sasl.scram.bootstrap.file={bootstrap}",
            f"--sasl.oauthbearer.hs256.secret.file={hs_file}",
            "--sasl.oauthbearer.expected.audience=dmq",
            f"--sasl.oauthbearer.expected.issuer={ISSUER}",
            "--authorizer.enabled=true", "--super.users=User:admin",
        ])
        self.node.start()
        dmqtest.wait_until(lambda: len(rest(self.node, "GET", "/v1/scram-users",
                                            self.token("admin"))[1]["users"]) == 3,
                           15, what="bootstrap users")
        dmqtest.wait_until(lambda: any(b["status"] == "alive" for b in rest(
            self.node, "GET", "/v1/brokers", self.token("admin"))[1]["brokers"]),
                           15, what="the broker registered")

    def token(self, sub, **kw):
        return sectest.hs256_token(self.secret, sub=sub, iss=ISSUER, **kw)

    def rdkafka(self, user, **extra):
        return {"bootstrap.servers": f"127.0.0.1:{self.tls_port}", "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": user,
                "sasl.password": f"{user}-pw-0123456789", "ssl.ca.location": self.ca, **extra}

    def kafka_python(self, user):
        return dict(bootstrap_servers=f"127.0.0.1:{self.tls_port}", security_protocol="SASL_SSL",
                    ssl_cafile=self.ca, sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user,
                    sasl_plain_password=f"{user}-pw-0123456789")


def produce(config, topic, values):
    """Returns the delivery errors (empty when every value was acknowledged)."""
    p = Producer({**config, "acks": "all", "message.timeout.ms": 10000})
    errors = []
    for v in values:
        p.produce(topic, v.encode(), on_delivery=lambda e, m: errors.append(e) if e else None)
    p.flush(30)
    return errors


def consume(config, topic, count, group):
    """(values, errors) reading `topic` from the start with a subscribing consumer."""
    c = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    got, errors = [], []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(got) < count and not errors:
        for m in c.consume(num_messages=100, timeout=0.5):
            if m.error():
                errors.append(m.error())
            else:
                got.append(m.value().decode())
    c.close()
    return got, errors


def test_rest_requires_a_valid_token():
    c = STATE["c"]
    n = c.node
    status, body = rest(n, "GET", "/v1/health")
    assert status == 200 and body["status"] == "ok", body
    status, _ = rest(n, "GET", "/metrics")
    assert status == 200, "metrics are open unless --metrics.require.auth"
    status, body = rest(n, "GET", "/v1/topics")
    assert status == 401 and body["error"]["code"] == "unauthorized", body
    status, body = rest(n, "GET", "/v1/topics", raw_auth="Basic YWRtaW46eA==")
    assert status == 401, body
    other = sectest.hs256_token("another-secret-of-enough-length-0123456789", sub="admin", iss=ISSUER)
    status, body = rest(n, "GET", "/v1/topics", token=other)
    assert status == 401 and body["error"]["code"] == "bad_signature", body
    status, body = rest(n, "GET", "/v1/topics", token=c.token("admin", exp_in_s=-120))
    assert status == 401 and body["error"]["code"] == "token_expired", body
    status, body = rest(n, "GET", "/v1/topics", token=c.token("admin", aud="elsewhere"))
    assert status == 401, body
    # A valid token without the permission: 403; the super user: 200.
    status, body = rest(n, "GET", "/v1/brokers", token=c.token("carol"))
    assert status == 403 and body["error"]["code"] == "forbidden", body
    status, body = rest(n, "POST", "/v1/topics", c.token("carol"), {"name": "carols"})
    assert status == 403, body
    status, _ = rest(n, "GET", "/v1/topics", token=c.token("admin"))
    assert status == 200
    for name in ("t-read", "t-other", "deny-x", "deny-y"):
        status, body = rest(n, "POST", "/v1/topics", c.token("admin"),
                            {"name": name, "partitions": 1, "replication_factor": 1})
        assert status == 201, body
    # With an ACL, carol may describe one topic and nothing else.
    status, body = rest(n, "POST", "/v1/acls", c.token("admin"),
                        acl("User:carol", "TOPIC", "t-read", "DESCRIBE"))
    assert status == 201, body
    status, body = rest(n, "GET", "/v1/topics/t-read", token=c.token("carol"))
    assert status == 200 and body["name"] == "t-read", body
    status, body = rest(n, "GET", "/v1/topics/t-other", token=c.token("carol"))
    assert status == 403, body
    status, body = rest(n, "DELETE", "/v1/topics/t-read", token=c.token("carol"))
    assert status == 403, body
    # Bad ACL bodies get a JSON 400 naming the problem.
    status, body = rest(n, "POST", "/v1/acls", c.token("admin"), {"principal": "alice"})
    assert status == 400 and body["error"]["code"] == "invalid_acl", body
    status, body = rest(n, "POST", "/v1/acls", c.token("admin"), ["not", "an", "object"])
    assert status == 400, body


def kp_acl(principal, rtype, name, op, perm="ALLOW", pattern="LITERAL"):
    from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                             ResourcePattern, ResourceType)
    return ACL(principal=principal, host="*", operation=getattr(ACLOperation, op),
               permission_type=getattr(ACLPermissionType, perm),
               resource_pattern=ResourcePattern(getattr(ResourceType, rtype), name,
                                                getattr(ACLResourcePatternType, pattern)))


def kp_filter(principal=None, rtype="ANY", name=None):
    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                             ResourcePatternFilter, ResourceType)
    return ACLFilter(principal=principal, host=None, operation=ACLOperation.ANY,
                     permission_type=ACLPermissionType.ANY,
                     resource_pattern=ResourcePatternFilter(getattr(ResourceType, rtype), name,
                                                            ACLResourcePatternType.ANY))


def rest_acls(c, query=""):
    status, body = rest(c.node, "GET", "/v1/acls" + query, c.token("admin"))
    assert status == 200, body
    return body["acls"]


def test_acls_between_kafka_python_and_rest():
    from kafka.admin import KafkaAdminClient
    c = STATE["c"]
    admin = KafkaAdminClient(**c.kafka_python("admin"))
    try:
        result = admin.create_acls([kp_acl("User:alice", "TOPIC", "t-read", "READ"),
                                    kp_acl("User:alice", "GROUP", "g-alice", "READ")])
        assert not result["failed"], result
        listed = rest_acls(c, "?principal=User:alice")
        assert acl("User:alice", "TOPIC", "t-read", "READ") in listed, listed
        assert acl("User:alice", "GROUP", "g-alice", "READ") in listed, listed
        # Created over REST, seen by the Kafka admin client.
        status, body = rest(c.node, "POST", "/v1/acls", c.token("admin"),
                            acl("User:bob", "TOPIC", "bob-", "WRITE", pattern="PREFIXED"))
        assert status == 201, body
        acls, error = admin.describe_acls(kp_filter("User:bob"))
        assert error.errno == 0, error
        assert [(a.principal, a.resource_pattern.resource_name, a.operation.name,
                 a.resource_pattern.pattern_type.name) for a in acls] == \
            [("User:bob", "bob-", "WRITE", "PREFIXED")], acls
        # Deleted with the admin client, gone from REST.
        deleted = admin.delete_acls([kp_filter("User:bob")])
        assert len(deleted[0][1]) == 1 and deleted[0][2].errno == 0, deleted
        assert rest_acls(c, "?principal=User:bob") == []
        # alice may not manage ACLs: CLUSTER_AUTHORIZATION_FAILED.
        alice = KafkaAdminClient(**c.kafka_python("alice"))
        try:
            result = alice.create_acls([kp_acl("User:alice", "TOPIC", "t-other", "READ")])
            assert result["failed"] and not result["succeeded"], result
            assert "ClusterAuthorization" in repr(result["failed"]), result
        finally:
            alice.close()
    finally:
        admin.close()


def test_acls_between_kafkajs_and_rest():
    import subprocess
    from test_kafka_kafkajs import CLIENTS, ensure_kafkajs
    c = STATE["c"]
    ensure_kafkajs()
    status, body = rest(c.node, "POST", "/v1/acls", c.token("admin"),
                        acl("User:dave", "GROUP", "js-group", "READ"))
    assert status == 201, body
    r = subprocess.run(["node", os.path.join(CLIENTS, "kafkajs_acls.js"), f"127.0.0.1:{c.tls_port}",
                        c.ca, "admin", "admin-pw-0123456789", "User:dave", "js-topic"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    seen = sorted((res["resourceType"], res["resourceName"], a["operation"], a["permissionType"])
                  for res in json.loads(r.stdout) for a in res["acls"])
    assert seen == [(2, "js-topic", 3, 3), (3, "js-group", 3, 3)], seen
    assert acl("User:dave", "TOPIC", "js-topic", "READ") in rest_acls(c, "?principal=User:dave")


def test_read_only_principal():
    c = STATE["c"]
    assert produce(c.rdkafka("admin"), "t-read", [f"r{i}" for i in range(5)]) == []
    assert produce(c.rdkafka("admin"), "t-other", ["o"]) == []
    got, errors = consume(c.rdkafka("alice"), "t-read", 5, "g-alice")
    assert got == [f"r{i}" for i in range(5)] and not errors, (got, errors)
    errors = produce(c.rdkafka("alice"), "t-read", ["nope"])
    assert errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, errors
    # Metadata lists only the topics alice may describe (READ implies DESCRIBE).
    p = Producer(c.rdkafka("alice"))
    topics = set(p.list_topics(timeout=10).topics)
    assert topics == {"t-read"}, topics
    admin_topics = set(Producer(c.rdkafka("admin")).list_topics(timeout=10).topics)
    assert {"t-read", "t-other", "deny-x"} <= admin_topics, admin_topics
    got, errors = consume(c.rdkafka("alice"), "t-other", 1, "g-alice")
    assert not got and errors, (got, errors)
    assert errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, errors


def test_alter_configs_needs_alter_configs():
    """AlterConfigs: alice (READ on t-read only) is refused with
    TOPIC_AUTHORIZATION_FAILED and nothing changes; the super user may."""
    from confluent_kafka.admin import AdminClient, ConfigResource
    c = STATE["c"]
    res = ConfigResource(ConfigResource.Type.TOPIC, "t-read", set_config={"retention.ms": "1234"})
    alice = AdminClient(c.rdkafka("alice"))  # kept alive until its future is done
    try:
        alice.alter_configs([res])[res].result(10)
        raise AssertionError("alice altered t-read's configs")
    except Exception as e:  # KafkaException carrying the KafkaError
        err = e.args[0] if e.args else None
        assert getattr(err, "code", lambda: None)() == KafkaError.TOPIC_AUTHORIZATION_FAILED, e
    admin = AdminClient(c.rdkafka("admin"))
    described = ConfigResource(ConfigResource.Type.TOPIC, "t-read")
    assert admin.describe_configs([described])[described].result(10)["retention.ms"].value != "1234"
    admin.alter_configs([res])[res].result(10)
    assert admin.describe_configs([described])[described].result(10)["retention.ms"].value == "1234"


def test_group_without_read_is_refused():
    c = STATE["c"]
    got, errors = consume(c.rdkafka("alice"), "t-read", 5, "g-forbidden")
    assert not got and errors, (got, errors)
    assert errors[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED, errors


def test_deny_wins_over_allow():
    c = STATE["c"]
    tok = c.token("admin")
    for binding in (acl("User:bob", "TOPIC", "deny-", "READ", pattern="PREFIXED"),
                    acl("User:bob", "GROUP", "g-bob", "READ"),
                    acl("User:*", "TOPIC", "deny-x", "READ", permission="DENY")):
        status, body = rest(c.node, "POST", "/v1/acls", tok, binding)
        assert status == 201, body
    for topic in ("deny-x", "deny-y"):
        assert produce(c.rdkafka("admin"), topic, [topic]) == []
    got, errors = consume(c.rdkafka("bob"), "deny-y", 1, "g-bob")
    assert got == ["deny-y"] and not errors, (got, errors)
    got, errors = consume(c.rdkafka("bob"), "deny-x", 1, "g-bob")
    assert not got and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (got, errors)
    # Deleting the DENY over REST lets bob read it.
    status, body = rest(c.node, "DELETE",
                        "/v1/acls?principal=User:*&resource_name=deny-x&permission_type=DENY", tok)
    assert status == 200 and len(body["deleted"]) == 1, body
    got, errors = consume(c.rdkafka("bob"), "deny-x", 1, "g-bob")
    assert got == ["deny-x"], (got, errors)


def test_lists_filter_item_by_item():
    """GET /v1/topics and /v1/groups show a principal what it may DESCRIBE
    (Kafka's Metadata and ListGroups), not all or nothing on the cluster."""
    c = STATE["c"]
    admin, gina = c.token("admin"), c.token("gina")
    status, body = rest(c.node, "GET", "/v1/topics", gina)
    assert status == 200 and body["topics"] == [], (status, body)
    status, body = rest(c.node, "POST", "/v1/acls", admin, acl("User:gina", "TOPIC", "t-read",
                                                                "DESCRIBE"))
    assert status == 201, body
    dmqtest.wait_until(lambda: [t["name"] for t in rest(c.node, "GET", "/v1/topics", gina)[1]
                                ["topics"]] == ["t-read"], 10, what="gina sees t-read only")
    everything = [t["name"] for t in rest(c.node, "GET", "/v1/topics", admin)[1]["topics"]]
    assert "t-read" in everything and len(everything) > 1, everything
    # Groups: alice's group g-alice exists (she consumed with it); gina sees none of them.
    all_groups = [g["group_id"] for g in rest(c.node, "GET", "/v1/groups", admin)[1]["groups"]]
    assert all_groups, all_groups
    status, body = rest(c.node, "GET", "/v1/groups", gina)
    assert status == 200 and body["groups"] == [], (status, body)
    shown = all_groups[0]
    assert rest(c.node, "POST", "/v1/acls", admin, acl("User:gina", "GROUP", shown,
                                                       "DESCRIBE"))[0] == 201
    dmqtest.wait_until(lambda: [g["group_id"] for g in rest(c.node, "GET", "/v1/groups", gina)[1]
                                ["groups"]] == [shown], 10, what="gina sees one group")
    # Without a token: still 401.
    assert rest(c.node, "GET", "/v1/topics")[0] == 401


def test_share_fetch_needs_read_on_the_topic():
    c = STATE["c"]
    admin, frank = c.token("admin"), c.token("frank")
    assert rest(c.node, "POST", "/v1/acls", admin, acl("User:frank", "GROUP", "sg-frank",
                                                       "READ"))[0] == 201
    fetch = {"topics": ["t-read"], "max_records": 1, "wait_ms": 0}
    status, body = rest(c.node, "POST", "/v1/share-groups/sg-frank/fetch", frank, fetch)
    assert status == 403 and body["error"]["code"] == "forbidden", (status, body)
    ack = {"acks": [{"topic": "t-read", "partition": 0, "offset": 0, "type": "accept"}]}
    status, body = rest(c.node, "POST", "/v1/share-groups/sg-frank/ack", frank, ack)
    assert status == 403, (status, body)
    assert rest(c.node, "POST", "/v1/acls", admin, acl("User:frank", "TOPIC", "t-read",
                                                       "READ"))[0] == 201
    dmqtest.wait_until(lambda: rest(c.node, "POST", "/v1/share-groups/sg-frank/fetch", frank,
                                    fetch)[0] == 200, 10, what="frank may share-fetch t-read")
    # READ on the topic alone is not enough either: the group is checked too.
    status, body = rest(c.node, "POST", "/v1/share-groups/sg-other/fetch", frank, fetch)
    assert status == 403, (status, body)


def test_http_consumer_needs_read_on_the_topic():
    """An HTTP consumer instance subscribes and commits as a Kafka consumer
    does: READ on the group is not enough, each topic needs READ too."""
    c = STATE["c"]
    admin, henry = c.token("admin"), c.token("henry")
    assert rest(c.node, "POST", "/v1/acls", admin, acl("User:henry", "GROUP", "hc-henry",
                                                       "READ"))[0] == 201
    dmqtest.wait_until(lambda: rest(c.node, "POST", "/v1/consumers/hc-henry", henry,
                                    {"name": "i1"})[0] in (200, 409), 10,
                       what="henry may create a consumer instance in hc-henry")
    sub = "/v1/consumers/hc-henry/instances/i1/subscription"
    status, body = rest(c.node, "POST", sub, henry, {"topics": ["t-other"]})
    assert status == 403 and body["error"]["code"] == "forbidden", (status, body)
    commit = {"offsets": [{"topic": "t-other", "partition": 0, "offset": 0}]}
    status, body = rest(c.node, "POST", "/v1/consumers/hc-henry/instances/i1/offsets", henry,
                        commit)
    assert status == 403, (status, body)
    assert rest(c.node, "POST", "/v1/acls", admin, acl("User:henry", "TOPIC", "t-other",
                                                       "READ"))[0] == 201
    dmqtest.wait_until(lambda: rest(c.node, "POST", sub, henry, {"topics": ["t-other"]})[0]
                       in (200, 204), 10, what="henry may subscribe to t-other")
    rest(c.node, "DELETE", "/v1/consumers/hc-henry/instances/i1", henry)


def test_idempotent_producer_deny_wins():
    """InitProducerId's "WRITE on some topic" weighs DENY (KIP-679): bob's
    only WRITE ALLOW is cancelled by a DENY on the same name, so an
    idempotent producer of his gets CLUSTER_AUTHORIZATION_FAILED."""
    c = STATE["c"]
    admin = c.token("admin")
    for binding in (acl("User:bob", "TOPIC", "idem-t", "WRITE"),
                    acl("User:bob", "TOPIC", "idem-t", "DESCRIBE")):
        assert rest(c.node, "POST", "/v1/acls", admin, binding)[0] == 201
    assert produce(c.rdkafka("admin"), "idem-t", ["first"]) == []
    # The node's own metadata view has the ACLs before a client asks.
    dmqtest.wait_until(lambda: len(rest_acls(c, "?principal=User:bob&resource_name=idem-t")) == 2,
                       10, what="bob's ALLOW applied")
    assert produce(c.rdkafka("bob", **{"enable.idempotence": True}), "idem-t", ["b1"]) == []
    deny = acl("User:bob", "TOPIC", "idem-t", "WRITE", permission="DENY")
    assert rest(c.node, "POST", "/v1/acls", admin, deny)[0] == 201
    dmqtest.wait_until(lambda: deny in rest_acls(c, "?principal=User:bob&resource_name=idem-t"),
                       10, what="bob's DENY applied")
    fatal = []
    p = Producer({**c.rdkafka("bob"), "enable.idempotence": True, "acks": "all",
                  "message.timeout.ms": 10000, "error_cb": fatal.append})
    errors = []
    p.produce("idem-t", b"b2", on_delivery=lambda e, m: errors.append(e))
    try:
        p.flush(15)
    except KafkaException as e:  # librdkafka raises the fatal idempotence error
        errors.append(e.args[0])
    # librdkafka reports it as a FATAL error whose code is the broker's.
    seen = [str(e) for e in fatal + errors if e is not None]
    assert any(e.code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED or
               "code=CLUSTER_AUTHORIZATION_FAILED" in str(e)
               for e in fatal + errors if e is not None), seen


def alter_scram_raw(address, user, password, iterations=4096):
    """AlterUserScramCredentials v0 (flexible) upserting one SCRAM-SHA-512
    credential, by hand (none of the Python clients here has the API). The
    client sends salt and salted password, never the password. Returns the
    user's error code."""
    import hashlib
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)

    def compact(b):
        return bytes([len(b) + 1]) + b

    body = struct.pack(">hhih", 51, 0, 13, 4) + b"test" + b"\x00"  # header v2
    body += b"\x01"  # no deletions
    body += b"\x02" + compact(user.encode()) + struct.pack(">bi", 2, iterations)
    body += compact(salt) + compact(salted) + b"\x00" + b"\x00"
    with socket.create_connection(address, timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        data = s.recv(size, socket.MSG_WAITALL)
    at = 4 + 1 + 4  # correlation id, header tags, throttle
    assert data[at] == 2, data  # one result
    n = data[at + 1] - 1
    assert data[at + 2:at + 2 + n].decode() == user
    return struct.unpack_from(">h", data, at + 2 + n)[0]


def test_alter_user_scram_credentials_over_kafka():
    c = STATE["c"]
    address = ("127.0.0.1", c.plain_port)
    assert alter_scram_raw(address, "erin", "erin-pw-0123456789") == 31  # CLUSTER_AUTHORIZATION_FAILED
    grant = acl("User:ANONYMOUS", "CLUSTER", "kafka-cluster", "ALTER")
    status, body = rest(c.node, "POST", "/v1/acls", c.token("admin"), grant)
    assert status == 201, body
    assert alter_scram_raw(address, "erin", "erin-pw-0123456789") == 0
    assert alter_scram_raw(address, "erin", "erin-pw-0123456789", iterations=100) == 93
    status, body = rest(c.node, "DELETE", "/v1/acls?principal=User:ANONYMOUS&operation=ALTER",
                        c.token("admin"))
    assert status == 200 and len(body["deleted"]) == 1, body
    # erin authenticates with the password only the client knew.
    config = {**c.rdkafka("erin"), "sasl.password": "erin-pw-0123456789"}
    assert Producer(config).list_topics(timeout=10).topics == {}
    text = open(c.node.log_path, errors="replace").read()
    assert "erin-pw-0123456789" not in text


def metadata_error(address, topic):
    """Metadata v1 for one topic over a raw PLAINTEXT connection (principal
    User:ANONYMOUS, answered by that broker alone): the topic's error code."""
    name = topic.encode()
    body = struct.pack(">hhih", 3, 1, 7, 4) + b"test" + struct.pack(">ih", 1, len(name)) + name
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        data = s.recv(size, socket.MSG_WAITALL)
    at = 4
    (brokers,) = struct.unpack_from(">i", data, at)
    at += 4
    for _ in range(brokers):
        at += 4
        (n,) = struct.unpack_from(">h", data, at)
        at += 2 + n + 4
        (n,) = struct.unpack_from(">h", data, at)
        at += 2 + max(n, 0)
    at += 4  # controller id
    (count,) = struct.unpack_from(">i", data, at)
    assert count == 1, count
    return struct.unpack_from(">h", data, at + 4)[0]


def test_acl_reaches_every_broker_within_a_second():
    with dmqtest.Workdir() as w:
        secret = sectest.b64url(os.urandom(48))
        hs_file = sectest.secret_file(w.path, "hs256.secret", secret)
        nodes, _ = dmqtest.voter_nodes(w, 3, extra=[
            f"--sasl.oauthbearer.hs256.secret.file={hs_file}", "--authorizer.enabled=true",
            "--super.users=User:admin", "--default.replication.factor=3"])
        dmqtest.start_all(nodes)
        tok = sectest.hs256_token(secret, sub="admin", iss=ISSUER)
        # Replica fetches on the PLAINTEXT listener come from User:ANONYMOUS:
        # CLUSTER_ACTION lets them through, as in Kafka.
        status, body = dmqtest.wait_until(
            lambda: (lambda r: r if r[0] == 201 else None)(
                rest(nodes[1], "POST", "/v1/acls", tok,
                     acl("User:ANONYMOUS", "CLUSTER", "kafka-cluster", "CLUSTER_ACTION"))),
            20, what="a controller leader")
        status, body = dmqtest.wait_until(
            lambda: (lambda r: r if r[0] == 201 else None)(
                rest(nodes[2], "POST", "/v1/topics", tok,
                     {"name": "t3", "partitions": 1, "replication_factor": 3})),
            20, what="three registered brokers")
        for n in nodes:
            dmqtest.wait_until(lambda: metadata_error(("127.0.0.1", n.kafka_port), "t3") == 29, 10,
                               what=f"node {n.node_id} refusing t3")
        start = time.monotonic()
        status, body = rest(nodes[0], "POST", "/v1/acls", tok,
                            acl("User:ANONYMOUS", "TOPIC", "t", "ALL", pattern="PREFIXED"))
        assert status == 201, body
        for n in nodes:
            dmqtest.wait_until(lambda: metadata_error(("127.0.0.1", n.kafka_port), "t3") == 0, 5,
                               interval_s=0.02, what=f"node {n.node_id} allowing t3")
            elapsed = time.monotonic() - start
            print(f"   node {n.node_id} enforces the new ACL {elapsed * 1000:.0f} ms after POST", flush=True)
            assert elapsed < 1.0, f"node {n.node_id} applied the ACL after {elapsed:.2f}s"
        status, body = rest(nodes[2], "POST", "/v1/acls", tok,
                            acl("User:ANONYMOUS", "GROUP", "t", "ALL", pattern="PREFIXED"))
        assert status == 201, body
        # acks=all completes only if both followers fetch: replication works.
        config = {"bootstrap.servers": nodes[0].kafka}
        assert produce(config, "t3", [f"v{i}" for i in range(20)]) == []
        got, errors = consume(config, "t3", 20, "t-group")
        assert got == [f"v{i}" for i in range(20)], (got, errors)


def main():
    with dmqtest.Workdir() as w:
        STATE["c"] = AclNode(w)
        dmqtest.run([test_rest_requires_a_valid_token, test_acls_between_kafka_python_and_rest,
                     test_acls_between_kafkajs_and_rest, test_read_only_principal, test_alter_configs_needs_alter_configs,
                     test_group_without_read_is_refused,
                     test_deny_wins_over_allow, test_lists_filter_item_by_item,
                     test_share_fetch_needs_read_on_the_topic, test_http_consumer_needs_read_on_the_topic,
                     test_idempotent_producer_deny_wins,
                     test_alter_user_scram_credentials_over_kafka])
    dmqtest.run([test_acl_reaches_every_broker_within_a_second])


if __name__ == "__main__":
    main()
