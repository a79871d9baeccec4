// HTTP/1.x requests from a byte stream, for the control API's own server (control-api.ts).
// Pure and bounded: bytes go in as they arrive (in pieces of any size), whole requests come
// out one at a time, so the shell decides how many it takes (pipelining) and when. Bad input is
// an error event with the status to answer (400, 413, 414, 431, 501, 505), after which the
// parser takes nothing more: the shell answers it and closes. No byte sequence makes it throw.
// Framing follows RFC 9112: Content-Length or chunked bodies, and the checks that keep two
// parsers from reading one stream differently (both framings at once, differing lengths, folds).

export interface HttpLimits {
  /** Request line + header lines (and, separately, the trailer section of a chunked body). */
  maxHeadBytes: number;
  maxHeaders: number;
  /** The decoded body. */
  maxBody: number;
}

export const DEFAULT_LIMITS: HttpLimits = { maxHeadBytes: 8 * 1024, maxHeaders: 100, maxBody: 64 * 1024 };

export interface HttpRequest {
  method: string;
  /** As sent: origin form (`/v1/status?x=1`) or absolute form (`http://h/v1/status`). */
  target: string;
  /** 1.0, or 1.1 for every later 1.x (RFC 9110 6.2: answered as 1.1). */
  version: "1.0" | "1.1";
  /** Names in lower case, in the order sent. */
  headers: [string, string][];
  body: Uint8Array;
  /** Whether the connection stays open after this request's answer (RFC 9112 9.3). */
  keepAlive: boolean;
}

export interface HttpError { status: number; code: string; message: string }

export type ParseEvent =
  | { kind: "request"; request: HttpRequest }
  /** `Expect: 100-continue` and the body has not arrived: the client may be waiting for a 100. */
  | { kind: "continue" }
  | { kind: "error"; error: HttpError };

const CR = 0x0d, LF = 0x0a, SP = 0x20, HTAB = 0x09;
/** A chunk-size line with its extensions; what a sane client sends is a few bytes. */
const MAX_CHUNK_LINE = 1024;

// RFC 9110 5.6.2 tchar.
const TCHAR = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[ch.charCodeAt(0)] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!TCHAR[s.charCodeAt(i)]) return false;
  return true;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) s += String.fromCharCode(...b.subarray(i, Math.min(to, i + 4096)));
  return s;
}

function err(status: number, code: string, message: string): { kind: "error"; error: HttpError } {
  return { kind: "error", error: { status, code, message } };
}

type Head = Omit<HttpRequest, "body">;

type State =
  | { s: "head" }
  | { s: "body"; head: Head; length: number }
  | { s: "chunk-size"; head: Head; parts: Uint8Array[]; size: number }
  | { s: "chunk-data"; head: Head; parts: Uint8Array[]; size: number; left: number }
  | { s: "chunk-end"; head: Head; parts: Uint8Array[]; size: number }
  | { s: "trailers"; head: Head; parts: Uint8Array[]; size: number; bytes: number; count: number }
  | { s: "dead" };

export class HttpParser {
  private buf = new Uint8Array(1024);
  private start = 0;
  private end = 0;
  /** Where the search for the end of the head (or of a line) resumes: bytes before it were looked at. */
  private scanned = 0;
  private state: State = { s: "head" };
  private readonly limits: HttpLimits;

  constructor(limits: Partial<HttpLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes received and not yet part of a request that came out. */
  get buffered(): number { return this.end - this.start; }

  /** True once an error came out: nothing more will. */
  get failed(): boolean { return this.state.s === "dead"; }

  /** Between requests with nothing buffered (a connection that may be closed without cutting one). */
  get idle(): boolean { return this.state.s === "head" && this.end === this.start; }

  push(bytes: Uint8Array): void {
    if (this.state.s === "dead" || bytes.length === 0) return;
    if (this.start > 0 && this.start === this.end) { this.start = this.end = this.scanned = 0; }
    if (this.end + bytes.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + bytes.length;
      if (need <= this.buf.length && this.start >= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length;
        while (cap < need) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.scanned -= this.start;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** The next request (or error, or 100-continue hint) the buffered bytes make, or null when more are needed. */
  next(): ParseEvent | null {
    for (;;) {
      const st = this.state;
      switch (st.s) {
        case "dead": return null;
        case "head": {
          const r = this.head();
          if (r === null) return null;
          if (r.kind === "error") return this.fail(r);
          const { head, framing, expectContinue } = r;
          if (framing.kind === "length") {
            this.state = { s: "body", head, length: framing.length };
            if (expectContinue && framing.length > this.buffered) return { kind: "continue" };
          } else {
            this.state = { s: "chunk-size", head, parts: [], size: 0 };
            if (expectContinue && this.buffered === 0) return { kind: "continue" };
          }
          continue;
        }
        case "body": {
          if (this.buffered < st.length) return null;
          const body = this.buf.slice(this.start, this.start + st.length);
          return this.done(st.head, body, st.length);
        }
        case "chunk-size": {
          const line = this.line(MAX_CHUNK_LINE);
          if (line === null) return null;
          if (line === "long") return this.fail(err(400, "bad_chunk", "a chunk-size line is too long"));
          const m = /^([0-9A-Fa-f]+)[ \t]*(;.*)?$/.exec(line);
          if (!m || /[\x00-\x08\x0a-\x1f\x7f]/.test(line)) return this.fail(err(400, "bad_chunk", "malformed chunk size"));
          const hex = m[1]!.replace(/^0+(?=.)/, "");
          const n = hex.length > 8 ? Infinity : parseInt(hex, 16);
          if (st.size + n > this.limits.maxBody) return this.fail(tooLarge(this.limits.maxBody));
          if (n === 0) { this.state = { s: "trailers", head: st.head, parts: st.parts, size: st.size, bytes: 0, count: 0 }; continue; }
          this.state = { s: "chunk-data", head: st.head, parts: st.parts, size: st.size + n, left: n };
          continue;
        }
        case "chunk-data": {
          const take = Math.min(st.left, this.buffered);
          if (take === 0) return null;
          st.parts.push(this.buf.slice(this.start, this.start + take));
          this.consume(take);
          st.left -= take;
          if (st.left > 0) return null;
          this.state = { s: "chunk-end", head: st.head, parts: st.parts, size: st.size };
          continue;
        }
        case "chunk-end": {
          const line = this.line(2);
          if (line === null) return null;
          if (line !== "") return this.fail(err(400, "bad_chunk", "chunk data is not followed by CRLF"));
          this.state = { s: "chunk-size", head: st.head, parts: st.parts, size: st.size };
          continue;
        }
        case "trailers": {
          const before = this.start;
          const line = this.line(this.limits.maxHeadBytes - st.bytes);
          if (line === "long") return this.fail(err(431, "headers_too_large", `the trailer section is over ${this.limits.maxHeadBytes} bytes`));
          if (line === null) {
            if (this.end - this.start > this.limits.maxHeadBytes - st.bytes) return this.fail(err(431, "headers_too_large", `the trailer section is over ${this.limits.maxHeadBytes} bytes`));
            return null;
          }
          st.bytes += this.start - before;
          if (line === "") {
            const body = new Uint8Array(st.size);
            let at = 0;
            for (const p of st.parts) { body.set(p, at); at += p.length; }
            return this.done(st.head, body, 0);
          }
          if (++st.count > this.limits.maxHeaders) return this.fail(err(431, "headers_too_large", `more than ${this.limits.maxHeaders} trailer fields`));
          const bad = checkFieldLine(line);
          if (bad) return this.fail(bad);
          continue; // trailer fields are read and dropped: the API has no use for them
        }
      }
    }
  }

  /**
   * The peer sent its last byte (call once next() has returned null). A request cut short is an error (answered with 400 if the
   * peer still reads); a connection that ends between requests is not.
   */
  finish(): ParseEvent | null {
    if (this.state.s === "dead") return null;
    if (this.state.s === "head") {
      let i = this.start;
      while (i < this.end && (this.buf[i] === CR || this.buf[i] === LF)) i++;
      if (i === this.end) return null;
    }
    return this.fail(err(400, "incomplete_request", "the connection ended in the middle of a request"));
  }

  private fail(e: { kind: "error"; error: HttpError }): ParseEvent {
    this.state = { s: "dead" };
    this.buf = new Uint8Array(0);
    this.start = this.end = this.scanned = 0;
    return e;
  }

  private done(head: Head, body: Uint8Array, consume: number): ParseEvent {
    this.consume(consume);
    this.state = { s: "head" };
    return { kind: "request", request: { ...head, body } };
  }

  private consume(n: number): void {
    this.start += n;
    if (this.scanned < this.start) this.scanned = this.start;
  }

  /**
   * One line ending in LF (an optional CR before it is dropped), consumed; null when it has not
   * all arrived, "long" when it is over `max` bytes with its terminator.
   */
  private line(max: number): string | null | "long" {
    const b = this.buf;
    const limit = Math.min(this.end, this.start + Math.max(max, 0));
    let i = Math.max(this.scanned, this.start);
    while (i < limit && b[i] !== LF) i++;
    if (i >= limit) {
      this.scanned = i;
      return this.end - this.start >= max ? "long" : null;
    }
    const stop = i > this.start && b[i - 1] === CR ? i - 1 : i;
    const s = latin1(b, this.start, stop);
    this.consume(i + 1 - this.start);
    this.scanned = this.start;
    return s;
  }

  /** The request line and header section, once the empty line that ends it has arrived. */
  private head(): { kind: "head"; head: Head; framing: Framing; expectContinue: boolean } | { kind: "error"; error: HttpError } | null {
    const b = this.buf;
    const max = this.limits.maxHeadBytes;
    // RFC 9112 2.2: empty lines before a request line are skipped (some clients send one after a POST body).
    while (this.start < this.end && (b[this.start] === LF || (b[this.start] === CR && this.start + 1 < this.end && b[this.start + 1] === LF))) {
      this.consume(b[this.start] === CR ? 2 : 1);
    }
    if (this.start < this.end && b[this.start] === CR && this.start + 1 === this.end) return null;
    // Find LF (CR) LF: the end of the head.
    let i = Math.max(this.scanned, this.start);
    let found = -1;
    const limit = Math.min(this.end, this.start + max);
    for (; i < limit; i++) {
      if (b[i] !== LF) continue;
      if (i + 1 >= this.end) break;
      if (b[i + 1] === LF) { found = i + 2; break; }
      if (b[i + 1] === CR) {
        if (i + 2 >= this.end) break;
        if (b[i + 2] === LF) { found = i + 3; break; }
      }
    }
    if (found < 0) {
      this.scanned = i;
      if (this.end - this.start >= max) {
        // No end of the head within the limit: a request line that long is a URI problem (414).
        const firstLf = b.subarray(this.start, limit).indexOf(LF);
        return firstLf < 0
          ? err(414, "uri_too_long", `the request line is over ${max} bytes`)
          : err(431, "headers_too_large", `the request head is over ${max} bytes`);
      }
      return null;
    }
    if (found - this.start > max) return err(431, "headers_too_large", `the request head is over ${max} bytes`);
    const text = latin1(b, this.start, found);
    this.consume(found - this.start);
    this.scanned = this.start;
    return parseHead(text, this.limits);
  }
}

type Framing = { kind: "length"; length: number } | { kind: "chunked" };

function tooLarge(max: number): { kind: "error"; error: HttpError } {
  return err(413, "too_large", `the request body is over ${max} bytes`);
}

/** A header or trailer line: `name: value`, with no fold, no space before the colon, no control bytes. */
function checkFieldLine(line: string): { kind: "error"; error: HttpError } | null {
  if (line.charCodeAt(0) === SP || line.charCodeAt(0) === HTAB) return err(400, "bad_header", "obsolete line folding (a line starting with white space) is not accepted");
  const colon = line.indexOf(":");
  if (colon < 0) return err(400, "bad_header", `a header line has no colon: '${printable(line)}'`);
  if (!isToken(line.slice(0, colon))) return err(400, "bad_header", `not a valid header name: '${printable(line.slice(0, colon))}'`);
  for (let i = colon + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== HTAB) || c === 0x7f) return err(400, "bad_header", `a control character in the value of header '${line.slice(0, colon)}'`);
  }
  return null;
}

/** Up to 60 characters of what the client sent, with control characters shown as escapes, for a message. */
function printable(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 60)}...` : s;
  return short.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function parseHead(text: string, limits: HttpLimits): { kind: "head"; head: Head; framing: Framing; expectContinue: boolean } | { kind: "error"; error: HttpError } {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  // The text ends with the empty line: drop it and the empty string after its LF.
  lines.length -= 2;
  const requestLine = lines[0] ?? "";
  if (/[\x00-\x1f\x7f-\xff]/.test(requestLine)) return err(400, "bad_request_line", "the request line contains a control or non-ASCII byte");
  const parts = requestLine.split(" ");
  if (parts.length !== 3 || parts.some((p) => p === "")) return err(400, "bad_request_line", `a request line is METHOD SP TARGET SP HTTP/1.1, not '${printable(requestLine)}'`);
  const [method, target, versionText] = parts as [string, string, string];
  if (!isToken(method)) return err(400, "bad_request_line", `not a valid method: '${printable(method)}'`);
  const v = /^HTTP\/(\d)\.(\d)$/.exec(versionText);
  if (!v) return err(400, "bad_request_line", `not an HTTP version: '${printable(versionText)}'`);
  if (v[1] !== "1") return err(505, "version_not_supported", `HTTP/${v[1]}.${v[2]} is not supported; use HTTP/1.1`);
  const version = v[2] === "0" ? "1.0" : "1.1";
  if (lines.length - 1 > limits.maxHeaders) return err(431, "headers_too_large", `more than ${limits.maxHeaders} header fields`);
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const bad = checkFieldLine(line);
    if (bad) return bad;
    const colon = line.indexOf(":");
    headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
  }
  const all = (name: string) => headers.filter(([n]) => n === name).map(([, val]) => val);
  const list = (name: string) => all(name).flatMap((x) => x.split(",")).map((x) => x.trim().toLowerCase()).filter((x) => x !== "");

  // RFC 9112 3.2: a 1.1 request has exactly one Host; a 1.0 one may have none.
  const hosts = all("host");
  if (hosts.length > 1) return err(400, "bad_header", "more than one Host header");
  if (version === "1.1" && hosts.length === 0) return err(400, "bad_header", "an HTTP/1.1 request needs a Host header (any name will do, e.g. Host: lbctl)");

  const connection = list("connection");
  const keepAlive = !connection.includes("close") && (version === "1.1" || connection.includes("keep-alive"));

  const te = list("transfer-encoding");
  const cl = all("content-length");
  let framing: Framing = { kind: "length", length: 0 };
  if (all("transfer-encoding").length > 0) {
    if (version === "1.0") return err(400, "bad_framing", "Transfer-Encoding is not valid in an HTTP/1.0 request");
    if (cl.length > 0) return err(400, "bad_framing", "both Transfer-Encoding and Content-Length: the body's length is ambiguous");
    const other = te.find((t) => t !== "chunked");
    if (te.at(-1) !== "chunked") return err(400, "bad_framing", "Transfer-Encoding must end with chunked");
    if (other !== undefined) return err(501, "not_implemented", `transfer coding '${printable(other)}' is not supported; send the body plain or chunked`);
    if (te.length > 1) return err(400, "bad_framing", "chunked is applied more than once");
    framing = { kind: "chunked" };
  } else if (cl.length > 0) {
    const values = cl.flatMap((x) => x.split(",")).map((x) => x.trim());
    if (!values.every((x) => /^\d+$/.test(x))) return err(400, "bad_framing", `Content-Length is not a number: '${printable(cl.join(", "))}'`);
    if (new Set(values.map((x) => x.replace(/^0+(?=.)/, ""))).size > 1) return err(400, "bad_framing", "Content-Length values differ");
    const digits = values[0]!.replace(/^0+(?=.)/, "");
    const length = digits.length > 15 ? Infinity : Number(digits);
    if (length > limits.maxBody) return tooLarge(limits.maxBody);
    framing = { kind: "length", length };
  }
  const expectContinue = version === "1.1" && list("expect").includes("100-continue");
  return { kind: "head", head: { method, target, version, headers, keepAlive }, framing, expectContinue };
}

/** Path (still percent-encoded) and query of a request target; null for a form the API has no use for. */
export function splitTarget(target: string): { path: string; query: string } | null {
  let rest = target;
  if (!rest.startsWith("/")) {
    // Absolute form (RFC 9112 3.2.2): a server must accept it, though only proxies are sent it.
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(rest);
    if (!m) return null;
    rest = m[1] === "" ? "/" : m[1]!;
    if (!rest.startsWith("/") && !rest.startsWith("?")) return null;
    if (rest.startsWith("?")) rest = `/${rest}`;
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  return q < 0 ? { path: rest, query: "" } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** The first value of a header, by lower-case name. */
export function headerValue(req: HttpRequest, name: string): string | undefined {
  return req.headers.find(([n]) => n === name)?.[1];
}
