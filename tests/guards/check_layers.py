#!/usr/bin/env python3
"""Fails when an include breaks the layering of src/ (DESIGN.md section 4).

Two rules:
- a folder includes only project headers of the folders listed for it below
  (dependencies point one way: nothing reaches a layer above it);
- pure cores include no asio, httplib or LMDB and read no clock, so they stay
  deterministic and testable without I/O (STYLE.md rule 1).

Usage: check_layers.py SOURCE_DIR   (exit 0 clean, 1 with one line per breach)
"""
import re
import sys
from pathlib import Path

# folder -> the project folders its files may include (besides its own).
ALLOWED = {
    "common": [],
    "raft": ["common/assert.h", "common/strong_id.h"],  # header-only primitives only
    "store": ["common", "raft"],
    "quota": ["common"],
    "cluster": ["common", "store", "raft", "quota"],  # quota: entity and key validation at apply
    "kafka/protocol": ["common"],
    "security": ["common"],
    "trace": ["common"],
    "net": ["common", "raft", "security", "trace"],  # security: signing and checking node-to-node requests
    "controller": ["net", "trace", "cluster", "store", "raft", "security", "quota", "common"],  # security: SCRAM credential derivation
    "broker": ["net", "kafka/protocol", "cluster", "store", "raft", "common"],
    "kafka/server": ["broker", "kafka/protocol", "security", "net", "trace", "cluster", "quota", "common"],
    "group": ["kafka/server", "broker", "kafka/protocol", "cluster", "common"],
    "txn": ["group", "kafka/server", "broker", "kafka/protocol", "cluster", "common"],
    "rest": ["txn", "group", "broker", "kafka/protocol", "controller", "security", "net", "trace", "cluster", "quota", "common"],  # kafka/protocol: HTTP produce/consume build and walk record batches; trace: a relayed request carries the caller's traceparent
    "console": ["net", "common"],
    "client": ["kafka/protocol", "net", "common"],
    "modes": None,  # the wiring: may include anything
    "": None,  # src/main.cpp
}

# Pure cores: whole folders, or single files of a folder whose other files are
# the I/O shell around them.
PURE = [
    "raft/",
    "kafka/protocol/",
    "cluster/",
    "quota/",
    "group/group.",
    "group/records.",
    "group/consumer_protocol.",
    "group/types.",
    "group/share_partition.",
    "group/share_records.",
    "group/share_write_queue.",
    "store/log_format.",
    "store/log_index.",
    "store/leader_epoch_cache.",
    "security/",
    "net/http_request_head.",
    "txn/txn_state.",
    "trace/span.",
    "trace/otlp_json.",
]
# Adapters that live beside a pure core and are allowed I/O.
NOT_PURE = ["cluster/metadata_store.", "cluster/metadata_raft_adapter.", "security/tls_", "security/secret_file",
            "security/jwt_key_source."]

IMPURE_INCLUDE = re.compile(r'#\s*include\s*[<"](asio[^>"]*|httplib\.h|lmdb\.h|store/lmdb\.h)[>"]')
CLOCK = re.compile(r"\b(steady_clock|system_clock|high_resolution_clock)\b|\btime\(nullptr\)")
PROJECT_INCLUDE = re.compile(r'#\s*include\s*"([a-z_]+(?:/[a-z_]+)*)/([A-Za-z0-9_.]+)"')


def folder_of(rel: str) -> str:
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "kafka":
        return "/".join(parts[:2])
    return parts[0] if len(parts) > 1 else ""


def allowed(folder: str, target_folder: str, target: str) -> bool:
    rules = ALLOWED.get(folder)
    if rules is None:
        return folder in ALLOWED
    if target_folder == folder:
        return True
    return any(target == r or target_folder == r for r in rules)


def is_pure(rel: str) -> bool:
    if any(rel.startswith(p) for p in NOT_PURE):
        return False
    return any(rel.startswith(p) for p in PURE)


def check(src: Path) -> list:
    breaches = []
    for path in sorted(list(src.rglob("*.h")) + list(src.rglob("*.cpp"))):
        rel = path.relative_to(src).as_posix()
        folder = folder_of(rel)
        if folder not in ALLOWED:
            breaches.append(f"src/{rel}: folder '{folder}' has no entry in ALLOWED (add its layer)")
            continue
        text = path.read_text(errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            m = PROJECT_INCLUDE.search(line)
            if m:
                target_folder = m.group(1)
                target = f"{m.group(1)}/{m.group(2)}"
                if (src / target).exists() and not allowed(folder, target_folder, target):
                    breaches.append(f"src/{rel}:{n}: {folder or 'src'} may not include {target}")
            if is_pure(rel):
                if IMPURE_INCLUDE.search(line):
                    breaches.append(f"src/{rel}:{n}: pure core includes I/O: {line.strip()}")
                code = line.split("//", 1)[0]
                if CLOCK.search(code):
                    breaches.append(f"src/{rel}:{n}: pure core reads a clock: {line.strip()}")
    return breaches


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else ".") / "src"
    breaches = check(src)
    for b in breaches:
        print(b)
    if breaches:
        print(f"{len(breaches)} layering breach(es); see tests/guards/check_layers.py")
        return 1
    print("layering: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
