// DNS_CHECK: one query over UDP to the real server; the reply must echo the id and question, carry
// RCODE NOERROR and at least one answer.
import { randomInt } from "node:crypto";
import { timed } from "./conn.ts";
import { CheckFailure } from "./errors.ts";
import { buildQuery, judgeReply } from "./dns-codec.ts";
import type { CheckResult, DnsCheckParams } from "./types.ts";
import { formatEndpoint } from "./vs-state.ts";
import { udpExchange } from "./udp.ts";

export function run(params: DnsCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    const query = buildQuery(randomInt(0, 0x10000), params.name, params.type);
    if (typeof query === "string") throw new CheckFailure(query);
    const what = `DNS ${params.type} ${params.name} query to ${formatEndpoint(params.connectIp, params.connectPort)}`;
    const reply = await udpExchange(params, query, true, signal, what);
    if (!reply) throw new CheckFailure(`no reply to ${what}`);
    const v = judgeReply(query, reply);
    if (!v.ok) throw new CheckFailure(`${v.reason} (${what})`, v.rcode ? { rcode: v.rcode } : undefined);
    return { ok: true, reason: v.reason, detail: { answers: v.answers ?? 0 } };
  });
}
