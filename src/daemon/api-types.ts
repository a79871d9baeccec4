// The public control API, version 1: the JSON that `GET /v1/status`, `GET /v1/events` and the
// action endpoints return (docs/api.md describes it for people). Fields are only ever added
// within v1; anything else means /v2.
//
// The children report their status and events as loosely-typed objects over IPC; the adapters
// at the bottom turn those into these types, field by field, so a child that is one version
// behind (a field missing or of the wrong type) yields `null`/defaults instead of a crash.

export const API_VERSION = 1 as const;

export type VrrpState = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";
export const VRRP_STATES: readonly VrrpState[] = ["INIT", "BACKUP", "MASTER", "FAULT", "STOP"];

/** VRRP-MIB counters of one instance (RFC 2787 vrrpRouterStatsTable / RFC 6527), as keepalived keeps them. */
export interface VrrpCountersV1 {
  advertisementsReceived: number;
  advertisementsSent: number;
  becomeMaster: number;
  releaseMaster: number;
  priorityZeroPktsRcvd: number;
  priorityZeroPktsSent: number;
  authFailures: number;
  invalidAuthType: number;
  authTypeMismatch: number;
  ipTtlErrors: number;
  packetLengthErrors: number;
  invalidTypePktsRcvd: number;
  addressListErrors: number;
  advertIntervalErrors: number;
  checksumErrors: number;
  versionErrors: number;
  vridErrors: number;
}
export const VRRP_COUNTER_NAMES: readonly (keyof VrrpCountersV1)[] = [
  "advertisementsReceived", "advertisementsSent", "becomeMaster", "releaseMaster",
  "priorityZeroPktsRcvd", "priorityZeroPktsSent", "authFailures", "invalidAuthType", "authTypeMismatch",
  "ipTtlErrors", "packetLengthErrors", "invalidTypePktsRcvd", "addressListErrors", "advertIntervalErrors",
  "checksumErrors", "versionErrors", "vridErrors",
];

/** `at` is null when the process reported a time that is not wall-clock time (a monotonic clock). */
export interface TransitionV1 { at: number | null; from: VrrpState; to: VrrpState; reason: string }

export interface VrrpInstanceV1 {
  name: string;
  vrid: number | null;
  family: 4 | 6 | null;
  version: 2 | 3 | null;
  interface: string | null;
  state: VrrpState | "UNKNOWN";
  basePriority: number | null;
  effectivePriority: number | null;
  /** The current master's address (this node's own when MASTER), null when not known. */
  masterAddress: string | null;
  masterPriority: number | null;
  lastTransition: TransitionV1 | null;
  /** State transitions since the instance started (null when the VRRP process does not count them). */
  transitions: number | null;
  /** Held in BACKUP by `force-backup` until `resume`. */
  forcedBackup: boolean;
  faults: string[];
  counters: VrrpCountersV1;
  /**
   * keepalived's verdicts on this instance's configuration, as `lbctl check` prints them (a track
   * script disabled, tracking weights ignored, a strict-mode reset): what the instance runs without.
   */
  verdicts?: string[];
  /**
   * A router of this VRID whose adverts are dropped because its configuration differs (VIP list,
   * password, interval): neither takes the other's adverts, so both can be MASTER. Absent when none.
   */
  peerMismatch?: PeerMismatchV1;
}

export interface PeerMismatchV1 {
  peer: string;
  /** The drop reason, as in the counters (addressListMismatch, authFailure, advertIntervalMismatch, ...). */
  reason: string;
  detail: string;
  /** ms since the epoch of the first dropped advert, and how many since. */
  since: number;
  adverts: number;
}

/** IPVS counters (totals since the entry was created) and the kernel's 2-second-estimator rates. */
export interface IpvsStatsV1 {
  conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number;
  cps: number; inPps: number; outPps: number; inBps: number; outBps: number;
}
export const IPVS_STAT_NAMES: readonly (keyof IpvsStatsV1)[] = [
  "conns", "inPkts", "outPkts", "inBytes", "outBytes", "cps", "inPps", "outPps", "inBps", "outBps",
];

/** Upper bounds (seconds) of the checker latency histogram buckets; +Inf is implied. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A latency histogram: `buckets[i]` counts observations <= LATENCY_BUCKETS_S[i] (cumulative). */
export interface LatencyHistogramV1 { buckets: number[]; count: number; sumSeconds: number }

export function emptyLatencyHistogram(): LatencyHistogramV1 {
  return { buckets: LATENCY_BUCKETS_S.map(() => 0), count: 0, sumSeconds: 0 };
}

/** Counts one check's latency into the histogram, in place (the checker records 10,000 a second). */
export function observeLatency(h: LatencyHistogramV1, seconds: number): void {
  for (let i = 0; i < h.buckets.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]) h.buckets[i]++;
  h.count++;
  h.sumSeconds += seconds;
}

export interface CheckResultV1 { at: number; ok: boolean; reason: string; latencyMs: number | null }

export interface CheckerV1 {
  /** Unique within its real server; the `{checker}` of the enable/disable paths. */
  id: string;
  /** TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK ... */
  type: string;
  up: boolean | null;
  /** false after `disable`: the checker does not run and does not count against the real server. */
  enabled: boolean;
  lastResult: CheckResultV1 | null;
  successes: number;
  failures: number;
  latency: LatencyHistogramV1 | null;
}

export type Health = "up" | "down" | "unknown";

export interface RealServerV1 {
  /** `ADDR:PORT` (`[ADDR]:PORT` for IPv6): the `{rs}` of the action paths. */
  key: string;
  address: string;
  port: number;
  health: Health;
  /** Why it is in its current health state (the deciding checker's last reason). */
  reason: string | null;
  /** Weight from the configuration (or misc_dynamic). */
  weight: number | null;
  /** Weight in IPVS now: 0 when drained or inhibited, null when not in the IPVS table. */
  effectiveWeight: number | null;
  drained: boolean;
  activeConns: number | null;
  inactiveConns: number | null;
  stats: IpvsStatsV1 | null;
  checkers: CheckerV1[];
}

export interface VirtualServerV1 {
  /** keepalived's name for it: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`, `FWM 7`: the `{vs}` of the action paths. */
  key: string;
  protocol: string | null;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string | null;
  quorumUp: boolean | null;
  sorryServerActive: boolean;
  stats: IpvsStatsV1 | null;
  realServers: RealServerV1[];
}

export type ChildRole = "vrrp" | "check";

export interface ChildV1 { role: ChildRole; pid: number | null; ready: boolean; restarts: number }

export interface ReloadInfoV1 { at: number; ok: boolean; message: string }

export interface IpvsStateV1 { available: boolean; error: string | null; ownedServices: number }

/** The IPVS block of the checker child's status, tolerant of missing fields. */
export function ipvsFromChild(v: unknown): IpvsStateV1 | null {
  const o = obj(obj(v)?.ipvs);
  if (!o) return null;
  return { available: o.available === true, error: str(o.error) ?? null, ownedServices: count(o.ownedServices) };
}

export interface StatusV1 {
  apiVersion: typeof API_VERSION;
  daemon: {
    version: string;
    pid: number;
    startedAt: number;
    configPath: string;
    /** Why that file: "given with -f", or how the default was chosen (docs/config.md). */
    configReason: string;
    reloadCount: number;
    lastReload: ReloadInfoV1 | null;
  };
  children: ChildV1[];
  vrrp: {
    instances: VrrpInstanceV1[];
    /** Configured instances the VRRP process does not run, and why (e.g. no address to send from). */
    notStarted?: { name: string; reason: string }[];
    /** Packets no instance took: unknown VRID, or not parseable. */
    unmatched: { unknownVrid: number; malformed: number };
  };
  virtualServers: VirtualServerV1[];
  /** The checker child's IPVS: null without a checker child; available false with the reason otherwise. */
  ipvs: IpvsStateV1 | null;
}

/** `POST /v1/reload`: the diagnostics as `FILE:LINE:COL: severity: message`. */
export interface ReloadResultV1 { ok: boolean; errors: string[]; warnings: string[] }

export interface ActionResultV1 { ok: boolean; message: string }

export interface ApiErrorV1 { error: { code: string; message: string } }

// ---------------------------------------------------------------------------
// Events: one JSON object per line on GET /v1/events. `seq` increases by one per event, so a
// client that reconnects with ?since=SEQ sees what it missed (as far as the buffer reaches).

interface EventBase { seq: number; at: number; message: string }

export type EventV1 = EventBase & (
  | { type: "vrrp-transition"; instance: string; from: VrrpState; to: VrrpState; reason: string }
  | { type: "real-server"; vs: string; rs: string; health: "up" | "down"; reason: string }
  | { type: "quorum"; vs: string; up: boolean; reason: string }
  | { type: "drain"; vs: string; rs: string; drained: boolean }
  | { type: "checker"; vs: string; rs: string; checker: string; enabled: boolean }
  | { type: "vrrp-control"; instance: string; forcedBackup: boolean }
  /** Adverts of a router of the instance's VRID dropped for a configuration mismatch (`over`: none for three intervals). */
  | { type: "vrrp-peer-mismatch"; instance: string; peer: string; reason: string; detail: string; over: boolean }
  | { type: "reload"; ok: boolean; errors: number; warnings: number }
  | { type: "child"; role: ChildRole; pid: number | null; change: "started" | "exited" | "restarted"; detail: string }
  /** Anything a child reports that has no type above: passed on, not interpreted. */
  | { type: "other"; source: string; data: Record<string, unknown> }
);

/** An event before the event log numbers and stamps it. */
export type EventInput = EventV1 extends infer E ? E extends EventV1 ? Omit<E, "seq" | "at"> : never : never;

// ---------------------------------------------------------------------------
// Adapters: loosely-typed child objects -> v1. Nothing here throws.

type Loose = Record<string, unknown>;

function obj(v: unknown): Loose | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Loose) : null;
}
function arr(v: unknown): unknown[] { return Array.isArray(v) ? v : []; }
function num(v: unknown): number | null { return typeof v === "number" && Number.isFinite(v) ? v : null; }
function str(v: unknown): string | null { return typeof v === "string" ? v : null; }
function bool(v: unknown): boolean | null { return typeof v === "boolean" ? v : null; }
function count(v: unknown): number { const n = num(v); return n !== null && n >= 0 ? n : 0; }

function vrrpState(v: unknown): VrrpState | null {
  return typeof v === "string" && (VRRP_STATES as readonly string[]).includes(v) ? (v as VrrpState) : null;
}

/** `ADDR:PORT`, bracketing IPv6 as keepalived and the checker process print it. */
export function endpointKey(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Unix ms before 2001-09-09: a monotonic reading (ms since the process started), not a date. */
const WALL_CLOCK_MIN_MS = 1e12;

function wallClock(v: unknown): number | null {
  const n = num(v);
  return n !== null && n >= WALL_CLOCK_MIN_MS ? n : null;
}

function transition(v: unknown): TransitionV1 | null {
  const o = obj(v);
  if (!o) return null;
  const from = vrrpState(o.from), to = vrrpState(o.to);
  if (!from || !to) return null;
  return { at: wallClock(o.at), from, to, reason: str(o.reason) ?? "" };
}

function vrrpCounters(v: unknown): VrrpCountersV1 {
  const o = obj(v) ?? {};
  const c = {} as VrrpCountersV1;
  for (const k of VRRP_COUNTER_NAMES) c[k] = count(o[k]);
  return c;
}

export function vrrpInstanceFromChild(v: unknown): VrrpInstanceV1 | null {
  const o = obj(v);
  const name = o && str(o.name);
  if (!o || !name) return null;
  const family = num(o.family), version = num(o.version);
  return {
    name,
    vrid: num(o.vrid),
    family: family === 4 || family === 6 ? family : null,
    version: version === 2 || version === 3 ? version : null,
    interface: str(o.interface),
    state: vrrpState(o.state) ?? "UNKNOWN",
    basePriority: num(o.basePriority),
    effectivePriority: num(o.effectivePriority),
    masterAddress: str(o.masterAddress),
    masterPriority: num(o.masterPriority),
    lastTransition: transition(o.lastTransition),
    transitions: num(o.transitions),
    forcedBackup: bool(o.forcedBackup) ?? false,
    faults: arr(o.faults).filter((f): f is string => typeof f === "string"),
    counters: vrrpCounters(o.stats ?? o.counters),
    verdicts: arr(o.verdicts).filter((f): f is string => typeof f === "string"),
    ...peerMismatch(o.peerMismatch),
  };
}

function peerMismatch(v: unknown): { peerMismatch?: PeerMismatchV1 } {
  const o = obj(v);
  const peer = o && str(o.peer);
  if (!o || !peer) return {};
  return { peerMismatch: { peer, reason: str(o.reason) ?? "", detail: str(o.detail) ?? "", since: num(o.since) ?? 0, adverts: count(o.adverts) } };
}

/** The VRRP process's status (`{instances, unmatched}`) -> the `vrrp` part of StatusV1. */
export function vrrpFromChild(status: unknown): StatusV1["vrrp"] {
  const o = obj(status) ?? {};
  const unmatched = obj(o.unmatched) ?? {};
  const notStarted = arr(o.notStarted).map(obj).filter((n): n is Record<string, unknown> => n !== null && str(n.name) !== null)
    .map((n) => ({ name: str(n.name)!, reason: str(n.reason) ?? "" }));
  return {
    instances: arr(o.instances).map(vrrpInstanceFromChild).filter((i): i is VrrpInstanceV1 => i !== null),
    ...(notStarted.length > 0 ? { notStarted } : {}),
    unmatched: { unknownVrid: count(unmatched.unknownVrid), malformed: count(unmatched.malformed) },
  };
}

function ipvsStats(v: unknown): IpvsStatsV1 | null {
  const o = obj(v);
  if (!o) return null;
  const s = {} as IpvsStatsV1;
  for (const k of IPVS_STAT_NAMES) s[k] = count(o[k]);
  return s;
}

function latency(v: unknown): LatencyHistogramV1 | null {
  const o = obj(v);
  if (!o) return null;
  const buckets = arr(o.buckets).map(count);
  const total = num(o.count), sum = num(o.sumSeconds);
  // A histogram with other bucket bounds cannot be rendered truthfully: leave it out.
  if (buckets.length !== LATENCY_BUCKETS_S.length || total === null || sum === null) return null;
  return { buckets, count: total, sumSeconds: sum };
}

function checkResult(v: unknown): CheckResultV1 | null {
  const o = obj(v);
  if (!o) return null;
  const at = wallClock(o.at), ok = bool(o.ok);
  if (at === null || ok === null) return null;
  return { at, ok, reason: str(o.reason) ?? "", latencyMs: num(o.latencyMs) };
}

function checkerFromChild(v: unknown, index: number): CheckerV1 | null {
  const o = obj(v);
  if (!o) return null;
  return {
    id: str(o.id) ?? String(index),
    type: str(o.type) ?? "unknown",
    up: bool(o.up),
    enabled: bool(o.enabled) ?? true,
    lastResult: checkResult(o.lastResult),
    successes: count(o.successes),
    failures: count(o.failures),
    latency: latency(o.latency),
  };
}

function health(o: Loose): Health {
  if (o.health === "up" || o.health === "down") return o.health;
  const alive = bool(o.alive) ?? bool(o.up);
  return alive === null ? "unknown" : alive ? "up" : "down";
}

function realServerFromChild(v: unknown): RealServerV1 | null {
  const o = obj(v);
  if (!o) return null;
  const address = str(o.address) ?? str(o.addr), port = num(o.port);
  if (address === null || port === null) return null;
  return {
    key: str(o.key) ?? endpointKey(address, port),
    address,
    port,
    health: health(o),
    reason: str(o.reason),
    weight: num(o.weight),
    effectiveWeight: num(o.effectiveWeight),
    drained: bool(o.drained) ?? false,
    activeConns: num(o.activeConns),
    inactiveConns: num(o.inactiveConns),
    stats: ipvsStats(o.stats),
    checkers: arr(o.checkers).map(checkerFromChild).filter((c): c is CheckerV1 => c !== null),
  };
}

export function virtualServerFromChild(v: unknown): VirtualServerV1 | null {
  const o = obj(v);
  const key = o && (str(o.key) ?? str(o.vsKey));
  if (!o || !key) return null;
  return {
    key,
    protocol: str(o.protocol),
    address: str(o.address),
    port: num(o.port),
    fwmark: num(o.fwmark),
    scheduler: str(o.scheduler),
    quorumUp: bool(o.quorumUp),
    sorryServerActive: bool(o.sorryServerActive) ?? bool(o.sorryActive) ?? false,
    stats: ipvsStats(o.stats),
    realServers: arr(o.realServers).map(realServerFromChild).filter((r): r is RealServerV1 => r !== null),
  };
}

/** The checker process's status (`{virtualServers}`) -> the `virtualServers` part of StatusV1. */
export function virtualServersFromChild(status: unknown): VirtualServerV1[] {
  const o = obj(status) ?? {};
  return arr(o.virtualServers).map(virtualServerFromChild).filter((v): v is VirtualServerV1 => v !== null);
}

function oneLine(s: string): string { return s.replace(/\s+/g, " ").trim(); }

/**
 * A child's event -> EventInput. Understands the VRRP runtime's `{type:"transition"}` and the
 * health state's `rs-up`/`rs-down`/`quorum-up`/`quorum-down`; anything else is passed on as "other".
 */
export function eventFromChild(role: ChildRole, v: unknown): EventInput {
  const o = obj(v) ?? {};
  const type = str(o.type);
  if (type === "transition") {
    const instance = str(o.instance), from = vrrpState(o.from), to = vrrpState(o.to);
    if (instance && from && to) {
      const reason = str(o.reason) ?? "";
      return { type: "vrrp-transition", instance, from, to, reason, message: oneLine(`${instance}: ${from} -> ${to}${reason ? ` (${reason})` : ""}`) };
    }
  }
  if (type === "peerMismatch") {
    const instance = str(o.instance), peer = str(o.peer);
    if (instance && peer) {
      const over = bool(o.over) ?? false, reason = str(o.reason) ?? "", detail = str(o.detail) ?? "";
      return {
        type: "vrrp-peer-mismatch", instance, peer, reason, detail, over,
        message: oneLine(over ? `${instance}: no more mismatched adverts from ${peer}` : `${instance}: adverts of ${peer} dropped (${detail}): both can be MASTER`),
      };
    }
  }
  if (type === "rs-up" || type === "rs-down") {
    const vs = str(o.vsKey) ?? str(o.vs), rs = str(o.rs);
    if (vs && rs) {
      const h = type === "rs-up" ? "up" : "down";
      const reason = str(o.reason) ?? "";
      return { type: "real-server", vs, rs, health: h, reason, message: oneLine(`${vs} real server ${rs} ${h}${reason ? ` (${reason})` : ""}`) };
    }
  }
  if (type === "quorum-up" || type === "quorum-down") {
    const vs = str(o.vsKey) ?? str(o.vs);
    if (vs) {
      const up = type === "quorum-up";
      const reason = str(o.reason) ?? "";
      return { type: "quorum", vs, up, reason, message: oneLine(`${vs} quorum ${up ? "gained" : "lost"}${reason ? ` (${reason})` : ""}`) };
    }
  }
  return { type: "other", source: role, data: o, message: oneLine(`${role}: ${type ?? "event"}`) };
}
