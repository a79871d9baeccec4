import { describe, expect, it } from "vitest";

import {
  IPPROTO_IP, IPPROTO_IPV6, IPV6_HOPLIMIT, IPV6_PKTINFO, IP_PKTINFO, buildCmsg, decodeSockaddr, parseCmsgs,
  sockaddrIn, sockaddrIn6, sockaddrLl, sockaddrNl,
} from "../../ffi/libc.ts";
import { decodeIPv4Datagram, decodeIPv6Datagram } from "../../src/net/datagram.ts";
import { parseIPv6 } from "../../src/net/inet.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const le32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, n, true); return b; };

describe("sockaddr builders", () => {
  it("lay out sockaddr_in / in6 / nl / ll like the C structs", () => {
    expect(hex(sockaddrIn("224.0.0.18", 80))).toBe("0200" + "0050" + "e0000012" + "0000000000000000");
    expect(hex(sockaddrIn6("ff02::12", 0, 5))).toBe("0a00" + "0000" + "00000000" + "ff020000000000000000000000000012" + "05000000");
    expect(hex(sockaddrNl(0, 0x111))).toBe("1000" + "0000" + "00000000" + "11010000");
    expect(hex(sockaddrLl(3, 0x0806, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)))).toBe(
      "1100" + "0806" + "03000000" + "0000" + "00" + "06" + "ffffffffffff0000");
    expect(() => sockaddrIn("fd00::1")).toThrow(/invalid IPv4 address/);
  });

  it("decodes IPv4 and IPv6 sockaddrs and rejects other families", () => {
    expect(decodeSockaddr(sockaddrIn("10.0.0.1", 9))).toMatchObject({ family: 2, port: 9 });
    const d6 = decodeSockaddr(sockaddrIn6("fe80::1", 0, 7))!;
    expect(d6.scopeId).toBe(7);
    expect(decodeSockaddr(sockaddrNl())).toBeNull();
    expect(decodeSockaddr(new Uint8Array(1))).toBeNull();
  });

  it("builds and parses cmsgs with 8-byte alignment", () => {
    const control = new Uint8Array([...buildCmsg(IPPROTO_IPV6, IPV6_HOPLIMIT, le32(255)), ...buildCmsg(IPPROTO_IP, IP_PKTINFO, new Uint8Array(12))]);
    expect(control.byteLength).toBe(24 + 32);
    expect(parseCmsgs(control).map((c) => [c.level, c.type, c.data.byteLength])).toEqual([[41, 52, 4], [0, 8, 12]]);
    expect(parseCmsgs(control.subarray(0, 10))).toEqual([]);
  });
});

describe("received datagram decoding", () => {
  const ipv4 = () => {
    const p = new Uint8Array(28);
    p.set([0x45, 0xc0, 0, 28, 0, 1, 0, 0, 255, 112, 0, 0, 10, 0, 0, 1, 224, 0, 0, 18]);
    return p;
  };

  it("IPv4: addresses and TTL from the header, ifindex from IP_PKTINFO", () => {
    const info = new Uint8Array(12);
    info.set(le32(4), 0);
    const r = decodeIPv4Datagram({ data: ipv4(), from: sockaddrIn("10.0.0.1"), control: buildCmsg(IPPROTO_IP, IP_PKTINFO, info), flags: 0 });
    expect(r).toEqual({ ok: true, packet: { data: ipv4(), src: "10.0.0.1", dst: "224.0.0.18", ifindex: 4, ttlOrHopLimit: 255 } });
  });

  it("IPv4: rejects short, non-v4 and bad-IHL packets", () => {
    const bad = (data: Uint8Array) => decodeIPv4Datagram({ data, from: new Uint8Array(0), control: new Uint8Array(0), flags: 0 });
    expect(bad(new Uint8Array(10))).toMatchObject({ ok: false });
    const v6ish = ipv4(); v6ish[0] = 0x65;
    expect(bad(v6ish)).toMatchObject({ ok: false, reason: expect.stringMatching(/not an IPv4/) });
    const ihl = ipv4(); ihl[0] = 0x4f;
    expect(bad(ihl)).toMatchObject({ ok: false, reason: expect.stringMatching(/header length 60/) });
  });

  it("IPv6: source from the sockaddr, destination/ifindex from IPV6_PKTINFO, hop limit from IPV6_HOPLIMIT", () => {
    const pi = new Uint8Array(20);
    pi.set(parseIPv6("ff02::12")!, 0);
    new DataView(pi.buffer).setUint32(16, 6, true);
    const control = new Uint8Array([...buildCmsg(IPPROTO_IPV6, IPV6_PKTINFO, pi), ...buildCmsg(IPPROTO_IPV6, IPV6_HOPLIMIT, le32(254))]);
    const data = Uint8Array.of(0x31, 1, 2, 3);
    const r = decodeIPv6Datagram({ data, from: sockaddrIn6("fe80::a", 0, 6), control, flags: 0 });
    expect(r).toEqual({ ok: true, packet: { data, src: "fe80::a", dst: "ff02::12", ifindex: 6, ttlOrHopLimit: 254 } });
    expect(decodeIPv6Datagram({ data, from: sockaddrIn6("fe80::a"), control: new Uint8Array(0), flags: 0 }))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/ancillary/) });
    expect(decodeIPv6Datagram({ data, from: sockaddrIn("10.0.0.1"), control, flags: 0 })).toMatchObject({ ok: false });
  });
});
