// Pure nf_tables codec (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_NFTABLES): tables, chains, sets, set
// elements and rules with the few expressions keepalived's VRRP firewall uses, and the nfnetlink batch
// (BATCH_BEGIN ... BATCH_END) that carries them as one transaction. Attributes are laid out in the order
// libnftnl writes them, so a request is byte for byte what keepalived 2.2.7 sends (test/fixtures/nftables/).
// Integers in nf_tables attributes are big-endian; the netlink headers and set userdata are host order.
import {
  NETLINK_NETFILTER, NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST, attrBe32, attrBytes, attrString, concatBytes, encodeAttrs, encodeNlMsg,
  type NlAttrSpec,
} from "./message.ts";
import type { NetlinkRequest } from "./socket.ts";

export { NETLINK_NETFILTER };
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10, NFNL_MSG_BATCH_END = 0x11;

export const NFT_MSG_NEWTABLE = 0, NFT_MSG_GETTABLE = 1, NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3, NFT_MSG_NEWRULE = 6, NFT_MSG_NEWSET = 9;
export const NFT_MSG_NEWSETELEM = 12, NFT_MSG_DELSETELEM = 14;

export const NFPROTO_UNSPEC = 0, NFPROTO_IPV4 = 2, NFPROTO_IPV6 = 10;
export type NfFamily = typeof NFPROTO_IPV4 | typeof NFPROTO_IPV6;
export const NF_INET_LOCAL_IN = 1, NF_INET_LOCAL_OUT = 3;

/** Verdicts share the netfilter numbers; NFT_GOTO/NFT_JUMP are negative (sent as their u32 pattern). */
export const NF_DROP = 0, NF_ACCEPT = 1, NFT_JUMP = -3, NFT_GOTO = -4;
export const NFT_REG_VERDICT = 0, NFT_REG_1 = 1, NFT_REG_2 = 2;
export const NFT_PAYLOAD_NETWORK_HEADER = 1, NFT_PAYLOAD_TRANSPORT_HEADER = 2;
export const NFT_META_IIF = 4, NFT_META_OIF = 5, NFT_META_IIFNAME = 6, NFT_META_OIFNAME = 7;
export const NFT_CMP_EQ = 0;
export const NFT_SET_CONSTANT = 0x2;

/** nft's datatype numbers (nftables include/datatype.h); a concatenation shifts by NFT_TYPE_BITS. */
export const NFT_TYPE_STRING = 5, NFT_TYPE_IPADDR = 7, NFT_TYPE_IP6ADDR = 8, NFT_TYPE_IFINDEX = 20;
export const NFT_TYPE_ICMPV6_TYPE = 29, NFT_TYPE_IFNAME = 41;
export const NFT_TYPE_BITS = 6;
/** Set userdata (nft's NFTNL_UDATA_SET_KEYBYTEORDER): how `nft list` prints keys. */
export const BYTEORDER_HOST_ENDIAN = 1, BYTEORDER_BIG_ENDIAN = 2;

// attribute numbers (linux/netfilter/nf_tables.h)
const NFTA_TABLE_NAME = 1;
const NFTA_CHAIN_TABLE = 1, NFTA_CHAIN_NAME = 3, NFTA_CHAIN_HOOK = 4, NFTA_CHAIN_POLICY = 5, NFTA_CHAIN_TYPE = 7;
const NFTA_HOOK_HOOKNUM = 1, NFTA_HOOK_PRIORITY = 2;
const NFTA_SET_TABLE = 1, NFTA_SET_NAME = 2, NFTA_SET_FLAGS = 3, NFTA_SET_KEY_TYPE = 4, NFTA_SET_KEY_LEN = 5;
const NFTA_SET_ID = 10, NFTA_SET_USERDATA = 13;
const NFTA_SET_ELEM_LIST_TABLE = 1, NFTA_SET_ELEM_LIST_SET = 2, NFTA_SET_ELEM_LIST_ELEMENTS = 3, NFTA_SET_ELEM_LIST_SET_ID = 4;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_DATA_VALUE = 1, NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1, NFTA_VERDICT_CHAIN = 2;
const NFTA_RULE_TABLE = 1, NFTA_RULE_CHAIN = 2, NFTA_RULE_EXPRESSIONS = 4;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1, NFTA_EXPR_DATA = 2;
const NFTA_PAYLOAD_DREG = 1, NFTA_PAYLOAD_BASE = 2, NFTA_PAYLOAD_OFFSET = 3, NFTA_PAYLOAD_LEN = 4;
const NFTA_META_DREG = 1, NFTA_META_KEY = 2;
const NFTA_LOOKUP_SET = 1, NFTA_LOOKUP_SREG = 2, NFTA_LOOKUP_SET_ID = 4;
const NFTA_CMP_SREG = 1, NFTA_CMP_OP = 2, NFTA_CMP_DATA = 3;
const NFTA_BITWISE_SREG = 1, NFTA_BITWISE_DREG = 2, NFTA_BITWISE_LEN = 3, NFTA_BITWISE_MASK = 4, NFTA_BITWISE_XOR = 5;
const NFTA_IMMEDIATE_DREG = 1, NFTA_IMMEDIATE_DATA = 2;

export const NLM_F_CREATE = 0x400, NLM_F_EXCL = 0x200, NLM_F_APPEND = 0x800;

const nested = (type: number, children: readonly NlAttrSpec[]): NlAttrSpec => ({ type: type | NLA_F_NESTED, value: children });
const u32Bits = (n: number): number => n >>> 0; // verdicts such as NFT_GOTO (-4) go out as 0xfffffffc

/** nfgenmsg: family, version 0, res_id (big-endian). */
function nfgenmsg(family: number, resId = 0): Uint8Array {
  return Uint8Array.of(family, 0, resId >>> 8, resId & 0xff);
}

/** One nf_tables request (the socket or encodeBatch adds the nlmsghdr). */
export function nftRequest(cmd: number, family: number, flags: number, attrs: readonly NlAttrSpec[]): NetlinkRequest {
  return { type: (NFNL_SUBSYS_NFTABLES << 8) | cmd, flags, payload: concatBytes([nfgenmsg(family), encodeAttrs(attrs)]) };
}

// ---- tables ----

export const newTable = (family: NfFamily, name: string): NetlinkRequest =>
  nftRequest(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, [attrString(NFTA_TABLE_NAME, name)]);
export const delTable = (family: NfFamily, name: string): NetlinkRequest =>
  nftRequest(NFT_MSG_DELTABLE, family, 0, [attrString(NFTA_TABLE_NAME, name)]);
/** Asks whether a table exists (answered with NEWTABLE, or ENOENT). Not part of a batch. */
export const getTable = (family: NfFamily, name: string): NetlinkRequest =>
  nftRequest(NFT_MSG_GETTABLE, family, 0, [attrString(NFTA_TABLE_NAME, name)]);

// ---- chains ----

export interface ChainSpec {
  family: NfFamily;
  table: string;
  name: string;
  /** A base chain: hook, priority, policy and type; without it a regular chain (a goto/jump target). */
  base?: { hook: number; priority: number; policy: number; type: string };
}

export function newChain(c: ChainSpec): NetlinkRequest {
  const attrs: NlAttrSpec[] = [attrString(NFTA_CHAIN_TABLE, c.table), attrString(NFTA_CHAIN_NAME, c.name)];
  if (c.base) {
    attrs.push(
      nested(NFTA_CHAIN_HOOK, [attrBe32(NFTA_HOOK_HOOKNUM, c.base.hook), attrBe32(NFTA_HOOK_PRIORITY, u32Bits(c.base.priority))]),
      attrBe32(NFTA_CHAIN_POLICY, c.base.policy),
      attrString(NFTA_CHAIN_TYPE, c.base.type),
    );
  }
  return nftRequest(NFT_MSG_NEWCHAIN, c.family, NLM_F_CREATE, attrs);
}

// ---- sets ----

export interface SetSpec {
  family: NfFamily;
  table: string;
  name: string;
  /** nft datatype of the key (concatenations: (first << NFT_TYPE_BITS) | second). */
  keyType: number;
  keyLen: number;
  /** Transaction-local id, so rules in the same batch may refer to the set before it has a handle. */
  id: number;
  flags?: number;
  /** NFTNL_UDATA_SET_KEYBYTEORDER, for `nft list` (keepalived sets it: big-endian for addresses). */
  keyByteOrder: number;
}

export function newSet(s: SetSpec): NetlinkRequest {
  const attrs: NlAttrSpec[] = [attrString(NFTA_SET_TABLE, s.table), attrString(NFTA_SET_NAME, s.name)];
  if (s.flags !== undefined) attrs.push(attrBe32(NFTA_SET_FLAGS, s.flags));
  // userdata TLV: type 0 (KEYBYTEORDER), length 4, a host-order u32
  const udata = Uint8Array.of(0, 4, s.keyByteOrder & 0xff, (s.keyByteOrder >>> 8) & 0xff, 0, 0);
  attrs.push(attrBe32(NFTA_SET_KEY_TYPE, s.keyType), attrBe32(NFTA_SET_KEY_LEN, s.keyLen), attrBe32(NFTA_SET_ID, s.id), attrBytes(NFTA_SET_USERDATA, udata));
  return nftRequest(NFT_MSG_NEWSET, s.family, NLM_F_CREATE, attrs);
}

export interface SetElemsSpec {
  family: NfFamily;
  table: string;
  set: string;
  /** Only for a set created in the same batch (keepalived passes it for its constant set). */
  setId?: number;
  /** Keys, each exactly the set's key length. */
  keys: readonly Uint8Array[];
}

function setElems(cmd: number, flags: number, s: SetElemsSpec): NetlinkRequest {
  const attrs: NlAttrSpec[] = [attrString(NFTA_SET_ELEM_LIST_SET, s.set)];
  if (s.setId !== undefined) attrs.push(attrBe32(NFTA_SET_ELEM_LIST_SET_ID, s.setId));
  // libnftnl numbers the list entries 1, 2, ... (the kernel ignores the type of a list entry)
  const elems = s.keys.map((k, i) => nested(i + 1, [nested(NFTA_SET_ELEM_KEY, [attrBytes(NFTA_DATA_VALUE, k)])]));
  attrs.push(attrString(NFTA_SET_ELEM_LIST_TABLE, s.table), nested(NFTA_SET_ELEM_LIST_ELEMENTS, elems));
  return nftRequest(cmd, s.family, flags, attrs);
}

/** Adds elements; `exclusive` fails the batch (EEXIST) when one is already there, as keepalived asks for VIPs. */
export const newSetElems = (s: SetElemsSpec, exclusive = true): NetlinkRequest =>
  setElems(NFT_MSG_NEWSETELEM, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0), s);
export const delSetElems = (s: SetElemsSpec): NetlinkRequest => setElems(NFT_MSG_DELSETELEM, 0, s);

// ---- rules and expressions ----

export type Expr = NlAttrSpec;

const expr = (name: string, data: readonly NlAttrSpec[]): Expr =>
  nested(NFTA_LIST_ELEM, [attrString(NFTA_EXPR_NAME, name), nested(NFTA_EXPR_DATA, data)]);

/** Loads `len` bytes at `offset` of a header into a register. */
export const payloadExpr = (base: number, offset: number, len: number, dreg = NFT_REG_1): Expr =>
  expr("payload", [attrBe32(NFTA_PAYLOAD_DREG, dreg), attrBe32(NFTA_PAYLOAD_BASE, base), attrBe32(NFTA_PAYLOAD_OFFSET, offset), attrBe32(NFTA_PAYLOAD_LEN, len)]);

/** Loads packet metadata (iif, oifname, ...) into a register. */
export const metaExpr = (key: number, dreg: number): Expr => expr("meta", [attrBe32(NFTA_META_KEY, key), attrBe32(NFTA_META_DREG, dreg)]);

/** Matches when the register (and the ones after it, for a concatenation) is in the set. */
export function lookupExpr(set: string, sreg = NFT_REG_1, setId = 0): Expr {
  const data = [attrBe32(NFTA_LOOKUP_SREG, sreg), attrString(NFTA_LOOKUP_SET, set)];
  if (setId) data.push(attrBe32(NFTA_LOOKUP_SET_ID, setId));
  return expr("lookup", data);
}

export const cmpExpr = (op: number, value: Uint8Array, sreg = NFT_REG_1): Expr =>
  expr("cmp", [attrBe32(NFTA_CMP_SREG, sreg), attrBe32(NFTA_CMP_OP, op), nested(NFTA_CMP_DATA, [attrBytes(NFTA_DATA_VALUE, value)])]);

/** reg = (reg & mask) ^ xor. */
export const bitwiseExpr = (mask: Uint8Array, xor: Uint8Array, sreg = NFT_REG_1, dreg = NFT_REG_1): Expr =>
  expr("bitwise", [
    attrBe32(NFTA_BITWISE_SREG, sreg), attrBe32(NFTA_BITWISE_DREG, dreg), attrBe32(NFTA_BITWISE_LEN, mask.byteLength),
    nested(NFTA_BITWISE_MASK, [attrBytes(NFTA_DATA_VALUE, mask)]), nested(NFTA_BITWISE_XOR, [attrBytes(NFTA_DATA_VALUE, xor)]),
  ]);

/** A counter starting at zero (libnftnl sends no packets/bytes, only the empty data nest). */
export const counterExpr = (): Expr => expr("counter", []);

/** The verdict: NF_DROP, NF_ACCEPT, or NFT_GOTO / NFT_JUMP with a chain. */
export function verdictExpr(code: number, chain?: string): Expr {
  const verdict = [attrBe32(NFTA_VERDICT_CODE, u32Bits(code))];
  if (chain !== undefined) verdict.push(attrString(NFTA_VERDICT_CHAIN, chain));
  return expr("immediate", [attrBe32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT), nested(NFTA_IMMEDIATE_DATA, [nested(NFTA_DATA_VERDICT, verdict)])]);
}

export interface RuleSpec {
  family: NfFamily;
  table: string;
  chain: string;
  exprs: readonly Expr[];
}

/** Appends a rule at the end of its chain. */
export const newRule = (r: RuleSpec): NetlinkRequest =>
  nftRequest(NFT_MSG_NEWRULE, r.family, NLM_F_CREATE | NLM_F_APPEND, [
    attrString(NFTA_RULE_TABLE, r.table), attrString(NFTA_RULE_CHAIN, r.chain), nested(NFTA_RULE_EXPRESSIONS, r.exprs),
  ]);

// ---- batches ----

export interface EncodedBatch {
  bytes: Uint8Array;
  /** Sequence numbers of the requests (not of BEGIN/END), in order: each gets an ACK or an error. */
  seqs: number[];
}

/**
 * One nf_tables transaction: BATCH_BEGIN, the requests (each with NLM_F_ACK), BATCH_END, numbered from
 * `firstSeq`. The kernel applies all or none, so it must go to the kernel in one datagram.
 */
export function encodeBatch(reqs: readonly NetlinkRequest[], firstSeq: number): EncodedBatch {
  const parts: Uint8Array[] = [];
  const seqs: number[] = [];
  let seq = firstSeq >>> 0;
  const control = (type: number) => encodeNlMsg({ type, flags: NLM_F_REQUEST, seq: seq++, payload: nfgenmsg(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES) });
  parts.push(control(NFNL_MSG_BATCH_BEGIN));
  for (const r of reqs) {
    seqs.push(seq);
    parts.push(encodeNlMsg({ type: r.type, flags: NLM_F_REQUEST | NLM_F_ACK | (r.flags ?? 0), seq: seq++, payload: r.payload }));
  }
  parts.push(control(NFNL_MSG_BATCH_END));
  return { bytes: concatBytes(parts), seqs };
}
