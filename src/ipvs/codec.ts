// Pure IPVS generic-netlink codec: request builders laid out attribute-for-attribute as ipvsadm's and
// keepalived's libipvs build them, and decoders for the kernel's dump replies. No I/O here.
//
// Wire quirks worth knowing (all from libipvs / net/netfilter/ipvs/ip_vs_ctl.c):
// - addresses are sent as a 16-byte union nf_inet_addr even for IPv4 (the first 4 bytes used);
// - ports are NLA_U16 attributes holding network-byte-order values;
// - the service netmask is NLA_U32 holding a network-order mask for IPv4 and a prefix length for IPv6;
// - flags are struct ip_vs_flags { u32 flags; u32 mask } and the mask is always ~0.
import {
  NetlinkDecodeError, attrBe16, attrBe32, attrBytes, attrNested, attrS32, attrString, attrU16, attrU32, attrU8, decodeGenlMessage,
  genlPayload, parseAttrMap, readBe16, readBe32, readString, readU16, readU32, readU64Number, readU8,
  type NetlinkMessage, type NlAttrSpec,
} from "../netlink/message.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../net/inet.ts";
import * as T from "./types.ts";
import type {
  DestConfig, DestKey, DestStatus, Family, ForwardMethod, IpvsInfo, IpvsStats, IpvsTimeouts, Protocol, ServiceConfig,
  ServiceKey, ServiceStatus, SyncDaemonConfig, TunnelType,
} from "./types.ts";

/** One IPVS command before framing: the socket turns it into nlmsghdr + genlmsghdr + attributes. */
export interface IpvsRequest {
  cmd: number;
  attrs: NlAttrSpec[];
  dump: boolean;
  /** For error messages: "add service TCP 10.0.0.1:80". */
  what: string;
}

/** The bytes after the nlmsghdr: genlmsghdr (cmd, version 1) and the attributes. */
export function ipvsPayload(req: IpvsRequest): Uint8Array {
  return genlPayload(req.cmd, T.IPVS_GENL_VERSION, req.attrs);
}

// ---------- small conversions ----------

const familyToAf = (f: Family): number => (f === "ipv4" ? T.AF_INET : T.AF_INET6);
const PROTOCOL_NUMBERS: Record<Protocol, number> = { tcp: T.IPPROTO_TCP, udp: T.IPPROTO_UDP, sctp: T.IPPROTO_SCTP };
const FORWARD_METHODS: Record<ForwardMethod, number> = {
  masq: T.IP_VS_CONN_F_MASQ, local: T.IP_VS_CONN_F_LOCALNODE, tunnel: T.IP_VS_CONN_F_TUNNEL,
  droute: T.IP_VS_CONN_F_DROUTE, bypass: T.IP_VS_CONN_F_BYPASS,
};
const TUNNEL_TYPES: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };

function lookupKey<K extends string>(table: Record<K, number>, value: number): K | undefined {
  return (Object.keys(table) as K[]).find((k) => table[k] === value);
}

function afToFamily(af: number): Family {
  if (af === T.AF_INET) return "ipv4";
  if (af === T.AF_INET6) return "ipv6";
  throw new NetlinkDecodeError(`unknown address family ${af}`);
}

/** 16-byte union nf_inet_addr as libipvs sends it. */
export function encodeInetAddr(family: Family, address: string): Uint8Array {
  const bytes = family === "ipv4" ? parseIPv4(address) : parseIPv6(address);
  if (!bytes) throw new RangeError(`'${address}' is not an ${family === "ipv4" ? "IPv4" : "IPv6"} address`);
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
}

function decodeInetAddr(family: Family, data: Uint8Array): string {
  const need = family === "ipv4" ? 4 : 16;
  if (data.byteLength < need) throw new NetlinkDecodeError(`address attribute has ${data.byteLength} bytes, need ${need}`);
  return family === "ipv4" ? formatIPv4(data) : formatIPv6(data);
}

export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Leading one bits of an IPv4 mask (kernels accept any mask; ipvsadm only ever sets contiguous ones). */
export function maskToPrefix(mask: number): number {
  let n = 0;
  while (n < 32 && (mask & (0x80000000 >>> n)) !== 0) n++;
  return n;
}

// ---------- validation (run before encoding: encoders assume valid input) ----------

const isU = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

function addressProblem(family: Family, address: string): string | null {
  const ok = family === "ipv4" ? parseIPv4(address) !== null : parseIPv6(address) !== null;
  return ok ? null : `'${address}' is not an ${family === "ipv4" ? "IPv4" : "IPv6"} address`;
}

export function validateServiceKey(key: ServiceKey): string[] {
  const errors: string[] = [];
  if (key.family !== "ipv4" && key.family !== "ipv6") errors.push(`unknown family '${String(key.family)}'`);
  if (key.kind === "fwmark") {
    if (!isU(key.fwmark, 0xffffffff) || key.fwmark === 0) errors.push(`fwmark ${key.fwmark} must be 1..4294967295`);
  } else {
    if (!(key.protocol in PROTOCOL_NUMBERS)) errors.push(`unknown protocol '${String(key.protocol)}' (tcp, udp or sctp)`);
    const a = addressProblem(key.family, key.address);
    if (a) errors.push(a);
    if (!isU(key.port, 0xffff)) errors.push(`port ${key.port} must be 0..65535`);
  }
  return errors;
}

export function validateServiceConfig(svc: ServiceConfig): string[] {
  const errors = validateServiceKey(svc.key);
  if (!/^[a-z0-9_]{1,15}$/.test(svc.scheduler)) errors.push(`scheduler name '${svc.scheduler}' is not valid`);
  if (!isU(svc.flags, 0xffffffff) || (svc.flags & ~T.IP_VS_SVC_F_USER_MASK) !== 0) {
    errors.push(`service flags 0x${svc.flags.toString(16)} contain bits user space cannot set`);
  }
  if (!isU(svc.timeout, 0xffffffff)) errors.push(`persistence timeout ${svc.timeout} must be 0..4294967295 s`);
  if (!isU(svc.netmask, T.fullNetmask(svc.key.family))) {
    errors.push(`persistence netmask /${svc.netmask} must be 0..${T.fullNetmask(svc.key.family)}`);
  }
  if (svc.peName !== "" && !/^[a-z0-9_]{1,15}$/.test(svc.peName)) errors.push(`persistence engine '${svc.peName}' is not valid`);
  return errors;
}

export function validateDestKey(dest: DestKey): string[] {
  const errors: string[] = [];
  const a = addressProblem(dest.family, dest.address);
  if (a) errors.push(a);
  if (!isU(dest.port, 0xffff)) errors.push(`port ${dest.port} must be 0..65535`);
  return errors;
}

export function validateDestConfig(dest: DestConfig): string[] {
  const errors = validateDestKey(dest);
  if (!(dest.method in FORWARD_METHODS)) errors.push(`unknown forwarding method '${String(dest.method)}'`);
  if (!isU(dest.weight, 0x7fffffff)) errors.push(`weight ${dest.weight} must be 0..2147483647`);
  // The kernel refuses thresholds above INT_MAX (EINVAL) and lower > upper even when upper is 0 (ERANGE).
  if (!isU(dest.upperThreshold, 0x7fffffff)) errors.push(`upper threshold ${dest.upperThreshold} must be 0..2147483647`);
  if (!isU(dest.lowerThreshold, 0x7fffffff)) errors.push(`lower threshold ${dest.lowerThreshold} must be 0..2147483647`);
  if (dest.lowerThreshold > dest.upperThreshold) {
    errors.push(`lower threshold ${dest.lowerThreshold} is above upper threshold ${dest.upperThreshold}`);
  }
  if (dest.tunnel) {
    if (dest.method !== "tunnel") errors.push("tunnel options need the tunnel forwarding method");
    if (!(dest.tunnel.type in TUNNEL_TYPES)) errors.push(`unknown tunnel type '${String(dest.tunnel.type)}'`);
    if (!isU(dest.tunnel.port, 0xffff)) errors.push(`tunnel port ${dest.tunnel.port} must be 0..65535`);
    if (dest.tunnel.type === "gue" && dest.tunnel.port === 0) errors.push("a GUE tunnel needs a port");
    if (!isU(dest.tunnel.flags, 0xffff)) errors.push(`tunnel flags ${dest.tunnel.flags} out of range`);
  }
  return errors;
}

export function validateTimeouts(t: IpvsTimeouts): string[] {
  return (["tcp", "tcpFin", "udp"] as const)
    .filter((k) => !isU(t[k], 0x7fffffff))
    .map((k) => `${k} timeout ${t[k]} must be 0..2147483647 s`);
}

export function validateDaemon(d: SyncDaemonConfig): string[] {
  const errors: string[] = [];
  if (d.state !== "master" && d.state !== "backup") errors.push(`sync daemon state '${String(d.state)}' must be master or backup`);
  if (!/^[^\s/]{1,15}$/.test(d.interface)) errors.push(`interface name '${d.interface}' is not valid`);
  if (!isU(d.syncId, 255)) errors.push(`sync id ${d.syncId} must be 0..255`);
  if (d.maxLength !== undefined && !isU(d.maxLength, 0xffff)) errors.push(`sync max length ${d.maxLength} out of range`);
  if (d.mcastPort !== undefined && !isU(d.mcastPort, 0xffff)) errors.push(`multicast port ${d.mcastPort} out of range`);
  if (d.mcastTtl !== undefined && !isU(d.mcastTtl, 255)) errors.push(`multicast TTL ${d.mcastTtl} out of range`);
  if (d.mcastGroup !== undefined && !parseIPv4(d.mcastGroup) && !parseIPv6(d.mcastGroup)) {
    errors.push(`multicast group '${d.mcastGroup}' is not an address`);
  }
  return errors;
}

// ---------- encoders ----------

function serviceKeyAttrs(key: ServiceKey): NlAttrSpec[] {
  const attrs = [attrU16(T.IPVS_SVC_ATTR_AF, familyToAf(key.family))];
  if (key.kind === "fwmark") {
    attrs.push(attrU32(T.IPVS_SVC_ATTR_FWMARK, key.fwmark));
  } else {
    attrs.push(
      attrU16(T.IPVS_SVC_ATTR_PROTOCOL, PROTOCOL_NUMBERS[key.protocol]),
      attrBytes(T.IPVS_SVC_ATTR_ADDR, encodeInetAddr(key.family, key.address)),
      attrBe16(T.IPVS_SVC_ATTR_PORT, key.port),
    );
  }
  return attrs;
}

function flagsStruct(flags: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, flags, true);
  v.setUint32(4, 0xffffffff, true);
  return b;
}

/** Nested IPVS_CMD_ATTR_SERVICE in libipvs order: AF, FWMARK | PROTOCOL+ADDR+PORT, SCHED, PE, FLAGS, TIMEOUT, NETMASK. */
export function serviceAttr(svc: ServiceConfig): NlAttrSpec {
  const attrs = serviceKeyAttrs(svc.key);
  attrs.push(attrString(T.IPVS_SVC_ATTR_SCHED_NAME, svc.scheduler));
  if (svc.peName !== "") attrs.push(attrString(T.IPVS_SVC_ATTR_PE_NAME, svc.peName));
  attrs.push(
    attrBytes(T.IPVS_SVC_ATTR_FLAGS, flagsStruct(svc.flags)),
    attrU32(T.IPVS_SVC_ATTR_TIMEOUT, svc.timeout),
    svc.key.family === "ipv4"
      ? attrBe32(T.IPVS_SVC_ATTR_NETMASK, prefixToMask(svc.netmask))
      : attrU32(T.IPVS_SVC_ATTR_NETMASK, svc.netmask),
  );
  return attrNested(T.IPVS_CMD_ATTR_SERVICE, attrs);
}

/** Only what identifies the service: enough for delete, zero and listing destinations. */
export function serviceKeyAttr(key: ServiceKey): NlAttrSpec {
  return attrNested(T.IPVS_CMD_ATTR_SERVICE, serviceKeyAttrs(key));
}

/** Nested IPVS_CMD_ATTR_DEST in libipvs order: ADDR_FAMILY, ADDR, PORT, FWD_METHOD, WEIGHT, [TUN_*], U_THRESH, L_THRESH. */
export function destAttr(dest: DestConfig): NlAttrSpec {
  const attrs = [
    attrU16(T.IPVS_DEST_ATTR_ADDR_FAMILY, familyToAf(dest.family)),
    attrBytes(T.IPVS_DEST_ATTR_ADDR, encodeInetAddr(dest.family, dest.address)),
    attrBe16(T.IPVS_DEST_ATTR_PORT, dest.port),
    attrU32(T.IPVS_DEST_ATTR_FWD_METHOD, FORWARD_METHODS[dest.method]),
    attrU32(T.IPVS_DEST_ATTR_WEIGHT, dest.weight),
  ];
  if (dest.method === "tunnel" && dest.tunnel) {
    attrs.push(
      attrU8(T.IPVS_DEST_ATTR_TUN_TYPE, TUNNEL_TYPES[dest.tunnel.type]),
      attrBe16(T.IPVS_DEST_ATTR_TUN_PORT, dest.tunnel.port),
      attrU16(T.IPVS_DEST_ATTR_TUN_FLAGS, dest.tunnel.flags),
    );
  }
  attrs.push(attrU32(T.IPVS_DEST_ATTR_U_THRESH, dest.upperThreshold), attrU32(T.IPVS_DEST_ATTR_L_THRESH, dest.lowerThreshold));
  return attrNested(T.IPVS_CMD_ATTR_DEST, attrs);
}

function destKeyAttr(dest: DestKey): NlAttrSpec {
  return attrNested(T.IPVS_CMD_ATTR_DEST, [
    attrU16(T.IPVS_DEST_ATTR_ADDR_FAMILY, familyToAf(dest.family)),
    attrBytes(T.IPVS_DEST_ATTR_ADDR, encodeInetAddr(dest.family, dest.address)),
    attrBe16(T.IPVS_DEST_ATTR_PORT, dest.port),
  ]);
}

const describe = T.describeService;
const describeDest = (d: DestKey) => T.formatHostPort(d.address, d.port);

export const requests = {
  getInfo: (): IpvsRequest => ({ cmd: T.IPVS_CMD_GET_INFO, attrs: [], dump: false, what: "get IPVS info" }),
  listServices: (): IpvsRequest => ({ cmd: T.IPVS_CMD_GET_SERVICE, attrs: [], dump: true, what: "list IPVS services" }),
  getService: (key: ServiceKey): IpvsRequest => ({
    cmd: T.IPVS_CMD_GET_SERVICE, attrs: [serviceKeyAttr(key)], dump: false, what: `get service ${describe(key)}`,
  }),
  listDests: (key: ServiceKey): IpvsRequest => ({
    cmd: T.IPVS_CMD_GET_DEST, attrs: [serviceKeyAttr(key)], dump: true, what: `list destinations of ${describe(key)}`,
  }),
  addService: (svc: ServiceConfig): IpvsRequest => ({
    cmd: T.IPVS_CMD_NEW_SERVICE, attrs: [serviceAttr(svc)], dump: false, what: `add service ${describe(svc.key)}`,
  }),
  editService: (svc: ServiceConfig): IpvsRequest => ({
    cmd: T.IPVS_CMD_SET_SERVICE, attrs: [serviceAttr(svc)], dump: false, what: `edit service ${describe(svc.key)}`,
  }),
  deleteService: (key: ServiceKey): IpvsRequest => ({
    cmd: T.IPVS_CMD_DEL_SERVICE, attrs: [serviceKeyAttr(key)], dump: false, what: `delete service ${describe(key)}`,
  }),
  addDest: (svc: ServiceKey, dest: DestConfig): IpvsRequest => ({
    cmd: T.IPVS_CMD_NEW_DEST, attrs: [serviceKeyAttr(svc), destAttr(dest)], dump: false,
    what: `add destination ${describeDest(dest)} to ${describe(svc)}`,
  }),
  editDest: (svc: ServiceKey, dest: DestConfig): IpvsRequest => ({
    cmd: T.IPVS_CMD_SET_DEST, attrs: [serviceKeyAttr(svc), destAttr(dest)], dump: false,
    what: `edit destination ${describeDest(dest)} of ${describe(svc)}`,
  }),
  deleteDest: (svc: ServiceKey, dest: DestKey): IpvsRequest => ({
    cmd: T.IPVS_CMD_DEL_DEST, attrs: [serviceKeyAttr(svc), destKeyAttr(dest)], dump: false,
    what: `delete destination ${describeDest(dest)} from ${describe(svc)}`,
  }),
  /** Zero the counters of one service, or of everything when no key is given. */
  zero: (key?: ServiceKey): IpvsRequest => ({
    cmd: T.IPVS_CMD_ZERO, attrs: key ? [serviceKeyAttr(key)] : [], dump: false,
    what: key ? `zero counters of ${describe(key)}` : "zero all counters",
  }),
  flush: (): IpvsRequest => ({ cmd: T.IPVS_CMD_FLUSH, attrs: [], dump: false, what: "flush IPVS table" }),
  getTimeouts: (): IpvsRequest => ({ cmd: T.IPVS_CMD_GET_CONFIG, attrs: [], dump: false, what: "get IPVS timeouts" }),
  /** Like libipvs: a zero timeout is left out, so the kernel keeps its current value. */
  setTimeouts: (t: IpvsTimeouts): IpvsRequest => {
    const attrs: NlAttrSpec[] = [];
    if (t.tcp) attrs.push(attrU32(T.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp));
    if (t.tcpFin) attrs.push(attrU32(T.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin));
    if (t.udp) attrs.push(attrU32(T.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp));
    return { cmd: T.IPVS_CMD_SET_CONFIG, attrs, dump: false, what: "set IPVS timeouts" };
  },
  startDaemon: (d: SyncDaemonConfig): IpvsRequest => {
    const attrs = [
      attrS32(T.IPVS_DAEMON_ATTR_STATE, daemonStateNumber(d.state)),
      attrString(T.IPVS_DAEMON_ATTR_MCAST_IFN, d.interface),
      attrS32(T.IPVS_DAEMON_ATTR_SYNC_ID, d.syncId),
    ];
    if (d.maxLength) attrs.push(attrU16(T.IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.maxLength));
    if (d.mcastPort) attrs.push(attrU16(T.IPVS_DAEMON_ATTR_MCAST_PORT, d.mcastPort));
    if (d.mcastTtl) attrs.push(attrU8(T.IPVS_DAEMON_ATTR_MCAST_TTL, d.mcastTtl));
    if (d.mcastGroup) {
      const v4 = parseIPv4(d.mcastGroup);
      const v6 = v4 ? null : parseIPv6(d.mcastGroup);
      if (v4) attrs.push(attrBytes(T.IPVS_DAEMON_ATTR_MCAST_GROUP, v4));
      else if (v6) attrs.push(attrBytes(T.IPVS_DAEMON_ATTR_MCAST_GROUP6, v6));
    }
    return {
      cmd: T.IPVS_CMD_NEW_DAEMON, attrs: [attrNested(T.IPVS_CMD_ATTR_DAEMON, attrs)], dump: false,
      what: `start ${d.state} sync daemon on ${d.interface}`,
    };
  },
  /** libipvs sends the whole daemon description; the kernel only reads the state. */
  stopDaemon: (state: T.SyncDaemonState): IpvsRequest => ({
    cmd: T.IPVS_CMD_DEL_DAEMON,
    attrs: [attrNested(T.IPVS_CMD_ATTR_DAEMON, [attrS32(T.IPVS_DAEMON_ATTR_STATE, daemonStateNumber(state))])],
    dump: false, what: `stop ${state} sync daemon`,
  }),
  listDaemons: (): IpvsRequest => ({ cmd: T.IPVS_CMD_GET_DAEMON, attrs: [], dump: true, what: "list sync daemons" }),
};

function daemonStateNumber(state: T.SyncDaemonState): number {
  return state === "master" ? T.IP_VS_STATE_MASTER : T.IP_VS_STATE_BACKUP;
}

// ---------- decoders (throw NetlinkDecodeError on malformed replies) ----------

function required(m: Map<number, Uint8Array>, type: number, what: string): Uint8Array {
  const d = m.get(type);
  if (!d) throw new NetlinkDecodeError(`${what} lacks attribute ${type}`);
  return d;
}

function topLevel(msg: NetlinkMessage): Map<number, Uint8Array> {
  return parseAttrMap(decodeGenlMessage(msg).attrs);
}

const ZERO_STATS: IpvsStats = {
  conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0,
};

/** STATS64 (all u64) when present, else the legacy STATS (u32 except the byte counters). */
export function decodeStats(stats64: Uint8Array | undefined, stats32: Uint8Array | undefined): IpvsStats {
  const data = stats64 ?? stats32;
  if (!data) return { ...ZERO_STATS };
  const m = parseAttrMap(data);
  const wide = stats64 !== undefined;
  const num = (type: number, alwaysU64 = false): number => {
    const d = m.get(type);
    if (!d) return 0;
    return wide || alwaysU64 ? readU64Number(d) : readU32(d);
  };
  return {
    conns: num(T.IPVS_STATS_ATTR_CONNS), inPkts: num(T.IPVS_STATS_ATTR_INPKTS), outPkts: num(T.IPVS_STATS_ATTR_OUTPKTS),
    inBytes: num(T.IPVS_STATS_ATTR_INBYTES, true), outBytes: num(T.IPVS_STATS_ATTR_OUTBYTES, true),
    cps: num(T.IPVS_STATS_ATTR_CPS), inPps: num(T.IPVS_STATS_ATTR_INPPS), outPps: num(T.IPVS_STATS_ATTR_OUTPPS),
    inBps: num(T.IPVS_STATS_ATTR_INBPS), outBps: num(T.IPVS_STATS_ATTR_OUTBPS),
  };
}

/** Decodes the contents of a nested IPVS_CMD_ATTR_SERVICE. */
export function decodeServiceAttrs(nested: Uint8Array): ServiceStatus {
  const m = parseAttrMap(nested);
  const family = afToFamily(readU16(required(m, T.IPVS_SVC_ATTR_AF, "service")));
  const fwmarkAttr = m.get(T.IPVS_SVC_ATTR_FWMARK);
  const fwmark = fwmarkAttr ? readU32(fwmarkAttr) : 0;
  let key: ServiceKey;
  if (fwmark !== 0) {
    key = { kind: "fwmark", family, fwmark };
  } else {
    const protoNumber = readU16(required(m, T.IPVS_SVC_ATTR_PROTOCOL, "service"));
    const protocol = lookupKey(PROTOCOL_NUMBERS, protoNumber);
    if (!protocol) throw new NetlinkDecodeError(`service has unknown protocol ${protoNumber}`);
    key = {
      kind: "addr", family, protocol,
      address: decodeInetAddr(family, required(m, T.IPVS_SVC_ATTR_ADDR, "service")),
      port: readBe16(required(m, T.IPVS_SVC_ATTR_PORT, "service")),
    };
  }
  const flagsData = required(m, T.IPVS_SVC_ATTR_FLAGS, "service");
  if (flagsData.byteLength < 4) throw new NetlinkDecodeError("service flags attribute is truncated");
  const netmaskData = required(m, T.IPVS_SVC_ATTR_NETMASK, "service");
  const pe = m.get(T.IPVS_SVC_ATTR_PE_NAME);
  return {
    key,
    scheduler: readString(required(m, T.IPVS_SVC_ATTR_SCHED_NAME, "service")),
    flags: readU32(flagsData) & ~T.IP_VS_SVC_F_HASHED,
    timeout: readU32(required(m, T.IPVS_SVC_ATTR_TIMEOUT, "service")),
    netmask: family === "ipv4" ? maskToPrefix(readBe32(netmaskData)) : readU32(netmaskData),
    peName: pe ? readString(pe) : "",
    stats: decodeStats(m.get(T.IPVS_SVC_ATTR_STATS64), m.get(T.IPVS_SVC_ATTR_STATS)),
  };
}

/** Decodes the contents of a nested IPVS_CMD_ATTR_DEST; `serviceFamily` is used when ADDR_FAMILY is absent (< 3.18). */
export function decodeDestAttrs(nested: Uint8Array, serviceFamily: Family): DestStatus {
  const m = parseAttrMap(nested);
  const afData = m.get(T.IPVS_DEST_ATTR_ADDR_FAMILY);
  const family = afData ? afToFamily(readU16(afData)) : serviceFamily;
  const methodNumber = readU32(required(m, T.IPVS_DEST_ATTR_FWD_METHOD, "destination")) & T.IP_VS_CONN_F_FWD_MASK;
  const method = lookupKey(FORWARD_METHODS, methodNumber);
  if (!method) throw new NetlinkDecodeError(`destination has unknown forwarding method ${methodNumber}`);
  const u32 = (type: number) => { const d = m.get(type); return d ? readU32(d) : 0; };
  const dest: DestStatus = {
    family,
    address: decodeInetAddr(family, required(m, T.IPVS_DEST_ATTR_ADDR, "destination")),
    port: readBe16(required(m, T.IPVS_DEST_ATTR_PORT, "destination")),
    method,
    weight: readU32(required(m, T.IPVS_DEST_ATTR_WEIGHT, "destination")),
    upperThreshold: u32(T.IPVS_DEST_ATTR_U_THRESH),
    lowerThreshold: u32(T.IPVS_DEST_ATTR_L_THRESH),
    activeConns: u32(T.IPVS_DEST_ATTR_ACTIVE_CONNS),
    inactiveConns: u32(T.IPVS_DEST_ATTR_INACT_CONNS),
    persistentConns: u32(T.IPVS_DEST_ATTR_PERSIST_CONNS),
    stats: decodeStats(m.get(T.IPVS_DEST_ATTR_STATS64), m.get(T.IPVS_DEST_ATTR_STATS)),
  };
  const tunType = m.get(T.IPVS_DEST_ATTR_TUN_TYPE);
  // The kernel reports tunnel attributes for every destination; they only mean something for "tunnel",
  // and plain IPIP with no port/flags is the same as no options at all.
  if (method === "tunnel" && tunType) {
    const type = lookupKey(TUNNEL_TYPES, readU8(tunType)) ?? "ipip";
    const tunPort = m.get(T.IPVS_DEST_ATTR_TUN_PORT);
    const tunFlags = m.get(T.IPVS_DEST_ATTR_TUN_FLAGS);
    const tunnel = { type, port: tunPort ? readBe16(tunPort) : 0, flags: tunFlags ? readU16(tunFlags) : 0 };
    if (tunnel.type !== "ipip" || tunnel.port !== 0 || tunnel.flags !== 0) dest.tunnel = tunnel;
  }
  return dest;
}

export function decodeServiceMessage(msg: NetlinkMessage): ServiceStatus {
  return decodeServiceAttrs(required(topLevel(msg), T.IPVS_CMD_ATTR_SERVICE, "service reply"));
}

export function decodeDestMessage(msg: NetlinkMessage, serviceFamily: Family): DestStatus {
  return decodeDestAttrs(required(topLevel(msg), T.IPVS_CMD_ATTR_DEST, "destination reply"), serviceFamily);
}

export function decodeInfoMessage(msg: NetlinkMessage): IpvsInfo {
  const m = topLevel(msg);
  const version = readU32(required(m, T.IPVS_INFO_ATTR_VERSION, "info reply"));
  return {
    version,
    versionText: `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`,
    connTableSize: readU32(required(m, T.IPVS_INFO_ATTR_CONN_TAB_SIZE, "info reply")),
  };
}

export function decodeTimeoutsMessage(msg: NetlinkMessage): IpvsTimeouts {
  const m = topLevel(msg);
  const u32 = (type: number) => { const d = m.get(type); return d ? readU32(d) : 0; };
  return { tcp: u32(T.IPVS_CMD_ATTR_TIMEOUT_TCP), tcpFin: u32(T.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), udp: u32(T.IPVS_CMD_ATTR_TIMEOUT_UDP) };
}

export function decodeDaemonMessage(msg: NetlinkMessage): SyncDaemonConfig {
  const m = parseAttrMap(required(topLevel(msg), T.IPVS_CMD_ATTR_DAEMON, "daemon reply"));
  const stateNumber = readU32(required(m, T.IPVS_DAEMON_ATTR_STATE, "daemon"));
  if (stateNumber !== T.IP_VS_STATE_MASTER && stateNumber !== T.IP_VS_STATE_BACKUP) {
    throw new NetlinkDecodeError(`sync daemon has unknown state ${stateNumber}`);
  }
  const daemon: SyncDaemonConfig = {
    state: stateNumber === T.IP_VS_STATE_MASTER ? "master" : "backup",
    interface: readString(required(m, T.IPVS_DAEMON_ATTR_MCAST_IFN, "daemon")),
    syncId: readU32(required(m, T.IPVS_DAEMON_ATTR_SYNC_ID, "daemon")),
  };
  const maxLen = m.get(T.IPVS_DAEMON_ATTR_SYNC_MAXLEN);
  if (maxLen) daemon.maxLength = readU16(maxLen);
  const port = m.get(T.IPVS_DAEMON_ATTR_MCAST_PORT);
  if (port) daemon.mcastPort = readU16(port);
  const ttl = m.get(T.IPVS_DAEMON_ATTR_MCAST_TTL);
  if (ttl) daemon.mcastTtl = readU8(ttl);
  const g4 = m.get(T.IPVS_DAEMON_ATTR_MCAST_GROUP);
  const g6 = m.get(T.IPVS_DAEMON_ATTR_MCAST_GROUP6);
  if (g4 && g4.byteLength >= 4) daemon.mcastGroup = formatIPv4(g4);
  else if (g6 && g6.byteLength >= 16) daemon.mcastGroup = formatIPv6(g6);
  return daemon;
}
