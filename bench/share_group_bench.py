#!/usr/bin/python3
"""Share-group benchmark, against one real `dmq` node.

N records of 1 KiB in a 3-partition topic are consumed
1. by a share group of 1, 4 and 16 HTTP worker processes, each looping
   POST /v1/share-groups/{g}/fetch (max_records 100) then
   POST /v1/share-groups/{g}/ack (accept all 100), keep-alive connections;
   a fresh group per size, share.auto.offset.reset=earliest;
2. by a Kafka consumer group of 1 and 3 confluent-kafka consumer processes,
   each committing synchronously after every batch of 100 (the same unit of
   acknowledgement as the share workers).
3. by NATS JetStream work-queue consumers (nats-server from Debian, file
   storage, a workqueue stream per size): 1, 4 and 16 worker processes
   sharing one durable pull consumer, pulling up to 100 (no_wait: what is
   there now) and acknowledging each
   message with a reply (an acknowledgement counts once answered).
The clock runs from the start of the worker processes (Python start-up and,
for Kafka, joining the group included; the node runs with
group.initial.rebalance.delay.ms=0) until the last record was acknowledged
(accepted, or committed); the answer is acknowledged records per second.

Usage: bench/share_group_bench.py [--dmq build/dmq] [--messages 100000] [--json out.json]
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import tempfile
import time
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_bench import Nats, free_port, nats_publish, wait_until  # noqa: E402  (shared bench helpers)

HERE = os.path.dirname(os.path.abspath(__file__))
PARTITIONS = 3
BATCH = 100
VALUE = b"v" * 1024


def request(method, port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


class Node:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="dmq-share-bench-")
        self.http = free_port()
        self.bootstrap = f"127.0.0.1:{free_port()}"
        log = open(os.path.join(self.dir, "node.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, f"--data-dir={self.dir}/data", f"--http-listen=127.0.0.1:{self.http}",
             f"--kafka-listen={self.bootstrap}",
             # The Kafka group's first rebalance would otherwise wait 3 s.
             "--group.initial.rebalance.delay.ms=0"], stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: any(b["status"] == "alive" for b in
                               request("GET", self.http, "/v1/brokers")[1]["brokers"]),
                   20, "broker up")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def produce(bootstrap, topic, count):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 10,
                  "queue.buffering.max.messages": 1000000})
    for i in range(count):
        while True:
            try:
                p.produce(topic, value=VALUE, partition=i % PARTITIONS)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(120) == 0


def share_worker(port, group, topic, remaining, out):
    """Fetches 100, accepts them, repeats until every record was accepted."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    member = None
    headers = {"Content-Type": "application/json"}
    while remaining.value > 0:
        body = {"topics": [topic], "max_records": BATCH, "wait_ms": 100}
        if member:
            body["member_id"] = member
        conn.request("POST", f"/v1/share-groups/{group}/fetch", json.dumps(body), headers)
        r = conn.getresponse()
        answer = json.loads(r.read())
        if r.status != 200:
            time.sleep(0.05)
            continue
        member = answer["member_id"]
        records = answer["records"]
        if not records:
            continue
        acks = [{"topic": x["topic"], "partition": x["partition"], "offset": x["offset"],
                 "type": "accept"} for x in records]
        conn.request("POST", f"/v1/share-groups/{group}/ack",
                     json.dumps({"member_id": member, "acks": acks}), headers)
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            with remaining.get_lock():
                remaining.value -= len(acks)
            out.put(len(acks))


def kafka_worker(bootstrap, group, topic, remaining, out):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 10000})
    c.subscribe([topic])
    while remaining.value > 0:
        msgs = [m for m in c.consume(BATCH, 0.2) if not m.error()]
        if not msgs:
            continue
        c.commit(asynchronous=False)
        with remaining.get_lock():
            remaining.value -= len(msgs)
        out.put(len(msgs))
    c.close()


# NATS JetStream work queue: a stream with workqueue retention (a message is
# removed once acknowledged), one durable pull consumer shared by the
# workers, explicit acks. Each worker pulls 100 and acknowledges each message
# with a reply (AckSync), so an acknowledgement counts only once the server
# answered it, like a share-group ack answered with 200.
def nats_server(workdir):
    port = free_port()
    log = open(os.path.join(workdir, "nats.log"), "wb")
    proc = subprocess.Popen(["nats-server", "-js", "-sd", os.path.join(workdir, "nats"),
                             "-a", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: Nats(port), 20, "nats-server")
    return proc, port


def nats_work_queue(port, stream, messages):
    """A fresh work-queue stream holding `messages` records, and its consumer."""
    nc = Nats(port)
    nc.request(b"$JS.API.STREAM.CREATE." + stream.encode(),
               {"name": stream, "subjects": [stream], "retention": "workqueue", "storage": "file"})
    nats_publish(nc, stream.encode(), messages, lambda: VALUE)
    nc.request(b"$JS.API.CONSUMER.CREATE." + stream.encode() + b".workers",
               {"stream_name": stream, "config": {"durable_name": "workers", "ack_policy": "explicit",
                                                  "deliver_policy": "all", "ack_wait": 30000000000,
                                                  "max_ack_pending": 100000}})


def nats_worker(port, stream, remaining, out):
    nc = Nats(port)
    # Inboxes of this worker alone: every connection subscribed to a shared
    # reply subject would receive every worker's messages.
    pull_inbox, acked_inbox = b"_INBOX.pull.%d" % os.getpid(), b"_INBOX.acked.%d" % os.getpid()
    nc.sub(pull_inbox, 1)
    nc.sub(acked_inbox + b".*", 2)
    next_subj = b"$JS.API.CONSUMER.MSG.NEXT." + stream.encode() + b".workers"
    n = 0
    while remaining.value > 0:
        nc.pub(next_subj, json.dumps({"batch": BATCH, "no_wait": True}).encode(), pull_inbox)
        nc.flush()
        replies = []
        while len(replies) < BATCH:
            subj, reply, _h, _d = nc.next_msg()
            if subj == pull_inbox:  # a status: nothing more right now (no_wait)
                break
            if reply and not subj.startswith(b"_INBOX."):
                replies.append(reply)
        if not replies:
            time.sleep(0.005)
            continue
        for reply in replies:
            nc.pub(reply, b"+ACK", acked_inbox + b".%d" % n)
            n += 1
        nc.flush()
        answered = 0
        while answered < len(replies):  # every acknowledgement answered
            subj, _r, _h, _d = nc.next_msg()
            answered += subj.startswith(acked_inbox)
        with remaining.get_lock():
            remaining.value -= len(replies)
        out.put(len(replies))


def run_workers(target, args_of, size, messages):
    remaining = mp.Value("q", messages)
    out = mp.Queue()
    procs = [mp.Process(target=target, args=args_of(i) + (remaining, out)) for i in range(size)]
    start = time.monotonic()
    for p in procs:
        p.start()
    got = 0
    deadline = start + 600
    while got < messages and time.monotonic() < deadline:
        try:
            got += out.get(timeout=1)
        except Exception:
            pass
    took = time.monotonic() - start
    remaining.value = 0
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    return {"workers": size, "acknowledged": got, "seconds": round(took, 2),
            "records_per_s": round(got / took)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dmq", default=os.path.join(HERE, "..", "build", "dmq"))
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--json")
    args = ap.parse_args()
    node = Node(args.dmq)
    results = {"messages": args.messages, "share": [], "kafka": []}
    try:
        topic = "share-bench"
        request("POST", node.http, "/v1/topics", {
            "name": topic, "partitions": PARTITIONS, "replication_factor": 1,
            "configs": {"share.auto.offset.reset": "earliest"}})
        produce(node.bootstrap, topic, args.messages)
        for size in (1, 4, 16):
            group = f"share-{size}"
            r = run_workers(share_worker, lambda i: (node.http, group, topic), size, args.messages)
            results["share"].append(r)
            print(f"share group, {size:2d} HTTP workers: {r['records_per_s']:7d} records/s "
                  f"({r['acknowledged']} in {r['seconds']} s)", flush=True)
        for size in (1, 3):
            group = f"kafka-{size}-{time.monotonic_ns()}"
            r = run_workers(kafka_worker, lambda i: (node.bootstrap, group, topic), size,
                            args.messages)
            results["kafka"].append(r)
            print(f"kafka group, {size:2d} consumers:    {r['records_per_s']:7d} records/s "
                  f"({r['acknowledged']} in {r['seconds']} s)", flush=True)
    finally:
        node.stop()
    if shutil.which("nats-server"):
        workdir = tempfile.mkdtemp(prefix="dmq-share-bench-nats-")
        proc, port = nats_server(workdir)
        results["nats"] = []
        try:
            for size in (1, 4, 16):
                stream = f"work{size}"
                nats_work_queue(port, stream, args.messages)
                r = run_workers(nats_worker, lambda i: (port, stream), size, args.messages)
                results["nats"].append(r)
                print(f"NATS JetStream work queue, {size:2d} workers: {r['records_per_s']:7d} records/s "
                      f"({r['acknowledged']} in {r['seconds']} s)", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
