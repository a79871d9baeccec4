// Health checkers of a real server (keepalived.conf(5) 2.2.7, "CHECKER_TYPE { ... }").
// In keepalived.conf each checker is its own keyword (TCP_CHECK { ... }); the model keeps
// them in one ordered list, each tagged with `type`, because a real server may have several
// checkers, even of one type. In TOML: [[virtual_server.real_server.checker]] type = "TCP_CHECK".
import {
  blockToToml, isPlainTable, nestedCtx, parseConfBlock, parseTomlBlock, setBlockLoc, tomlKey, withDefaults,
  type BlockSpec, type Field, type Model, type ParseCtx, type ValueType,
} from "../schema.ts";
import type { SourceLoc } from "../tree.ts";
import { flag, int, ipAddress, oneOf, restOfLine, seconds, word, words } from "../values.ts";
import { runAsUser, weight, type RunAsConfig, type WeightConfig } from "./common.ts";
import { blockList, hexString, regexStack, requireReply, statusCodes, type RegexStack, type StatusRange } from "./lvs-values.ts";

export const CHECKER_TYPES = [
  "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK",
] as const;
export type CheckerType = (typeof CHECKER_TYPES)[number];

/** keepalived's per-type defaults (check_*.c): retry, and delay_before_retry (undefined = delay_loop). */
export const CHECKER_DEFAULT_RETRY: Record<CheckerType, number> = {
  TCP_CHECK: 1, HTTP_GET: 1, SSL_GET: 1, SMTP_CHECK: 1, DNS_CHECK: 3, MISC_CHECK: 0, UDP_CHECK: 1, PING_CHECK: 1, FILE_CHECK: 0, BFD_CHECK: 0,
};
export const CHECKER_DEFAULT_DELAY_BEFORE_RETRY: Record<CheckerType, number | undefined> = {
  TCP_CHECK: 1, HTTP_GET: 3, SSL_GET: 3, SMTP_CHECK: 1, DNS_CHECK: undefined, MISC_CHECK: 1, UDP_CHECK: 1, PING_CHECK: 1, FILE_CHECK: undefined, BFD_CHECK: undefined,
};

const checkerKind: ValueType<CheckerType> = { ...oneOf(CHECKER_TYPES), describe: "checker block keyword" };
const typeField = (t: CheckerType): Field => ({
  key: "type", type: checkerKind, headerOnly: true,
  doc: `The checker kind; in keepalived.conf the block keyword (${t} { ... }).`,
});

const port = int(1, 65535);
/** keepalived keeps connection timeouts in microseconds in an unsigned int. */
export const CONNECT_TIMEOUT_MAX = 4294.967295;
const INHERIT = "the real server's, else the virtual server's";

/** Where the checker connects from and to (all checkers except MISC_CHECK, FILE_CHECK and BFD_CHECK). */
export const connectionFields: Field[] = [
  { key: "connect_ip", type: ipAddress, defaultDoc: "the real server's address", doc: "Address the check connects to." },
  { key: "connect_port", type: port, defaultDoc: "the real server's port (the virtual server's when the real server has none)", doc: "Port the check connects to." },
  { key: "bindto", type: ipAddress, defaultDoc: "chosen by the kernel", doc: "Source address of the check's connections." },
  { key: "bind_port", type: port, defaultDoc: "chosen by the kernel", doc: "Source port of the check's connections." },
  { key: "bind_if", type: word, doc: "Interface to send from; required when connect_ip or bindto is an IPv6 link-local address." },
  { key: "fwmark", type: int(0, 4294967295), doc: "Firewall mark (SO_MARK) put on the check's packets." },
  { key: "connect_timeout", type: seconds(0.000001, CONNECT_TIMEOUT_MAX), defaultDoc: `${INHERIT}; 5`, doc: "Seconds to wait for the connection (and for each reply)." },
];

/** Timing and behaviour every checker except FILE_CHECK and BFD_CHECK has. */
export const timingFields: Field[] = [
  {
    key: "retry", type: int(0, 4294967295), aliases: [{ kw: "nb_get_retry", deprecated: true }],
    defaultDoc: `${INHERIT}; else 1 (DNS_CHECK 3, MISC_CHECK 0)`,
    doc: "Extra attempts after a failure before the real server is considered down. `nb_get_retry` is the old spelling.",
  },
  { key: "delay_before_retry", type: seconds(0), defaultDoc: `${INHERIT}; else 1 (HTTP_GET and SSL_GET 3, DNS_CHECK its delay_loop)`, doc: "Seconds between a failed attempt and the retry." },
  { key: "warmup", type: seconds(0), defaultDoc: `${INHERIT}; else the checker's delay_loop`, doc: "The first check starts after a random delay of up to this many seconds; 0 starts at once." },
  { key: "delay_loop", type: seconds(0.000001), defaultDoc: `${INHERIT}; 60`, doc: "Seconds between checks." },
  { key: "alpha", type: flag, defaultDoc: `${INHERIT}; false`, doc: "Start with the check failed, so the real server joins only after a first success." },
  { key: "log_all_failures", type: flag, defaultDoc: "global_defs checker_log_all_failures; false", doc: "Log every failed attempt, not only state changes." },
];

// --- HTTP_GET / SSL_GET --------------------------------------------------------

export const REGEX_OPTIONS = [
  "allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly", "dotall", "dupnames", "extended", "firstline",
  "match_unset_backref", "multiline", "never_ucp", "never_utf", "no_auto_capture", "no_auto_possess", "no_dotstar_anchor",
  "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c", "alt_circumflex", "alt_verbnames", "use_offset_limit",
] as const;
export type RegexOption = (typeof REGEX_OPTIONS)[number];

const regexOptions: ValueType<RegexOption[]> = {
  describe: `list of ${REGEX_OPTIONS.join(", ")}`,
  fromConf(node, ctx) {
    const v = words.fromConf(node, ctx);
    if (!v) return undefined;
    const bad = v.filter((o) => !(REGEX_OPTIONS as readonly string[]).includes(o));
    if (bad.length) ctx.diag.error(`'regex_options': unknown option${bad.length > 1 ? "s" : ""} ${bad.map((b) => `'${b}'`).join(", ")}`, node.loc);
    return v.filter((o): o is RegexOption => !bad.includes(o));
  },
  fromToml(value, loc, ctx) {
    const v = words.fromToml(value, loc, ctx);
    if (!v) return undefined;
    const bad = v.filter((o) => !(REGEX_OPTIONS as readonly string[]).includes(o));
    if (bad.length) ctx.diag.error(`'${tomlKey(ctx)}': unknown option${bad.length > 1 ? "s" : ""} ${bad.map((b) => `'${b}'`).join(", ")}`, loc);
    return v.filter((o): o is RegexOption => !bad.includes(o));
  },
  toToml: (v) => v,
};

const digest: ValueType<string> = {
  describe: "32 hex digits (MD5, as printed by genhash)",
  fromConf(node, ctx) {
    const v = word.fromConf(node, ctx);
    if (v === undefined) return undefined;
    if (!/^[0-9a-fA-F]{32}$/.test(v)) { ctx.diag.error(`'digest' must be 32 hex digits, got '${v}'`, node.argLocs[0] ?? node.loc); return undefined; }
    return v.toLowerCase();
  },
  fromToml(value, loc, ctx) {
    if (typeof value !== "string" || !/^[0-9a-fA-F]{32}$/.test(value)) { ctx.diag.error(`'${tomlKey(ctx)}' must be 32 hex digits`, loc); return undefined; }
    return value.toLowerCase();
  },
  toToml: (v) => v,
};

export const urlSpec: BlockSpec = {
  name: "url",
  doc: "One URL an HTTP_GET or SSL_GET checker fetches; all must pass.",
  fields: [
    { key: "path", type: restOfLine, doc: "Path (and query) to request, e.g. /health." },
    { key: "digest", type: digest, doc: "MD5 of the body that must be returned." },
    { key: "status_code", type: statusCodes, repeat: "append", default: [[200, 299]] as StatusRange[], defaultDoc: "200-299", doc: "Accepted HTTP status codes and ranges." },
    { key: "virtualhost", type: word, defaultDoc: "the checker's virtualhost", doc: "Host header for this URL." },
    { key: "regex", type: restOfLine, doc: "PCRE2 pattern the body must match." },
    { key: "regex_no_match", type: flag, default: false, doc: "Fail when the body matches regex instead of when it does not." },
    { key: "regex_options", type: regexOptions, repeat: "append", doc: "PCRE2 compile options for regex." },
    { key: "regex_stack", type: regexStack, doc: "Start and maximum JIT stack size in bytes for complex patterns." },
    { key: "regex_min_offset", type: int(0), default: 0, doc: "Offset in the body where matching may start." },
    { key: "regex_max_offset", type: int(0), doc: "Last offset in the body where a match may start." },
  ],
};

const HTTP_PROTOCOLS = ["1.0", "1.0C", "1.1"] as const;
const httpProtocolWords = oneOf(HTTP_PROTOCOLS);
const httpProtocol: ValueType<(typeof HTTP_PROTOCOLS)[number]> = {
  ...httpProtocolWords,
  fromConf(node, ctx) {
    // keepalived also accepts "1.0c".
    return httpProtocolWords.fromConf(node.args[0] === "1.0c" ? { ...node, args: ["1.0C", ...node.args.slice(1)] } : node, ctx);
  },
};

const httpFields = (t: "HTTP_GET" | "SSL_GET"): Field[] => [
  typeField(t),
  ...connectionFields,
  ...timingFields,
  { key: "virtualhost", type: word, defaultDoc: "the real server's, else the virtual server's; else none", doc: "Host header (and SNI name) for the URLs." },
  { key: "http_protocol", type: httpProtocol, default: "1.0", doc: "HTTP version of the request; 1.0C is 1.0 with `Connection: close`." },
  { key: "enable_sni", type: flag, default: false, doc: "Send the virtualhost as TLS Server Name Indication (SSL_GET)." },
  { key: "fast_recovery", type: flag, default: false, doc: "Check all URLs back to back after start or a failure instead of one per delay_loop." },
  { key: "url", type: blockList(urlSpec), repeat: "append", doc: urlSpec.doc! },
];

// --- the other checkers ----------------------------------------------------------

export const smtpHostSpec: BlockSpec = {
  name: "SMTP_CHECK host",
  doc: "Deprecated nesting kept for old configurations: an extra connection to check (prefer one SMTP_CHECK per target).",
  fields: connectionFields,
};

export const DNS_TYPES = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"] as const;

/** A query name: "." or labels without empty ones (keepalived rejects "a..b" and ".a"). */
const dnsName: ValueType<string> = {
  ...word,
  describe: "domain name",
  fromConf(node, ctx) {
    const v = word.fromConf(node, ctx);
    return v === undefined ? undefined : checkDnsName(v, node.keyword, node.argLocs[0] ?? node.loc, ctx);
  },
  fromToml(value, loc, ctx) {
    const v = word.fromToml(value, loc, ctx);
    return v === undefined ? undefined : checkDnsName(v, tomlKey(ctx), loc, ctx);
  },
};
function checkDnsName(v: string, kw: string, loc: SourceLoc, ctx: ParseCtx): string | undefined {
  if (v === "." || !/(^\.)|(\.\.)/.test(v)) return v;
  ctx.diag.error(`'${kw}': DNS name '${v}' has an empty label`, loc);
  return undefined;
}

export const tcpCheckSpec: BlockSpec = { name: "TCP_CHECK", doc: "Passes when a TCP connection succeeds.", fields: [typeField("TCP_CHECK"), ...connectionFields, ...timingFields] };
export const httpGetSpec: BlockSpec = { name: "HTTP_GET", doc: "Fetches URLs over HTTP and checks status, digest or regex.", fields: httpFields("HTTP_GET") };
export const sslGetSpec: BlockSpec = { name: "SSL_GET", doc: "Fetches URLs over HTTPS (see the SSL block) and checks status, digest or regex.", fields: httpFields("SSL_GET") };
export const smtpCheckSpec: BlockSpec = {
  name: "SMTP_CHECK", doc: "Passes when the server answers an SMTP HELO.",
  fields: [
    typeField("SMTP_CHECK"), ...connectionFields, ...timingFields,
    { key: "helo_name", type: restOfLine, defaultDoc: "the local host name", doc: "Name sent in HELO." },
    { key: "host", type: blockList(smtpHostSpec), repeat: "append", doc: smtpHostSpec.doc! },
  ],
};
export const dnsCheckSpec: BlockSpec = {
  name: "DNS_CHECK", doc: "Sends a DNS query over UDP and passes on a reply.",
  fields: [
    typeField("DNS_CHECK"), ...connectionFields, ...timingFields,
    // The keyword `type` is taken by the checker kind in the model, hence `query_type`.
    { key: "query_type", kw: "type", type: oneOf(DNS_TYPES), default: "SOA", doc: "Query type." },
    { key: "name", type: dnsName, default: ".", doc: "Domain name queried." },
  ],
};
export const miscCheckSpec: BlockSpec = {
  name: "MISC_CHECK", doc: "Runs a program; exit status 0 passes.",
  fields: [
    typeField("MISC_CHECK"), ...timingFields,
    { key: "misc_path", type: restOfLine, doc: "Command line to run (quote it when it has arguments)." },
    { key: "misc_timeout", type: int(0, 4294967295), defaultDoc: "the checker's delay_loop (also when 0)", doc: "Seconds before the program is killed and the check fails." },
    { key: "misc_dynamic", type: flag, default: false, doc: "Exit status 2..255 sets the weight to status - 2; 1 fails." },
    { key: "user", type: runAsUser, defaultDoc: "global_defs script_user", doc: "User (and group) to run the program as." },
  ],
};
export const udpCheckSpec: BlockSpec = {
  name: "UDP_CHECK", doc: "Sends a UDP datagram; fails on an ICMP error (or on no/bad reply with require_reply).",
  fields: [
    typeField("UDP_CHECK"), ...connectionFields, ...timingFields,
    { key: "payload", type: hexString(false), defaultDoc: "random bytes", doc: "Datagram to send, as hex." },
    { key: "require_reply", type: requireReply, doc: "Require a reply; with hex bytes, the reply must start with them." },
    { key: "min_reply_length", type: int(0, 65535), default: 0, doc: "Shortest acceptable reply in bytes (with require_reply)." },
    { key: "max_reply_length", type: int(0, 65535), default: 255, doc: "Longest acceptable reply in bytes (with require_reply)." },
  ],
};
export const pingCheckSpec: BlockSpec = { name: "PING_CHECK", doc: "Sends ICMP echo requests.", fields: [typeField("PING_CHECK"), ...connectionFields, ...timingFields] };
export const fileCheckSpec: BlockSpec = {
  name: "FILE_CHECK", doc: "Follows the number in a track_file: 0 is up, weight adjusts with the value.",
  fields: [
    typeField("FILE_CHECK"),
    { key: "track_file", type: word, doc: "Name of a track_file block." },
    { key: "weight", type: weight(-2147483647, 2147483647), defaultDoc: "the track_file's weight", doc: "Multiplier for the file's value; reverse inverts its sign." },
  ],
};
export const bfdCheckSpec: BlockSpec = {
  name: "BFD_CHECK", doc: "Follows the state of a BFD session.",
  fields: [typeField("BFD_CHECK"), { key: "name", type: word, doc: "Name of a bfd_instance." }],
};

export const checkerSpecs: Record<CheckerType, BlockSpec> = {
  TCP_CHECK: tcpCheckSpec, HTTP_GET: httpGetSpec, SSL_GET: sslGetSpec, SMTP_CHECK: smtpCheckSpec, DNS_CHECK: dnsCheckSpec, MISC_CHECK: miscCheckSpec, UDP_CHECK: udpCheckSpec, PING_CHECK: pingCheckSpec, FILE_CHECK: fileCheckSpec, BFD_CHECK: bfdCheckSpec,
};

// ---------------------------------------------------------------------------
// The model of each checker (effective: defaults and inherited values filled in).

interface CheckerTiming {
  retry: number;
  delay_before_retry: number;
  warmup: number;
  delay_loop: number;
  alpha: boolean;
  log_all_failures?: boolean;
}
interface CheckerConnection {
  connect_ip: string;
  /** Undefined only when neither the checker nor the real server nor the virtual server gives one (fwmark services). */
  connect_port?: number;
  bindto?: string;
  bind_port?: number;
  bind_if?: string;
  fwmark?: number;
  connect_timeout: number;
}
export interface UrlConfig {
  path?: string;
  digest?: string;
  status_code: StatusRange[];
  virtualhost?: string;
  regex?: string;
  regex_no_match: boolean;
  regex_options?: RegexOption[];
  regex_stack?: RegexStack;
  regex_min_offset: number;
  regex_max_offset?: number;
}
export interface TcpCheckConfig extends CheckerTiming, CheckerConnection { type: "TCP_CHECK" }
export interface PingCheckConfig extends CheckerTiming, CheckerConnection { type: "PING_CHECK" }
export interface HttpCheckConfig extends CheckerTiming, CheckerConnection {
  type: "HTTP_GET" | "SSL_GET";
  virtualhost?: string;
  http_protocol: "1.0" | "1.0C" | "1.1";
  enable_sni: boolean;
  fast_recovery: boolean;
  url?: UrlConfig[];
}
export interface SmtpHostConfig { connect_ip?: string; connect_port?: number; bindto?: string; bind_port?: number; bind_if?: string; fwmark?: number; connect_timeout?: number }
export interface SmtpCheckConfig extends CheckerTiming, CheckerConnection {
  type: "SMTP_CHECK";
  helo_name?: string;
  host?: SmtpHostConfig[];
}
export interface DnsCheckConfig extends CheckerTiming, CheckerConnection {
  type: "DNS_CHECK";
  query_type: (typeof DNS_TYPES)[number];
  name: string;
}
export interface MiscCheckConfig extends CheckerTiming {
  type: "MISC_CHECK";
  misc_path?: string;
  misc_timeout: number;
  misc_dynamic: boolean;
  user?: RunAsConfig;
}
export interface UdpCheckConfig extends CheckerTiming, CheckerConnection {
  type: "UDP_CHECK";
  payload?: string;
  require_reply?: true | string;
  min_reply_length: number;
  max_reply_length: number;
}
export interface FileCheckConfig { type: "FILE_CHECK"; track_file?: string; weight?: WeightConfig }
export interface BfdCheckConfig { type: "BFD_CHECK"; name?: string }

export type CheckerConfig =
  | TcpCheckConfig | HttpCheckConfig | SmtpCheckConfig | DnsCheckConfig | MiscCheckConfig
  | UdpCheckConfig | PingCheckConfig | FileCheckConfig | BfdCheckConfig;

// ---------------------------------------------------------------------------
// The value type behind the `checker` field of a real server.

function isCheckerType(s: unknown): s is CheckerType { return typeof s === "string" && (CHECKER_TYPES as readonly string[]).includes(s); }

export const checkerValue: ValueType<Model[]> = {
  describe: `checker blocks (${CHECKER_TYPES.join(", ")})`,
  fromConf(node, ctx) {
    const type = node.keyword;
    if (!isCheckerType(type)) { ctx.diag.error(`unknown checker '${type}'`, node.loc); return undefined; }
    if (!node.children) { ctx.diag.error(`'${type}' must open a block with '{'`, node.loc); return undefined; }
    if (node.args.length) ctx.diag.warning(`'${type}': extra argument '${node.args[0]}' ignored`, node.argLocs[0] ?? node.loc);
    const obj = parseConfBlock(node.children, checkerSpecs[type], nestedCtx(ctx, () => `${ctx.where} ${type}`), { type });
    setBlockLoc(obj, node.loc);
    return [obj];
  },
  fromToml(value, _loc, ctx) {
    const list = Array.isArray(value) ? value : [value];
    const out: Model[] = [];
    list.forEach((t, i) => {
      const path = Array.isArray(value) ? [...ctx.path, i] : ctx.path;
      const here = ctx.locate(path);
      if (!isPlainTable(t) || !isCheckerType(t.type)) {
        ctx.diag.error(`${ctx.where} checker #${i + 1}: needs type = one of ${CHECKER_TYPES.join(", ")}`, isPlainTable(t) && "type" in t ? ctx.locate([...path, "type"]) : here);
        return;
      }
      const obj = parseTomlBlock(t, checkerSpecs[t.type], { ...ctx, path, where: `${ctx.where} ${t.type}` });
      setBlockLoc(obj, here);
      out.push(obj);
    });
    return out;
  },
  toToml: (list) => list.map((c) => blockToToml(c, checkerSpecs[c.type as CheckerType])),
  effective: (list) => list.map((c) => withDefaults(c, checkerSpecs[c.type as CheckerType])),
};

/** The real-server field that collects every checker keyword into one ordered list. */
export const checkerField: Field<Model[]> = {
  key: "checker",
  kw: "TCP_CHECK",
  aliases: CHECKER_TYPES.filter((t) => t !== "TCP_CHECK").map((kw) => ({ kw })),
  type: checkerValue,
  repeat: "append",
  doc: `Health checkers, in order. In keepalived.conf each is its own block (${CHECKER_TYPES.join(", ")}); in TOML a list of tables with \`type\`.`,
};
