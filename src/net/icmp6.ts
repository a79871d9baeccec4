// Sending ICMPv6 messages (unsolicited neighbour advertisements for IPv6 VIPs). The kernel fills in
// the ICMPv6 checksum for raw ICMPv6 sockets; RFC 4861 requires hop limit 255 for ND messages.
import * as libc from "../../ffi/libc.ts";
import { parseIPv6 } from "./inet.ts";

export interface Icmp6SendOptions {
  hopLimit?: number;
  /** Source address (must be configured locally, e.g. the VIP); otherwise the kernel picks one. */
  src?: string;
}

export function sendIcmp6(ifindex: number, dst: string, payload: Uint8Array, hopLimitOrOpts: number | Icmp6SendOptions = 255): void {
  const opts = typeof hopLimitOrOpts === "number" ? { hopLimit: hopLimitOrOpts } : hopLimitOrOpts;
  const hopLimit = opts.hopLimit ?? 255;
  const dstBytes = parseIPv6(dst);
  if (!dstBytes) throw new RangeError(`'${dst}' is not an IPv6 address`);
  const srcBytes = opts.src !== undefined ? parseIPv6(opts.src) : null;
  if (opts.src !== undefined && !srcBytes) throw new RangeError(`'${opts.src}' is not an IPv6 address`);
  const fd = libc.socket(libc.AF_INET6, libc.SOCK_RAW, libc.IPPROTO_ICMPV6);
  try {
    // Block every ICMPv6 type on receive: this socket only sends.
    libc.setsockopt(fd, libc.IPPROTO_ICMPV6, libc.ICMP6_FILTER, new Uint8Array(32).fill(0xff), "ICMP6_FILTER");
    libc.setsockopt(fd, libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_HOPS, hopLimit, "IPV6_MULTICAST_HOPS");
    libc.setsockopt(fd, libc.IPPROTO_IPV6, libc.IPV6_UNICAST_HOPS, hopLimit, "IPV6_UNICAST_HOPS");
    libc.setsockopt(fd, libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF");
    const info = new Uint8Array(20);
    if (srcBytes) info.set(srcBytes, 0);
    new DataView(info.buffer).setUint32(16, ifindex, true);
    const control = libc.buildCmsg(libc.IPPROTO_IPV6, libc.IPV6_PKTINFO, info);
    libc.sendmsg(fd, [payload], libc.sockaddrIn6(dstBytes, 0, ifindex), control);
  } finally {
    libc.close(fd);
  }
}
