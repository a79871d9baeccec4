// Faults operators meet on a running master, driven as they happen: `lbctl daemon -f keepalived.conf`
// in a namespace, the fault made with the usual tools, addresses sampled every 20 ms.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import { holds, keepalivedConf, killStarted, removeWorkDir, sleep, startAddressSampler, startKeepalived, waitFor, waitHolders, workDir } from "./vrrp-lab.ts";

let lab: Lab;
let h1: string, h2: string;
const NET = "10.83.1";
const VIP = `${NET}.100`;

beforeAll(async () => {
  lab = createLab("lbt-fa-");
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

describe("a VIP deleted by hand on the master", () => {
  it("is put back at once and announced (before: gone for good while lbctl kept advertising as MASTER; keepalived: 0.42 s)", async () => {
    const file = join(workDir, "h1.conf");
    writeFileSync(file, keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 83, priority: 150, advertInt: 1, version: 2, vips: [`${VIP}/24`] }));
    const d = lab.spawnIn(h1, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "h1.sock")]);
    daemons.push(d);
    await waitFor("MASTER with the VIP", () => holds(lab, h1, VIP), 8000);
    const s = startAddressSampler(lab, h1, "eth0");
    await sleep(200);
    const t0 = Date.now();
    await lab.run(h1, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]);
    await sleep(1000);
    const samples = (await s.stop()).filter((x) => x.t >= t0);
    const absent = samples.filter((x) => !x.addrs.includes(VIP));
    // At most the sample taken right after the deletion may miss it.
    expect(absent.length).toBeLessThanOrEqual(1);
    expect(samples.at(-1)!.addrs).toContain(VIP);
    expect(d.output().stdout + d.output().stderr).toMatch(/\(VI_1\) virtual address 10\.83\.1\.100\/24 was deleted outside lbctl while MASTER; added it back/);
  }, 30_000);
});

/** The VRRP child's pid, from `lbctl status --json` as an operator would find it. */
async function vrrpChildPid(socket: string): Promise<number> {
  const p = Bun.spawn([...lbctlCommand(), "status", "--json", "--socket", socket], { stdout: "pipe", stderr: "pipe" });
  const out = JSON.parse(await new Response(p.stdout).text()) as { children: { role: string; pid: number | null }[] };
  const pid = out.children.find((c) => c.role === "vrrp")?.pid;
  if (!pid) throw new Error("no VRRP child");
  return pid;
}

describe("the master's VRRP process dies (SIGKILL)", () => {
  it("the restarted process finds the VIP in place and resumes: no gap, the keepalived backup never takes it (keepalived itself: ~3 s without a holder)", async () => {
    const conf = (priority: number) => keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 84, priority, advertInt: 1, version: 2, vips: [`${VIP}/24`] });
    const file = join(workDir, "h1-crash.conf");
    const socket = join(workDir, "h1-crash.sock");
    writeFileSync(file, conf(150));
    const d = lab.spawnIn(h1, [...lbctlCommand(), "daemon", "-f", file, "--socket", socket]);
    daemons.push(d);
    await waitFor("MASTER with the VIP", () => holds(lab, h1, VIP), 8000);
    startKeepalived(lab, h2, conf(100));
    await sleep(4000); // keepalived settled as BACKUP
    await waitHolders(lab, [h1, h2], VIP, [h1], 1000);
    const s1 = startAddressSampler(lab, h1, "eth0");
    const s2 = startAddressSampler(lab, h2, "eth0");
    await sleep(200);
    const before = await vrrpChildPid(socket);
    const t0 = Date.now();
    process.kill(before, "SIGKILL");
    await waitFor("a new VRRP process", async () => (await vrrpChildPid(socket).catch(() => before)) !== before, 5000);
    await sleep(5000); // past keepalived's master down interval
    const [x1, x2] = [(await s1.stop()).filter((x) => x.t >= t0), (await s2.stop()).filter((x) => x.t >= t0)];
    expect(x1.filter((x) => !x.addrs.includes(VIP)).map((x) => x.t - t0)).toEqual([]);
    expect(x2.filter((x) => x.addrs.includes(VIP)).map((x) => x.t - t0)).toEqual([]);
    const out = d.output().stdout + d.output().stderr;
    expect(out).toMatch(/\(VI_1\) its addresses are still in place from the previous VRRP process/);
    expect(out).toMatch(/\(VI_1\) Entering MASTER STATE/);
  }, 40_000);
});

describe("a peer whose VIP list differs (two masters)", () => {
  it("both stay MASTER, as in keepalived, but lbctl says so: status flag, the reason, and an event", async () => {
    const B = `${NET}.101`;
    const file = join(workDir, "h1-mismatch.conf");
    const socket = join(workDir, "h1-mismatch.sock");
    writeFileSync(file, keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 85, priority: 150, advertInt: 1, version: 2, vips: [`${VIP}/24`] }));
    const d = lab.spawnIn(h1, [...lbctlCommand(), "daemon", "-f", file, "--socket", socket]);
    daemons.push(d);
    await waitFor("MASTER with the VIP", () => holds(lab, h1, VIP), 8000);
    const events = lab.spawnIn(h1, [...lbctlCommand(), "events", "--json", "--socket", socket]);
    startKeepalived(lab, h2, keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 85, priority: 100, advertInt: 1, version: 2, vips: [`${VIP}/24`, `${B}/24`] }));
    await waitFor("keepalived MASTER too", () => holds(lab, h2, B), 8000);
    expect(await holds(lab, h2, VIP)).toBe(true);
    expect(await holds(lab, h1, VIP)).toBe(true);
    // keepalived (lower priority, but it drops our adverts too) stays MASTER; lbctl drops its adverts and says why.
    const status = (json: boolean) => lab.run(h1, [...lbctlCommand(), "status", ...(json ? ["--json"] : []), "--socket", socket]);
    await waitFor("flagged", async () => (await status(false)).includes("MASTER (peer mismatch)"), 5000);
    const text = await status(false);
    expect(text).toMatch(new RegExp(`VI_1: adverts of ${NET.replace(/\./g, "\\.")}\\.2 dropped for .*: received 2 addresses, expected 1; both can be MASTER`));
    const inst = (JSON.parse(await status(true)) as { vrrp: { instances: { peerMismatch?: { peer: string; reason: string } }[] } }).vrrp.instances[0]!;
    expect(inst.peerMismatch).toMatchObject({ peer: `${NET}.2`, reason: "addressCountMismatch" });
    await waitFor("event", () => events.output().stdout.includes("\"vrrp-peer-mismatch\""), 3000);
    events.kill("SIGTERM");
    expect(d.output().stdout + d.output().stderr).toMatch(/\(VI_1\) dropping the adverts of 10\.83\.1\.2, a router of VRID 85 configured differently/);
  }, 40_000);
});
