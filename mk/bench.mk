# IPVS and checker benchmarks in the IPVS test VM (bench/RESULTS.md). The VM image and its run lock are
# shared with the main checkout's cache so that only one VM runs at a time on the machine.
.PHONY: bench-ipvs bench-ipvs-change bench-checker-scale

BENCH_VM_CACHE ?= $(if $(LBCTL_VM_CACHE),$(LBCTL_VM_CACHE),$(CURDIR)/.cache/vm)

# Program services x dests from empty, lbctl vs `ipvsadm -R`: make bench-ipvs [BENCH_ARGS="10000 10 3"]
bench-ipvs: deps ipvs-vm-image
	LBCTL_VM_CACHE=$(BENCH_VM_CACHE) $(BUN) bench/ipvs-apply.ts $(BENCH_ARGS)

# One real server's change with a large table loaded (checker child's path), p50/p99 at two table sizes,
# plus the same path on the host without a kernel: make bench-ipvs-change [BENCH_ARGS="10000 10 300 100"]
bench-ipvs-change: deps ipvs-vm-image
	LBCTL_VM_CACHE=$(BENCH_VM_CACHE) $(BUN) bench/ipvs-change.ts $(BENCH_ARGS)

# keepalived's checker vs lbctl's on many real servers at delay_loop 1 (checks/s, CPU per 1,000 checks,
# PSS, lbctl's reload time): make bench-checker-scale [BENCH_ARGS="1000,10000 10 20"] (sizes warm-up window)
bench-checker-scale: deps build ipvs-vm-image
	LBCTL_VM_CACHE=$(BENCH_VM_CACHE) $(BUN) bench/checker-scale/run.ts $(BENCH_ARGS)

# The whole daemon on the host kernel (no IPVS): checks/s, CPU per 1,000 checks, PSS per process and the
# SIGHUP-to-applied reload time at full speed: make bench-checker-host [BENCH_ARGS="1000,10000 10 20"]
.PHONY: bench-checker-host bench-checker-profile
bench-checker-host: deps build
	$(BUN) bench/checker-scale/host.ts $(BENCH_ARGS)

# The checker role alone in this process, under Bun's profiler (markdown in /tmp/lbctl-checker-profile):
# make bench-checker-profile [BENCH_ARGS="10000 10 20"]
bench-checker-profile: deps
	$(BUN) --cpu-prof-md --cpu-prof-dir=/tmp/lbctl-checker-profile bench/checker-scale/profile.ts $(BENCH_ARGS)
