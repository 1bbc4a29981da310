"""Foundation: a real dmq process serves /v1/health and /metrics, rejects bad
usage with exit code 2, reports runtime failures with exit code 1, and exits 0
on SIGTERM and SIGINT."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

from dmqtest import BINARY, SOURCE_DIR, Workdir, free_port, http, run, wait_until


def test_health_metrics_and_sigterm():
    with Workdir() as w:
        node = w.node().start()
        status, body = node.get("/v1/health")
        assert status == 200, body
        assert body == {"status": "ok", "node_id": 1, "roles": ["controller", "broker"]}, body

        status, text = node.get("/metrics")
        assert status == 200
        for metric in ["process_resident_memory_bytes", "process_open_fds", "dmq_uptime_seconds",
                       "dmq_build_info"]:
            assert re.search(rf"^{metric}(\{{[^}}]*\}})? [0-9.e+]+$", text, re.M), metric
        rss = float(re.search(r"^process_resident_memory_bytes (\S+)$", text, re.M).group(1))
        assert rss > 1e6, rss

        status, body = node.get("/no/such/path")
        assert status == 404
        assert body["error"]["code"] == "not_found"

        assert node.stop(signal.SIGTERM) == 0
        assert "stopped cleanly" in node.tail_log()


def test_sigint_exits_zero_and_data_dir_is_reusable():
    with Workdir() as w:
        node = w.node().start()
        assert node.stop(signal.SIGINT) == 0
        node.start()  # same data dir, lock released
        assert node.stop() == 0


def test_log_format_json():
    with Workdir() as w:
        node = w.node(extra=["--log-format=json"]).start()
        node.stop()
        import json
        lines = [l for l in open(node.log_path).read().splitlines() if l.strip()]
        assert lines
        for line in lines:
            record = json.loads(line)
            assert {"ts", "level", "component", "msg"} <= record.keys(), record


def run_dmq(args, timeout_s=10):
    proc = subprocess.run([BINARY] + args, capture_output=True, text=True, timeout=timeout_s)
    return proc.returncode, proc.stdout, proc.stderr


def test_bad_usage_exits_2_with_one_line():
    tmp = tempfile.mkdtemp(prefix="dmq-usage-")
    try:
        for args in (["--role=leader"], ["--node-id=abc"], ["--node-id=-1"], ["--http-listen=localhost"],
                     ["--kafka-listen=127.0.0.1:99999"], ["--no-such-option"],
                     ["--controllers=1@127.0.0.1:1,1@127.0.0.1:2"]):
            code, out, err = run_dmq(args + [f"--data-dir={tmp}/d"])
            assert code == 2, (args, code, err)
            assert len(err.strip().splitlines()) == 1, (args, err)
            assert err.startswith("dmq: "), err
        code, out, err = run_dmq(["--help"])
        assert code == 0 and "--role" in out
        code, out, err = run_dmq(["--version"])
        assert code == 0 and out.startswith("dmq ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def one_error_line(stderr):
    lines = [l for l in stderr.strip().splitlines() if "ERROR" in l]
    assert len(lines) == 1, stderr
    return lines[0]


def test_runtime_failures_exit_1_naming_the_cause():
    tmp = tempfile.mkdtemp(prefix="dmq-runtime-")
    try:
        # Port in use.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            code, _, err = run_dmq([f"--data-dir={tmp}/a", f"--http-listen=127.0.0.1:{port}"])
            assert code == 1, err
            assert "Address already in use" in one_error_line(err), err

        # Data dir not writable (a regular file where the directory should be).
        blocker = os.path.join(tmp, "file")
        open(blocker, "w").close()
        code, _, err = run_dmq([f"--data-dir={blocker}/sub", f"--http-listen=127.0.0.1:{free_port()}"])
        assert code == 1, err
        assert "data dir" in one_error_line(err), err

        # LMDB cannot open: a corrupt environment.
        os.makedirs(os.path.join(tmp, "c", "meta"))
        with open(os.path.join(tmp, "c", "meta", "data.mdb"), "wb") as f:
            f.write(b"\x5a" * 65536)
        code, _, err = run_dmq([f"--data-dir={tmp}/c", f"--http-listen=127.0.0.1:{free_port()}"])
        assert code == 1, err
        assert "not an LMDB file" in one_error_line(err), err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_second_process_on_same_data_dir_is_refused():
    with Workdir() as w:
        node = w.node().start()
        code, _, err = run_dmq([f"--data-dir={node.data_dir}", f"--http-listen=127.0.0.1:{free_port()}"])
        assert code == 1
        assert "in use by another dmq process" in err
        assert node.stop() == 0


def test_systemd_units_verify():
    tmp = tempfile.mkdtemp(prefix="dmq-units-")
    try:
        for unit in ("dmq.service", "dmq@.service"):
            text = open(os.path.join(SOURCE_DIR, "systemd", unit)).read()
            # verify checks that ExecStart exists; point it at the built binary.
            text = text.replace("/usr/local/bin/dmq", os.path.abspath(BINARY))
            with open(os.path.join(tmp, unit), "w") as f:
                f.write(text)
        for unit in ("dmq.service", "dmq@controller1.service"):
            proc = subprocess.run(["systemd-analyze", "verify", unit], cwd=tmp,
                                  capture_output=True, text=True, timeout=60)
            complaints = [l for l in (proc.stdout + proc.stderr).splitlines() if "dmq" in l]
            assert proc.returncode == 0 and not complaints, (unit, proc.returncode, proc.stdout, proc.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run([test_health_metrics_and_sigterm, test_sigint_exits_zero_and_data_dir_is_reusable,
         test_log_format_json, test_bad_usage_exits_2_with_one_line,
         test_runtime_failures_exit_1_naming_the_cause, test_second_process_on_same_data_dir_is_refused,
         test_systemd_units_verify])
