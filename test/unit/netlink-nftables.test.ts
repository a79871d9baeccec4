// The nf_tables codec and keepalived's VIP firewall plan, byte for byte against what keepalived 2.2.7
// sent (test/fixtures/nftables/*.hex: strace captures of its NETLINK_NETFILTER socket in a namespace).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { NLM_F_ACK, NLM_F_REQUEST, decodeNlMsgs, encodeNlMsg } from "../../src/netlink/message.ts";
import {
  NFPROTO_IPV4, NFPROTO_IPV6, NFT_GOTO, NF_DROP, encodeBatch, getTable, lookupExpr, newChain, newRule, newSet,
  newSetElems, payloadExpr, verdictExpr,
} from "../../src/netlink/nftables.ts";
import type { NetlinkRequest } from "../../src/netlink/socket.ts";
import { parseIPv4, parseIPv6 } from "../../src/net/inet.ts";
import { DEFAULT_NFT_SETTINGS, NftVipPlan, vipKey, type BlockedVip } from "../../src/vrrp/firewall-plan.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The fixture's datagrams, every message's sequence number zeroed (keepalived's start from the clock). */
function fixture(name: string): string[] {
  const lines = readFileSync(new URL(`../fixtures/nftables/${name}`, import.meta.url), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  return lines.map((l) => zeroSeqs(Uint8Array.from(Buffer.from(l.trim(), "hex"))));
}

function zeroSeqs(datagram: Uint8Array): string {
  const b = datagram.slice();
  for (let off = 0; off + 16 <= b.byteLength;) {
    const len = b[off] | (b[off + 1] << 8);
    b.fill(0, off + 8, off + 12);
    off += (len + 3) & ~3;
  }
  return hex(b);
}

/**
 * keepalived builds its lone GETTABLE in an uninitialised stack buffer (check_table's `char buf[64]`), so
 * the padding byte after the table name is whatever was there (0x19, 0x3a in the captures): compare
 * those messages with the padding zeroed. Everything in the batches matches as captured.
 */
const stackPadding = (msgs: string[]) => msgs.map((m, i) => (i < 2 ? m.slice(0, -2) + "00" : m));

const single = (r: NetlinkRequest) => zeroSeqs(encodeNlMsg({ type: r.type, flags: NLM_F_REQUEST | NLM_F_ACK | (r.flags ?? 0), payload: r.payload }));
const batch = (reqs: NetlinkRequest[]) => zeroSeqs(encodeBatch(reqs, 1).bytes);

const v4 = (a: string): BlockedVip => ({ address: parseIPv4(a)!, ifindex: 2, ifname: "nftCa", byName: false });
const v6 = (a: string, byName = false): BlockedVip => ({ address: parseIPv6(a)!, ifindex: 2, ifname: "nftCa", byName });

describe("nf_tables batches as keepalived sends them", () => {
  it("vrrp_strict: IPv4 and IPv6 VIPs (link-local by interface index), release on stop, tables deleted", () => {
    const want = fixture("keepalived-strict.hex");
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    expect(plan.firstSetup).toBe(true);
    const got = [
      single(getTable(NFPROTO_IPV4, "keepalived")),
      single(getTable(NFPROTO_IPV6, "keepalived")),
      batch(plan.block("V4", [v4("10.77.0.100"), v4("10.77.0.101")])),
      batch(plan.block("V6", [v6("fd77::100"), v6("fe80::77")])),
      batch(plan.unblock("V4")),
      batch(plan.unblock("V6")),
      batch(plan.cleanup()),
    ];
    expect(got).toEqual(stackPadding(want));
    expect(plan.active).toBe(false);
  });

  it("nftables TABLE, nftables_priority, nftables_counters, dont_track_primary (link-local keyed by name)", () => {
    const want = fixture("keepalived-named-counters.hex");
    const plan = new NftVipPlan({ table: "lbtest", priority: -5, counters: true, ifindex: false });
    const got = [
      single(getTable(NFPROTO_IPV4, "lbtest")),
      single(getTable(NFPROTO_IPV6, "lbtest")),
      batch(plan.block("V4", [v4("10.77.0.100")])),
      batch(plan.block("V6", [v6("fd77::100", true), v6("fe80::77", true)])),
      batch(plan.unblock("V4")),
      batch(plan.unblock("V6")),
      batch(plan.cleanup()),
    ];
    expect(got).toEqual(stackPadding(want));
  });

  it("deletes a table left by a killed earlier run in its first set-up batch", () => {
    const want = fixture("keepalived-stale.hex");
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    const got = [
      single(getTable(NFPROTO_IPV4, "keepalived")),
      single(getTable(NFPROTO_IPV6, "keepalived")),
      batch(plan.block("V4", [v4("10.77.0.100")], { ipv4: true, ipv6: false })),
      batch(plan.unblock("V4")),
      batch(plan.cleanup()),
    ];
    expect(got).toEqual(stackPadding(want));
  });
});

describe("nf_tables codec", () => {
  it("frames a batch: BEGIN and END unacknowledged, every request with ACK and the next sequence number", () => {
    const { bytes, seqs } = encodeBatch([getTable(NFPROTO_IPV4, "t"), getTable(NFPROTO_IPV6, "t")], 100);
    const msgs = decodeNlMsgs(bytes);
    expect(msgs.map((m) => [m.header.type, m.header.flags, m.header.seq])).toEqual([
      [0x10, NLM_F_REQUEST, 100], [0xa01, NLM_F_REQUEST | NLM_F_ACK, 101], [0xa01, NLM_F_REQUEST | NLM_F_ACK, 102], [0x11, NLM_F_REQUEST, 103],
    ]);
    expect(seqs).toEqual([101, 102]);
    expect(hex(msgs[0].payload)).toBe("0000000a"); // AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES (big-endian)
  });

  it("writes negative priorities and verdicts as their 32-bit patterns", () => {
    const chain = newChain({ family: NFPROTO_IPV4, table: "t", name: "in", base: { hook: 1, priority: -300, policy: 1, type: "filter" } });
    expect(hex(chain.payload!)).toContain("08000200fffffed4"); // NFTA_HOOK_PRIORITY -300
    const rule = newRule({ family: NFPROTO_IPV6, table: "t", chain: "c", exprs: [verdictExpr(NFT_GOTO, "x")] });
    expect(hex(rule.payload!)).toContain("08000100fffffffc"); // NFTA_VERDICT_CODE NFT_GOTO
  });

  it("lists set elements numbered from 1 and adds NFTA_SET_ELEM_LIST_SET_ID only when given", () => {
    const a = newSetElems({ family: NFPROTO_IPV4, table: "t", set: "s", keys: [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5, 6, 7, 8)] });
    expect(hex(a.payload!)).toContain("100001800c0001800800010001020304" + "100002800c0001800800010005060708");
    expect(hex(a.payload!)).not.toContain("08000400");
    const b = newSetElems({ family: NFPROTO_IPV4, table: "t", set: "s", setId: 7, keys: [Uint8Array.of(1)] }, false);
    expect(hex(b.payload!)).toContain("0800040000000007");
    expect(b.flags).toBe(0x400); // CREATE without EXCL
  });

  it("a lookup with a set id, a set without flags", () => {
    expect(hex(encodeAttrsOf(lookupExpr("s", 1, 9)))).toContain("0800040000000009");
    const s = newSet({ family: NFPROTO_IPV4, table: "t", name: "s", keyType: 7, keyLen: 4, id: 1, keyByteOrder: 2 });
    expect(hex(s.payload!)).not.toContain("08000300");
    expect(hex(s.payload!).endsWith("0a000d00000402000000" + "0000")).toBe(true); // userdata: KEYBYTEORDER big-endian
  });

  it("rules in keepalived's expression order: payload, lookup, [counter], verdict", () => {
    const r = newRule({ family: NFPROTO_IPV4, table: "t", chain: "in", exprs: [payloadExpr(1, 16, 4), lookupExpr("vips"), verdictExpr(NF_DROP)] });
    const text = Buffer.from(r.payload!).toString("latin1");
    expect(text.indexOf("payload")).toBeLessThan(text.indexOf("lookup"));
    expect(text.indexOf("lookup")).toBeLessThan(text.indexOf("immediate"));
  });
});

function encodeAttrsOf(e: ReturnType<typeof lookupExpr>): Uint8Array {
  return newRule({ family: NFPROTO_IPV4, table: "t", chain: "c", exprs: [e] }).payload!;
}

describe("VIP firewall plan", () => {
  it("creates nothing until a VIP is blocked, and each family's table once", () => {
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    expect(plan.cleanup()).toEqual([]);
    expect(plan.unblock("nobody")).toEqual([]);
    const first = plan.block("A", [v4("10.0.0.1")]);
    expect(first.length).toBe(7); // table, out, in, set, 2 rules, elements
    const again = plan.block("B", [v4("10.0.0.2")]);
    expect(again.length).toBe(1); // only the element
    expect(plan.block("B", [v4("10.0.0.2")])).toEqual([]); // already blocked by B
  });

  it("keeps a VIP blocked while another owner still blocks it (keepalived would fail on EEXIST)", () => {
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    plan.block("A", [v4("10.0.0.1")]);
    expect(plan.block("B", [v4("10.0.0.1")])).toEqual([]);
    expect(plan.unblock("A")).toEqual([]);
    const del = plan.unblock("B");
    expect(del.length).toBe(1);
    expect(del[0].type).toBe(0xa0e); // DELSETELEM
  });

  it("keys link-local IPv6 VIPs by index, or by name for dont_track_primary unless nftables_ifindex", () => {
    const ll = v6("fe80::1", true);
    expect(vipKey(ll, DEFAULT_NFT_SETTINGS).set).toBe("vips_link_local_name");
    expect(hex(vipKey(ll, DEFAULT_NFT_SETTINGS).key)).toBe("fe800000000000000000000000000001" + hex(Buffer.from("nftCa\0\0\0\0\0\0\0\0\0\0\0")));
    expect(vipKey(ll, { ...DEFAULT_NFT_SETTINGS, ifindex: true }).set).toBe("vips_link_local");
    expect(hex(vipKey(v6("fe80::1"), DEFAULT_NFT_SETTINGS).key)).toBe("fe800000000000000000000000000001" + "02000000");
    expect(vipKey(v6("fd00::1", true), DEFAULT_NFT_SETTINGS).set).toBe("vips6");
  });

  it("blocking again with a changed list adds the new VIPs and drops the gone ones in one batch", () => {
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    plan.block("A", [v4("10.0.0.1"), v4("10.0.0.2")]);
    plan.block("B", [v4("10.0.0.2")]);
    const change = plan.block("A", [v4("10.0.0.1"), v4("10.0.0.3")]);
    expect(change.map((r) => r.type)).toEqual([0xa0c]); // 10.0.0.2 stays: B still blocks it
    expect(hex(change[0].payload!)).toContain("0a000003");
    const shrink = plan.block("B", []);
    expect(shrink.map((r) => r.type)).toEqual([0xa0e]);
    expect(hex(shrink[0].payload!)).toContain("0a000002");
    expect(plan.blocked()).toEqual(new Map([["A", 2]]));
  });

  it("starts afresh after cleanup (the next block builds the table again)", () => {
    const plan = new NftVipPlan(DEFAULT_NFT_SETTINGS);
    plan.block("A", [v4("10.0.0.1")]);
    expect(plan.cleanup().length).toBe(1);
    expect(plan.firstSetup).toBe(true);
    expect(plan.block("A", [v4("10.0.0.1")]).length).toBe(7);
  });
});
