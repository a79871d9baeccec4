# Checker child (lbctl __role check): its unit and host tests, and its VM suite against keepalived.
.PHONY: check-role-test check-role-vm-test

check-role-test: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit/daemon-check-config.test.ts test/unit/daemon-check-config-samples.test.ts test/unit/daemon-ipvs-sync.test.ts test/integration/daemon-check-role.test.ts

# Boots the IPVS VM once: lbctl daemon -C vs keepalived -C (seed, samples, health, reload).
check-role-vm-test: deps build ipvs-vm-image
	$(BUN) --bun ./node_modules/.bin/vitest run test/integration/ipvs-daemon-vm.test.ts
