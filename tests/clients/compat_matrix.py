#!/usr/bin/python3
"""Renders the client compatibility matrix of README.md from the results that
tests/process/test_go_clients.py writes (one JSON object per line:
client, config, capability, result yes/no/n/a, detail).

Usage: compat_matrix.py <results.jsonl>            prints the table
       compat_matrix.py <results.jsonl> --check README.md
                                                   exit 1 if README's table differs
       compat_matrix.py <results.jsonl> --write README.md
The table sits between the markers <!-- compat-matrix:begin --> and
<!-- compat-matrix:end -->."""
import json
import sys

BEGIN, END = "<!-- compat-matrix:begin -->", "<!-- compat-matrix:end -->"
CAPABILITIES = ["metadata", "produce_acks_all", "consume_oldest", "group_commit_resume",
                "admin_create_topic", "admin_list_topics", "admin_describe_config",
                "admin_alter_config", "admin_delete_topic"]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def render(rows):
    columns = []
    for r in rows:
        key = (r["client"], r["config"])
        if key not in columns:
            columns.append(key)
    cell = {(r["client"], r["config"], r["capability"]): r["result"] for r in rows}
    head = "| capability | " + " | ".join(f"{c} ({v})" for c, v in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]
    for cap in CAPABILITIES:
        values = [cell.get((c, v, cap), "-") for c, v in columns]
        lines.append(f"| {cap} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def readme_table(path):
    text = open(path).read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text, start, end


def main(argv):
    table = render(load(argv[1]))
    if len(argv) == 2:
        print(table)
        return 0
    text, start, end = readme_table(argv[3])
    if argv[2] == "--write":
        with open(argv[3], "w") as f:
            f.write(text[:start] + "\n" + table + "\n" + text[end:])
        return 0
    if text[start:end].strip() != table.strip():
        print("README's compatibility matrix differs from the test results:\n" + table)
        print(f"(update it with: {argv[0]} {argv[1]} --write {argv[3]})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
