# lbctl — build and test. See README.md.
SHELL := /bin/bash
BUN := ./node_modules/.bin/bun
export BUN_RUNTIME_TRANSPILER_CACHE_PATH := 0
export BUN_INSTALL_CACHE_DIR := $(CURDIR)/.cache/bun-install
SOURCES := $(shell find src ffi -name '*.ts' 2>/dev/null)
# Packages the test suite drives (reference peer, namespaces, captures, IPVS VM).
TEST_DEBS := keepalived iproute2 tcpdump nftables ipvsadm procps psmisc openssl nginx-light python3 iputils-ping curl \
             dnsmasq qemu-system-x86 xz-utils busybox-static cpio kmod tmux rpm rpmlint groff-base systemd

-include mk/*.mk

.PHONY: all build demo deps test-deps test unit integration vm typecheck bench rpm clean fuzz

all: build

node_modules/.installed: package.json
	npm install --no-audit --no-fund
	touch $@

deps: node_modules/.installed

build: dist/lbctl

# What `lbctl --version` reports. The build date is SOURCE_DATE_EPOCH, by default the commit's time,
# so the same inputs give the same binary.
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- src ffi package.json 2>/dev/null || echo -dirty)
SOURCE_DATE_EPOCH ?= $(or $(shell git log -1 --format=%ct 2>/dev/null),1767225600)
export SOURCE_DATE_EPOCH
BUILD_DATE := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)

dist/lbctl: node_modules/.installed $(SOURCES) package.json
	mkdir -p dist
	$(BUN) build --compile --bytecode --minify-syntax \
	  --define 'LBCTL_REVISION="$(REVISION)"' --define 'LBCTL_BUILD_DATE="$(BUILD_DATE)"' \
	  --outfile dist/lbctl src/cli/main.ts src/net/rx-worker.ts
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

# The fuzz tests (decoders, the control API request parser) at 1,000,000 cases each; make test runs a few thousand.
fuzz: deps
	LBCTL_FUZZ_CASES=1000000 $(BUN) --bun ./node_modules/.bin/vitest run test/unit/fuzz-decoders.test.ts test/unit/api-http-parser.test.ts

unit: deps build
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit

clean:
	rm -rf dist .cache

# Binary RPM of dist/lbctl for EL7/8/9 (rpmbuild from Debian's `rpm` package). Reproducible:
# SOURCE_DATE_EPOCH (above) is the HEAD commit's time. RPM_RELEASE, RPM_SRCDIR (where rpm/, docs/,
# README.md and LICENSE are read), RPM_OUT and RPM_GZIP_LEVEL are for the tests' upgrade and rebuild;
# everything a build writes is under RPM_OUT, so tests can build in parallel into their own.
VERSION := $(shell node -p 'require("./package.json").version')
RPM_RELEASE ?= 1
RPM_GZIP_LEVEL ?= 6
RPM_SRCDIR ?= $(CURDIR)
RPM_OUT ?= $(CURDIR)/dist
RPM_TOPDIR = $(RPM_OUT)/.rpmbuild-$(RPM_RELEASE)
MAN_OUT = $(RPM_OUT)/share
RPM_FILE := lbctl-$(VERSION)-$(RPM_RELEASE).x86_64.rpm

# lbctl(8), lbctl.toml(5) and the bash completion, from the command table and the config specs.
.PHONY: man
man: deps
	rm -rf $(MAN_OUT)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(BUN) src/cli/man.ts $(MAN_OUT)

rpm: build man
	rm -rf $(RPM_TOPDIR) && mkdir -p $(RPM_TOPDIR) $(RPM_OUT)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) rpmbuild -bb --quiet --define "_topdir $(RPM_TOPDIR)" \
	  --define "lbctl_version $(VERSION)" --define "lbctl_release $(RPM_RELEASE)" --define "lbctl_gzip_level $(RPM_GZIP_LEVEL)" \
	  --define "lbctl_bindir $(CURDIR)/dist" --define "lbctl_gendir $(MAN_OUT)" \
	  --define "lbctl_srcdir $(RPM_SRCDIR)" rpm/lbctl.spec
	cp $(RPM_TOPDIR)/RPMS/x86_64/$(RPM_FILE) $(RPM_OUT)/
	rm -rf $(RPM_TOPDIR)
	@echo "built $(RPM_OUT)/$(RPM_FILE)"

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

# PSS of the VRRP process under a flood of malformed VRRP packets, lbctl vs keepalived.
.PHONY: bench-rx-flood-memory
bench-rx-flood-memory: build
	$(BUN) bench/rx-flood-memory/run.ts

# One hour under reloads, packet noise, flapping real servers and API load: PSS, open files and CPU per
# process every minute, lbctl beside keepalived.
.PHONY: bench-soak
bench-soak: build
	$(BUN) bench/soak/run.ts

# The demo's scenario (crash, preemption, graceful stop) as the client sees it, lbctl pair vs keepalived pair.
.PHONY: bench-demo-failover
bench-demo-failover: build
	$(BUN) bench/demo-failover/run.ts

# Binary size and time from exec to the first VRRP advert on the wire, lbctl vs keepalived.
.PHONY: bench-start-advert
bench-start-advert: build
	$(BUN) bench/start-advert/run.ts
