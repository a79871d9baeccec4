// Each child is sent only the sections it reads: nothing it needs may be lost on the way.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import { checkMapping } from "../../src/daemon/check-config.ts";
import { configForRole } from "../../src/daemon/protocol.ts";
import { vrrpRuntimeConfig } from "../../src/daemon/vrrp-config.ts";

const SAMPLES = "/usr/share/doc/keepalived/samples";
const files = [
  ["seed", readFileSync("test/fixtures/seed-keepalived.conf", "utf8")],
  ...readdirSync(SAMPLES).filter((f) => f.startsWith("keepalived.conf")).map((f) => [f, readFileSync(`${SAMPLES}/${f}`, "utf8")]),
] as [string, string][];

const lookups = {
  primaryAddress: () => "192.0.2.1", user: () => ({ uid: 1000, gid: 1000 }), insecure: () => undefined,
  hostname: "lb1",
};

describe("configForRole", () => {
  it("leaves the other role's sections out and keeps global_defs in both", () => {
    const eff = loadConfigText(readFileSync("test/fixtures/seed-keepalived.conf", "utf8"), "seed.conf").effective;
    expect(Object.keys(eff)).toEqual(expect.arrayContaining(["global_defs", "vrrp_instance", "virtual_server"]));
    const vrrp = configForRole("vrrp", eff);
    const check = configForRole("check", eff);
    expect(vrrp.virtual_server).toBeUndefined();
    expect(check.vrrp_instance).toBeUndefined();
    expect(vrrp.global_defs).toBe(eff.global_defs);
    expect(check.global_defs).toBe(eff.global_defs);
  });

  it.each(files)("%s: each role maps its part exactly as it maps the whole", (_name, text) => {
    const eff = loadConfigText(text, "keepalived.conf").effective;
    const vrrp = (m: typeof eff) => vrrpRuntimeConfig(m, { primaryAddress: lookups.primaryAddress, user: lookups.user, insecure: lookups.insecure });
    expect(JSON.stringify(vrrp(configForRole("vrrp", eff)))).toBe(JSON.stringify(vrrp(eff)));
    const check = (m: typeof eff) => checkMapping(m, { user: lookups.user, hostname: lookups.hostname });
    expect(JSON.stringify(check(configForRole("check", eff)))).toBe(JSON.stringify(check(eff)));
  });
});
