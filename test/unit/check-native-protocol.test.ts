// The native check engine's wire format: which checkers it takes, the command layout engine-c.ts
// reads, result records cut from a stream split anywhere, and records worded as the JS checkers word them.
import { describe, expect, it } from "vitest";
import {
  CMD_ADD, CMD_SCHEDULE, OUT_BIND_ERROR, OUT_CONNECT_ERROR, OUT_FALLBACK, OUT_HTTP_RESPONSE, OUT_IO_ERROR, OUT_OK, OUT_TIMEOUT,
  RecordReader, STATS_PER_SLOT, countersAt, encodeAdd, encodeSchedule, nativeTarget, resultOfRecord, type EngineRecord,
} from "../../src/check/native/protocol.ts";
import type { CheckerSpec, HttpCheckParams } from "../../src/check/types.ts";

const co = { connectIp: "10.0.0.5", connectPort: 8080, connectTimeoutMs: 3000 };
const tcp: CheckerSpec = { kind: "TCP_CHECK", params: co };
const httpParams = (over: Partial<HttpCheckParams> = {}): HttpCheckParams =>
  ({ ...co, tls: false, httpProtocol: "1.0", urls: [{ path: "/health" }], ...over });
const http = (over: Partial<HttpCheckParams> = {}): CheckerSpec => ({ kind: "HTTP_GET", params: httpParams(over) });

function record(o: Partial<EngineRecord>): EngineRecord {
  return { slot: 0, gen: 1, outcome: OUT_OK, phase: 0, status: 0, errno: 0, received: 0, latencyMs: 1.25, ...o };
}

/** A result record as engine-c.ts's emit() lays it out. */
function encodeRecord(r: EngineRecord): Uint8Array {
  const extra = r.response ?? new Uint8Array(0);
  const b = new Uint8Array(32 + extra.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true); v.setUint32(4, r.slot, true); v.setUint32(8, r.gen, true);
  b[12] = r.outcome; b[13] = r.phase; v.setUint16(14, r.status, true);
  v.setInt32(16, r.errno, true); v.setUint32(20, r.received, true); v.setFloat64(24, r.latencyMs, true);
  b.set(extra, 32);
  return b;
}

describe("nativeTarget", () => {
  it("takes TCP_CHECK and plain single-url HTTP_GET to literal addresses", () => {
    expect(nativeTarget(tcp)).toMatchObject({ kind: 1, timeoutMs: 3000 });
    expect(nativeTarget({ kind: "TCP_CHECK", params: { ...co, connectIp: "2001:db8::5" } })?.address.length).toBe(28);
    const h = nativeTarget(http({ urls: [{ path: "/health", digest: "00112233445566778899AABBCCDDEEFF", statusCodes: [{ from: 200, to: 204 }] }] }));
    expect(h?.kind).toBe(2);
    expect(Buffer.from(h!.digest!).toString("hex")).toBe("00112233445566778899aabbccddeeff");
    expect(Buffer.from(h!.request).toString("latin1")).toBe("GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.5:8080\r\n\r\n");
    expect(nativeTarget({ kind: "TCP_CHECK", params: { ...co, bindto: "10.0.0.1", bindPort: 999 } })?.bind?.length).toBe(16);
  });

  it("leaves to JavaScript what it does not do: TLS, regex, several urls, fwmark, bind_if, names, scoped or mixed families", () => {
    const js: CheckerSpec[] = [
      { kind: "SSL_GET", params: httpParams({ tls: true }) },
      http({ tls: true }),
      http({ urls: [{ path: "/", regex: "ok" }] }),
      http({ urls: [{ path: "/a" }, { path: "/b" }] }),
      http({ urls: [{ path: "/", digest: "not-hex" }] }),
      { kind: "TCP_CHECK", params: { ...co, fwmark: 5 } },
      { kind: "TCP_CHECK", params: { ...co, bindIf: "eth0" } },
      { kind: "TCP_CHECK", params: { ...co, connectIp: "www.example.com" } },
      { kind: "TCP_CHECK", params: { ...co, connectIp: "fe80::1%eth0" } },
      { kind: "TCP_CHECK", params: { ...co, bindto: "2001:db8::1" } },
      { kind: "SMTP_CHECK", params: { heloName: "x", hosts: [] } },
    ];
    for (const spec of js) expect(nativeTarget(spec), JSON.stringify(spec)).toBeUndefined();
  });
});

describe("commands", () => {
  it("ADD carries the target at the offsets engine-c.ts reads", () => {
    const t = nativeTarget(http({ connectTimeoutMs: 1500, urls: [{ path: "/x", statusCodes: [{ from: 200, to: 299 }, { from: 301, to: 301 }] }] }))!;
    const b = encodeAdd(7, 42, t, 2000);
    const v = new DataView(b.buffer);
    expect([v.getUint32(0, true), v.getUint16(4, true), v.getUint32(8, true), v.getUint32(12, true)]).toEqual([176 + t.request.length, CMD_ADD, 7, 42]);
    expect([b[16], b[17], b[18], b[19], v.getUint32(20, true), v.getUint32(24, true), v.getUint32(28, true)]).toEqual([2, 0, 2, 0, 1500, 2000, 16]);
    expect(v.getUint16(34, false)).toBe(8080); // sockaddr_in port, network order
    expect([v.getUint16(92, true), v.getUint16(94, true), v.getUint16(96, true), v.getUint16(98, true)]).toEqual([200, 299, 301, 301]);
    expect(Buffer.from(b.subarray(176)).toString("latin1")).toMatch(/^GET \/x HTTP\/1.0\r\n/);
  });

  it("SCHEDULE says the delay and whether (and on which status) the engine may re-arm alone", () => {
    const steady = new DataView(encodeSchedule(3, 9, 1500.5, 204).buffer);
    expect([steady.getUint16(4, true), steady.getFloat64(16, true), steady.getUint8(24), steady.getUint16(26, true)]).toEqual([CMD_SCHEDULE, 1500.5, 1, 204]);
    const judged = new DataView(encodeSchedule(3, 9, 10, null).buffer);
    expect(judged.getUint8(24)).toBe(0);
  });
});

describe("RecordReader", () => {
  it("cuts records out of chunks split at any byte", () => {
    const recs = [record({ slot: 1 }), record({ slot: 2, outcome: OUT_HTTP_RESPONSE, response: Buffer.from("HTTP/1.0 200 OK\r\n\r\n") }), record({ slot: 3, errno: 111 })];
    const stream = Buffer.concat(recs.map(encodeRecord));
    for (const cut of [1, 5, 31, 32, 33, 50, stream.length - 1]) {
      const r = new RecordReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map((g) => [g.slot, g.errno, g.response ? Buffer.from(g.response).toString() : null])).toEqual(
        [[1, 0, null], [2, 0, "HTTP/1.0 200 OK\r\n\r\n"], [3, 111, null]]);
    }
  });

  it("refuses a record shorter than its header rather than looping on it", () => {
    const bad = new Uint8Array(32);
    new DataView(bad.buffer).setUint32(0, 4, true);
    expect(() => new RecordReader().push(bad)).toThrow(/malformed result record/);
  });
});

describe("resultOfRecord", () => {
  it("words each outcome as the JavaScript checkers do", () => {
    expect(resultOfRecord(tcp, record({}))).toEqual({ ok: true, reason: "connected to 10.0.0.5:8080", latencyMs: 1.25 });
    expect(resultOfRecord(tcp, record({ outcome: OUT_CONNECT_ERROR, errno: 111 })).valueOf())
      .toMatchObject({ ok: false, reason: "connect to 10.0.0.5:8080 failed: ECONNREFUSED (Connection refused)" });
    const bound: CheckerSpec = { kind: "TCP_CHECK", params: { ...co, bindto: "10.9.9.9" } };
    expect(resultOfRecord(bound, record({ outcome: OUT_BIND_ERROR, errno: 99 }))).toMatchObject({ reason: "bindto 10.9.9.9 failed: EADDRNOTAVAIL (Cannot assign requested address)" });
    expect(resultOfRecord(tcp, record({ outcome: OUT_TIMEOUT }))).toMatchObject({ reason: "timeout after 3000 ms connecting (received 0 bytes)", detail: { timeout: true } });
    expect(resultOfRecord(http(), record({ outcome: OUT_TIMEOUT, phase: 3, received: 40 }))).toMatchObject({ reason: "timeout after 3000 ms reading body for GET /health (received 40 bytes)" });
    expect(resultOfRecord(http(), record({ outcome: OUT_IO_ERROR, phase: 2, errno: 104, received: 17 }))).toMatchObject({
      reason: "connection reset by peer waiting for response headers for GET /health (received 17 bytes): ECONNRESET (Connection reset by peer)",
    });
    expect(resultOfRecord(http(), record({ outcome: OUT_FALLBACK }))).toBe("fallback");
  });

  it("judges an HTTP response with the JavaScript reader: status, digest, framing, and what it would read further", () => {
    const resp = (text: string, ended = true) => record({ outcome: OUT_HTTP_RESPONSE, phase: ended ? 1 : 0, response: Buffer.from(text, "latin1") });
    expect(resultOfRecord(http(), resp("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))).toMatchObject({ ok: true, reason: "GET /health: HTTP 200" });
    expect(resultOfRecord(http(), resp("HTTP/1.1 503 Busy\r\n\r\n"))).toMatchObject({ ok: false, reason: "HTTP status 503 not in 200-299 for GET /health", detail: { status: 503 } });
    const digest = "0123456789abcdef0123456789abcdef";
    expect(resultOfRecord(http({ urls: [{ path: "/health", digest }] }), resp("HTTP/1.0 200 OK\r\n\r\nhello")))
      .toMatchObject({ ok: false, reason: `MD5 digest 5d41402abc4b2a76b9719d911017c592 != expected ${digest} for /health (5 body bytes)` });
    expect(resultOfRecord(http(), resp("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort"))).toMatchObject({ reason: "connection closed after 5 of 100 body bytes for GET /health" });
    expect(resultOfRecord(http(), resp("SSH-2.0-OpenSSH_9.2\r\n\r\n", false))).toMatchObject({ reason: 'malformed status line "SSH-2.0-OpenSSH_9.2" for GET /health' });
    // Framing the engine could not follow and the peer still open: the JS checker runs the check itself.
    expect(resultOfRecord(http(), resp("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", false))).toBe("fallback");
  });
});

describe("countersAt", () => {
  it("reads one checker's doubles from the shared array", () => {
    const stats = new Float64Array(STATS_PER_SLOT * 3);
    const o = 2 * STATS_PER_SLOT;
    stats.set([5, 2, 7, 0.021, 1_700_000_000_123.4, 1, 0.5004], o);
    stats.set([3, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], o + 8);
    expect(countersAt(stats, 2)).toEqual({
      successes: 5, failures: 2, latency: { buckets: [3, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], count: 7, sumSeconds: 0.021 },
      lastAt: 1_700_000_000_123, lastOk: true, lastLatencyMs: 0.5,
    });
  });
});

describe("maxInFlight", () => {
  it("keeps half the process's descriptors free, between 16 and 4,096", async () => {
    const { maxInFlight } = await import("../../src/check/native/engine.ts");
    const limits = (soft: number) => `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 524288               files     \n`;
    expect(maxInFlight(limits(1024))).toBe(512);
    expect(maxInFlight(limits(524288))).toBe(4096);
    expect(maxInFlight(limits(20))).toBe(16);
    expect(maxInFlight("")).toBe(512);
  });
});
