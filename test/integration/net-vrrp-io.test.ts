import { readFileSync } from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ifNameToIndex } from "../../ffi/libc.ts";
import { sendEthernetFrame } from "../../src/net/ethernet.ts";
import { sendIcmp6 } from "../../src/net/icmp6.ts";
import { parseIPv4 } from "../../src/net/inet.ts";
import { inNetns } from "../../src/net/netns.ts";
import { Rtnl, vrrpVirtualMac } from "../../src/netlink/rtnetlink.ts";
import { openVrrpSocket, type ReceivedPacket, type VrrpSocket } from "../../src/net/vrrp-socket.ts";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";

const lab = createLab("lbt-nl-");
let a = "", b = "";
let ifindexB = 0;
const opened: VrrpSocket[] = [];

beforeAll(async () => {
  [a, b] = await lab.namespaces("va", "vb");
  await lab.veth(a, "eth0", b, "eth0");
  await lab.addr(a, "eth0", "10.71.0.1/24");
  await lab.addr(b, "eth0", "10.71.0.2/24");
  await lab.addr(a, "eth0", "fe80::a/64");
  await lab.addr(b, "eth0", "fe80::b/64");
  ifindexB = inNetns(b, () => ifNameToIndex("eth0"));
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await lab.cleanup();
});

function open(ns: string, o: Parameters<typeof openVrrpSocket>[0]): VrrpSocket {
  const s = inNetns(ns, () => openVrrpSocket(o));
  opened.push(s);
  return s;
}

function nextPacket(s: VrrpSocket, timeoutMs = 3000): Promise<ReceivedPacket> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no VRRP packet received")), timeoutMs);
    s.onPacket((p) => { clearTimeout(t); resolve(p); });
  });
}

/** IPv4 header as keepalived writes it: TOS 0xc0, TTL 255, protocol 112 (checksum left to the kernel). */
function ipv4Packet(src: string, dst: string, id: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.byteLength);
  const v = new DataView(p.buffer);
  p[0] = 0x45; p[1] = 0xc0;
  v.setUint16(2, p.byteLength);
  v.setUint16(4, id);
  p[8] = 255; p[9] = 112;
  p.set(parseIPv4(src)!, 12);
  p.set(parseIPv4(dst)!, 16);
  p.set(payload, 20);
  return p;
}

const advert = Uint8Array.from([0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x00, 0x00, 10, 71, 0, 100, 0x70, 0x61, 0x73, 0x73, 0, 0, 0, 0]);

describe("VRRP raw sockets between two namespaces", () => {
  it("IPv4 multicast: full IP packet, source, destination, TTL 255 and ifindex arrive", async () => {
    const rx = open(b, { family: 4, ifname: "eth0" });
    const tx = open(a, { family: 4, ifname: "eth0" });
    const looped: ReceivedPacket[] = [];
    tx.onPacket((pkt) => looped.push(pkt));
    const got = nextPacket(rx);
    tx.send(ipv4Packet("10.71.0.1", "224.0.0.18", 1, advert));
    const p = await got;
    // Multicast loop is off: the sender does not hear itself (the peer's copy has arrived by now).
    await Bun.sleep(50);
    expect(looped).toEqual([]);
    expect(p).toMatchObject({ src: "10.71.0.1", dst: "224.0.0.18", ttlOrHopLimit: 255, ifindex: ifindexB });
    expect(p.data[1]).toBe(0xc0);
    expect(p.data[9]).toBe(112);
    expect([...p.data.subarray(20)]).toEqual([...advert]);
    await Promise.all([rx.close(), tx.close()]);
  });

  it("IPv4 unicast to a peer", async () => {
    const rx = open(b, { family: 4, ifname: "eth0", unicast: { src: "10.71.0.2", peers: ["10.71.0.1"] } });
    const tx = open(a, { family: 4, ifname: "eth0", unicast: { src: "10.71.0.1", peers: ["10.71.0.2"] } });
    const got = nextPacket(rx);
    tx.send(ipv4Packet("10.71.0.1", "10.71.0.2", 2, advert), "10.71.0.2");
    const p = await got;
    expect(p).toMatchObject({ src: "10.71.0.1", dst: "10.71.0.2", ttlOrHopLimit: 255, ifindex: ifindexB });
    expect([...p.data.subarray(20)]).toEqual([...advert]);
    await Promise.all([rx.close(), tx.close()]);
  });

  it("IPv6 multicast: payload, link-local source, ff02::12, hop limit 255 and ifindex from cmsgs", async () => {
    const rx = open(b, { family: 6, ifname: "eth0" });
    const tx = open(a, { family: 6, ifname: "eth0" });
    const got = nextPacket(rx);
    const v3 = Uint8Array.from([0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x12, 0x34, ...new Uint8Array(16).fill(0xfd, 0, 1)]);
    tx.send(v3, undefined, { src: "fe80::a" });
    const p = await got;
    expect(p).toMatchObject({ src: "fe80::a", dst: "ff02::12", ttlOrHopLimit: 255, ifindex: ifindexB });
    expect([...p.data]).toEqual([...v3]);
    await Promise.all([rx.close(), tx.close()]);
  });

  it("IPv6 unicast to a peer's link-local address", async () => {
    const rx = open(b, { family: 6, ifname: "eth0", unicast: { src: "fe80::b", peers: ["fe80::a"] } });
    const tx = open(a, { family: 6, ifname: "eth0", unicast: { src: "fe80::a", peers: ["fe80::b"] } });
    const got = nextPacket(rx);
    tx.send(Uint8Array.of(0x31, 7, 8, 9), "fe80::b", { src: "fe80::a" });
    const p = await got;
    expect(p).toMatchObject({ src: "fe80::a", dst: "fe80::b", ttlOrHopLimit: 255, ifindex: ifindexB });
    expect([...p.data]).toEqual([0x31, 7, 8, 9]);
    await Promise.all([rx.close(), tx.close()]);
  });

  it("works from inside a Worker (the VRRP engine's own thread), through a nested receive worker", async () => {
    const w = new Worker(new URL("../fixtures/netlink/vrrp-rx-in-worker.ts", import.meta.url).href);
    const messages: { kind: string; [k: string]: unknown }[] = [];
    const waitFor = (kind: string) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker never said ${kind}: ${JSON.stringify(messages)}`)), 3000);
      const check = () => { if (messages.some((m) => m.kind === kind)) { clearTimeout(t); resolve(); } else setTimeout(check, 5); };
      check();
    });
    w.onmessage = (e) => messages.push(e.data);
    try {
      w.postMessage({ ns: b });
      await waitFor("ready");
      const tx = open(a, { family: 4, ifname: "eth0" });
      tx.send(ipv4Packet("10.71.0.1", "224.0.0.18", 4, advert));
      await waitFor("closed");
      expect(messages.find((m) => m.kind === "packet")).toEqual({ kind: "packet", src: "10.71.0.1", dst: "224.0.0.18", ttl: 255, length: 20 + advert.byteLength });
      await tx.close();
    } finally {
      w.terminate();
    }
  });

  it("closes cleanly: a closed socket refuses to send and its fd is gone", async () => {
    const s = open(a, { family: 4, ifname: "eth0" });
    s.onPacket(() => {});
    await s.close();
    expect(() => s.send(new Uint8Array(20))).toThrow(/closed/);
    expect(() => readFileSync(`/proc/self/fdinfo/${s.fd}`)).toThrow();
  });

  it("reports an unknown interface as a clear error", () => {
    expect(() => inNetns(a, () => openVrrpSocket({ family: 4, ifname: "nope0" }))).toThrow(/if_nametoindex \(nope0\): ENODEV/);
  });
});

async function capture(ns: string, filter: string[]): Promise<{ proc: SpawnedProcess; frame: () => Promise<Uint8Array> }> {
  const proc = lab.spawnIn(ns, ["tcpdump", "-i", "eth0", "-n", "-xx", "-c", "1", "-l", ...filter]);
  for (let i = 0; i < 300 && !proc.output().stderr.includes("listening"); i++) await Bun.sleep(10);
  return {
    proc,
    frame: async () => {
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      const hex = proc.output().stdout.split("\n").filter((l) => /^\s+0x[0-9a-f]+:/.test(l))
        .map((l) => l.replace(/^\s+0x[0-9a-f]+:\s+/, "").replace(/\s+/g, "")).join("");
      return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
    },
  };
}

describe("link-layer and ICMPv6 sends", () => {
  it("a gratuitous ARP frame sent on a veth is seen byte for byte by tcpdump in the peer namespace", async () => {
    const frame = Uint8Array.from(Buffer.from("ffffffffffff020077010001080600010800060400010200770100010a4d0164ffffffffffff0a4d0164", "hex"));
    const cap = await capture(b, ["arp"]);
    const ifindexA = inNetns(a, () => ifNameToIndex("eth0"));
    inNetns(a, () => sendEthernetFrame(ifindexA, frame));
    expect([...(await cap.frame())]).toEqual([...frame]);
  });

  it("an unsolicited neighbour advertisement goes out with hop limit 255 and a kernel-made checksum", async () => {
    const na = new Uint8Array(32);
    na[0] = 136; // type NA
    na[4] = 0x20; // override flag
    na.set(Uint8Array.from(Buffer.from("fe80000000000000000000000000000a", "hex")), 8);
    na[24] = 2; na[25] = 1; // target link-layer address option
    na.set([2, 0, 0x77, 1, 0, 1], 26);
    const cap = await capture(b, ["icmp6", "and", "ip6[40]", "==", "136"]);
    const ifindexA = inNetns(a, () => ifNameToIndex("eth0"));
    inNetns(a, () => sendIcmp6(ifindexA, "ff02::1", na, { hopLimit: 255, src: "fe80::a" }));
    const f = await cap.frame();
    expect(f.byteLength).toBe(14 + 40 + 32);
    expect(f[14 + 7]).toBe(255); // hop limit
    expect(Buffer.from(f.subarray(14 + 8, 14 + 24)).toString("hex")).toBe("fe80000000000000000000000000000a");
    expect(Buffer.from(f.subarray(14 + 24, 14 + 40)).toString("hex")).toBe("ff020000000000000000000000000001");
    expect(f[54]).toBe(136);
    expect((f[56] << 8) | f[57]).not.toBe(0); // checksum filled in
    expect([...f.subarray(58)]).toEqual([...na.subarray(4)]);
  });
});

describe("use_vmac", () => {
  it("an advert sent on a macvlan with the VRRP virtual MAC leaves with that source MAC", async () => {
    const rtnl = inNetns(a, () => Rtnl.open());
    try {
      const parent = await rtnl.linkByName("eth0");
      const vmac = await rtnl.createMacvlan({ name: "vrrp.51", parentIndex: parent.index, mac: vrrpVirtualMac(51) });
      await rtnl.setLinkUp(vmac.index, true);
      const rx = open(b, { family: 4, ifname: "eth0" });
      const tx = open(a, { family: 4, ifname: "vrrp.51", ifindex: vmac.index });
      const cap = await capture(b, ["-e", "ip", "proto", "112"]);
      const got = nextPacket(rx);
      tx.send(ipv4Packet("10.71.0.1", "224.0.0.18", 3, advert));
      expect((await got).src).toBe("10.71.0.1");
      const frame = await cap.frame();
      expect(Buffer.from(frame.subarray(0, 6)).toString("hex")).toBe("01005e000012"); // multicast MAC of 224.0.0.18
      expect(Buffer.from(frame.subarray(6, 12)).toString("hex")).toBe("00005e000133");
      await Promise.all([rx.close(), tx.close()]);
      await rtnl.deleteLink(vmac.index);
    } finally {
      rtnl.close();
    }
  });
});
