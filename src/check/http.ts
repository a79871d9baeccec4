// HTTP_GET and SSL_GET: for each `url`, a fresh connection, one GET, then the status code, the MD5 digest
// of the body and the regex are checked, in that order. Written on raw TCP/TLS so that connect_timeout
// bounds the whole exchange and the failure says which byte we were waiting for.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { StreamConn, timed, type TlsSetup } from "./conn.ts";
import { CheckFailure } from "./errors.ts";
import { readResponse, type ResponseHead } from "./http-response.ts";
import type { CheckResult, HttpCheckParams, HttpUrl, StatusRange } from "./types.ts";

export const DEFAULT_STATUS: StatusRange[] = [{ from: 200, to: 299 }];

export function formatStatusRanges(ranges: StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(" ");
}

export function buildRequest(params: HttpCheckParams, url: HttpUrl): string {
  const defaultPort = params.tls ? 443 : 80;
  const hostName = url.virtualhost ?? (params.connectIp.includes(":") ? `[${params.connectIp}]` : params.connectIp);
  const host = params.connectPort === defaultPort || url.virtualhost ? hostName : `${hostName}:${params.connectPort}`;
  const version = params.httpProtocol === "1.1" ? "HTTP/1.1" : "HTTP/1.0";
  const close = params.httpProtocol === "1.0" ? "" : "Connection: close\r\n";
  return `GET ${url.path} ${version}\r\nUser-Agent: KeepAliveClient\r\nHost: ${host}\r\n${close}\r\n`;
}

function regexFlags(options: string[] | undefined): string {
  const map: Record<string, string> = { caseless: "i", multiline: "m", dotall: "s" };
  return [...new Set((options ?? []).map((o) => map[o]).filter(Boolean))].join("");
}

/** The verdict on one response: undefined when it passes, else the failure reason. */
export function judgeResponse(url: HttpUrl, head: ResponseHead, body: Buffer): { reason?: string; digest: string } {
  const ranges = url.statusCodes?.length ? url.statusCodes : DEFAULT_STATUS;
  const digest = createHash("md5").update(body).digest("hex");
  if (!ranges.some((r) => head.status >= r.from && head.status <= r.to)) {
    return { reason: `HTTP status ${head.status} not in ${formatStatusRanges(ranges)} for GET ${url.path}`, digest };
  }
  if (url.digest && url.digest.toLowerCase() !== digest) {
    return { reason: `MD5 digest ${digest} != expected ${url.digest.toLowerCase()} for ${url.path} (${body.length} body bytes)`, digest };
  }
  if (url.regex !== undefined) {
    let re: RegExp;
    try { re = new RegExp(url.regex, regexFlags(url.regexOptions)); } catch (e) {
      return { reason: `invalid regex ${JSON.stringify(url.regex)}: ${e instanceof Error ? e.message : String(e)}`, digest };
    }
    const text = body.toString("latin1");
    const from = url.regexMinOffset ?? 0;
    re.lastIndex = 0;
    const m = re.exec(text.slice(from));
    const matched = m !== null && (url.regexMaxOffset === undefined || from + m.index <= url.regexMaxOffset);
    if (matched && url.regexNoMatch) return { reason: `body of ${url.path} matches regex ${JSON.stringify(url.regex)} (regex_no_match)`, digest };
    if (!matched && !url.regexNoMatch) return { reason: `body of ${url.path} does not match regex ${JSON.stringify(url.regex)}`, digest };
  }
  return { digest };
}

function tlsSetup(params: HttpCheckParams, url: HttpUrl): TlsSetup | undefined {
  if (!params.tls) return undefined;
  const name = params.sniName ?? url.virtualhost;
  const o = params.tlsOptions ?? {};
  const read = (path: string | undefined, what: string): string | undefined => {
    if (path === undefined) return undefined;
    try { return readFileSync(path, "utf8"); } catch (e) {
      throw new CheckFailure(`cannot read SSL ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return {
    ...(params.enableSni && name ? { servername: name } : {}),
    verify: o.verifyPeer === true,
    verifyName: name ?? params.connectIp,
    ca: read(o.ca, "ca"), cert: read(o.certificate, "certificate"), key: read(o.key, "key"), passphrase: o.password,
  };
}

async function checkUrl(params: HttpCheckParams, url: HttpUrl, signal?: AbortSignal): Promise<{ status: number; digest: string; bytes: number }> {
  const conn = await StreamConn.open(params, signal, tlsSetup(params, url));
  try {
    conn.write(buildRequest(params, url));
    const res = await conn.read("waiting for response headers", (buf, ended) => {
      const p = readResponse(buf, ended);
      if (p.kind === "need-more") { conn.phase = `${p.phase} for GET ${url.path}`; return undefined; }
      return { value: p, consumed: 0 };
    });
    if (res.kind === "error") throw new CheckFailure(`${res.message} for GET ${url.path}`);
    const verdict = judgeResponse(url, res.head, res.body);
    const detail = { status: res.head.status, digest: verdict.digest, bodyBytes: res.body.length };
    if (verdict.reason) throw new CheckFailure(verdict.reason, detail);
    return { status: res.head.status, digest: verdict.digest, bytes: res.body.length };
  } finally {
    conn.close();
  }
}

/** Check one url (the scheduler paces urls one per delay_loop while recovering without fast_recovery). */
export function runUrl(params: HttpCheckParams, index: number, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    const url = params.urls[index];
    if (!url) throw new CheckFailure(`no url #${index} configured`);
    const r = await checkUrl(params, url, signal);
    return { ok: true, reason: `GET ${url.path}: HTTP ${r.status}, ${r.bytes} bytes, MD5 ${r.digest}`, detail: { status: r.status, digest: r.digest } };
  });
}

/** Check every url in order; the first failure decides. */
export function run(params: HttpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    if (params.urls.length === 0) throw new CheckFailure(`${params.tls ? "SSL_GET" : "HTTP_GET"} has no url configured`);
    const lines: string[] = [];
    for (const url of params.urls) {
      const r = await checkUrl(params, url, signal);
      lines.push(`GET ${url.path}: HTTP ${r.status}`);
    }
    return { ok: true, reason: lines.join("; ") };
  });
}
