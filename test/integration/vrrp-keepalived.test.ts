// lbctl <-> keepalived 2.2.7 on a bridged test LAN, both roles each way: VRRPv3 IPv4 multicast,
// VRRPv2 with PASS authentication, VRRPv3 IPv6, unicast; crash (SIGSTOP+SIGKILL) and graceful stop;
// nopreempt and preempt_delay as keepalived does them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { createLab, type Lab } from "../helpers/netns.ts";
import { captureFrames, holds, instance, keepalivedConf, killStarted, removeWorkDir, withoutMacs, sleep, startKeepalived, startLbNode, waitFor, waitHolders } from "./vrrp-lab.ts";

let lab: Lab;
let lb: string, ka: string, lan: string;
const LB4 = "10.78.1.1", KA4 = "10.78.1.2";
const LB6 = "fe80::a", KA6 = "fe80::b";

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [lb, ka] = await lab.namespaces("lb", "ka");
  // No DAD in the lab: link-local sources must be usable at once by both daemons.
  for (const ns of [lb, ka]) {
    await lab.run(ns, ["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
    await lab.run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
  }
  lan = await lab.lan("lan", [
    { ns: lb, ifname: "eth0", address: `${LB4}/24` },
    { ns: ka, ifname: "eth0", address: `${KA4}/24` },
  ]);
  await lab.addr(lb, "eth0", `${LB6}/64`);
  await lab.addr(ka, "eth0", `${KA6}/64`);
});

afterEach(killStarted);

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

const both = () => [lb, ka];
const macOf = async (ns: string) => (await lab.ipJson<{ address: string }[]>(ns, ["link", "show", "eth0"]))[0].address;

describe("VRRPv3 IPv4 multicast, advert_int 0.1 s", () => {
  const VIP = "10.78.1.101";
  const kaConf = (priority: number) => keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 61, priority, advertInt: 0.1, vips: [`${VIP}/32`] });
  const lbCfg = (priority: number) => ({ instances: [instance({ name: "VI_1", vrid: 61, interface: "eth0", primaryIp: LB4, vips: [VIP], priority, advertIntervalMs: 100 })] });

  it("keepalived MASTER, lbctl BACKUP; keepalived crash -> lbctl; keepalived back preempts; keepalived SIGTERM -> lbctl", async () => {
    const capture = await captureFrames(lab, lan, "arp");
    let k = startKeepalived(lab, ka, kaConf(150));
    await waitHolders(lab, both(), VIP, [ka], 3000);
    const n = startLbNode(lab, lb, lbCfg(100));
    await n.waitState("VI_1", "BACKUP");
    await sleep(400);
    expect(n.state("VI_1")).toBe("BACKUP");
    const st = n.status()!.instances[0];
    expect(st.masterAddress).toBe(KA4);
    expect(st.stats.advertisementsReceived).toBeGreaterThan(2);
    expect(Object.entries(st.stats).filter(([k2, v]) => k2.endsWith("Errors") && v > 0)).toEqual([]);

    const t0 = performance.now();
    k.crash();
    await n.waitState("VI_1", "MASTER", 2000);
    // Master_Down_Interval = 3 x 100 ms + skew (100 x 156/256 ms) = 361 ms, counted from the last
    // advert, which arrived up to one interval (100 ms) before the crash: at least 261 ms after t0.
    expect(performance.now() - t0).toBeGreaterThan(250);
    await waitFor("lbctl holds the VIP", () => holds(lab, lb, VIP), 1000);
    // Gratuitous ARPs: keepalived's and ours are the same frame but for the sender MAC.
    const frames = await capture.stop();
    const [kaMac, lbMac] = [await macOf(ka), await macOf(lb)];
    const fromKa = frames.filter((f) => f.summary.includes(`${kaMac} > ff:ff:ff:ff:ff:ff`));
    const fromLb = frames.filter((f) => f.summary.includes(`${lbMac} > ff:ff:ff:ff:ff:ff`));
    expect(fromKa.length).toBe(5);
    expect(fromLb.length).toBe(5);
    expect(new Set([...fromKa, ...fromLb].map(withoutMacs)).size).toBe(1);
    expect(fromLb[0].bytes.length).toBe(42);
    // A crashed keepalived leaves its VIP behind; restarted (as a BACKUP, lower priority) it deletes it.
    expect(await holds(lab, ka, VIP)).toBe(true);
    k = startKeepalived(lab, ka, kaConf(50));
    await waitHolders(lab, both(), VIP, [lb], 2000);
    await sleep(300);
    expect(n.state("VI_1")).toBe("MASTER");
    k.proc.kill("SIGTERM");
    await k.proc.exited;

    k = startKeepalived(lab, ka, kaConf(150));
    await n.waitState("VI_1", "BACKUP", 4000);
    await waitHolders(lab, both(), VIP, [ka], 2000);

    const t1 = performance.now();
    k.proc.kill("SIGTERM");
    await n.waitState("VI_1", "MASTER", 2000);
    expect(performance.now() - t1).toBeLessThan(300); // priority 0 -> Skew_Time only
    await waitHolders(lab, both(), VIP, [lb], 1000);
    n.proc.kill("SIGTERM");
    expect(await n.proc.exited).toBe(0);
    expect(await holds(lab, lb, VIP)).toBe(false);
  });

  it("lbctl MASTER, keepalived BACKUP; lbctl SIGKILL -> keepalived; lbctl back preempts; lbctl SIGTERM -> keepalived", async () => {
    let n = startLbNode(lab, lb, lbCfg(150));
    await n.waitState("VI_1", "MASTER", 3000);
    const k = startKeepalived(lab, ka, kaConf(100));
    await sleep(600);
    expect(await holds(lab, ka, VIP)).toBe(false);
    expect(n.state("VI_1")).toBe("MASTER");

    n.proc.kill("SIGKILL");
    await n.proc.exited;
    await waitFor("keepalived takes the VIP", () => holds(lab, ka, VIP), 2000);

    n = startLbNode(lab, lb, lbCfg(150));
    await n.waitState("VI_1", "MASTER", 3000);
    await waitHolders(lab, both(), VIP, [lb], 2000);
    expect(k.logs()).toMatch(/VI_1\) Entering BACKUP STATE/);

    const t0 = performance.now();
    n.proc.kill("SIGTERM");
    expect(await n.proc.exited).toBe(0);
    await waitHolders(lab, both(), VIP, [ka], 1000);
    expect(performance.now() - t0).toBeLessThan(500);
    k.proc.kill("SIGTERM");
    await k.proc.exited;
    await waitHolders(lab, both(), VIP, [], 2000);
  });
});

describe("VRRPv2 with PASS authentication, advert_int 1 s", () => {
  const VIP = "10.78.1.102";
  it("keepalived MASTER, lbctl (higher) preempts it; lbctl SIGTERM -> keepalived; a wrong password is counted, not obeyed; keepalived crash -> lbctl", async () => {
    const k = startKeepalived(lab, ka, keepalivedConf({ name: "VI_2", version: 2, interface: "eth0", vrid: 62, priority: 100, advertInt: 1, vips: [`${VIP}/32`], authPass: "secret12" }));
    const cfg = (pass: string, priority = 150) => ({
      instances: [instance({ name: "VI_2", version: 2, vrid: 62, interface: "eth0", primaryIp: LB4, vips: [VIP], priority, advertIntervalMs: 1000, authType: "pass", authPass: pass })],
    });
    // keepalived starts in BACKUP and becomes MASTER after 3 x 1 s + skew; then lbctl (150) preempts it.
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 5000);
    const n = startLbNode(lab, lb, cfg("secret12"));
    await n.waitState("VI_2", "MASTER", 5000);
    await waitHolders(lab, both(), VIP, [lb], 2000);
    expect(n.status()!.instances[0].stats.authFailures).toBe(0);

    const t0 = performance.now();
    n.proc.kill("SIGTERM");
    await n.proc.exited;
    await waitHolders(lab, both(), VIP, [ka], 2000);
    expect(performance.now() - t0).toBeLessThan(1500);

    // Same VRID, wrong password: keepalived's adverts fail authentication and are counted.
    const bad = startLbNode(lab, lb, cfg("wrong"));
    await waitFor("auth failures counted", () => (bad.status()?.instances[0]?.stats.authFailures ?? 0) >= 2, 4000);
    bad.proc.kill("SIGTERM");
    await bad.proc.exited;

    // Crash of the keepalived master: the lbctl backup (50) takes over after 3 x 1 s + skew (0.8 s).
    const backup = startLbNode(lab, lb, cfg("secret12", 50));
    await backup.waitState("VI_2", "BACKUP");
    await sleep(1500);
    expect(backup.state("VI_2")).toBe("BACKUP");
    const t1 = performance.now();
    k.crash();
    await backup.waitState("VI_2", "MASTER", 6000);
    const took = performance.now() - t1;
    // 3.8 s from the last advert, which came up to 1 s before the crash.
    expect(took).toBeGreaterThan(2700);
    expect(took).toBeLessThan(5000);
    await waitFor("lbctl holds the VIP", () => holds(lab, lb, VIP), 1000);
  });
});

describe("VRRPv3 IPv6 multicast, advert_int 0.1 s", () => {
  const VIP = "2001:db8:78::100";
  it("keepalived MASTER, lbctl BACKUP; keepalived crash -> lbctl MASTER; keepalived back preempts", async () => {
    const kaConf = keepalivedConf({ name: "VI_6", interface: "eth0", vrid: 66, priority: 150, advertInt: 0.1, vips: [`${VIP}/64`] });
    const capture = await captureFrames(lab, lan, "icmp6 and ip6[40] == 136");
    const k = startKeepalived(lab, ka, kaConf);
    await waitFor("keepalived holds the IPv6 VIP", () => holds(lab, ka, VIP), 3000);
    const n = startLbNode(lab, lb, {
      instances: [instance({ name: "VI_6", family: 6, vrid: 66, interface: "eth0", primaryIp: LB6, vips: [VIP], vipDetails: [{ address: `${VIP}/64` }], priority: 100, advertIntervalMs: 100 })],
    });
    await n.waitState("VI_6", "BACKUP");
    await sleep(300);
    expect(n.state("VI_6")).toBe("BACKUP");
    expect(n.status()!.instances[0].masterAddress).toBe(KA6);
    k.crash();
    await n.waitState("VI_6", "MASTER", 2000);
    await waitFor("lbctl holds the IPv6 VIP", () => holds(lab, lb, VIP), 1000);
    // Unsolicited NAs for the VIP: keepalived's and ours are the same frame but for the MACs (and checksum).
    const frames = await capture.stop();
    const [kaMac, lbMac] = [await macOf(ka), await macOf(lb)];
    const na = (mac: string) => frames.filter((f) => f.summary.includes(`${mac} > 33:33:00:00:00:01`) && f.summary.includes(`tgt is ${VIP}`));
    expect(na(kaMac).length).toBeGreaterThanOrEqual(1);
    expect(na(lbMac).length).toBe(5);
    const strip = (f: (typeof frames)[number]) => withoutMacs({ ...f, bytes: Uint8Array.from(f.bytes).fill(0, 56, 58) });
    expect(new Set([...na(kaMac), ...na(lbMac)].map(strip)).size).toBe(1);
    const k2 = startKeepalived(lab, ka, kaConf);
    await waitHolders(lab, both(), VIP, [ka], 3000);
    expect(n.state("VI_6")).toBe("BACKUP");
    n.proc.kill("SIGTERM");
    await n.proc.exited;
    k2.proc.kill("SIGTERM");
    await k2.proc.exited;
  });
});

describe("preemption rules against keepalived", () => {
  const VIP = "10.78.1.105";
  it("nopreempt: a higher-priority lbctl joining a keepalived MASTER stays BACKUP", async () => {
    const k = startKeepalived(lab, ka, keepalivedConf({ name: "VI_P", interface: "eth0", vrid: 65, priority: 100, advertInt: 0.1, vips: [`${VIP}/32`] }));
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 3000);
    const n = startLbNode(lab, lb, { instances: [instance({ name: "VI_P", vrid: 65, interface: "eth0", primaryIp: LB4, vips: [VIP], priority: 200, advertIntervalMs: 100, nopreempt: true })] });
    await n.waitState("VI_P", "BACKUP");
    await sleep(800);
    expect(n.state("VI_P")).toBe("BACKUP");
    await waitHolders(lab, both(), VIP, [ka], 100);
    n.proc.kill("SIGTERM");
    await n.proc.exited;
    k.proc.kill("SIGTERM");
    await k.proc.exited;
  });

  it("preempt_delay 1 s: lbctl takes over from a lower keepalived only after the delay; keepalived does the same to lbctl", async () => {
    const k = startKeepalived(lab, ka, keepalivedConf({ name: "VI_P", interface: "eth0", vrid: 65, priority: 100, advertInt: 0.1, vips: [`${VIP}/32`] }));
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 3000);
    const n = startLbNode(lab, lb, { instances: [instance({ name: "VI_P", vrid: 65, interface: "eth0", primaryIp: LB4, vips: [VIP], priority: 200, advertIntervalMs: 100, preemptDelayMs: 1000 })] });
    await n.waitState("VI_P", "BACKUP");
    const t0 = performance.now();
    await sleep(600);
    expect(n.state("VI_P")).toBe("BACKUP");
    await n.waitState("VI_P", "MASTER", 2000);
    // The delay runs from lbctl's start, a little before t0 (seen BACKUP by polling): well above
    // one advert interval, which is when it would take over without preempt_delay.
    expect(performance.now() - t0).toBeGreaterThan(700);
    await waitHolders(lab, both(), VIP, [lb], 1000);
    k.proc.kill("SIGTERM");
    await k.proc.exited;
    n.proc.kill("SIGTERM");
    await n.proc.exited;

    // Mirror: keepalived with priority 200 and preempt_delay 1 joins lbctl (MASTER, 150).
    const n2 = startLbNode(lab, lb, { instances: [instance({ name: "VI_P", vrid: 65, interface: "eth0", primaryIp: LB4, vips: [VIP], priority: 150, advertIntervalMs: 100 })] });
    await n2.waitState("VI_P", "MASTER", 3000);
    const k2 = startKeepalived(lab, ka, keepalivedConf({ name: "VI_P", interface: "eth0", vrid: 65, priority: 200, advertInt: 0.1, vips: [`${VIP}/32`], preemptDelay: 1 }));
    const t1 = performance.now();
    await sleep(600);
    expect(await holds(lab, ka, VIP)).toBe(false);
    await waitFor("keepalived preempts after its delay", () => holds(lab, ka, VIP), 3000);
    expect(performance.now() - t1).toBeGreaterThan(900);
    await n2.waitState("VI_P", "BACKUP", 1000);
    n2.proc.kill("SIGTERM");
    await n2.proc.exited;
    k2.proc.kill("SIGTERM");
    await k2.proc.exited;
  });
});

describe("VRRPv3 unicast, advert_int 0.1 s", () => {
  // IPv4 with a crash of lbctl, IPv6 (link-local sources) with a graceful stop.
  it.each([
    { family: 4 as const, vrid: 64, vip: "10.78.1.104", prefix: 32, lbSrc: LB4, kaSrc: KA4, stop: "SIGKILL" as const },
    { family: 6 as const, vrid: 67, vip: "2001:db8:78::104", prefix: 64, lbSrc: LB6, kaSrc: KA6, stop: "SIGTERM" as const },
  ])("IPv$family: lbctl MASTER, keepalived BACKUP; lbctl $stop -> keepalived; lbctl back preempts", async (t) => {
    const name = `VI_U${t.family}`;
    const k = startKeepalived(lab, ka, keepalivedConf({ name, interface: "eth0", vrid: t.vrid, priority: 100, advertInt: 0.1, vips: [`${t.vip}/${t.prefix}`], unicastSrc: t.kaSrc, unicastPeers: [t.lbSrc] }));
    const cfg = {
      instances: [instance({ name, family: t.family, vrid: t.vrid, interface: "eth0", primaryIp: t.lbSrc, unicastPeers: [t.kaSrc], vips: [t.vip], vipDetails: [{ address: `${t.vip}/${t.prefix}` }], priority: 150, advertIntervalMs: 100 })],
    };
    let n = startLbNode(lab, lb, cfg);
    await n.waitState(name, "MASTER", 3000);
    await waitHolders(lab, both(), t.vip, [lb], 2000);
    await sleep(300);
    expect(await holds(lab, ka, t.vip)).toBe(false);
    n.proc.kill(t.stop);
    await n.proc.exited;
    await waitFor("keepalived takes over", () => holds(lab, ka, t.vip), 2000);
    n = startLbNode(lab, lb, cfg);
    await n.waitState(name, "MASTER", 3000);
    await waitHolders(lab, both(), t.vip, [lb], 2000);
    expect(n.status()!.instances[0].stats.advertisementsReceived).toBeGreaterThan(0);
    n.proc.kill("SIGTERM");
    await n.proc.exited;
    k.proc.kill("SIGTERM");
    await k.proc.exited;
  });
});
