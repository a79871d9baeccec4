// PING_CHECK: one ICMP / ICMPv6 echo request, success on the matching echo reply within connect_timeout.
// Uses an unprivileged ICMP datagram socket (the kernel fills the id and checksum and filters replies);
// when net.ipv4.ping_group_range forbids it (EACCES), falls back to a raw socket, which root may open.
// The socket is non-blocking and polled from timers, so the event loop never blocks.
// Being an ffi socket, it supports bind_if (SO_BINDTODEVICE) and fwmark (SO_MARK) like the others.
import { isIPv6 } from "node:net";
import * as libc from "../../ffi/libc.ts";
import { timed } from "./conn.ts";
import { CheckFailure } from "./errors.ts";
import { applySocketOptions, pollDelay, sockaddr, sysReason } from "./sockopts.ts";
import type { CheckResult, PingCheckParams } from "./types.ts";

const ICMP_ECHO_REQUEST = 8, ICMP_ECHO_REPLY = 0, ICMP6_ECHO_REQUEST = 128, ICMP6_ECHO_REPLY = 129;
const ICMP_UNREACH = 3, ICMP6_UNREACH = 1;

/** Internet checksum (RFC 1071). */
export function inetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.length % 2) sum += data[data.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildEcho(v6: boolean, id: number, seq: number, payload: Uint8Array): Uint8Array {
  const pkt = new Uint8Array(8 + payload.length);
  const v = new DataView(pkt.buffer);
  pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO_REQUEST;
  v.setUint16(4, id, false);
  v.setUint16(6, seq, false);
  pkt.set(payload, 8);
  if (!v6) v.setUint16(2, inetChecksum(pkt), false); // ICMPv6 checksums are filled by the kernel
  return pkt;
}

export type EchoMatch = "reply" | "unreachable" | "other";

/** Classify an ICMP message (without IP header). With `id` undefined (datagram sockets) the kernel has
 *  already matched the id. */
export function classifyIcmp(v6: boolean, msg: Uint8Array, id: number | undefined, seq: number): EchoMatch {
  if (msg.length < 8) return "other";
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const type = msg[0];
  if (type === (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHO_REPLY)) {
    if (id !== undefined && v.getUint16(4, false) !== id) return "other";
    return v.getUint16(6, false) === seq ? "reply" : "other";
  }
  if (type === (v6 ? ICMP6_UNREACH : ICMP_UNREACH)) {
    if (id === undefined) return "unreachable";
    // Raw sockets see every ICMP error: only one quoting our own echo request counts.
    const inner = msg.subarray(8);
    const ipLen = v6 ? 40 : (inner[0] & 0x0f) * 4;
    if (inner.length < ipLen + 8) return "other";
    const quotedId = (inner[ipLen + 4] << 8) | inner[ipLen + 5];
    return quotedId === id ? "unreachable" : "other";
  }
  return "other";
}

interface IcmpSocket { fd: number; raw: boolean }

function openSocket(v6: boolean): IcmpSocket {
  const family = v6 ? libc.AF_INET6 : libc.AF_INET;
  const proto = v6 ? libc.IPPROTO_ICMPV6 : libc.IPPROTO_ICMP;
  try {
    return { fd: libc.socket(family, libc.SOCK_DGRAM | libc.SOCK_NONBLOCK, proto), raw: false };
  } catch (e) {
    if (!(e instanceof libc.SysError) || (e.code !== "EACCES" && e.code !== "EPERM")) throw e;
  }
  try {
    return { fd: libc.socket(family, libc.SOCK_RAW | libc.SOCK_NONBLOCK, proto), raw: true };
  } catch (e) {
    if (e instanceof libc.SysError) {
      throw new CheckFailure(`cannot open an ICMP socket: ${e.code} (${libc.strerror(e.errno)}); allow it with sysctl net.ipv4.ping_group_range or run as root`);
    }
    throw e;
  }
}

export function run(params: PingCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    const v6 = isIPv6(params.connectIp);
    const sock = openSocket(v6);
    try {
      const scopeId = applySocketOptions(sock.fd, params, v6);
      const id = Math.floor(Math.random() * 0xffff);
      const seq = 1;
      const dest = sockaddr(v6, params.connectIp, 0, scopeId);
      try {
        libc.sendto(sock.fd, buildEcho(v6, id, seq, new TextEncoder().encode("lbctl-ping-check")), 0, dest);
      } catch (e) {
        throw new CheckFailure(sysReason(`ICMP echo to ${params.connectIp}`, e));
      }
      const deadline = performance.now() + params.connectTimeoutMs;
      const buf = new Uint8Array(1500);
      for (let attempt = 0; ; attempt++) {
        if (signal?.aborted) throw new CheckFailure("check aborted");
        let got: libc.RecvFromResult | null;
        try { got = libc.recvfrom(sock.fd, buf); } catch (e) { throw new CheckFailure(sysReason(`ICMP echo to ${params.connectIp}`, e)); }
        if (got) {
          let msg = buf.subarray(0, got.length);
          if (sock.raw && !v6) msg = msg.subarray((msg[0] & 0x0f) * 4); // raw IPv4 includes the IP header
          const from = libc.decodeSockaddr(got.from);
          const fromTarget = from !== null && sameAddress(from.address, dest, v6);
          const kind = classifyIcmp(v6, msg, sock.raw ? id : undefined, seq);
          if (kind === "reply" && fromTarget) {
            return { ok: true, reason: `ICMP${v6 ? "v6" : ""} echo reply from ${params.connectIp}` };
          }
          if (kind === "unreachable") throw new CheckFailure(`ICMP${v6 ? "v6" : ""} destination unreachable (code ${msg[1]}) for ${params.connectIp}`);
          continue;
        }
        if (performance.now() >= deadline) throw new CheckFailure(`timeout after ${params.connectTimeoutMs} ms waiting for ICMP${v6 ? "v6" : ""} echo reply from ${params.connectIp}`, { timeout: true });
        await pollDelay(attempt);
      }
    } finally {
      libc.close(sock.fd);
    }
  });
}

function sameAddress(addr: Uint8Array, sockaddr: Uint8Array, v6: boolean): boolean {
  const want = v6 ? sockaddr.subarray(8, 24) : sockaddr.subarray(4, 8);
  return addr.length === want.length && addr.every((b, i) => b === want[i]);
}
