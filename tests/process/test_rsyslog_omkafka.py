"""rsyslog's omkafka (Debian's rsyslog-kafka) delivering to a real dmq node:
an rsyslogd of the test's own (its own config, work directory and pid file;
stopped by PID) receives syslog lines over TCP (imtcp) and forwards them with
omkafka (librdkafka, acks=all); kcat reads every line back."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dmqtest  # noqa: E402
import kafka_roundtrip  # noqa: E402

LINES = 200
CONFIG = """
global(workDirectory="{work}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{tcp_port}")
module(load="omkafka")
template(name="msgonly" type="string" string="%msg%")
action(type="omkafka" broker=["{bootstrap}"] topic="syslog" template="msgonly"
       confParam=["request.required.acks=-1", "socket.timeout.ms=5000"])
"""


def main():
    with tempfile.TemporaryDirectory() as workdir:
        node = kafka_roundtrip.start_node(workdir)
        rsyslog = None
        try:
            node.post("/v1/topics", {"name": "syslog", "partitions": 1, "replication_factor": 1})
            dmqtest.wait_until(lambda: node.get("/v1/topics/syslog")[0] == 200, 10,
                               what="topic syslog")
            rsyslog, tcp_port = start_rsyslog(workdir, node.kafka)
            send_lines(tcp_port)
            dmqtest.wait_until(lambda: len(read_back(node.kafka)) >= LINES, 60,
                               interval_s=1, what="lines in the topic")
            got = read_back(node.kafka)
            assert sorted(got) == sorted(f"line {i}" for i in range(LINES)), got[:5]
            print(f"{LINES} lines through omkafka: ok", flush=True)
        except BaseException:
            print(node.tail_log(60))
            if rsyslog:
                print(open(os.path.join(workdir, "rsyslog.log")).read()[-3000:])
            raise
        finally:
            if rsyslog:
                rsyslog.send_signal(signal.SIGTERM)
                try:
                    rsyslog.wait(15)
                except subprocess.TimeoutExpired:
                    rsyslog.kill()
            assert node.stop() == 0


def start_rsyslog(workdir, bootstrap):
    work = os.path.join(workdir, "rsyslog-work")
    os.makedirs(work)
    tcp_port = dmqtest.free_port()
    conf = os.path.join(workdir, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(CONFIG.format(work=work, tcp_port=tcp_port, bootstrap=bootstrap))
    log = open(os.path.join(workdir, "rsyslog.log"), "w")
    proc = subprocess.Popen(["/usr/sbin/rsyslogd", "-n", "-f", conf,
                             "-i", os.path.join(workdir, "rsyslog.pid")],
                            stdout=log, stderr=subprocess.STDOUT)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", tcp_port)) == 0
    dmqtest.wait_until(listening, 15, what="rsyslogd imtcp")
    return proc, tcp_port


def send_lines(tcp_port):
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as s:
        stamp = time.strftime("%b %d %H:%M:%S")
        for i in range(LINES):
            s.sendall(f"<13>{stamp} testhost app: line {i}\n".encode())


def read_back(bootstrap):
    out = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", "syslog", "-o", "beginning",
                          "-e", "-q", "-f", "%s\n"], capture_output=True, text=True, timeout=30)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


if __name__ == "__main__":
    main()
