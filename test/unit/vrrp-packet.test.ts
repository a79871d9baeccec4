import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildEthernetFrame, ETHERTYPE_IPV4, ipv4MulticastMac, parseMac } from "../../src/vrrp/ethernet.ts";
import { bytesToHex, hexToBytes, internetChecksum, parseIpv4, parseIpv6, formatIpv6 } from "../../src/vrrp/inet.ts";
import {
  buildIpv4Packet,
  decode,
  decodeAdvert,
  decodeIpv4Advert,
  encodeAdvert,
  encodeInstanceAdvert,
  expectationsFor,
  nextIpId,
  parseIpv4Packet,
  type AdvertExpectations,
  type DecodeResult,
} from "../../src/vrrp/packet.ts";
import type { VrrpInstanceParams } from "../../src/vrrp/types.ts";
import { vrrpParams } from "../helpers/vrrp-params.ts";

const capture = (name: string) => {
  const bytes = hexToBytes(readFileSync(new URL(`../fixtures/captures/${name}.hex`, import.meta.url), "utf8"));
  if (!bytes) throw new Error(`${name}.hex is not hex`);
  return bytes;
};

// The captures are keepalived 2.2.7 frames: 02:00:77:01:00:01 (10.77.1.1) -> 224.0.0.18, VRID 51, VIP 10.77.1.100.
const params = (over: Partial<VrrpInstanceParams> = {}): VrrpInstanceParams =>
  vrrpParams({ primaryIp: "10.77.1.1", authType: "pass", authPass: "1111", ...over });

const expectations = (over: Partial<AdvertExpectations> = {}): AdvertExpectations => ({
  family: 4,
  version: 2,
  vrid: 51,
  advertIntervalMs: 1000,
  authType: "pass",
  authPass: "1111",
  vips: ["10.77.1.100"],
  unicastPeers: [],
  oldUnicastChecksum: "auto",
  v3ChecksumAsV2: false,
  checkAddresses: true,
  checkUnicastSource: false,
  ...over,
});

const SRC_MAC = parseMac("02:00:77:01:00:01")!;
const GROUP_MAC = ipv4MulticastMac(parseIpv4("224.0.0.18")!);

function ipPart(frame: Uint8Array) {
  return frame.subarray(14);
}

function reencodeFrame(p: VrrpInstanceParams, priority: number, id: number): Uint8Array {
  const vrrp = encodeInstanceAdvert(p, priority, "224.0.0.18");
  if (!vrrp.ok) throw new Error(vrrp.error);
  const ip = buildIpv4Packet({ source: p.primaryIp, destination: "224.0.0.18", id, payload: vrrp.bytes });
  if (!ip.ok) throw new Error(ip.error);
  return buildEthernetFrame(GROUP_MAC, SRC_MAC, ETHERTYPE_IPV4, ip.bytes);
}

function expectDrop(result: DecodeResult, reason: string) {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toBe(reason);
}

describe("keepalived captures, byte for byte", () => {
  it("decodes the v2 prio 150 PASS advert and re-encodes the identical frame", () => {
    const frame = capture("vrrpv2-advert-vrid51-prio150-pass");
    const result = decodeIpv4Advert(ipPart(frame), expectations());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.advert).toMatchObject({
      version: 2,
      type: 1,
      vrid: 51,
      priority: 150,
      addressCount: 1,
      advertIntervalMs: 1000,
      authType: 1,
      checksum: 0xd9b6,
      addresses: ["10.77.1.100"],
      source: "10.77.1.1",
      destination: "224.0.0.18",
      ttl: 255,
    });
    expect(new TextDecoder().decode(result.advert.authData!)).toBe("1111\0\0\0\0");
    const ip = parseIpv4Packet(ipPart(frame));
    expect(ip.ok && ip.header.id).toBe(1);
    expect(bytesToHex(reencodeFrame(params({ priority: 150 }), 150, 1))).toBe(bytesToHex(frame));
  });

  it("decodes the v2 priority-0 advert (a graceful stop) and re-encodes it", () => {
    const frame = capture("vrrpv2-advert-vrid51-prio0-pass");
    const result = decodeIpv4Advert(ipPart(frame), expectations());
    expect(result.ok && result.advert.priority).toBe(0);
    const ip = parseIpv4Packet(ipPart(frame));
    expect(ip.ok && ip.header.id).toBe(6);
    expect(bytesToHex(reencodeFrame(params({ priority: 150 }), 0, 6))).toBe(bytesToHex(frame));
  });

  it("decodes the v3 10 cs advert (checksum with the IPv4 pseudo-header) and re-encodes it", () => {
    const frame = capture("vrrpv3-advert-vrid51-prio150-10cs");
    const exp = expectations({ version: 3, advertIntervalMs: 100, authType: "none", authPass: undefined });
    const result = decodeIpv4Advert(ipPart(frame), exp);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.advert).toMatchObject({ version: 3, priority: 150, advertIntervalMs: 100, checksum: 0x4133, authData: null });
    const p = params({ version: 3, advertIntervalMs: 100, authType: "none", authPass: undefined, priority: 150 });
    expect(bytesToHex(reencodeFrame(p, 150, 1))).toBe(bytesToHex(frame));
  });

  it("the v3 capture fails as a v3-checksum-as-v2 packet unless the option accepts it, and vice versa", () => {
    const p = params({ version: 3, advertIntervalMs: 100, authType: "none", authPass: undefined, v3ChecksumAsV2: true });
    const compat = encodeInstanceAdvert(p, 150, "224.0.0.18");
    if (!compat.ok) throw new Error(compat.error);
    expect(internetChecksum(compat.bytes)).toBe(0); // computed over the VRRP message alone
    const rx = { family: 4 as const, source: "10.77.1.1", destination: "224.0.0.18", ttl: 255 };
    const exp = expectations({ version: 3, advertIntervalMs: 100, authType: "none" });
    expectDrop(decodeAdvert(compat.bytes, rx, exp), "checksumError");
    expect(decodeAdvert(compat.bytes, rx, { ...exp, v3ChecksumAsV2: true }).ok).toBe(true);
    // The standard checksum is still accepted with the option on.
    const standard = ipPart(capture("vrrpv3-advert-vrid51-prio150-10cs")).subarray(20);
    expect(decodeAdvert(standard, rx, { ...exp, v3ChecksumAsV2: true }).ok).toBe(true);
  });
});

describe("old_unicast_checksum (keepalived < 1.3.6 VRRPv3 unicast peers)", () => {
  const p = params({ version: 3, authType: "none", authPass: undefined, unicastPeers: ["10.77.1.2"] });
  const rx = { family: 4 as const, source: "10.77.1.1", destination: "10.77.1.2", ttl: 64 };
  const exp = (mode: "auto" | "always" | "never") => ({ ...expectationsFor(p), oldUnicastChecksum: mode });
  const standard = encodeInstanceAdvert(p, 100, "10.77.1.2");
  const legacy = encodeInstanceAdvert(p, 100, "10.77.1.2", true);

  it("the legacy checksum puts 224.0.0.18 in the pseudo-header instead of the peer", () => {
    if (!standard.ok || !legacy.ok) throw new Error("encode failed");
    expect(bytesToHex(standard.bytes)).not.toBe(bytesToHex(legacy.bytes));
    const asMulticast = encodeInstanceAdvert(p, 100, "224.0.0.18");
    expect(asMulticast.ok && bytesToHex(asMulticast.bytes)).toBe(bytesToHex(legacy.bytes));
  });
  it("auto accepts both and flags the legacy one; never refuses it; always expects it", () => {
    if (!standard.ok || !legacy.ok) throw new Error("encode failed");
    const a = decodeAdvert(standard.bytes, rx, exp("auto"));
    expect(a.ok && a.advert.legacyUnicastChecksum).toBe(false);
    const b = decodeAdvert(legacy.bytes, rx, exp("auto"));
    expect(b.ok && b.advert.legacyUnicastChecksum).toBe(true);
    expectDrop(decodeAdvert(legacy.bytes, rx, exp("never")), "checksumError");
    expect(decodeAdvert(legacy.bytes, rx, exp("always")).ok).toBe(true);
    expectDrop(decodeAdvert(standard.bytes, rx, exp("always")), "checksumError");
    // Multicast instances never fall back.
    expectDrop(decodeAdvert(legacy.bytes, { ...rx, ttl: 255 }, { ...exp("auto"), unicastPeers: [] }), "checksumError");
  });
  it("old_unicast_checksum \"always\" is the default for encodeInstanceAdvert's legacy flag", () => {
    const always = encodeInstanceAdvert({ ...p, oldUnicastChecksum: "always" }, 100, "10.77.1.2");
    expect(always.ok && legacy.ok && bytesToHex(always.bytes) === bytesToHex(legacy.bytes)).toBe(true);
  });
});

describe("receive validation, one DropReason per VRRP-MIB counter", () => {
  const good = () => ipPart(capture("vrrpv2-advert-vrid51-prio150-pass")).slice();
  // Rebuilds the IP packet around an edited VRRP payload, fixing the VRRP checksum unless asked not to.
  const withPayload = (edit: (vrrp: Uint8Array) => void, opts: { ttl?: number; fixChecksum?: boolean; dst?: string } = {}) => {
    const vrrp = good().slice(20);
    edit(vrrp);
    if (opts.fixChecksum ?? true) {
      vrrp[6] = vrrp[7] = 0;
      const sum = internetChecksum(vrrp);
      vrrp[6] = sum >> 8;
      vrrp[7] = sum & 0xff;
    }
    const ip = buildIpv4Packet({ source: "10.77.1.1", destination: opts.dst ?? "224.0.0.18", id: 1, payload: vrrp, ttl: opts.ttl });
    if (!ip.ok) throw new Error(ip.error);
    return ip.bytes;
  };

  it("accepts the untouched capture", () => {
    expect(decodeIpv4Advert(good(), expectations()).ok).toBe(true);
  });
  it("TTL other than 255 is a ttlError, but not for unicast instances", () => {
    expectDrop(decodeIpv4Advert(withPayload(() => {}, { ttl: 254 }), expectations()), "ttlError");
    const unicast = withPayload(() => {}, { ttl: 64, dst: "10.77.1.2" });
    expect(decodeIpv4Advert(unicast, expectations({ unicastPeers: ["10.77.1.1"] })).ok).toBe(true);
  });
  it("another VRID is not ours", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[1] = 52)), expectations()), "vridMismatch");
  });
  it("a version 3 packet on a v2 instance is a version error", () => {
    // Same length works for v3 only without the auth field, so build a real v3 packet.
    const v3 = encodeAdvert(
      { version: 3, vrid: 51, priority: 100, advertIntervalMs: 1000, addresses: ["10.77.1.100"] },
      { family: 4, source: "10.77.1.1", destination: "224.0.0.18" },
    );
    if (!v3.ok) throw new Error(v3.error);
    expectDrop(decodeAdvert(v3.bytes, { family: 4, source: "10.77.1.1", destination: "224.0.0.18", ttl: 255 }, expectations()), "versionMismatch");
  });
  it("unknown type is invalidType", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[0] = 0x22)), expectations()), "invalidType");
  });
  it("address count that disagrees with the length is a length error", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[3] = 2)), expectations()), "lengthMismatch");
  });
  it("IP total length that disagrees with the received length is a length error", () => {
    const pkt = good();
    pkt[3] += 1;
    expectDrop(decodeIpv4Advert(pkt, expectations()), "lengthMismatch");
  });
  it("a flipped bit in the VRRP message is a checksum error", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[2] ^= 0x01), { fixChecksum: false }), expectations()), "checksumError");
  });
  it("auth type 3 is invalidAuthType, none vs pass is authTypeMismatch, AH is a mismatch too", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[4] = 3)), expectations()), "invalidAuthType");
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[4] = 0)), expectations()), "authTypeMismatch");
    expectDrop(decodeIpv4Advert(good(), expectations({ authType: "none" })), "authTypeMismatch");
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[4] = 2)), expectations()), "authTypeMismatch");
  });
  it("a wrong password is an authFailure; only the first 8 characters count", () => {
    expectDrop(decodeIpv4Advert(good(), expectations({ authPass: "2222" })), "authFailure");
    const long = params({ authPass: "abcdefgh-ignored" });
    const sent = encodeInstanceAdvert(long, 100, "224.0.0.18");
    if (!sent.ok) throw new Error(sent.error);
    const rx = { family: 4 as const, source: "10.77.1.1", destination: "224.0.0.18", ttl: 255 };
    expect(decodeAdvert(sent.bytes, rx, expectations({ authPass: "abcdefgh" })).ok).toBe(true);
  });
  it("v2 advert interval mismatch is an advertIntervalMismatch", () => {
    expectDrop(decodeIpv4Advert(withPayload((v) => (v[5] = 2)), expectations()), "advertIntervalMismatch");
  });
  it("a v3 advert with another interval is accepted (the backup learns it)", () => {
    const v3 = encodeAdvert(
      { version: 3, vrid: 51, priority: 100, advertIntervalMs: 250, addresses: ["10.77.1.100"] },
      { family: 4, source: "10.77.1.1", destination: "224.0.0.18" },
    );
    if (!v3.ok) throw new Error(v3.error);
    const r = decodeAdvert(v3.bytes, { family: 4, source: "10.77.1.1", destination: "224.0.0.18", ttl: 255 }, expectations({ version: 3, authType: "none" }));
    expect(r.ok && r.advert.advertIntervalMs).toBe(250);
  });
  it("address count or list differing from ours is an address list error (keepalived drops it)", () => {
    expectDrop(decodeIpv4Advert(good(), expectations({ vips: ["10.77.1.100", "10.77.1.101"] })), "addressCountMismatch");
    expectDrop(decodeIpv4Advert(good(), expectations({ vips: ["10.77.1.101"] })), "addressListMismatch");
    // With the check off (skip_check_adv_addr, same master) the list is not compared.
    expect(decodeIpv4Advert(good(), expectations({ vips: ["10.77.1.101"], checkAddresses: false })).ok).toBe(true);
  });
  it("unicast packet on a multicast instance is a cast mismatch", () => {
    expectDrop(decodeIpv4Advert(withPayload(() => {}, { dst: "10.77.1.2" }), expectations()), "castMismatch");
  });
  it("check_unicast_src refuses a sender that is not a peer", () => {
    const pkt = withPayload(() => {}, { dst: "10.77.1.2" });
    const exp = expectations({ unicastPeers: ["10.77.1.3"], checkUnicastSource: true });
    expectDrop(decodeIpv4Advert(pkt, exp), "unicastSourceNotPeer");
    expect(decodeIpv4Advert(pkt, { ...exp, unicastPeers: ["10.77.1.1"] }).ok).toBe(true);
  });
  it("too short and non-VRRP IP packets are refused", () => {
    expectDrop(decodeIpv4Advert(good().subarray(0, 24), expectations()), "packetTooShort");
    const notVrrp = good();
    notVrrp[9] = 17;
    expectDrop(decodeIpv4Advert(notVrrp, expectations()), "malformedIpHeader");
    const ah = good();
    ah[9] = 51;
    expectDrop(decodeIpv4Advert(ah, expectations()), "authTypeMismatch");
  });
});

describe("IP id", () => {
  it("counts from 1 and skips 0 on wrap-around, as keepalived's captures (ids 1..6) show", () => {
    expect(nextIpId(0)).toBe(1);
    expect(nextIpId(5)).toBe(6);
    expect(nextIpId(0xffff)).toBe(1);
  });
});

describe("encoding refuses what it cannot send", () => {
  const base = { version: 2 as const, vrid: 1, priority: 100, advertIntervalMs: 1000, addresses: ["10.0.0.1"] };
  const opts = { family: 4 as const, source: "10.0.0.2", destination: "224.0.0.18" };
  it.each([
    [{ authType: "ah" as const, authPass: "x" }, /AH/],
    [{ vrid: 0 }, /VRID/],
    [{ priority: 256 }, /priority/],
    [{ advertIntervalMs: 1500 }, /whole seconds/],
    [{ addresses: ["10.0.0.300"] }, /not an IPv4/],
    [{ authType: "pass" as const }, /auth_pass/],
  ])("%o", (over, message) => {
    const r = encodeAdvert({ ...base, ...over }, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
  it("IPv6 needs v3, and PASS needs v2", () => {
    const r6 = encodeAdvert({ ...base, addresses: ["fe80::1"] }, { family: 6, source: "fe80::2", destination: "ff02::12" });
    expect(r6.ok || r6.error).toMatch(/version 3/);
    const r3 = encodeAdvert({ ...base, version: 3, authType: "pass", authPass: "x" }, opts);
    expect(r3.ok || r3.error).toMatch(/VRRPv2/);
  });
});

describe("IPv6 VRRPv3", () => {
  const rx = { family: 6 as const, source: "fe80::1", destination: "ff02::12", ttl: 255 };
  const exp = expectations({ family: 6, version: 3, authType: "none", vips: ["fe80::100", "2001:db8::100"] });
  const sent = encodeAdvert(
    { version: 3, vrid: 51, priority: 120, advertIntervalMs: 1000, addresses: ["fe80::100", "2001:db8::100"] },
    { family: 6, source: "fe80::1", destination: "ff02::12" },
  );
  it("round-trips with the IPv6 pseudo-header checksum", () => {
    if (!sent.ok) throw new Error(sent.error);
    expect(sent.bytes.length).toBe(8 + 32);
    const r = decode(sent.bytes, { expect: exp, rx });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.advert.addresses).toEqual(["fe80::100", "2001:db8::100"]);
  });
  it("a checksum computed for another source fails", () => {
    if (!sent.ok) throw new Error(sent.error);
    expectDrop(decode(sent.bytes, { expect: exp, rx: { ...rx, source: "fe80::2" } }), "checksumError");
    expectDrop(decode(sent.bytes, { expect: exp, rx: { ...rx, ttl: 1 } }), "ttlError");
    expectDrop(decode(sent.bytes, { expect: exp }), "malformedIpHeader");
  });
  it("matches keepalived's IPv6 advert payload byte for byte (the kernel filled in the same checksum)", () => {
    const frame = capture("vrrpv3-ipv6-advert-vrid51-prio255");
    const payload = frame.subarray(14 + 40);
    const r = decode(payload, {
      expect: expectations({ family: 6, version: 3, authType: "none", vips: ["fe80::100", "2001:db8::100"] }),
      rx: { family: 6, source: "fe80::1", destination: "ff02::12", ttl: frame[14 + 7] },
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.advert).toMatchObject({ version: 3, vrid: 51, priority: 255, advertIntervalMs: 1000, checksum: 0xa2fc });
    const again = encodeAdvert(
      { version: 3, vrid: 51, priority: 255, advertIntervalMs: 1000, addresses: ["fe80::100", "2001:db8::100"] },
      { family: 6, source: "fe80::1", destination: "ff02::12" },
    );
    expect(again.ok && bytesToHex(again.bytes)).toBe(bytesToHex(payload));
  });
  it("address helpers agree on canonical text", () => {
    expect(formatIpv6(parseIpv6("2001:0db8:0:0:0:0:0:1")!)).toBe("2001:db8::1");
    expect(formatIpv6(parseIpv6("::ffff:10.0.0.1")!)).toBe("::ffff:a00:1");
    expect(parseIpv6("1::2::3")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeNull();
  });
});

describe("hostile input never throws", () => {
  // A deterministic PRNG (mulberry32) so failures reproduce.
  function rng(seed: number) {
    return () => {
      seed |= 0;
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const rand = rng(12345);
  const seeds = ["vrrpv2-advert-vrid51-prio150-pass", "vrrpv2-advert-vrid51-prio0-pass", "vrrpv3-advert-vrid51-prio150-10cs"].map((n) =>
    ipPart(capture(n)),
  );
  const exps = [expectations(), expectations({ version: 3, advertIntervalMs: 100, authType: "none" })];
  const rx6 = { family: 6 as const, source: "fe80::1", destination: "ff02::12", ttl: 255 };

  it("random bytes, truncations and bit flips all yield a result object", () => {
    let accepted = 0;
    let dropped = 0;
    for (let i = 0; i < 3000; i++) {
      let pkt: Uint8Array;
      const kind = i % 3;
      if (kind === 0) {
        pkt = new Uint8Array(Math.floor(rand() * 80));
        for (let j = 0; j < pkt.length; j++) pkt[j] = Math.floor(rand() * 256);
      } else if (kind === 1) {
        const s = seeds[i % seeds.length];
        pkt = s.slice(0, Math.floor(rand() * (s.length + 1)));
      } else {
        pkt = seeds[i % seeds.length].slice();
        const bit = Math.floor(rand() * pkt.length * 8);
        pkt[bit >> 3] ^= 1 << (bit & 7);
      }
      for (const e of exps) {
        const r = decodeIpv4Advert(pkt, e);
        if (r.ok) accepted++;
        else {
          dropped++;
          expect(typeof r.detail).toBe("string");
        }
        const r6 = decodeAdvert(pkt, rx6, { ...e, family: 6, version: 3 });
        expect(typeof r6.ok).toBe("boolean");
      }
    }
    expect(dropped).toBeGreaterThan(5000);
    // A flip in a field the checksum covers must never pass: only header bits outside it (TOS, id) can.
    expect(accepted).toBeLessThan(600);
  });

  it("every single-bit flip inside the VRRP message is caught", () => {
    const pkt = ipPart(capture("vrrpv2-advert-vrid51-prio150-pass"));
    for (let bit = 20 * 8; bit < pkt.length * 8; bit++) {
      const flipped = pkt.slice();
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(decodeIpv4Advert(flipped, expectations()).ok).toBe(false);
    }
  });
});
