// Gratuitous ARP (IPv4) and unsolicited Neighbour Advertisement (IPv6) a new master sends for its VIPs,
// in the form keepalived 2.2.7 sends them (vrrp_arp.c send_gratuitous_arp, vrrp_ndisc.c ndisc_send_na).

import { BROADCAST_MAC, buildEthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV6, ipv6MulticastMac } from "./ethernet.ts";
import { internetChecksum, ipv6PseudoHeader, parseIpv4, parseIpv6 } from "./inet.ts";

export type FrameResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const ARP_REQUEST = 1;
const ICMPV6_NEIGHBOR_ADVERT = 136;
const IPPROTO_ICMPV6 = 58;
const ND_OPT_TARGET_LINKADDR = 2;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;
export const ALL_NODES = "ff02::1";

function checkMac(mac: Uint8Array): string | null {
  return mac.length === 6 ? null : `a MAC address has 6 bytes, got ${mac.length}`;
}

/**
 * Ethernet broadcast ARP request with SPA = TPA = VIP and THA ff:ff:ff:ff:ff:ff (keepalived's choice;
 * RFC 5227 would use zeros), 42 bytes, byte-identical to keepalived's frame in captures/garp-*.
 */
export function buildGratuitousArp(senderMac: Uint8Array, vip: string): FrameResult {
  const macError = checkMac(senderMac);
  if (macError) return { ok: false, error: macError };
  const ip = parseIpv4(vip);
  if (!ip) return { ok: false, error: `not an IPv4 address: ${vip}` };
  const arp = new Uint8Array(28);
  arp.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, ARP_REQUEST], 0); // Ethernet, IPv4, hlen 6, plen 4, request
  arp.set(senderMac, 8);
  arp.set(ip, 14);
  arp.set(BROADCAST_MAC, 18);
  arp.set(ip, 24);
  return { ok: true, bytes: buildEthernetFrame(BROADCAST_MAC, senderMac, ETHERTYPE_ARP, arp) };
}

export interface UnsolicitedNaFields {
  /** The VIP being announced (the NA target). */
  target: string;
  /** Link-layer address for the target link-layer address option. */
  mac: Uint8Array;
  /**
   * IPv6 source (part of the ICMPv6 checksum). keepalived sends from the VIP itself (captured:
   * "2001:db8::100 > ff02::1 ... tgt is 2001:db8::100"), which is the default here.
   */
  source?: string;
  /** keepalived sets the Router flag when the interface forwards IPv6. */
  router?: boolean;
}

/** ICMPv6 NA (type 136, Override set, target link-layer option) for a raw ICMPv6 socket, checksum filled in. */
export function buildUnsolicitedNa(f: UnsolicitedNaFields): FrameResult {
  const macError = checkMac(f.mac);
  if (macError) return { ok: false, error: macError };
  const target = parseIpv6(f.target);
  const src = parseIpv6(f.source ?? f.target);
  if (!target) return { ok: false, error: `not an IPv6 address: ${f.target}` };
  if (!src) return { ok: false, error: `not an IPv6 address: ${String(f.source)}` };
  const na = new Uint8Array(32);
  na[0] = ICMPV6_NEIGHBOR_ADVERT;
  na[4] = NA_FLAG_OVERRIDE | (f.router ? NA_FLAG_ROUTER : 0);
  na.set(target, 8);
  na[24] = ND_OPT_TARGET_LINKADDR;
  na[25] = 1; // option length in units of 8 bytes
  na.set(f.mac, 26);
  const sum = internetChecksum(ipv6PseudoHeader(src, parseIpv6(ALL_NODES)!, IPPROTO_ICMPV6, na.length), na);
  na[2] = sum >> 8;
  na[3] = sum & 0xff;
  return { ok: true, bytes: na };
}

/**
 * The same NA as a whole Ethernet frame: to 33:33:00:00:00:01, IPv6 hop limit 255, traffic class and
 * flow label 0, to ff02::1; byte-identical to keepalived's (captures/na-*.hex).
 */
export function buildUnsolicitedNaFrame(f: UnsolicitedNaFields): FrameResult {
  const na = buildUnsolicitedNa(f);
  if (!na.ok) return na;
  const allNodes = parseIpv6(ALL_NODES)!;
  const ip6 = new Uint8Array(40 + na.bytes.length);
  ip6[0] = 0x60;
  ip6[4] = na.bytes.length >> 8;
  ip6[5] = na.bytes.length & 0xff;
  ip6[6] = IPPROTO_ICMPV6;
  ip6[7] = 255; // RFC 4861 §7.1.2: NDP messages carry hop limit 255
  ip6.set(parseIpv6(f.source ?? f.target)!, 8);
  ip6.set(allNodes, 24);
  ip6.set(na.bytes, 40);
  return { ok: true, bytes: buildEthernetFrame(ipv6MulticastMac(allNodes), f.mac, ETHERTYPE_IPV6, ip6) };
}
