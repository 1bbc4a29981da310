"""Helpers for the security process tests: test certificates made with the
openssl CLI, HS256 tokens minted with hmac, a SASL_SSL node with users.
Every secret here is generated per test run and lives in its temp dir."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import dmqtest

PASSWORD = "alice-pw-0123456789"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=dmq-test-ca", cwd=d)
    return os.path.join(d, "ca.pem")


def make_server_cert(d, name, cn="localhost"):
    """A certificate for 127.0.0.1/localhost signed by the CA in `d`; returns
    the keystore path (PEM chain then key, as --ssl.keystore.location wants)."""
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={cn}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", "san.ext", cwd=d)
    keystore = os.path.join(d, f"{name}.keystore.pem")
    with open(keystore, "w") as out:
        for part in (f"{name}.crt", f"{name}.key"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())
    return keystore


def make_client_cert(d, name, subject):
    """A client certificate with `subject` (openssl -subj form, e.g.
    "/O=Acme/CN=alice": its RFC 2253 name is "CN=alice,O=Acme") signed by
    the CA in `d`; returns (certificate path, key path) for curl --cert/--key."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", subject, cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", cwd=d)
    return os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")


def secret_file(d, name, data):
    path = os.path.join(d, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    return path


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(secret, sub="carol", exp_in_s=3600, aud="dmq", iss="https://issuer.test"):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    claims = {"sub": sub, "exp": now + exp_in_s, "iat": now, "aud": aud, "iss": iss}
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


class SecureCluster:
    """One combined node serving PLAINTEXT on loopback and SASL_SSL on another
    port, with SCRAM, PLAIN and OAUTHBEARER (HS256) enabled; user alice comes
    from the bootstrap file, bob is created over REST."""

    def __init__(self, w, extra=None):
        self.dir = w.path
        self.ca = make_ca(self.dir)
        self.keystore = make_server_cert(self.dir, "server")
        self.hs_secret = base64.b64encode(os.urandom(48)).decode()
        hs_file = secret_file(self.dir, "hs256.secret", self.hs_secret)
        bootstrap = secret_file(self.dir, "scram-users",
                                f"alice:SCRAM-SHA-512:{PASSWORD}\nalice:SCRAM-SHA-256:{PASSWORD}\n")
        self.plain_port = dmqtest.free_port()
        self.tls_port = dmqtest.free_port()
        self.node = w.node(kafka_port=self.plain_port, extra=[
            f"--listeners=PLAINTEXT://127.0.0.1:{self.plain_port},SASL_SSL://127.0.0.1:{self.tls_port}",
            f"--ssl.keystore.location={self.keystore}",
            "--sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
            f"--sasl.scram.bootstrap.file={bootstrap}",
            f"--sasl.oauthbearer.hs256.secret.file={hs_file}",
            "--sasl.oauthbearer.expected.audience=dmq",
            "--sasl.oauthbearer.expected.issuer=https://issuer.test",
        ] + list(extra or []))
        self.node.start()
        dmqtest.wait_until(lambda: any(u["name"] == "alice" for u in
                                       self.node.get("/v1/scram-users")[1]["users"]),
                           15, what="bootstrap user alice")

    @property
    def tls_bootstrap(self):
        return f"127.0.0.1:{self.tls_port}"

    @property
    def plain_bootstrap(self):
        return f"127.0.0.1:{self.plain_port}"

    def token(self, **kw):
        return hs256_token(self.hs_secret, **kw)

    def rdkafka_scram(self, user="alice", password=PASSWORD, mechanism="SCRAM-SHA-512"):
        return {"bootstrap.servers": self.tls_bootstrap, "security.protocol": "SASL_SSL",
                "sasl.mechanisms": mechanism, "sasl.username": user, "sasl.password": password,
                "ssl.ca.location": self.ca}

    def rdkafka_oauth(self, token):
        return {"bootstrap.servers": self.tls_bootstrap, "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER", "ssl.ca.location": self.ca,
                "oauth_cb": lambda _config: (token, time.time() + 3600)}


def cluster_auth_header(secret, method, target, body=b"", node=1, ts_ms=None, nonce=None):
    """X-DMQ-Cluster-Auth for a request, as a node holding `secret` signs it
    (src/security/cluster_auth.h): HMAC-SHA256 over the canonical text."""
    ts_ms = int(time.time() * 1000) if ts_ms is None else ts_ms
    nonce = b64url(os.urandom(16)) if nonce is None else nonce
    if isinstance(body, str):
        body = body.encode()
    canonical = "\n".join(["DMQ-CLUSTER-AUTH-V1", method, target,
                           b64url(hashlib.sha256(body).digest()), str(ts_ms), nonce, str(node)])
    sig = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()
    return f"v1 node={node},ts={ts_ms},nonce={nonce},sig={b64url(sig)}"


def raw_http(method, url, body=None, headers=None, timeout_s=5, context=None):
    """dmqtest.http with extra headers (e.g. X-DMQ-Cluster-Auth)."""
    return dmqtest.http(method, url, body, timeout_s=timeout_s, context=context, headers=headers)
