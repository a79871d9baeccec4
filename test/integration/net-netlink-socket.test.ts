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
