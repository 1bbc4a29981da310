# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
SYSTEMD_DIR ?= /etc/systemd/system

.PHONY: all deps build run demo test test-fast install format format-check clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/dmq --role=combined --data-dir=./dmq-data --http-listen=127.0.0.1:8080 --kafka-listen=127.0.0.1:9092

# 3 controllers + 3 brokers on loopback, a producer and a consumer group, two
# failovers measured, every acknowledged record checked (scripts/demo.py).
demo: build
	/usr/bin/python3 scripts/demo.py --dmq $(BUILD_DIR)/dmq

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Unit and simulation tests only (no processes, no clients).
test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

install: build
	install -D -m 0755 $(BUILD_DIR)/dmq $(DESTDIR)$(PREFIX)/bin/dmq
	install -d $(DESTDIR)/etc/dmq
	@if [ ! -e $(DESTDIR)/etc/dmq/dmq.toml ]; then install -m 0644 etc/dmq.toml $(DESTDIR)/etc/dmq/dmq.toml; fi
	install -D -m 0644 systemd/dmq.service $(DESTDIR)$(SYSTEMD_DIR)/dmq.service
	install -D -m 0644 systemd/dmq@.service $(DESTDIR)$(SYSTEMD_DIR)/dmq@.service
	@echo "installed; run: systemctl daemon-reload && systemctl enable --now dmq"

format:
	clang-format -i $$(find src tests bench -type f \( -name '*.cpp' -o -name '*.h' \) -not -path '*/node_modules/*')

# Also run by `make test` (ctest guard_format).
format-check:
	@tests/guards/check_format.sh .

clean:
	rm -rf $(BUILD_DIR)
