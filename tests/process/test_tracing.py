#!/usr/bin/env python3
"""Tracing over OTLP/HTTP with JSON bodies: a small OTLP receiver collects what
a node exports, and the test checks the spans and their parent links — a REST
call continues the caller's W3C traceparent and its Raft commit is its child;
a Kafka produce (confluent-kafka, acks=all) continues the traceparent the
client put in the record's headers and has children for receive, append,
group commit and replication wait; a consumer's fetch has a span. With the
sampler ratio at 0, only traces a caller sampled are recorded; an unreachable
collector costs spans (counted), never the node."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dmqtest import Workdir, free_port, run, start_all, voter_nodes, wait_until

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Receiver:
    """Collects every span posted to /v1/traces."""

    def __init__(self):
        self.spans = []
        self.paths = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                doc = json.loads(body)
                with receiver.lock:
                    receiver.paths.append((self.path, self.headers.get("Content-Type")))
                    for rs in doc["resourceSpans"]:
                        attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
                        for ss in rs["scopeSpans"]:
                            for span in ss["spans"]:
                                span["resource"] = attrs
                                receiver.spans.append(span)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def find(self, pred):
        with self.lock:
            return [s for s in self.spans if pred(s)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def attr(span, key):
    for a in span.get("attributes", []):
        if a["key"] == key:
            v = a["value"]
            return v.get("stringValue", v.get("intValue"))
    return None


def start_node(w, *extra, node_id=1):
    node = w.node(node_id=node_id, extra=list(extra)).start()
    wait_until(lambda: any(b["status"] == "alive" for b in node.get("/v1/brokers")[1]["brokers"]), 20,
               what="the broker registered")
    return node


def traceparent(span_id=PARENT_ID, flags="01"):
    return f"00-{TRACE_ID}-{span_id}-{flags}"


def test_rest_and_raft_spans():
    receiver = Receiver()
    try:
        with Workdir() as w:
            node = start_node(w, f"--otel.exporter.otlp.endpoint=http://127.0.0.1:{receiver.port}")
            status, _ = node.post("/v1/topics", {"name": "traced", "partitions": 1, "replication_factor": 1},
                                  headers={"traceparent": traceparent()})
            assert status in (200, 201), status
            rest = wait_until(lambda: receiver.find(
                lambda s: s["traceId"] == TRACE_ID and s["name"].startswith("POST ")), 15,
                what="the REST call's span")[0]
            assert rest["parentSpanId"] == PARENT_ID, rest
            assert rest["kind"] == 2, rest  # SERVER
            assert attr(rest, "url.path") == "/v1/topics", rest
            assert attr(rest, "http.response.status_code") in ("200", "201"), rest
            assert rest["resource"]["service.name"]["stringValue"] == "dmq"
            assert rest["resource"]["service.instance.id"]["stringValue"] == "1"
            assert int(rest["endTimeUnixNano"]) >= int(rest["startTimeUnixNano"]) > 0
            commit = wait_until(lambda: receiver.find(
                lambda s: s["name"] == "raft.commit" and s.get("parentSpanId") == rest["spanId"]), 15,
                what="the Raft commit under the REST call")[0]
            assert commit["traceId"] == TRACE_ID
            assert int(attr(commit, "raft.index")) > 0, commit
            assert receiver.paths[0] == ("/v1/traces", "application/json"), receiver.paths[0]
            print(f"REST span {rest['spanId']} -> raft.commit {commit['spanId']}")
    finally:
        receiver.close()


def test_produce_and_fetch_spans():
    from confluent_kafka import Consumer, Producer
    receiver = Receiver()
    try:
        with Workdir() as w:
            node = start_node(w, f"--otel.exporter.otlp.endpoint=http://127.0.0.1:{receiver.port}")
            assert node.post("/v1/topics", {"name": "orders", "partitions": 1, "replication_factor": 1})[0] in (200, 201)
            producer = Producer({"bootstrap.servers": node.kafka, "acks": "all", "linger.ms": 0,
                                 "compression.type": "none"})
            sent_parent = "a1b2c3d4e5f60718"
            producer.produce("orders", value=b"v", headers=[("traceparent", traceparent(sent_parent).encode())])
            assert producer.flush(15) == 0
            produce = wait_until(lambda: receiver.find(
                lambda s: s["name"] == "kafka.produce" and s["traceId"] == TRACE_ID), 15,
                what="the produce span")[0]
            assert produce["parentSpanId"] == sent_parent, produce
            assert attr(produce, "kafka.acks") == "-1", produce
            assert attr(produce, "messaging.destination.name") == "orders", produce
            stages = {"receive", "append", "group_commit", "replication_wait"}

            def children_of_produce():
                found = {s["name"]: s for s in receiver.find(lambda s: s.get("parentSpanId") == produce["spanId"])}
                return found if found.keys() >= stages else None
            try:
                children = wait_until(children_of_produce, 15, what="the produce's stages")
            except AssertionError:
                print("children found:", [s["name"] for s in receiver.find(
                    lambda s: s.get("parentSpanId") == produce["spanId"])])
                raise
            for name, child in children.items():
                assert child["traceId"] == TRACE_ID
                assert int(produce["startTimeUnixNano"]) <= int(child["startTimeUnixNano"]), (name, child)
                assert int(child["endTimeUnixNano"]) <= int(produce["endTimeUnixNano"]), (name, child)
            assert int(children["append"]["endTimeUnixNano"]) <= int(children["group_commit"]["endTimeUnixNano"])
            print("produce stages:", sorted(children))

            consumer = Consumer({"bootstrap.servers": node.kafka, "group.id": "g", "auto.offset.reset": "earliest"})
            consumer.subscribe(["orders"])
            got = None
            for _ in range(30):
                got = consumer.poll(1)
                if got is not None and got.error() is None:
                    break
            consumer.close()
            assert got is not None and got.value() == b"v"
            fetch = wait_until(lambda: receiver.find(
                lambda s: s["name"] == "kafka.fetch" and int(attr(s, "kafka.fetch.bytes") or 0) > 0), 15,
                what="a fetch span that returned records")[0]
            assert fetch["kind"] == 2 and "parentSpanId" not in fetch, fetch
    finally:
        receiver.close()


def test_relayed_rest_call_names_the_relaying_span_as_parent():
    """A REST call a node relays to the node that serves it (here an HTTP
    consume sent to the node that does not lead the partition) carries the
    relaying node's span as traceparent: the serving node's span is its child,
    in the caller's trace."""
    receiver = Receiver()
    try:
        with Workdir() as w:
            nodes, _ = voter_nodes(w, 2, extra=[
                f"--otel.exporter.otlp.endpoint=http://127.0.0.1:{receiver.port}"])
            start_all(nodes)
            first = nodes[0]
            wait_until(lambda: sum(b["status"] == "alive"
                                   for b in first.get("/v1/brokers")[1]["brokers"]) == 2,
                       30, what="both brokers registered")
            wait_until(lambda: first.post("/v1/topics", {"name": "relayed", "partitions": 1,
                                                         "replication_factor": 1})[0] in (200, 201),
                       20, interval_s=0.2, what="topic created")
            leader = wait_until(lambda: first.get("/v1/topics/relayed")[1]["partitions"][0]["leader"]
                                if first.get("/v1/topics/relayed")[1]["partitions"][0]["leader"] > 0
                                else None, 20, what="a leader")
            relay = next(n for n in nodes if n.node_id != leader)
            path = "/v1/topics/relayed/partitions/0/records"
            wait_until(lambda: relay.get(path + "?offset=0",
                                         headers={"traceparent": traceparent()})[0] == 200,
                       20, what="the relayed consume")

            def linked():
                outer = receiver.find(lambda s: s["traceId"] == TRACE_ID
                                      and s.get("parentSpanId") == PARENT_ID
                                      and attr(s, "url.path") == path
                                      and s["resource"]["service.instance.id"]["stringValue"]
                                      == str(relay.node_id))
                for o in outer:
                    inner = receiver.find(lambda s: s.get("parentSpanId") == o["spanId"]
                                          and attr(s, "url.path") == path)
                    if inner:
                        return o, inner[0]
                return None
            outer, inner = wait_until(linked, 20, what="the serving node's span under the relay's")
            assert inner["traceId"] == TRACE_ID, inner
            assert inner["resource"]["service.instance.id"]["stringValue"] == str(leader), inner
            assert inner["kind"] == 2, inner  # SERVER, on the leader
    finally:
        receiver.close()


def test_sampler_ratio_zero_and_unreachable_collector():
    receiver = Receiver()
    try:
        with Workdir() as w:
            node = start_node(w, f"--otel.exporter.otlp.endpoint=http://127.0.0.1:{receiver.port}",
                              "--otel.traces.sampler.ratio=0")
            assert node.get("/v1/topics")[0] == 200  # a root span: not sampled at ratio 0
            assert node.get("/v1/brokers", headers={"traceparent": traceparent(flags="00")})[0] == 200
            assert node.get("/v1/cluster", headers={"traceparent": traceparent()})[0] == 200
            wait_until(lambda: receiver.find(lambda s: attr(s, "url.path") == "/v1/cluster"), 15,
                       what="the sampled caller's span")
            node.stop()  # exports what is queued
            paths = {attr(s, "url.path") for s in receiver.find(lambda s: True)}
            assert "/v1/topics" not in paths and "/v1/brokers" not in paths, paths

            dead = free_port()
            other = start_node(w, f"--otel.exporter.otlp.endpoint=http://127.0.0.1:{dead}", node_id=2)
            for _ in range(5):
                assert other.get("/v1/cluster", headers={"traceparent": traceparent()})[0] == 200

            def failed():
                _, text = other.get("/metrics")
                for line in text.splitlines():
                    if line.startswith("dmq_trace_spans_failed_total"):
                        return float(line.split()[-1]) >= 5
                return False
            wait_until(failed, 20, what="spans counted as failed")
            assert other.get("/v1/health")[0] == 200
            # A malformed traceparent is ignored: the call is served (a root span, not an error).
            assert other.get("/v1/cluster", headers={"traceparent": "00-zz-bad"})[0] == 200
    finally:
        receiver.close()


if __name__ == "__main__":
    run([test_rest_and_raft_spans, test_produce_and_fetch_spans,
         test_relayed_rest_call_names_the_relaying_span_as_parent,
         test_sampler_ratio_zero_and_unreachable_collector])
