// Ethernet framing and the MAC addresses VRRP uses (RFC 3768 §7.3, RFC 5798 §7.3).

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export { formatMac, parseMac } from "../net/inet.ts";

/** The VRRP virtual router MAC: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6. */
export function vrrpVirtualMac(vrid: number, family: 4 | 6): Uint8Array {
  return new Uint8Array([0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid & 0xff]);
}

/** Link-layer multicast address for an IPv4 group (RFC 1112 §6.4): 01:00:5e + low 23 bits. */
export function ipv4MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, group[1] & 0x7f, group[2], group[3]]);
}

/** Link-layer multicast address for an IPv6 group (RFC 2464 §7): 33:33 + low 32 bits. */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12], group[13], group[14], group[15]]);
}

/** An untagged Ethernet II frame. No padding to 60 bytes: the NIC pads, as keepalived's captures show. */
export function buildEthernetFrame(dst: Uint8Array, src: Uint8Array, ethertype: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  frame.set(dst.subarray(0, 6), 0);
  frame.set(src.subarray(0, 6), 6);
  frame[12] = ethertype >> 8;
  frame[13] = ethertype & 0xff;
  frame.set(payload, 14);
  return frame;
}
