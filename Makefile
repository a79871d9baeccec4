# lbctl — build and test. See README.md.
SHELL := /bin/bash
BUN := ./node_modules/.bin/bun
export BUN_RUNTIME_TRANSPILER_CACHE_PATH := 0
export BUN_INSTALL_CACHE_DIR := $(CURDIR)/.cache/bun-install
SOURCES := $(shell find src ffi -name '*.ts' 2>/dev/null)
# Packages the test suite drives (reference peer, namespaces, captures, IPVS VM).
TEST_DEBS := keepalived iproute2 tcpdump nftables ipvsadm procps psmisc openssl nginx-light python3 iputils-ping curl \
             dnsmasq qemu-system-x86 xz-utils busybox-static cpio kmod tmux rpm systemd

-include mk/*.mk

.PHONY: all build demo deps test-deps test unit integration vm typecheck bench rpm clean

all: build

node_modules/.installed: package.json
	npm install --no-audit --no-fund
	touch $@

deps: node_modules/.installed

build: dist/lbctl

dist/lbctl: node_modules/.installed $(SOURCES)
	mkdir -p dist
	$(BUN) build --compile --bytecode --minify-syntax --outfile dist/lbctl src/cli/main.ts src/net/rx-worker.ts
	@echo "built dist/lbctl"

# The README's first command: a two-node demo cluster in network namespaces.
DEMO_DEBS := iproute2 procps
demo: build
	@missing=""; for p in $(DEMO_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi
	./dist/lbctl demo

test-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

typecheck: deps
	./node_modules/.bin/tsc --noEmit -p .

test: deps test-deps typecheck build
	$(BUN) --bun ./node_modules/.bin/vitest run

vm: deps build
	$(BUN) --bun ./node_modules/.bin/vitest run test/integration/ipvs-vm.test.ts

unit: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit

clean:
	rm -rf dist .cache

# Binary RPM of dist/lbctl (rpmbuild from Debian's `rpm` package works too).
VERSION := $(shell node -p 'require("./package.json").version')
rpm: build
	rm -rf .cache/rpmbuild && mkdir -p .cache/rpmbuild dist
	rpmbuild -bb --define "_topdir $(CURDIR)/.cache/rpmbuild" --define "lbctl_version $(VERSION)" \
	  --define "lbctl_bindir $(CURDIR)/dist" --define "lbctl_srcdir $(CURDIR)" \
	  --define "_unitdir /usr/lib/systemd/system" rpm/lbctl.spec
	cp .cache/rpmbuild/RPMS/x86_64/lbctl-$(VERSION)-1.x86_64.rpm dist/
	@echo "built dist/lbctl-$(VERSION)-1.x86_64.rpm"

# Benchmarks: one command each, each printing ratios against keepalived / ipvsadm (bench/RESULTS.md).
.PHONY: bench-vrrp-failover
bench-vrrp-failover: build
	$(BUN) bench/vrrp-failover/run.ts

.PHONY: bench-vrrp-load
bench-vrrp-load: build
	$(BUN) bench/vrrp-load/run.ts

.PHONY: bench-vrrp-isolation
bench-vrrp-isolation: build
	$(BUN) bench/vrrp-isolation/run.ts

# The demo's scenario (crash, preemption, graceful stop) as the client sees it, lbctl pair vs keepalived pair.
.PHONY: bench-demo-failover
bench-demo-failover: build
	$(BUN) bench/demo-failover/run.ts

# Binary size and time from exec to the first VRRP advert on the wire, lbctl vs keepalived.
.PHONY: bench-start-advert
bench-start-advert: build
	$(BUN) bench/start-advert/run.ts
