// Tracking and notifications on the wire: vrrp_script (weight and weight 0), the instance's own
// interface (rtnetlink events), track_file, vrrp_track_process, a sync group moving together, notify
// scripts in order and notify_fifo lines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { createLab, type Lab } from "../helpers/netns.ts";
import type { RuntimeConfig } from "../../src/vrrp/runtime.ts";
import { holds, instance, removeWorkDir, sleep, startLbNode, waitFor, waitHolders, workDir, type LbNode } from "./vrrp-lab.ts";

const VIP1 = "10.80.1.100", VIP2 = "10.80.1.101", VIP3 = "10.80.1.102";
const okFile = join(workDir, "ok"), faultFile = join(workDir, "fault"), valueFile = join(workDir, "value");
const notifyLog = join(workDir, "notify.log"), fifo = join(workDir, "notify.fifo"), fifoOut = join(workDir, "fifo.out");
const trackedBinary = join(workDir, "lbtvrproc");
let lab: Lab;
let a: string, b: string;
let na: LbNode, nb: LbNode;
let fifoReader: ReturnType<typeof Bun.spawn> | null = null;

function config(primaryIp: string, priority: number, tracked: boolean): RuntimeConfig {
  const common = { interface: "eth0", primaryIp, priority, advertIntervalMs: 100 };
  return {
    instances: [
      instance({
        name: "VI_1", vrid: 91, vips: [VIP1], ...common,
        ...(tracked
          ? {
              trackScripts: [{ name: "chk_ok" }, { name: "chk_fault" }],
              trackInterfaces: [{ name: "eth1", weight: -60 }],
              trackFiles: [{ name: "tf" }],
              trackProcesses: [{ name: "tp" }],
              notify: { master: `/bin/sh -c 'echo master-script >> ${notifyLog}'`, generic: `/bin/sh -c 'echo "$1 $2 $3 $4" >> ${notifyLog}' notify` },
            }
          : {}),
      }),
      // In a sync group: the weighted chk_ok is ignored (as keepalived does), the weight-0 chk_fault counts.
      instance({ name: "VI_2", vrid: 92, vips: [VIP2], ...common, ...(tracked ? { trackScripts: [{ name: "chk_ok" }, { name: "chk_fault" }] } : {}) }),
      instance({ name: "VI_3", vrid: 93, vips: [VIP3], ...common }),
    ],
    syncGroups: [{ name: "G1", members: ["VI_2", "VI_3"], notify: tracked ? { generic: `/bin/sh -c 'echo "$1 $2 $3 $4" >> ${notifyLog}' notify` } : undefined }],
    scripts: tracked
      ? [
          { name: "chk_ok", script: `/usr/bin/test -f ${okFile}`, intervalMs: 100, weight: -60 },
          { name: "chk_fault", script: `/usr/bin/test ! -f ${faultFile}`, intervalMs: 100, weight: 0 },
        ]
      : [],
    trackFiles: tracked ? [{ name: "tf", path: valueFile, weight: -20 }] : [],
    trackProcesses: tracked ? [{ name: "tp", process: trackedBinary, weight: 30 }] : [],
    processScanIntervalMs: 100,
    notifyFifo: tracked ? fifo : undefined,
  };
}

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [a, b] = await lab.namespaces("a", "b");
  await lab.lan("lan", [
    { ns: a, ifname: "eth0", address: "10.80.1.1/24" },
    { ns: b, ifname: "eth0", address: "10.80.1.2/24" },
  ]);
  // A second link on a, only to be tracked (weight -60).
  await lab.run(a, ["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"]);
  await lab.run(a, ["ip", "link", "set", "eth1", "up"]);
  await lab.run(a, ["ip", "link", "set", "eth1p", "up"]);
  writeFileSync(okFile, "");
  writeFileSync(valueFile, "0\n");
  copyFileSync("/bin/sleep", trackedBinary);
  Bun.spawnSync(["mkfifo", fifo]);
  fifoReader = Bun.spawn(["/bin/sh", "-c", `exec cat ${fifo} > ${fifoOut}`]);
  na = startLbNode(lab, a, config("10.80.1.1", 150, true));
  await na.waitState("VI_1", "MASTER", 3000);
  nb = startLbNode(lab, b, config("10.80.1.2", 100, false));
  await nb.waitState("VI_1", "BACKUP");
});

afterAll(async () => {
  fifoReader?.kill("SIGKILL");
  await lab.cleanup();
  removeWorkDir();
});

const inst = (n: LbNode, name: string) => n.status()!.instances.find((i) => i.name === name)!;

describe("tracking", () => {
  it("starts at base priority (process tracked with a positive weight is not running yet)", () => {
    expect(inst(na, "VI_1").effectivePriority).toBe(150);
    expect(inst(na, "VI_1").faults).toEqual([]);
  });

  it("a failing vrrp_script with weight -60 demotes the master (90 < 100); passing again, it preempts back", async () => {
    rmSync(okFile);
    await waitFor("priority 90", () => inst(na, "VI_1").effectivePriority === 90, 2000);
    await nb.waitState("VI_1", "MASTER", 2000);
    await na.waitState("VI_1", "BACKUP");
    await waitHolders(lab, [a, b], VIP1, [b]);
    // VI_2 is in a sync group: its weighted tracker is ignored, so it stays MASTER at 150.
    expect(inst(na, "VI_2").effectivePriority).toBe(150);
    expect(na.state("VI_2")).toBe("MASTER");
    expect(na.logs()).toMatch(/\(VI_2\) ignoring tracked script chk_ok with weights due to SYNC group/);
    writeFileSync(okFile, "");
    await na.waitState("VI_1", "MASTER", 2000);
    await waitHolders(lab, [a, b], VIP1, [a]);
  });

  it("a failing weight-0 vrrp_script puts the instance in FAULT, and with VI_2 its whole sync group", async () => {
    writeFileSync(faultFile, "");
    await na.waitState("VI_1", "FAULT", 2000);
    await na.waitState("VI_2", "FAULT", 2000);
    await na.waitState("VI_3", "FAULT", 2000);
    expect(inst(na, "VI_1").faults).toEqual(["script chk_fault"]);
    expect(inst(na, "VI_3").faults).toEqual(["sync group G1"]);
    await nb.waitState("VI_1", "MASTER", 2000);
    await nb.waitState("VI_3", "MASTER", 2000);
    await waitHolders(lab, [a, b], VIP3, [b]);
    rmSync(faultFile);
    await na.waitState("VI_1", "MASTER", 3000);
    await na.waitState("VI_2", "MASTER", 3000);
    await na.waitState("VI_3", "MASTER", 3000);
    await waitHolders(lab, [a, b], VIP3, [a]);
  });

  it("the instance's interface going down (an rtnetlink event) is a FAULT; up again, it comes back", async () => {
    await lab.run(a, ["ip", "link", "set", "eth0", "down"]);
    await na.waitState("VI_1", "FAULT", 1000);
    expect(inst(na, "VI_1").faults).toContain("interface eth0");
    await nb.waitState("VI_1", "MASTER", 2000);
    await lab.run(a, ["ip", "link", "set", "eth0", "up"]);
    await na.waitState("VI_1", "MASTER", 4000);
    await na.waitState("VI_3", "MASTER", 4000);
    await waitHolders(lab, [a, b], VIP1, [a], 2000);
  });

  it("track_interface with weight -60: the other link going down (rtnetlink event) demotes; up again, it preempts", async () => {
    await lab.run(a, ["ip", "link", "set", "eth1", "down"]);
    await waitFor("priority 90", () => inst(na, "VI_1").effectivePriority === 90, 1000);
    await nb.waitState("VI_1", "MASTER", 2000);
    expect(inst(na, "VI_1").faults).toEqual([]);
    await lab.run(a, ["ip", "link", "set", "eth1", "up"]);
    await waitFor("priority 150", () => inst(na, "VI_1").effectivePriority === 150, 1000);
    await na.waitState("VI_1", "MASTER", 2000);
  });

  it("track_file: value x weight moves the priority (fs.watch, no polling)", async () => {
    writeFileSync(valueFile, "3\n");
    await waitFor("priority 90", () => inst(na, "VI_1").effectivePriority === 90, 2000);
    await nb.waitState("VI_1", "MASTER", 2000);
    writeFileSync(valueFile, "0\n");
    await waitFor("priority 150", () => inst(na, "VI_1").effectivePriority === 150, 2000);
    await na.waitState("VI_1", "MASTER", 2000);
  });

  it("vrrp_track_process: a positive weight counts while the process runs", async () => {
    const p = Bun.spawn([trackedBinary, "30"]);
    try {
      await waitFor("priority 180", () => inst(na, "VI_1").effectivePriority === 180, 2000);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
    await waitFor("priority 150", () => inst(na, "VI_1").effectivePriority === 150, 2000);
  });
});

describe("notifications", () => {
  it("notify scripts ran in order with keepalived's arguments; notify_fifo got the lines", async () => {
    await sleep(300);
    const lines = readFileSync(notifyLog, "utf8").trim().split("\n");
    // VI_1's queue runs in order: startup BACKUP, then MASTER (its own script first, then the generic
    // one), then the demotion by weight, the FAULT, ...; the group's queue runs beside it.
    const vi1 = lines.filter((l) => l.startsWith("INSTANCE VI_1") || l === "master-script");
    expect(vi1.slice(0, 6)).toEqual([
      "INSTANCE VI_1 BACKUP 150", "master-script", "INSTANCE VI_1 MASTER 150",
      "INSTANCE VI_1 BACKUP 90", "master-script", "INSTANCE VI_1 MASTER 150",
    ]);
    expect(vi1).toContain("INSTANCE VI_1 FAULT 150");
    expect(lines).toContain("GROUP G1 MASTER 0");
    expect(lines).toContain("GROUP G1 FAULT 0");
    expect(existsSync(fifoOut)).toBe(true);
    const fifoLines = readFileSync(fifoOut, "utf8").trim().split("\n");
    expect(fifoLines).toContain('INSTANCE "VI_1" MASTER 150');
    expect(fifoLines).toContain('INSTANCE "VI_1" BACKUP 90');
    expect(fifoLines).toContain('INSTANCE "VI_3" FAULT 150');
    expect(fifoLines).toContain('GROUP "G1" FAULT 0');
  });

  it("stop: STOP notifications, nothing left on the interface", async () => {
    na.proc.kill("SIGTERM");
    expect(await na.proc.exited).toBe(0);
    await waitFor("STOP notified", () => readFileSync(notifyLog, "utf8").includes("INSTANCE VI_1 STOP 150"), 2000);
    await waitFor("group STOP notified", () => readFileSync(notifyLog, "utf8").includes("GROUP G1 STOP 0"), 2000);
    expect(readFileSync(fifoOut, "utf8")).toContain('GROUP "G1" STOP 0');
    expect(await holds(lab, a, VIP1)).toBe(false);
    expect(await holds(lab, a, VIP2)).toBe(false);
    expect(await holds(lab, a, VIP3)).toBe(false);
    await nb.waitState("VI_1", "MASTER", 1000);
  });
});
