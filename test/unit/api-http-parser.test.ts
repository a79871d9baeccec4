// The control API's HTTP/1.x request parser (src/daemon/http-parser.ts): a table of well-formed
// and malformed requests, each also fed split at every byte boundary and a byte at a time,
// pipelining, the limits, and a seeded fuzz run that must never throw or loop.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, HttpParser, splitTarget, type HttpLimits, type ParseEvent } from "../../src/daemon/http-parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Out =
  | { req: string; version: string; keepAlive: boolean; headers: [string, string][]; body: string }
  | { error: number; code: string }
  | "continue";

function simplify(e: ParseEvent): Out {
  if (e.kind === "continue") return "continue";
  if (e.kind === "error") return { error: e.error.status, code: e.error.code };
  const r = e.request;
  return { req: `${r.method} ${r.target}`, version: r.version, keepAlive: r.keepAlive, headers: r.headers, body: dec.decode(r.body) };
}

/** Feeds the pieces in order, taking every event after each, then ends the input. */
function run(pieces: Uint8Array[], limits?: Partial<HttpLimits>, o: { keepContinue?: boolean } = {}): Out[] {
  const p = new HttpParser(limits);
  const out: Out[] = [];
  const drain = () => {
    // Each next() either consumes input or returns null: more calls than bytes is a loop.
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error("parser does not stop returning events");
      const e = p.next();
      if (!e) return;
      out.push(simplify(e));
    }
  };
  for (const piece of pieces) { p.push(piece); drain(); }
  const f = p.finish();
  if (f) out.push(simplify(f));
  return o.keepContinue ? out : out.filter((x) => x !== "continue");
}

const whole = (s: string | Uint8Array, limits?: Partial<HttpLimits>) => run([typeof s === "string" ? enc.encode(s) : s], limits);

function everySplit(s: string, limits?: Partial<HttpLimits>): void {
  const bytes = enc.encode(s);
  const expected = run([bytes], limits);
  for (let i = 0; i <= bytes.length; i++) {
    expect(run([bytes.subarray(0, i), bytes.subarray(i)], limits), `split at ${i}`).toEqual(expected);
  }
  expect(run([...bytes].map((b) => Uint8Array.of(b)), limits), "a byte at a time").toEqual(expected);
}

const GET = "GET /v1/status HTTP/1.1\r\nHost: lbctl\r\n\r\n";

interface Case { name: string; input: string; out: Out[]; limits?: Partial<HttpLimits> }

const ok = (req: string, o: Partial<{ version: string; keepAlive: boolean; headers: [string, string][]; body: string }> = {}): Out =>
  ({ req, version: o.version ?? "1.1", keepAlive: o.keepAlive ?? true, headers: o.headers ?? [["host", "lbctl"]], body: o.body ?? "" });
const bad = (error: number, code: string): Out => ({ error, code });

const CASES: Case[] = [
  { name: "a plain GET", input: GET, out: [ok("GET /v1/status")] },
  { name: "HTTP/1.0 without Host (issue 13: was 500 Invalid URL)", input: "GET /v1/status HTTP/1.0\r\n\r\n", out: [ok("GET /v1/status", { version: "1.0", keepAlive: false, headers: [] })] },
  { name: "HTTP/1.0 keep-alive", input: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", out: [ok("GET /", { version: "1.0", keepAlive: true, headers: [["connection", "Keep-Alive"]] })] },
  { name: "HTTP/1.1 Connection: close", input: "GET / HTTP/1.1\r\nHost: lbctl\r\nConnection: foo, close\r\n\r\n", out: [ok("GET /", { keepAlive: false, headers: [["host", "lbctl"], ["connection", "foo, close"]] })] },
  { name: "HTTP/1.2 is answered as 1.1", input: "GET / HTTP/1.2\r\nHost: lbctl\r\n\r\n", out: [ok("GET /")] },
  { name: "bare LF line ends", input: "GET / HTTP/1.1\nHost: lbctl\n\n", out: [ok("GET /")] },
  { name: "empty lines before the request line are skipped", input: "\r\n\r\n" + GET, out: [ok("GET /v1/status")] },
  { name: "header value white space trimmed, names lower-cased", input: "GET / HTTP/1.1\r\nHOST:   lbctl \t\r\nX-A:\r\n\r\n", out: [ok("GET /", { headers: [["host", "lbctl"], ["x-a", ""]] })] },
  { name: "a Content-Length body", input: "POST /v1/reload HTTP/1.1\r\nHost: lbctl\r\nContent-Length: 2\r\n\r\n{}", out: [ok("POST /v1/reload", { headers: [["host", "lbctl"], ["content-length", "2"]], body: "{}" })] },
  { name: "equal repeated Content-Length", input: "POST / HTTP/1.1\r\nHost: lbctl\r\nContent-Length: 2, 02\r\n\r\n{}", out: [ok("POST /", { headers: [["host", "lbctl"], ["content-length", "2, 02"]], body: "{}" })] },
  {
    name: "a chunked body, with an extension and a trailer",
    input: "POST / HTTP/1.1\r\nHost: lbctl\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\n{\r\n01\r\n}\r\n0\r\nX-T: 1\r\n\r\n",
    out: [ok("POST /", { headers: [["host", "lbctl"], ["transfer-encoding", "chunked"]], body: "{}" })],
  },
  {
    name: "three pipelined requests in one piece",
    input: GET + "POST /v1/reload HTTP/1.1\r\nHost: lbctl\r\nContent-Length: 0\r\n\r\n" + "GET /a HTTP/1.0\r\n\r\n",
    out: [ok("GET /v1/status"), ok("POST /v1/reload", { headers: [["host", "lbctl"], ["content-length", "0"]] }), ok("GET /a", { version: "1.0", keepAlive: false, headers: [] })],
  },
  { name: "a request, then garbage: the request still comes out", input: GET + "\x00\x01garbage\r\n\r\n", out: [ok("GET /v1/status"), bad(400, "bad_request_line")] },
  { name: "a cut request at the end", input: "GET / HTTP/1.1\r\nHost: lb", out: [bad(400, "incomplete_request")] },
  { name: "a cut body at the end", input: "POST / HTTP/1.1\r\nHost: lbctl\r\nContent-Length: 5\r\n\r\nab", out: [bad(400, "incomplete_request")] },
  { name: "HTTP/1.1 without Host", input: "GET / HTTP/1.1\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "two Host headers", input: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "HTTP/2.0", input: "GET / HTTP/2.0\r\nHost: lbctl\r\n\r\n", out: [bad(505, "version_not_supported")] },
  { name: "HTTP/0.9", input: "GET / HTTP/0.9\r\n\r\n", out: [bad(505, "version_not_supported")] },
  { name: "no version (HTTP/0.9 style)", input: "GET /\r\n\r\n", out: [bad(400, "bad_request_line")] },
  { name: "a malformed version", input: "GET / HTTP/1.10\r\nHost: x\r\n\r\n", out: [bad(400, "bad_request_line")] },
  { name: "two spaces in the request line", input: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", out: [bad(400, "bad_request_line")] },
  { name: "a method that is not a token", input: "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", out: [bad(400, "bad_request_line")] },
  { name: "a non-ASCII byte in the target", input: "GET /\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n", out: [bad(400, "bad_request_line")] },
  { name: "space before the colon", input: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "a header line without colon", input: "GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "obsolete line folding", input: "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "a bare CR in a value", input: "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "a NUL in a value", input: "GET / HTTP/1.1\r\nHost: x\x00\r\n\r\n", out: [bad(400, "bad_header")] },
  { name: "Content-Length not a number", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "negative Content-Length", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "differing Content-Length", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", out: [bad(400, "bad_framing")] },
  { name: "Content-Length and Transfer-Encoding (smuggling)", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "Transfer-Encoding not ending in chunked", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "an unknown transfer coding", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", out: [bad(501, "not_implemented")] },
  { name: "chunked twice", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "Transfer-Encoding in HTTP/1.0", input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", out: [bad(400, "bad_framing")] },
  { name: "a bad chunk size", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", out: [bad(400, "bad_chunk")] },
  { name: "chunk data not followed by CRLF", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", out: [bad(400, "bad_chunk")] },
  { name: "a body over the limit (Content-Length)", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits: { maxBody: 10 }, out: [bad(413, "too_large")] },
  { name: "a huge Content-Length", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 000099999999999999999999\r\n\r\n", out: [bad(413, "too_large")] },
  { name: "a body over the limit (chunked)", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n12345\r\n", limits: { maxBody: 10 }, out: [bad(413, "too_large")] },
  { name: "a huge chunk size", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", out: [bad(413, "too_large")] },
  { name: "a body exactly at the limit", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", limits: { maxBody: 10 }, out: [ok("POST /", { headers: [["host", "x"], ["content-length", "10"]], body: "0123456789" })] },
  { name: "a request line over the head limit", input: `GET /${"a".repeat(200)} HTTP/1.1\r\nHost: x\r\n\r\n`, limits: { maxHeadBytes: 100 }, out: [bad(414, "uri_too_long")] },
  { name: "headers over the head limit", input: `GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(200)}\r\n\r\n`, limits: { maxHeadBytes: 100 }, out: [bad(431, "headers_too_large")] },
  { name: "too many headers", input: `GET / HTTP/1.1\r\nHost: x\r\n${"X: 1\r\n".repeat(5)}\r\n`, limits: { maxHeaders: 5 }, out: [bad(431, "headers_too_large")] },
  { name: "too many trailers", input: `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"X: 1\r\n".repeat(3)}\r\n`, limits: { maxHeaders: 2 }, out: [bad(431, "headers_too_large")] },
  { name: "nothing but empty lines", input: "\r\n\r\n\n", out: [] },
  { name: "nothing after an error comes out", input: "BAD\r\n\r\n" + GET, out: [bad(400, "bad_request_line")] },
];

describe("HttpParser", () => {
  it.each(CASES)("$name", (c) => {
    expect(whole(c.input, c.limits)).toEqual(c.out);
    everySplit(c.input, c.limits);
  });

  it("the default limits are 8 KiB of head, 100 headers and 64 KiB of body", () => {
    expect(DEFAULT_LIMITS).toEqual({ maxHeadBytes: 8192, maxHeaders: 100, maxBody: 65536 });
    expect(whole(`GET / HTTP/1.1\r\nHost: x\r\n${"X: 1\r\n".repeat(99)}\r\n`)).toHaveLength(1);
    expect(whole(`GET / HTTP/1.1\r\nHost: x\r\n${"X: 1\r\n".repeat(100)}\r\n`)).toEqual([bad(431, "headers_too_large")]);
    const body = "x".repeat(65536);
    expect(whole(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`)).toMatchObject([{ body }]);
    expect(whole(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length + 1}\r\n\r\n`)).toEqual([bad(413, "too_large")]);
  });

  it("gives out one request per next(), leaving the rest buffered (the shell paces a pipeline)", () => {
    const p = new HttpParser();
    p.push(enc.encode(GET + GET + "GET /x HTTP/1.1\r\nHost: lb"));
    expect(p.next()).toMatchObject({ kind: "request" });
    expect(p.buffered).toBe(GET.length + "GET /x HTTP/1.1\r\nHost: lb".length);
    expect(p.next()).toMatchObject({ kind: "request" });
    expect(p.next()).toBeNull();
    expect(p.idle).toBe(false);
    p.push(enc.encode("ctl\r\n\r\n"));
    expect(p.next()).toMatchObject({ kind: "request", request: { target: "/x" } });
    expect(p.idle).toBe(true);
    expect(p.finish()).toBeNull();
  });

  it("says 100-continue only while the body has not arrived", () => {
    const head = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    expect(run([enc.encode(head), enc.encode("{}")], undefined, { keepContinue: true })).toEqual(["continue", expect.objectContaining({ body: "{}" })]);
    expect(run([enc.encode(head + "{}")], undefined, { keepContinue: true })).toEqual([expect.objectContaining({ body: "{}" })]);
    const h10 = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    expect(run([enc.encode(h10), enc.encode("{}")], undefined, { keepContinue: true })).toEqual([expect.objectContaining({ body: "{}" })]);
  });

  it("takes nothing more after an error, and frees what it held", () => {
    const p = new HttpParser();
    p.push(enc.encode("GET / HTTP/9.9\r\n\r\n"));
    expect(p.next()).toMatchObject({ kind: "error", error: { status: 505 } });
    expect(p.failed).toBe(true);
    p.push(enc.encode(GET));
    expect(p.next()).toBeNull();
    expect(p.buffered).toBe(0);
    expect(p.finish()).toBeNull();
  });

  it("error messages name what was wrong, with control bytes escaped", () => {
    const p = new HttpParser();
    p.push(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX\x01Y: 1\r\n\r\n"));
    expect(p.next()).toEqual({ kind: "error", error: { status: 400, code: "bad_header", message: "not a valid header name: 'X\\x01Y'" } });
  });
});

describe("splitTarget", () => {
  it.each([
    ["/v1/status", { path: "/v1/status", query: "" }],
    ["/v1/events?since=3&follow=0", { path: "/v1/events", query: "since=3&follow=0" }],
    ["/a%20b?x#frag", { path: "/a%20b", query: "x" }],
    ["http://lbctl/v1/status?x=1", { path: "/v1/status", query: "x=1" }],
    ["http://lbctl", { path: "/", query: "" }],
    ["http://lbctl?x", { path: "/", query: "x" }],
    ["*", null],
    ["lbctl:80", null],
    ["v1/status", null],
  ])("%s", (target, expected) => {
    expect(splitTarget(target)).toEqual(expected);
  });
});

// A small deterministic PRNG, so a failure names its seed and replays.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("fuzz (bounded, seeded)", () => {
  // LBCTL_FUZZ_CASES as in fuzz-decoders.test.ts, for a long run.
  const SEEDS = Number(process.env.LBCTL_FUZZ_CASES ?? 400);
  const corpus = CASES.map((c) => enc.encode(c.input));
  const alphabet = enc.encode("\r\n :;,0123456789abcdefABCDEF\t\x00\x7f\xff-GETPOSTHTTP/1.chunkedContent-LengthTransfer-EncodingHostExpect100-continue");

  function mutate(r: () => number): Uint8Array {
    const base = corpus[Math.floor(r() * corpus.length)]!;
    const pick = () => alphabet[Math.floor(r() * alphabet.length)]!;
    const bytes = [...base];
    const edits = 1 + Math.floor(r() * 6);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(r() * (bytes.length + 1));
      const op = r();
      if (op < 0.3) bytes.splice(at, 1);
      else if (op < 0.6) bytes.splice(at, 0, pick());
      else if (op < 0.8) bytes[at] = pick();
      else bytes.splice(at, 0, ...corpus[Math.floor(r() * corpus.length)]!.slice(0, Math.floor(r() * 64)));
    }
    if (r() < 0.2) for (let k = 0; k < 200; k++) bytes.push(Math.floor(r() * 256)); // plain noise on the end
    return Uint8Array.from(bytes);
  }

  it(`${SEEDS} mutated inputs: no throw, no loop, the same events however the bytes are split`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = rng(seed);
      const input = mutate(r);
      const limits = r() < 0.5 ? undefined : { maxHeadBytes: 16 + Math.floor(r() * 200), maxHeaders: 1 + Math.floor(r() * 5), maxBody: Math.floor(r() * 50) };
      let expected: Out[];
      try { expected = run([input], limits); } catch (e) { throw new Error(`seed ${seed}: ${(e as Error).message}`); }
      // At most one error, and it is the last event.
      const errors = expected.filter((x) => typeof x === "object" && "error" in x);
      expect(errors.length, `seed ${seed}`).toBeLessThanOrEqual(1);
      if (errors.length) expect(expected.at(-1), `seed ${seed}`).toBe(errors[0]);
      for (const x of errors) expect([400, 413, 414, 431, 501, 505], `seed ${seed}`).toContain((x as { error: number }).error);
      // Random cut points give the same events.
      const cuts = [...new Set([0, input.length, ...Array.from({ length: 4 }, () => Math.floor(r() * input.length))])].sort((a, b) => a - b);
      const pieces = cuts.slice(1).map((c, i) => input.subarray(cuts[i], c));
      expect(run(pieces, limits), `seed ${seed}`).toEqual(expected);
    }
  });

  it("random bytes alone", () => {
    const r = rng(4242);
    for (let n = 0; n < Math.max(200, SEEDS / 2); n++) {
      const input = Uint8Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256));
      const out = run([input]);
      expect(out.length).toBeLessThanOrEqual(1);
    }
  });
});
