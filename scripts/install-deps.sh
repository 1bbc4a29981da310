#!/usr/bin/env bash
# Installs the Debian 12 packages DMQ builds and tests with. Idempotent: only
# missing packages are installed, so a second run is a no-op.
set -euo pipefail

build_pkgs=(cmake make g++ pkg-config libasio-dev libcpp-httplib-dev rapidjson-dev
  liblmdb-dev libcli11-dev doctest-dev libssl-dev zlib1g-dev libzstd-dev liblz4-dev
  clang-format curl)
test_pkgs=(systemd kcat python3-confluent-kafka python3-kafka procps
  chromium chromium-driver python3-selenium  # the web console's browser test
  golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
  golang-github-confluentinc-confluent-kafka-go-dev  # Go clients
  rsyslog-kafka burrow zookeeper)  # rsyslog's omkafka; Burrow and its ZooKeeper

want=("${build_pkgs[@]}")
if [ "${1:-}" != "--build-only" ]; then
  want+=("${test_pkgs[@]}")
fi

# Node.js may come from outside Debian (with its own npm); take Debian's only
# when there is none, since the two conflict.
if [ "${1:-}" != "--build-only" ] && ! command -v npm >/dev/null 2>&1; then
  want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
