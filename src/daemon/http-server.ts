// lbctl's own small HTTP/1.1 server on a unix socket, the shell around http-parser.ts. It replaces
// Bun.serve for the control API because Bun.serve, with an async fetch handler, does not answer
// pipelined requests nor a client that half-closes after its request (issue 13); it also needed
// `new URL(request.url)`, which fails for an HTTP/1.0 request without Host.
//
// Per connection: requests are handled one at a time, in the order received, and answered in that
// order (a pipelined request runs after the previous one is answered, so it sees its effects). A
// peer that half-closes (FIN) still gets every answer before the server closes. Streams (event
// followers) are chunked for HTTP/1.1, or sent until close for HTTP/1.0, and stop when the client goes.
import type { Socket } from "bun";
import { getrlimit, RLIMIT_NOFILE, RLIM_INFINITY, setrlimit } from "../../ffi/libc.ts";
import { HttpParser, type HttpError, type HttpLimits, type HttpRequest } from "./http-parser.ts";

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as it comes (chunked for HTTP/1.1); ends when the stream does, or is cancelled when the client goes. */
  stream?: ReadableStream<Uint8Array>;
}

export interface HttpServerOptions {
  unix: string;
  /** `signal` aborts when the connection closes (a stream's producer stops then). */
  handle(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> | HttpResponse;
  /** The answer to a request the parser refused, to a failing handler (500) and at the connection cap (503). */
  errorResponse(e: HttpError): HttpResponse;
  /** Beyond it the longest-idle connection is closed to make room; when none is idle, the new one gets 503. */
  maxConnections?: number;
  /** A connection with nothing in flight (no request handled, no answer being written) is closed after this. */
  idleTimeoutMs?: number;
  /** Requests parsed ahead of the one being handled; reading pauses beyond. */
  maxPipeline?: number;
  limits?: Partial<HttpLimits>;
}

export interface HttpServer {
  readonly connections: number;
  readonly maxConnections: number;
  stop(): Promise<void>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_PIPELINE = 16;

/** The connection cap: 1024, or half the open-file limit when that is lower (the daemon needs the rest). */
export function defaultMaxConnections(): number {
  let soft = 1024n;
  try { soft = getrlimit(RLIMIT_NOFILE).soft; } catch { /* keep the guess */ }
  return Math.max(16, Math.min(1024, Number(soft === RLIM_INFINITY ? 1n << 20n : soft) >> 1));
}

/**
 * Raises the soft open-file limit to the hard one (the default soft limit is 1024, which 1,500 idle
 * API clients or a checker with many connections would exhaust). The children inherit it.
 * Bun 1.4 already does this when it starts (measured: prlimit --nofile=1024:4096 gives a Bun
 * process 4096); doing it here keeps lbctl's behaviour from depending on that. When the hard limit
 * is 1024 too, the connection cap (half the limit) is what keeps a status call answerable.
 * Returns the change, or null when there was none to make.
 */
export function raiseOpenFileLimit(): { from: bigint; to: bigint } | null {
  const { soft, hard } = getrlimit(RLIMIT_NOFILE);
  if (soft >= hard) return null;
  setrlimit(RLIMIT_NOFILE, hard, hard);
  return { from: soft, to: hard };
}

const REASONS: Record<number, string> = {
  100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict",
  413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
  501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
};

type Item =
  | { kind: "request"; req: HttpRequest; abort: AbortController }
  | { kind: "error"; error: HttpError };

interface Conn {
  socket: Socket<Conn>;
  parser: HttpParser;
  /** Parsed, not yet answered; the first is being handled. */
  queue: Item[];
  /** Bytes the socket did not take yet (Bun's socket.write writes what it can and returns the count). */
  out: Uint8Array[];
  flushed: (() => void)[];
  writing: boolean;
  streaming: boolean;
  /** No more requests will be read: answer what is queued, then close. */
  closeAfter: boolean;
  peerEnded: boolean;
  closed: boolean;
  paused: boolean;
  lastActive: number;
  /** When the request now arriving began to (0: none): a request must arrive whole within the idle timeout. */
  requestStart: number;
}

const enc = new TextEncoder();

export function serveHttp(o: HttpServerOptions): HttpServer {
  const maxConnections = o.maxConnections ?? defaultMaxConnections();
  const idleTimeoutMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxPipeline = o.maxPipeline ?? DEFAULT_MAX_PIPELINE;
  const conns = new Set<Conn>();
  let stopping = false;

  const write = (c: Conn, bytes: Uint8Array): void => {
    if (c.closed || bytes.length === 0) return;
    if (c.out.length > 0) { c.out.push(bytes); return; }
    const n = c.socket.write(bytes);
    if (n < 0) return; // closed under us: the close handler cleans up
    if (n < bytes.length) c.out.push(bytes.subarray(n));
    else c.lastActive = Date.now();
  };

  const flush = (c: Conn): void => {
    while (c.out.length > 0 && !c.closed) {
      const b = c.out[0]!;
      const n = c.socket.write(b);
      if (n <= 0) return;
      c.lastActive = Date.now();
      if (n < b.length) { c.out[0] = b.subarray(n); return; }
      c.out.shift();
    }
    if (c.out.length === 0 || c.closed) for (const f of c.flushed.splice(0)) f();
  };

  const whenFlushed = (c: Conn): Promise<void> =>
    c.out.length === 0 || c.closed ? Promise.resolve() : new Promise((resolve) => c.flushed.push(resolve));

  const close = (c: Conn): void => {
    if (c.closed) return;
    c.closeAfter = true;
    c.socket.end();
  };

  const head = (status: number, headers: Record<string, string>): Uint8Array => {
    let h = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
    for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
    return enc.encode(`${h}Date: ${new Date().toUTCString()}\r\n\r\n`);
  };

  /** Writes one answer; resolves when it is all in the socket (a stream: when it ended). */
  const respond = async (c: Conn, res: HttpResponse, o2: { version: "1.0" | "1.1"; keepAlive: boolean; isHead: boolean }): Promise<void> => {
    const headers: Record<string, string> = { ...res.headers };
    if (!res.stream) {
      const body = typeof res.body === "string" ? enc.encode(res.body) : res.body ?? new Uint8Array(0);
      headers["Content-Length"] = String(body.length);
      if (!o2.keepAlive) headers.Connection = "close";
      else if (o2.version === "1.0") headers.Connection = "keep-alive";
      const h = head(res.status, headers);
      if (o2.isHead || body.length === 0) write(c, h);
      else {
        // One write for head and body: most answers then leave in a single segment.
        const all = new Uint8Array(h.length + body.length);
        all.set(h);
        all.set(body, h.length);
        write(c, all);
      }
      await whenFlushed(c);
      return;
    }
    const chunked = o2.version === "1.1";
    if (chunked) headers["Transfer-Encoding"] = "chunked";
    if (!chunked || !o2.keepAlive) headers.Connection = "close";
    write(c, head(res.status, headers));
    const reader = res.stream.getReader();
    c.streaming = true;
    try {
      for (;;) {
        // Written before the next chunk is read, so a client that stops reading leaves the
        // chunks queued in the stream, where its producer sees them (MAX_BACKLOG).
        await whenFlushed(c);
        if (c.closed) break;
        const { value, done } = await reader.read();
        if (done || c.closed) {
          if (done && chunked) write(c, enc.encode("0\r\n\r\n"));
          break;
        }
        if (value.length === 0) continue;
        write(c, chunked ? frame(value) : value);
      }
      await whenFlushed(c);
    } catch {
      // The stream failed: cut the connection, so the client sees an unfinished answer (and
      // nothing pipelined behind it is answered after a broken chunked body).
      c.closeAfter = true;
      c.socket.terminate();
    } finally {
      c.streaming = false;
      reader.cancel().catch(() => {});
    }
  };

  /** Handles and answers the queue in order; one runs per connection at a time. */
  const run = async (c: Conn): Promise<void> => {
    c.writing = true;
    try {
      while (c.queue.length > 0 && !c.closed) {
        const item = c.queue[0]!;
        let res: HttpResponse;
        let keepAlive = false;
        let version: "1.0" | "1.1" = "1.1";
        let isHead = false;
        if (item.kind === "error") {
          res = o.errorResponse(item.error);
        } else {
          ({ version, keepAlive } = item.req);
          isHead = item.req.method === "HEAD";
          try {
            res = await o.handle(item.req, item.abort.signal);
          } catch (e) {
            res = o.errorResponse({ status: 500, code: "internal", message: e instanceof Error ? e.message : String(e) });
          }
        }
        if (stopping) keepAlive = false;
        if (c.closed) { res.stream?.cancel().catch(() => {}); break; }
        const streamCloses = res.stream !== undefined && version === "1.0";
        await respond(c, res, { version, keepAlive, isHead });
        c.queue.shift();
        c.lastActive = Date.now();
        if (!keepAlive || streamCloses) {
          c.closeAfter = true;
          c.queue.length = 0;
          break;
        }
        pump(c);
      }
      if (!c.closed && c.closeAfter && c.queue.length === 0) {
        await whenFlushed(c);
        close(c);
      }
    } finally {
      c.writing = false;
    }
  };

  /** Takes requests from the parser while the pipeline has room. */
  const pump = (c: Conn): void => {
    while (!c.closeAfter && c.queue.length < maxPipeline) {
      const ev = c.parser.next();
      if (!ev) {
        if (c.peerEnded) {
          const last = c.parser.finish();
          if (last?.kind === "error") c.queue.push({ kind: "error", error: last.error });
          c.closeAfter = true;
        }
        break;
      }
      if (ev.kind === "continue") {
        if (c.queue.length === 0) write(c, enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
        continue;
      }
      if (ev.kind === "error") {
        c.queue.push({ kind: "error", error: ev.error });
        c.closeAfter = true;
        break;
      }
      c.queue.push({ kind: "request", req: ev.request, abort: new AbortController() });
      if (!ev.request.keepAlive) c.closeAfter = true;
    }
    if (c.parser.idle || c.parser.failed) c.requestStart = 0;
    else if (c.requestStart === 0) c.requestStart = Date.now();
    // Back-pressure: a client that pipelines faster than it is answered stops being read.
    const full = c.queue.length >= maxPipeline;
    if (full && !c.paused) { c.socket.pause(); c.paused = true; }
    if (!full && c.paused) { c.socket.resume(); c.paused = false; }
    if (!c.writing && (c.queue.length > 0 || c.closeAfter)) void run(c);
  };

  // Nothing in flight: no request being handled or waiting (a refused one waits for its request
  // line only), no answer being written.
  const isIdle = (c: Conn): boolean => !c.writing && c.out.length === 0 && (c.queue.length === 0 || c.closeAfter);

  const listener = Bun.listen<Conn>({
    unix: o.unix,
    // A client that half-closes after its request still reads the answer (issue 13).
    allowHalfOpen: true,
    socket: {
      open(socket) {
        const c: Conn = {
          socket, parser: new HttpParser(o.limits), queue: [], out: [], flushed: [], writing: false, streaming: false,
          closeAfter: false, peerEnded: false, closed: false, paused: false, lastActive: Date.now(), requestStart: 0,
        };
        socket.data = c;
        if (stopping) { socket.end(); return; }
        if (conns.size >= maxConnections) {
          // Make room by closing the longest-idle connection; idle clients cannot starve a status call.
          let victim: Conn | null = null;
          for (const x of conns) if (isIdle(x) && (!victim || x.lastActive < victim.lastActive)) victim = x;
          if (victim) victim.socket.terminate();
          else {
            // Answered once the request arrives (a write from open() does not reach the client).
            c.closeAfter = true;
            c.queue.push({ kind: "error", error: { status: 503, code: "busy", message: `the control API is serving ${conns.size} connections, its limit; try again later` } });
          }
        }
        conns.add(c);
      },
      data(socket, data) {
        const c = socket.data;
        if (c.closeAfter) {
          // Refused or closing: what else it sends is not read.
          if (!c.writing && c.queue.length > 0) void run(c);
          return;
        }
        c.lastActive = Date.now();
        c.parser.push(data);
        pump(c);
      },
      end(socket) {
        const c = socket.data;
        c.peerEnded = true;
        if (!c.closeAfter) pump(c);
        else if (!c.writing) { if (c.queue.length > 0) void run(c); else close(c); }
      },
      drain(socket) {
        flush(socket.data);
      },
      close(socket) {
        const c = socket.data;
        if (!c || c.closed) return;
        c.closed = true;
        conns.delete(c);
        for (const item of c.queue) if (item.kind === "request") item.abort.abort();
        for (const f of c.flushed.splice(0)) f();
      },
      error(socket) {
        // The close handler follows and cleans up.
        void socket;
      },
    },
  });

  // One sweep for every connection's idle time (not an event stream, nor an answer being written).
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of conns) {
      if (c.requestStart !== 0 && c.queue.length === 0 && !c.closeAfter && now - c.requestStart >= idleTimeoutMs) {
        // A request sent a byte at a time, to hold a connection: 408, and close.
        c.closeAfter = true;
        c.queue.push({ kind: "error", error: { status: 408, code: "request_timeout", message: `the request did not arrive whole within ${idleTimeoutMs / 1000} s` } });
        void run(c);
        continue;
      }
      if (now - c.lastActive < idleTimeoutMs) continue;
      // Idle (or ended by us and never closed by the peer), or not reading the answer it asked for.
      if (isIdle(c) || (!c.streaming && c.out.length > 0)) c.socket.terminate();
    }
  }, Math.max(50, Math.min(1000, idleTimeoutMs / 4)));
  sweep.unref?.();

  return {
    get connections() { return conns.size; },
    maxConnections,
    async stop() {
      stopping = true;
      clearInterval(sweep);
      // As Bun.serve's stop(true) did: every connection is cut, an event follower sees its stream end.
      for (const c of [...conns]) {
        for (const item of c.queue) if (item.kind === "request") item.abort.abort();
        c.socket.terminate();
      }
      conns.clear();
      listener.stop(true);
    },
  };
}

function frame(data: Uint8Array): Uint8Array {
  const h = enc.encode(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(h.length + data.length + 2);
  out.set(h);
  out.set(data, h.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}
