// Address and checksum helpers shared by the VRRP codecs. Pure functions on Uint8Array.

// The address parsers and formatters are net/inet.ts's; VRRP only narrows them: an IPv6 address
// with a zone ("fe80::1%eth0") is not a valid VRRP address.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../net/inet.ts";

export { formatIPv4 as formatIpv4, formatIPv6 as formatIpv6, parseIPv4 as parseIpv4 } from "../net/inet.ts";

export function parseIpv6(text: string): Uint8Array | null {
  return text.includes("%") ? null : parseIPv6(text);
}

/** Parses an address of the given family. */
export function parseIp(text: string, family: 4 | 6): Uint8Array | null {
  return family === 4 ? parseIPv4(text) : parseIpv6(text);
}

export function formatIp(bytes: Uint8Array, family: 4 | 6, offset = 0): string {
  return family === 4 ? formatIPv4(bytes, offset) : formatIPv6(bytes, offset);
}

/** Canonical text of an address string (so "10.0.0.01"-style or uncompressed IPv6 compare equal), or null. */
export function canonicalIp(text: string, family: 4 | 6): string | null {
  const bytes = parseIp(text, family);
  return bytes ? formatIp(bytes, family) : null;
}

/** Unsigned, network-order comparison of two equal-length addresses: -1, 0 or 1. */
export function compareAddressBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function isIpv4Multicast(bytes: Uint8Array): boolean {
  return (bytes[0] & 0xf0) === 0xe0;
}

export function isIpv6Multicast(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff;
}

/** One's-complement sum of the parts (RFC 1071), folded to 16 bits, not yet inverted. */
function onesComplementSum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd = false; // whether a high byte is pending across part boundaries
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      sum += odd ? part[i] : part[i] << 8;
      odd = !odd;
    }
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Internet checksum over the concatenation of the parts. Verifying data that holds its checksum yields 0. */
export function internetChecksum(...parts: Uint8Array[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

/** IPv4 pseudo-header (RFC 768 layout) for upper-layer checksums. */
export function ipv4PseudoHeader(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): Uint8Array {
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = protocol;
  ph[10] = length >> 8;
  ph[11] = length & 0xff;
  return ph;
}

/** IPv6 pseudo-header (RFC 8200 §8.1) for upper-layer checksums. */
export function ipv6PseudoHeader(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): Uint8Array {
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  new DataView(ph.buffer).setUint32(32, length);
  ph[39] = nextHeader;
  return ph;
}

/** Bytes from hex text (whitespace ignored, as in the .hex captures); null unless it is whole hex bytes. */
export function hexToBytes(hex: string): Uint8Array | null {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
