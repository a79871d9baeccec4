// The native check engine (TinyCC-compiled C on its own thread) against hand-written servers on
// loopback: every verdict and failure reason must be the one the JavaScript checker gives for the same
// server, and the steady path (a success the engine re-arms alone) must only ever skip results that
// would have changed nothing.
import { createHash } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as httpCheck from "../../src/check/http.ts";
import { nativeCheckEngine, type NativeCheckEngine } from "../../src/check/native/engine.ts";
import * as tcpCheck from "../../src/check/tcp.ts";
import type { CheckResult, CheckerPolicy, CheckerSpec, HttpCheckParams, HttpUrl } from "../../src/check/types.ts";
import { loopbackServers } from "../helpers/loopback-servers.ts";

const loopback = loopbackServers();
const { tcpServer, closedPort } = loopback;
const httpServer = (respond: (s: net.Socket, path: string) => void) => loopback.httpServer((s, req) => respond(s, req.split(" ")[1] ?? ""));
let engine: NativeCheckEngine;

const policy: CheckerPolicy = { retry: 1, delayLoopMs: 60, delayBeforeRetryMs: 60, warmupMs: 0, alpha: false, logAllFailures: false };
const tcp = (port: number, over: Partial<HttpCheckParams> = {}): CheckerSpec =>
  ({ kind: "TCP_CHECK", params: { connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, ...over } });
const http = (port: number, url: HttpUrl, over: Partial<HttpCheckParams> = {}): CheckerSpec & { kind: "HTTP_GET" } =>
  ({ kind: "HTTP_GET", params: { connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, tls: false, httpProtocol: "1.0", urls: [url], ...over } });

/** One check in the engine, reported whatever its result (not steady). */
function runNative(spec: CheckerSpec): Promise<CheckResult | "fallback"> {
  return new Promise((resolve, reject) => {
    const h = engine.add(spec, policy, (result) => { engine.remove(h!); resolve(result); });
    if (!h) { reject(new Error(`the engine does not take ${JSON.stringify(spec)}`)); return; }
    engine.schedule(h, 0, null);
  });
}

function runJs(spec: CheckerSpec): Promise<CheckResult> {
  return spec.kind === "TCP_CHECK" ? tcpCheck.run(spec.params) : httpCheck.run((spec as { params: HttpCheckParams }).params);
}

/** The engine and the JavaScript checker on the same server: same verdict, same reason. */
async function sameAsJs(spec: CheckerSpec): Promise<CheckResult> {
  const [native, js] = await Promise.all([runNative(spec), runJs(spec)]);
  expect(native).not.toBe("fallback");
  const n = native as CheckResult;
  expect({ ok: n.ok, reason: n.reason }).toEqual({ ok: js.ok, reason: js.reason });
  return n;
}

const BODY = "hello from the real server\n";
const BODY_MD5 = createHash("md5").update(BODY).digest("hex");
let okPort = 0;

beforeAll(async () => {
  const e = nativeCheckEngine();
  if (e instanceof Error) throw e;
  engine = e;
  okPort = await httpServer((s, path) => {
    if (path === "/health") s.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    else if (path === "/chunked") s.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(BODY.length - 5).toString(16)}\r\n${BODY.slice(0, -5)}\r\n5;x=y\r\n${BODY.slice(-5)}\r\n0\r\n\r\n`);
    else if (path === "/keepalive") s.write(`HTTP/1.1 200 OK\r\ncontent-length : ${BODY.length}\r\n\r\n${BODY}`); // framed, never closed
    else s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
  });
});

afterAll(() => loopback.closeAll());

describe("native engine: same verdicts and reasons as the JavaScript checkers", () => {
  it("TCP: connected, refused, bindto and a bind failure", async () => {
    expect((await sameAsJs(tcp(okPort))).reason).toBe(`connected to 127.0.0.1:${okPort}`);
    const closed = await closedPort();
    expect((await sameAsJs(tcp(closed))).reason).toBe(`connect to 127.0.0.1:${closed} failed: ECONNREFUSED (Connection refused)`);
    let seenFrom = "";
    const port = await tcpServer((s) => { seenFrom = `${s.remoteAddress}`; s.end(); });
    expect((await runNative(tcp(port, { bindto: "127.0.0.2" })) as CheckResult).ok).toBe(true);
    expect(seenFrom).toBe("127.0.0.2");
    expect((await sameAsJs(tcp(port, { bindto: "10.9.9.9" }))).reason).toBe("bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)");
  });

  it("IPv6: TCP and HTTP to ::1", async () => {
    const port = await tcpServer((s) => s.on("data", () => s.end(`HTTP/1.0 200 OK\r\n\r\n${BODY}`)), "::1");
    expect((await sameAsJs(tcp(port, { connectIp: "::1" }))).reason).toBe(`connected to [::1]:${port}`);
    expect((await sameAsJs(http(port, { path: "/", digest: BODY_MD5 }, { connectIp: "::1" }))).ok).toBe(true);
  });

  it("HTTP: status, digest over Content-Length and chunked bodies, a framed response on a connection left open", async () => {
    expect((await sameAsJs(http(okPort, { path: "/index.html", digest: BODY_MD5 }))).ok).toBe(true);
    expect((await sameAsJs(http(okPort, { path: "/chunked", digest: BODY_MD5 }))).ok).toBe(true);
    expect((await sameAsJs(http(okPort, { path: "/keepalive", digest: BODY_MD5 }))).ok).toBe(true);
    expect((await sameAsJs(http(okPort, { path: "/health" }))).reason).toBe("HTTP status 503 not in 200-299 for GET /health");
    expect((await sameAsJs(http(okPort, { path: "/health", statusCodes: [{ from: 500, to: 599 }] }))).ok).toBe(true);
    const bad = "1a2b3c4d5e6f70819293a4b5c6d7e8f9";
    expect((await sameAsJs(http(okPort, { path: "/index.html", digest: bad }))).reason)
      .toBe(`MD5 digest ${BODY_MD5} != expected ${bad} for /index.html (${BODY.length} body bytes)`);
  });

  it("HTTP: silence, reset, early close and a non-HTTP answer", async () => {
    const silent = await tcpServer(() => {});
    expect((await sameAsJs(http(silent, { path: "/x" }, { connectTimeoutMs: 400 }))).reason)
      .toBe("timeout after 400 ms waiting for response headers for GET /x (received 0 bytes)");
    const reset = await httpServer((s) => { s.write("HTTP/1.0 200 OK\r\n"); setTimeout(() => s.resetAndDestroy(), 20); });
    expect((await sameAsJs(http(reset, { path: "/r" }))).reason)
      .toBe("connection reset by peer waiting for response headers for GET /r (received 17 bytes): ECONNRESET (Connection reset by peer)");
    const short = await httpServer((s) => s.end("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
    expect((await sameAsJs(http(short, { path: "/s" }))).reason).toBe("connection closed after 5 of 100 body bytes for GET /s");
    const ssh = await tcpServer((s) => s.end("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    expect((await sameAsJs(http(ssh, { path: "/" }))).reason).toBe('malformed status line "SSH-2.0-OpenSSH_9.2" for GET /');
  });

  it("HTTP: a trickling server fails at connect_timeout, body phase named", async () => {
    const trickle = await httpServer((s) => {
      const text = `HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
      s.write(text.slice(0, 40));
      let i = 40;
      const t = setInterval(() => { if (s.destroyed || i >= text.length) { clearInterval(t); return; } s.write(text[i++]); }, 150);
    });
    const r = await runNative(http(trickle, { path: "/slow" }, { connectTimeoutMs: 600 })) as CheckResult;
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^timeout after 600 ms reading body for GET \/slow \(received 4[0-9] bytes\)$/);
  });

  it("a response larger than the engine keeps goes back to the JavaScript checker", async () => {
    const big = "x".repeat(5 << 20);
    const port = await httpServer((s) => s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`));
    expect(await runNative(http(port, { path: "/big" }, { connectTimeoutMs: 5000 }))).toBe("fallback");
  });
});

describe("native engine: many checkers at once", () => {
  it("takes more commands than its pipe holds at once (a start of thousands of checkers) and runs them all", async () => {
    const closed = await closedPort();
    const n = 8000; // 8,000 ADDs of 176 bytes: more than the 1 MiB command pipe
    const reasons = await Promise.all(Array.from({ length: n }, () => new Promise<string>((resolve) => {
      const h = engine.add(tcp(closed), policy, (r) => { engine.remove(h!); resolve(r === "fallback" ? "fallback" : r.reason); });
      engine.schedule(h!, 0, null);
    })));
    expect(new Set(reasons)).toEqual(new Set([`connect to 127.0.0.1:${closed} failed: ECONNREFUSED (Connection refused)`]));
  });
});

describe("native engine: the steady path", () => {
  /** A checker left running: every reported result, in order. */
  function keep(spec: CheckerSpec, steadyAfterFirst: (first: CheckResult, status: number) => number | null) {
    const reported: CheckResult[] = [];
    const h = engine.add(spec, policy, (result, status) => {
      if (result === "fallback") throw new Error("unexpected fallback");
      reported.push(result);
      engine.schedule(h!, policy.delayLoopMs, result.ok ? steadyAfterFirst(result, status) : null);
    })!;
    engine.schedule(h, 0, null);
    return { reported, counters: () => engine.counters(h), stop: () => engine.remove(h) };
  }
  const until = async (what: () => boolean) => { for (let i = 0; i < 200 && !what(); i++) await Bun.sleep(20); expect(what()).toBe(true); };

  it("re-arms steady TCP successes without reporting them, counts them, and reports the failure that ends them", async () => {
    let accepts = 0;
    const srv = net.createServer((s) => { accepts++; s.destroy(); });
    const port = await new Promise<number>((r) => srv.listen(0, "127.0.0.1", () => r((srv.address() as net.AddressInfo).port)));
    const c = keep(tcp(port), () => 0);
    await until(() => c.counters().successes >= 4);
    expect(c.reported).toHaveLength(1);
    expect(accepts).toBeGreaterThanOrEqual(4);
    await new Promise((r) => srv.close(r));
    await until(() => c.reported.length >= 2);
    expect(c.reported[1]).toMatchObject({ ok: false, reason: `connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)` });
    const n = c.counters();
    expect(n.failures).toBeGreaterThanOrEqual(1);
    expect(n.latency.count).toBe(n.successes + n.failures);
    c.stop();
  });

  it("an HTTP success with another status is reported (the reason names it); a chunked body's digest holds on the steady path", async () => {
    let status = 200;
    const port = await httpServer((s) => s.end(`HTTP/1.1 ${status} OK\r\nTransfer-Encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`));
    const c = keep(http(port, { path: "/", digest: BODY_MD5 }), (_r, st) => st);
    await until(() => c.counters().successes >= 4);
    expect(c.reported.map((r) => r.reason)).toEqual(["GET /: HTTP 200"]);
    status = 201; // still within 200-299: a success, but not the one the engine was told is steady
    await until(() => c.reported.length >= 2);
    expect(c.reported[1]).toMatchObject({ ok: true, reason: "GET /: HTTP 201" });
    c.stop();
  });
});
