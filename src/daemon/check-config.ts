// Pure mapping of the effective configuration onto the checker child's two inputs, after keepalived
// 2.2.7's check_data.c / ipwrapper.c / ipvswrapper.c:
//  - the health model: one vs-state VirtualServerConfig per virtual_server and one ScheduledChecker per
//    checker block, with CheckerSpec params and timing (the config layer already applied keepalived's
//    inheritance virtual server -> real server -> checker: connect_ip/port, delay_loop, retry, ...);
//  - the IPVS model: the services a virtual_server stands for (one, or one per address of its
//    virtual_server_group) and, given the health verdicts, their destinations.
// Nothing here does I/O; user lookups and the host name are injected.
import { fullNetmask, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3, type DestConfig, type Family, type ForwardMethod, type IpvsTimeouts, type ServiceConfig, type ServiceKey, type ServiceWithDests, type TunnelOptions } from "../ipvs/types.ts";
import type { CheckerPolicy, CheckerSpec, ConnectOptions, HttpUrl, TlsOptions } from "../check/types.ts";
import type { ScheduledChecker } from "../check/scheduler.ts";
import { formatEndpoint, rsKey, type DesiredVirtualServer, type RealServerConfig as HealthRealServer, type VirtualServerConfig as HealthVirtualServer } from "../check/vs-state.ts";
import type { Model } from "../config/schema.ts";
import type { CheckerConfig, SmtpHostConfig } from "../config/spec/checkers.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import type { RealServerConfig, SslConfig, VirtualServerConfig, VirtualServerGroupConfig } from "../config/spec/lvs.ts";
import { parseIpRange, type ForwardingMethod, type VsgEntry } from "../config/spec/lvs-values.ts";
import type { TrackFileConfig } from "../config/spec/vrrp.ts";
import { parseIp } from "../config/values.ts";

/** How a destination is programmed, apart from its weight (which health decides). */
export interface DestTemplate {
  family: Family;
  address: string;
  port: number;
  method: ForwardMethod;
  upperThreshold: number;
  lowerThreshold: number;
  tunnel?: TunnelOptions;
}

export interface MappedVirtualServer {
  /** Status, health and control-API key, keepalived's way of naming it: "TCP 10.0.0.1:80",
   *  "UDP [2001:db8::1]:53", "FWM 7", "FWM 7 inet6", "TCP group NAME". */
  key: string;
  health: HealthVirtualServer;
  /** The IPVS services this virtual server programs (several for a group), without destinations. */
  services: ServiceConfig[];
  /** Destination settings by rsKey() (the sorry server included). */
  dests: Record<string, DestTemplate>;
  /** ha_suspend: the service addresses that must be on this host for its checkers to run. */
  haSuspendOn: string[] | null;
}

export interface MappedChecker extends ScheduledChecker {
  /** Id within its real server, see localCheckerId(). */
  localId: string;
}

export interface CheckMapping {
  virtualServers: MappedVirtualServer[];
  checkers: MappedChecker[];
  /** Things configured but not run, one message each (logged by the role). */
  problems: string[];
}

export interface CheckLookups {
  /** uid/gid of a user (MISC_CHECK user, script_user); undefined when unknown. */
  user(name: string, group?: string): { uid: number; gid: number } | undefined;
  /** SMTP_CHECK's default helo_name. */
  hostname: string;
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

/** What the checker child asks of IPVS before its first table: lvs_flush and lvs_timeouts (0: unchanged). */
export function ipvsStartOptions(g: Partial<GlobalDefsConfig>): { flush: boolean; timeouts?: IpvsTimeouts } {
  const t = g.lvs_timeouts;
  return { flush: g.lvs_flush ?? false, timeouts: t ? { tcp: t.tcp ?? 0, tcpFin: t.tcpfin ?? 0, udp: t.udp ?? 0 } : undefined };
}

/** lvs_flush_on_stop: flush the whole IPVS table at stop; with 'VS' (or without the keyword) only lbctl's own services go. */
export function ipvsFlushAllOnStop(g: Partial<GlobalDefsConfig>): boolean {
  const f = g.lvs_flush_on_stop;
  return f !== undefined && !f.includes("VS");
}

function familyOf(ip: string): Family {
  return parseIp(ip)?.family === 6 ? "ipv6" : "ipv4";
}

const METHOD: Record<ForwardingMethod["method"], ForwardMethod> = { NAT: "masq", DR: "droute", TUN: "tunnel" };
/** IP_VS_TUNNEL_ENCAP_FLAG_CSUM / _REMCSUM. */
const TUNNEL_CSUM: Record<string, number> = { nocsum: 0, csum: 1, remcsum: 2 };

function tunnelOf(f: ForwardingMethod): TunnelOptions | undefined {
  if (f.method !== "TUN") return undefined;
  return { type: f.tunnel_type ?? "ipip", port: f.tunnel_port ?? 0, flags: TUNNEL_CSUM[f.checksum ?? "nocsum"] ?? 0 };
}

/** `persistence_granularity` as a prefix length: an IPv4 netmask counts its one bits. */
function granularityBits(g: string | undefined, family: Family): number {
  if (g === undefined) return fullNetmask(family);
  if (/^\d+$/.test(g)) return Number(g);
  return g.split(".").reduce((bits, octet) => bits + (Number(octet) >>> 0).toString(2).replace(/0/g, "").length, 0);
}

/** The service settings keepalived's ipvs_set_srv() sends for this virtual server. */
function serviceSettings(vs: VirtualServerConfig, key: ServiceKey): ServiceConfig {
  let flags = 0;
  if (vs.persistence_timeout !== undefined) flags |= IP_VS_SVC_F_PERSISTENT;
  // One-packet scheduling exists only for UDP (and fwmark) services; keepalived ignores it elsewhere.
  if (vs.ops && (key.kind === "fwmark" || key.protocol === "udp")) flags |= IP_VS_SVC_F_ONEPACKET;
  if (vs.flag_1 || vs.sh_fallback || vs.mh_fallback) flags |= IP_VS_SVC_F_SCHED1;
  if (vs.flag_2 || vs.sh_port || vs.mh_port) flags |= IP_VS_SVC_F_SCHED2;
  if (vs.flag_3) flags |= IP_VS_SVC_F_SCHED3;
  return {
    key,
    scheduler: vs.lvs_sched,
    flags,
    timeout: vs.persistence_timeout ?? 0,
    netmask: granularityBits(vs.persistence_granularity, key.family),
    peName: vs.persistence_engine ?? "",
  };
}

const PROTO = { TCP: "tcp", UDP: "udp", SCTP: "sctp" } as const;

/** A fwmark service's family: ip_family, else that of its real servers (keepalived's default is inet). */
function fwmarkFamily(vs: VirtualServerConfig, explicit?: "inet" | "inet6"): Family {
  const f = explicit ?? vs.ip_family;
  if (f) return f === "inet6" ? "ipv6" : "ipv4";
  const first = vs.real_server?.find((rs) => rs.lvs_method.method !== "TUN");
  return first ? familyOf(first.ip) : "ipv4";
}

/** Every address of `first..last` (keepalived adds a range as one service per address). */
export function expandRange(text: string): string[] | string {
  const r = parseIpRange(text);
  if (typeof r === "string") return r;
  if (r.family === 4) {
    const toInt = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    const out: string[] = [];
    for (let n = toInt(r.first.text); n <= toInt(r.last.text); n++) out.push([24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join("."));
    return out;
  }
  const prefix = r.first.text.replace(/[0-9a-f]*$/, "");
  const from = parseInt(r.first.text.slice(prefix.length) || "0", 16), to = parseInt(r.last.text.slice(prefix.length) || "0", 16);
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`${prefix}${n.toString(16)}`);
  return out;
}

function groupServiceKeys(vs: VirtualServerConfig, entries: VsgEntry[], problems: string[], where: string): ServiceKey[] {
  const keys: ServiceKey[] = [];
  for (const e of entries) {
    if ("fwmark" in e) { keys.push({ kind: "fwmark", family: fwmarkFamily(vs, e.family), fwmark: e.fwmark }); continue; }
    const addrs = expandRange(e.ip);
    if (typeof addrs === "string") { problems.push(`${where}: ${addrs}`); continue; }
    for (const a of addrs) keys.push({ kind: "addr", family: familyOf(a), protocol: PROTO[vs.protocol], address: a, port: e.port ?? 0 });
  }
  return keys;
}

function vsKeyOf(vs: VirtualServerConfig): string {
  if (vs.group !== undefined) return `${vs.protocol} group ${vs.group}`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}${vs.ip_family === "inet6" ? " inet6" : ""}`;
  return `${vs.protocol} ${formatEndpoint(vs.ip ?? "", vs.port ?? 0)}`;
}

/** A checker's id within its real server (the control API's `{checker}`): "TCP_CHECK#0". */
export function localCheckerId(type: string, index: number): string {
  return `${type}#${index}`;
}

function destTemplate(ip: string, port: number, method: ForwardingMethod, rs?: RealServerConfig): DestTemplate {
  const t: DestTemplate = {
    family: familyOf(ip), address: ip, port, method: METHOD[method.method],
    upperThreshold: rs?.uthreshold ?? 0, lowerThreshold: rs?.lthreshold ?? 0,
  };
  const tun = tunnelOf(method);
  if (tun) t.tunnel = tun;
  return t;
}

function policyOf(c: CheckerConfig & { retry: number; delay_loop: number; delay_before_retry: number; warmup: number; alpha: boolean; log_all_failures?: boolean }, global: Partial<GlobalDefsConfig>): CheckerPolicy {
  return {
    retry: c.retry,
    delayLoopMs: ms(c.delay_loop),
    delayBeforeRetryMs: ms(c.delay_before_retry),
    warmupMs: ms(c.warmup),
    alpha: c.alpha,
    logAllFailures: c.log_all_failures ?? global.checker_log_all_failures ?? false,
  };
}

function connectOf(c: { connect_ip?: string; connect_port?: number; bindto?: string; bind_port?: number; bind_if?: string; fwmark?: number; connect_timeout?: number }, fallback?: ConnectOptions): ConnectOptions | undefined {
  const connectIp = c.connect_ip ?? fallback?.connectIp;
  const connectPort = c.connect_port ?? fallback?.connectPort;
  if (connectIp === undefined || connectPort === undefined) return undefined;
  const o: ConnectOptions = { connectIp, connectPort, connectTimeoutMs: c.connect_timeout !== undefined ? ms(c.connect_timeout) : fallback?.connectTimeoutMs ?? 5000 };
  const bindto = c.bindto ?? fallback?.bindto, bindPort = c.bind_port ?? fallback?.bindPort, bindIf = c.bind_if ?? fallback?.bindIf, fwmark = c.fwmark ?? fallback?.fwmark;
  if (bindto !== undefined) o.bindto = bindto;
  if (bindPort !== undefined) o.bindPort = bindPort;
  if (bindIf !== undefined) o.bindIf = bindIf;
  if (fwmark !== undefined) o.fwmark = fwmark;
  return o;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2).replace(/x/gi, "0"), 16);
  return out;
}

/** `require_reply` hex with x digits: the bytes to match and a mask whose set bits mean "don't care". */
function hexMask(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const [hi, lo] = [hex[2 * i], hex[2 * i + 1]];
    out[i] = (hi === "x" || hi === "X" ? 0xf0 : 0) | (lo === "x" || lo === "X" ? 0x0f : 0);
  }
  return out;
}

function tlsOf(ssl: SslConfig | undefined): TlsOptions | undefined {
  if (!ssl) return undefined;
  const t: TlsOptions = {};
  if (ssl.ca) t.ca = ssl.ca;
  if (ssl.certificate) t.certificate = ssl.certificate;
  if (ssl.key) t.key = ssl.key;
  if (ssl.password) t.password = ssl.password;
  return t;
}

interface CheckerContext { effective: Model; global: Partial<GlobalDefsConfig>; look: CheckLookups }

/** One checker block as a CheckerSpec, or why it cannot run. */
export function checkerSpec(c: CheckerConfig, cx: CheckerContext): CheckerSpec | string {
  switch (c.type) {
    case "TCP_CHECK": case "PING_CHECK": {
      const conn = connectOf(c);
      return conn ? { kind: c.type, params: conn } : "no connect_port (a fwmark service needs one on the checker)";
    }
    case "HTTP_GET": case "SSL_GET": {
      const conn = connectOf(c);
      if (!conn) return "no connect_port (a fwmark service needs one on the checker)";
      // keepalived's virtualhost fallback: url, else checker (which already fell back to real then virtual server).
      const urls: HttpUrl[] = (c.url ?? []).map((u) => {
        const url: HttpUrl = { path: u.path ?? "/", statusCodes: u.status_code.map(([from, to]) => ({ from, to })) };
        const vhost = u.virtualhost ?? c.virtualhost;
        if (vhost !== undefined) url.virtualhost = vhost;
        if (u.digest !== undefined) url.digest = u.digest;
        if (u.regex !== undefined) { url.regex = u.regex; url.regexNoMatch = u.regex_no_match; }
        if (u.regex_options) url.regexOptions = u.regex_options;
        if (u.regex_min_offset) url.regexMinOffset = u.regex_min_offset;
        if (u.regex_max_offset !== undefined) url.regexMaxOffset = u.regex_max_offset;
        return url;
      });
      if (urls.length === 0) return "no url block";
      const params: Extract<CheckerSpec, { kind: "HTTP_GET" | "SSL_GET" }>["params"] = {
        ...conn, tls: c.type === "SSL_GET", urls, httpProtocol: c.http_protocol, enableSni: c.enable_sni, fastRecovery: c.fast_recovery,
      };
      const tls = c.type === "SSL_GET" ? tlsOf(cx.effective.ssl as SslConfig | undefined) : undefined;
      if (tls) params.tlsOptions = tls;
      return { kind: c.type, params };
    }
    case "SMTP_CHECK": {
      const base = connectOf(c);
      const hosts = (c.host ?? []).map((h: SmtpHostConfig) => connectOf(h, base));
      if (hosts.some((h) => h === undefined) || (hosts.length === 0 && !base)) return "no connect_port (a fwmark service needs one on the checker)";
      return { kind: "SMTP_CHECK", params: { heloName: c.helo_name ?? cx.look.hostname, hosts: hosts.length ? (hosts as ConnectOptions[]) : [base!] } };
    }
    case "DNS_CHECK": {
      const conn = connectOf(c);
      return conn ? { kind: "DNS_CHECK", params: { ...conn, type: c.query_type, name: c.name } } : "no connect_port";
    }
    case "MISC_CHECK": {
      if (!c.misc_path) return "no misc_path";
      const who = c.user ?? cx.global.script_user;
      const ids = who ? cx.look.user(who.user, who.group) : undefined;
      if (who && !ids) return `unknown user '${who.user}'`;
      return { kind: "MISC_CHECK", params: { path: c.misc_path, timeoutMs: ms(c.misc_timeout), dynamic: c.misc_dynamic, ...(ids ? { uid: ids.uid, gid: ids.gid } : {}) } };
    }
    case "UDP_CHECK": {
      const conn = connectOf(c);
      if (!conn) return "no connect_port";
      const params: Extract<CheckerSpec, { kind: "UDP_CHECK" }>["params"] = {
        ...conn, requireReply: c.require_reply !== undefined, minReplyLength: c.min_reply_length, maxReplyLength: c.max_reply_length,
      };
      if (c.payload) params.payload = hexBytes(c.payload);
      if (typeof c.require_reply === "string") { params.replyData = hexBytes(c.require_reply); params.replyMask = hexMask(c.require_reply); }
      return { kind: "UDP_CHECK", params };
    }
    case "FILE_CHECK": {
      const tf = c.track_file ? (cx.effective.track_file as Record<string, TrackFileConfig> | undefined)?.[c.track_file] : undefined;
      if (!tf?.file) return `unknown track_file '${c.track_file ?? ""}'`;
      const w = c.weight ?? tf.weight;
      return { kind: "FILE_CHECK", params: { file: tf.file, weight: w.value, reverse: w.reverse, dynamic: w.value !== 0 } };
    }
    case "BFD_CHECK":
      return "BFD_CHECK is not supported by lbctl";
  }
}

function smtpDefault(own: boolean | undefined, global: Partial<GlobalDefsConfig>, fallback: boolean): boolean {
  return own ?? global.smtp_alert_checker ?? global.smtp_alert ?? fallback;
}

/** One virtual server mapped, with what it contributes to the mapping's checkers and problems. */
interface MappedEntry { vs: MappedVirtualServer; checkers: MappedChecker[]; problems: string[] }

/**
 * What a reload can reuse from the previous mapping: per virtual server key, its configuration block as
 * JSON and what it mapped to, valid while everything else the mapping reads (`context`) is unchanged.
 * checkMapping reads it and leaves the new mapping's in it.
 */
export interface MappingCache {
  context: string;
  entries: Map<string, MappedEntry & { json: string }>;
}

export function newMappingCache(): MappingCache { return { context: "", entries: new Map() }; }

/** Checkers whose mapping reads the system (user ids) rather than only the configuration. */
const READS_SYSTEM = new Set(["MISC_CHECK", "FILE_CHECK"]);

/**
 * The whole checker-side mapping of an effective configuration. Given a cache, a virtual server whose
 * block and context are unchanged since the call that filled it maps to the very same objects, so
 * that a reload of 37,000 real servers that changes one costs a JSON.stringify per block, and the
 * scheduler's diff finds the unchanged checkers by identity.
 */
export function checkMapping(effective: Model, look: CheckLookups, cache?: MappingCache): CheckMapping {
  const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  const groups = (effective.virtual_server_group ?? {}) as Record<string, VirtualServerGroupConfig>;
  const cx: CheckerContext = { effective, global, look };
  const { virtual_server: list, ...rest } = effective;
  const context = cache ? JSON.stringify([rest, look.hostname]) : "";
  const usable = cache?.context === context ? cache.entries : undefined;
  const entries: MappingCache["entries"] = new Map();
  const problems: string[] = [];
  const virtualServers: MappedVirtualServer[] = [];
  const checkers: MappedChecker[] = [];
  const seenKeys = new Set<string>();
  for (const vs of (list ?? []) as VirtualServerConfig[]) {
    let key = vsKeyOf(vs);
    // Two identical headers: keepalived keeps both blocks; keep the keys apart.
    for (let n = 2; seenKeys.has(key); n++) key = `${vsKeyOf(vs)}#${n}`;
    seenKeys.add(key);
    const cacheable = cache !== undefined && !(vs.real_server ?? []).some((rs) => (rs.checker ?? []).some((c) => READS_SYSTEM.has(c.type)));
    const json = cacheable ? JSON.stringify(vs) : "";
    const old = cacheable ? usable?.get(key) : undefined;
    const entry = old && old.json === json ? old : { ...mapVirtualServer(vs, key, groups, cx), json };
    if (cacheable) entries.set(key, entry);
    virtualServers.push(entry.vs);
    for (const c of entry.checkers) checkers.push(c);
    for (const p of entry.problems) problems.push(p);
  }
  if (cache) { cache.context = context; cache.entries = entries; }
  return { virtualServers, checkers, problems };
}

function mapVirtualServer(vs: VirtualServerConfig, key: string, groups: Record<string, VirtualServerGroupConfig>, cx: CheckerContext): MappedEntry {
  const { global } = cx;
  const problems: string[] = [];
  const checkers: MappedChecker[] = [];
  let serviceKeys: ServiceKey[];
  if (vs.group !== undefined) {
    const g = groups[vs.group];
    if (!g) { problems.push(`${key}: unknown virtual_server_group '${vs.group}'`); serviceKeys = []; }
    else serviceKeys = groupServiceKeys(vs, g.entries, problems, key);
  } else if (vs.fwmark !== undefined) {
    serviceKeys = [{ kind: "fwmark", family: fwmarkFamily(vs), fwmark: vs.fwmark }];
  } else {
    serviceKeys = [{ kind: "addr", family: familyOf(vs.ip ?? ""), protocol: PROTO[vs.protocol], address: vs.ip ?? "", port: vs.port ?? 0 }];
  }
  const dests: Record<string, DestTemplate> = {};
  const realServers: HealthRealServer[] = [];
  for (const rs of vs.real_server ?? []) {
    const port = rs.port ?? 0;
    const rk = rsKey({ addr: rs.ip, port });
    if (dests[rk]) { problems.push(`${key}: real server ${rk} listed twice, the first one is used`); continue; }
    dests[rk] = destTemplate(rs.ip, port, rs.lvs_method, rs);
    const h: HealthRealServer = {
      addr: rs.ip, port, weight: rs.weight, inhibitOnFailure: rs.inhibit_on_failure,
      smtpAlert: smtpDefault(rs.smtp_alert, global, true), checkers: [],
    };
    if (rs.notify_up) h.notifyUp = rs.notify_up.command;
    if (rs.notify_down) h.notifyDown = rs.notify_down.command;
    realServers.push(h);
    (rs.checker ?? []).forEach((c, i) => {
      const spec = checkerSpec(c, cx);
      const localId = localCheckerId(c.type, i);
      const id = `${key} ${rk} ${localId}`;
      if (typeof spec === "string") { problems.push(`${id}: not run: ${spec}`); return; }
      // FILE_CHECK has no timing of its own: it is read on the real server's delay_loop.
      const timed = c.type === "FILE_CHECK" || c.type === "BFD_CHECK"
        ? { ...c, retry: 0, delay_loop: rs.delay_loop, delay_before_retry: rs.delay_loop, warmup: 0, alpha: false }
        : c;
      checkers.push({ id, localId, vsKey: key, rs: rk, spec, policy: policyOf(timed, global) });
    });
  }
  const health: HealthVirtualServer = {
    vsKey: key, quorum: vs.quorum, hysteresis: vs.hysteresis, omega: vs.omega,
    smtpAlert: smtpDefault(vs.smtp_alert, global, false), realServers,
  };
  if (vs.quorum_up) health.quorumUp = vs.quorum_up.command;
  if (vs.quorum_down) health.quorumDown = vs.quorum_down.command;
  if (vs.sorry_server) {
    const port = vs.sorry_server.port ?? vs.port ?? 0;
    health.sorryServer = { addr: vs.sorry_server.ip, port, weight: 1, inhibit: vs.sorry_server_inhibit };
    const sk = rsKey({ addr: vs.sorry_server.ip, port });
    dests[sk] ??= destTemplate(vs.sorry_server.ip, port, vs.sorry_server_lvs_method ?? vs.lvs_method);
  }
  const services = serviceKeys.map((k) => serviceSettings(vs, k));
  // keepalived: "If VS IP address is not set, suspend healthchecker's activity" (fwmark services have no address).
  const addresses = services.flatMap((sv) => (sv.key.kind === "addr" ? [sv.key.address] : []));
  return { vs: { key, health, services, dests, haSuspendOn: vs.ha_suspend && addresses.length > 0 ? addresses : null }, checkers, problems };
}

/**
 * The IPVS services of one virtual server with the destinations its health state asks for.
 * `drained` rsKeys keep their entry with weight 0 (operator drain: no new connections).
 */
export function ipvsServices(vs: MappedVirtualServer, desired: DesiredVirtualServer, drained: ReadonlySet<string> = new Set()): ServiceWithDests[] {
  const dests: DestConfig[] = [];
  for (const d of desired.dests) {
    const k = rsKey(d);
    const t = vs.dests[k];
    if (!t) continue;
    dests.push({ ...t, weight: drained.has(k) ? 0 : d.weight });
  }
  return vs.services.map((service) => ({ service, dests: dests.map((d) => ({ ...d })) }));
}
