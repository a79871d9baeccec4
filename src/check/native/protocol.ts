// The native check engine's wire format (pure): which checkers it can run, the commands that hand them
// over, the result records it sends back, and those records turned into the CheckResult (with the same
// failure reasons) the JavaScript checkers would have produced. Layouts match engine-c.ts.
import { isIP } from "node:net";
import { LATENCY_BUCKETS_S } from "../../daemon/api-types.ts";
import { connectErrnoReason, literalSockaddr, streamErrnoReason, timeoutFailure } from "../conn.ts";
import { buildRequest, judgeResponse } from "../http.ts";
import { readResponse } from "../http-response.ts";
import { needsSocketOptions } from "../sockopts.ts";
import type { CheckResult, CheckerSpec, ConnectOptions, HttpCheckParams, HttpUrl } from "../types.ts";
import { formatEndpoint } from "../vs-state.ts";

export const CMD_ADD = 1, CMD_SCHEDULE = 2, CMD_REMOVE = 3;
const KIND_TCP = 1, KIND_HTTP = 2;
export const OUT_OK = 1, OUT_CONNECT_ERROR = 2, OUT_BIND_ERROR = 3, OUT_TIMEOUT = 4, OUT_IO_ERROR = 5,
  OUT_HTTP_RESPONSE = 6, OUT_FALLBACK = 7;
const PHASE_HEADERS = 2, PHASE_BODY = 3;
const CMD_HEADER = 16, ADD_FIXED = 176, SCHEDULE_LEN = 32, RESULT_HEADER = 32, MAX_RANGES = 16;

/** Doubles per checker in the engine's counter array, and their meaning. */
export const STATS_PER_SLOT = 24;
const STAT_SUCCESSES = 0, STAT_FAILURES = 1, STAT_COUNT = 2, STAT_SUM_SECONDS = 3, STAT_LAST_AT = 4, STAT_LAST_OK = 5,
  STAT_LAST_LATENCY_MS = 6, STAT_BUCKETS = 8, BUCKETS = LATENCY_BUCKETS_S.length;

/** What the engine needs to run one checker. */
export interface NativeTarget {
  kind: typeof KIND_TCP | typeof KIND_HTTP;
  address: Uint8Array;
  bind?: Uint8Array;
  timeoutMs: number;
  /** HTTP: accepted status ranges (empty: 200-299), the expected MD5, the request bytes. */
  ranges: { from: number; to: number }[];
  digest?: Uint8Array;
  request: Uint8Array;
}

/** bindto / bind_port as a sockaddr of the connect address's family; undefined when there is none to
 *  bind, null when it cannot be expressed (the JavaScript checker then runs it and says why). */
function bindAddress(co: ConnectOptions, v6: boolean): Uint8Array | undefined | null {
  if (co.bindto === undefined && co.bindPort === undefined) return undefined;
  const src = co.bindto ?? (v6 ? "::" : "0.0.0.0");
  if (isIP(src) !== (v6 ? 6 : 4)) return null;
  return literalSockaddr(src, co.bindPort ?? 0) ?? null;
}

function singleUrl(params: HttpCheckParams): HttpUrl | undefined {
  if (params.tls || params.urls.length !== 1) return undefined;
  const url = params.urls[0];
  if (url.regex !== undefined || (url.statusCodes?.length ?? 0) > MAX_RANGES) return undefined;
  if (url.digest !== undefined && !/^[0-9a-fA-F]{32}$/.test(url.digest)) return undefined;
  return url;
}

/**
 * The engine's form of a checker, or undefined when the JavaScript checker must run it: TCP_CHECK and
 * plain HTTP_GET with one url and no regex, to a literal address, without fwmark or bind_if (which
 * sockopts.ts handles). Everything else keeps its JavaScript implementation.
 */
export function nativeTarget(spec: CheckerSpec): NativeTarget | undefined {
  if (spec.kind !== "TCP_CHECK" && spec.kind !== "HTTP_GET") return undefined;
  const co = spec.params;
  if (needsSocketOptions(co) || co.connectPort <= 0 || co.connectPort > 65535) return undefined;
  const address = literalSockaddr(co.connectIp, co.connectPort);
  if (!address) return undefined;
  const bind = bindAddress(co, address.length > 16);
  if (bind === null) return undefined;
  const common = { address, ...(bind ? { bind } : {}), timeoutMs: co.connectTimeoutMs };
  if (spec.kind === "TCP_CHECK") return { kind: KIND_TCP, ...common, ranges: [], request: new Uint8Array(0) };
  const url = singleUrl(spec.params);
  if (!url) return undefined;
  return {
    kind: KIND_HTTP, ...common,
    ranges: url.statusCodes ?? [],
    ...(url.digest ? { digest: Buffer.from(url.digest, "hex") } : {}),
    request: Buffer.from(buildRequest(spec.params, url), "latin1"),
  };
}

function header(length: number, type: number, slot: number, gen: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, length, true);
  view.setUint16(4, type, true);
  view.setUint32(8, slot, true);
  view.setUint32(12, gen, true);
  return { bytes, view };
}

export function encodeAdd(slot: number, gen: number, t: NativeTarget, delayLoopMs: number): Uint8Array {
  const { bytes, view } = header(ADD_FIXED + t.request.length, CMD_ADD, slot, gen);
  bytes[16] = t.kind;
  bytes[17] = t.bind ? 1 : 0;
  bytes[18] = t.ranges.length;
  bytes[19] = t.digest ? 1 : 0;
  view.setUint32(20, Math.max(0, Math.round(t.timeoutMs)), true);
  view.setUint32(24, Math.max(0, Math.round(delayLoopMs)), true);
  view.setUint32(28, t.address.length, true);
  bytes.set(t.address, 32);
  view.setUint32(60, t.bind?.length ?? 0, true);
  if (t.bind) bytes.set(t.bind, 64);
  t.ranges.forEach((r, i) => { view.setUint16(92 + 4 * i, r.from, true); view.setUint16(94 + 4 * i, r.to, true); });
  if (t.digest) bytes.set(t.digest, 156);
  view.setUint32(172, t.request.length, true);
  bytes.set(t.request, ADD_FIXED);
  return bytes;
}

/** Run the checker in `delayMs`. With `steadyStatus` (0 for TCP) a success like the last one is only
 *  counted and re-armed at delay_loop; without it every result comes back. */
export function encodeSchedule(slot: number, gen: number, delayMs: number, steadyStatus: number | null): Uint8Array {
  const { bytes, view } = header(SCHEDULE_LEN, CMD_SCHEDULE, slot, gen);
  view.setFloat64(16, Math.max(0, delayMs), true);
  bytes[24] = steadyStatus === null ? 0 : 1;
  view.setUint16(26, steadyStatus ?? 0, true);
  return bytes;
}

export function encodeRemove(slot: number, gen: number): Uint8Array { return header(CMD_HEADER, CMD_REMOVE, slot, gen).bytes; }

export interface EngineRecord {
  slot: number;
  gen: number;
  outcome: number;
  /** The phase of a timeout or error; for an HTTP response, whether the peer had closed (1) or not. */
  phase: number;
  status: number;
  errno: number;
  received: number;
  latencyMs: number;
  /** The bytes of an HTTP response. */
  response?: Uint8Array;
}

/** Cuts the engine's result stream (which a pipe may split anywhere) into records. */
export class RecordReader {
  private carry: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): EngineRecord[] {
    let buf = chunk;
    if (this.carry.length) { buf = new Uint8Array(this.carry.length + chunk.length); buf.set(this.carry); buf.set(chunk, this.carry.length); }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: EngineRecord[] = [];
    let pos = 0;
    while (buf.length - pos >= RESULT_HEADER) {
      const len = view.getUint32(pos, true);
      if (len < RESULT_HEADER) throw new Error(`native check engine: malformed result record (length ${len})`);
      if (buf.length - pos < len) break;
      out.push({
        slot: view.getUint32(pos + 4, true), gen: view.getUint32(pos + 8, true),
        outcome: buf[pos + 12], phase: buf[pos + 13], status: view.getUint16(pos + 14, true),
        errno: view.getInt32(pos + 16, true), received: view.getUint32(pos + 20, true), latencyMs: view.getFloat64(pos + 24, true),
        ...(len > RESULT_HEADER ? { response: buf.slice(pos + RESULT_HEADER, pos + len) } : {}),
      });
      pos += len;
    }
    this.carry = buf.slice(pos);
    return out;
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function phaseName(spec: CheckerSpec, phase: number): string {
  if (spec.kind !== "HTTP_GET") return phase === 0 ? "connecting" : "waiting for data";
  const path = spec.params.urls[0]?.path ?? "/";
  return phase === PHASE_HEADERS ? `waiting for response headers for GET ${path}`
    : phase === PHASE_BODY ? `reading body for GET ${path}` : "connecting";
}

/**
 * The CheckResult of one engine record, worded as the JavaScript checker would word it; "fallback" when
 * the JavaScript checker must run this check itself (a response too large for the engine, or one the
 * engine could not frame and that JavaScript's reader would have read further).
 */
export function resultOfRecord(spec: CheckerSpec, r: EngineRecord): CheckResult | "fallback" {
  const co = spec.params as ConnectOptions;
  const latencyMs = round(r.latencyMs);
  const fail = (reason: string, detail?: Record<string, string | number | boolean>): CheckResult =>
    ({ ok: false, reason, latencyMs, ...(detail ? { detail } : {}) });
  switch (r.outcome) {
    case OUT_OK: return { ok: true, reason: `connected to ${formatEndpoint(co.connectIp, co.connectPort)}`, latencyMs };
    case OUT_CONNECT_ERROR: case OUT_BIND_ERROR: return fail(connectErrnoReason(co, r.errno));
    case OUT_TIMEOUT: {
      const f = timeoutFailure(co, phaseName(spec, r.phase), r.received);
      return fail(f.reason, f.detail);
    }
    case OUT_IO_ERROR:
      return fail(r.phase === 0 ? connectErrnoReason(co, r.errno) : streamErrnoReason(phaseName(spec, r.phase), r.errno, r.received));
    case OUT_HTTP_RESPONSE: {
      if (spec.kind !== "HTTP_GET") break;
      const url = spec.params.urls[0];
      const res = readResponse(Buffer.from(r.response ?? new Uint8Array(0)), r.phase === 1);
      if (res.kind === "need-more") return "fallback";
      if (res.kind === "error") return fail(`${res.message} for GET ${url.path}`);
      const verdict = judgeResponse(url, res.head, res.body);
      if (verdict.reason) return fail(verdict.reason, { status: res.head.status, digest: verdict.digest, bodyBytes: res.body.length });
      return { ok: true, reason: `GET ${url.path}: HTTP ${res.head.status}`, latencyMs };
    }
    case OUT_FALLBACK: return "fallback";
  }
  return fail(`internal checker error: native check engine outcome ${r.outcome} for ${spec.kind}`);
}

/** One checker's counters as the engine keeps them (every check it ran, steady or reported). */
export interface NativeCounters {
  successes: number;
  failures: number;
  latency: { buckets: number[]; count: number; sumSeconds: number };
  /** Wall-clock ms of the last check's end (0: none yet), its verdict and latency. */
  lastAt: number;
  lastOk: boolean;
  lastLatencyMs: number;
}

export function countersAt(stats: Float64Array, slot: number): NativeCounters {
  const o = slot * STATS_PER_SLOT;
  return {
    successes: stats[o + STAT_SUCCESSES], failures: stats[o + STAT_FAILURES],
    latency: { buckets: Array.from(stats.subarray(o + STAT_BUCKETS, o + STAT_BUCKETS + BUCKETS)), count: stats[o + STAT_COUNT], sumSeconds: stats[o + STAT_SUM_SECONDS] },
    lastAt: Math.round(stats[o + STAT_LAST_AT]), lastOk: stats[o + STAT_LAST_OK] === 1, lastLatencyMs: round(stats[o + STAT_LAST_LATENCY_MS]),
  };
}
