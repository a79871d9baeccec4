// Each checker against hand-written servers on loopback that behave or misbehave on purpose:
// refuse, reset, accept and never answer, trickle, wrong status, wrong digest, bad SMTP banner,
// wrong DNS id, ICMP port unreachable... asserting the verdict AND the reason text.
import { createHash } from "node:crypto";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dns from "../../src/check/dns.ts";
import * as file from "../../src/check/file.ts";
import * as http from "../../src/check/http.ts";
import * as misc from "../../src/check/misc.ts";
import * as ping from "../../src/check/ping.ts";
import * as smtp from "../../src/check/smtp.ts";
import * as tcp from "../../src/check/tcp.ts";
import * as udp from "../../src/check/udp.ts";
import type { HttpCheckParams, HttpUrl } from "../../src/check/types.ts";
import { loopbackServers } from "../helpers/loopback-servers.ts";

const loopback = loopbackServers();
const { tcpServer, httpServer, closedPort } = loopback;
const udpSockets: dgram.Socket[] = [];
let dir = "";

function udpServer(onMsg: (msg: Buffer, from: dgram.RemoteInfo, sock: dgram.Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (m, r) => onMsg(m, r, sock));
    sock.bind(0, "127.0.0.1", () => resolve(sock.address().port));
    udpSockets.push(sock);
  });
}

const httpParams = (port: number, urls: HttpUrl[], over: Partial<HttpCheckParams> = {}): HttpCheckParams => ({
  connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, tls: false, urls, httpProtocol: "1.0", ...over,
});

const BODY = "hello from the real server\n";
const BODY_MD5 = createHash("md5").update(BODY).digest("hex");
let okPort = 0;
let lastRequest = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lbt-ck-"));
  okPort = await httpServer((s, req) => {
    lastRequest = req;
    const path = req.split(" ")[1];
    if (path === "/health") s.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    else if (path === "/chunked") s.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`);
    else s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
  });
});

afterAll(() => {
  loopback.closeAll();
  for (const s of udpSockets) { try { s.close(); } catch { /* closed */ } }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("TCP_CHECK", () => {
  it("succeeds on an accepting server and names the errno when refused", async () => {
    expect(await tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, connectTimeoutMs: 1000 })).toMatchObject({ ok: true });
    const port = await closedPort();
    const r = await tcp.run({ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: `connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)` });
  });

  it("honours bindto/bind_port and reports bind failures", async () => {
    let seenFrom = "";
    const port = await tcpServer((s) => { seenFrom = `${s.remoteAddress}`; s.end(); });
    expect(await tcp.run({ connectIp: "127.0.0.1", connectPort: port, bindto: "127.0.0.2", connectTimeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(seenFrom).toBe("127.0.0.2");
    const r = await tcp.run({ connectIp: "127.0.0.1", connectPort: port, bindto: "10.9.9.9", connectTimeoutMs: 1000 });
    expect(r.reason).toBe("bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)");
  });

  it("bind_if and fwmark go through an ffi socket: bound to lo works, a missing interface is named", async () => {
    expect(await tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, bindIf: "lo", fwmark: 7, connectTimeoutMs: 1000 })).toMatchObject({ ok: true });
    const r = await tcp.run({ connectIp: "127.0.0.1", connectPort: okPort, bindIf: "nosuch0", connectTimeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: "bind_if nosuch0 failed: ENODEV (No such device)" });
    const port = await closedPort();
    expect((await tcp.run({ connectIp: "127.0.0.1", connectPort: port, fwmark: 1, connectTimeoutMs: 1000 })).reason)
      .toBe(`connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)`);
    expect((await tcp.run({ connectIp: "127.0.0.1", connectPort: port, fwmark: 1, bindto: "10.9.9.9", connectTimeoutMs: 1000 })).reason)
      .toBe("bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)");
  });

  it("a silent peer through the ffi path still times out at connect_timeout, and HTTP works over it", async () => {
    const silent = await tcpServer(() => {});
    const r = await http.run(httpParams(silent, [{ path: "/q" }], { fwmark: 3, connectTimeoutMs: 400 }));
    expect(r.reason).toBe("timeout after 400 ms waiting for response headers for GET /q (received 0 bytes)");
    expect(await http.run(httpParams(okPort, [{ path: "/index.html", digest: BODY_MD5 }], { fwmark: 3 }))).toMatchObject({ ok: true });
  });
});

describe("HTTP_GET", () => {
  it("passes with the right status and digest, over Content-Length and chunked bodies", async () => {
    const r = await http.run(httpParams(okPort, [{ path: "/index.html", digest: BODY_MD5 }, { path: "/chunked", digest: BODY_MD5 }]));
    expect(r).toMatchObject({ ok: true, reason: "GET /index.html: HTTP 200; GET /chunked: HTTP 200" });
    expect(lastRequest).toBe(`GET /chunked HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:${okPort}\r\n\r\n`);
  });

  it("fails on a wrong status, a wrong digest and a regex miss", async () => {
    expect((await http.run(httpParams(okPort, [{ path: "/health" }]))).reason).toBe("HTTP status 503 not in 200-299 for GET /health");
    const bad = "1a2b3c4d5e6f70819293a4b5c6d7e8f9";
    expect((await http.run(httpParams(okPort, [{ path: "/index.html", digest: bad }]))).reason)
      .toBe(`MD5 digest ${BODY_MD5} != expected ${bad} for /index.html (${BODY.length} body bytes)`);
    expect((await http.run(httpParams(okPort, [{ path: "/", regex: "^goodbye" }]))).reason).toBe('body of / does not match regex "^goodbye"');
    expect((await http.run(httpParams(okPort, [{ path: "/health", statusCodes: [{ from: 500, to: 599 }] }]))).ok).toBe(true);
  });

  it("times out at connect_timeout on a server that accepts and never answers", async () => {
    const port = await tcpServer(() => { /* silence */ });
    const r = await http.run(httpParams(port, [{ path: "/x" }], { connectTimeoutMs: 500 }));
    expect(r).toMatchObject({ ok: false, reason: "timeout after 500 ms waiting for response headers for GET /x (received 0 bytes)" });
    expect(r.latencyMs).toBeGreaterThanOrEqual(480);
  });

  it("fails at connect_timeout on a server that trickles one byte per 200 ms (the timeout covers the whole exchange)", async () => {
    const port = await httpServer((s) => {
      const text = `HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
      let i = 0;
      const t = setInterval(() => { if (s.destroyed || i >= text.length) { clearInterval(t); return; } s.write(text[i++]); }, 200);
    });
    const r = await http.run(httpParams(port, [{ path: "/slow" }], { connectTimeoutMs: 1000 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^timeout after 1000 ms waiting for response headers for GET \/slow \(received [1-6] bytes\)$/);
    expect(r.latencyMs).toBeLessThan(3000); // the whole response would take ~10 s at this pace
  });

  it("reports a reset and a close in the middle of the response", async () => {
    const resetPort = await httpServer((s) => { s.write("HTTP/1.0 200 OK\r\n"); setTimeout(() => s.resetAndDestroy(), 20); });
    const r = await http.run(httpParams(resetPort, [{ path: "/r" }]));
    expect(r.reason).toBe("connection reset by peer waiting for response headers for GET /r (received 17 bytes): ECONNRESET (Connection reset by peer)");
    const shortPort = await httpServer((s) => { s.end("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort"); });
    expect((await http.run(httpParams(shortPort, [{ path: "/s" }]))).reason).toBe("connection closed after 5 of 100 body bytes for GET /s");
  });

  it("fails on a non-HTTP answer", async () => {
    const port = await tcpServer((s) => s.end("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    expect((await http.run(httpParams(port, [{ path: "/" }]))).reason).toMatch(/^malformed status line "SSH-2.0-OpenSSH_9.2" for GET \/$/);
  });
});

describe("SMTP_CHECK", () => {
  const smtpServer = (banner: string, helo = "250 hello") => tcpServer((s) => {
    s.write(`${banner}\r\n`);
    s.on("data", (d) => {
      const line = d.toString();
      if (line.startsWith("HELO")) s.write(`${helo}\r\n`);
      else if (line.startsWith("QUIT")) s.end("221 bye\r\n");
    });
  });
  it("passes the 220 / HELO 250 / QUIT 221 exchange, multi-line banner included", async () => {
    const port = await smtpServer("220-mail.example.test ESMTP\r\n220 ready");
    const r = await smtp.run({ heloName: "lbctl.test", hosts: [{ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000 }] });
    expect(r).toMatchObject({ ok: true });
  });
  it("names the bad step and the server's words", async () => {
    const port = await smtpServer("554 no service for you");
    const r = await smtp.run({ heloName: "x", hosts: [{ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000 }] });
    expect(r.reason).toBe('SMTP banner: expected 220, got 554 "no service for you"');
    const port2 = await smtpServer("220 hi", "501 bad helo");
    const r2 = await smtp.run({ heloName: "me.test", hosts: [{ connectIp: "127.0.0.1", connectPort: port2, connectTimeoutMs: 1000 }] });
    expect(r2.reason).toBe('SMTP reply to HELO me.test: expected 250, got 501 "bad helo"');
  });
  it("with several hosts, says which one failed", async () => {
    const good = await smtpServer("220 ok");
    const dead = await closedPort();
    const r = await smtp.run({ heloName: "x", hosts: [good, dead].map((p) => ({ connectIp: "127.0.0.1", connectPort: p, connectTimeoutMs: 1000 })) });
    expect(r.reason).toBe(`host 127.0.0.1:${dead}: connect to 127.0.0.1:${dead} failed: ECONNREFUSED (Connection refused)`);
  });
});

describe("DNS_CHECK (misbehaving servers; dnsmasq is in check-real-servers)", () => {
  it("fails on a wrong reply id and on silence", async () => {
    const port = await udpServer((m, from, sock) => {
      const r = Buffer.from(m);
      r.writeUInt16BE((m.readUInt16BE(0) + 1) & 0xffff, 0);
      r.writeUInt16BE(0x8180, 2);
      sock.send(r, from.port, from.address);
    });
    const r = await dns.run({ connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, type: "A", name: "x.test" });
    expect(r.reason).toMatch(new RegExp(`^DNS reply id \\d+ does not match query id \\d+ \\(DNS A x.test query to 127.0.0.1:${port}\\)$`));
    const silent = await udpServer(() => {});
    const r2 = await dns.run({ connectIp: "127.0.0.1", connectPort: silent, connectTimeoutMs: 300, type: "SOA", name: "." });
    expect(r2.reason).toBe(`timeout after 300 ms waiting for a reply to DNS SOA . query to 127.0.0.1:${silent}`);
  });
});

describe("UDP_CHECK", () => {
  it("require_reply against an echo server, with masked content and length limits", async () => {
    const port = await udpServer((m, from, sock) => sock.send(m, from.port, from.address));
    const base = { connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 1000, requireReply: true, minReplyLength: 0, maxReplyLength: 255 };
    const payload = Uint8Array.from([0xca, 0xfe, 0x01]);
    expect(await udp.run({ ...base, payload, replyData: Uint8Array.from([0xca, 0xf0]), replyMask: Uint8Array.from([0, 0x0f]) })).toMatchObject({ ok: true });
    expect((await udp.run({ ...base, payload, replyData: Uint8Array.from([0xbe, 0xef]) })).reason).toBe(`UDP reply from 127.0.0.1:${port}: reply byte 0 is 0xca, expected 0xbe`);
    expect((await udp.run({ ...base, payload, maxReplyLength: 2 })).reason).toBe(`UDP reply from 127.0.0.1:${port}: reply length 3 outside 0-2`);
  });
  it("the ffi path (fwmark) gives the same verdicts and reasons", async () => {
    const echo = await udpServer((m, from, sock) => sock.send(m, from.port, from.address));
    const base = { connectIp: "127.0.0.1", connectPort: echo, connectTimeoutMs: 300, requireReply: true, minReplyLength: 0, maxReplyLength: 255, fwmark: 5 };
    expect(await udp.run({ ...base, payload: Uint8Array.from([1, 2, 3]) })).toMatchObject({ ok: true, reason: `UDP reply from 127.0.0.1:${echo} (3 bytes)` });
    const port = await closedPort();
    expect((await udp.run({ ...base, connectPort: port })).reason).toBe(`UDP datagram to 127.0.0.1:${port}: ICMP port unreachable: ECONNREFUSED (Connection refused)`);
    const silent = await udpServer(() => {});
    expect((await udp.run({ ...base, connectPort: silent })).reason).toBe(`timeout after 300 ms waiting for a reply to UDP datagram to 127.0.0.1:${silent}`);
  });

  it("ICMP port unreachable fails; silence fails only with require_reply", async () => {
    const port = await closedPort();
    const base = { connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 500, requireReply: false, minReplyLength: 0, maxReplyLength: 255 };
    expect((await udp.run(base)).reason).toBe(`UDP datagram to 127.0.0.1:${port}: ICMP port unreachable: ECONNREFUSED (Connection refused)`);
    const silent = await udpServer(() => {});
    expect(await udp.run({ ...base, connectPort: silent, connectTimeoutMs: 200 })).toMatchObject({ ok: true, reason: `no ICMP error from 127.0.0.1:${silent} within 200 ms` });
    expect((await udp.run({ ...base, connectPort: silent, connectTimeoutMs: 200, requireReply: true })).reason)
      .toBe(`timeout after 200 ms waiting for a reply to UDP datagram to 127.0.0.1:${silent}`);
  });
});

describe("MISC_CHECK", () => {
  it("exit codes, misc_dynamic, and the last line of output in the reason", async () => {
    expect(await misc.run({ path: "true", timeoutMs: 2000, dynamic: false })).toMatchObject({ ok: true });
    expect((await misc.run({ path: "echo 'db lag 30s' >&2; exit 1", timeoutMs: 2000, dynamic: false })).reason)
      .toBe(`misc_path "echo 'db lag 30s' >&2; exit 1" exited with status 1; last output: "db lag 30s"`);
    expect(await misc.run({ path: "exit 12", timeoutMs: 2000, dynamic: true })).toMatchObject({ ok: true, weight: 10 });
  });
  it("runs as the configured user (misc `user`)", async () => {
    expect(await misc.run({ path: 'test "$(id -u):$(id -g)" = 65534:65534', timeoutMs: 2000, dynamic: false, uid: 65534, gid: 65534 })).toMatchObject({ ok: true });
    expect((await misc.run({ path: "test $(id -u) = 0", timeoutMs: 2000, dynamic: false, uid: 65534, gid: 65534 })).ok).toBe(false);
  });

  it("kills the whole process group at misc_timeout", async () => {
    const pidFile = join(dir, "child.pid");
    const r = await misc.run({ path: `sleep 30 & echo $! > ${pidFile}; wait`, timeoutMs: 300, dynamic: false });
    expect(r.reason).toBe(`misc_path "sleep 30 & echo $! > ${pidFile}; wait" timed out after 300 ms (process group killed)`);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")).toBe(false);
  });
});

describe("FILE_CHECK", () => {
  it("reads the tracked value", async () => {
    const f = join(dir, "track");
    writeFileSync(f, "0\n");
    expect(await file.run({ file: f, weight: 0, reverse: false, dynamic: false })).toMatchObject({ ok: true });
    writeFileSync(f, "3\n");
    expect((await file.run({ file: f, weight: 0, reverse: false, dynamic: false })).reason).toBe(`track file ${f}: value 3 is non-zero (weight 0: fault)`);
    expect(await file.run({ file: f, weight: 5, reverse: false, dynamic: true })).toMatchObject({ ok: true, weight: 15 });
    expect((await file.run({ file: join(dir, "nope"), weight: 1, reverse: false, dynamic: false })).reason)
      .toBe(`track file ${join(dir, "nope")} cannot be read: ENOENT (No such file or directory)`);
  });
});

describe("PING_CHECK", () => {
  it("gets an echo reply from loopback (IPv4 and IPv6) and reports bind failures", async () => {
    expect(await ping.run({ connectIp: "127.0.0.1", connectPort: 0, connectTimeoutMs: 1000 })).toMatchObject({ ok: true, reason: "ICMP echo reply from 127.0.0.1" });
    expect(await ping.run({ connectIp: "::1", connectPort: 0, connectTimeoutMs: 1000 })).toMatchObject({ ok: true, reason: "ICMPv6 echo reply from ::1" });
    expect((await ping.run({ connectIp: "127.0.0.1", connectPort: 0, connectTimeoutMs: 1000, bindto: "10.9.9.9" })).reason)
      .toBe("bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)");
  });
});
