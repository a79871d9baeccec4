// lbctl check / convert / config show: exit codes, output format, and no stack trace on
// anything a user can hand them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { resolveVrrp, resolvedView } from "../../src/config/resolve-vrrp.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { lbctlCommand, runInProcess } from "../helpers/lbctl-run.ts";

const dir = mkdtempSync(join(tmpdir(), "lbt-cf-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A named pipe: reading it would block forever. */
function fifo(): string {
  const p = join(dir, "fifo");
  if (Bun.spawnSync(["mkfifo", p]).exitCode !== 0) throw new Error("mkfifo failed");
  return p;
}
const GOOD_TEXT = () => readFileSync(GOOD, "utf8");
const file = (name: string, text: string | Uint8Array): string => { const p = join(dir, name); writeFileSync(p, text); return p; };

const GOOD = file("good.conf", "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n");
const WARN = file("warn.conf", GOOD_TEXT().replace("  priority 150\n", "  no_such_keyword\n"));
const BAD = file("bad.conf", GOOD_TEXT().replace("priority 150", "priority 0"));

describe("lbctl check", () => {
  it("exits 0 on a clean file and says so", async () => {
    const r = await runInProcess(["check", "--no-interfaces", "-f", GOOD]);
    expect(r).toEqual({ code: 0, stdout: `lbctl: no problems in ${GOOD}\n`, stderr: "" });
  });

  it("exits 2 with warnings only, 1 with errors", async () => {
    const w = await runInProcess(["check", "--no-interfaces", "-f", WARN]);
    expect(w.code).toBe(2);
    expect(w.stdout).toBe(`${WARN}:4:3: warning: unknown keyword 'no_such_keyword' in vrrp_instance VI_1\nlbctl: 0 errors, 1 warning in ${WARN}\n`);
    const e = await runInProcess(["check", "--no-interfaces", "-f", BAD]);
    expect(e.code).toBe(1);
    expect(e.stdout).toBe(`${BAD}:4:12: error: 'priority' 0 is out of range 1..255\nlbctl: 1 error, 0 warnings in ${BAD}\n`);
  });

  it("reports a missing file, a directory, an unreadable file, a device and a FIFO as errors", async () => {
    const cases: [string, string][] = [
      [join(dir, "nope.conf"), "no such file"],
      [dir, "is a directory"],
      ["/proc/self/mem", "input/output error"],
      [`${GOOD}/x`, "not a directory"],
      ["/dev/zero", "not a regular file"],
      [fifo(), "not a regular file"],
    ];
    for (const [path, why] of cases) {
      const r = await runInProcess(["check", "-f", path]);
      expect(r.code, path).toBe(1);
      expect(r.stdout, path).toContain(`error: cannot read ${path}: `);
      expect(r.stdout, path).toContain(why);
      expect(r.stdout, path).toContain(`lbctl: 1 error, 0 warnings in ${path}\n`);
    }
  });

  it("survives binary garbage and random text", async () => {
    const bytes = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) { x = (x * 1103515245 + 12345) >>> 0; bytes[i] = x >>> 24; }
    const bin = file("garbage.conf", bytes);
    const r = await runInProcess(["check", "-f", bin]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("is not a text file");
    const text = file("noise.conf", Array.from(bytes, (b) => "{}\"'#!$@~ \nabc=[]"[b % 17]).join(""));
    const t = await runInProcess(["check", "-f", text]);
    expect([1, 2]).toContain(t.code);
    expect(t.stdout.trimEnd().split("\n").at(-1)).toMatch(/^lbctl: \d+ errors?, \d+ warnings? in /);
  });

  it("rejects unknown options with the usage, exit 64", async () => {
    const r = await runInProcess(["check", "--frobnicate"]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe("lbctl: Unknown option '--frobnicate'\nusage: lbctl check [-f FILE] [--config-id ID] [--no-interfaces]\n");
  });

  it("prints its whole report into a pipe before exiting", () => {
    const many = file("many.conf", GOOD_TEXT().replace("  priority 150\n", "  unknown_thing\n".repeat(5000)));
    const r = Bun.spawnSync([...lbctlCommand(), "check", "--no-interfaces", "-f", many], { stdout: "pipe", stderr: "pipe" });
    const lines = r.stdout.toString().trimEnd().split("\n");
    // 1,000 listed (over 64 KiB: more than a pipe holds), one line for the rest, then the count.
    expect(lines.length).toBe(1002);
    expect(lines).toContain("warning: 4000 more warnings not listed (the first 1000 are)");
    expect(lines.at(-1)).toBe(`lbctl: 0 errors, 5000 warnings in ${many}`);
    expect(r.exitCode).toBe(2);
  });

  it("never prints a stack trace as a process either", () => {
    for (const args of [["check", "-f", dir], ["check", "-f", "/proc/self/mem"], ["config", "show", "-f", join(dir, "garbage.conf")], ["convert", dir]]) {
      const r = Bun.spawnSync([...lbctlCommand(), ...args], { stdout: "pipe", stderr: "pipe" });
      const all = r.stdout.toString() + r.stderr.toString();
      expect(r.exitCode, args.join(" ")).toBe(1);
      expect(all, args.join(" ")).not.toMatch(/^\s+at |Error:/m);
    }
  });
});

describe("lbctl config show", () => {
  it("prints the effective configuration, defaults included, as TOML or JSON", async () => {
    const t = await runInProcess(["config", "show", "--no-interfaces", "-f", GOOD]);
    expect(t.code).toBe(0);
    const toml = parse(t.stdout) as { vrrp_instance: Record<string, Record<string, unknown>> };
    expect(toml.vrrp_instance.VI_1).toMatchObject({ interface: "eth0", priority: 150, state: "BACKUP", advert_int: 1 });
    const j = await runInProcess(["config", "show", "--json", "--no-interfaces", "-f", GOOD]);
    const effective = loadConfig(GOOD, { env: machineEnv({ checkInterfaces: false }) }).effective;
    // The effective configuration, plus the resolved VRRP model (resolve-vrrp.ts).
    const { vrrp_resolved, ...rest } = JSON.parse(j.stdout) as Record<string, unknown>;
    expect(rest).toEqual(effective);
    expect(vrrp_resolved).toEqual(JSON.parse(JSON.stringify(resolvedView(resolveVrrp(effective, machineEnv({ checkInterfaces: false }))))));
  });

  it("shows nothing for a configuration with errors", async () => {
    const r = await runInProcess(["config", "show", "-f", BAD]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${BAD}:4:12: error: 'priority' 0 is out of range 1..255`);
  });

  it("needs its subcommand", async () => {
    expect((await runInProcess(["config"])).code).toBe(64);
    expect((await runInProcess(["config", "frob"])).code).toBe(64);
  });
});

describe("lbctl convert", () => {
  it("writes TOML that loads to the same effective configuration", async () => {
    const out = join(dir, "good.toml");
    const r = await runInProcess(["convert", GOOD, "-o", out]);
    expect(r.code).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text.split("\n")[0]).toBe(`# Converted by lbctl from ${GOOD}.`);
    const env = machineEnv({ checkInterfaces: false });
    expect(loadConfig(out, { env }).effective).toEqual(loadConfig(GOOD, { env }).effective);
  });

  it("refuses a configuration with errors", async () => {
    const r = await runInProcess(["convert", BAD]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("not converted");
  });

  it("needs a FILE", async () => {
    expect((await runInProcess(["convert"])).code).toBe(64);
  });
});

describe("lbctl help", () => {
  it("has usage and summary for each configuration command", async () => {
    for (const [cmd, usage] of [["check", "lbctl check [-f FILE]"], ["convert", "lbctl convert FILE [-o OUT]"], ["config", "lbctl config show [-f FILE] [--json]"]]) {
      const r = await runInProcess(["help", cmd!]);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(usage!)).toBe(true);
    }
  });
});
