// Shared imperative shell of the stream checkers (TCP, HTTP, SSL, SMTP): one TCP or TLS connection whose
// WHOLE exchange is bounded by connect_timeout, and which knows what it was waiting for when time ran
// out, so that a timeout reads "timeout after 5000 ms waiting for response headers (received 12 bytes)".
//
// Plain TCP (no TLS, bindto, bind_port, fwmark or bind_if) runs on Bun's native socket: node:net's
// streams and emitters cost about four times the CPU per connection, and the checker makes 10,000 a
// second. The socket is made and connected (non-blocking) through ffi and then adopted with
// Bun.connect({ fd }), not opened with Bun.connect({ hostname }): a connect in progress there cannot be
// cancelled, so a server that drops SYNs would keep the descriptor for the kernel's whole SYN retry time
// (about 2 minutes) after the check timed out. Failure reasons are the same on both paths.
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { Socket as NativeSocket, SocketHandler, TCPSocketConnectOptions } from "bun";
import { errnoName } from "../../ffi/errno.ts";
import * as libc from "../../ffi/libc.ts";
import { CheckFailure, describeError, errorCode } from "./errors.ts";
import type { CheckResult, ConnectOptions } from "./types.ts";
import { connectTcpWithOptions, needsSocketOptions } from "./sockopts.ts";
import { formatEndpoint } from "./vs-state.ts";

/** Connect-time errors that come from binding the source address rather than from the peer. */
const BIND_ERRORS = new Set(["EADDRNOTAVAIL", "EADDRINUSE", "EACCES", "EINVAL"]);

export function connectErrorReason(co: ConnectOptions, err: unknown): string {
  const code = errorCode(err);
  if ((co.bindto !== undefined || co.bindPort !== undefined) && code && BIND_ERRORS.has(code)) {
    const src = co.bindPort !== undefined ? formatEndpoint(co.bindto ?? "*", co.bindPort) : co.bindto;
    return `bindto ${src} failed: ${describeError(err)}`;
  }
  return `connect to ${formatEndpoint(co.connectIp, co.connectPort)} failed: ${describeError(err)}`;
}

export interface TlsSetup {
  servername?: string;
  /** Verify the chain (against `ca` or the system store) and the name `verifyName`. */
  verify: boolean;
  verifyName?: string;
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

/** What read() waits for: a value (and the bytes it used) from the unconsumed bytes, or undefined for more. */
type ReadPick<T> = (buf: Buffer, ended: boolean) => { value: T; consumed: number } | undefined;

const EMPTY = Buffer.alloc(0);
const ONCE = { once: true };

/** A stream with an overall deadline. `phase` names what we wait for, for the timeout message. */
export class StreamConn {
  private buf: Buffer = EMPTY;
  private received = 0;
  private ended = false;
  private connected = false;
  private failure: CheckFailure | undefined;
  private wake: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bun's socket on the native path (set by nativeHandlers.open, during adoption). */
  private native: NativeSocket<StreamConn> | undefined;
  /** Bytes the native socket did not take yet; written on 'drain'. */
  private unsent: Buffer | undefined;
  /** The node:net/node:tls stream on the other paths, and its listeners (kept to hand the socket to TLS). */
  private stream: Duplex | undefined;
  private streamListeners: { data(d: Buffer): void; end(): void; error(e: Error): void } | undefined;
  /** The TCP stream under a TLS one: destroyed with it, so no descriptor outlives the check. */
  private inner: Duplex | undefined;
  phase = "connecting";

  private constructor(private readonly co: ConnectOptions, startedAt: number, signal: AbortSignal | undefined) {
    this.timer = setTimeout(StreamConn.onDeadline, Math.max(0, co.connectTimeoutMs - (performance.now() - startedAt)), this);
    signal?.addEventListener("abort", this, ONCE);
  }

  /** The AbortSignal's listener (an object rather than a closure per check). */
  handleEvent(): void { this.fail(new CheckFailure("check aborted")); }

  private attachStream(socket: Duplex, inner?: Duplex): void {
    this.stream = socket;
    this.inner = inner;
    const l = this.streamListeners = {
      data: (d: Buffer) => this.onData(d),
      end: () => this.onEnd(),
      error: (e: Error) => this.onError(e),
    };
    socket.on("data", l.data);
    socket.on("end", l.end);
    socket.on("close", l.end);
    socket.on("error", l.error);
  }

  /** Hand the stream over (to TLS): stop listening and stop the timer, without closing it. */
  private detach(): Duplex {
    this.stopTimer();
    const socket = this.stream as Duplex;
    const l = this.streamListeners;
    if (l) {
      socket.off("data", l.data);
      socket.off("end", l.end);
      socket.off("close", l.end);
      socket.off("error", l.error);
    }
    // From now on errors surface on the TLS socket; an unheard 'error' on the raw one would throw.
    socket.on("error", () => {});
    return socket;
  }

  private static onDeadline(conn: StreamConn): void { conn.fail(timeoutFailure(conn.co, conn.phase, conn.received)); }

  private static isConnected(c: StreamConn): true | undefined { return c.connected || undefined; }

  /** One handler set for every native connection; the connection itself is the socket's `data`.
   *  An adopted fd is 'open' at once; 'drain' (writable) says when its connect has completed. */
  private static readonly nativeHandlers: SocketHandler<StreamConn> = {
    binaryType: "buffer",
    open(s) { s.data.native = s; },
    drain(s) { s.data.onWritable(); },
    data(s, d) { s.data.onData(d); },
    end(s) { s.data.onEnd(); },
    close(s, err) { if (err) s.data.onError(err); else s.data.onEnd(); },
    error(s, err) { s.data.onError(err); },
  };

  private onData(d: Buffer): void {
    this.connected = true;
    this.received += d.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.poke();
  }
  private onEnd(): void { this.ended = true; this.poke(); }
  private onError(e: Error): void { this.fail(new CheckFailure(this.describeSocketError(e))); }

  /** The native socket is writable: the first time, the connect has completed. */
  private onWritable(): void {
    if (!this.connected) { this.connected = true; this.poke(); }
    const rest = this.unsent;
    if (rest) { this.unsent = undefined; this.writeNative(rest); }
  }

  /** Open TCP (and TLS on top when `tlsSetup` is given). Resolves once connected (and handshaken). */
  static async open(co: ConnectOptions, signal?: AbortSignal, tlsSetup?: TlsSetup): Promise<StreamConn> {
    const startedAt = performance.now();
    const target = tlsSetup || co.bindto !== undefined || co.bindPort !== undefined ? undefined : nativeTarget(co);
    if (target) return StreamConn.openNative(co, target, startedAt, signal);
    let conn: StreamConn;
    if (needsSocketOptions(co)) {
      // fwmark / bind_if: the socket is made and connected through ffi, then handed over.
      const stream = await connectTcpWithOptions(co, startedAt + co.connectTimeoutMs, signal);
      conn = new StreamConn(co, startedAt, signal);
      conn.attachStream(stream);
    } else {
      conn = new StreamConn(co, startedAt, signal);
      const tcp = net.connect({
        host: co.connectIp, port: co.connectPort,
        ...(co.bindto !== undefined ? { localAddress: co.bindto } : {}),
        ...(co.bindPort !== undefined ? { localPort: co.bindPort } : {}),
      });
      conn.attachStream(tcp);
      tcp.once("connect", () => { conn.connected = true; conn.poke(); });
      await conn.until(StreamConn.isConnected);
    }
    if (!tlsSetup) { conn.phase = "waiting for data"; return conn; }
    const raw = conn.detach();
    const secure = tls.connect({
      socket: raw,
      rejectUnauthorized: tlsSetup.verify,
      ...(tlsSetup.servername ? { servername: tlsSetup.servername } : {}),
      ...(tlsSetup.ca ? { ca: tlsSetup.ca } : {}),
      ...(tlsSetup.cert ? { cert: tlsSetup.cert } : {}),
      ...(tlsSetup.key ? { key: tlsSetup.key } : {}),
      ...(tlsSetup.passphrase ? { passphrase: tlsSetup.passphrase } : {}),
      checkServerIdentity: (host, cert) =>
        tlsSetup.verify ? tls.checkServerIdentity(tlsSetup.verifyName ?? host, cert) : undefined,
    });
    const tlsConn = new StreamConn(co, startedAt, signal);
    tlsConn.attachStream(secure, raw);
    tlsConn.phase = "in TLS handshake";
    let handshaken = false;
    secure.once("secureConnect", () => { handshaken = true; tlsConn.poke(); });
    await tlsConn.until(() => handshaken || undefined);
    tlsConn.phase = "waiting for data";
    return tlsConn;
  }

  private static async openNative(co: ConnectOptions, target: Uint8Array, startedAt: number, signal: AbortSignal | undefined): Promise<StreamConn> {
    let fd: number;
    try {
      fd = libc.socket(target.length === SOCKADDR_IN_LEN ? libc.AF_INET : libc.AF_INET6, libc.SOCK_STREAM | libc.SOCK_NONBLOCK, 0);
    } catch (e) {
      throw new CheckFailure(connectErrorReason(co, connectError(co, e)));
    }
    const err = libc.connectNonBlocking(fd, target);
    if (err !== 0 && err !== libc.EINPROGRESS) {
      libc.close(fd);
      throw new CheckFailure(connectErrorReason(co, connectError(co, new libc.SysError("connect", err))));
    }
    const conn = new StreamConn(co, startedAt, signal);
    try {
      // Bun's typings lack the `fd` form of Bun.connect; this is the shape Bun accepts.
      const sock = await Bun.connect({ fd, socket: StreamConn.nativeHandlers, data: conn } as unknown as TCPSocketConnectOptions<StreamConn>);
      conn.native ??= sock;
    } catch (e) {
      // Not adopted (no 'open'): the descriptor is still ours to close.
      if (!conn.native) libc.close(fd);
      conn.fail(new CheckFailure(connectErrorReason(co, connectError(co, e))));
    }
    await conn.until(StreamConn.isConnected);
    conn.phase = "waiting for data";
    return conn;
  }

  write(data: string | Uint8Array): void {
    if (this.failure) return;
    if (this.native) {
      if (this.unsent) this.unsent = Buffer.concat([this.unsent, Buffer.from(data)]);
      else this.writeNative(data);
    } else {
      this.stream?.write(data);
    }
  }

  private writeNative(data: string | Uint8Array): void {
    const sock = this.native as NativeSocket<StreamConn>;
    const n = sock.write(data);
    if (n < 0) {
      // Bun reports only that the send failed, not its errno. On a socket that neither we nor the peer
      // closed, that is the peer's reset: say so as node:net would (an asynchronous 'write ECONNRESET'),
      // after the caller has named the phase it now waits in.
      if (!this.ended) queueMicrotask(() => this.onError(writeReset()));
      return;
    }
    if (n < (typeof data === "string" ? Buffer.byteLength(data) : data.byteLength)) {
      this.unsent = Buffer.from(data).subarray(n); // a copy: the caller's bytes are theirs again
    }
  }

  /** Wait until `pick` returns a value, given the unconsumed bytes and whether the peer has closed.
   *  `pick` may consume bytes by returning how many along with the value. */
  async read<T>(phase: string, pick: ReadPick<T>): Promise<T> {
    this.phase = phase;
    return this.until((c) => {
      const r = pick(c.buf, c.ended);
      if (r) c.buf = c.buf.subarray(r.consumed);
      return r?.value;
    });
  }

  close(): void {
    this.stopTimer();
    this.native?.end();
    this.stream?.destroy();
    this.inner?.destroy();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private until<T>(probe: (c: StreamConn) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        if (this.failure) { this.wake = undefined; reject(this.failure); return; }
        let v: T | undefined;
        try { v = probe(this); } catch (e) { this.wake = undefined; reject(e); return; }
        if (v !== undefined) { this.wake = undefined; resolve(v); return; }
        if (this.ended && this.phase !== "connecting") {
          this.wake = undefined;
          reject(new CheckFailure(`connection closed by peer ${this.phase} (received ${this.received} bytes)`, { receivedBytes: this.received }));
          return;
        }
      };
      this.wake = check;
      check();
    });
  }

  private poke(): void { this.wake?.(); }

  private fail(f: CheckFailure): void {
    if (this.failure) return;
    this.failure = f;
    this.stopTimer();
    this.native?.end();
    this.stream?.destroy();
    this.inner?.destroy();
    this.poke();
  }

  private describeSocketError(e: Error): string {
    if (this.phase === "connecting") return connectErrorReason(this.co, this.native ? connectError(this.co, e) : e);
    if (this.native) e = nativeError(e);
    if (this.phase === "in TLS handshake") return tlsErrorReason(e);
    return streamErrorReason(this.phase, e, this.received);
  }
}

/** Time ran out while waiting in `phase`. */
export function timeoutFailure(co: ConnectOptions, phase: string, received: number): CheckFailure {
  return new CheckFailure(`timeout after ${co.connectTimeoutMs} ms ${phase} (received ${received} bytes)`, { timeout: true, receivedBytes: received });
}

/** An error on an established connection while waiting in `phase`. */
function streamErrorReason(phase: string, e: unknown, received: number): string {
  if (errorCode(e) === "ECONNRESET") return `connection reset by peer ${phase} (received ${received} bytes): ${describeError(e)}`;
  return `${phase}: ${describeError(e)}`;
}

/** The reasons of the native check engine's errno results, worded as the socket paths here word them. */
export function connectErrnoReason(co: ConnectOptions, errno: number): string {
  return connectErrorReason(co, connectError(co, new libc.SysError("connect", errno)));
}
export function streamErrnoReason(phase: string, errno: number, received: number): string {
  const code = errnoName(errno);
  return streamErrorReason(phase, systemError(`read ${code}`, code, -errno, "read"), received);
}

const SOCKADDR_IN_LEN = 16;
/** sockaddr per checker (their ConnectOptions live as long as the configuration); an empty one when
 *  the address is not a plain IP literal, which then goes through node:net as before. */
const targets = new WeakMap<ConnectOptions, Uint8Array>();

function nativeTarget(co: ConnectOptions): Uint8Array | undefined {
  if (needsSocketOptions(co)) return undefined;
  let sa = targets.get(co);
  if (sa === undefined) {
    sa = literalSockaddr(co.connectIp, co.connectPort) ?? EMPTY;
    targets.set(co, sa);
  }
  return sa.length ? sa : undefined;
}

/** sockaddr_in / sockaddr_in6 of a literal address without scope (a name, or "fe80::1%eth0", gives
 *  undefined: those take the paths that resolve them). */
export function literalSockaddr(ip: string, port: number): Uint8Array | undefined {
  const family = net.isIP(ip);
  return family === 4 ? libc.sockaddrIn(ip, port) : family === 6 && !ip.includes("%") ? libc.sockaddrIn6(ip, port) : undefined;
}

interface SystemError extends Error { code?: string; errno?: number; syscall?: string }

function systemError(message: string, code: string, errno: number | undefined, syscall: string): SystemError {
  return Object.assign(new Error(message), { code, errno, syscall });
}

/** The code of an error from Bun's native socket or from ffi; derived from errno when Bun gave none. */
function codeOf(e: unknown): string | undefined {
  const code = errorCode(e);
  if (code) return code;
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && errno !== 0 ? errnoName(Math.abs(errno)) : undefined;
}

/** A failed connect as node:net reports it ("connect ECONNREFUSED 10.0.0.1:80"), whatever raised it. */
function connectError(co: ConnectOptions, e: unknown): unknown {
  const code = codeOf(e);
  if (!code) return e;
  const errno = (e as { errno?: unknown }).errno;
  const where = co.connectPort > 0 ? `${co.connectIp}:${co.connectPort}` : co.connectIp;
  return systemError(`connect ${code} ${where}`, code, typeof errno === "number" ? -Math.abs(errno) : undefined, "connect");
}

/** A native socket error after connect, as node:net passes it on: Bun's own error when it has a code,
 *  else a "read CODE" error from its errno. */
function nativeError(e: Error): Error {
  if (errorCode(e)) return e;
  const code = codeOf(e);
  return code ? systemError(`read ${code}`, code, (e as SystemError).errno, "read") : e;
}

function writeReset(): SystemError {
  return systemError("write ECONNRESET", "ECONNRESET", -104, "write");
}

function tlsErrorReason(e: unknown): string {
  const code = errorCode(e) ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS certificate name mismatch: ${msg}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) return `TLS certificate verification failed: ${code} (${msg})`;
  if (code === "ECONNRESET") return `TLS handshake failed: connection reset by peer: ${describeError(e)}`;
  return `TLS handshake failed: ${code ? `${code} (${msg})` : msg}`;
}

/** Run a checker body, timing it and turning a CheckFailure into a failed CheckResult. Anything else that
 *  escapes is a bug in the checker; it still becomes a failed result (with the error text), never a crash. */
export async function timed(body: () => Promise<Omit<CheckResult, "latencyMs">>): Promise<CheckResult> {
  const start = performance.now();
  try {
    // The body's result is a fresh object: complete it rather than copy it.
    const r = (await body()) as CheckResult;
    r.latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
    return r;
  } catch (e) {
    const latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
    if (e instanceof CheckFailure) return { ok: false, reason: e.reason, latencyMs, ...(e.detail ? { detail: e.detail } : {}) };
    return { ok: false, reason: `internal checker error: ${describeError(e)}`, latencyMs };
  }
}
