// UDP_CHECK: send a datagram on a connected UDP socket. An ICMP error (port/host unreachable, reported
// by the kernel as ECONNREFUSED/EHOSTUNREACH on the connected socket) fails the check. With require_reply
// a reply must arrive within connect_timeout and match length and content; without it, silence until
// connect_timeout is success (keepalived's rule).
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { randomBytes } from "node:crypto";
import * as libc from "../../ffi/libc.ts";
import { connectErrorReason, timed } from "./conn.ts";
import { CheckFailure, describeError, errorCode } from "./errors.ts";
import { needsSocketOptions, openConfiguredSocket, pollDelay, sysReason } from "./sockopts.ts";
import type { CheckResult, ConnectOptions, UdpCheckParams } from "./types.ts";
import { formatEndpoint } from "./vs-state.ts";

/** Parse keepalived's free-form HEX_STR: "Ab12f 3 456" is AB 12 0F 03 45 06. X/x nibbles are "don't care": their mask nibble is set. */
export function parseHexString(text: string): { data: Uint8Array; mask: Uint8Array; hasMask: boolean } | string {
  const data: number[] = [];
  const mask: number[] = [];
  let hasMask = false;
  for (const group of text.trim().split(/\s+/).filter(Boolean)) {
    if (!/^[0-9a-fA-FxX]+$/.test(group)) return `invalid hex string group ${JSON.stringify(group)}`;
    // Pairs from the left; a lone last nibble is the low nibble of its byte ("f" -> 0F).
    for (let i = 0; i < group.length; i += 2) {
      const pair = i + 1 < group.length ? [group[i], group[i + 1]] : ["0", group[i]];
      let d = 0;
      let m = 0;
      for (const [j, ch] of pair.entries()) {
        const shift = j === 0 ? 4 : 0;
        if (ch === "x" || ch === "X") { m |= 0xf << shift; hasMask = true; } else d |= parseInt(ch, 16) << shift;
      }
      data.push(d);
      mask.push(m);
    }
  }
  return { data: Uint8Array.from(data), mask: Uint8Array.from(mask), hasMask };
}

/** Why `reply` does not satisfy the check, or undefined when it does (keepalived's check_udp_reply). */
export function judgeUdpReply(params: UdpCheckParams, reply: Uint8Array): string | undefined {
  if (reply.length < params.minReplyLength || reply.length > params.maxReplyLength) {
    return `reply length ${reply.length} outside ${params.minReplyLength}-${params.maxReplyLength}`;
  }
  const want = params.replyData;
  if (!want) return undefined;
  const n = Math.min(want.length, reply.length);
  for (let i = 0; i < n; i++) {
    const care = ~(params.replyMask?.[i] ?? 0) & 0xff;
    if (((reply[i] ^ want[i]) & care) !== 0) {
      return `reply byte ${i} is 0x${reply[i].toString(16).padStart(2, "0")}, expected 0x${want[i].toString(16).padStart(2, "0")}`;
    }
  }
  return undefined;
}

/** How the kernel reports an ICMP error on a connected UDP socket. */
function icmpReason(what: string, code: string | undefined, text: string): CheckFailure {
  const icmp = code === "ECONNREFUSED" ? "ICMP port unreachable" : code === "EHOSTUNREACH" ? "ICMP host unreachable"
    : code === "ENETUNREACH" ? "ICMP network unreachable" : "error";
  return new CheckFailure(`${what}: ${icmp}: ${text}`, { icmp: icmp !== "error" });
}

function silence(co: ConnectOptions, wantReply: boolean, what: string): CheckFailure | undefined {
  return wantReply ? new CheckFailure(`timeout after ${co.connectTimeoutMs} ms waiting for a reply to ${what}`, { timeout: true }) : undefined;
}

/** Send `payload` and wait for one reply. Resolves undefined on silence until connect_timeout when
 *  `wantReply` is false; throws CheckFailure on ICMP errors, bind errors and (with wantReply) silence. */
export function udpExchange(co: ConnectOptions, payload: Uint8Array, wantReply: boolean, signal: AbortSignal | undefined,
  what: string): Promise<Buffer | undefined> {
  return needsSocketOptions(co) ? exchangeWithOptions(co, payload, wantReply, signal, what) : exchangeDgram(co, payload, wantReply, signal, what);
}

function exchangeDgram(co: ConnectOptions, payload: Uint8Array, wantReply: boolean, signal: AbortSignal | undefined,
  what: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(isIPv6(co.connectIp) ? "udp6" : "udp4");
    let done = false;
    let phase = "binding";
    const finish = (err: CheckFailure | undefined, value?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      try { sock.close(); } catch { /* already closed */ }
      if (err) reject(err); else resolve(value);
    };
    const onAbort = () => finish(new CheckFailure("check aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => finish(silence(co, wantReply, what)), co.connectTimeoutMs);
    sock.on("error", (e) => {
      if (phase === "binding" || phase === "connecting") { finish(new CheckFailure(connectErrorReason(co, e))); return; }
      finish(icmpReason(what, errorCode(e), describeError(e)));
    });
    sock.on("message", (msg) => finish(undefined, msg));
    const connect = () => {
      phase = "connecting";
      sock.connect(co.connectPort, co.connectIp, () => {
        phase = "exchanging";
        sock.send(payload, (e) => { if (e) finish(new CheckFailure(`${what}: send failed: ${describeError(e)}`)); });
      });
    };
    if (co.bindto !== undefined || co.bindPort !== undefined) {
      sock.bind({ address: co.bindto, port: co.bindPort ?? 0, exclusive: true }, connect);
    } else {
      connect();
    }
  });
}

/** fwmark / bind_if: the same exchange on an ffi socket, polled from timers. */
async function exchangeWithOptions(co: ConnectOptions, payload: Uint8Array, wantReply: boolean, signal: AbortSignal | undefined,
  what: string): Promise<Buffer | undefined> {
  const deadline = performance.now() + co.connectTimeoutMs;
  const fd = openConfiguredSocket(co, libc.SOCK_DGRAM);
  try {
    try { libc.sendto(fd, payload); } catch (e) { throw new CheckFailure(`${what}: send failed: ${sysReason("sendto", e)}`); }
    const buf = new Uint8Array(65_536);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new CheckFailure("check aborted");
      let got: libc.RecvFromResult | null;
      try { got = libc.recvfrom(fd, buf); } catch (e) {
        if (e instanceof libc.SysError) throw icmpReason(what, e.code, `${e.code} (${libc.strerror(e.errno)})`);
        throw e;
      }
      if (got) return Buffer.from(buf.subarray(0, got.length));
      if (performance.now() >= deadline) {
        const f = silence(co, wantReply, what);
        if (f) throw f;
        return undefined;
      }
      await pollDelay(attempt);
    }
  } finally {
    libc.close(fd);
  }
}

export function run(params: UdpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    const target = formatEndpoint(params.connectIp, params.connectPort);
    const payload = params.payload ?? randomBytes(16);
    const reply = await udpExchange(params, payload, params.requireReply, signal, `UDP datagram to ${target}`);
    if (!params.requireReply) return { ok: true, reason: reply ? `reply from ${target}` : `no ICMP error from ${target} within ${params.connectTimeoutMs} ms` };
    if (!reply) throw new CheckFailure(`no reply from ${target}`);
    const bad = judgeUdpReply(params, reply);
    if (bad) throw new CheckFailure(`UDP reply from ${target}: ${bad}`, { replyHex: reply.subarray(0, 64).toString("hex") });
    return { ok: true, reason: `UDP reply from ${target} (${reply.length} bytes)`, detail: { replyBytes: reply.length } };
  });
}
