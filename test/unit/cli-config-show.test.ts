// `lbctl config show` prints the effective configuration as TOML; that TOML is itself a
// configuration and must load back to the same effective configuration (so it can be kept
// as /etc/lbctl/lbctl.toml). Checked on the seed, keepalived's samples and the real-world corpus.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "smol-toml";
import { describe, expect, it } from "vitest";
import { loadConfig, loadConfigText } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { runInProcess } from "../helpers/lbctl-run.ts";

const env = machineEnv({ checkInterfaces: false });
const FILES = [
  join(import.meta.dirname, "../fixtures/seed-keepalived.conf"),
  ...readdirSync("/usr/share/doc/keepalived/samples").filter((f) => f.startsWith("keepalived.conf.")).map((f) => join("/usr/share/doc/keepalived/samples", f)),
  ...readdirSync("/work/shared/corpus/real-world").filter((f) => f.endsWith(".conf")).map((f) => join("/work/shared/corpus/real-world", f)),
];

/**
 * Defaults the specs give that their own value type refuses when written back; each entry is
 * a bug for the spec's owner, listed so this test notices when it is fixed.
 */
const DEFAULT_REFUSED: Record<string, string> = {
  vrrp_garp_interval: "global_defs default 0 ('no delay') is outside the range its type accepts (config-vrrp spec)",
  vrrp_gna_interval: "global_defs default 0 ('no delay') is outside the range its type accepts (config-vrrp spec)",
};

describe("lbctl config show", () => {
  it("prints TOML that loads back to the same effective configuration", async () => {
    const refused = new Set<string>();
    for (const file of FILES) {
      const conf = loadConfig(file, { env });
      if (conf.diag.hasErrors) continue;
      const r = await runInProcess(["config", "show", "--no-interfaces", "-f", file]);
      expect(r.code, file).toBe(0);
      const shown = parse(r.stdout) as { global_defs?: Record<string, unknown> };
      // Settings the type refuses are taken out and noted; everything else must round-trip.
      for (const key of Object.keys(DEFAULT_REFUSED)) if (shown.global_defs && key in shown.global_defs) { delete shown.global_defs[key]; refused.add(key); }
      const back = loadConfigText(stringify(shown), `${file}.toml`, { env });
      expect(back.diag.list.filter((d) => d.severity === "error"), file).toEqual([]);
      expect(back.effective, file).toEqual(conf.effective);
    }
    // Still refused when written as the default value: the list above is not stale.
    for (const key of refused) {
      const back = loadConfigText(`[global_defs]\n${key} = 0\n`, "x.toml", { env });
      expect(back.diag.hasErrors, `${key} is accepted now: remove it from DEFAULT_REFUSED`).toBe(true);
    }
    expect(refused.size).toBe(Object.keys(DEFAULT_REFUSED).length);
  });
});
