// VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), IPv4 and IPv6 (v3 only).
// Pure functions on Uint8Array. Receive checks follow keepalived 2.2.7 vrrp.c vrrp_check_packet()
// in order and in which MIB counter each failure lands; deviations from the RFCs are commented.

import {
  canonicalIp,
  compareAddressBytes,
  formatIp,
  formatIpv4,
  internetChecksum,
  ipv4PseudoHeader,
  ipv6PseudoHeader,
  isIpv4Multicast,
  isIpv6Multicast,
  parseIp,
  parseIpv4,
} from "./inet.ts";
import { IPPROTO_VRRP, VRRP_IP_TTL, VRRP_MCAST_GROUP4, type IpFamily, type VrrpAuthType, type VrrpInstanceParams, type VrrpVersion } from "./types.ts";

export const VRRP_TYPE_ADVERTISEMENT = 1;
export const VRRP_HEADER_LEN = 8;
export const VRRP_AUTH_LEN = 8;
export const VRRP_AUTH_NONE = 0;
export const VRRP_AUTH_PASS = 1;
export const VRRP_AUTH_AH = 2;
const IPV4_HEADER_LEN = 20;

/** Why a received packet was not accepted; stats.ts DROP_COUNTERS says which VRRP-MIB counters it bumps. */
export type DropReason =
  | "malformedIpHeader" // not IPv4, bad IHL, not protocol 112
  | "packetTooShort" // shorter than the fixed VRRP header
  | "lengthMismatch" // length vs address count, or IP total length vs received length
  | "ttlError" // TTL / hop limit != 255 (multicast only)
  | "versionMismatch"
  | "vridMismatch" // not our VRID: not an error for the instance, the packet is someone else's
  | "invalidAuthType" // v2 auth type not 0, 1 or 2
  | "authTypeMismatch" // v2 auth type differs from ours (includes AH, which we never accept)
  | "authFailure" // v2 PASS password differs
  | "advertIntervalMismatch" // v2 only
  | "invalidType" // not an ADVERTISEMENT
  | "addressCountMismatch"
  | "checksumError"
  | "castMismatch" // multicast received by a unicast instance or vice versa
  | "addressListMismatch" // one of our VIPs missing from the advert
  | "unicastSourceNotPeer"; // check_unicast_src: sender is not a configured peer

/** A decoded advertisement, fields in host units. */
export interface VrrpAdvert {
  version: VrrpVersion;
  type: number;
  vrid: number;
  priority: number;
  addressCount: number;
  /** v2: seconds × 1000; v3: centiseconds × 10 (the 12-bit field, reserved bits ignored). */
  advertIntervalMs: number;
  /** v2 auth type byte; 0 for v3. */
  authType: number;
  /** v2 authentication data (8 bytes, IPv4 only), null otherwise. */
  authData: Uint8Array | null;
  checksum: number;
  addresses: string[];
}

/** Facts about a received packet that come from the IP layer (header or IPv6 ancillary data). */
export interface RxMeta {
  family: IpFamily;
  source: string;
  destination: string;
  /** IPv4 TTL or IPv6 hop limit; null when the socket did not report it (keepalived then skips the check). */
  ttl: number | null;
}

export interface ReceivedAdvert extends VrrpAdvert {
  source: string;
  destination: string;
  ttl: number | null;
  /**
   * The v3 unicast checksum only verified with the pre-1.3.6 pseudo-header (multicast group as
   * destination). In "auto" mode keepalived then switches the instance to sending it too.
   */
  legacyUnicastChecksum: boolean;
}

/** What the receiving instance expects; see expectationsFor(). */
export interface AdvertExpectations {
  family: IpFamily;
  version: VrrpVersion;
  vrid: number;
  advertIntervalMs: number;
  authType: VrrpAuthType;
  authPass?: string;
  vips: readonly string[];
  unicastPeers: readonly string[];
  oldUnicastChecksum: "auto" | "always" | "never";
  v3ChecksumAsV2: boolean;
  /** keepalived checks the address list except in BACKUP with vrrp_skip_check_adv_addr and the same master. */
  checkAddresses: boolean;
  /** check_unicast_src / vrrp_check_unicast_src. */
  checkUnicastSource: boolean;
}

export type DecodeResult =
  | { ok: true; advert: ReceivedAdvert }
  | { ok: false; reason: DropReason; detail: string };

export type EncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export function expectationsFor(
  params: VrrpInstanceParams,
  opts: { checkAddresses?: boolean; checkUnicastSource?: boolean } = {},
): AdvertExpectations {
  return {
    family: params.family,
    version: params.version,
    vrid: params.vrid,
    advertIntervalMs: params.advertIntervalMs,
    authType: params.authType,
    authPass: params.authPass,
    vips: params.vips,
    unicastPeers: params.unicastPeers,
    oldUnicastChecksum: params.oldUnicastChecksum ?? "auto",
    v3ChecksumAsV2: params.v3ChecksumAsV2,
    checkAddresses: opts.checkAddresses ?? true,
    checkUnicastSource: opts.checkUnicastSource ?? false,
  };
}

/** keepalived stores auth_pass truncated to 8 bytes, zero padded (vrrp_parser.c). */
export function authData(pass: string | undefined): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(pass ?? "").subarray(0, VRRP_AUTH_LEN));
  return out;
}

function addressLength(family: IpFamily): number {
  return family === 4 ? 4 : 16;
}

/** Length the VRRP message must have, given its own version and address count. */
function expectedVrrpLength(version: number, addressCount: number, family: IpFamily): number {
  // keepalived: "Our implementation of IPv6 with VRRP version 2 doesn't include the 8 byte auth field".
  const auth = version === 2 && family === 4 ? VRRP_AUTH_LEN : 0;
  return VRRP_HEADER_LEN + addressCount * addressLength(family) + auth;
}

const MCAST_GROUP4 = parseIpv4(VRRP_MCAST_GROUP4)!;

/**
 * RFC 3768 §5.3.8: v2 over the VRRP message. RFC 5798 §5.2.8: v3 with the IPv4/IPv6 pseudo-header.
 * `noPseudoHeader` is the v3ChecksumAsV2 interop variant (IPv4 only).
 */
function vrrpChecksum(message: Uint8Array, version: number, family: IpFamily, src: Uint8Array, dst: Uint8Array, noPseudoHeader = false): number {
  if (family === 6) return internetChecksum(ipv6PseudoHeader(src, dst, IPPROTO_VRRP, message.length), message);
  if (version === 2 || noPseudoHeader) return internetChecksum(message);
  return internetChecksum(ipv4PseudoHeader(src, dst, IPPROTO_VRRP, message.length), message);
}

/** The fields needed to build an advertisement. authType "ah" is accepted only to be refused clearly. */
export interface AdvertFields {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  addresses: readonly string[];
  authType?: VrrpAuthType | "ah";
  authPass?: string;
}

export interface EncodeOptions {
  family: IpFamily;
  /** Source and destination of the IP packet: part of the v3 / IPv6 checksum. */
  source: string;
  destination: string;
  /** v3 IPv4 only: the pre-keepalived-1.3.6 unicast checksum (multicast group in the pseudo-header). */
  legacyUnicastChecksum?: boolean;
  /** v3 IPv4 only: no pseudo-header at all (see VrrpInstanceParams.v3ChecksumAsV2). */
  v3ChecksumAsV2?: boolean;
}

/** Checks the fields that decide the wire format; returns an error message or null. */
export function advertFieldError(fields: AdvertFields, family: IpFamily): string | null {
  if (fields.version !== 2 && fields.version !== 3) return `VRRP version must be 2 or 3, got ${String(fields.version)}`;
  if (family === 6 && fields.version !== 3) return "IPv6 requires VRRP version 3";
  if (!Number.isInteger(fields.vrid) || fields.vrid < 1 || fields.vrid > 255) return `VRID must be 1..255, got ${fields.vrid}`;
  if (!Number.isInteger(fields.priority) || fields.priority < 0 || fields.priority > 255)
    return `priority must be 0..255, got ${fields.priority}`;
  if (fields.version === 2) {
    const s = fields.advertIntervalMs / 1000;
    if (!Number.isInteger(s) || s < 1 || s > 255) return `VRRPv2 advert interval must be whole seconds 1..255, got ${fields.advertIntervalMs} ms`;
  } else {
    const cs = fields.advertIntervalMs / 10;
    if (!Number.isInteger(cs) || cs < 1 || cs > 4095)
      return `VRRPv3 advert interval must be whole centiseconds 1..4095, got ${fields.advertIntervalMs} ms`;
  }
  const auth = fields.authType ?? "none";
  if (auth === "ah") return "IPsec AH authentication (auth_type AH) is not supported";
  if (auth !== "none" && auth !== "pass") return `unknown authentication type ${String(auth)}`;
  if (auth === "pass" && fields.version !== 2) return "PASS authentication exists only in VRRPv2";
  if (auth === "pass" && !fields.authPass) return "PASS authentication needs auth_pass";
  if (fields.addresses.length > 255) return `at most 255 addresses fit in an advert, got ${fields.addresses.length}`;
  for (const a of fields.addresses) {
    if (!parseIp(a, family)) return `not an IPv${family} address: ${a}`;
  }
  return null;
}

/** Encodes the VRRP message (the IP payload), checksum included. */
export function encodeAdvert(fields: AdvertFields, opts: EncodeOptions): EncodeResult {
  const error = advertFieldError(fields, opts.family);
  if (error) return { ok: false, error };
  const src = parseIp(opts.source, opts.family);
  const dst = parseIp(opts.destination, opts.family);
  if (!src) return { ok: false, error: `not an IPv${opts.family} source address: ${opts.source}` };
  if (!dst) return { ok: false, error: `not an IPv${opts.family} destination address: ${opts.destination}` };

  const family = opts.family;
  const addrLen = addressLength(family);
  const bytes = new Uint8Array(expectedVrrpLength(fields.version, fields.addresses.length, family));
  bytes[0] = (fields.version << 4) | VRRP_TYPE_ADVERTISEMENT;
  bytes[1] = fields.vrid;
  bytes[2] = fields.priority;
  bytes[3] = fields.addresses.length;
  if (fields.version === 2) {
    bytes[4] = fields.authType === "pass" ? VRRP_AUTH_PASS : VRRP_AUTH_NONE;
    bytes[5] = fields.advertIntervalMs / 1000;
  } else {
    const cs = (fields.advertIntervalMs / 10) & 0x0fff; // top 4 bits reserved, zero
    bytes[4] = cs >> 8;
    bytes[5] = cs & 0xff;
  }
  fields.addresses.forEach((a, i) => bytes.set(parseIp(a, family)!, VRRP_HEADER_LEN + i * addrLen));
  if (fields.version === 2 && family === 4 && fields.authType === "pass") {
    bytes.set(authData(fields.authPass), VRRP_HEADER_LEN + fields.addresses.length * addrLen);
  }
  const pseudoDst = family === 4 && opts.legacyUnicastChecksum ? MCAST_GROUP4 : dst;
  const sum = vrrpChecksum(bytes, fields.version, family, src, pseudoDst, opts.v3ChecksumAsV2 ?? false);
  bytes[6] = sum >> 8;
  bytes[7] = sum & 0xff;
  return { ok: true, bytes };
}

/**
 * The advert an instance sends to `destination` (the group, or one unicast peer: the v3 checksum
 * differs per peer), with the given priority (0 when giving up mastership). `legacyUnicastChecksum`
 * defaults to old_unicast_checksum "always"; pass true once "auto" has detected an old peer.
 */
export function encodeInstanceAdvert(
  params: VrrpInstanceParams,
  priority: number,
  destination: string,
  legacyUnicastChecksum = params.oldUnicastChecksum === "always",
): EncodeResult {
  return encodeAdvert(
    {
      version: params.version,
      vrid: params.vrid,
      priority,
      advertIntervalMs: params.advertIntervalMs,
      addresses: params.vips,
      authType: params.authType,
      authPass: params.authPass,
    },
    { family: params.family, source: params.primaryIp, destination, legacyUnicastChecksum, v3ChecksumAsV2: params.v3ChecksumAsV2 },
  );
}

/** The IP id after `previous`: keepalived counts per instance from 1 and skips 0 on wrap-around. */
export function nextIpId(previous: number): number {
  const next = (previous + 1) & 0xffff;
  return next === 0 ? 1 : next;
}

export interface Ipv4HeaderFields {
  source: string;
  destination: string;
  /** IP identification; keepalived counts from 1 per instance and skips 0 (vrrp.c vrrp_update_pkt). */
  id: number;
  payload: Uint8Array;
  ttl?: number;
  tos?: number;
  protocol?: number;
}

/** A full IPv4 packet as keepalived builds it for IP_HDRINCL: TOS 0xc0, TTL 255, DF clear, header checksum. */
export function buildIpv4Packet(f: Ipv4HeaderFields): EncodeResult {
  const src = parseIpv4(f.source);
  const dst = parseIpv4(f.destination);
  if (!src || !dst) return { ok: false, error: `bad IPv4 address in ${f.source} -> ${f.destination}` };
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > 0xffff) return { ok: false, error: `IP id must be 0..65535, got ${f.id}` };
  const total = IPV4_HEADER_LEN + f.payload.length;
  if (total > 0xffff) return { ok: false, error: `packet too long: ${total} bytes` };
  const pkt = new Uint8Array(total);
  const view = new DataView(pkt.buffer);
  pkt[0] = 0x45;
  pkt[1] = f.tos ?? 0xc0;
  view.setUint16(2, total);
  view.setUint16(4, f.id);
  view.setUint16(6, 0); // no flags (DF clear), offset 0
  pkt[8] = f.ttl ?? VRRP_IP_TTL;
  pkt[9] = f.protocol ?? IPPROTO_VRRP;
  pkt.set(src, 12);
  pkt.set(dst, 16);
  view.setUint16(10, internetChecksum(pkt.subarray(0, IPV4_HEADER_LEN)));
  pkt.set(f.payload, IPV4_HEADER_LEN);
  return { ok: true, bytes: pkt };
}

export interface Ipv4Header {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  ttl: number;
  protocol: number;
  source: string;
  destination: string;
}

export type Ipv4ParseResult =
  | { ok: true; header: Ipv4Header; payload: Uint8Array }
  | { ok: false; reason: DropReason; detail: string };

/** Splits a received IPv4 packet (raw socket, header included) into header and VRRP payload. */
export function parseIpv4Packet(pkt: Uint8Array): Ipv4ParseResult {
  if (pkt.length < IPV4_HEADER_LEN) return { ok: false, reason: "malformedIpHeader", detail: `only ${pkt.length} bytes, no IPv4 header` };
  if (pkt[0] >> 4 !== 4) return { ok: false, reason: "malformedIpHeader", detail: `IP version ${pkt[0] >> 4}, expected 4` };
  const headerLength = (pkt[0] & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN || headerLength > pkt.length)
    return { ok: false, reason: "malformedIpHeader", detail: `IPv4 header length ${headerLength} with ${pkt.length} bytes received` };
  const protocol = pkt[9];
  if (protocol !== IPPROTO_VRRP) {
    // keepalived would count an AH packet (protocol 51) as authTypeMismatch: it is never ours.
    const reason: DropReason = protocol === 51 ? "authTypeMismatch" : "malformedIpHeader";
    return { ok: false, reason, detail: `IP protocol ${protocol}, expected ${IPPROTO_VRRP}` };
  }
  const view = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  return {
    ok: true,
    header: {
      headerLength,
      tos: pkt[1],
      totalLength: view.getUint16(2),
      id: view.getUint16(4),
      ttl: pkt[8],
      protocol,
      source: formatIpv4(pkt, 12),
      destination: formatIpv4(pkt, 16),
    },
    payload: pkt.subarray(headerLength),
  };
}

/** The VRID of a VRRP message, to find the instance it is for; null if too short. */
export function peekVrid(payload: Uint8Array): number | null {
  return payload.length >= 2 ? payload[1] : null;
}

/** Decodes the VRRP header and addresses with no validation beyond what is needed to read them safely. */
export function parseAdvert(payload: Uint8Array, family: IpFamily): { ok: true; advert: VrrpAdvert } | { ok: false; reason: DropReason; detail: string } {
  if (payload.length < VRRP_HEADER_LEN)
    return { ok: false, reason: "packetTooShort", detail: `${payload.length} bytes, a VRRP header is ${VRRP_HEADER_LEN}` };
  const version = payload[0] >> 4;
  const addressCount = payload[3];
  const expected = expectedVrrpLength(version, addressCount, family);
  if (payload.length !== expected)
    return {
      ok: false,
      reason: "lengthMismatch",
      detail: `VRRP packet too ${payload.length > expected ? "long" : "short"}: ${payload.length} bytes, ${addressCount} addresses need ${expected}`,
    };
  if (version !== 2 && version !== 3) return { ok: false, reason: "versionMismatch", detail: `unknown VRRP version ${version}` };
  const addrLen = addressLength(family);
  const addresses: string[] = [];
  for (let i = 0; i < addressCount; i++) addresses.push(formatIp(payload, family, VRRP_HEADER_LEN + i * addrLen));
  const v2 = version === 2;
  return {
    ok: true,
    advert: {
      version,
      type: payload[0] & 0x0f,
      vrid: payload[1],
      priority: payload[2],
      addressCount,
      advertIntervalMs: v2 ? payload[5] * 1000 : (((payload[4] << 8) | payload[5]) & 0x0fff) * 10,
      authType: v2 ? payload[4] : 0,
      authData: v2 && family === 4 ? payload.slice(VRRP_HEADER_LEN + addressCount * 4) : null,
      checksum: (payload[6] << 8) | payload[7],
      addresses,
    },
  };
}

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareAddressBytes(a, b) === 0;
}

/**
 * Validates a VRRP message for one instance, in keepalived's order (vrrp_check_packet), so the same
 * packet lands in the same counter. A priority-0 advert is accepted (priorityZeroPktsRcvd, not a drop).
 */
export function decodeAdvert(payload: Uint8Array, rx: RxMeta, expect: AdvertExpectations): DecodeResult {
  if (rx.family !== expect.family) return drop("malformedIpHeader", `IPv${rx.family} packet for an IPv${expect.family} instance`);
  const parsed = parseAdvert(payload, rx.family);
  // The VRID decides which instance a packet is for, so it is looked at before anything else,
  // as keepalived's dispatcher does (vrrp_scheduler.c vrrp_dispatcher_read).
  if (payload.length >= 2 && payload[1] !== expect.vrid) return drop("vridMismatch", `VRID ${payload[1]} is not ours (${expect.vrid})`);
  if (!parsed.ok) return drop(parsed.reason, parsed.detail);
  const advert = parsed.advert;
  const src = parseIp(rx.source, rx.family);
  const dst = parseIp(rx.destination, rx.family);
  if (!src || !dst) return drop("malformedIpHeader", `bad addresses ${rx.source} -> ${rx.destination}`);

  // RFC 3768/5798 §7.1: MUST verify TTL/hop limit 255. keepalived skips this for unicast peers.
  if (expect.unicastPeers.length === 0 && rx.ttl !== null && rx.ttl !== VRRP_IP_TTL)
    return drop("ttlError", `invalid TTL/HL: received ${rx.ttl}, expected ${VRRP_IP_TTL}`);

  if (advert.version !== expect.version)
    return drop("versionMismatch", `wrong version: received ${advert.version}, expected ${expect.version}`);

  if (advert.version === 2) {
    if (advert.authType !== VRRP_AUTH_NONE && advert.authType !== VRRP_AUTH_PASS && advert.authType !== VRRP_AUTH_AH)
      return drop("invalidAuthType", `invalid auth type ${advert.authType}`);
    const ours = expect.authType === "pass" ? VRRP_AUTH_PASS : VRRP_AUTH_NONE;
    if (advert.authType !== ours) return drop("authTypeMismatch", `received auth type ${advert.authType}, expecting ${ours}`);
    if (ours === VRRP_AUTH_PASS && advert.authData && !sameBytes(advert.authData, authData(expect.authPass)))
      return drop("authFailure", "received an invalid password");
    // RFC 3768 §7.1 MUST verify the interval. keepalived drops silently (VRRP_PACKET_DROP) and its
    // advert_interval_err is never incremented; we count it, as the MIB intends.
    if (advert.advertIntervalMs !== expect.advertIntervalMs)
      return drop(
        "advertIntervalMismatch",
        `advertisement interval mismatch: mine ${expect.advertIntervalMs / 1000} s, received ${advert.advertIntervalMs / 1000} s`,
      );
  }

  if (advert.type !== VRRP_TYPE_ADVERTISEMENT)
    return drop("invalidType", `invalid packet type ${advert.type}, expected ${VRRP_TYPE_ADVERTISEMENT}`);

  if (expect.checkAddresses && advert.addressCount !== expect.vips.length)
    return drop("addressCountMismatch", `received ${advert.addressCount} addresses, expected ${expect.vips.length}`);

  const v3ipv4 = advert.version === 3 && rx.family === 4;
  const verifies = (pseudoDst: Uint8Array, noPseudoHeader = false) =>
    vrrpChecksum(payload, advert.version, rx.family, src, pseudoDst, noPseudoHeader) === 0;
  let legacyUnicastChecksum = false;
  let checksumOk = verifies(v3ipv4 && expect.oldUnicastChecksum === "always" ? MCAST_GROUP4 : dst);
  if (
    !checksumOk &&
    v3ipv4 &&
    expect.oldUnicastChecksum === "auto" &&
    expect.unicastPeers.length > 0 &&
    !sameBytes(dst, MCAST_GROUP4) &&
    verifies(MCAST_GROUP4)
  ) {
    // vrrp_check_packet with OLD_CHKSUM_COMPAT: "Setting unicast VRRPv3 checksum to old version".
    checksumOk = legacyUnicastChecksum = true;
  }
  if (!checksumOk && v3ipv4 && expect.v3ChecksumAsV2) checksumOk = verifies(dst, true);
  if (!checksumOk)
    return drop("checksumError", `invalid VRRPv${advert.version} checksum 0x${advert.checksum.toString(16).padStart(4, "0")}`);

  const multicast = rx.family === 4 ? isIpv4Multicast(dst) : isIpv6Multicast(dst);
  if (multicast !== (expect.unicastPeers.length === 0))
    return drop(
      "castMismatch",
      `expected ${expect.unicastPeers.length === 0 ? "multicast" : "unicast"} packet but received ${multicast ? "multicast" : "unicast"}`,
    );

  if (expect.checkAddresses) {
    // RFC: "MAY verify that the IP address(es) associated with the VRID are valid". keepalived drops
    // the advert when one of our VIPs is missing (counted as received first, then addressListErrors),
    // so two routers with different VIP lists both become MASTER: checked with 2.2.7 in namespaces,
    // for a different count ("unexpected ip number count") and a different address alike.
    const received = new Set(advert.addresses);
    for (const vip of expect.vips) {
      const canonical = canonicalIp(vip, rx.family);
      if (!canonical || !received.has(canonical))
        return drop("addressListMismatch", `ip address associated with VRID ${expect.vrid} not present in MASTER advert: ${vip}`);
    }
  }

  if (expect.checkUnicastSource && expect.unicastPeers.length > 0) {
    const peers = new Set(expect.unicastPeers.map((p) => canonicalIp(p, rx.family)));
    if (!peers.has(formatIp(src, rx.family)))
      return drop("unicastSourceNotPeer", `unicast source address ${rx.source} is not a unicast peer`);
  }

  return {
    ok: true,
    advert: { ...advert, source: formatIp(src, rx.family), destination: formatIp(dst, rx.family), ttl: rx.ttl, legacyUnicastChecksum },
  };
}

/** Decodes a whole received IPv4 packet (raw socket with the header) for one instance. */
export function decodeIpv4Advert(pkt: Uint8Array, expect: AdvertExpectations): DecodeResult {
  const ip = parseIpv4Packet(pkt);
  if (!ip.ok) return ip;
  const meta: RxMeta = { family: 4, source: ip.header.source, destination: ip.header.destination, ttl: ip.header.ttl };
  const result = decodeAdvert(ip.payload, meta, expect);
  // keepalived compares tot_len with the received length after the address count check; only a
  // packet that is otherwise fine gets here with a wrong tot_len, so checking last keeps the counters.
  if (result.ok && ip.header.totalLength !== pkt.length)
    return drop("lengthMismatch", `ip tot_len ${ip.header.totalLength} against received length ${pkt.length}`);
  return result;
}

/** Convenience entry: IPv4 takes the full packet, IPv6 the payload plus the ancillary metadata. */
export function decode(bytes: Uint8Array, ctx: { expect: AdvertExpectations; rx?: RxMeta }): DecodeResult {
  if (ctx.expect.family === 4 && !ctx.rx) return decodeIpv4Advert(bytes, ctx.expect);
  if (!ctx.rx) return drop("malformedIpHeader", "IPv6 adverts need the source, destination and hop limit from the socket");
  return decodeAdvert(bytes, ctx.rx, ctx.expect);
}
