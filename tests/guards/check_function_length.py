#!/usr/bin/env python3
"""A ratchet on function length: no function in src/ over LIMIT lines, except
the ones listed in function_length_exceptions.txt, and none of those may grow.

A function's length is the number of lines from its opening brace to its
closing brace. Lambdas and local classes count toward the function that holds
them. The scanner strips comments and literals and tracks brace scopes; it
is a heuristic (a constructor's initializer list is not part of its body),
which is all a ratchet needs.

Usage: check_function_length.py SOURCE_DIR [--update]
  --update rewrites the exceptions file with today's long functions (shrink
  it after splitting one; never to admit a new one without a reason).
"""
import re
import sys
from pathlib import Path

LIMIT = 80
EXCEPTIONS = "tests/guards/function_length_exceptions.txt"

LITERALS = re.compile(
    r'//[^\n]*|/\*.*?\*/|R"([^(\s]*)\(.*?\)\1"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
    re.S)
SCOPE_KEYWORD = re.compile(r"\b(namespace|class|struct|union|enum)\b")
NOT_FUNCTION = re.compile(r"^(if|for|while|switch|catch|do|else|return|sizeof)$")
NAME = re.compile(r"([A-Za-z_~][A-Za-z0-9_:~<>]*(?:operator\s*[^\s(]+)?)\s*\($")


def strip(text: str) -> str:
    # Keep newlines so line numbers survive.
    return LITERALS.sub(lambda m: "\n" * m.group(0).count("\n") + ("" if m.group(0).startswith("/") else '""'), text)


def function_name(header: str):
    """The name of the function whose body opens after `header`, or None."""
    header = header.strip()
    if not header or "(" not in header or SCOPE_KEYWORD.match(header):
        return None
    if re.search(r"\b(namespace|class|struct|union|enum)\b[^()]*$", header):
        return None
    depth = 0
    for i, c in enumerate(header):  # name = identifier before the first top-level '('
        if c == "(" and depth == 0:
            m = NAME.search(header[: i + 1])
            if not m:
                return None
            name = m.group(1)
            if NOT_FUNCTION.match(name.split("::")[-1]) or "=" in header[:i]:
                return None
            return name
        if c in "<[":
            depth += 1
        elif c in ">]":
            depth = max(0, depth - 1)
    return None


def functions(text: str):
    """Yields (name, first_line, length_lines) of each outermost function body."""
    code = strip(text)
    stack = []  # 'scope' (namespace/class/other block at file level) or 'func'
    header_start = 0
    line = 1
    func_start = None
    func_name = None
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";":
            if not any(s == "func" for s in stack):
                header_start = i + 1
        elif c == "{":
            if any(s == "func" for s in stack):
                stack.append("block")
                continue
            header = code[header_start:i]
            name = function_name(" ".join(header.split()))
            if name:
                stack.append("func")
                func_start, func_name = line, name
            else:
                stack.append("scope")
            header_start = i + 1
        elif c == "}":
            kind = stack.pop() if stack else "scope"
            if kind == "func":
                yield func_name, func_start, line - func_start + 1
            if not any(s == "func" for s in stack):
                header_start = i + 1


def measure(root: Path):
    found = {}
    for path in sorted(list((root / "src").rglob("*.cpp")) + list((root / "src").rglob("*.h"))):
        rel = path.relative_to(root).as_posix()
        for name, first, length in functions(path.read_text(errors="replace")):
            if length > LIMIT:
                key = f"{rel}:{name}"
                found[key] = max(found.get(key, 0), length)
    return found


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else ".")
    found = measure(root)
    exceptions_path = root / EXCEPTIONS
    if "--update" in sys.argv:
        lines = [f"{length} {key}" for key, length in sorted(found.items())]
        exceptions_path.write_text(
            "# Functions longer than the limit when the ratchet was set: length, file:function.\n"
            "# They may shrink (then lower or drop the line), never grow; no new entries.\n"
            + "\n".join(lines) + "\n")
        print(f"wrote {len(lines)} exception(s)")
        return 0
    known = {}
    for entry in exceptions_path.read_text().splitlines():
        if entry.strip() and not entry.startswith("#"):
            length, key = entry.split(" ", 1)
            known[key] = int(length)
    bad = []
    for key, length in sorted(found.items()):
        if key not in known:
            bad.append(f"{key}: {length} lines (limit {LIMIT}); split it")
        elif length > known[key]:
            bad.append(f"{key}: grew to {length} lines (listed at {known[key]}); split it")
    for line in bad:
        print(line)
    if bad:
        return 1
    print(f"function length: clean ({len(found)} known exception(s) over {LIMIT} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
