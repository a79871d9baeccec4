// Fuzzing that stays in the suite: every decoder that reads bytes from outside (the wire, the kernel, a
// server being checked) is fed valid inputs mutated at random, from a fixed seed. The contract: a result
// or a refusal the caller expects (a `{ ok: false }`, an error verdict, NetlinkDecodeError), never another
// exception, and never a hang. A bounded number of cases per decoder here; `LBCTL_FUZZ_CASES=1000000`
// for a long run (`make fuzz`). A crasher found becomes a fixture: its bytes join the seeds of its decoder.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { buildQuery, judgeReply } from "../../src/check/dns-codec.ts";
import { readResponse } from "../../src/check/http-response.ts";
import { decodeDaemonMessage, decodeDestMessage, decodeInfoMessage, decodeServiceMessage, decodeTimeoutsMessage } from "../../src/ipvs/codec.ts";
import { NetlinkDecodeError, decodeNlMsgs, encodeNlMsg, type NetlinkMessage } from "../../src/netlink/message.ts";
import { addressRequest, decodeRtnlEvent, parseAddressMessage, parseLinkMessage, parseRouteMessage, parseRuleMessage, routeRequest, ruleRequest, RTM_NEWADDR } from "../../src/netlink/rtnetlink.ts";
import { buildIpv4Packet, decodeAdvert, decodeIpv4Advert, encodeAdvert, expectationsFor, parseIpv4Packet, peekVrid } from "../../src/vrrp/packet.ts";
import { vrrpParams } from "../helpers/vrrp-params.ts";

const CASES = Number(process.env.LBCTL_FUZZ_CASES ?? 2000);

/** A small deterministic PRNG (the same cases on every run). */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/** One to four mutations: bit flips, bytes set to edge values, cuts, random tails, repeated slices. */
export function mutate(input: Uint8Array, rnd: (n: number) => number): Uint8Array {
  let b = Uint8Array.from(input);
  for (let k = 0, n = 1 + rnd(4); k < n; k++) {
    const p = rnd(b.length + 1);
    switch (rnd(6)) {
      case 0: if (b.length) b[Math.min(p, b.length - 1)] ^= 1 << rnd(8); break;
      case 1: if (b.length) b[Math.min(p, b.length - 1)] = [0, 0xff, 0x7f, 0x80, 1][rnd(5)]!; break;
      case 2: b = b.slice(0, p); break;
      case 3: b = Uint8Array.from([...b, ...Array.from({ length: rnd(64) }, () => rnd(256))]); break;
      case 4: { const q = rnd(b.length + 1); b = Uint8Array.from([...b.slice(0, p), ...b.slice(q, q + rnd(32)), ...b.slice(p)]); break; }
      default: { const len = rnd(8); for (let i = 0; i < len && p + i < b.length; i++) b[p + i] = rnd(256); }
    }
  }
  return b;
}

/** Runs `decode` on CASES mutations of the seeds; returns the inputs that threw something not allowed. */
function fuzz(seeds: Uint8Array[], decode: (b: Uint8Array) => unknown, allowed: (e: unknown) => boolean = () => false, seed = 1): string[] {
  const rnd = prng(seed);
  const crashers: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const input = mutate(seeds[rnd(seeds.length)]!, rnd);
    try {
      decode(input);
    } catch (e) {
      if (!allowed(e)) crashers.push(`${(e as Error).name}: ${(e as Error).message} <- ${Buffer.from(input).toString("hex")}`);
      if (crashers.length >= 5) break;
    }
  }
  return crashers;
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const asMsg = (payload: Uint8Array, type = 0x1c): NetlinkMessage => ({ header: { len: 16 + payload.length, type, flags: 2, seq: 1, pid: 0 }, payload });
const isDecodeError = (e: unknown) => e instanceof NetlinkDecodeError;

describe(`decoders under ${CASES} mutated inputs each`, () => {
  it("VRRP over IPv4 (v2 with PASS, v3): decodeIpv4Advert returns a verdict, never throws", () => {
    const p2 = vrrpParams({ version: 2, authType: "pass", authPass: "secret", vips: ["10.77.1.100", "10.77.1.101"] });
    const p3 = vrrpParams({ version: 3, advertIntervalMs: 100 });
    const seeds = [p2, p3].map((p) => {
      const adv = encodeAdvert({ version: p.version, vrid: p.vrid, priority: 150, advertIntervalMs: p.advertIntervalMs, addresses: p.vips, authType: p.authType, authPass: p.authPass },
        { family: 4, source: "10.77.1.9", destination: "224.0.0.18" });
      if (!adv.ok) throw new Error(adv.error);
      const pkt = buildIpv4Packet({ source: "10.77.1.9", destination: "224.0.0.18", id: 1, payload: adv.bytes });
      if (!pkt.ok) throw new Error(pkt.error);
      return pkt.bytes;
    });
    const expects = [expectationsFor(p2), expectationsFor(p3)];
    expect(fuzz(seeds, (b) => {
      const ip = parseIpv4Packet(b);
      if (ip.ok) peekVrid(ip.payload);
      for (const e of expects) {
        const r = decodeIpv4Advert(b, e);
        if (typeof r.ok !== "boolean") throw new Error("no verdict");
      }
    })).toEqual([]);
  });

  it("VRRPv3 over IPv6: decodeAdvert returns a verdict, never throws", () => {
    const p = vrrpParams({ version: 3, family: 6, advertIntervalMs: 100, vips: ["fe80::100", "2001:db8::100"], primaryIp: "fe80::2" });
    const adv = encodeAdvert({ version: 3, vrid: p.vrid, priority: 150, advertIntervalMs: 100, addresses: p.vips }, { family: 6, source: "fe80::9", destination: "ff02::12" });
    if (!adv.ok) throw new Error(adv.error);
    const e = expectationsFor(p);
    expect(fuzz([adv.bytes], (b) => {
      const r = decodeAdvert(b, { family: 6, source: "fe80::9", destination: "ff02::12", ttl: 255 }, e);
      if (typeof r.ok !== "boolean") throw new Error("no verdict");
    }, undefined, 2)).toEqual([]);
  });

  it("rtnetlink: messages and events decode or are refused with NetlinkDecodeError", () => {
    const reqs = [
      addressRequest("add", { ifindex: 2, address: "10.0.0.1/24", label: "eth0:vip", broadcast: "+" }),
      addressRequest("add", { ifindex: 3, address: "2001:db8::1/64", nodad: true }),
      routeRequest("add", { dst: "10.9.0.0/16", via: "10.0.0.254", table: 100, ifindex: 2 }),
      ruleRequest("add", { family: 4, from: "10.0.0.0/24", table: 100, priority: 1000 }),
    ];
    const seeds = reqs.map((r) => encodeNlMsg({ type: r.type === 20 ? RTM_NEWADDR : r.type, flags: 0, seq: 1, pid: 0, payload: r.payload! }));
    expect(fuzz(seeds, (b) => {
      for (const m of decodeNlMsgs(b)) {
        decodeRtnlEvent(m);
        for (const parse of [parseLinkMessage, parseAddressMessage, parseRouteMessage, parseRuleMessage]) {
          try {
            parse(m);
          } catch (e) {
            if (!isDecodeError(e)) throw e;
          }
        }
      }
    }, isDecodeError, 3)).toEqual([]);
  });

  it("IPVS replies (captured from Linux 6.1): decode or NetlinkDecodeError", () => {
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/ipvs/kernel-6.1-replies.json"), "utf8")) as Record<string, string[]>;
    const seeds = Object.entries(fixture).filter(([k]) => k !== "kernel").flatMap(([, v]) => v.map(hex));
    const decoders = [decodeInfoMessage, decodeServiceMessage, (m: NetlinkMessage) => decodeDestMessage(m, "ipv4"), (m: NetlinkMessage) => decodeDestMessage(m, "ipv6"), decodeTimeoutsMessage, decodeDaemonMessage];
    expect(fuzz(seeds, (b) => {
      for (const d of decoders) {
        try {
          d(asMsg(b));
        } catch (e) {
          if (!isDecodeError(e)) throw e;
        }
      }
    }, isDecodeError, 4)).toEqual([]);
  });

  it("DNS_CHECK replies: a verdict, never an exception", () => {
    const query = buildQuery(0x1234, "www.example.com", "A");
    if (typeof query === "string") throw new Error(query);
    // A reply: the query with QR set, one A answer.
    const answer = Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1])]);
    const reply = Buffer.concat([query, answer]);
    reply[2] |= 0x80;
    reply.writeUInt16BE(1, 6);
    expect(judgeReply(query, reply).ok).toBe(true);
    expect(fuzz([Uint8Array.from(reply)], (b) => {
      const v = judgeReply(query, Buffer.from(b));
      if (typeof v.ok !== "boolean") throw new Error("no verdict");
    }, undefined, 5)).toEqual([]);
  });

  it("HTTP_GET responses: progress, a response or an error, never an exception", () => {
    const seeds = [
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\nbody until close",
    ].map((s) => Uint8Array.from(Buffer.from(s)));
    expect(fuzz(seeds, (b) => {
      for (const ended of [false, true]) {
        const r = readResponse(Buffer.from(b), ended);
        if (!["need-more", "done", "error"].includes(r.kind)) throw new Error("no progress");
      }
    }, undefined, 6)).toEqual([]);
  });
});
