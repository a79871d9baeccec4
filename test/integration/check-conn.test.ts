// The stream checkers' plain TCP connections run on Bun's native socket (an ffi non-blocking connect
// adopted by Bun.connect({ fd })), not node:net; TLS and bindto/bind_port stay on node:net. Asserted here:
// which path is taken, that both paths give the SAME failure reasons against the same misbehaving servers
// (refused, reset, peer closed, silent, aborted), and that no descriptor outlives a check, also when
// the connect itself hangs (SYNs dropped, in a namespace of our own) and the check times out or is aborted.
import { readdirSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as http from "../../src/check/http.ts";
import { buildRequest } from "../../src/check/http.ts";
import * as smtp from "../../src/check/smtp.ts";
import * as tcp from "../../src/check/tcp.ts";
import type { CheckResult, ConnectOptions, HttpCheckParams, HttpUrl, SmtpCheckParams } from "../../src/check/types.ts";
import { createLab, type Lab } from "../helpers/netns.ts";

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

function tcpServer(onConn: (s: net.Socket) => void, host = "127.0.0.1"): Promise<number> {
  return new Promise((done) => {
    const srv = net.createServer((s) => { sockets.add(s); s.on("error", () => {}); s.on("close", () => sockets.delete(s)); onConn(s); });
    srv.listen(0, host, () => done((srv.address() as net.AddressInfo).port));
    servers.push(srv);
  });
}

async function closedPort(host = "127.0.0.1"): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Calls `respond` once the request head (HTTP) or each command line (SMTP) has arrived. */
function lineServer(onText: (s: net.Socket, text: string) => void, greeting?: string): Promise<number> {
  return tcpServer((s) => {
    if (greeting) s.write(greeting);
    let text = "";
    s.on("data", (d) => { text += d.toString("latin1"); onText(s, text); });
  });
}

const openFds = (): number => readdirSync("/proc/self/fd").length;

/** Wait (briefly) for closed sockets to be released, then count. */
async function settledFds(atMost: number): Promise<number> {
  let n = openFds();
  for (let i = 0; i < 40 && n > atMost; i++) { await Bun.sleep(25); n = openFds(); }
  return n;
}

const BODY = "hello\n";
const httpParams = (port: number, url: HttpUrl, over: Partial<HttpCheckParams> = {}): HttpCheckParams => ({
  connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, tls: false, urls: [url], httpProtocol: "1.0", ...over,
});
const smtpParams = (port: number, over: Partial<ConnectOptions> = {}): SmtpCheckParams => ({
  heloName: "me.test", hosts: [{ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, ...over }],
});

let okPort = 0, smtpOk = 0, v6Port = 0;

beforeAll(async () => {
  okPort = await lineServer((s, req) => { if (req.includes("\r\n\r\n")) s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`); });
  smtpOk = await lineServer((s, text) => {
    if (text.endsWith("QUIT\r\n")) s.end("221 bye\r\n");
    else if (text.endsWith("\r\n") && text.startsWith("HELO")) s.write("250 hello\r\n");
  }, "220 mail.test ESMTP\r\n");
  v6Port = await tcpServer(() => {}, "::1");
});

afterEach(() => { vi.restoreAllMocks(); });

afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

describe("which path a stream check takes", () => {
  it("plain TCP_CHECK, HTTP_GET and SMTP_CHECK use Bun's native socket; bindto goes through node:net", async () => {
    const nodeConnect = vi.spyOn(net, "connect");
    const bunConnect = vi.spyOn(Bun, "connect");
    expect(await tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, connectTimeoutMs: 1000 })).toMatchObject({ ok: true, reason: `connected to 127.0.0.1:${okPort}` });
    expect(await tcp.run({ connectIp: "::1", connectPort: v6Port, connectTimeoutMs: 1000 })).toMatchObject({ ok: true, reason: `connected to [::1]:${v6Port}` });
    expect(await http.run(httpParams(okPort, { path: "/" }))).toMatchObject({ ok: true, reason: "GET /: HTTP 200" });
    expect((await smtp.run(smtpParams(smtpOk))).reason).toBe(`SMTP ok: 127.0.0.1:${smtpOk} 220 mail.test ESMTP`);
    expect(nodeConnect).not.toHaveBeenCalled();
    expect(bunConnect).toHaveBeenCalledTimes(4);
    for (const [options] of bunConnect.mock.calls) expect(typeof (options as { fd?: unknown }).fd).toBe("number");

    expect(await tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, bindto: "127.0.0.1", connectTimeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(nodeConnect).toHaveBeenCalledTimes(1);
  });
});

/** The same check on the native path and, with bindto 127.0.0.1, on node:net. */
async function bothPaths(run: (over: Partial<ConnectOptions>) => Promise<CheckResult>): Promise<[string, string]> {
  const native = await run({});
  const node = await run({ bindto: "127.0.0.1" });
  return [native.reason, node.reason];
}

describe("failure reasons are the same on both paths", () => {
  it("refused (IPv4 and IPv6)", async () => {
    const port = await closedPort();
    const reasons = await bothPaths((o) => tcp.run({ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, ...o }));
    expect(reasons).toEqual(Array(2).fill(`connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)`));
    const p6 = await closedPort("::1");
    expect((await tcp.run({ connectIp: "::1", connectPort: p6, connectTimeoutMs: 1000 })).reason).toBe(`connect to [::1]:${p6} failed: ECONNREFUSED (Connection refused)`);
    expect((await http.run(httpParams(port, { path: "/" }))).reason).toBe(`connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)`);
  });

  it("a server that accepts and never answers: timeout naming the phase", async () => {
    const port = await tcpServer(() => {});
    const reasons = await bothPaths((o) => http.run(httpParams(port, { path: "/x" }, { connectTimeoutMs: 300, ...o })));
    expect(reasons).toEqual(Array(2).fill("timeout after 300 ms waiting for response headers for GET /x (received 0 bytes)"));
    const smtpReasons = await bothPaths((o) => smtp.run(smtpParams(port, { connectTimeoutMs: 300, ...o })));
    expect(smtpReasons).toEqual(Array(2).fill("timeout after 300 ms waiting for the SMTP banner (received 0 bytes)"));
  });

  it("reset by the peer, before and after part of the response", async () => {
    // Reset as soon as accepted: the request's write is what fails (Bun's native write gives no errno).
    const atOnce = await tcpServer((s) => s.resetAndDestroy());
    expect(await bothPaths((o) => http.run(httpParams(atOnce, { path: "/0" }, o))))
      .toEqual(Array(2).fill("connection reset by peer waiting for response headers for GET /0 (received 0 bytes): ECONNRESET (Connection reset by peer)"));
    const quiet = await lineServer((s, req) => { if (req.includes("\r\n\r\n")) s.resetAndDestroy(); });
    expect(await bothPaths((o) => http.run(httpParams(quiet, { path: "/r" }, o))))
      .toEqual(Array(2).fill("connection reset by peer waiting for response headers for GET /r (received 0 bytes): ECONNRESET (Connection reset by peer)"));
    const partial = await lineServer((s, req) => { if (req.includes("\r\n\r\n")) { s.write("HTTP/1.0 200 OK\r\n"); setTimeout(() => s.resetAndDestroy(), 20); } });
    expect(await bothPaths((o) => http.run(httpParams(partial, { path: "/p" }, o))))
      .toEqual(Array(2).fill("connection reset by peer waiting for response headers for GET /p (received 17 bytes): ECONNRESET (Connection reset by peer)"));
    const smtpReset = await lineServer((s, text) => { if (text.startsWith("HELO")) s.resetAndDestroy(); }, "220 mail.test\r\n");
    expect(await bothPaths((o) => smtp.run(smtpParams(smtpReset, o))))
      .toEqual(Array(2).fill("connection reset by peer waiting for the reply to HELO (received 15 bytes): ECONNRESET (Connection reset by peer)"));
  });

  it("closed by the peer", async () => {
    const smtpClose = await lineServer((s, text) => { if (text.startsWith("HELO")) s.end(); }, "220 mail.test\r\n");
    expect(await bothPaths((o) => smtp.run(smtpParams(smtpClose, o))))
      .toEqual(Array(2).fill("connection closed by peer waiting for the reply to HELO (received 15 bytes)"));
    const httpClose = await lineServer((s, req) => { if (req.includes("\r\n\r\n")) s.end("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort"); });
    expect(await bothPaths((o) => http.run(httpParams(httpClose, { path: "/s" }, o))))
      .toEqual(Array(2).fill("connection closed after 5 of 100 body bytes for GET /s"));
    // TCP_CHECK only needs the connection: a peer that closes at once still passes.
    const closer = await tcpServer((s) => s.end());
    expect((await tcp.run({ connectIp: "127.0.0.1", connectPort: closer, connectTimeoutMs: 1000 })).ok).toBe(true);
  });

  it("aborted through the AbortSignal", async () => {
    const port = await tcpServer(() => {});
    const reasons = await bothPaths(async (o) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      return http.run(httpParams(port, { path: "/a" }, o), ac.signal);
    });
    expect(reasons).toEqual(["check aborted", "check aborted"]);
  });
});

describe("writes", () => {
  it("a request larger than the socket takes at once is sent whole (the rest on 'drain')", async () => {
    let got = 0;
    const port = await lineServer((s, req) => {
      if (!req.endsWith("\r\n\r\n")) return;
      got = req.length;
      s.end("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    const path = `/${"a".repeat(8 << 20)}`;
    const r = await http.run(httpParams(port, { path }, { connectTimeoutMs: 5000 }));
    expect(r.ok).toBe(true);
    expect(got).toBe(Buffer.byteLength(buildRequest(httpParams(port, { path }), { path })));
  });
});

describe("descriptors", () => {
  it("none outlives a check over 2,000 checks of every outcome", async () => {
    // Reads (and so sees the checker's FIN and closes): the count below is then the checker's alone.
    const silent = await tcpServer((s) => s.resume());
    const reset = await lineServer((s, req) => { if (req.includes("\r\n\r\n")) s.resetAndDestroy(); });
    const refused = await closedPort();
    const kinds: (() => Promise<CheckResult>)[] = [
      () => tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, connectTimeoutMs: 1000 }),
      () => tcp.run({ connectIp: "127.0.0.1", connectPort: refused, connectTimeoutMs: 1000 }),
      () => http.run(httpParams(okPort, { path: "/" })),
      () => http.run(httpParams(reset, { path: "/" })),
      () => http.run(httpParams(silent, { path: "/" }, { connectTimeoutMs: 30 })),
      () => smtp.run(smtpParams(smtpOk)),
      () => { const ac = new AbortController(); setTimeout(() => ac.abort(), 5); return http.run(httpParams(silent, { path: "/" }), ac.signal); },
    ];
    await Promise.all(kinds.map((k) => k())); // warm up whatever is lazily opened once
    const before = await settledFds(openFds());
    const outcomes = new Map<boolean, number>();
    for (let i = 0; i < 2000; i += 100) {
      const results = await Promise.all(Array.from({ length: 100 }, (_, j) => kinds[(i + j) % kinds.length]()));
      for (const r of results) outcomes.set(r.ok, (outcomes.get(r.ok) ?? 0) + 1);
    }
    // 3 of every 7 kinds pass; the rest fail (refused, reset, timeout, aborted).
    expect(outcomes.get(true)).toBeGreaterThan(800);
    expect(outcomes.get(false)).toBeGreaterThan(1100);
    expect(await settledFds(before)).toBeLessThanOrEqual(before);
  });

  describe("when the connect itself hangs (SYNs dropped)", () => {
    let lab: Lab;
    let ns = "";
    let dir = "";
    beforeAll(async () => {
      lab = createLab("lbcc-");
      [ns] = await lab.namespaces("bh");
      await lab.run(ns, ["nft", "add table inet cc; add chain inet cc in { type filter hook input priority 0; }; add rule inet cc in tcp dport 9 drop"]);
      dir = mkdtempSync(join(tmpdir(), "lbcc-"));
    });
    afterAll(async () => {
      await lab?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("a connect_timeout or an abort ends the connect and frees its descriptor, on both paths", async () => {
      // Runs inside the namespace: 200 checks to a port whose SYNs are dropped, half timed out, half aborted.
      const script = join(dir, "hang.ts");
      writeFileSync(script, `
import { readdirSync } from "node:fs";
import * as tcp from ${JSON.stringify(resolve("src/check/tcp.ts"))};
const fds = () => readdirSync("/proc/self/fd").length;
const base = { connectIp: "127.0.0.1", connectPort: 9, connectTimeoutMs: 200 };
await tcp.run(base);
const before = fds();
const reasons = new Set();
let peak = 0;
const probe = setInterval(() => { peak = Math.max(peak, fds()); }, 20);
await Promise.all(Array.from({ length: 200 }, async (_, i) => {
  const over = i % 4 < 2 ? {} : { bindto: "127.0.0.1" };
  const ac = new AbortController();
  if (i % 2) setTimeout(() => ac.abort(), 50);
  reasons.add((await tcp.run({ ...base, ...over }, ac.signal)).reason);
}));
clearInterval(probe);
await Bun.sleep(100);
console.log(JSON.stringify({ before, peak, after: fds(), reasons: [...reasons].sort() }));
process.exit(0);
`);
      const out = JSON.parse(await lab.run(ns, [resolve("node_modules/.bin/bun"), script], { timeoutMs: 20_000 })) as
        { before: number; peak: number; after: number; reasons: string[] };
      expect(out.reasons).toEqual(["check aborted", "timeout after 200 ms connecting (received 0 bytes)"]);
      expect(out.peak).toBeGreaterThan(out.before + 50); // the connects were really pending
      expect(out.after).toBeLessThanOrEqual(out.before);
    });
  });
});
