# IPVS test VM (see test/vm/README.md). The image is cached in .cache/vm (or $LBCTL_VM_CACHE).
.PHONY: ipvs-vm-image ipvs-vm-test ipvs-vm-run ipvs-unit ipvs-bench

ipvs-vm-image:
	test/vm/build-vm.sh

# Boots the VM once and runs the whole in-VM IPVS suite under vitest.
ipvs-vm-test: deps ipvs-vm-image
	$(BUN) --bun ./node_modules/.bin/vitest run test/integration/ipvs-vm.test.ts

# make ipvs-vm-run CMD='ipvsadm -Ln'
ipvs-vm-run: deps ipvs-vm-image
	$(BUN) test/vm/run.ts "$(CMD)"

ipvs-unit: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit/ipvs-codec.test.ts test/unit/ipvs-reconcile.test.ts test/unit/ipvs-readers.test.ts

# lbctl vs ipvsadm load/list timing inside the VM: make ipvs-bench [BENCH_ARGS="1000 10 3"]
ipvs-bench: deps ipvs-vm-image
	$(BUN) bench/ipvs-apply.ts $(BENCH_ARGS)
