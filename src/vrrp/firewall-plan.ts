// What keepalived 2.2.7 puts in nftables for instances that do not accept traffic to their VIPs
// (no_accept, implied by vrrp_strict / strict_mode unless the priority is 255), as pure request lists:
// the shell (firewall.ts) sends each list as one nf_tables batch. Same tables, chains, sets, rules,
// set ids and message order as keepalived/vrrp/vrrp_nftables.c, so `nft list ruleset` reads the same
// and the bytes match keepalived's (test/fixtures/nftables/):
//
//   table ip  NAME: set vips (ipv4_addr); chain out (hook output, priority P): ip saddr @vips drop;
//                   chain in (hook input, priority P): ip daddr @vips drop
//   table ip6 NAME: sets vips (ipv6_addr) and neighbor-discovery (constant: NS, NA); chains in/out with
//                   "icmpv6 type @neighbor-discovery accept", "ip6 daddr fe80::/10 goto in_link_local",
//                   "ip6 daddr @vips drop"; link-local VIPs go in vips_link_local (address . iif index) or,
//                   for dont_track_primary without nftables_ifindex, vips_link_local_name (address . iifname).
//
// Like keepalived, nothing exists until the first VIP is blocked; the first setup deletes a table of the
// same name left by a killed earlier run; a family's table is built once and stays until cleanup().
// Unlike keepalived, a VIP blocked by two instances is counted, so one instance releasing it does not
// unblock it for the other (keepalived adds it twice with NLM_F_EXCL, which fails the whole batch).
import { parseIPv4, parseIPv6 } from "../net/inet.ts";
import { bytesToHex } from "./inet.ts";
import type { NetlinkRequest } from "../netlink/socket.ts";
import {
  BYTEORDER_BIG_ENDIAN, BYTEORDER_HOST_ENDIAN, NFPROTO_IPV4, NFPROTO_IPV6, NFT_CMP_EQ, NFT_GOTO, NFT_META_IIF,
  NFT_META_IIFNAME, NFT_META_OIF, NFT_META_OIFNAME, NFT_PAYLOAD_NETWORK_HEADER, NFT_PAYLOAD_TRANSPORT_HEADER, NFT_REG_2,
  NFT_SET_CONSTANT, NFT_TYPE_BITS, NFT_TYPE_ICMPV6_TYPE, NFT_TYPE_IFINDEX, NFT_TYPE_IFNAME, NFT_TYPE_IP6ADDR,
  NFT_TYPE_IPADDR, NF_ACCEPT, NF_DROP, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, bitwiseExpr, cmpExpr, counterExpr,
  delSetElems, delTable, lookupExpr, metaExpr, newChain, newRule, newSet, newSetElems, newTable, payloadExpr,
  verdictExpr, type Expr, type NfFamily,
} from "../netlink/nftables.ts";

/** The global nftables settings keepalived reads (global_defs). */
export interface NftSettings {
  /** `nftables [TABLE]`: default "keepalived". */
  table: string;
  /** `nftables_priority`: base chain priority, default -1 (just before the filter hooks). */
  priority: number;
  /** `nftables_counters`: a counter in every rule. */
  counters: boolean;
  /** `nftables_ifindex`: link-local VIPs always keyed by interface index, never by name. */
  ifindex: boolean;
}

export const DEFAULT_NFT_SETTINGS: NftSettings = { table: "keepalived", priority: -1, counters: false, ifindex: false };

/** A VIP to block, with the interface it lives on (for IPv6 link-local addresses). */
export interface BlockedVip {
  /** Address bytes: 4 (IPv4) or 16 (IPv6). */
  address: Uint8Array;
  ifindex: number;
  ifname: string;
  /** Key a link-local address by interface name (keepalived: dont_track_primary, without nftables_ifindex). */
  byName: boolean;
}

const IFNAMSIZ = 16;
// IPv4 header: saddr at 12, daddr at 16; IPv6: next header at 6, saddr at 8, daddr at 24; ICMPv6 type at 0.
const IP_SADDR = 12, IP_DADDR = 16, IP6_NXT = 6, IP6_SADDR = 8, IP6_DADDR = 24;
const IPPROTO_ICMPV6 = 58, ND_NEIGHBOR_SOLICIT = 135, ND_NEIGHBOR_ADVERT = 136;

type SetName = "vips4" | "vips6" | "vips_link_local" | "vips_link_local_name";
// keepalived's order of the element messages in a batch
const SET_ORDER: readonly SetName[] = ["vips4", "vips6", "vips_link_local", "vips_link_local_name"];
const setFamily = (s: SetName): NfFamily => (s === "vips4" ? NFPROTO_IPV4 : NFPROTO_IPV6);
const setTableName = (s: SetName): string => (s === "vips4" || s === "vips6" ? "vips" : s);

const isLinkLocal6 = (a: Uint8Array): boolean => a.byteLength === 16 && a[0] === 0xfe && (a[1] & 0xc0) === 0x80;

/** Which set a VIP goes in, and its key there. */
export function vipKey(v: BlockedVip, settings: NftSettings): { set: SetName; key: Uint8Array } {
  if (v.address.byteLength === 4) return { set: "vips4", key: v.address };
  if (!isLinkLocal6(v.address)) return { set: "vips6", key: v.address };
  if (v.byName && !settings.ifindex) {
    const key = new Uint8Array(16 + IFNAMSIZ);
    key.set(v.address);
    key.set(new TextEncoder().encode(v.ifname).subarray(0, IFNAMSIZ - 1), 16);
    return { set: "vips_link_local_name", key };
  }
  const key = new Uint8Array(20);
  key.set(v.address);
  new DataView(key.buffer).setUint32(16, v.ifindex >>> 0, true); // iif is host order in the register
  return { set: "vips_link_local", key };
}

interface Held { set: SetName; key: Uint8Array; id: string }

export class NftVipPlan {
  private ipv4Table = false;
  private ipv4Vips = false;
  private ipv6Table = false;
  private ipv6Vips = false;
  private llIndex = false;
  private llName = false;
  /** keepalived numbers sets from 1 over the process's life (NFTA_SET_ID). */
  private setId = 0;
  /** element id -> how many owners block it */
  private readonly refs = new Map<string, number>();
  private readonly owners = new Map<string, Held[]>();

  constructor(readonly settings: NftSettings) {}

  /**
   * The plan's view of the kernel, to put back with restore() when the kernel rejected a batch: a batch
   * is all or nothing, so after a failure the kernel is as it was before the call.
   */
  snapshot(): unknown {
    return {
      flags: [this.ipv4Table, this.ipv4Vips, this.ipv6Table, this.ipv6Vips, this.llIndex, this.llName, this.setId],
      refs: new Map(this.refs),
      owners: new Map(this.owners),
    };
  }

  restore(snap: unknown): void {
    const s = snap as { flags: [boolean, boolean, boolean, boolean, boolean, boolean, number]; refs: Map<string, number>; owners: Map<string, Held[]> };
    [this.ipv4Table, this.ipv4Vips, this.ipv6Table, this.ipv6Vips, this.llIndex, this.llName, this.setId] = s.flags;
    this.refs.clear();
    for (const [k, v] of s.refs) this.refs.set(k, v);
    this.owners.clear();
    for (const [k, v] of s.owners) this.owners.set(k, v);
  }

  /** True until a table exists: the shell then asks the kernel for stale tables to pass to block(). */
  get firstSetup(): boolean {
    return !this.ipv4Table && !this.ipv6Table;
  }

  /** Whether anything was created (cleanup() has work to do). */
  get active(): boolean {
    return this.ipv4Table || this.ipv6Table;
  }

  /** Owners and how many addresses each blocks (for status and tests). */
  blocked(): Map<string, number> {
    return new Map([...this.owners].map(([o, h]) => [o, h.length]));
  }

  /**
   * Requests (one batch; empty when nothing changes) after which `owner` blocks exactly `vips`: the
   * first call blocks them all, a later one (VIPs changed in place) adds the new and drops the gone.
   * `stale` names the families whose table of our name exists before our first set-up (deleted
   * first, as keepalived does).
   */
  block(owner: string, vips: readonly BlockedVip[], stale: { ipv4: boolean; ipv6: boolean } = { ipv4: false, ipv6: false }): NetlinkRequest[] {
    const held = this.owners.get(owner) ?? [];
    const wanted: Held[] = [];
    for (const v of vips) {
      const { set, key } = vipKey(v, this.settings);
      const id = `${set}|${bytesToHex(key)}`;
      if (!wanted.some((h) => h.id === id)) wanted.push({ set, key, id });
    }
    const fresh = wanted.filter((w) => !held.some((h) => h.id === w.id));
    const gone = held.filter((h) => !wanted.some((w) => w.id === h.id));
    if (fresh.length === 0 && gone.length === 0) return [];
    const out: NetlinkRequest[] = [];
    const adds = new Map<SetName, Uint8Array[]>();
    for (const h of fresh) {
      // Set-up happens in the order keepalived meets the addresses, so the batch matches its bytes.
      if (h.set === "vips4") this.setupIpv4Vips(out, stale);
      else {
        this.setupIpv6Vips(out, stale);
        if (h.set === "vips_link_local" && !this.llIndex) { this.setupLinkLocal(out, false); this.llIndex = true; }
        if (h.set === "vips_link_local_name" && !this.llName) { this.setupLinkLocal(out, true); this.llName = true; }
      }
      const n = this.refs.get(h.id) ?? 0;
      this.refs.set(h.id, n + 1);
      if (n === 0) adds.set(h.set, [...(adds.get(h.set) ?? []), h.key]);
    }
    for (const s of SET_ORDER) {
      const keys = adds.get(s);
      if (keys) out.push(newSetElems({ family: setFamily(s), table: this.settings.table, set: setTableName(s), keys }));
    }
    out.push(...this.release(gone));
    if (wanted.length > 0) this.owners.set(owner, wanted);
    else this.owners.delete(owner);
    return out;
  }

  /** Requests that unblock everything `owner` blocked (addresses still blocked by another owner stay). */
  unblock(owner: string): NetlinkRequest[] {
    const held = this.owners.get(owner);
    if (!held) return [];
    this.owners.delete(owner);
    return this.release(held);
  }

  /** DELSETELEM for the addresses no owner blocks any more. */
  private release(held: readonly Held[]): NetlinkRequest[] {
    const dels = new Map<SetName, Uint8Array[]>();
    for (const h of held) {
      const n = (this.refs.get(h.id) ?? 1) - 1;
      if (n > 0) { this.refs.set(h.id, n); continue; }
      this.refs.delete(h.id);
      dels.set(h.set, [...(dels.get(h.set) ?? []), h.key]);
    }
    const out: NetlinkRequest[] = [];
    for (const s of SET_ORDER) {
      const keys = dels.get(s);
      if (keys) out.push(delSetElems({ family: setFamily(s), table: this.settings.table, set: setTableName(s), keys }));
    }
    return out;
  }

  /** Requests that delete our tables (on stop); the plan starts afresh afterwards. */
  cleanup(): NetlinkRequest[] {
    const out: NetlinkRequest[] = [];
    if (this.ipv4Table) out.push(delTable(NFPROTO_IPV4, this.settings.table));
    if (this.ipv6Table) out.push(delTable(NFPROTO_IPV6, this.settings.table));
    this.ipv4Table = this.ipv4Vips = this.ipv6Table = this.ipv6Vips = this.llIndex = this.llName = false;
    this.refs.clear();
    this.owners.clear();
    return out;
  }

  /** The stale-table deletions keepalived puts at the head of its first setup batch. */
  private staleDeletes(out: NetlinkRequest[], stale: { ipv4: boolean; ipv6: boolean }): void {
    if (!this.firstSetup) return;
    if (stale.ipv4) out.push(delTable(NFPROTO_IPV4, this.settings.table));
    if (stale.ipv6) out.push(delTable(NFPROTO_IPV6, this.settings.table));
  }

  private baseChain(family: NfFamily, name: "in" | "out"): NetlinkRequest {
    return newChain({
      family, table: this.settings.table, name,
      base: { hook: name === "in" ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT, priority: this.settings.priority, policy: NF_ACCEPT, type: "filter" },
    });
  }

  private rule(family: NfFamily, chain: string, exprs: Expr[], verdict: number, gotoChain?: string): NetlinkRequest {
    // keepalived: the counter (nftables_counters) goes just before the verdict
    const all = [...exprs, ...(this.settings.counters ? [counterExpr()] : []), verdictExpr(verdict, gotoChain)];
    return newRule({ family, table: this.settings.table, chain, exprs: all });
  }

  private setupIpv4Vips(out: NetlinkRequest[], stale: { ipv4: boolean; ipv6: boolean }): void {
    if (this.ipv4Vips) return;
    const t = this.settings.table;
    if (!this.ipv4Table) {
      this.staleDeletes(out, stale);
      out.push(newTable(NFPROTO_IPV4, t), this.baseChain(NFPROTO_IPV4, "out"));
      this.ipv4Table = true;
    }
    out.push(this.baseChain(NFPROTO_IPV4, "in"));
    out.push(newSet({ family: NFPROTO_IPV4, table: t, name: "vips", keyType: NFT_TYPE_IPADDR, keyLen: 4, id: ++this.setId, keyByteOrder: BYTEORDER_BIG_ENDIAN }));
    out.push(this.rule(NFPROTO_IPV4, "in", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP_DADDR, 4), lookupExpr("vips")], NF_DROP));
    out.push(this.rule(NFPROTO_IPV4, "out", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP_SADDR, 4), lookupExpr("vips")], NF_DROP));
    this.ipv4Vips = true;
  }

  private setupIpv6Vips(out: NetlinkRequest[], stale: { ipv4: boolean; ipv6: boolean }): void {
    if (this.ipv6Vips) return;
    const t = this.settings.table;
    const F = NFPROTO_IPV6;
    if (!this.ipv6Table) {
      this.staleDeletes(out, stale);
      out.push(newTable(F, t), this.baseChain(F, "out"));
      this.ipv6Table = true;
    }
    out.push(this.baseChain(F, "in"));
    out.push(newChain({ family: F, table: t, name: "in_link_local" }), newChain({ family: F, table: t, name: "out_link_local" }));
    out.push(newSet({ family: F, table: t, name: "vips", keyType: NFT_TYPE_IP6ADDR, keyLen: 16, id: ++this.setId, keyByteOrder: BYTEORDER_BIG_ENDIAN }));
    const ndId = ++this.setId;
    out.push(newSet({ family: F, table: t, name: "neighbor-discovery", keyType: NFT_TYPE_ICMPV6_TYPE, keyLen: 1, id: ndId, flags: NFT_SET_CONSTANT, keyByteOrder: BYTEORDER_HOST_ENDIAN }));
    out.push(newSetElems({ family: F, table: t, set: "neighbor-discovery", setId: ndId, keys: [Uint8Array.of(ND_NEIGHBOR_SOLICIT), Uint8Array.of(ND_NEIGHBOR_ADVERT)] }, false));
    // icmpv6 type @neighbor-discovery accept: DAD and neighbour resolution of a VIP must still work
    const nd = (): Expr[] => [
      payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP6_NXT, 1), cmpExpr(NFT_CMP_EQ, Uint8Array.of(IPPROTO_ICMPV6)),
      payloadExpr(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1), lookupExpr("neighbor-discovery"),
    ];
    // ip6 {d,s}addr fe80::/10 goto {in,out}_link_local
    const linkLocal = (offset: number): Expr[] => {
      const mask = new Uint8Array(16); mask[0] = 0xff; mask[1] = 0xc0;
      const fe80 = new Uint8Array(16); fe80[0] = 0xfe; fe80[1] = 0x80;
      return [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, offset, 16), bitwiseExpr(mask, new Uint8Array(16)), cmpExpr(NFT_CMP_EQ, fe80)];
    };
    out.push(this.rule(F, "in", nd(), NF_ACCEPT));
    out.push(this.rule(F, "in", linkLocal(IP6_DADDR), NFT_GOTO, "in_link_local"));
    out.push(this.rule(F, "out", nd(), NF_ACCEPT));
    out.push(this.rule(F, "out", linkLocal(IP6_SADDR), NFT_GOTO, "out_link_local"));
    out.push(this.rule(F, "in", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP6_DADDR, 16), lookupExpr("vips")], NF_DROP));
    out.push(this.rule(F, "out", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP6_SADDR, 16), lookupExpr("vips")], NF_DROP));
    this.ipv6Vips = true;
  }

  /** The link-local set (by index or by name) and its two rules: address . interface @set drop. */
  private setupLinkLocal(out: NetlinkRequest[], byName: boolean): void {
    const t = this.settings.table;
    const F = NFPROTO_IPV6;
    const name = byName ? "vips_link_local_name" : "vips_link_local";
    const ifType = byName ? NFT_TYPE_IFNAME : NFT_TYPE_IFINDEX;
    out.push(newSet({
      family: F, table: t, name, keyType: (NFT_TYPE_IP6ADDR << NFT_TYPE_BITS) | ifType, keyLen: 16 + (byName ? IFNAMSIZ : 4),
      id: ++this.setId, keyByteOrder: BYTEORDER_HOST_ENDIAN,
    }));
    out.push(this.rule(F, "in_link_local", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP6_DADDR, 16), metaExpr(byName ? NFT_META_IIFNAME : NFT_META_IIF, NFT_REG_2), lookupExpr(name)], NF_DROP));
    out.push(this.rule(F, "out_link_local", [payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, IP6_SADDR, 16), metaExpr(byName ? NFT_META_OIFNAME : NFT_META_OIF, NFT_REG_2), lookupExpr(name)], NF_DROP));
  }
}

/**
 * The VIPs an instance blocks while it holds them (its virtual_ipaddress and virtual_ipaddress_excluded,
 * as keepalived), or none when it accepts traffic to them: `accept`, or priority 255 (the address
 * owner always accepts, as in keepalived's vrrp_handle_accept_mode).
 */
export function firewallVips(
  inst: { accept: boolean; priority: number; dontTrackPrimary?: boolean },
  addresses: readonly { address: string; dev?: string }[],
  dev: string,
  ifindex: (name: string) => number,
): BlockedVip[] {
  if (inst.accept || inst.priority === 255) return [];
  const out: BlockedVip[] = [];
  for (const a of addresses) {
    const text = a.address.split("/")[0];
    const address = text.includes(":") ? parseIPv6(text) : parseIPv4(text);
    if (!address) continue;
    const ifname = a.dev ?? dev;
    let index = 0;
    try { index = ifindex(ifname); } catch { /* gone: the address cannot be added either */ }
    out.push({ address, ifindex: index, ifname, byName: !!inst.dontTrackPrimary && ifname === dev });
  }
  return out;
}
