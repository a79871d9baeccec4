// Value types peculiar to the LVS and checker keywords of keepalived.conf: forwarding
// methods with tunnel options, `IP [PORT]` servers, scripts with a user, HTTP status-code
// ranges, free-format hex strings, virtual server group entries.
import {
  blockToToml, isPlainTable, nestedCtx, parseConfBlock, parseTomlBlock, setBlockLoc, tomlKey, withDefaults,
  type BlockSpec, type Model, type ParseCtx, type TomlCtx, type ValueType,
} from "../schema.ts";
import type { ConfNode, SourceLoc } from "../tree.ts";
import { parseIp, type LineItemType, type ParsedIp } from "../values.ts";

function argLoc(node: ConfNode, i: number): SourceLoc { return node.argLocs[i] ?? node.loc; }

const PORT_RE = /^\d+$/;

/** A port as keepalived reads it: 0..65535 (0 means "none", as keepalived treats it). */
export function parsePort(s: string): number | undefined {
  if (!PORT_RE.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

// ---------------------------------------------------------------------------
// Forwarding method: `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`

export type LvsMethod = "NAT" | "DR" | "TUN";
export type TunnelType = "ipip" | "gue" | "gre";
export type TunnelChecksum = "nocsum" | "csum" | "remcsum";

export interface ForwardingMethod {
  method: LvsMethod;
  /** Only for TUN; keepalived's default is ipip. */
  tunnel_type?: TunnelType;
  /** Only for gue tunnels, where it is required. */
  tunnel_port?: number;
  /** Only for gue and gre tunnels (gre without remcsum). */
  checksum?: TunnelChecksum;
}

const METHODS: readonly LvsMethod[] = ["NAT", "DR", "TUN"];
const TUNNEL_TYPES: readonly TunnelType[] = ["ipip", "gue", "gre"];
const CHECKSUMS: readonly TunnelChecksum[] = ["nocsum", "csum", "remcsum"];

/** The rules keepalived applies to tunnel options, as one message or undefined. */
export function forwardingProblem(f: ForwardingMethod): string | undefined {
  if (f.method !== "TUN") {
    if (f.tunnel_type !== undefined || f.tunnel_port !== undefined || f.checksum !== undefined) return `tunnel options need the TUN method, not ${f.method}`;
    return undefined;
  }
  const type = f.tunnel_type ?? "ipip";
  if ((type === "gue") !== (f.tunnel_port !== undefined)) return "gue tunnels require a port, other tunnel types cannot have one";
  if (type === "ipip" && f.checksum !== undefined && f.checksum !== "nocsum") return "ipip tunnels do not support a checksum option";
  if (type === "gre" && f.checksum === "remcsum") return "gre tunnels do not support the remote checksum option";
  return undefined;
}

function forwardingText(f: ForwardingMethod): string {
  const parts: string[] = [f.method];
  if (f.tunnel_type) parts.push("type", f.tunnel_type);
  if (f.tunnel_port !== undefined) parts.push("port", String(f.tunnel_port));
  if (f.checksum) parts.push(f.checksum);
  return parts.join(" ");
}

function parseForwardingWords(words: readonly string[], kw: string, locOf: (i: number) => SourceLoc, ctx: ParseCtx): ForwardingMethod | undefined {
  const m = words[0];
  if (m === undefined) { ctx.diag.error(`'${kw}' needs one of NAT, DR, TUN`, locOf(-1)); return undefined; }
  if (!(METHODS as readonly string[]).includes(m)) {
    ctx.diag.error(`'${kw}' must be one of NAT, DR, TUN, got '${m}'`, locOf(0));
    return undefined;
  }
  const out: ForwardingMethod = { method: m as LvsMethod };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === "type" || w === "port") {
      const v = words[i + 1];
      if (v === undefined) { ctx.diag.error(`'${kw}': '${w}' needs a value`, locOf(i)); return undefined; }
      if (w === "type") {
        if (!(TUNNEL_TYPES as readonly string[]).includes(v)) { ctx.diag.error(`'${kw}': unknown tunnel type '${v}' (ipip, gue or gre)`, locOf(i + 1)); return undefined; }
        out.tunnel_type = v as TunnelType;
      } else {
        const p = parsePort(v);
        if (p === undefined || p === 0) { ctx.diag.error(`'${kw}': invalid gue tunnel port '${v}' (1..65535)`, locOf(i + 1)); return undefined; }
        out.tunnel_port = p;
      }
      i++;
    } else if ((CHECKSUMS as readonly string[]).includes(w)) {
      out.checksum = w as TunnelChecksum;
    } else {
      ctx.diag.error(`'${kw}': invalid tunnel option '${w}'`, locOf(i));
      return undefined;
    }
  }
  const problem = forwardingProblem(out);
  if (problem) { ctx.diag.error(`'${kw}': ${problem}`, locOf(0)); return undefined; }
  return out;
}

/**
 * `lvs_method`. TOML: the keepalived words as a string ("DR", "TUN type gue port 6080 csum")
 * or a table { method, tunnel_type, tunnel_port, checksum }.
 */
export const forwardingMethod: ValueType<ForwardingMethod> = {
  describe: "NAT, DR or TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]",
  fromConf(node, ctx) {
    return parseForwardingWords(node.args, node.keyword, (i) => (i < 0 ? node.loc : argLoc(node, i)), ctx);
  },
  fromToml(value, loc, ctx) {
    const kw = tomlKey(ctx);
    if (typeof value === "string") return parseForwardingWords(value.trim().split(/\s+/).filter(Boolean), kw, () => loc, ctx);
    if (!isPlainTable(value)) { ctx.diag.error(`'${kw}' expects a string like "DR" or a table { method = "TUN", tunnel_type = "gue", tunnel_port = 6080 }`, loc); return undefined; }
    const allowed = new Set(["method", "tunnel_type", "tunnel_port", "checksum"]);
    for (const k of Object.keys(value)) if (!allowed.has(k)) { ctx.diag.error(`'${kw}': unknown key '${k}' (method, tunnel_type, tunnel_port, checksum)`, loc); return undefined; }
    const words: string[] = [];
    const { method, tunnel_type, tunnel_port, checksum } = value;
    if (typeof method !== "string") { ctx.diag.error(`'${kw}': 'method' must be one of NAT, DR, TUN`, loc); return undefined; }
    words.push(method);
    if (tunnel_type !== undefined) words.push("type", String(tunnel_type));
    if (tunnel_port !== undefined) words.push("port", String(tunnel_port));
    if (checksum !== undefined) words.push(String(checksum));
    return parseForwardingWords(words, kw, () => loc, ctx);
  },
  toToml: (f) => (f.tunnel_type || f.tunnel_port !== undefined || f.checksum ? { ...f } : forwardingText(f)),
};

// ---------------------------------------------------------------------------
// A server address with an optional port: `sorry_server IP [PORT]`

export interface ServerAddress { ip: string; port?: number }

function parseServerAddress(ipText: string | undefined, portText: string | undefined, kw: string, ipLoc: SourceLoc, portLoc: SourceLoc, ctx: ParseCtx): ServerAddress | undefined {
  if (ipText === undefined) { ctx.diag.error(`'${kw}' needs an IP address`, ipLoc); return undefined; }
  const ip = parseIp(ipText);
  if (!ip) { ctx.diag.error(`'${kw}': '${ipText}' is not a valid IP address`, ipLoc); return undefined; }
  const out: ServerAddress = { ip: ip.text };
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === undefined) { ctx.diag.error(`'${kw}': invalid port '${portText}' (0..65535)`, portLoc); return undefined; }
    if (p !== 0) out.port = p;
  }
  return out;
}

/** `IP [PORT]`. TOML: a table { ip, port } or the string "IP PORT". */
export const serverAddress: ValueType<ServerAddress> = {
  describe: "IP address [port]",
  fromConf(node, ctx) {
    if (node.args.length > 2) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[2]}' ignored`, argLoc(node, 2));
    return parseServerAddress(node.args[0], node.args[1], node.keyword, node.args[0] === undefined ? node.loc : argLoc(node, 0), argLoc(node, 1), ctx);
  },
  fromToml(value, loc, ctx) {
    const kw = tomlKey(ctx);
    if (typeof value === "string") {
      const [ip, port, extra] = value.trim().split(/\s+/);
      if (extra !== undefined) { ctx.diag.error(`'${kw}' expects "IP [PORT]"`, loc); return undefined; }
      return parseServerAddress(ip, port, kw, loc, loc, ctx);
    }
    if (!isPlainTable(value) || typeof value.ip !== "string" || (value.port !== undefined && typeof value.port !== "number")) {
      ctx.diag.error(`'${kw}' expects a table { ip = "...", port = N } or a string "IP PORT"`, loc);
      return undefined;
    }
    return parseServerAddress(value.ip, value.port === undefined ? undefined : String(value.port), kw, loc, loc, ctx);
  },
  toToml: (v) => ({ ...v }),
};

// ---------------------------------------------------------------------------
// Scripts (the value type is common.ts `script`)

/** The program a command line runs (its first word), for existence checks. */
export function scriptProgram(command: string): string { return command.trim().split(/\s+/)[0] ?? ""; }

// ---------------------------------------------------------------------------
// HTTP status codes: `status_code 200 300-399 ...` (100..599)

export type StatusRange = [number, number];
export const STATUS_MIN = 100;
export const STATUS_MAX = 599;

function parseStatus(text: string): StatusRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < STATUS_MIN || hi > STATUS_MAX || lo > hi) return undefined;
  return [lo, hi];
}

/** Status codes and ranges. TOML: [200, "300-399"]. */
export const statusCodes: ValueType<StatusRange[]> = {
  describe: `status codes or ranges ${STATUS_MIN}..${STATUS_MAX}, e.g. 200 300-399`,
  fromConf(node, ctx) {
    if (node.args.length === 0) { ctx.diag.error(`'${node.keyword}' needs at least one status code`, node.loc); return undefined; }
    const out: StatusRange[] = [];
    node.args.forEach((a, i) => {
      const r = parseStatus(a);
      if (r) out.push(r);
      else ctx.diag.error(`'${node.keyword}': invalid HTTP status code '${a}' (${STATUS_MIN}..${STATUS_MAX} or a range like 200-299)`, argLoc(node, i));
    });
    return out.length ? out : undefined;
  },
  fromToml(value, loc, ctx) {
    const kw = tomlKey(ctx);
    const items = Array.isArray(value) ? value : [value];
    const out: StatusRange[] = [];
    for (const v of items) {
      const r = typeof v === "number" || typeof v === "string" ? parseStatus(String(v)) : undefined;
      if (r) out.push(r);
      else ctx.diag.error(`'${kw}': invalid HTTP status code '${String(v)}' (${STATUS_MIN}..${STATUS_MAX} or a range like "200-299")`, loc);
    }
    return out.length ? out : undefined;
  },
  toToml: (v) => v.map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`)),
};

// ---------------------------------------------------------------------------
// Hex strings (UDP_CHECK payload and reply): free format, e.g. "Ab12f 3 456" is
// AB 12 0F 03 45 06. Each word is read two digits at a time; a lone last digit is a byte.

export function normalizeHex(words: readonly string[], allowWildcard: boolean): string | undefined {
  let out = "";
  const digit = allowWildcard ? /^[0-9a-fA-FxX]+$/ : /^[0-9a-fA-F]+$/;
  for (const w of words) {
    if (!digit.test(w)) return undefined;
    for (let i = 0; i < w.length; i += 2) {
      const pair = w.slice(i, i + 2);
      out += (pair.length === 1 ? "0" + pair : pair).toLowerCase();
    }
  }
  return out.length ? out : undefined;
}

export function hexString(allowWildcard: boolean): ValueType<string> {
  const what = allowWildcard ? "hex digits (x for a don't-care digit)" : "hex digits";
  return {
    describe: `hex bytes (${what})`,
    fromConf(node, ctx) {
      const v = normalizeHex(node.args, allowWildcard);
      if (v === undefined) ctx.diag.error(`'${node.keyword}' expects ${what}, got '${node.args.join(" ")}'`, node.args.length ? argLoc(node, 0) : node.loc);
      return v;
    },
    fromToml(value, loc, ctx) {
      const v = typeof value === "string" ? normalizeHex(value.trim().split(/\s+/).filter(Boolean), allowWildcard) : undefined;
      if (v === undefined) ctx.diag.error(`'${tomlKey(ctx)}' expects a string of ${what}`, loc);
      return v;
    },
    toToml: (v) => v,
  };
}

/** `require_reply [HEX]`: true when any reply will do, else the expected bytes. */
export const requireReply: ValueType<true | string> = {
  describe: "flag, or hex bytes the reply must start with (x for a don't-care digit)",
  fromConf(node, ctx) {
    if (node.args.length === 0) return true;
    return hexString(true).fromConf(node, ctx);
  },
  fromToml(value, loc, ctx) {
    if (value === true) return true;
    if (value === false) return undefined;
    return hexString(true).fromToml(value, loc, ctx);
  },
  toToml: (v) => v,
};

// ---------------------------------------------------------------------------
// Small compound values

export interface RegexStack { start: number; max: number }

/** `regex_stack START MAX` (bytes). TOML: [START, MAX]. */
export const regexStack: ValueType<RegexStack> = {
  describe: "two integers: start and maximum JIT stack size in bytes",
  fromConf(node, ctx) {
    const [a, b] = node.args;
    if (a === undefined || b === undefined || node.args.length !== 2 || !/^\d+$/.test(a) || !/^\d+$/.test(b)) {
      ctx.diag.error(`'${node.keyword}' needs a start and a maximum size in bytes`, node.loc); return undefined;
    }
    return checkStack({ start: Number(a), max: Number(b) }, node.keyword, argLoc(node, 0), ctx);
  },
  fromToml(value, loc, ctx) {
    const kw = tomlKey(ctx);
    if (!Array.isArray(value) || value.length !== 2 || !value.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
      ctx.diag.error(`'${kw}' expects [start, max]`, loc); return undefined;
    }
    return checkStack({ start: value[0] as number, max: value[1] as number }, kw, loc, ctx);
  },
  toToml: (v) => [v.start, v.max],
};
function checkStack(v: RegexStack, kw: string, loc: SourceLoc, ctx: ParseCtx): RegexStack | undefined {
  if (v.start > v.max) { ctx.diag.error(`'${kw}': start ${v.start} exceeds max ${v.max}`, loc); return undefined; }
  return v;
}

// ---------------------------------------------------------------------------
// Virtual server group entries: `IP [PORT]`, `IP-LAST [PORT]`, `IP/PREFIX [PORT]`, `fwmark N [inet|inet6]`

export type VsgEntry =
  | { ip: string; port?: number }
  | { fwmark: number; family?: "inet" | "inet6" };

export interface IpRange { family: 4 | 6; first: ParsedIp; last: ParsedIp }

function v4ToInt(s: string): number { return s.split(".").reduce((a, o) => a * 256 + Number(o), 0); }

/**
 * The addresses an entry covers: `10.0.0.1`, `10.0.0.2-10` (last octet / last IPv6 group),
 * `10.0.0.250-10.0.1.10`, `10.0.1.0/29` (host bits must be zero); a message when invalid.
 */
export function parseIpRange(text: string): IpRange | string {
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const base = parseIp(text.slice(0, slash));
    const bits = text.slice(slash + 1);
    if (!base) return `'${text}' is not an IP address range`;
    const max = base.family === 4 ? 32 : 128;
    if (!/^\d+$/.test(bits) || Number(bits) < 1 || Number(bits) > max) return `invalid netmask in '${text}'`;
    if (base.family === 4) {
      const n = v4ToInt(base.text), hostBits = 32 - Number(bits);
      const size = 2 ** hostBits;
      if (n % size !== 0) return `address mask bits not empty in '${text}'`;
      const last = n + size - 1;
      const lastText = [24, 16, 8, 0].map((s) => Math.floor(last / 2 ** s) % 256).join(".");
      return { family: 4, first: base, last: { family: 4, text: lastText } };
    }
    return { family: 6, first: base, last: base };
  }
  const dash = text.indexOf("-");
  if (dash < 0) {
    const ip = parseIp(text);
    return ip ? { family: ip.family, first: ip, last: ip } : `'${text}' is not a valid IP address`;
  }
  const first = parseIp(text.slice(0, dash));
  const endText = text.slice(dash + 1);
  if (!first) return `'${text}' is not an IP address range`;
  const fullEnd = parseIp(endText);
  if (fullEnd) {
    if (fullEnd.family !== first.family) return `range address families do not match in '${text}'`;
    if (first.family === 4 && v4ToInt(fullEnd.text) < v4ToInt(first.text)) return `address range end is less than its start in '${text}'`;
    return { family: first.family, first, last: fullEnd };
  }
  if (first.family === 4) {
    if (!/^\d+$/.test(endText) || Number(endText) > 255) return `invalid range end in '${text}'`;
    const start = Number(first.text.split(".")[3]);
    if (Number(endText) <= start) return `address range end is not greater than its start in '${text}'`;
    return { family: 4, first, last: { family: 4, text: first.text.replace(/\d+$/, endText) } };
  }
  if (!/^[0-9a-fA-F]{1,4}$/.test(endText)) return `invalid range end in '${text}'`;
  const lastGroup = first.text.split(":").pop() ?? "";
  if (parseInt(endText, 16) <= parseInt(lastGroup || "0", 16)) return `address range end is not greater than its start in '${text}'`;
  return { family: 6, first, last: { family: 6, text: first.text.replace(/[0-9a-f]*$/, endText.toLowerCase()) } };
}

function parseVsgEntry(words: readonly string[], locOf: (i: number) => SourceLoc, ctx: ParseCtx): VsgEntry | undefined {
  const [head, a, b] = words;
  if (head === "fwmark") {
    if (a === undefined || !/^\d+$/.test(a) || Number(a) > 4294967295) { ctx.diag.error(`virtual_server_group: fwmark needs an integer 0..4294967295`, locOf(1)); return undefined; }
    if (b !== undefined && b !== "inet" && b !== "inet6") { ctx.diag.error(`virtual_server_group: fwmark family must be inet or inet6, got '${b}'`, locOf(2)); return undefined; }
    if (words.length > 3) ctx.diag.warning(`virtual_server_group: extra argument '${words[3]}' ignored`, locOf(3));
    return b === undefined ? { fwmark: Number(a) } : { fwmark: Number(a), family: b };
  }
  if (head === undefined) return undefined;
  const range = parseIpRange(head);
  if (typeof range === "string") { ctx.diag.error(`virtual_server_group: ${range}`, locOf(0)); return undefined; }
  if (words.length > 2) ctx.diag.warning(`virtual_server_group: extra argument '${words[2]}' ignored`, locOf(2));
  const out: { ip: string; port?: number } = { ip: head.includes(":") ? head.toLowerCase() : head };
  if (a !== undefined) {
    const p = parsePort(a);
    if (p === undefined) { ctx.diag.error(`virtual_server_group: invalid port '${a}' (0..65535)`, locOf(1)); return undefined; }
    if (p !== 0) out.port = p;
  }
  return out;
}

function vsgEntryText(e: VsgEntry): string {
  if ("fwmark" in e) return e.family ? `fwmark ${e.fwmark} ${e.family}` : `fwmark ${e.fwmark}`;
  return e.port === undefined ? e.ip : `${e.ip} ${e.port}`;
}

/** One line of a virtual_server_group. TOML: the same line as a string, or { ip, port } / { fwmark, family }. */
export const vsgEntryItem: LineItemType<VsgEntry> = {
  describe: "IP[-LAST|/PREFIX] [PORT] or fwmark N [inet|inet6]",
  parseLine(node, ctx) {
    return parseVsgEntry([node.keyword, ...node.args], (i) => (i === 0 ? node.loc : argLoc(node, i - 1)), ctx);
  },
  fromTable(t: Model, loc: SourceLoc, ctx: TomlCtx) {
    const words: string[] = [];
    if (t.fwmark !== undefined) {
      words.push("fwmark", String(t.fwmark));
      if (t.family !== undefined) words.push(String(t.family));
    } else if (typeof t.ip === "string") {
      words.push(t.ip);
      if (t.port !== undefined) words.push(String(t.port));
    } else {
      ctx.diag.error(`virtual_server_group entry needs 'ip' (and 'port') or 'fwmark'`, loc);
      return undefined;
    }
    return parseVsgEntry(words, () => loc, ctx);
  },
  toToml: vsgEntryText,
};

// ---------------------------------------------------------------------------
// Repeatable blocks without a header (`url { ... }` several times in one checker)

/**
 * A block keyword that may appear several times, each adding one block to a list
 * (use with `repeat: "append"`). TOML: an array of tables, or one table.
 */
export function blockList(spec: BlockSpec): ValueType<Model[]> {
  return {
    describe: `list of ${spec.name} blocks`,
    fromConf(node, ctx) {
      if (!node.children) { ctx.diag.error(`'${node.keyword}' must open a block with '{'`, node.loc); return undefined; }
      if (node.args.length) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[0]}' ignored`, argLoc(node, 0));
      const obj = parseConfBlock(node.children, spec, nestedCtx(ctx, () => `${ctx.where} ${node.keyword}`));
      setBlockLoc(obj, node.loc);
      return [obj];
    },
    fromToml(value, _loc, ctx) {
      const list = Array.isArray(value) ? value : [value];
      return list.map((body, i) => {
        const path = Array.isArray(value) ? [...ctx.path, i] : ctx.path;
        const obj = parseTomlBlock(body, spec, { ...ctx, path, where: `${ctx.where} ${spec.name}` });
        setBlockLoc(obj, ctx.locate(path));
        return obj;
      });
    },
    toToml: (v) => v.map((o) => blockToToml(o, spec)),
    effective: (v) => v.map((o) => withDefaults(o, spec)),
  };
}
