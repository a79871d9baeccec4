// VipManager on a fake netlink: exact requests (prefix defaults, IPv6 NODAD, label, brd), it deletes
// only what it added, and the startup clean-up deletes only configured addresses actually present.
import { describe, expect, it } from "vitest";

import type { NetlinkMessage } from "../../src/netlink/message.ts";
import type { NetlinkRequest } from "../../src/netlink/socket.ts";
import {
  IFA_F_NODAD, RTM_DELADDR, RTM_DELROUTE, RTM_GETADDR, RTM_NEWADDR, RTM_NEWROUTE, addressRequest, parseAddressMessage,
} from "../../src/netlink/rtnetlink.ts";
import { VipManager, withPrefix } from "../../src/vrrp/vips.ts";

const msg = (req: NetlinkRequest): NetlinkMessage => ({ header: { len: 0, type: req.type, flags: 0, seq: 0, pid: 0 }, payload: req.payload! });

function fake(present: NetlinkRequest[] = [], failOn?: (r: NetlinkRequest) => boolean) {
  const sent: NetlinkRequest[] = [];
  const nl = {
    requestSync: (req: NetlinkRequest) => {
      if (failOn?.(req)) throw new Error("EEXIST File exists");
      sent.push(req);
      return req.type === RTM_GETADDR ? present.map(msg) : [];
    },
  };
  const logs: string[] = [];
  const m = new VipManager(nl, (l, s) => logs.push(`${l} ${s}`), (n) => (n === "eth0" ? 2 : n === "eth1" ? 3 : 0));
  const addrs = (type: number) => sent.filter((r) => r.type === type).map((r) => parseAddressMessage(msg(r))!);
  return { m, sent, logs, addrs };
}

describe("VipManager", () => {
  it("adds with keepalived's defaults: host prefix, IPv6 without DAD, label and brd as given", () => {
    const f = fake();
    expect(f.m.apply("VI_1", { addresses: [{ address: "10.0.0.1" }, { address: "10.0.0.2/24", label: "eth0:vip", brd: "+", dev: "eth1" }, { address: "2001:db8::1/64" }], routes: [], rules: [] }, "eth0")).toBe(0);
    const added = f.addrs(RTM_NEWADDR);
    expect(added.map((a) => `${a.address}/${a.prefixlen}@${a.ifindex}`)).toEqual(["10.0.0.1/32@2", "10.0.0.2/24@3", "2001:db8::1/64@2"]);
    expect(added[1].label).toBe("eth0:vip");
    expect(added[1].broadcast).toBe("10.0.0.255");
    expect(added[2].flags & IFA_F_NODAD).toBe(IFA_F_NODAD);
    expect(added[0].flags & IFA_F_NODAD).toBe(0);
    expect(f.m.owned("VI_1")).toHaveLength(3);
  });

  it("release deletes exactly what was added, in reverse order; a failed add is not ours to delete", () => {
    const f = fake([], (r) => r.type === RTM_NEWADDR && parseAddressMessage(msg(r))!.address === "10.0.0.9");
    const failures = f.m.apply("VI_1", { addresses: [{ address: "10.0.0.1" }, { address: "10.0.0.9" }], routes: [{ dst: "192.168.0.0/16", via: "10.0.0.254" }], rules: [] }, "eth0");
    expect(failures).toBe(1);
    expect(f.logs.some((l) => l.includes("cannot add address 10.0.0.9/32"))).toBe(true);
    f.m.release("VI_1");
    const deletes = f.sent.filter((r) => r.type === RTM_DELADDR || r.type === RTM_DELROUTE).map((r) => r.type);
    expect(deletes).toEqual([RTM_DELROUTE, RTM_DELADDR]);
    expect(f.addrs(RTM_DELADDR).map((a) => a.address)).toEqual(["10.0.0.1"]);
    expect(f.sent.filter((r) => r.type === RTM_NEWROUTE)).toHaveLength(1);
    expect(f.m.owners()).toEqual([]);
    f.m.release("VI_1"); // idempotent
    expect(f.addrs(RTM_DELADDR)).toHaveLength(1);
  });

  it("a spec that cannot be built is a counted, named failure; the rest still goes in", () => {
    const f = fake();
    expect(f.m.apply("VI_1", { addresses: [{ address: "10.0.0.300" }, { address: "10.0.0.1" }], routes: [], rules: [] }, "eth0")).toBe(1);
    expect(f.logs.some((l) => l.startsWith("error (VI_1) cannot add address 10.0.0.300/32 dev eth0: "))).toBe(true);
    expect(f.addrs(RTM_NEWADDR).map((a) => a.address)).toEqual(["10.0.0.1"]);
  });

  it("applying twice adds once", () => {
    const f = fake();
    const set = { addresses: [{ address: "10.0.0.1" }], routes: [], rules: [] };
    f.m.apply("VI_1", set, "eth0");
    f.m.apply("VI_1", set, "eth0");
    expect(f.addrs(RTM_NEWADDR)).toHaveLength(1);
  });

  it("startup clean-up removes configured VIPs present on their interface, nothing else", () => {
    const present = [
      addressRequest("add", { ifindex: 2, address: "10.0.0.1/32" }), // stale VIP: goes
      addressRequest("add", { ifindex: 2, address: "10.0.0.5/24" }), // the node's own address: stays
      addressRequest("add", { ifindex: 3, address: "10.0.0.2/32" }), // same address on another interface: stays
      addressRequest("add", { ifindex: 2, address: "10.0.0.3/24" }), // configured as /32: a different address
    ];
    const f = fake(present);
    const removed = f.m.clearStale([
      { owner: "VI_1", addresses: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }, { address: "10.0.0.3" }], defaultDev: "eth0" },
      { owner: "VI_2", addresses: [{ address: "10.0.0.4" }], defaultDev: "eth0" },
    ]);
    expect(removed).toEqual(["10.0.0.1/32"]);
    expect(f.sent.filter((r) => r.type === RTM_GETADDR)).toHaveLength(1);
    expect(f.addrs(RTM_DELADDR).map((a) => `${a.address}/${a.prefixlen}@${a.ifindex}`)).toEqual(["10.0.0.1/32@2"]);
  });

  it("withPrefix", () => {
    expect(withPrefix("10.0.0.1")).toBe("10.0.0.1/32");
    expect(withPrefix("fe80::1")).toBe("fe80::1/128");
    expect(withPrefix("10.0.0.1/8")).toBe("10.0.0.1/8");
  });
});
