// Shared imperative shell of the stream checkers (TCP, HTTP, SSL, SMTP): one TCP or TLS connection whose
// WHOLE exchange is bounded by connect_timeout, and which knows what it was waiting for when time ran
// out, so that a timeout reads "timeout after 5000 ms waiting for response headers (received 12 bytes)".
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
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

/** A stream with an overall deadline. `phase` names what we wait for, for the timeout message. */
export class StreamConn {
  private buf: Buffer = Buffer.alloc(0);
  private received = 0;
  private ended = false;
  private failure: CheckFailure | undefined;
  private wake: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  phase = "connecting";

  private constructor(
    readonly socket: Duplex,
    private readonly co: ConnectOptions,
    startedAt: number,
    signal: AbortSignal | undefined,
    /** The TCP stream under a TLS one: destroyed with it, so no descriptor outlives the check. */
    private readonly inner?: Duplex,
  ) {
    this.timer = setTimeout(() => {
      this.fail(new CheckFailure(`timeout after ${co.connectTimeoutMs} ms ${this.phase} (received ${this.received} bytes)`,
        { timeout: true, receivedBytes: this.received }));
    }, Math.max(0, co.connectTimeoutMs - (performance.now() - startedAt)));
    signal?.addEventListener("abort", () => this.fail(new CheckFailure("check aborted")), { once: true });
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
    socket.on("error", this.onError);
  }

  private readonly onData = (d: Buffer): void => {
    this.received += d.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.poke();
  };
  private readonly onEnd = (): void => { this.ended = true; this.poke(); };
  private readonly onError = (e: Error): void => { this.fail(new CheckFailure(this.describeSocketError(e))); };

  /** Hand the socket over (to TLS): stop listening and stop the timer, without closing it. */
  private detach(): void {
    this.stopTimer();
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onError);
    // From now on errors surface on the TLS socket; an unheard 'error' on the raw one would throw.
    this.socket.on("error", () => {});
  }

  /** Open TCP (and TLS on top when `tlsSetup` is given). Resolves once connected (and handshaken). */
  static async open(co: ConnectOptions, signal?: AbortSignal, tlsSetup?: TlsSetup): Promise<StreamConn> {
    const startedAt = performance.now();
    let conn: StreamConn;
    if (needsSocketOptions(co)) {
      // fwmark / bind_if: the socket is made and connected through ffi, then handed over.
      const stream = await connectTcpWithOptions(co, startedAt + co.connectTimeoutMs, signal);
      conn = new StreamConn(stream, co, startedAt, signal);
    } else {
      const tcp = net.connect({
        host: co.connectIp, port: co.connectPort,
        ...(co.bindto !== undefined ? { localAddress: co.bindto } : {}),
        ...(co.bindPort !== undefined ? { localPort: co.bindPort } : {}),
      });
      conn = new StreamConn(tcp, co, startedAt, signal);
      let connected = false;
      tcp.once("connect", () => { connected = true; conn.poke(); });
      await conn.until(() => connected || undefined);
    }
    if (!tlsSetup) { conn.phase = "waiting for data"; return conn; }
    conn.detach();
    const secure = tls.connect({
      socket: conn.socket,
      rejectUnauthorized: tlsSetup.verify,
      ...(tlsSetup.servername ? { servername: tlsSetup.servername } : {}),
      ...(tlsSetup.ca ? { ca: tlsSetup.ca } : {}),
      ...(tlsSetup.cert ? { cert: tlsSetup.cert } : {}),
      ...(tlsSetup.key ? { key: tlsSetup.key } : {}),
      ...(tlsSetup.passphrase ? { passphrase: tlsSetup.passphrase } : {}),
      checkServerIdentity: (host, cert) =>
        tlsSetup.verify ? tls.checkServerIdentity(tlsSetup.verifyName ?? host, cert) : undefined,
    });
    const tlsConn = new StreamConn(secure, co, startedAt, signal, conn.socket);
    tlsConn.phase = "in TLS handshake";
    let handshaken = false;
    secure.once("secureConnect", () => { handshaken = true; tlsConn.poke(); });
    await tlsConn.until(() => handshaken || undefined);
    tlsConn.phase = "waiting for data";
    return tlsConn;
  }

  write(data: string | Uint8Array): void {
    if (!this.failure) this.socket.write(data);
  }

  /** Wait until `pick` returns a value, given the unconsumed bytes and whether the peer has closed.
   *  `pick` may consume bytes by returning how many along with the value. */
  async read<T>(phase: string, pick: (buf: Buffer, ended: boolean) => { value: T; consumed: number } | undefined): Promise<T> {
    this.phase = phase;
    return this.until(() => {
      const r = pick(this.buf, this.ended);
      if (r) this.buf = this.buf.subarray(r.consumed);
      return r?.value;
    });
  }

  close(): void {
    this.stopTimer();
    this.socket.destroy();
    this.inner?.destroy();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private until<T>(probe: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        if (this.failure) { this.wake = undefined; reject(this.failure); return; }
        let v: T | undefined;
        try { v = probe(); } catch (e) { this.wake = undefined; reject(e); return; }
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
    this.socket.destroy();
    this.inner?.destroy();
    this.poke();
  }

  private describeSocketError(e: unknown): string {
    if (this.phase === "connecting") return connectErrorReason(this.co, e);
    const code = errorCode(e) ?? "";
    if (this.phase === "in TLS handshake") return tlsErrorReason(e);
    if (code === "ECONNRESET") return `connection reset by peer ${this.phase} (received ${this.received} bytes): ${describeError(e)}`;
    return `${this.phase}: ${describeError(e)}`;
  }
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
    const r = await body();
    return { ...r, latencyMs: Math.round((performance.now() - start) * 1000) / 1000 };
  } catch (e) {
    const latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
    if (e instanceof CheckFailure) return { ok: false, reason: e.reason, latencyMs, ...(e.detail ? { detail: e.detail } : {}) };
    return { ok: false, reason: `internal checker error: ${describeError(e)}`, latencyMs };
  }
}
