// rtnetlink: pure request builders / message parsers for links, addresses, routes and rules, plus a
// thin shell (Rtnl) that sends them. Attribute order follows iproute2 so captured `ip` requests
// compare byte for byte in tests.
import { formatIp, formatMac, parseIp, parseMac, type IpFamily } from "../net/inet.ts";
import {
  NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NetlinkDecodeError, attrBytes, attrNested, attrString, attrU32,
  concatBytes, encodeAttrs, parseAttrMap, readString, readU32, readU8, type NetlinkMessage, type NlAttrSpec,
  NETLINK_ROUTE,
} from "./message.ts";
import { NetlinkSocket, type NetlinkRequest } from "./socket.ts";

export const RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
export const RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32, RTM_DELRULE = 33, RTM_GETRULE = 34;

export const RTMGRP_LINK = 0x1, RTMGRP_IPV4_IFADDR = 0x10, RTMGRP_IPV4_ROUTE = 0x40;
export const RTMGRP_IPV6_IFADDR = 0x100, RTMGRP_IPV6_ROUTE = 0x400;

export const AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10;

export const IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_POINTOPOINT = 0x10, IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80, IFF_PROMISC = 0x100, IFF_MULTICAST = 0x1000, IFF_LOWER_UP = 0x10000;

export const IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16, IFLA_LINKINFO = 18, IFLA_IFALIAS = 20;
export const IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODE;

export const IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4, IFA_CACHEINFO = 6, IFA_FLAGS = 8;
export const IFA_F_SECONDARY = 0x1, IFA_F_NODAD = 0x2, IFA_F_OPTIMISTIC = 0x4, IFA_F_DADFAILED = 0x8;
export const IFA_F_DEPRECATED = 0x20, IFA_F_TENTATIVE = 0x40, IFA_F_PERMANENT = 0x80, IFA_F_NOPREFIXROUTE = 0x200;

export const RTA_DST = 1, RTA_SRC = 2, RTA_IIF = 3, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RTPROT_KERNEL = 2, RTPROT_BOOT = 3, RTPROT_STATIC = 4, RTPROT_KEEPALIVED = 18;
export const RT_TABLE_UNSPEC = 0, RT_TABLE_MAIN = 254, RT_TABLE_LOCAL = 255;

export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;
export const ROUTE_TYPES = {
  unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9,
} as const;
export type RouteType = keyof typeof ROUTE_TYPES;

export const FRA_DST = 1, FRA_SRC = 2, FRA_IIFNAME = 3, FRA_PRIORITY = 6, FRA_FWMARK = 10, FRA_TABLE = 15;
export const FRA_FWMASK = 16, FRA_OIFNAME = 17;
export const FR_ACT_TO_TBL = 1, FR_ACT_GOTO = 2, FR_ACT_NOP = 3, FR_ACT_BLACKHOLE = 6, FR_ACT_UNREACHABLE = 7, FR_ACT_PROHIBIT = 8;
export const RULE_ACTIONS = { table: FR_ACT_TO_TBL, blackhole: FR_ACT_BLACKHOLE, unreachable: FR_ACT_UNREACHABLE, prohibit: FR_ACT_PROHIBIT } as const;
export type RuleAction = keyof typeof RULE_ACTIONS;

const familyCode = (f: IpFamily): number => (f === 4 ? AF_INET : AF_INET6);
const familyOf = (code: number): IpFamily | null => (code === AF_INET ? 4 : code === AF_INET6 ? 6 : null);

function nameOf<T extends Record<string, number>>(table: T, code: number): string {
  for (const [k, v] of Object.entries(table)) if (v === code) return k;
  return String(code);
}

function ipBytes(text: string, what: string, family?: IpFamily): { family: IpFamily; bytes: Uint8Array } {
  const p = parseIp(text);
  if (!p) throw new RangeError(`${what}: '${text}' is not an IP address`);
  if (family && p.family !== family) throw new RangeError(`${what}: '${text}' is not IPv${family}`);
  return p;
}

/** Parses "10.0.0.0/8", "fd00::/64", a bare address (host prefix) or "default". */
export function parsePrefix(text: string, what = "prefix", family?: IpFamily): { family: IpFamily; bytes: Uint8Array; len: number } {
  if (text === "default") {
    const f = family ?? 4;
    return { family: f, bytes: new Uint8Array(f === 4 ? 4 : 16), len: 0 };
  }
  const slash = text.indexOf("/");
  const addr = ipBytes(slash < 0 ? text : text.slice(0, slash), what, family);
  const max = addr.family === 4 ? 32 : 128;
  const len = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > max || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))) {
    throw new RangeError(`${what}: bad prefix length in '${text}'`);
  }
  return { ...addr, len };
}

function scopeCode(scope: ScopeName | number | undefined, dflt: number): number {
  if (scope === undefined) return dflt;
  if (typeof scope === "number") return scope;
  const c = SCOPES[scope];
  if (c === undefined) throw new RangeError(`unknown scope '${scope}'`);
  return c;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ================= links =================

export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  running: boolean;
  lowerUp: boolean;
  mtu: number;
  /** Hardware address ("aa:bb:..."), absent for links without one. */
  mac?: string;
  /** IFLA_INFO_KIND ("veth", "macvlan", "bridge"...); absent for physical/loopback. */
  kind?: string;
  /** Parent interface index (IFLA_LINK), e.g. a macvlan's lower device. */
  parentIndex?: number;
  masterIndex?: number;
  /** RFC 2863 operstate code (6 = up, 2 = down). */
  operstate?: number;
  /** Macvlan mode name when kind is macvlan. */
  macvlanMode?: string;
}

export function ifinfomsg(index = 0, flags = 0, change = 0, family = AF_UNSPEC): Uint8Array {
  const b = new Uint8Array(16);
  const v = view(b);
  b[0] = family;
  v.setInt32(4, index, true);
  v.setUint32(8, flags, true);
  v.setUint32(12, change, true);
  return b;
}

export function linkDumpRequest(): NetlinkRequest {
  return { type: RTM_GETLINK, payload: ifinfomsg() };
}

export function linkGetByNameRequest(name: string): NetlinkRequest {
  return { type: RTM_GETLINK, payload: concatBytes([ifinfomsg(), encodeAttrs([attrString(IFLA_IFNAME, name)])]) };
}

export function parseLinkMessage(msg: NetlinkMessage): LinkInfo {
  const p = msg.payload;
  if (p.byteLength < 16) throw new NetlinkDecodeError(`ifinfomsg truncated (${p.byteLength} bytes)`);
  const v = view(p);
  const index = v.getInt32(4, true);
  const flags = v.getUint32(8, true);
  const a = parseAttrMap(p.subarray(16));
  const name = a.get(IFLA_IFNAME);
  const link: LinkInfo = {
    index, flags, name: name ? readString(name) : `if${index}`,
    up: (flags & IFF_UP) !== 0, running: (flags & IFF_RUNNING) !== 0, lowerUp: (flags & IFF_LOWER_UP) !== 0,
    mtu: a.has(IFLA_MTU) ? readU32(a.get(IFLA_MTU)!) : 0,
  };
  const mac = a.get(IFLA_ADDRESS);
  if (mac && mac.byteLength > 0) link.mac = formatMac(mac);
  if (a.has(IFLA_LINK)) link.parentIndex = readU32(a.get(IFLA_LINK)!);
  if (a.has(IFLA_MASTER)) link.masterIndex = readU32(a.get(IFLA_MASTER)!);
  if (a.has(IFLA_OPERSTATE)) link.operstate = readU8(a.get(IFLA_OPERSTATE)!);
  const info = a.get(IFLA_LINKINFO);
  if (info) {
    const ia = parseAttrMap(info);
    if (ia.has(IFLA_INFO_KIND)) link.kind = readString(ia.get(IFLA_INFO_KIND)!);
    const data = ia.get(IFLA_INFO_DATA);
    if (link.kind === "macvlan" && data) {
      const mode = parseAttrMap(data).get(IFLA_MACVLAN_MODE);
      if (mode) link.macvlanMode = nameOf(MACVLAN_MODE, readU32(mode));
    }
  }
  return link;
}

export interface MacvlanSpec {
  name: string;
  parentIndex: number;
  /** Default "private", as keepalived's use_vmac. */
  mode?: MacvlanMode;
  mac?: string;
}

/** VRRP virtual MAC 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), RFC 5798 7.3. */
export function vrrpVirtualMac(vrid: number, family: IpFamily = 4): string {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new RangeError(`VRID ${vrid} out of range 1..255`);
  return formatMac(Uint8Array.of(0, 0, 0x5e, 0, family === 4 ? 1 : 2, vrid));
}

export function macvlanCreateRequest(spec: MacvlanSpec): NetlinkRequest {
  if (spec.name.length === 0 || spec.name.length > 15) throw new RangeError(`interface name '${spec.name}' must be 1..15 characters`);
  const attrs: NlAttrSpec[] = [];
  if (spec.mac) {
    const mac = parseMac(spec.mac);
    if (!mac) throw new RangeError(`bad MAC address '${spec.mac}'`);
    attrs.push(attrBytes(IFLA_ADDRESS, mac));
  }
  attrs.push(attrU32(IFLA_LINK, spec.parentIndex), attrString(IFLA_IFNAME, spec.name));
  const kind = new TextEncoder().encode("macvlan"); // IFLA_INFO_KIND without NUL, as iproute2 sends it
  attrs.push(attrNested(IFLA_LINKINFO, [
    attrBytes(IFLA_INFO_KIND, kind),
    attrNested(IFLA_INFO_DATA, [attrU32(IFLA_MACVLAN_MODE, MACVLAN_MODE[spec.mode ?? "private"])]),
  ]));
  return { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, payload: concatBytes([ifinfomsg(), encodeAttrs(attrs)]) };
}

export function linkDeleteRequest(index: number): NetlinkRequest {
  return { type: RTM_DELLINK, payload: ifinfomsg(index) };
}

export function linkSetUpRequest(index: number, up: boolean): NetlinkRequest {
  return { type: RTM_NEWLINK, payload: ifinfomsg(index, up ? IFF_UP : 0, IFF_UP) };
}

// ================= addresses =================

export interface AddressSpec {
  ifindex: number;
  /** "10.0.0.1/24", "fd00::1/64" or a bare address (host prefix). */
  address: string;
  scope?: ScopeName | number;
  /** IPv4 label ("eth0:vip"); must start with the interface name, as the kernel requires. */
  label?: string;
  /** IPv4 broadcast address, or "+" to compute it from the prefix (like `brd +`). */
  broadcast?: string;
  /** Point-to-point peer ("10.0.0.2" or with a prefix). */
  peer?: string;
  /** Skip duplicate address detection (IPv6), as keepalived does for VIPs. */
  nodad?: boolean;
  noprefixroute?: boolean;
}

export interface AddressInfo {
  family: IpFamily;
  ifindex: number;
  /** The local address (IFA_LOCAL, or IFA_ADDRESS when there is no separate local). */
  address: string;
  prefixlen: number;
  scope: number;
  flags: number;
  label?: string;
  broadcast?: string;
  /** Set when IFA_ADDRESS differs from IFA_LOCAL (point-to-point). */
  peer?: string;
}

function ifaddrmsg(family: IpFamily, prefixlen: number, flags: number, scope: number, index: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = familyCode(family);
  b[1] = prefixlen;
  b[2] = flags & 0xff;
  b[3] = scope;
  view(b).setUint32(4, index, true);
  return b;
}

function broadcastOf(addr: Uint8Array, len: number): Uint8Array {
  const out = addr.slice();
  for (let bit = len; bit < 32; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}

export function addressRequest(op: "add" | "delete" | "replace", spec: AddressSpec): NetlinkRequest {
  const local = parsePrefix(spec.address, "address");
  const flags = (spec.nodad ? IFA_F_NODAD : 0) | (spec.noprefixroute ? IFA_F_NOPREFIXROUTE : 0);
  let prefixlen = local.len;
  let peerBytes = local.bytes;
  if (spec.peer) {
    const peer = parsePrefix(spec.peer, "peer", local.family);
    peerBytes = peer.bytes;
    if (spec.peer.includes("/")) prefixlen = peer.len;
  }
  const attrs: NlAttrSpec[] = [attrBytes(IFA_LOCAL, local.bytes)];
  if (spec.label !== undefined) {
    if (local.family !== 4) throw new RangeError("address labels exist only for IPv4");
    if (spec.label.length > 15) throw new RangeError(`label '${spec.label}' longer than 15 characters`);
    attrs.push(attrString(IFA_LABEL, spec.label));
  }
  attrs.push(attrBytes(IFA_ADDRESS, peerBytes));
  if (spec.broadcast !== undefined) {
    if (local.family !== 4) throw new RangeError("broadcast addresses exist only for IPv4");
    attrs.push(attrBytes(IFA_BROADCAST, spec.broadcast === "+" ? broadcastOf(local.bytes, prefixlen) : ipBytes(spec.broadcast, "broadcast", 4).bytes));
  }
  if (flags > 0xff) attrs.push(attrU32(IFA_FLAGS, flags));
  const header = ifaddrmsg(local.family, prefixlen, flags, scopeCode(spec.scope, SCOPES.global), spec.ifindex);
  const type = op === "delete" ? RTM_DELADDR : RTM_NEWADDR;
  const reqFlags = op === "add" ? NLM_F_CREATE | NLM_F_EXCL : op === "replace" ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  return { type, flags: reqFlags, payload: concatBytes([header, encodeAttrs(attrs)]) };
}

export function addressDumpRequest(family?: IpFamily): NetlinkRequest {
  const b = new Uint8Array(8);
  if (family) b[0] = familyCode(family);
  return { type: RTM_GETADDR, payload: b };
}

/** Returns null for address families other than IPv4/IPv6. */
export function parseAddressMessage(msg: NetlinkMessage): AddressInfo | null {
  const p = msg.payload;
  if (p.byteLength < 8) throw new NetlinkDecodeError(`ifaddrmsg truncated (${p.byteLength} bytes)`);
  const family = familyOf(p[0]);
  if (!family) return null;
  const a = parseAttrMap(p.subarray(8));
  const local = a.get(IFA_LOCAL);
  const address = a.get(IFA_ADDRESS);
  const mine = local ?? address;
  if (!mine) throw new NetlinkDecodeError("address message without IFA_LOCAL or IFA_ADDRESS");
  const info: AddressInfo = {
    family, ifindex: view(p).getUint32(4, true), address: formatIp(mine), prefixlen: p[1], scope: p[3],
    flags: a.has(IFA_FLAGS) ? readU32(a.get(IFA_FLAGS)!) : p[2],
  };
  if (a.has(IFA_LABEL)) info.label = readString(a.get(IFA_LABEL)!);
  if (a.has(IFA_BROADCAST)) info.broadcast = formatIp(a.get(IFA_BROADCAST)!);
  if (local && address && formatIp(local) !== formatIp(address)) info.peer = formatIp(address);
  return info;
}

// ================= routes =================

export interface RouteSpec {
  /** "192.0.2.0/24", "fd00::/64", a bare address or "default" (IPv4 unless family says 6). */
  dst: string;
  family?: IpFamily;
  table?: number;
  ifindex?: number;
  via?: string;
  scope?: ScopeName | number;
  metric?: number;
  src?: string;
  type?: RouteType;
  /** Route protocol (who installed it); defaults to RTPROT_BOOT like `ip route`. */
  protocol?: number;
}

export interface RouteInfo {
  family: IpFamily;
  dst: string;
  table: number;
  type: string;
  scope: number;
  protocol: number;
  ifindex?: number;
  via?: string;
  metric?: number;
  src?: string;
}

function rtmsg(family: IpFamily, dstLen: number, table: number, protocol: number, scope: number, type: number): Uint8Array {
  const b = new Uint8Array(12);
  b[0] = familyCode(family);
  b[1] = dstLen;
  b[4] = table;
  b[5] = protocol;
  b[6] = scope;
  b[7] = type;
  return b;
}

export function routeRequest(op: "add" | "delete" | "replace", spec: RouteSpec): NetlinkRequest {
  const dst = parsePrefix(spec.dst, "route destination", spec.family);
  const table = spec.table ?? RT_TABLE_MAIN;
  const type = spec.type ?? "unicast";
  const typeCode = ROUTE_TYPES[type];
  if (typeCode === undefined) throw new RangeError(`unknown route type '${type}'`);
  // Like iproute2: deletes leave scope open (NOWHERE) so they match whatever was installed.
  const defaultScope = op === "delete" ? SCOPES.nowhere : type === "local" ? SCOPES.host : SCOPES.global;
  const attrs: NlAttrSpec[] = [];
  if (dst.len > 0 || spec.dst !== "default") attrs.push(attrBytes(RTA_DST, dst.bytes));
  if (spec.via) attrs.push(attrBytes(RTA_GATEWAY, ipBytes(spec.via, "route gateway", dst.family).bytes));
  if (spec.metric !== undefined) attrs.push(attrU32(RTA_PRIORITY, spec.metric));
  if (spec.src) attrs.push(attrBytes(RTA_PREFSRC, ipBytes(spec.src, "route source", dst.family).bytes));
  if (spec.ifindex !== undefined) attrs.push(attrU32(RTA_OIF, spec.ifindex));
  if (table >= 256) attrs.push(attrU32(RTA_TABLE, table));
  const header = rtmsg(dst.family, dst.len, table < 256 ? table : RT_TABLE_UNSPEC,
    op === "delete" ? spec.protocol ?? 0 : spec.protocol ?? RTPROT_BOOT, scopeCode(spec.scope, defaultScope),
    op === "delete" && spec.type === undefined ? 0 : typeCode);
  const type_ = op === "delete" ? RTM_DELROUTE : RTM_NEWROUTE;
  const flags = op === "add" ? NLM_F_CREATE | NLM_F_EXCL : op === "replace" ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  return { type: type_, flags, payload: concatBytes([header, encodeAttrs(attrs)]) };
}

export function routeDumpRequest(family?: IpFamily): NetlinkRequest {
  const b = new Uint8Array(12);
  if (family) b[0] = familyCode(family);
  return { type: RTM_GETROUTE, payload: b };
}

export function parseRouteMessage(msg: NetlinkMessage): RouteInfo | null {
  const p = msg.payload;
  if (p.byteLength < 12) throw new NetlinkDecodeError(`rtmsg truncated (${p.byteLength} bytes)`);
  const family = familyOf(p[0]);
  if (!family) return null;
  const a = parseAttrMap(p.subarray(12));
  const dst = a.get(RTA_DST);
  const info: RouteInfo = {
    family,
    dst: dst ? `${formatIp(dst)}/${p[1]}` : p[1] === 0 ? "default" : `?/${p[1]}`,
    table: a.has(RTA_TABLE) ? readU32(a.get(RTA_TABLE)!) : p[4],
    type: nameOf(ROUTE_TYPES, p[7]), scope: p[6], protocol: p[5],
  };
  if (a.has(RTA_OIF)) info.ifindex = readU32(a.get(RTA_OIF)!);
  if (a.has(RTA_GATEWAY)) info.via = formatIp(a.get(RTA_GATEWAY)!);
  if (a.has(RTA_PRIORITY)) info.metric = readU32(a.get(RTA_PRIORITY)!);
  if (a.has(RTA_PREFSRC)) info.src = formatIp(a.get(RTA_PREFSRC)!);
  return info;
}

// ================= rules =================

export interface RuleSpec {
  family?: IpFamily;
  from?: string;
  to?: string;
  table?: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  action?: RuleAction;
}

export interface RuleInfo {
  family: IpFamily;
  from?: string;
  to?: string;
  table: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  action: string;
}

export function ruleRequest(op: "add" | "delete", spec: RuleSpec): NetlinkRequest {
  const from = spec.from ? parsePrefix(spec.from, "rule source", spec.family) : undefined;
  const to = spec.to ? parsePrefix(spec.to, "rule destination", spec.family ?? from?.family) : undefined;
  const family = spec.family ?? from?.family ?? to?.family ?? 4;
  if (from && to && from.family !== to.family) throw new RangeError("rule source and destination differ in address family");
  const action = spec.action ?? (op === "add" || spec.table !== undefined ? "table" : undefined);
  const table = spec.table ?? (op === "add" && action === "table" ? RT_TABLE_MAIN : 0);
  const attrs: NlAttrSpec[] = [];
  if (from) attrs.push(attrBytes(FRA_SRC, from.bytes));
  if (to) attrs.push(attrBytes(FRA_DST, to.bytes));
  if (spec.priority !== undefined) attrs.push(attrU32(FRA_PRIORITY, spec.priority));
  if (spec.fwmark !== undefined) attrs.push(attrU32(FRA_FWMARK, spec.fwmark));
  if (spec.fwmask !== undefined) attrs.push(attrU32(FRA_FWMASK, spec.fwmask));
  if (spec.iif) attrs.push(attrString(FRA_IIFNAME, spec.iif));
  if (spec.oif) attrs.push(attrString(FRA_OIFNAME, spec.oif));
  if (table >= 256) attrs.push(attrU32(FRA_TABLE, table));
  const h = new Uint8Array(12);
  h[0] = familyCode(family);
  h[1] = to?.len ?? 0;
  h[2] = from?.len ?? 0;
  h[4] = table < 256 ? table : RT_TABLE_UNSPEC;
  h[7] = action ? RULE_ACTIONS[action] : 0;
  return {
    type: op === "add" ? RTM_NEWRULE : RTM_DELRULE,
    flags: op === "add" ? NLM_F_CREATE | NLM_F_EXCL : 0,
    payload: concatBytes([h, encodeAttrs(attrs)]),
  };
}

export function ruleDumpRequest(family?: IpFamily): NetlinkRequest {
  const b = new Uint8Array(12);
  if (family) b[0] = familyCode(family);
  return { type: RTM_GETRULE, payload: b };
}

export function parseRuleMessage(msg: NetlinkMessage): RuleInfo | null {
  const p = msg.payload;
  if (p.byteLength < 12) throw new NetlinkDecodeError(`fib_rule_hdr truncated (${p.byteLength} bytes)`);
  const family = familyOf(p[0]);
  if (!family) return null;
  const a = parseAttrMap(p.subarray(12));
  const info: RuleInfo = {
    family, table: a.has(FRA_TABLE) ? readU32(a.get(FRA_TABLE)!) : p[4], action: nameOf(RULE_ACTIONS, p[7]),
  };
  if (a.has(FRA_SRC)) info.from = `${formatIp(a.get(FRA_SRC)!)}/${p[2]}`;
  if (a.has(FRA_DST)) info.to = `${formatIp(a.get(FRA_DST)!)}/${p[1]}`;
  if (a.has(FRA_PRIORITY)) info.priority = readU32(a.get(FRA_PRIORITY)!);
  if (a.has(FRA_FWMARK)) info.fwmark = readU32(a.get(FRA_FWMARK)!);
  if (a.has(FRA_FWMASK)) info.fwmask = readU32(a.get(FRA_FWMASK)!);
  if (a.has(FRA_IIFNAME)) info.iif = readString(a.get(FRA_IIFNAME)!);
  if (a.has(FRA_OIFNAME)) info.oif = readString(a.get(FRA_OIFNAME)!);
  return info;
}

// ================= events =================

export type RtnlEvent =
  | { kind: "link"; op: "new" | "del"; link: LinkInfo }
  | { kind: "address"; op: "new" | "del"; address: AddressInfo };

/** Decodes a multicast notification; null for message types we do not report. */
export function decodeRtnlEvent(msg: NetlinkMessage): RtnlEvent | null {
  switch (msg.header.type) {
    case RTM_NEWLINK: case RTM_DELLINK:
      return { kind: "link", op: msg.header.type === RTM_NEWLINK ? "new" : "del", link: parseLinkMessage(msg) };
    case RTM_NEWADDR: case RTM_DELADDR: {
      const address = parseAddressMessage(msg);
      return address ? { kind: "address", op: msg.header.type === RTM_NEWADDR ? "new" : "del", address } : null;
    }
    default:
      return null;
  }
}

// ================= shell =================

/** An rtnetlink connection for requests (not events: see subscribeRtnlEvents). */
export class Rtnl {
  private constructor(readonly sock: NetlinkSocket) {}

  static open(): Rtnl {
    return new Rtnl(NetlinkSocket.open(NETLINK_ROUTE));
  }

  async links(): Promise<LinkInfo[]> {
    return (await this.sock.request(linkDumpRequest(), { dump: true, what: "dump links" })).map(parseLinkMessage);
  }

  async linkByName(name: string): Promise<LinkInfo> {
    const [m] = await this.sock.request(linkGetByNameRequest(name), { what: `get link ${name}` });
    if (!m) throw new NetlinkDecodeError(`no reply for link ${name}`);
    return parseLinkMessage(m);
  }

  async addresses(family?: IpFamily): Promise<AddressInfo[]> {
    const msgs = await this.sock.request(addressDumpRequest(family), { dump: true, what: "dump addresses" });
    return msgs.map(parseAddressMessage).filter((a): a is AddressInfo => a !== null);
  }

  async addAddress(spec: AddressSpec): Promise<void> {
    await this.sock.request(addressRequest("add", spec), { what: `add address ${spec.address} on ifindex ${spec.ifindex}` });
  }

  async deleteAddress(spec: AddressSpec): Promise<void> {
    await this.sock.request(addressRequest("delete", spec), { what: `delete address ${spec.address} on ifindex ${spec.ifindex}` });
  }

  async routes(family?: IpFamily): Promise<RouteInfo[]> {
    const msgs = await this.sock.request(routeDumpRequest(family), { dump: true, what: "dump routes" });
    return msgs.map(parseRouteMessage).filter((r): r is RouteInfo => r !== null);
  }

  async addRoute(spec: RouteSpec): Promise<void> {
    await this.sock.request(routeRequest("add", spec), { what: `add route ${spec.dst}` });
  }

  async replaceRoute(spec: RouteSpec): Promise<void> {
    await this.sock.request(routeRequest("replace", spec), { what: `replace route ${spec.dst}` });
  }

  async deleteRoute(spec: RouteSpec): Promise<void> {
    await this.sock.request(routeRequest("delete", spec), { what: `delete route ${spec.dst}` });
  }

  async rules(family?: IpFamily): Promise<RuleInfo[]> {
    const msgs = await this.sock.request(ruleDumpRequest(family), { dump: true, what: "dump rules" });
    return msgs.map(parseRuleMessage).filter((r): r is RuleInfo => r !== null);
  }

  async addRule(spec: RuleSpec): Promise<void> {
    await this.sock.request(ruleRequest("add", spec), { what: "add rule" });
  }

  async deleteRule(spec: RuleSpec): Promise<void> {
    await this.sock.request(ruleRequest("delete", spec), { what: "delete rule" });
  }

  async createMacvlan(spec: MacvlanSpec): Promise<LinkInfo> {
    await this.sock.request(macvlanCreateRequest(spec), { what: `create macvlan ${spec.name}` });
    return this.linkByName(spec.name);
  }

  async deleteLink(index: number): Promise<void> {
    await this.sock.request(linkDeleteRequest(index), { what: `delete link ${index}` });
  }

  async setLinkUp(index: number, up: boolean): Promise<void> {
    await this.sock.request(linkSetUpRequest(index, up), { what: `set link ${index} ${up ? "up" : "down"}` });
  }

  close(): void {
    this.sock.close();
  }
}
