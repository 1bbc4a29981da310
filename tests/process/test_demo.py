#!/usr/bin/env python3
"""`make demo` keeps proving itself: scripts/demo.py runs its whole schedule
(6 nodes, a controller-leader kill and a partition-leader kill under load)
and must end with PASS (every acknowledged record read back) and exit 0,
having measured both failovers."""

import os
import subprocess
import sys

from dmqtest import BINARY

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "demo.py")


def main():
    out = subprocess.run([sys.executable, SCRIPT, "--dmq", BINARY], capture_output=True, text=True,
                         timeout=400)
    print(out.stdout[-3000:])
    print(out.stderr[-2000:], file=sys.stderr)
    assert out.returncode == 0, f"demo exited {out.returncode}"
    assert "PASS: nothing acknowledged was lost" in out.stdout
    assert "controller leader" in out.stdout and "elected after" in out.stdout
    assert "writes acknowledged again after" in out.stdout


if __name__ == "__main__":
    main()
