// Golden files of the effective configuration (every default filled in) for representative
// configurations. A change in a spec's defaults or parsing shows up here as a diff to review.
//   UPDATE_GOLDEN=1 bun --bun vitest run test/unit/config-load-golden.test.ts   rewrites them
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";

const GOLDEN = join(import.meta.dirname, "../fixtures/config/golden");
const SAMPLES = "/usr/share/doc/keepalived/samples";

const CASES: { name: string; file: string; configId?: string }[] = [
  { name: "seed", file: join(import.meta.dirname, "../fixtures/seed-keepalived.conf") },
  { name: "sample", file: join(SAMPLES, "keepalived.conf.sample") },
  { name: "vrrp-sync", file: join(SAMPLES, "keepalived.conf.vrrp.sync") },
  { name: "virtual-server-group", file: join(SAMPLES, "keepalived.conf.virtual_server_group") },
  { name: "http-get-port", file: join(SAMPLES, "keepalived.conf.HTTP_GET.port") },
  { name: "conditional-high", file: join(SAMPLES, "keepalived.conf.conditional_conf"), configId: "high" },
];

// No machine look-ups: the golden files must not depend on the host.
const env = { ...machineEnv({ checkInterfaces: false }), fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "golden" };

describe("effective configuration golden files", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const loaded = loadConfig(c.file, { env, configId: c.configId });
      expect(loaded.diag.errorCount, loaded.diag.list.map((d) => d.message).join("\n")).toBe(0);
      const json = JSON.stringify(loaded.effective, null, 2) + "\n";
      const path = join(GOLDEN, `${c.name}.json`);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, json);
      expect(existsSync(path), `${path} missing: run with UPDATE_GOLDEN=1`).toBe(true);
      expect(json).toBe(readFileSync(path, "utf8"));
    });
  }
});
