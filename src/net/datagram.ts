// Pure decoding of received raw-IP datagrams into what the VRRP core needs: the packet, who sent it,
// to whom, on which interface, and with which TTL / hop limit (RFC 5798 requires 255).
import { IPPROTO_IP, IPPROTO_IPV6, IPV6_HOPLIMIT, IPV6_PKTINFO, IP_PKTINFO, decodeSockaddr, parseCmsgs } from "../../ffi/libc.ts";
import { formatIPv4, formatIPv6 } from "./inet.ts";
import type { RxDatagram } from "./rx-protocol.ts";

export interface ReceivedPacket {
  /** IPv4: the whole IP packet including its header. IPv6: the payload after the IPv6 header(s). */
  data: Uint8Array;
  src: string;
  dst: string;
  ifindex: number;
  ttlOrHopLimit: number;
}

export type DecodeResult = { ok: true; packet: ReceivedPacket } | { ok: false; reason: string };

export function decodeIPv4Datagram(d: RxDatagram): DecodeResult {
  const b = d.data;
  if (b.byteLength < 20 || b[0] >> 4 !== 4) return { ok: false, reason: `not an IPv4 packet (${b.byteLength} bytes)` };
  const ihl = (b[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > b.byteLength) return { ok: false, reason: `bad IPv4 header length ${ihl}` };
  let ifindex = 0;
  for (const c of parseCmsgs(d.control)) {
    if (c.level === IPPROTO_IP && c.type === IP_PKTINFO && c.data.byteLength >= 12) {
      ifindex = new DataView(c.data.buffer, c.data.byteOffset).getInt32(0, true);
    }
  }
  return { ok: true, packet: { data: b, src: formatIPv4(b, 12), dst: formatIPv4(b, 16), ifindex, ttlOrHopLimit: b[8] } };
}

export function decodeIPv6Datagram(d: RxDatagram): DecodeResult {
  const from = decodeSockaddr(d.from);
  if (!from || from.address.byteLength !== 16) return { ok: false, reason: "IPv6 datagram without an IPv6 sender address" };
  let dst: string | null = null;
  let ifindex = from.scopeId;
  let hopLimit = -1;
  for (const c of parseCmsgs(d.control)) {
    if (c.level !== IPPROTO_IPV6) continue;
    if (c.type === IPV6_PKTINFO && c.data.byteLength >= 20) {
      dst = formatIPv6(c.data, 0);
      ifindex = new DataView(c.data.buffer, c.data.byteOffset).getUint32(16, true);
    } else if (c.type === IPV6_HOPLIMIT && c.data.byteLength >= 4) {
      hopLimit = new DataView(c.data.buffer, c.data.byteOffset).getInt32(0, true);
    }
  }
  if (dst === null || hopLimit < 0) return { ok: false, reason: "IPv6 datagram without IPV6_PKTINFO/IPV6_HOPLIMIT ancillary data" };
  return { ok: true, packet: { data: d.data, src: formatIPv6(from.address), dst, ifindex, ttlOrHopLimit: hopLimit } };
}
