# Kernel access layer (ffi/, src/netlink/, src/net/): its tests and the receive-latency bench.
# NOTE for `build`: src/net/rx-worker.ts must be an extra entrypoint of `bun build --compile`
# (see src/net/receiver.ts), e.g. `bun build --compile ... src/cli/main.ts src/net/rx-worker.ts`.
.PHONY: netlink-test netlink-bench

netlink-test: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit/netlink-*.test.ts test/integration/net-*.test.ts

netlink-bench: deps
	$(BUN) bench/net-rx-latency.ts 3000
