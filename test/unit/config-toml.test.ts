// The TOML front end: syntax errors from smol-toml and semantic errors from the specs both
// land on the key's line and column, also deep inside arrays of tables and inline arrays.
import { describe, expect, it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../../src/config/diagnostics.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { parseTomlConfig } from "../../src/config/toml.ts";

const env = machineEnv({ checkInterfaces: false });
const errors = (text: string) => loadConfigText(text, "t.toml", { env }).diag.list.filter((d) => d.severity === "error").map(formatDiagnostic);

describe("TOML front end", () => {
  it("turns a syntax error into one diagnostic with line and column", () => {
    const diag = new Diagnostics();
    expect(parseTomlConfig('[global_defs]\nrouter_id = "a\n', "t.toml", diag)).toBeUndefined();
    expect(diag.list.map(formatDiagnostic)).toEqual(["t.toml:2:15: error: TOML syntax: control characters are not allowed in strings"]);
  });

  it("locates errors in nested arrays of tables and inline arrays", () => {
    const text = [
      "[[virtual_server]]",            // 1
      'ip = "10.0.0.1"',               // 2
      "port = 80",                     // 3
      'lb_algo = "rr"',                // 4
      "  [[virtual_server.real_server]]", // 5
      '  ip = "10.0.0.2"',             // 6
      "  port = 80",                   // 7
      "  [[virtual_server.real_server]]", // 8
      '  ip = "10.0.0.3"',             // 9
      "  port = 80",                   // 10
      '  weight = "heavy"',            // 11
      "[[virtual_server]]",            // 12
      'ip = "10.0.0.9"',               // 13
      "port = 443",                    // 14
      "real_server = [",               // 15
      '  { ip = "10.0.0.10", port = 443 },',  // 16
      '  { ip = "10.0.0.11", port = 70000 },', // 17
      "]",
      "",
    ].join("\n");
    expect(errors(text)).toEqual([
      "t.toml:4:1: error: unknown setting 'lb_algo' in virtual_server #1 (did you mean 'lvs_sched'?)",
      "t.toml:11:3: error: 'weight' expects an integer",
      "t.toml:17:23: error: 'port' 70000 is out of range 0..65535",
    ]);
  });

  it("reads dotted keys and inline tables like tables", () => {
    const a = loadConfigText('vrrp_instance.VI_1.priority = 120\nvrrp_instance.VI_1.interface = "eth0"\nvrrp_instance.VI_1.virtual_router_id = 7\nvrrp_instance.VI_1.authentication = { auth_type = "PASS", auth_pass = "x" }\n', "a.toml", { env });
    const b = loadConfigText('[vrrp_instance.VI_1]\npriority = 120\ninterface = "eth0"\nvirtual_router_id = 7\n[vrrp_instance.VI_1.authentication]\nauth_type = "PASS"\nauth_pass = "x"\n', "b.toml", { env });
    expect(a.diag.errorCount).toBe(0);
    expect(a.effective).toEqual(b.effective);
  });

  it("accepts what convert writes for the seed configuration", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { modelToToml } = await import("../../src/config/convert.ts");
    const seed = join(import.meta.dirname, "../fixtures/seed-keepalived.conf");
    const conf = loadConfigText(readFileSync(seed, "utf8"), seed, { env });
    const toml = modelToToml(conf.model, seed);
    expect(toml).toContain('[[virtual_server.real_server]]\nip = "192.168.26.36"\nport = 9999\n');
    const back = loadConfigText(toml, "seed.toml", { env });
    expect(back.diag.errorCount).toBe(0);
    expect(back.effective).toEqual(conf.effective);
  });
});
