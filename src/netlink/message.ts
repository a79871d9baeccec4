// Pure netlink codecs: nlmsghdr, nlattr TLVs (with nesting), NLMSG_ERROR, genlmsghdr and the
// generic-netlink controller (family lookup). No I/O here; src/netlink/socket.ts does the talking.
// All multi-byte netlink fields are host byte order (little-endian on every platform we ship for).
import { errnoName } from "../../ffi/errno.ts";

// ---- protocols (socket(AF_NETLINK, SOCK_RAW, protocol)) ----
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
export const NETLINK_NETFILTER = 12;

// ---- message types and flags ----
export const NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_OVERRUN = 4;
export const NLMSG_MIN_TYPE = 0x10;
export const NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_ECHO = 0x8;
export const NLM_F_DUMP_INTR = 0x10, NLM_F_DUMP_FILTERED = 0x20;
// GET requests
export const NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200, NLM_F_ATOMIC = 0x400, NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW requests
export const NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800;
// ACK flags
export const NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;
// nlattr type bits
export const NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000, NLA_TYPE_MASK = 0x3fff;
// extended ack attributes (inside NLMSG_ERROR when NLM_F_ACK_TLVS is set)
export const NLMSGERR_ATTR_MSG = 1, NLMSGERR_ATTR_OFFS = 2;

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const GENL_HDRLEN = 4;

export const nlmsgAlign = (n: number): number => (n + 3) & ~3;
export const nlaAlign = nlmsgAlign;

/** Raised when bytes from the kernel (or a test) do not form valid netlink. */
export class NetlinkDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetlinkDecodeError";
  }
}

export interface NlMsgHeader {
  /** Total length including the 16-byte header. */
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage {
  header: NlMsgHeader;
  /** Bytes after the nlmsghdr (family header + attributes), exactly len - 16 long. */
  payload: Uint8Array;
}

export interface NlMsgSpec {
  type: number;
  flags?: number;
  seq?: number;
  pid?: number;
  payload?: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.byteLength; }
  return out;
}

/** Encodes one message; the result is padded to 4 bytes so messages can be concatenated into a batch. */
export function encodeNlMsg(spec: NlMsgSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const len = NLMSG_HDRLEN + payload.byteLength;
  const out = new Uint8Array(nlmsgAlign(len));
  const v = view(out);
  v.setUint32(0, len, true);
  v.setUint16(4, spec.type, true);
  v.setUint16(6, spec.flags ?? 0, true);
  v.setUint32(8, spec.seq ?? 0, true);
  v.setUint32(12, spec.pid ?? 0, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

export function decodeNlMsgHeader(b: Uint8Array, offset = 0): NlMsgHeader {
  if (b.byteLength - offset < NLMSG_HDRLEN) throw new NetlinkDecodeError(`truncated nlmsghdr at offset ${offset}`);
  const v = view(b);
  return {
    len: v.getUint32(offset, true),
    type: v.getUint16(offset + 4, true),
    flags: v.getUint16(offset + 6, true),
    seq: v.getUint32(offset + 8, true),
    pid: v.getUint32(offset + 12, true),
  };
}

/** Splits a datagram into its messages (payloads are views into `b`). */
export function decodeNlMsgs(b: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= b.byteLength) {
    const header = decodeNlMsgHeader(b, off);
    if (header.len < NLMSG_HDRLEN || off + header.len > b.byteLength) {
      throw new NetlinkDecodeError(`bad nlmsg_len ${header.len} at offset ${off} of ${b.byteLength}`);
    }
    out.push({ header, payload: b.subarray(off + NLMSG_HDRLEN, off + header.len) });
    off += nlmsgAlign(header.len);
  }
  return out;
}

// ---- attributes ----

/** An attribute to encode: raw bytes, or children for a nested attribute. */
export interface NlAttrSpec {
  type: number;
  value: Uint8Array | readonly NlAttrSpec[];
}

// Encoding sizes the whole tree first and writes it into one zeroed buffer (padding stays zero):
// a buffer per attribute, concatenated level by level, was much of the 10 µs an IPVS request took.

/** Unpadded length of one attribute (header + value, nested children each padded). */
function attrLength(attr: NlAttrSpec): number {
  return NLA_HDRLEN + (attr.value instanceof Uint8Array ? attr.value.byteLength : attrsLength(attr.value));
}

function attrsLength(attrs: readonly NlAttrSpec[]): number {
  let total = 0;
  for (const a of attrs) total += nlaAlign(attrLength(a));
  return total;
}

/** Writes `attr` at `off` (little-endian header, as the kernel expects); returns the padded end. */
function writeAttr(out: Uint8Array, v: DataView, off: number, attr: NlAttrSpec): number {
  const len = attrLength(attr);
  v.setUint16(off, len, true);
  v.setUint16(off + 2, attr.type, true);
  if (attr.value instanceof Uint8Array) out.set(attr.value, off + NLA_HDRLEN);
  else {
    let child = off + NLA_HDRLEN;
    for (const c of attr.value) child = writeAttr(out, v, child, c);
  }
  return off + nlaAlign(len);
}

export function encodeAttrs(attrs: readonly NlAttrSpec[]): Uint8Array {
  const out = new Uint8Array(attrsLength(attrs));
  const v = view(out);
  let off = 0;
  for (const a of attrs) off = writeAttr(out, v, off, a);
  return out;
}

export function encodeAttr(attr: NlAttrSpec): Uint8Array {
  const out = new Uint8Array(nlaAlign(attrLength(attr)));
  writeAttr(out, view(out), 0, attr);
  return out;
}

function sized(bytes: number, write: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(bytes);
  write(view(b));
  return b;
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} value ${value} out of range 0..${max}`);
}

// The fixed-size integers are written byte by byte: a DataView per attribute was most of the cost
// of encoding an IPVS request.
const le32 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);

export const attrBytes = (type: number, value: Uint8Array): NlAttrSpec => ({ type, value });
export const attrFlag = (type: number): NlAttrSpec => ({ type, value: new Uint8Array(0) });
export const attrU8 = (type: number, n: number): NlAttrSpec => {
  checkRange("u8", n, 0xff);
  return { type, value: Uint8Array.of(n) };
};
export const attrU16 = (type: number, n: number): NlAttrSpec => {
  checkRange("u16", n, 0xffff);
  return { type, value: Uint8Array.of(n & 0xff, n >>> 8) };
};
export const attrU32 = (type: number, n: number): NlAttrSpec => {
  checkRange("u32", n, 0xffffffff);
  return { type, value: le32(n) };
};
export const attrS32 = (type: number, n: number): NlAttrSpec => ({ type, value: sized(4, (v) => v.setInt32(0, n, true)) });
export const attrU64 = (type: number, n: bigint | number): NlAttrSpec => ({
  type,
  value: sized(8, (v) => v.setBigUint64(0, BigInt(n), true)),
});
export const attrBe16 = (type: number, n: number): NlAttrSpec => {
  checkRange("be16", n, 0xffff);
  return { type, value: Uint8Array.of(n >>> 8, n & 0xff) };
};
export const attrBe32 = (type: number, n: number): NlAttrSpec => {
  checkRange("be32", n, 0xffffffff);
  return { type, value: Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff) };
};
/** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept this). */
const utf8 = new TextEncoder();
export const attrString = (type: number, s: string): NlAttrSpec => {
  const enc = utf8.encode(s);
  const value = new Uint8Array(enc.byteLength + 1);
  value.set(enc);
  return { type, value };
};
/** Nested attribute. Pass `type | NLA_F_NESTED` if the receiving family validates the flag. */
export const attrNested = (type: number, children: readonly NlAttrSpec[]): NlAttrSpec => ({ type, value: children });

export interface NlAttr {
  /** Type with the NESTED/NET_BYTEORDER bits removed. */
  type: number;
  nestedFlag: boolean;
  netByteOrderFlag: boolean;
  /** The value bytes (a view, without header or padding). */
  data: Uint8Array;
}

/** Parses a run of attributes into a list (keeps duplicates and order). */
export function parseAttrs(b: Uint8Array): NlAttr[] {
  const out: NlAttr[] = [];
  const v = view(b);
  let off = 0;
  while (off + NLA_HDRLEN <= b.byteLength) {
    const len = v.getUint16(off, true);
    const rawType = v.getUint16(off + 2, true);
    if (len < NLA_HDRLEN || off + len > b.byteLength) {
      throw new NetlinkDecodeError(`bad nla_len ${len} for attribute type ${rawType & NLA_TYPE_MASK} at offset ${off}`);
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nestedFlag: (rawType & NLA_F_NESTED) !== 0,
      netByteOrderFlag: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: b.subarray(off + NLA_HDRLEN, off + len),
    });
    off += nlaAlign(len);
  }
  return out;
}

/** Parses attributes into a map by type (the last one wins for duplicates, as the kernel's nla_parse does). */
export function parseAttrMap(b: Uint8Array): Map<number, Uint8Array> {
  // Same walk as parseAttrs without the per-attribute objects: table dumps decode millions of attributes.
  const m = new Map<number, Uint8Array>();
  let off = 0;
  while (off + NLA_HDRLEN <= b.byteLength) {
    const len = b[off] | (b[off + 1] << 8);
    const rawType = b[off + 2] | (b[off + 3] << 8);
    if (len < NLA_HDRLEN || off + len > b.byteLength) {
      throw new NetlinkDecodeError(`bad nla_len ${len} for attribute type ${rawType & NLA_TYPE_MASK} at offset ${off}`);
    }
    m.set(rawType & NLA_TYPE_MASK, b.subarray(off + NLA_HDRLEN, off + len));
    off += nlaAlign(len);
  }
  return m;
}

function need(data: Uint8Array, n: number, what: string): Uint8Array {
  if (data.byteLength < n) throw new NetlinkDecodeError(`${what} attribute has ${data.byteLength} bytes, need ${n}`);
  return data;
}

// Byte arithmetic rather than a DataView per read (see the encoders above).
const le32At = (d: Uint8Array, o: number): number => (d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24)) >>> 0;

export const readU8 = (d: Uint8Array): number => need(d, 1, "u8")[0];
export const readU16 = (d: Uint8Array): number => { need(d, 2, "u16"); return d[0] | (d[1] << 8); };
export const readU32 = (d: Uint8Array): number => le32At(need(d, 4, "u32"), 0);
export const readS32 = (d: Uint8Array): number => le32At(need(d, 4, "s32"), 0) | 0;
export const readU64 = (d: Uint8Array): bigint => view(need(d, 8, "u64")).getBigUint64(0, true);
/** A u64 as a number: exact below 2^53, above it rounded once to the nearest double (as Number(readU64(d))). */
export const readU64Number = (d: Uint8Array): number => { need(d, 8, "u64"); return le32At(d, 4) * 0x1_0000_0000 + le32At(d, 0); };
export const readBe16 = (d: Uint8Array): number => { need(d, 2, "be16"); return (d[0] << 8) | d[1]; };
export const readBe32 = (d: Uint8Array): number => { need(d, 4, "be32"); return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0; };
const utf8Decoder = new TextDecoder();
/** String attribute, up to the first NUL (or the whole value if there is none). */
export const readString = (d: Uint8Array): string => {
  const end = d.indexOf(0);
  return utf8Decoder.decode(end < 0 ? d : d.subarray(0, end));
};

// ---- NLMSG_ERROR ----

export interface NlErrorInfo {
  /** Positive errno; 0 means this is an ACK. */
  errno: number;
  /** errno symbol, e.g. "EEXIST" ("OK" for an ACK). */
  code: string;
  /** Header of the request this answers. */
  request: NlMsgHeader;
  /** Extended-ack message from the kernel, if any (NETLINK_EXT_ACK). */
  extMessage?: string;
  /** Extended-ack byte offset of the offending attribute in the request, if any. */
  extOffset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (flags from its own header tell what follows). */
export function decodeNlError(msg: NetlinkMessage): NlErrorInfo {
  const p = msg.payload;
  if (p.byteLength < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError(`NLMSG_ERROR payload too short (${p.byteLength} bytes)`);
  const errnoValue = -view(p).getInt32(0, true) | 0; // "| 0" turns -0 into 0
  const request = decodeNlMsgHeader(p, 4);
  const info: NlErrorInfo = { errno: errnoValue, code: errnoName(errnoValue), request };
  if (msg.header.flags & NLM_F_ACK_TLVS) {
    // The original request is echoed in full unless the kernel capped it (NLM_F_CAPPED).
    const echoed = msg.header.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : nlmsgAlign(request.len);
    const tlvStart = 4 + echoed;
    if (tlvStart <= p.byteLength) {
      const attrs = parseAttrMap(p.subarray(tlvStart));
      const m = attrs.get(NLMSGERR_ATTR_MSG);
      if (m) info.extMessage = readString(m);
      const o = attrs.get(NLMSGERR_ATTR_OFFS);
      if (o) info.extOffset = readU32(o);
    }
  }
  return info;
}

/** Payload of NLMSG_DONE carries an int error code (non-zero if the dump failed part-way). */
export function decodeDoneError(msg: NetlinkMessage): number {
  return msg.payload.byteLength >= 4 ? -view(msg.payload).getInt32(0, true) | 0 : 0;
}

// ---- generic netlink ----

export interface GenlHeader { cmd: number; version: number }

export function encodeGenlHeader(h: GenlHeader): Uint8Array {
  return Uint8Array.of(h.cmd, h.version, 0, 0);
}

export function decodeGenlHeader(payload: Uint8Array): GenlHeader {
  if (payload.byteLength < GENL_HDRLEN) throw new NetlinkDecodeError(`genlmsghdr truncated (${payload.byteLength} bytes)`);
  return { cmd: payload[0], version: payload[1] };
}

/** Payload (genlmsghdr + attributes) for a generic netlink request; the socket adds the nlmsghdr. */
export function genlPayload(cmd: number, version: number, attrs: readonly NlAttrSpec[] = []): Uint8Array {
  return concatBytes([encodeGenlHeader({ cmd, version }), encodeAttrs(attrs)]);
}

export interface GenlMessage { header: NlMsgHeader; genl: GenlHeader; attrs: Uint8Array }

export function decodeGenlMessage(msg: NetlinkMessage): GenlMessage {
  return { header: msg.header, genl: decodeGenlHeader(msg.payload), attrs: msg.payload.subarray(GENL_HDRLEN) };
}

// ---- generic netlink controller ----
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_NEWFAMILY = 1, CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1, CTRL_ATTR_FAMILY_NAME = 2, CTRL_ATTR_VERSION = 3, CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5, CTRL_ATTR_OPS = 6, CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_MCAST_GRP_NAME = 1, CTRL_ATTR_MCAST_GRP_ID = 2;

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  hdrSize: number;
  maxAttr: number;
  /** Multicast group name -> group id (for NETLINK_ADD_MEMBERSHIP). */
  groups: Map<string, number>;
}

/** The message body (type GENL_ID_CTRL) asking the controller for a family by name. */
export function ctrlGetFamilyRequest(name: string): { type: number; payload: Uint8Array } {
  return { type: GENL_ID_CTRL, payload: genlPayload(CTRL_CMD_GETFAMILY, 1, [attrString(CTRL_ATTR_FAMILY_NAME, name)]) };
}

export function parseCtrlFamily(msg: NetlinkMessage): GenlFamily {
  const { genl, attrs } = decodeGenlMessage(msg);
  if (genl.cmd !== CTRL_CMD_NEWFAMILY) throw new NetlinkDecodeError(`controller reply has command ${genl.cmd}, expected NEWFAMILY`);
  const a = parseAttrMap(attrs);
  const id = a.get(CTRL_ATTR_FAMILY_ID);
  const name = a.get(CTRL_ATTR_FAMILY_NAME);
  if (!id || !name) throw new NetlinkDecodeError("controller reply lacks family id or name");
  const groups = new Map<string, number>();
  const mcast = a.get(CTRL_ATTR_MCAST_GROUPS);
  if (mcast) {
    for (const g of parseAttrs(mcast)) {
      const ga = parseAttrMap(g.data);
      const gName = ga.get(CTRL_ATTR_MCAST_GRP_NAME);
      const gId = ga.get(CTRL_ATTR_MCAST_GRP_ID);
      if (gName && gId) groups.set(readString(gName), readU32(gId));
    }
  }
  const opt = (t: number) => { const d = a.get(t); return d ? readU32(d) : 0; };
  return { id: readU16(id), name: readString(name), version: opt(CTRL_ATTR_VERSION), hdrSize: opt(CTRL_ATTR_HDRSIZE), maxAttr: opt(CTRL_ATTR_MAXATTR), groups };
}
