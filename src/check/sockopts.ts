// Checker sockets that need options Bun's node:net/dgram cannot set before connecting: fwmark (SO_MARK)
// and bind_if (SO_BINDTODEVICE, also the scope of a link-local bindto). The socket is made through
// ffi/libc.ts, configured, bound and connected without blocking (connect completion is polled from
// timers), and only then handed to Bun (TCP) or polled for datagrams (UDP).
import { isIPv6 } from "node:net";
import { Duplex } from "node:stream";
import * as libc from "../../ffi/libc.ts";
import { CheckFailure } from "./errors.ts";
import type { ConnectOptions } from "./types.ts";
import { formatEndpoint } from "./vs-state.ts";

const SO_MARK = 36;
const SO_ERROR = 4;
const EINPROGRESS = "EINPROGRESS";

/** Whether these connection options need the ffi path. */
export function needsSocketOptions(co: ConnectOptions): boolean {
  return co.fwmark !== undefined || co.bindIf !== undefined;
}

export function sysReason(what: string, e: unknown): string {
  return e instanceof libc.SysError ? `${what} failed: ${e.code} (${libc.strerror(e.errno)})` : `${what} failed: ${String(e)}`;
}

export function sockaddr(v6: boolean, addr: string, port: number, scopeId: number): Uint8Array {
  return v6 ? libc.sockaddrIn6(addr, port, scopeId) : libc.sockaddrIn(addr, port);
}

/** Sleep for polling loops: short at first, then at most 10 ms. */
export function pollDelay(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(10, 1 << Math.min(attempt, 4))));
}

/** SO_MARK, SO_BINDTODEVICE and bind on a fresh socket, as the connection options say. Returns the
 *  interface index to use as IPv6 scope id (0 without bind_if). Throws CheckFailure naming the option. */
export function applySocketOptions(fd: number, co: ConnectOptions, v6: boolean): number {
  if (co.fwmark !== undefined) {
    try { libc.setsockopt(fd, libc.SOL_SOCKET, SO_MARK, co.fwmark); } catch (e) { throw new CheckFailure(sysReason(`fwmark ${co.fwmark}`, e)); }
  }
  let scopeId = 0;
  if (co.bindIf !== undefined) {
    try { libc.setsockopt(fd, libc.SOL_SOCKET, libc.SO_BINDTODEVICE, libc.cString(co.bindIf)); } catch (e) { throw new CheckFailure(sysReason(`bind_if ${co.bindIf}`, e)); }
    try { scopeId = libc.ifNameToIndex(co.bindIf); } catch { scopeId = 0; }
  }
  if (co.bindto !== undefined || co.bindPort !== undefined) {
    const src = co.bindto ?? (v6 ? "::" : "0.0.0.0");
    try { libc.bind(fd, sockaddr(v6, src, co.bindPort ?? 0, scopeId)); } catch (e) {
      throw new CheckFailure(sysReason(`bindto ${co.bindPort !== undefined ? formatEndpoint(src, co.bindPort) : src}`, e));
    }
  }
  return scopeId;
}

/** socket + options + non-blocking connect. Returns the fd (a TCP connect may still be in progress).
 *  Throws CheckFailure naming what failed; closes the fd on failure. */
export function openConfiguredSocket(co: ConnectOptions, type: number): number {
  const v6 = isIPv6(co.connectIp);
  let fd: number;
  try {
    fd = libc.socket(v6 ? libc.AF_INET6 : libc.AF_INET, type | libc.SOCK_NONBLOCK, 0);
  } catch (e) {
    throw new CheckFailure(sysReason("socket", e));
  }
  try {
    const scopeId = applySocketOptions(fd, co, v6);
    try { libc.connect(fd, sockaddr(v6, co.connectIp, co.connectPort, scopeId)); } catch (e) {
      if (!(e instanceof libc.SysError && e.code === EINPROGRESS)) throw new CheckFailure(sysReason(`connect to ${formatEndpoint(co.connectIp, co.connectPort)}`, e));
    }
    return fd;
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

/** A TCP connection made with socket options, as a Duplex stream (TLS can be layered on it). */
export async function connectTcpWithOptions(co: ConnectOptions, deadline: number, signal?: AbortSignal): Promise<Duplex> {
  const fd = openConfiguredSocket(co, libc.SOCK_STREAM);
  const target = formatEndpoint(co.connectIp, co.connectPort);
  try {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new CheckFailure("check aborted");
      const [revents] = libc.poll([{ fd, events: libc.POLLOUT }], 0);
      if (revents) break;
      if (performance.now() >= deadline) throw new CheckFailure(`timeout after ${co.connectTimeoutMs} ms connecting (received 0 bytes)`, { timeout: true, receivedBytes: 0 });
      await pollDelay(attempt);
    }
    const err = libc.getsockoptInt(fd, libc.SOL_SOCKET, SO_ERROR);
    if (err !== 0) throw new CheckFailure(sysReason(`connect to ${target}`, new libc.SysError("connect", err)));
  } catch (e) {
    libc.close(fd);
    throw e;
  }
  return bunSocketDuplex(fd);
}

/** Bridge a connected fd to a Duplex through Bun.connect({ fd }) (node:net cannot adopt an fd in Bun). */
async function bunSocketDuplex(fd: number): Promise<Duplex> {
  let sock: { write(d: Uint8Array): number; end(): void; terminate(): void } | undefined;
  const pending: Buffer[] = [];
  const duplex = new Duplex({
    read() { /* data is pushed as it arrives */ },
    write(chunk: Buffer, _enc, cb) { if (sock) sock.write(chunk); else pending.push(chunk); cb(); },
    final(cb) { sock?.end(); cb(); },
    destroy(err, cb) { sock?.terminate(); cb(err); },
  });
  // bun-types does not declare the `fd` form of Bun.connect; the shape below is what Bun accepts.
  const options = {
    fd,
    socket: {
      data(_s: unknown, d: Uint8Array) { duplex.push(Buffer.from(d)); },
      end() { duplex.push(null); },
      close() { duplex.push(null); },
      error(_s: unknown, e: Error) { duplex.destroy(e); },
    },
  };
  sock = await Bun.connect(options as unknown as Parameters<typeof Bun.connect>[0]);
  for (const p of pending.splice(0)) sock.write(p);
  return duplex;
}
