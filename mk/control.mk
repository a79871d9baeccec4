# Control API, metrics and the CLI commands that use them (status, events, reload, drain, top).
# The integration tests need root (they run a client as `nobody`) and tmux.
.PHONY: control-test

control-test: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit/api-*.test.ts test/unit/metrics*.test.ts test/integration/api-*.test.ts test/integration/top*.test.ts
