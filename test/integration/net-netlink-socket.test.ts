import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { SysError, ifNameToIndex, sockaddrIn, socket } from "../../ffi/libc.ts";
import * as libc from "../../ffi/libc.ts";
import {
  NETLINK_GENERIC, NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, attrBytes, attrString, concatBytes, encodeAttrs,
  parseAttrMap, readString,
} from "../../src/netlink/message.ts";
import { NetlinkError, NetlinkSocket, resolveGenlFamily } from "../../src/netlink/socket.ts";
import { inNetns } from "../../src/net/netns.ts";
import { createLab } from "../helpers/netns.ts";

const lab = createLab("lbt-nl-");
let ns = "";

// Minimal rtnetlink bodies so this file depends only on the socket layer.
const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, IFLA_IFNAME = 3;
const ifinfomsg = (index = 0) => { const b = new Uint8Array(16); new DataView(b.buffer).setInt32(4, index, true); return b; };
const ifaddrmsg = (prefix: number, index: number) => {
  const b = new Uint8Array(8);
  b[0] = 2; b[1] = prefix;
  new DataView(b.buffer).setUint32(4, index, true);
  return b;
};

beforeAll(async () => {
  [ns] = await lab.namespaces("sock");
});
afterAll(() => lab.cleanup());

describe("libc wrappers", () => {
  it("throws SysError with errno name and strerror text", () => {
    let err: unknown;
    try { ifNameToIndex("no-such-if0"); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SysError);
    expect((err as SysError).code).toBe("ENODEV");
    expect((err as SysError).message).toMatch(/if_nametoindex \(no-such-if0\): ENODEV No such device/);
    expect(() => socket(12345, libc.SOCK_RAW, 0)).toThrow(/socket: EAFNOSUPPORT/);
  });

  it("maps interface names and indexes both ways and reports this process's pid", () => {
    const index = inNetns(ns, () => ifNameToIndex("lo"));
    expect(index).toBe(1);
    expect(libc.ifIndexToName(index)).toBe("lo");
    expect(() => libc.ifIndexToName(987654)).toThrow(/if_indextoname \(987654\): ENXIO/);
    expect(libc.getpid()).toBe(process.pid);
  });

  it("connects a UDP socket and exchanges a datagram on loopback with sendto/recvfrom and poll", () => {
    const [server, client] = inNetns(ns, () => [socket(libc.AF_INET, libc.SOCK_DGRAM, 0), socket(libc.AF_INET, libc.SOCK_DGRAM, 0)]);
    try {
      libc.bind(server, sockaddrIn("127.0.0.1", 40124));
      libc.connect(client, sockaddrIn("127.0.0.1", 40124));
      expect(libc.sendto(client, Uint8Array.of(1, 2, 3))).toBe(3);
      expect(libc.poll([{ fd: server, events: libc.POLLIN }], 1000)).toEqual([libc.POLLIN]);
      const buf = new Uint8Array(16);
      const r = libc.recvfrom(server, buf, libc.MSG_DONTWAIT)!;
      expect([...buf.subarray(0, r.length)]).toEqual([1, 2, 3]);
      expect(libc.decodeSockaddr(r.from)!.address).toEqual(Uint8Array.of(127, 0, 0, 1));
      expect(libc.recvfrom(server, buf, libc.MSG_DONTWAIT)).toBeNull(); // EAGAIN is "nothing queued"
    } finally {
      libc.close(server);
      libc.close(client);
    }
  });

  it("binds a UDP socket on loopback of a namespace and reads it back with getsockname", () => {
    const fd = inNetns(ns, () => socket(libc.AF_INET, libc.SOCK_DGRAM, 0));
    try {
      libc.bind(fd, sockaddrIn("127.0.0.1", 40123));
      const sa = libc.decodeSockaddr(libc.getsockname(fd))!;
      expect(sa.port).toBe(40123);
      expect([...sa.address]).toEqual([127, 0, 0, 1]);
    } finally {
      libc.close(fd);
    }
  });
});

describe("NetlinkSocket", () => {
  it("resolves the nlctrl family and reports an unknown family as ENOENT", async () => {
    const fam = await resolveGenlFamily("nlctrl");
    expect(fam.id).toBe(0x10);
    expect(fam.groups.get("notify")).toBe(0x10);
    await expect(resolveGenlFamily("no-such-family")).rejects.toMatchObject({ name: "NetlinkError", code: "ENOENT" });
  });

  it("dumps links of a fresh namespace (only lo)", async () => {
    const s = inNetns(ns, () => NetlinkSocket.open(NETLINK_ROUTE));
    try {
      const links = await s.request({ type: RTM_GETLINK, payload: ifinfomsg() }, { dump: true });
      const names = links.map((m) => readString(parseAttrMap(m.payload.subarray(16)).get(IFLA_IFNAME)!));
      expect(names).toEqual(["lo"]);
    } finally {
      s.close();
    }
  });

  it("rejects a failing request with errno name, strerror and kernel text", async () => {
    const s = inNetns(ns, () => NetlinkSocket.open(NETLINK_ROUTE));
    try {
      // Creating "lo" again with EXCL must fail with EEXIST.
      const req = { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, payload: concatBytes([ifinfomsg(), encodeAttrs([attrString(IFLA_IFNAME, "lo")])]) };
      const err = await s.request(req, { what: "create lo" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetlinkError);
      expect((err as NetlinkError).code).toBe("EEXIST");
      expect((err as NetlinkError).message).toMatch(/^create lo: EEXIST File exists/);
    } finally {
      s.close();
    }
  });

  it("runs a batch with per-request results, continuing after failures", async () => {
    const s = inNetns(ns, () => NetlinkSocket.open(NETLINK_ROUTE));
    try {
      const lo = 1;
      const addAddr = (a: number) => ({
        type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL,
        payload: concatBytes([ifaddrmsg(32, lo), encodeAttrs([attrBytes(2 /* IFA_LOCAL */, Uint8Array.of(10, 77, a >> 8, a & 255))])]),
      });
      const reqs = Array.from({ length: 3000 }, (_, i) => addAddr(i + 1));
      reqs.splice(1500, 0, addAddr(1)); // duplicate: EEXIST in the middle
      const results = await s.requestMany(reqs, { window: 700, what: "add addresses" });
      expect(results).toHaveLength(3001);
      expect(results.filter((r) => r.ok)).toHaveLength(3000);
      const bad = results[1500];
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.code).toBe("EEXIST");
      const out = await lab.run(ns, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]);
      expect(out.split("\n").filter((l) => l.includes("10.77.")).length).toBe(3000);
    } finally {
      s.close();
    }
  });

  it("keeps a batch within a small receive buffer instead of losing ACKs", async () => {
    const s = inNetns(ns, () => NetlinkSocket.open(NETLINK_ROUTE, { rcvbuf: 64 * 1024 }));
    try {
      expect(s.rcvbuf).toBeLessThanOrEqual(2 * 64 * 1024);
      // GETLINK of a missing ifindex: every request gets an error ACK, none gets lost.
      const reqs = Array.from({ length: 4000 }, () => ({ type: RTM_GETLINK, payload: ifinfomsg(999_999) }));
      const results = await s.requestMany(reqs, { timeoutMs: 2000 });
      expect(results.every((r) => !r.ok && r.error.code === "ENODEV")).toBe(true);
    } finally {
      s.close();
    }
  });

  it("joins a multicast group by number and reads a notification synchronously", async () => {
    const RTNLGRP_IPV4_IFADDR = 5;
    const s = inNetns(ns, () => NetlinkSocket.open(NETLINK_ROUTE));
    try {
      s.addMembership(RTNLGRP_IPV4_IFADDR);
      await lab.run(ns, ["ip", "addr", "add", "10.78.0.1/32", "dev", "lo"]);
      const [m] = s.receive(performance.now() + 2000, "address notification");
      expect(m.header.type).toBe(RTM_NEWADDR);
      expect([...parseAttrMap(m.payload.subarray(8)).get(2 /* IFA_LOCAL */)!]).toEqual([10, 78, 0, 1]);
    } finally {
      s.close();
    }
  });

  it("bounds the wait: a receive with nothing queued fails with ETIMEDOUT", () => {
    const s = NetlinkSocket.open(NETLINK_GENERIC);
    try {
      expect(() => s.receive(performance.now() + 50, "idle receive")).toThrow(/idle receive: ETIMEDOUT/);
    } finally {
      s.close();
    }
  });

  it("refuses use after close", async () => {
    const s = NetlinkSocket.open(NETLINK_GENERIC);
    s.close();
    s.close();
    await expect(s.request({ type: 0x10 })).rejects.toThrow(/closed/);
  });
});
