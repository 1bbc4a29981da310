"""Client certificates as principals (Kafka's SSL principal builder and
ssl.principal.mapping.rules): REST over HTTPS with --http.ssl.client.auth
authenticates a request without a bearer token by its certificate, ACLs
apply to that principal (200 allowed, 403 other principal, 401 for a
subject no rule maps, no certificate refused at the handshake with
client auth required), /internal/ takes only a cluster member's
certificate, and the Kafka SSL listener maps certificates with the same
rules (curl, confluent_kafka). A broker-only node relays a Kafka client's
CreateTopics to a controller in another process with its own certificate
(no shared secret at all)."""

import os
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import sectest  # noqa: E402
from dmqtest import wait_until  # noqa: E402

from confluent_kafka import KafkaError, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

# alice@Acme -> alice; the nodes' own certificate (CN=localhost) -> node;
# nothing else maps (no DEFAULT): CN=eve,O=Other is refused.
RULES = "RULE:^CN=(.*?),O=Acme$/$1/L,RULE:^CN=localhost$/node/"


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/stderr", "-w",
                           "%{http_code}", *args], capture_output=True, text=True, timeout=30)


class Pki:
    def __init__(self, d):
        self.dir = d
        self.ca = sectest.make_ca(d)
        self.keystore = sectest.make_server_cert(d, "node")
        self.alice = sectest.make_client_cert(d, "alice", "/O=Acme/CN=Alice")
        self.bob = sectest.make_client_cert(d, "bob", "/O=Acme/CN=bob")
        self.admin = sectest.make_client_cert(d, "admin", "/O=Acme/CN=admin")
        self.eve = sectest.make_client_cert(d, "eve", "/O=Other/CN=eve")

    def status(self, who, method, url, body=None):
        """The HTTP status of a curl call with `who`'s certificate (None: none)."""
        args = ["--cacert", self.ca, "-X", method, url]
        if who is not None:
            args += ["--cert", who[0], "--key", who[1]]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "-d", body]
        r = curl(*args)
        return r.stdout if r.returncode == 0 else f"curl exit {r.returncode}: {r.stderr[-200:]}"

    def rdkafka_ssl(self, bootstrap, who):
        return {"bootstrap.servers": bootstrap, "security.protocol": "SSL",
                "ssl.ca.location": self.ca, "ssl.certificate.location": who[0],
                "ssl.key.location": who[1]}


def secure_args(pki, http_port, client_auth="required"):
    return [f"--http.listeners=HTTPS://127.0.0.1:{http_port}",
            f"--ssl.keystore.location={pki.keystore}", f"--ssl.truststore.location={pki.ca}",
            f"--http.ssl.client.auth={client_auth}", f"--ssl.principal.mapping.rules={RULES}",
            "--authorizer.enabled=true", "--super.users=User:admin;User:node"]


def node_context(pki, with_certificate=True):
    """The tests' own HTTPS context; with the nodes' certificate (User:node,
    a super user) by default."""
    ctx = ssl.create_default_context(cafile=pki.ca)
    if with_certificate:
        ctx.load_cert_chain(pki.keystore)
    return ctx


def https_node(w, pki, http_port=None, client_auth="required", extra=(), **kw):
    port = http_port or dmqtest.free_port()
    node = w.node(http_port=port, extra=secure_args(pki, port, client_auth) + list(extra), **kw)
    node.ssl_context = node_context(pki)
    return node


def produce_one(config, topic):
    """None when the record was acknowledged, else the delivery error."""
    errors = []
    p = Producer(dict(config, **{"message.timeout.ms": 10000}))
    p.produce(topic, b"v", on_delivery=lambda err, _msg: errors.append(err))
    p.flush(15)
    return errors[0] if errors else "no delivery report"


def test_rest_certificate_principals():
    with dmqtest.Workdir() as w:
        pki = Pki(w.path)
        ssl_port = dmqtest.free_port()
        plain_port = dmqtest.free_port()
        node = https_node(w, pki, kafka_port=plain_port, extra=[
            f"--listeners=PLAINTEXT://127.0.0.1:{plain_port},SSL://127.0.0.1:{ssl_port}",
            "--ssl.client.auth=required"]).start()
        base = node.url
        # The admin certificate is a super user: it creates a topic and an ACL.
        wait_until(lambda: pki.status(pki.admin, "POST", base + "/v1/topics",
                                      '{"name":"orders","partitions":1,"replication_factor":1}')
                   in ("201", "409"), 20, interval_s=0.3, what="topic created (broker registered)")
        # No ACL yet: alice is authenticated (403, not 401) but not allowed.
        assert pki.status(pki.alice, "GET", base + "/v1/topics/orders") == "403"
        for op in ("DESCRIBE", "WRITE"):
            acl = ('{"principal":"User:alice","host":"*","resource_type":"TOPIC",'
                   '"resource_name":"orders","pattern_type":"LITERAL","operation":"%s",'
                   '"permission_type":"ALLOW"}' % op)
            assert pki.status(pki.admin, "POST", base + "/v1/acls", acl) in ("200", "201")
        wait_until(lambda: pki.status(pki.alice, "GET", base + "/v1/topics/orders") == "200", 10,
                   what="alice's ACL applied")
        # Another principal of the same CA: 403; a subject no rule maps: 401.
        assert pki.status(pki.bob, "GET", base + "/v1/topics/orders") == "403"
        assert pki.status(pki.eve, "GET", base + "/v1/topics/orders") == "401"
        # No certificate with client auth required: refused at the handshake.
        r = pki.status(None, "GET", base + "/v1/topics/orders")
        assert r.startswith("curl exit"), r
        # The health probe stays open to any certificate.
        assert pki.status(pki.eve, "GET", base + "/v1/health") == "200"
        # /internal/: without a cluster secret only a member's certificate
        # (CLUSTER_ACTION; the nodes' principal is a super user) gets in.
        forged = '{"type":"vote","term":99,"from":7,"to":1}'
        assert pki.status(pki.alice, "POST", base + "/internal/raft/messages", forged) == "403"
        assert pki.status(pki.eve, "POST", base + "/internal/raft/messages", forged) == "401"
        assert node.get("/v1/cluster")[1]["term"] < 99

        # The Kafka SSL listener maps certificates with the same rules.
        ssl_bootstrap = f"127.0.0.1:{ssl_port}"
        assert produce_one(pki.rdkafka_ssl(ssl_bootstrap, pki.alice), "orders") is None
        err = produce_one(pki.rdkafka_ssl(ssl_bootstrap, pki.bob), "orders")
        assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, err
        # eve's subject maps to nothing: the connection is closed, nothing is written.
        err = produce_one(pki.rdkafka_ssl(ssl_bootstrap, pki.eve), "orders")
        assert err is not None, err
        wait_until(lambda: "refused connection" in open(node.log_path).read(), 10,
                   what="refusal logged")
        assert "CN=eve" not in open(node.log_path).read()
        # The node still serves the allowed principal.
        assert produce_one(pki.rdkafka_ssl(ssl_bootstrap, pki.alice), "orders") is None


def test_requested_client_auth_and_bearer_optional():
    with dmqtest.Workdir() as w:
        pki = Pki(w.path)
        node = https_node(w, pki, client_auth="requested").start()
        # Requested: no certificate connects, but without a token it is 401.
        assert pki.status(None, "GET", node.url + "/v1/topics") == "401"
        # No bearer-token keys are configured: a token is refused, not trusted.
        r = curl("--cacert", pki.ca, "-H", "Authorization: Bearer e30.e30.sig",
                 node.url + "/v1/topics")
        assert r.stdout == "401", r
        assert pki.status(pki.admin, "GET", node.url + "/v1/topics") == "200"


def test_broker_relays_with_its_certificate():
    """A broker-only node relays a Kafka client's CreateTopics to the
    controller process over HTTPS; with no cluster secret and no HS256
    secret, the controller accepts it on the broker's certificate."""
    with dmqtest.Workdir() as w:
        pki = Pki(w.path)
        cport = dmqtest.free_port()
        voters = f"1@127.0.0.1:{cport}"
        controller = https_node(w, pki, http_port=cport, node_id=1, role="controller",
                                controllers=voters)
        broker = https_node(w, pki, node_id=2, role="broker", controllers=voters)
        controller.start()
        broker.start()
        admin = AdminClient({"bootstrap.servers": broker.kafka})
        wait_until(lambda: broker.get("/v1/brokers")[1]["brokers"], 20, what="broker registered")
        # The PLAINTEXT client is User:ANONYMOUS: give it CREATE on the cluster.
        acl = {"principal": "User:ANONYMOUS", "host": "*", "resource_type": "CLUSTER",
               "resource_name": "kafka-cluster", "pattern_type": "LITERAL",
               "operation": "CREATE", "permission_type": "ALLOW"}
        status, body = broker.post("/v1/acls", acl)
        assert status in (200, 201), (status, body)
        deadline = time.monotonic() + 20
        while True:
            futures = admin.create_topics([NewTopic("relayed", 1, 1)], request_timeout=10)
            try:
                futures["relayed"].result(15)
                break
            except KafkaException as e:
                if time.monotonic() > deadline:
                    raise AssertionError(f"CreateTopics through the broker: {e}\n"
                                         + controller.tail_log())
                time.sleep(0.5)
        wait_until(lambda: controller.get("/v1/topics/relayed")[0] == 200, 10,
                   what="topic at the controller")
        assert "node request signature refused" not in open(controller.log_path).read()


def main():
    dmqtest.run([test_rest_certificate_principals, test_requested_client_auth_and_bearer_optional,
                 test_broker_relays_with_its_certificate])


if __name__ == "__main__":
    main()
