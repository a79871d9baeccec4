// Pure DNS message pieces for DNS_CHECK: build a query, judge a reply the way keepalived's check_dns.c
// does (same id, a response, RCODE 0, the question echoed, at least one answer).
import type { DnsType } from "./types.ts";

export const DNS_TYPES: Record<DnsType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

export function encodeName(name: string): Buffer | string {
  const labels = name === "." || name === "" ? [] : name.replace(/\.$/, "").split(".");
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "ascii");
    if (b.length === 0 || b.length > 63) return `invalid DNS name ${JSON.stringify(name)}: label length ${b.length}`;
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  return out.length > 255 ? `invalid DNS name ${JSON.stringify(name)}: longer than 255 bytes` : out;
}

export function buildQuery(id: number, name: string, type: DnsType): Buffer | string {
  const qname = encodeName(name);
  if (typeof qname === "string") return qname;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(DNS_TYPES[type], 0);
  tail.writeUInt16BE(1, 2); // IN
  return Buffer.concat([header, qname, tail]);
}

export interface DnsVerdict { ok: boolean; reason: string; rcode?: string; answers?: number }

/** Judge `reply` to `query` (which was built by buildQuery). */
export function judgeReply(query: Buffer, reply: Buffer): DnsVerdict {
  if (reply.length < 12) return { ok: false, reason: `DNS reply too short (${reply.length} bytes)` };
  const id = reply.readUInt16BE(0);
  const want = query.readUInt16BE(0);
  if (id !== want) return { ok: false, reason: `DNS reply id ${id} does not match query id ${want}` };
  const flags = reply.readUInt16BE(2);
  if (!(flags & 0x8000)) return { ok: false, reason: "DNS message is not a response (QR bit clear)" };
  const rcode = flags & 0xf;
  const rcodeName = RCODES[rcode] ?? `RCODE ${rcode}`;
  if (rcode !== 0) return { ok: false, reason: `DNS reply RCODE ${rcodeName}`, rcode: rcodeName };
  const qdcount = reply.readUInt16BE(4);
  if (qdcount !== 1) return { ok: false, reason: `DNS reply QDCOUNT ${qdcount}, expected 1` };
  const question = query.subarray(12);
  if (reply.length < 12 + question.length || !sameQuestion(question, reply.subarray(12, 12 + question.length))) {
    return { ok: false, reason: "DNS reply question does not match the query" };
  }
  const ancount = reply.readUInt16BE(6);
  if (ancount === 0) return { ok: false, reason: "DNS reply has no answer (ANCOUNT 0)", rcode: rcodeName, answers: 0 };
  return { ok: true, reason: `DNS reply NOERROR with ${ancount} answer${ancount === 1 ? "" : "s"}`, rcode: rcodeName, answers: ancount };
}

/** Names compare case-insensitively (servers may echo 0x20-randomised case). */
function sameQuestion(a: Buffer, b: Buffer): boolean {
  return a.toString("latin1").toLowerCase() === b.toString("latin1").toLowerCase();
}
