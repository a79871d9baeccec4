// Reloading a running VRRP pair the way an operator does: `lbctl daemon -f keepalived.conf` on h1, and
// as the peer on h2 either another lbctl daemon or keepalived 2.2.7. Each node's configuration file is
// rewritten and the node reloaded (SIGHUP); where both nodes must agree (the VIP list, advert_int and the
// password are checked in every VRRPv2 advert), one node follows the other 300 ms later, well inside the
// master down interval, as a rolling change is done by hand. Both nodes' addresses are sampled every 20 ms
// for the whole run.
//
// Must hold: no sample where the master lacks a VIP it keeps, none where the peer holds one, except where
// the new configuration makes the peer the rightful master, which then takes over once, cleanly.
// Before in-place reload, lbctl restarted the changed instance (priority 0, VIPs released); keepalived
// 2.2.7 keeps the master on a VIP change but lets the backup hold the VIP beside it for about 2.6 s after
// a priority change (LAB.md): neither is accepted here.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import {
  holds, keepalivedConf, killStarted, removeWorkDir, sleep, startAddressSampler, startKeepalived, waitFor, waitHolders, workDir,
  type AddressSample,
} from "./vrrp-lab.ts";

let lab: Lab;
let h1: string, h2: string;
const NET = "10.82.1";
const A = `${NET}.100`;
const B = `${NET}.101`;

beforeAll(async () => {
  lab = createLab("lbt-rl-");
  [h1, h2] = await lab.namespaces("h1", "h2");
  await lab.lan("lan", [
    { ns: h1, ifname: "eth0", address: `${NET}.1/24` },
    { ns: h2, ifname: "eth0", address: `${NET}.2/24` },
  ]);
});

const daemons: SpawnedProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill("SIGKILL");
    await d.exited;
  }
  await killStarted();
});

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

interface Settings {
  priority: number;
  nopreempt?: boolean;
  vips: string[];
  advertInt: number;
  pass: string;
  /** A tracked script that always fails, with this weight. */
  failingScriptWeight?: number;
}

const confText = (c: Settings): string =>
  keepalivedConf({
    name: "VI_1", interface: "eth0", vrid: 82, version: 2, priority: c.priority, nopreempt: c.nopreempt, advertInt: c.advertInt, vips: c.vips.map((v) => `${v}/24`), authPass: c.pass,
    top: c.failingScriptWeight === undefined ? undefined : `vrrp_script chk_down {\n  script "/bin/false"\n  interval 1\n  weight ${c.failingScriptWeight}\n}`,
    extra: c.failingScriptWeight === undefined ? undefined : "  track_script {\n    chk_down\n  }",
  });

interface Node {
  ns: string;
  /** Rewrites the configuration file and reloads (SIGHUP, as `systemctl reload` does for keepalived). */
  reload(c: Settings): void;
  logs(): string;
}

function lbctlNode(ns: string, c: Settings): Node {
  const file = join(workDir, `${ns}-lbctl.conf`);
  writeFileSync(file, confText(c));
  const d = lab.spawnIn(ns, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, `${ns}.sock`)]);
  daemons.push(d);
  return {
    ns,
    reload(next) {
      writeFileSync(file, confText(next));
      d.kill("SIGHUP");
    },
    logs: () => d.output().stdout + d.output().stderr,
  };
}

function keepalivedNode(ns: string, c: Settings): Node {
  const k = startKeepalived(lab, ns, confText(c));
  return {
    ns,
    reload(next) {
      writeFileSync(k.confFile, confText(next));
      k.proc.kill("SIGHUP");
    },
    logs: k.logs,
  };
}

const between = (s: AddressSample[], from: number, to: number) => s.filter((x) => x.t >= from && x.t < to);
const time = (t: number) => new Date(t).toISOString().slice(11, 23);

/** Every sample of [from, to) has `vip` (held) or lacks it (!held); returns what contradicts that. */
function contradictions(s: AddressSample[], from: number, to: number, vip: string, held: boolean): string[] {
  const window = between(s, from, to);
  // A sampler that stalled would make any window pass: at least one sample per 100 ms.
  if (window.length < (to - from) / 100) return [`only ${window.length} samples in ${Math.round(to - from)} ms`];
  return window.filter((x) => x.addrs.includes(vip) !== held).map((x) => `${time(x.t)} ${held ? "lacks" : "holds"} ${vip}`);
}

/** The times `vip` appeared or disappeared in [from, to). */
function changes(s: AddressSample[], from: number, to: number, vip: string): { t: number; held: boolean }[] {
  const out: { t: number; held: boolean }[] = [];
  let last: boolean | null = null;
  for (const x of between(s, from, to)) {
    const held = x.addrs.includes(vip);
    if (last !== null && held !== last) out.push({ t: x.t, held });
    last = held;
  }
  return out;
}

interface Step {
  what: string;
  start: number;
  end: number;
  /** The node that holds the VIPs throughout; null when the step hands them over. */
  holder: "h1" | "h2" | null;
  /** VIPs the holder keeps throughout (VIPs added by the step are checked from `settled`). */
  kept: string[];
  added: string[];
  removed: string[];
  settled: number;
}

async function runPair(peer: "lbctl" | "keepalived"): Promise<void> {
  let c1: Settings = { priority: 150, vips: [A], advertInt: 1, pass: "secret01" };
  let c2: Settings = { priority: 100, vips: [A], advertInt: 1, pass: "secret01" };
  const n1 = lbctlNode(h1, c1);
  const n2 = peer === "lbctl" ? lbctlNode(h2, c2) : keepalivedNode(h2, c2);
  await waitHolders(lab, [h1, h2], A, [h1], 12_000);
  const s1 = startAddressSampler(lab, h1, "eth0");
  const s2 = startAddressSampler(lab, h2, "eth0");
  await sleep(200);
  const steps: Step[] = [];
  const nodes = { h1: n1, h2: n2 };
  /**
   * Applies changes (first node, then the other 300 ms later when both change) and watches for `ms`.
   * `settle`: time after which a VIP the step adds must be up on the holder.
   */
  async function step(what: string, holder: Step["holder"], change: { h1?: Settings; h2?: Settings; first?: "h1" | "h2" }, ms: number) {
    const start = Date.now();
    const order = change.first === "h2" ? (["h2", "h1"] as const) : (["h1", "h2"] as const);
    const before = holder === null ? [] : holder === "h1" ? c1.vips : c2.vips;
    let applied = 0;
    for (const n of order) {
      const next = change[n];
      if (!next) continue;
      if (applied++) await sleep(300);
      nodes[n].reload(next);
      if (n === "h1") c1 = next;
      else c2 = next;
    }
    const settled = Date.now() + 1000;
    await sleep(ms);
    const after = holder === null ? [] : holder === "h1" ? c1.vips : c2.vips;
    steps.push({
      what, start, end: Date.now(), holder, settled,
      kept: before.filter((v) => after.includes(v)), added: after.filter((v) => !before.includes(v)), removed: before.filter((v) => !after.includes(v)),
    });
  }

  // The master's configuration changes.
  await step("h1 and h2 gain VIP B", "h1", { h1: { ...c1, vips: [A, B] }, h2: { ...c2, vips: [A, B] } }, 4500);
  await step("h2 and h1 lose VIP B", "h1", { h1: { ...c1, vips: [A] }, h2: { ...c2, vips: [A] }, first: "h2" }, 4500);
  await step("h1 priority 150 -> 140, still the highest", "h1", { h1: { ...c1, priority: 140 } }, 4500);
  await step("advert_int 1 -> 2 s on both", "h1", { h1: { ...c1, advertInt: 2 }, h2: { ...c2, advertInt: 2 } }, 4500);
  await step("advert_int back to 1 s, and a new password, on both", "h1",
    { h1: { ...c1, advertInt: 1, pass: "secret02" }, h2: { ...c2, advertInt: 1, pass: "secret02" }, first: "h2" }, 4500);
  await step("h1 tracks a failing script, weight -20: 140 - 20 = 120, still the highest", "h1", { h1: { ...c1, failingScriptWeight: -20 } }, 4500);
  const handover1 = Date.now();
  await step("the weight becomes -60: 140 - 60 = 80, below h2 (100), which takes over", null, { h1: { ...c1, failingScriptWeight: -60 } }, 6000);
  // The backup's configuration changes (h1 is now the backup).
  await step("h2 and h1 gain VIP B while h1 is the backup", "h2", { h2: { ...c2, vips: [A, B] }, h1: { ...c1, vips: [A, B] }, first: "h2" }, 4500);
  await step("h1 priority 95 without the script, still below h2", "h2", { h1: { ...c1, priority: 95, failingScriptWeight: undefined } }, 4500);
  const handover2 = Date.now();
  await step("h1 priority 150: h1 preempts h2", null, { h1: { ...c1, priority: 150 } }, 5000);

  const [x1, x2] = [await s1.stop(), await s2.stop()];
  const samples = { h1: x1, h2: x2 };
  const problems: string[] = [];
  for (const st of steps) {
    if (st.holder === null) continue;
    const other = st.holder === "h1" ? "h2" : "h1";
    for (const v of st.kept) problems.push(...contradictions(samples[st.holder], st.start, st.end, v, true).map((p) => `${st.what}: ${st.holder} ${p}`));
    for (const v of st.added) problems.push(...contradictions(samples[st.holder], st.settled, st.end, v, true).map((p) => `${st.what}: ${st.holder} ${p}`));
    for (const v of st.removed) problems.push(...contradictions(samples[st.holder], st.settled, st.end, v, false).map((p) => `${st.what}: ${st.holder} ${p}`));
    for (const v of [A, B]) problems.push(...contradictions(samples[other], st.start, st.end, v, false).map((p) => `${st.what}: ${other} ${p}`));
  }
  // The two handovers: the VIP moves once, from one node to the other, with no long gap.
  for (const [from, to, t0, what] of [["h1", "h2", handover1, "weight -60"], ["h2", "h1", handover2, "priority 150"]] as const) {
    const step = steps.find((s) => s.start >= t0 - 5)!;
    const lost = changes(samples[from], step.start, step.end, A);
    const won = changes(samples[to], step.start, step.end, A);
    expect(lost.map((c) => c.held), `${what}: ${from} gives A up once`).toEqual([false]);
    expect(won.map((c) => c.held), `${what}: ${to} takes A once`).toEqual([true]);
    // The new master adds the VIP after its advert; the old one drops it on receipt: at most a sample apart.
    expect(Math.abs(won[0]!.t - lost[0]!.t), `${what}: handover gap`).toBeLessThan(250);
  }
  expect(problems).toEqual([]);
  // In place, never through a restart: lbctl never left MASTER/BACKUP through STOP, and said so.
  expect(n1.logs()).not.toMatch(/Entering STOP STATE/);
  expect(n1.logs()).toMatch(/[1-9]\d* reconfigured in place/);
  if (peer === "lbctl") expect(n2.logs()).not.toMatch(/Entering STOP STATE/);
  expect(await holds(lab, h1, A)).toBe(true);
}

describe("reload keeps every instance's state (VIPs sampled every 20 ms on both nodes)", () => {
  it("lbctl and lbctl", async () => {
    await runPair("lbctl");
  }, 90_000);

  it("lbctl and keepalived 2.2.7", async () => {
    await runPair("keepalived");
  }, 90_000);
});

describe("the issue's seed-like pair: state BACKUP, nopreempt, PASS auth (a restart here lost the VIP for good)", () => {
  it("lbctl (150) with keepalived 2.2.7 (100): the master gains VIP B, then its priority goes 150 -> 140; it stays the only master", async () => {
    let c1: Settings = { priority: 150, vips: [A], advertInt: 1, pass: "1111", nopreempt: true };
    const c2: Settings = { priority: 100, vips: [A], advertInt: 1, pass: "1111", nopreempt: true };
    const n1 = lbctlNode(h1, c1);
    await waitHolders(lab, [h1, h2], A, [h1], 8000);
    const n2 = keepalivedNode(h2, c2);
    await sleep(4000); // keepalived past its master down interval, as BACKUP
    const s1 = startAddressSampler(lab, h1, "eth0");
    const s2 = startAddressSampler(lab, h2, "eth0");
    const t0 = Date.now();
    c1 = { ...c1, vips: [A, B] };
    n1.reload(c1);
    await sleep(300);
    n2.reload({ ...c2, vips: [A, B] });
    await sleep(4000);
    const t1 = Date.now();
    n1.reload({ ...c1, priority: 140 });
    await sleep(4000);
    const t2 = Date.now();
    const [x1, x2] = [await s1.stop(), await s2.stop()];
    expect([
      ...contradictions(x1, t0, t2, A, true),
      ...contradictions(x1, t0 + 1000, t2, B, true),
      ...contradictions(x2, t0, t2, A, false),
      ...contradictions(x2, t0, t2, B, false),
    ]).toEqual([]);
    expect(t2 - t1).toBeGreaterThan(3500); // keepalived's master down interval passed after the priority change
    expect(n1.logs()).not.toMatch(/Entering STOP STATE/);
  }, 40_000);
});

describe("sync groups across a reload", () => {
  it("a sync group of two instances reloaded with one member changed keeps both members' states", async () => {
    const C = `${NET}.110`, D = `${NET}.111`;
    const text = (prio2: number, vipsD: string[]) => `global_defs {\n  vrrp_version 3\n}
vrrp_sync_group G {\n  group {\n    VI_C\n    VI_D\n  }\n}
vrrp_instance VI_C {\n  interface eth0\n  virtual_router_id 90\n  priority 150\n  advert_int 0.1\n  virtual_ipaddress {\n    ${C}/24\n  }\n}
vrrp_instance VI_D {\n  interface eth0\n  virtual_router_id 91\n  priority ${prio2}\n  advert_int 0.1\n  virtual_ipaddress {\n${vipsD.map((v) => `    ${v}/24`).join("\n")}\n  }\n}
`;
    const file = join(workDir, "sync.conf");
    writeFileSync(file, text(150, [D]));
    const d = lab.spawnIn(h1, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "sync.sock")]);
    daemons.push(d);
    await waitFor("both members MASTER", async () => (await holds(lab, h1, C)) && (await holds(lab, h1, D)), 8000);
    const s = startAddressSampler(lab, h1, "eth0");
    const t0 = Date.now();
    writeFileSync(file, text(140, [D, B]));
    d.kill("SIGHUP");
    await waitFor("VIP B added in place", () => holds(lab, h1, B), 3000);
    await sleep(1500);
    const samples = await s.stop();
    expect([...contradictions(samples, t0, Date.now(), C, true), ...contradictions(samples, t0, Date.now(), D, true)]).toEqual([]);
    const out = d.output().stdout + d.output().stderr;
    expect(out).toMatch(/1 kept, 1 reconfigured in place/);
    expect(out).not.toMatch(/Entering (STOP|BACKUP) STATE \((?!init)/);
  }, 30_000);
});
