import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chooseConfig, detectFormat, KEEPALIVED_CONFIG_PATH, loadConfig, loadConfigText, setsNothing, TOML_CONFIG_PATH } from "../../src/config/load.ts";
import { machineEnv, passwdUsers } from "../../src/config/machine-env.ts";

const env = machineEnv({ checkInterfaces: false });
const dir = mkdtempSync(join(tmpdir(), "lbt-cf-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("chooseConfig (the file a command reads without -f)", () => {
  const absent = { exists: false } as const;
  const text = (t: string) => ({ exists: true, text: t }) as const;
  const example = "# /etc/lbctl/lbctl.toml\n\n# [vrrp_instance.VI_1]\n# priority = 100\n";

  it("takes -f FILE whatever else exists", () => {
    expect(chooseConfig("x.conf", text("[global_defs]\n"), text(""))).toEqual({ path: "x.conf", reason: "given with -f" });
    expect(chooseConfig("x.conf", absent, absent)).toEqual({ path: "x.conf", reason: "given with -f" });
  });

  it("reads lbctl.toml when it sets something, even beside keepalived.conf", () => {
    expect(chooseConfig(undefined, text("[global_defs]\nrouter_id = 'a'\n"), text(""))).toEqual({ path: TOML_CONFIG_PATH, reason: `it sets something, so it comes before ${KEEPALIVED_CONFIG_PATH}` });
    expect(chooseConfig(undefined, text("nonsense"), absent)).toMatchObject({ path: TOML_CONFIG_PATH });
  });

  it("reads keepalived.conf when lbctl.toml is the shipped comments-only example or absent", () => {
    expect(chooseConfig(undefined, text(example), text(""))).toEqual({ path: KEEPALIVED_CONFIG_PATH, reason: `${TOML_CONFIG_PATH} sets nothing` });
    expect(chooseConfig(undefined, text(""), text(""))).toEqual({ path: KEEPALIVED_CONFIG_PATH, reason: `${TOML_CONFIG_PATH} sets nothing` });
    expect(chooseConfig(undefined, absent, text(""))).toEqual({ path: KEEPALIVED_CONFIG_PATH, reason: `${TOML_CONFIG_PATH} does not exist` });
  });

  it("reads an unreadable lbctl.toml (so its error is shown) rather than skip to keepalived.conf", () => {
    expect(chooseConfig(undefined, { exists: true, error: "permission denied" }, text(""))).toEqual({ path: TOML_CONFIG_PATH, reason: `it exists (permission denied), so it comes before ${KEEPALIVED_CONFIG_PATH}` });
  });

  it("names both paths when there is nothing to read", () => {
    for (const toml of [absent, text(example)]) {
      const r = chooseConfig(undefined, toml, absent);
      expect("error" in r && r.error).toMatch(/^no configuration: .*\/etc\/lbctl\/lbctl\.toml (does not exist|sets nothing).*\/etc\/keepalived\/keepalived\.conf does not exist; .*-f FILE/);
    }
  });
});

describe("loadConfig", () => {
  it("finds no problem in a TOML file of comments only, and says it sets nothing", () => {
    const empty = loadConfigText("# nothing yet\n# [global_defs]\n", "lbctl.toml", { env });
    expect(empty.diag.list).toEqual([]);
    expect(empty.setsNothing).toBe(true);
    // keepalived.conf has no such exemption, and a TOML table that is there sets something.
    expect(loadConfigText("# nothing\n", "keepalived.conf", { env }).diag.warningCount).toBe(1);
    const table = loadConfigText("[global_defs]\n", "lbctl.toml", { env });
    expect(table.setsNothing).toBe(false);
    expect(table.diag.list.map((d) => d.message)).toEqual([expect.stringMatching(/^nothing to run/)]);
  });

  it("tells a TOML file that sets nothing (comments, blank lines) from one that sets something", () => {
    expect(setsNothing("")).toBe(true);
    expect(setsNothing("# a comment\n\n   # indented\r\n\t\n#[vrrp_instance.VI_1]\n# priority = 100\n")).toBe(true);
    expect(setsNothing("# c\n[global_defs]\n")).toBe(false);
    expect(setsNothing("  router_id = 'x' # trailing comment\n")).toBe(false);
    // Not valid TOML, but something: its errors are for the user to see, not a reason to skip it.
    expect(setsNothing("# c\nthis is not toml\n")).toBe(false);
  });

  it("tells TOML from keepalived.conf by extension, then by the first statement", () => {
    expect(detectFormat("x.toml", "vrrp_instance A {")).toBe("toml");
    expect(detectFormat("x.conf", "# c\n! c\n\nvrrp_instance A {\n}")).toBe("keepalived");
    expect(detectFormat("x.conf", "# c\n[vrrp_instance.A]\n")).toBe("toml");
    expect(detectFormat("x", "\nglobal_defs.router_id = 'a'\n")).toBe("toml");
    expect(detectFormat("x", "")).toBe("keepalived");
  });

  it("reads both formats to the same model and effective configuration", () => {
    const conf = loadConfigText("global_defs {\n  router_id r1\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  priority 150\n  nopreempt\n  virtual_ipaddress {\n    10.1.1.1/24\n  }\n}\n", "a.conf", { env });
    const toml = loadConfigText('[global_defs]\nrouter_id = "r1"\n[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 9\npriority = 150\nnopreempt = true\nvirtual_ipaddress = [ "10.1.1.1/24" ]\n', "a.toml", { env });
    expect(conf.format).toBe("keepalived");
    expect(toml.format).toBe("toml");
    expect(conf.diag.list).toEqual([]);
    expect(toml.diag.list).toEqual([]);
    expect(toml.model).toEqual(conf.model);
    expect(toml.effective).toEqual(conf.effective);
    expect((conf.effective.vrrp_instance as Record<string, Record<string, unknown>>).VI_1).toMatchObject({ priority: 150, nopreempt: true, state: "BACKUP" });
  });

  it("lists the included files it read", () => {
    const inc = join(dir, "inc.conf");
    writeFileSync(inc, "vrrp_instance VI_2 {\n}\n");
    const main = join(dir, "main.conf");
    writeFileSync(main, `include ${inc}\n`);
    const r = loadConfig(main, { env });
    expect(r.files).toEqual([main, inc]);
    expect(Object.keys(r.model.vrrp_instance as object)).toEqual(["VI_2"]);
  });

  it("selects @ID lines with the config id", () => {
    const text = "vrrp_instance VI_1 {\n@high priority 170\n@low priority 85\n}\n";
    const prio = (id: string) => ((loadConfigText(text, "c.conf", { env, configId: id }).effective.vrrp_instance as Record<string, Record<string, unknown>>).VI_1!.priority);
    expect(prio("high")).toBe(170);
    expect(prio("low")).toBe(85);
  });

  it("never throws: an unreadable path is a diagnostic with empty defaults", () => {
    const r = loadConfig(dir, { env });
    expect(r.diag.list).toEqual([{ severity: "error", message: `cannot read ${dir}: is a directory`, loc: undefined }]);
    expect(r.files).toEqual([]);
  });
});

describe("machineEnv", () => {
  it("checks interfaces in this namespace only when asked", () => {
    const m = machineEnv();
    expect(m.interfaceExists?.("lo")).toBe(true);
    expect(m.interfaceExists?.("lbtcf-none0")).toBe(false);
    expect(m.interfaceExists?.("../lo")).toBe(false);
    expect(machineEnv({ checkInterfaces: false }).interfaceExists).toBeUndefined();
  });

  it("reads the addresses of an interface (for the address-owner check)", () => {
    const m = machineEnv();
    expect(m.interfaceAddresses?.("lo")).toContain("127.0.0.1");
    expect(m.interfaceAddresses?.("lbtcf-none0")).toEqual([]);
    expect(machineEnv({ checkInterfaces: false }).interfaceAddresses).toBeUndefined();
  });

  it("knows files, executables and users", () => {
    const passwd = join(dir, "passwd");
    writeFileSync(passwd, "root:x:0:0:root:/root:/bin/bash\n# comment\nkeepalived_script:x:999:999::/:/usr/sbin/nologin\n");
    const m = machineEnv({ passwdFile: passwd });
    expect(m.userExists("keepalived_script")).toBe(true);
    expect(m.userExists("nobody_here")).toBe(false);
    expect(m.fileExists(passwd)).toBe(true);
    expect(m.isExecutable(passwd)).toBe(false);
    expect(m.isExecutable("/bin/sh")).toBe(true);
    expect(m.fileExists(dir)).toBe(false);
    expect([...passwdUsers("a:x\n\nb:y\n")]).toEqual(["a", "b"]);
  });
});
