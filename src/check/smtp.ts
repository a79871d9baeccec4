// SMTP_CHECK: banner 220, "HELO helo_name" answered 250, "QUIT" answered 221 (keepalived's sequence),
// on every configured host in turn.
import { StreamConn, timed } from "./conn.ts";
import { CheckFailure } from "./errors.ts";
import type { CheckResult, SmtpCheckParams, SmtpHost } from "./types.ts";
import { formatEndpoint } from "./vs-state.ts";

export interface SmtpReply { code: number; text: string }

/** One complete (possibly multi-line "250-...") reply at the start of `buf`, with its length. */
export function parseReply(buf: Buffer): { reply: SmtpReply; consumed: number } | undefined | string {
  let pos = 0;
  const texts: string[] = [];
  for (;;) {
    const eol = buf.indexOf("\n", pos);
    if (eol < 0) return buf.length > 4096 ? "SMTP reply line longer than 4096 bytes" : undefined;
    const line = buf.subarray(pos, eol).toString("latin1").replace(/\r$/, "");
    pos = eol + 1;
    const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (!m) return `malformed SMTP reply ${JSON.stringify(line.slice(0, 80))}`;
    texts.push(m[3]);
    if (m[2] !== "-") return { reply: { code: Number(m[1]), text: texts.join(" ") }, consumed: pos };
  }
}

async function expectReply(conn: StreamConn, phase: string, want: number, after: string): Promise<SmtpReply> {
  const r = await conn.read(phase, (buf) => {
    const p = parseReply(buf);
    if (p === undefined) return undefined;
    return { value: p, consumed: typeof p === "string" ? 0 : p.consumed };
  });
  if (typeof r === "string") throw new CheckFailure(`${r} ${after}`);
  if (r.reply.code !== want) {
    throw new CheckFailure(`SMTP ${after}: expected ${want}, got ${r.reply.code} ${JSON.stringify(r.reply.text.slice(0, 120))}`, { code: r.reply.code });
  }
  return r.reply;
}

async function checkHost(host: SmtpHost, heloName: string, signal?: AbortSignal): Promise<string> {
  const conn = await StreamConn.open(host, signal);
  try {
    const banner = await expectReply(conn, "waiting for the SMTP banner", 220, "banner");
    conn.write(`HELO ${heloName}\r\n`);
    await expectReply(conn, "waiting for the reply to HELO", 250, `reply to HELO ${heloName}`);
    conn.write("QUIT\r\n");
    await expectReply(conn, "waiting for the reply to QUIT", 221, "reply to QUIT");
    return `${formatEndpoint(host.connectIp, host.connectPort)} 220 ${banner.text.slice(0, 60)}`;
  } finally {
    conn.close();
  }
}

export function run(params: SmtpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    if (params.hosts.length === 0) throw new CheckFailure("SMTP_CHECK has no host to check");
    const seen: string[] = [];
    for (const host of params.hosts) {
      try {
        seen.push(await checkHost(host, params.heloName, signal));
      } catch (e) {
        if (e instanceof CheckFailure && params.hosts.length > 1) {
          throw new CheckFailure(`host ${formatEndpoint(host.connectIp, host.connectPort)}: ${e.reason}`, e.detail);
        }
        throw e;
      }
    }
    return { ok: true, reason: `SMTP ok: ${seen.join("; ")}` };
  });
}
