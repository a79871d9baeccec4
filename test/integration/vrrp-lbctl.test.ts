// lbctl <-> lbctl on a bridged test LAN: election, crash and graceful failover, preemption, GARPs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createLab, type Lab } from "../helpers/netns.ts";
import { addresses, captureFrames, holders, instance, removeWorkDir, schedulingOf, sleep, startLbNode, waitHolders, type LbNode } from "./vrrp-lab.ts";

const VIP = "10.77.1.100";
let lab: Lab;
let a: string, b: string, lan: string;

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [a, b] = await lab.namespaces("a", "b");
  lan = await lab.lan("lan", [
    { ns: a, ifname: "eth0", address: "10.77.1.1/24" },
    { ns: b, ifname: "eth0", address: "10.77.1.2/24" },
  ]);
  await lab.addr(a, "eth0", "fe80::1/64");
  await lab.addr(b, "eth0", "fe80::2/64");
});

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

const cfg = (primaryIp: string, priority: number, over: Parameters<typeof instance>[0] extends infer T ? Partial<T> : never = {}) => ({
  instances: [instance({ name: "VI_1", vrid: 51, interface: "eth0", primaryIp, vips: [VIP], priority, advertIntervalMs: 100, ...over })],
});

describe("two lbctl nodes, VRRPv3 IPv4 multicast", () => {
  let na: LbNode, nb: LbNode;

  it("the higher priority becomes MASTER and holds the VIP; gratuitous ARPs go out", async () => {
    const dump = await captureFrames(lab, lan, "arp");
    // One after the other: started together, both may be MASTER for a moment and a then answers b's
    // lower-priority advert with 5 more GARPs (garp_lower_prio_repeat, as keepalived does).
    na = startLbNode(lab, a, cfg("10.77.1.1", 150), { realtimePriority: 20 });
    await na.waitState("VI_1", "MASTER", 4000);
    // vrrp_rt_priority: the thread running the timers is SCHED_RR.
    expect(schedulingOf(na.proc.pid)).toEqual({ rtPriority: 20, policy: 2 });
    nb = startLbNode(lab, b, cfg("10.77.1.2", 100));
    await nb.waitState("VI_1", "BACKUP");
    await waitHolders(lab, [a, b], VIP, [a]);
    await sleep(300);
    const frames = await dump.stop();
    const [link] = await lab.ipJson<{ address: string }[]>(a, ["link", "show", "eth0"]);
    // keepalived's frame (captures/garp-*): broadcast, SPA = TPA = VIP, THA ff:ff:ff:ff:ff:ff, from our MAC.
    const garp = `${link.address} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${VIP} (ff:ff:ff:ff:ff:ff) tell ${VIP}, length 28`;
    const arps = frames.filter((f) => f.summary.includes(garp));
    expect(arps.length, frames.map((f) => f.summary).join("\n")).toBe(5);
    const st = na.status()!.instances[0];
    expect(st.effectivePriority).toBe(150);
    expect(st.stats.becomeMaster).toBe(1);
    expect(nb.status()!.instances[0].masterAddress).toBe("10.77.1.1");
  });

  it("SIGKILL of the master moves the VIP to the backup; the restarted higher priority preempts", async () => {
    na.proc.kill("SIGKILL");
    await na.proc.exited;
    // A killed process leaves its VIP behind (as keepalived does); the backup takes over regardless.
    await nb.waitState("VI_1", "MASTER", 2000);
    expect(await holders(lab, [a, b], VIP)).toEqual([a, b]);
    // Restarted as a lower-priority BACKUP, the node deletes the stale copy at startup (keepalived does too).
    na = startLbNode(lab, a, cfg("10.77.1.1", 50));
    await na.waitState("VI_1", "BACKUP");
    await waitHolders(lab, [a, b], VIP, [b], 1000);
    expect(na.logs()).toMatch(/removed stale virtual address 10\.77\.1\.100\/32/);
    na.proc.kill("SIGTERM");
    await na.proc.exited;
    // Restart: the stale VIP is removed at startup, then a preempts after its master down interval.
    na = startLbNode(lab, a, cfg("10.77.1.1", 150));
    await na.waitState("VI_1", "MASTER", 3000);
    await nb.waitState("VI_1", "BACKUP");
    await waitHolders(lab, [a, b], VIP, [a]);
  });

  it("SIGTERM: priority 0 advert, fast takeover, nothing left behind", async () => {
    const before = performance.now();
    na.proc.kill("SIGTERM");
    expect(await na.proc.exited).toBe(0);
    await nb.waitState("VI_1", "MASTER", 1000);
    // priority 0 -> takeover after Skew_Time (~40 ms), far below the 3 x 100 ms down interval.
    expect(performance.now() - before).toBeLessThan(1000);
    const stoppedIn = Number(/stopped in ([\d.]+) ms/.exec(na.logs())?.[1]);
    expect(stoppedIn).toBeLessThan(1000);
    await waitHolders(lab, [a, b], VIP, [b]);
    const st = nb.status()!.instances[0];
    expect(st.stats.priorityZeroPktsRcvd).toBeGreaterThanOrEqual(1);
    // After a priority-0 advert the backup waits Skew_Time only: (256 - 100) / 256 x 100 ms.
    expect(st.lastTransition).toMatchObject({ from: "BACKUP", to: "MASTER", reason: "master down timer expired after 60.9375 ms" });
  });
});

describe("use_vmac", () => {
  const VMAC_VIP = "10.77.1.110";
  const vmacCfg = (primaryIp: string, priority: number) => ({
    instances: [instance({ name: "VI_M", vrid: 52, interface: "eth0", primaryIp, vips: [VMAC_VIP], vipDetails: [{ address: `${VMAC_VIP}/24` }], priority, advertIntervalMs: 100, useVmac: true })],
  });

  it("the master's adverts and GARPs come from 00:00:5e:00:01:34 on vrrp.52, which carries the VIP; failover and stop clean up", async () => {
    const dump = await captureFrames(lab, lan, "vrrp or arp");
    let m = startLbNode(lab, a, vmacCfg("10.77.1.1", 150));
    await m.waitState("VI_M", "MASTER", 3000);
    const s = startLbNode(lab, b, vmacCfg("10.77.1.2", 100));
    await s.waitState("VI_M", "BACKUP");
    await sleep(300);
    expect(s.state("VI_M")).toBe("BACKUP");
    const [vmac] = await lab.ipJson<{ address: string; link: string; linkinfo?: { info_kind: string; info_data?: { mode: string } } }[]>(a, ["-d", "link", "show", "vrrp.52"]);
    expect(vmac.address).toBe("00:00:5e:00:01:34");
    expect(vmac.linkinfo?.info_kind).toBe("macvlan");
    expect(vmac.linkinfo?.info_data?.mode).toBe("private");
    expect(await addresses(lab, a)).toContain(`vrrp.52 ${VMAC_VIP}/24`);
    const lines = (await dump.stop()).map((f) => f.summary);
    expect(lines.filter((l) => l.includes("00:00:5e:00:01:34 > 01:00:5e:00:00:12") && l.includes("10.77.1.1 > 224.0.0.18") && l.includes("vrid 52, prio 150")).length).toBeGreaterThan(3);
    expect(lines.filter((l) => l.includes(`00:00:5e:00:01:34 > ff:ff:ff:ff:ff:ff`) && l.includes(`Request who-has ${VMAC_VIP}`)).length).toBe(5);

    // Killed, the node leaves vrrp.52 behind; restarted, it takes the interface over.
    m.proc.kill("SIGKILL");
    await m.proc.exited;
    await s.waitState("VI_M", "MASTER", 1000);
    m = startLbNode(lab, a, vmacCfg("10.77.1.1", 150));
    await m.waitState("VI_M", "MASTER", 3000);
    expect(m.logs()).toMatch(/reusing the existing interface vrrp\.52/);
    await waitHolders(lab, [a, b], VMAC_VIP, [a]);

    m.proc.kill("SIGTERM");
    expect(await m.proc.exited).toBe(0);
    await s.waitState("VI_M", "MASTER", 1000);
    await waitHolders(lab, [a, b], VMAC_VIP, [b]);
    expect((await lab.exec(a, ["ip", "link", "show", "vrrp.52"])).code).not.toBe(0);
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
    expect((await lab.exec(b, ["ip", "link", "show", "vrrp.52"])).code).not.toBe(0);
    await waitHolders(lab, [a, b], VMAC_VIP, []);
  });
});

describe("IPv6 unicast between two lbctl nodes", () => {
  const VIP6 = "2001:db8:77::100";
  const cfg6 = (primaryIp: string, peer: string, priority: number) => ({
    instances: [instance({ name: "VI_6", family: 6, vrid: 53, interface: "eth0", primaryIp, unicastPeers: [peer], vips: [VIP6], vipDetails: [{ address: `${VIP6}/64` }], priority, advertIntervalMs: 100 })],
  });

  it("use_vmac over IPv6 multicast: vrrp.54 (00:00:5e:00:02:36) carries the base link-local and the VIP; election and failover run over it", async () => {
    const vcfg = (primaryIp: string, priority: number) => ({
      instances: [instance({ name: "VI_V6", family: 6, vrid: 54, interface: "eth0", primaryIp, vips: ["2001:db8:77::54"], vipDetails: [{ address: "2001:db8:77::54/64" }], priority, advertIntervalMs: 100, useVmac: true })],
    });
    const m = startLbNode(lab, a, vcfg("fe80::1", 150));
    await m.waitState("VI_V6", "MASTER", 3000);
    const s = startLbNode(lab, b, vcfg("fe80::2", 100));
    await s.waitState("VI_V6", "BACKUP");
    await sleep(400);
    expect(s.state("VI_V6")).toBe("BACKUP");
    expect(s.status()!.instances[0].masterAddress).toBe("fe80::1");
    const [vmac] = await lab.ipJson<{ address: string }[]>(a, ["link", "show", "vrrp.54"]);
    expect(vmac.address).toBe("00:00:5e:00:02:36");
    const onVmac = (await addresses(lab, a)).filter((x) => x.startsWith("vrrp.54 "));
    expect(onVmac).toContain("vrrp.54 fe80::1/64");
    expect(onVmac).toContain("vrrp.54 2001:db8:77::54/64");
    m.proc.kill("SIGTERM");
    expect(await m.proc.exited).toBe(0);
    await s.waitState("VI_V6", "MASTER", 1000);
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
    for (const ns of [a, b]) expect((await lab.exec(ns, ["ip", "link", "show", "vrrp.54"])).code).not.toBe(0);
  });

  it("elects over link-local unicast; the VIP is added without DAD (usable at once, never tentative); failover on SIGTERM", async () => {
    const m = startLbNode(lab, a, cfg6("fe80::1", "fe80::2", 150));
    await m.waitState("VI_6", "MASTER", 3000);
    const s = startLbNode(lab, b, cfg6("fe80::2", "fe80::1", 100));
    await s.waitState("VI_6", "BACKUP");
    await sleep(300);
    expect(s.state("VI_6")).toBe("BACKUP");
    expect(s.status()!.instances[0].masterAddress).toBe("fe80::1");
    const [link] = await lab.ipJson<{ addr_info: { local: string; tentative?: boolean; nodad?: boolean }[] }[]>(a, ["addr", "show", "dev", "eth0"]);
    const vip = link.addr_info.find((x) => x.local === VIP6);
    expect(vip).toMatchObject({ nodad: true });
    expect(vip?.tentative).toBeUndefined();
    m.proc.kill("SIGTERM");
    expect(await m.proc.exited).toBe(0);
    await s.waitState("VI_6", "MASTER", 1000);
    await waitHolders(lab, [a, b], VIP6, [b]);
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
    await waitHolders(lab, [a, b], VIP6, []);
  });
});
