import { describe, expect, it } from "vitest";
import { buildQuery, judgeReply } from "../../src/check/dns-codec.ts";
import { judgeValue, parseTrackedValue } from "../../src/check/file.ts";
import { buildRequest, judgeResponse } from "../../src/check/http.ts";
import { decodeChunked, readResponse } from "../../src/check/http-response.ts";
import { judgeExit } from "../../src/check/misc.ts";
import { buildEcho, classifyIcmp, inetChecksum } from "../../src/check/ping.ts";
import { parseReply } from "../../src/check/smtp.ts";
import { judgeUdpReply, parseHexString } from "../../src/check/udp.ts";
import type { HttpCheckParams, UdpCheckParams } from "../../src/check/types.ts";

const b = (s: string) => Buffer.from(s, "latin1");

describe("HTTP response reader", () => {
  it("waits for headers, then the Content-Length body", () => {
    expect(readResponse(b("HTTP/1.1 200 OK\r\nContent-Le"), false)).toEqual({ kind: "need-more", phase: "waiting for response headers" });
    expect(readResponse(b("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), false)).toEqual({ kind: "need-more", phase: "reading body" });
    const done = readResponse(b("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcdeXX"), false);
    expect(done.kind === "done" && done.body.toString()).toBe("abcde");
  });
  it("reads until close without a length, and reports a short body", () => {
    const done = readResponse(b("HTTP/1.0 404 Not Found\r\n\r\nnope"), true);
    expect(done.kind === "done" && [done.head.status, done.body.toString()]).toEqual([404, "nope"]);
    expect(readResponse(b("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), true)).toEqual({ kind: "error", message: "connection closed after 2 of 9 body bytes" });
    expect(readResponse(b("HTTP/1.1 200"), true)).toMatchObject({ kind: "error", message: /before the end of the response headers \(received 12 bytes\)/ });
  });
  it("decodes chunked bodies", () => {
    expect(decodeChunked(b("3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n"))).toEqual(b("abcde"));
    expect(decodeChunked(b("3\r\nabc\r\n"))).toBe("need-more");
    expect(decodeChunked(b("zz\r\n"))).toMatch(/malformed chunk size/);
    const r = readResponse(b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"), false);
    expect(r.kind === "done" && r.body.toString()).toBe("x");
  });
  it("rejects malformed status lines", () => {
    expect(readResponse(b("SSH-2.0-OpenSSH\r\n\r\n"), false)).toMatchObject({ kind: "error", message: /malformed status line/ });
  });
});

describe("HTTP verdict", () => {
  const head = (status: number) => ({ version: "HTTP/1.1", status, reason: "", headers: {} });
  it("checks status ranges, then the MD5 digest, then the regex", () => {
    expect(judgeResponse({ path: "/health" }, head(503), b("")).reason).toBe("HTTP status 503 not in 200-299 for GET /health");
    expect(judgeResponse({ path: "/x", statusCodes: [{ from: 200, to: 200 }, { from: 500, to: 503 }] }, head(503), b("")).reason).toBeUndefined();
    // md5("hello") = 5d41402abc4b2a76b9719d911017c592
    expect(judgeResponse({ path: "/i", digest: "5D41402ABC4B2A76B9719D911017C592" }, head(200), b("hello")).reason).toBeUndefined();
    expect(judgeResponse({ path: "/index.html", digest: "1a2b" }, head(200), b("hello")).reason)
      .toBe("MD5 digest 5d41402abc4b2a76b9719d911017c592 != expected 1a2b for /index.html (5 body bytes)");
    expect(judgeResponse({ path: "/r", regex: "UP" }, head(200), b("state: down")).reason).toBe('body of /r does not match regex "UP"');
    expect(judgeResponse({ path: "/r", regex: "up", regexOptions: ["caseless"] }, head(200), b("UP")).reason).toBeUndefined();
    expect(judgeResponse({ path: "/r", regex: "error", regexNoMatch: true }, head(200), b("an error")).reason).toMatch(/matches regex "error" \(regex_no_match\)/);
    expect(judgeResponse({ path: "/r", regex: "ok", regexMaxOffset: 2 }, head(200), b("....ok")).reason).toMatch(/does not match/);
  });
  it("builds keepalived-like requests for each http_protocol", () => {
    const p: HttpCheckParams = { connectIp: "10.0.0.5", connectPort: 8080, connectTimeoutMs: 1, tls: false, urls: [], httpProtocol: "1.0" };
    expect(buildRequest(p, { path: "/a" })).toBe("GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.5:8080\r\n\r\n");
    expect(buildRequest({ ...p, httpProtocol: "1.0C" }, { path: "/a", virtualhost: "www.x" })).toBe("GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.x\r\nConnection: close\r\n\r\n");
    expect(buildRequest({ ...p, httpProtocol: "1.1", connectPort: 80 }, { path: "/" })).toMatch(/^GET \/ HTTP\/1.1\r\n.*Host: 10.0.0.5\r\nConnection: close\r\n\r\n$/s);
  });
});

describe("DNS codec", () => {
  const q = buildQuery(0x1234, "www.example.test", "A") as Buffer;
  const reply = (over: { id?: number; flags?: number; qd?: number; an?: number; question?: Buffer } = {}) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(over.id ?? 0x1234, 0);
    h.writeUInt16BE(over.flags ?? 0x8180, 2);
    h.writeUInt16BE(over.qd ?? 1, 4);
    h.writeUInt16BE(over.an ?? 1, 6);
    return Buffer.concat([h, over.question ?? q.subarray(12)]);
  };
  it("encodes the question", () => {
    expect(q.subarray(12).toString("hex")).toBe("03777777076578616d706c6504746573740000010001");
    expect(buildQuery(1, ".", "SOA")).toEqual(Buffer.from("000101000001000000000000" + "00" + "00060001", "hex"));
    expect(buildQuery(1, "a".repeat(64), "A")).toMatch(/label length 64/);
  });
  it("judges replies like keepalived", () => {
    expect(judgeReply(q, reply())).toMatchObject({ ok: true, answers: 1 });
    expect(judgeReply(q, reply({ id: 1 })).reason).toBe("DNS reply id 1 does not match query id 4660");
    expect(judgeReply(q, reply({ flags: 0x0100 })).reason).toMatch(/not a response/);
    expect(judgeReply(q, reply({ flags: 0x8183 })).reason).toBe("DNS reply RCODE NXDOMAIN");
    expect(judgeReply(q, reply({ an: 0 })).reason).toBe("DNS reply has no answer (ANCOUNT 0)");
    expect(judgeReply(q, reply({ question: Buffer.from(q.subarray(12)).fill(0x41, 1, 4) })).reason).toMatch(/question does not match/);
    expect(judgeReply(q, Buffer.alloc(5)).reason).toMatch(/too short/);
  });
});

describe("UDP payload and reply matching", () => {
  it("parses keepalived's free-form HEX_STR with X nibbles", () => {
    const h = parseHexString("Ab12f 3 456 546443123");
    expect(typeof h !== "string" && Buffer.from(h.data).toString("hex")).toBe("ab120f0345065464431203");
    const m = parseHexString("12xX");
    expect(typeof m !== "string" && [Buffer.from(m.data).toString("hex"), Buffer.from(m.mask).toString("hex"), m.hasMask]).toEqual(["1200", "00ff", true]);
    expect(parseHexString("zz")).toMatch(/invalid hex/);
  });
  it("checks reply length and masked content", () => {
    const p: UdpCheckParams = { connectIp: "x", connectPort: 1, connectTimeoutMs: 1, requireReply: true, minReplyLength: 2, maxReplyLength: 4,
      replyData: Uint8Array.from([0x12, 0x00]), replyMask: Uint8Array.from([0x00, 0xff]) };
    expect(judgeUdpReply(p, Uint8Array.from([0x12, 0x99, 0x01]))).toBeUndefined();
    expect(judgeUdpReply(p, Uint8Array.from([0x13, 0x99]))).toBe("reply byte 0 is 0x13, expected 0x12");
    expect(judgeUdpReply(p, Uint8Array.from([0x12]))).toBe("reply length 1 outside 2-4");
  });
});

describe("SMTP replies", () => {
  it("joins multi-line replies and waits for the last line", () => {
    expect(parseReply(b("250-first\r\n250 second\r\nrest"))).toEqual({ reply: { code: 250, text: "first second" }, consumed: 23 });
    expect(parseReply(b("250-first\r\n"))).toBeUndefined();
    expect(parseReply(b("hello\r\n"))).toMatch(/malformed SMTP reply/);
  });
});

describe("FILE_CHECK and MISC_CHECK verdicts", () => {
  it("parses the tracked value like strtol", () => {
    expect(parseTrackedValue(" 42\n")).toBe(42);
    expect(parseTrackedValue("-7 junk")).toBe(-7);
    expect(parseTrackedValue("")).toBe(0);
    expect(parseTrackedValue("abc")).toBeUndefined();
  });
  it("weight 0: non-zero is a fault; otherwise value x weight, dynamic adds it", () => {
    const p = { file: "f", weight: 0, reverse: false, dynamic: false };
    expect(judgeValue(p, 0).ok).toBe(true);
    expect(judgeValue(p, 3)).toMatchObject({ ok: false, reason: "value 3 is non-zero (weight 0: fault)" });
    expect(judgeValue({ ...p, weight: 2, dynamic: true }, 5)).toMatchObject({ ok: true, weight: 10 });
    expect(judgeValue({ ...p, weight: 2, reverse: true, dynamic: true }, 5)).toMatchObject({ ok: true, weight: -10 });
    expect(judgeValue({ ...p, weight: 1 }, -2147483648).ok).toBe(false);
  });
  it("misc exit codes", () => {
    const p = { path: "x", timeoutMs: 1, dynamic: false };
    expect(judgeExit(p, 0)).toEqual({ ok: true, reason: "exited with status 0" });
    expect(judgeExit(p, 1).ok).toBe(false);
    expect(judgeExit(p, 7).ok).toBe(false);
    expect(judgeExit({ ...p, dynamic: true }, 7)).toMatchObject({ ok: true, weight: 5 });
    expect(judgeExit({ ...p, dynamic: true }, 1).ok).toBe(false);
  });
});

describe("ICMP echo", () => {
  it("builds an IPv4 echo with a valid checksum and classifies replies", () => {
    const pkt = buildEcho(false, 0x1234, 1, b("hi"));
    expect(inetChecksum(pkt)).toBe(0);
    const reply = Uint8Array.from(pkt);
    reply[0] = 0;
    expect(classifyIcmp(false, reply, 0x1234, 1)).toBe("reply");
    expect(classifyIcmp(false, reply, 0x9999, 1)).toBe("other");
    expect(classifyIcmp(false, reply, undefined, 2)).toBe("other");
  });
  it("counts an unreachable only when it quotes our request (raw sockets)", () => {
    const ip = new Uint8Array(20);
    ip[0] = 0x45;
    const quoted = buildEcho(false, 0x1234, 1, new Uint8Array(0));
    const unreach = Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...ip, ...quoted]);
    expect(classifyIcmp(false, unreach, 0x1234, 1)).toBe("unreachable");
    expect(classifyIcmp(false, unreach, 0x4321, 1)).toBe("other");
  });
});
