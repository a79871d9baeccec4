import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DrainStore, parseDrainFile } from "../../src/daemon/drain-store.ts";
import { EventLog } from "../../src/daemon/events.ts";
import type { SupervisorLike } from "../../src/daemon/control-api.ts";
import type { Supervisor } from "../../src/daemon/supervisor.ts";
import { sampleFacade, T0 } from "./api-fixture.ts";

// Type-level: the real Supervisor must fit what the facade uses (tsc fails here if they drift).
const supervisorFits: (s: Supervisor) => SupervisorLike = (s) => s;
void supervisorFits;

const dirs: string[] = [];
function tempDir(): string { const d = mkdtempSync(join(tmpdir(), "lbt-ct-")); dirs.push(d); return d; }
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe("SupervisorFacade.status", () => {
  it("assembles daemon info, children, VRRP and virtual servers", () => {
    const { facade, sup } = sampleFacade();
    sup.lastReload = { at: T0 - 5, ok: false, message: "x.conf:1:1: error: bad" };
    sup.reloadCount = 4;
    const s = facade.status();
    expect(s.apiVersion).toBe(1);
    expect(s.daemon).toEqual({ version: "0.1.0", pid: 1000, startedAt: T0 - 3_600_000, configPath: "/etc/lbctl/lbctl.toml", configReason: "it sets something, so it comes before /etc/keepalived/keepalived.conf", reloadCount: 4, lastReload: { at: T0 - 5, ok: false, message: "x.conf:1:1: error: bad" } });
    expect(s.children).toEqual([{ role: "vrrp", pid: 1001, ready: true, restarts: 0 }, { role: "check", pid: 1002, ready: true, restarts: 2 }]);
    expect(s.vrrp.instances).toHaveLength(2);
    expect(s.virtualServers).toHaveLength(3);
  });
  it("works before the children have reported anything", () => {
    const { facade, sup } = sampleFacade();
    sup.children = {};
    const s = facade.status();
    expect(s.vrrp.instances).toEqual([]);
    expect(s.virtualServers).toEqual([]);
  });
});

describe("SupervisorFacade.freshStatus", () => {
  it("asks the children first, then shows what they answered", async () => {
    const { facade, sup } = sampleFacade();
    sup.onRefresh = () => { sup.children.check = { virtualServers: [] }; };
    expect(facade.status().virtualServers.length).toBeGreaterThan(0);
    const s = await facade.freshStatus();
    expect(sup.refreshes).toBe(1);
    expect(s.virtualServers).toEqual([]);
  });
});

describe("SupervisorFacade actions", () => {
  it("routes each action to the child that owns it, with its arguments", async () => {
    const { facade, sup } = sampleFacade();
    await facade.action({ kind: "force-backup", instance: "VI_1" });
    await facade.action({ kind: "disable-checker", vs: "FWM 7", rs: "1.1.1.1:0", checker: "c1" });
    await facade.action({ kind: "resume", instance: "VI_1" });
    expect(sup.actions).toEqual([
      { role: "vrrp", action: "force-backup", args: { instance: "VI_1" } },
      { role: "check", action: "disable-checker", args: { vs: "FWM 7", rs: "1.1.1.1:0", checker: "c1" } },
      { role: "vrrp", action: "resume", args: { instance: "VI_1" } },
    ]);
  });
  it("a drain is saved, shown in status, published, and survives into a new store from the same file", async () => {
    const file = join(tempDir(), "sub", "drains.json");
    const { facade, events } = sampleFacade({ drainFile: file });
    const r = await facade.action({ kind: "drain", vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80" });
    expect(r).toEqual({ ok: true, message: "TCP 10.0.0.100:80 real server 10.0.0.3:80 drained" });
    expect(facade.status().virtualServers[0].realServers.map((x) => x.drained)).toEqual([false, true]);
    expect(events.since(0)).toEqual([{ seq: 1, at: T0, type: "drain", vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", drained: true, message: "TCP 10.0.0.100:80 real server 10.0.0.3:80 drained" }]);
    const again = new DrainStore(file);
    expect(again.load()).toEqual({ ok: true });
    expect(again.list()).toEqual([{ vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", at: T0 }]);
  });
  it("a drain the checker process refuses is neither saved nor published", async () => {
    const { facade, sup, events, drains } = sampleFacade();
    sup.answer = () => ({ ok: false, message: "check process is not running" });
    expect(await facade.action({ kind: "drain", vs: "FWM 7", rs: "1.1.1.1:1" })).toEqual({ ok: false, message: "check process is not running" });
    expect(drains.list()).toEqual([]);
    expect(events.lastSeq).toBe(0);
  });
  it("undrain removes the saved drain", async () => {
    const { facade, drains } = sampleFacade();
    await facade.action({ kind: "drain", vs: "A", rs: "B" });
    await facade.action({ kind: "undrain", vs: "A", rs: "B" });
    expect(drains.list()).toEqual([]);
  });
});

describe("SupervisorFacade.reload", () => {
  it("re-sends every kept drain after an accepted reload and publishes the result", async () => {
    const { facade, sup, events } = sampleFacade();
    await facade.action({ kind: "drain", vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80" });
    sup.actions = [];
    const r = await facade.reload();
    expect(r).toEqual({ ok: true, errors: [], warnings: ["lbctl.toml:3:1: warning: something"] });
    expect(sup.actions).toEqual([{ role: "check", action: "drain", args: { vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80" } }]);
    expect(events.since(1)).toEqual([expect.objectContaining({ type: "reload", ok: true, errors: 0, warnings: 1 })]);
  });
  it("a rejected reload re-sends nothing", async () => {
    const { facade, sup, events } = sampleFacade();
    await facade.action({ kind: "drain", vs: "A", rs: "B" });
    sup.actions = [];
    sup.nextReload = { ok: false, errors: ["f:1:1: error: e"], warnings: [] };
    expect((await facade.reload()).ok).toBe(false);
    expect(sup.actions).toEqual([]);
    expect(events.since(1)[0]).toMatchObject({ type: "reload", ok: false, errors: 1 });
  });
});

describe("SupervisorFacade child events", () => {
  it("numbers child events and child changes in one log", () => {
    const { facade } = sampleFacade();
    facade.childEvent("vrrp", { type: "transition", instance: "VI_1", from: "MASTER", to: "FAULT", reason: "eth0 down" });
    facade.childChanged("check", 2002, "restarted", "exit code 1");
    expect(facade.eventsSince(0).map((e) => [e.seq, e.type, e.message])).toEqual([
      [1, "vrrp-transition", "VI_1: MASTER -> FAULT (eth0 down)"],
      [2, "child", "check process 2002 restarted (exit code 1)"],
    ]);
  });
});

describe("EventLog", () => {
  it("keeps only the newest `capacity` events, with increasing seq", () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.publish({ type: "other", source: "t", data: {}, message: String(i) }, i);
    expect(log.since(0).map((e) => [e.seq, e.message])).toEqual([[3, "2"], [4, "3"], [5, "4"]]);
    expect(log.since(4).map((e) => e.seq)).toEqual([5]);
    expect(log.lastSeq).toBe(5);
  });
  it("delivers to subscribers until they unsubscribe; a throwing subscriber does not stop the others", () => {
    const log = new EventLog();
    const got: number[] = [];
    log.subscribe(() => { throw new Error("boom"); });
    const off = log.subscribe((e) => got.push(e.seq));
    log.publish({ type: "other", source: "t", data: {}, message: "a" }, 1);
    off();
    log.publish({ type: "other", source: "t", data: {}, message: "b" }, 2);
    expect(got).toEqual([1]);
  });
  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new EventLog(0)).toThrow(RangeError);
  });
});

describe("DrainStore file", () => {
  it("a missing file is empty; a corrupt one is reported and keeps the store empty", () => {
    const d = tempDir();
    const missing = new DrainStore(join(d, "none.json"));
    expect(missing.load()).toEqual({ ok: true });
    writeFileSync(join(d, "bad.json"), "{\"version\":2}");
    const bad = new DrainStore(join(d, "bad.json"));
    const r = bad.load();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/bad\.json: expected/);
    expect(bad.list()).toEqual([]);
  });
  it("writes a versioned file, mode 0600, and reports a write failure without changing the store", () => {
    const d = tempDir();
    const s = new DrainStore(join(d, "drains.json"));
    expect(s.add("V", "R", 7)).toBeNull();
    expect(s.add("V", "R", 8)).toBeNull(); // idempotent
    const text = readFileSync(join(d, "drains.json"), "utf8");
    expect(parseDrainFile(text)).toEqual({ drains: [{ vs: "V", rs: "R", at: 7 }] });
    expect(statSync(join(d, "drains.json")).mode & 0o777).toBe(0o600);
    writeFileSync(join(d, "file"), "");
    const blocked = new DrainStore(join(d, "file", "drains.json"));
    expect(blocked.add("V", "R", 1)).toMatch(/cannot save drains to .*file\/drains\.json/);
    expect(blocked.has("V", "R")).toBe(false);
  });
  it("parseDrainFile rejects what is not a drain list", () => {
    expect(parseDrainFile("nope")).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
    expect(parseDrainFile("{\"version\":1,\"drains\":[{\"vs\":1}]}")).toEqual({ error: "each drain needs string vs and rs" });
  });
});
