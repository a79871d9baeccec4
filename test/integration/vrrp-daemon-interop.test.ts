// The real `lbctl daemon -f FILE` against keepalived 2.2.7, both reading the same keepalived.conf
// text (only the priority differs): preemption, graceful stop, crash of the whole daemon.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import { holds, keepalivedConf, killStarted, removeWorkDir, startKeepalived, waitFor, waitHolders, workDir } from "./vrrp-lab.ts";

let lab: Lab;
let lb: string, ka: string;

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [lb, ka] = await lab.namespaces("lb", "ka");
  await lab.lan("lan", [
    { ns: lb, ifname: "eth0", address: "10.81.1.1/24" },
    { ns: ka, ifname: "eth0", address: "10.81.1.2/24" },
  ]);
});

afterEach(killStarted);

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

function childPids(pid: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-P", String(pid)]);
  return r.stdout.toString().trim().split("\n").filter(Boolean).map(Number);
}

describe("lbctl daemon -f keepalived.conf vs keepalived", () => {
  const VIP = "10.81.1.100";
  const conf = (priority: number, version: 2 | 3 = 3) =>
    keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 71, priority, version, advertInt: version === 3 ? 0.1 : 1, vips: [`${VIP}/24`], authPass: version === 2 ? "pw123456" : undefined });
  const lbConf = join(workDir, "lbctl.conf");
  const startDaemon = (priority: number, version: 2 | 3 = 3): SpawnedProcess => {
    writeFileSync(lbConf, conf(priority, version));
    return lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", lbConf]);
  };
  const both = () => [lb, ka];

  it("daemon (150) preempts keepalived (100); SIGTERM hands over at once; restarted it preempts again", async () => {
    const k = startKeepalived(lab, ka, conf(100));
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 3000);
    let d = startDaemon(150);
    try {
      await waitHolders(lab, both(), VIP, [lb], 8000);
      const t0 = performance.now();
      d.kill("SIGTERM");
      expect(await d.exited).toBe(0);
      await waitHolders(lab, both(), VIP, [ka], 1000);
      expect(performance.now() - t0).toBeLessThan(1000);
      d = startDaemon(150);
      await waitHolders(lab, both(), VIP, [lb], 8000);
      expect(k.logs()).toMatch(/\(VI_1\) Entering BACKUP STATE/);
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
  });

  it("a crashed daemon (supervisor and VRRP child stopped, then killed) loses the VIP to keepalived", async () => {
    startKeepalived(lab, ka, conf(100));
    const d = startDaemon(150);
    await waitHolders(lab, both(), VIP, [lb], 8000);
    const pids = [d.pid, ...childPids(d.pid)];
    expect(pids.length).toBe(2);
    for (const p of pids) process.kill(p, "SIGSTOP");
    for (const p of pids) process.kill(p, "SIGKILL");
    await waitFor("keepalived takes over", () => holds(lab, ka, VIP), 2000);
  });

  it("VRRPv2 with PASS authentication: keepalived (100) is preempted by the daemon (150)", async () => {
    startKeepalived(lab, ka, conf(100, 2));
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 6000);
    const d = startDaemon(150, 2);
    try {
      await waitHolders(lab, both(), VIP, [lb], 8000);
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
    await waitHolders(lab, both(), VIP, [ka], 2000);
  });
});
