import { defineConfig } from "vitest/config";

// Tiers: unit tests run anywhere; integration tests (namespaces, keepalived) need root;
// VM tests boot the IPVS VM. `make test` runs all of them; CI runs as root.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});
