import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatMac, parseMac, vrrpVirtualMac } from "../../src/vrrp/ethernet.ts";
import { buildGratuitousArp, buildUnsolicitedNa, buildUnsolicitedNaFrame } from "../../src/vrrp/garp.ts";
import { bytesToHex, hexToBytes, internetChecksum, ipv6PseudoHeader, parseIpv6 } from "../../src/vrrp/inet.ts";

const MAC = parseMac("02:00:77:01:00:01")!;

describe("gratuitous ARP", () => {
  it("is byte-identical to keepalived's frame for 10.77.1.100", () => {
    const expected = readFileSync(new URL("../fixtures/captures/garp-10.77.1.100.hex", import.meta.url), "utf8").trim();
    const frame = buildGratuitousArp(MAC, "10.77.1.100");
    expect(frame.ok && bytesToHex(frame.bytes)).toBe(expected);
  });
  it("refuses a bad address or MAC", () => {
    expect(buildGratuitousArp(MAC, "10.77.1").ok).toBe(false);
    expect(buildGratuitousArp(new Uint8Array(5), "10.77.1.1").ok).toBe(false);
  });
});

describe("unsolicited neighbour advertisement", () => {
  const fields = { target: "2001:db8::100", mac: MAC, source: "fe80::1" }; // explicit source: not keepalived's default
  it("is an ICMPv6 NA with Override, the target and its link-layer option, and a valid checksum", () => {
    const na = buildUnsolicitedNa(fields);
    if (!na.ok) throw new Error(na.error);
    const b = na.bytes;
    expect(b.length).toBe(32);
    expect(b[0]).toBe(136);
    expect(b[1]).toBe(0);
    expect(b[4]).toBe(0x20);
    expect(bytesToHex(b.subarray(8, 24))).toBe(bytesToHex(parseIpv6("2001:db8::100")!));
    expect([b[24], b[25]]).toEqual([2, 1]);
    expect(formatMac(b.subarray(26, 32))).toBe("02:00:77:01:00:01");
    const ph = ipv6PseudoHeader(parseIpv6("fe80::1")!, parseIpv6("ff02::1")!, 58, 32);
    expect(internetChecksum(ph, b)).toBe(0);
    const routed = buildUnsolicitedNa({ ...fields, router: true });
    expect(routed.ok && routed.bytes[4]).toBe(0xa0);
  });
  it("as an Ethernet frame goes to 33:33:00:00:00:01 / ff02::1 with hop limit 255", () => {
    const frame = buildUnsolicitedNaFrame(fields);
    if (!frame.ok) throw new Error(frame.error);
    const f = frame.bytes;
    expect(f.length).toBe(14 + 40 + 32);
    expect(bytesToHex(f.subarray(0, 14))).toBe("333300000001" + "020077010001" + "86dd");
    expect(f[14] >> 4).toBe(6);
    expect([f[18], f[19], f[20], f[21]]).toEqual([0, 32, 58, 255]);
    expect(bytesToHex(f.subarray(38, 54))).toBe(bytesToHex(parseIpv6("ff02::1")!));
    expect(bytesToHex(f.subarray(54))).toBe(bytesToHex((buildUnsolicitedNa(fields) as { bytes: Uint8Array }).bytes));
  });
  it("refuses bad input", () => {
    expect(buildUnsolicitedNa({ ...fields, target: "10.0.0.1" }).ok).toBe(false);
    expect(buildUnsolicitedNaFrame({ ...fields, source: "nope" }).ok).toBe(false);
  });
});

describe("keepalived 2.2.7 IPv6 captures, byte for byte", () => {
  const hex = (name: string) => readFileSync(new URL(`../fixtures/captures/${name}.hex`, import.meta.url), "utf8").trim();
  it.each([
    ["na-fe80--100", "fe80::100"],
    ["na-2001-db8--100", "2001:db8::100"],
  ])("%s: the NA frame, sent from the VIP itself", (name, vip) => {
    const frame = buildUnsolicitedNaFrame({ target: vip, mac: MAC });
    expect(frame.ok && bytesToHex(frame.bytes)).toBe(hex(name));
  });
});

describe("VRRP virtual MAC", () => {
  it("is 00:00:5e:00:01:VRID for IPv4 and 00:00:5e:00:02:VRID for IPv6", () => {
    expect(formatMac(vrrpVirtualMac(51, 4))).toBe("00:00:5e:00:01:33");
    expect(formatMac(vrrpVirtualMac(255, 6))).toBe("00:00:5e:00:02:ff");
    expect(hexToBytes("0a 4d")).toEqual(new Uint8Array([10, 77]));
    expect(hexToBytes("0a4")).toBeNull();
    expect(hexToBytes("zz")).toBeNull();
  });
});
