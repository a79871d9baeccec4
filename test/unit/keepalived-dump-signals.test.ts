// The shell around the dump formatters: where the files go, how they are written, and the
// real-time signal handler Bun itself cannot provide (signal 36 would otherwise kill the daemon).
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpDir, onRealtimeSignal, writeAtomically, writeDump } from "../../src/daemon/keepalived-signals.ts";
import { fixtureConfig, fixtureStatus } from "./keepalived-dump-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "lbctl-dump-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logs() {
  const lines: string[] = [];
  return { lines, warning: (m: string) => lines.push(`warning: ${m}`), info: (m: string) => lines.push(`info: ${m}`) };
}

describe("dump files", () => {
  it("go to $TMPDIR when it is absolute, else /tmp (keepalived's set_tmp_dir)", () => {
    expect(dumpDir({ TMPDIR: "/var/tmp/x" })).toBe("/var/tmp/x");
    expect(dumpDir({ TMPDIR: "relative" })).toBe("/tmp");
    expect(dumpDir({})).toBe("/tmp");
  });

  it("are replaced whole, 0600, and a symlink in the way is replaced, not followed", () => {
    const target = join(dir, "victim");
    writeFileSync(target, "precious");
    const path = join(dir, "keepalived.data");
    symlinkSync(target, path);
    writeAtomically(path, "new\n");
    expect(readFileSync(path, "utf8")).toBe("new\n");
    expect(readFileSync(target, "utf8")).toBe("precious");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("SIGUSR1 writes keepalived.data, and keepalived_check.data only with virtual servers", () => {
    const d = mkdtempSync(join(dir, "data-"));
    const log = logs();
    const written = writeDump("data", { dir: d, status: () => fixtureStatus("a"), config: () => fixtureConfig("a"), hostname: "h", log });
    expect(written).toEqual([join(d, "keepalived.data")]);
    expect(readFileSync(written[0]!, "utf8")).toContain(" VRRP Instance = VI_1\n");
    expect(log.lines).toEqual([`info: wrote ${join(d, "keepalived.data")}`]);
  });

  it("the JSON dump is not written without VRRP instances, as keepalived", () => {
    const d = mkdtempSync(join(dir, "json-"));
    const empty = { ...fixtureStatus("a"), vrrp: { instances: [], unmatched: { unknownVrid: 0, malformed: 0 } } };
    expect(writeDump("json", { dir: d, status: () => empty, config: () => ({}), hostname: "h", log: logs() })).toEqual([]);
    expect(existsSync(join(d, "keepalived.json"))).toBe(false);
    expect(writeDump("stats", { dir: d, status: () => empty, config: () => ({}), hostname: "h", log: logs() })).toEqual([join(d, "keepalived.stats")]);
  });

  it("a directory it cannot write to is a logged warning", () => {
    const log = logs();
    expect(writeDump("stats", { dir: join(dir, "missing"), status: () => fixtureStatus("a"), config: () => ({}), hostname: "h", log })).toEqual([]);
    expect(log.lines[0]).toMatch(/^warning: cannot write .*missing\/keepalived\.stats: /);
  });
});

describe("real-time signals", () => {
  it("are delivered to the event loop instead of killing the process", async () => {
    // SIGRTMIN+10 on glibc: unused by Bun and by the test runner.
    const signo = 44;
    let calls = 0;
    expect(onRealtimeSignal(signo, () => { calls++; })).toEqual({ ok: true });
    process.kill(process.pid, signo);
    for (let i = 0; i < 100 && calls < 1; i++) await Bun.sleep(10);
    process.kill(process.pid, signo);
    for (let i = 0; i < 100 && calls < 2; i++) await Bun.sleep(10);
    expect(calls).toBe(2);
  });
});
