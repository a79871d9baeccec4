import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { subscribeRtnlEvents } from "../../src/netlink/events.ts";
import { Rtnl, vrrpVirtualMac, type RtnlEvent } from "../../src/netlink/rtnetlink.ts";
import { inNetns } from "../../src/net/netns.ts";
import { createLab } from "../helpers/netns.ts";

const lab = createLab("lbt-nl-");
let ns = "", peer = "";
let rtnl: Rtnl;
let eth0 = 0;

interface IpAddr { ifname: string; addr_info: { local: string; prefixlen: number; scope: string; label?: string; broadcast?: string; address?: string; family: string; nodad?: boolean }[] }

beforeAll(async () => {
  [ns, peer] = await lab.namespaces("rt", "rtpeer");
  await lab.veth(ns, "eth0", peer, "eth0");
  rtnl = inNetns(ns, () => Rtnl.open());
  eth0 = (await rtnl.linkByName("eth0")).index;
});
afterAll(async () => {
  rtnl?.close();
  await lab.cleanup();
});

async function addrsOf(ifname: string) {
  const [link] = await lab.ipJson<IpAddr[]>(ns, ["addr", "show", "dev", ifname]);
  return link.addr_info;
}

describe("links", () => {
  it("dumps the links of the namespace with flags, mtu, mac and kind", async () => {
    const links = await rtnl.links();
    expect(links.map((l) => l.name).sort()).toEqual(["eth0", "lo"]);
    const e = links.find((l) => l.name === "eth0")!;
    const [ipView] = await lab.ipJson<{ ifindex: number; mtu: number; address: string; flags: string[] }[]>(ns, ["link", "show", "dev", "eth0"]);
    expect(e).toMatchObject({ index: ipView.ifindex, mtu: ipView.mtu, mac: ipView.address, kind: "veth", up: true });
    expect(e.running).toBe(ipView.flags.includes("LOWER_UP"));
    expect(links.find((l) => l.name === "lo")!.kind).toBeUndefined();
  });

  it("creates and deletes a macvlan (use_vmac) on a parent", async () => {
    const mac = vrrpVirtualMac(51);
    const link = await rtnl.createMacvlan({ name: "vrrp.51", parentIndex: eth0, mac });
    expect(link).toMatchObject({ name: "vrrp.51", kind: "macvlan", macvlanMode: "private", mac, parentIndex: eth0 });
    await rtnl.setLinkUp(link.index, true);
    const [shown] = await lab.ipJson<{ address: string; flags: string[]; linkinfo: { info_kind: string; info_data: { mode: string } } }[]>(ns, ["-d", "link", "show", "dev", "vrrp.51"]);
    expect(shown.address).toBe(mac);
    expect(shown.flags).toContain("UP");
    expect(shown.linkinfo.info_data.mode).toBe("private");
    await expect(rtnl.createMacvlan({ name: "vrrp.51", parentIndex: eth0 })).rejects.toMatchObject({ code: "EEXIST" });
    await rtnl.deleteLink(link.index);
    expect((await lab.exec(ns, ["ip", "link", "show", "dev", "vrrp.51"])).code).not.toBe(0);
  });
});

describe("addresses", () => {
  it("adds and deletes an IPv4 address with label, scope and broadcast", async () => {
    await rtnl.addAddress({ ifindex: eth0, address: "10.61.0.1/24", label: "eth0:vip", broadcast: "+", scope: "global" });
    await rtnl.addAddress({ ifindex: eth0, address: "10.62.0.1/32", scope: "host" });
    const v4 = (await addrsOf("eth0")).filter((a) => a.family === "inet");
    expect(v4.find((a) => a.local === "10.61.0.1")).toMatchObject({ prefixlen: 24, label: "eth0:vip", broadcast: "10.61.0.255", scope: "global" });
    expect(v4.find((a) => a.local === "10.62.0.1")).toMatchObject({ prefixlen: 32, scope: "host" });
    const dumped = await rtnl.addresses(4);
    expect(dumped.find((a) => a.address === "10.61.0.1")).toMatchObject({ ifindex: eth0, prefixlen: 24, label: "eth0:vip", broadcast: "10.61.0.255" });
    await expect(rtnl.addAddress({ ifindex: eth0, address: "10.61.0.1/24" })).rejects.toMatchObject({ code: "EEXIST" });
    await rtnl.deleteAddress({ ifindex: eth0, address: "10.61.0.1/24" });
    await rtnl.deleteAddress({ ifindex: eth0, address: "10.62.0.1/32" });
    expect((await addrsOf("eth0")).some((a) => a.local?.startsWith("10.6"))).toBe(false);
    await expect(rtnl.deleteAddress({ ifindex: eth0, address: "10.61.0.1/24" })).rejects.toMatchObject({ code: "EADDRNOTAVAIL" });
  });

  it("adds an IPv6 VIP without DAD (usable at once, not tentative) and deletes it", async () => {
    await rtnl.addAddress({ ifindex: eth0, address: "fd61::10/64", nodad: true });
    const a = (await addrsOf("eth0")).find((x) => x.local === "fd61::10");
    expect(a).toMatchObject({ prefixlen: 64, family: "inet6", nodad: true });
    expect((a as Record<string, unknown>).tentative).toBeUndefined();
    const dumped = (await rtnl.addresses(6)).find((x) => x.address === "fd61::10")!;
    expect(dumped.flags & 0x2).toBe(0x2);
    await rtnl.deleteAddress({ ifindex: eth0, address: "fd61::10/64" });
    expect((await addrsOf("eth0")).some((x) => x.local === "fd61::10")).toBe(false);
  });
});

describe("routes and rules", () => {
  it("adds and deletes routes (gateway, table, metric, src, blackhole)", async () => {
    await rtnl.addAddress({ ifindex: eth0, address: "10.63.0.1/24" });
    await rtnl.addRoute({ dst: "192.0.2.0/24", via: "10.63.0.254", ifindex: eth0, table: 100, metric: 7, src: "10.63.0.1" });
    await rtnl.addRoute({ dst: "198.51.100.0/24", type: "blackhole", table: 1000 });
    await rtnl.addRoute({ dst: "fd62::/64", ifindex: eth0, metric: 5 });
    await rtnl.replaceRoute({ dst: "198.51.100.0/24", type: "unreachable", table: 1000 });
    await rtnl.replaceRoute({ dst: "198.51.100.0/24", type: "blackhole", table: 1000 });
    const t100 = await lab.ipJson<{ dst: string; gateway: string; dev: string; metric: number; prefsrc: string }[]>(ns, ["route", "show", "table", "100"]);
    expect(t100).toEqual([expect.objectContaining({ dst: "192.0.2.0/24", gateway: "10.63.0.254", dev: "eth0", metric: 7, prefsrc: "10.63.0.1" })]);
    const t1000 = await lab.ipJson<{ type: string; dst: string }[]>(ns, ["route", "show", "table", "1000"]);
    expect(t1000).toEqual([expect.objectContaining({ type: "blackhole", dst: "198.51.100.0/24" })]);
    const v6 = await lab.ipJson<{ dst: string; metric: number }[]>(ns, ["-6", "route", "show", "fd62::/64"]);
    expect(v6).toEqual([expect.objectContaining({ dst: "fd62::/64", metric: 5 })]);
    const dumped = await rtnl.routes(4);
    expect(dumped.find((r) => r.table === 1000)).toMatchObject({ type: "blackhole", dst: "198.51.100.0/24" });
    await rtnl.deleteRoute({ dst: "192.0.2.0/24", table: 100 });
    await rtnl.deleteRoute({ dst: "198.51.100.0/24", table: 1000, type: "blackhole" });
    await rtnl.deleteRoute({ dst: "fd62::/64", ifindex: eth0 });
    expect(await lab.ipJson(ns, ["route", "show", "table", "100"])).toEqual([]);
    expect(await lab.ipJson(ns, ["route", "show", "table", "1000"])).toEqual([]);
    await expect(rtnl.deleteRoute({ dst: "192.0.2.0/24", table: 100 })).rejects.toMatchObject({ code: "ESRCH" });
    await rtnl.deleteAddress({ ifindex: eth0, address: "10.63.0.1/24" });
  });

  it("adds and deletes IPv4 and IPv6 rules", async () => {
    const rule4 = { from: "10.1.2.3/32", to: "192.0.2.0/24", table: 100, priority: 100, fwmark: 0x10, fwmask: 0xff };
    const rule6 = { from: "fd00::/64", table: 2000, priority: 200 };
    await rtnl.addRule(rule4);
    await rtnl.addRule(rule6);
    const r4 = await lab.ipJson<{ priority: number; src: string; srclen?: number; dst: string; dstlen: number; table: string; fwmark: string; fwmask: string }[]>(ns, ["rule", "show"]);
    expect(r4.find((r) => r.priority === 100)).toMatchObject({ src: "10.1.2.3", dst: "192.0.2.0", dstlen: 24, table: "100", fwmark: "0x10", fwmask: "0xff" });
    const r6 = await lab.ipJson<{ priority: number; src: string; srclen: number; table: string }[]>(ns, ["-6", "rule", "show"]);
    expect(r6.find((r) => r.priority === 200)).toMatchObject({ src: "fd00::", srclen: 64, table: "2000" });
    expect((await rtnl.rules(6)).find((r) => r.priority === 200)).toMatchObject({ from: "fd00::/64", table: 2000, action: "table" });
    await rtnl.deleteRule(rule4);
    await rtnl.deleteRule(rule6);
    expect((await lab.ipJson<{ priority: number }[]>(ns, ["rule", "show"])).some((r) => r.priority === 100)).toBe(false);
    expect((await lab.ipJson<{ priority: number }[]>(ns, ["-6", "rule", "show"])).some((r) => r.priority === 200)).toBe(false);
  });
});

describe("events", () => {
  it("delivers address and link events caused by `ip` without blocking the event loop", async () => {
    const events: RtnlEvent[] = [];
    const sub = inNetns(ns, () => subscribeRtnlEvents((e) => events.push(e)));
    try {
      const until = async (pred: () => boolean) => {
        for (let i = 0; i < 200 && !pred(); i++) await Bun.sleep(10);
        return pred();
      };
      // The event loop keeps running timers while the worker waits for notifications.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      await lab.run(ns, ["ip", "addr", "add", "10.64.0.1/24", "dev", "eth0", "label", "eth0:ev"]);
      expect(await until(() => events.some((e) => e.kind === "address" && e.op === "new" && e.address.address === "10.64.0.1"))).toBe(true);
      const ev = events.find((e) => e.kind === "address" && e.address.address === "10.64.0.1")!;
      expect(ev).toMatchObject({ address: { ifindex: eth0, prefixlen: 24, label: "eth0:ev" } });
      await lab.run(ns, ["ip", "link", "set", "eth0", "down"]);
      expect(await until(() => events.some((e) => e.kind === "link" && e.link.name === "eth0" && !e.link.up))).toBe(true);
      await lab.run(ns, ["ip", "-6", "addr", "add", "fd64::1/64", "dev", "lo"]);
      expect(await until(() => events.some((e) => e.kind === "address" && e.address.address === "fd64::1"))).toBe(true);
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await sub.close();
      await lab.run(ns, ["ip", "link", "set", "eth0", "up"]);
    }
  });
});
