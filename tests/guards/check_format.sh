#!/usr/bin/env bash
# Fails when a C++ file under src/, tests/ or bench/ differs from what
# clang-format (with the repository's .clang-format) makes of it.
# Usage: check_format.sh SOURCE_DIR      (`make format` fixes what it lists)
set -euo pipefail
cd "${1:-.}"
mapfile -t files < <(find src tests bench -type f \( -name '*.cpp' -o -name '*.h' \) \
  -not -path '*/node_modules/*' | sort)
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/dmq-format-check.$$; then
  grep -o '^[^:]*\.\(cpp\|h\)' /tmp/dmq-format-check.$$ | sort -u | sed 's/$/: not clang-formatted (run make format)/'
  rm -f /tmp/dmq-format-check.$$
  exit 1
fi
rm -f /tmp/dmq-format-check.$$
echo "format: clean (${#files[@]} files)"
