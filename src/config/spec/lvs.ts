// LVS blocks of keepalived.conf(5) 2.2.7: SSL, virtual_server_group, virtual_server,
// real_server (checkers live in checkers.ts).
//
// TOML shape:
//   [ssl]                                   (keepalived: SSL { ... })
//   [virtual_server_group.NAME]  entries = ["10.0.0.1 80", "10.0.0.2-10 80", { fwmark = 7 }]
//   [[virtual_server]]  ip = "10.0.0.1"  port = 80   (or fwmark = 7, or group = "NAME")
//   [[virtual_server.real_server]]  ip = "10.0.0.2"  port = 80
//   [[virtual_server.real_server.checker]]  type = "TCP_CHECK"  connect_timeout = 3
// Keys are the keepalived keywords, except flag-1/sh-port/... which are spelled with an
// underscore (flag_1, sh_port) like every other key.
import {
  blockToToml, cloneData, isPlainTable, locsOf, parseTomlBlock, setBlockLoc, tomlKey, withDefaults,
  type BlockSpec, type Field, type Model, type ParseCtx, type ValueType,
} from "../schema.ts";
import type { ConfNode } from "../tree.ts";
import { block, flag, headedBlocks, int, lines, oneOf, parseIp, restOfLine, seconds, word } from "../values.ts";
import {
  CHECKER_DEFAULT_DELAY_BEFORE_RETRY, CHECKER_DEFAULT_RETRY, CONNECT_TIMEOUT_MAX, checkerField, type CheckerConfig, type CheckerType,
} from "./checkers.ts";
import { script, type ScriptConfig } from "./common.ts";
import {
  forwardingMethod, parsePort, serverAddress, vsgEntryItem,
  type ForwardingMethod, type ServerAddress, type VsgEntry,
} from "./lvs-values.ts";

export const LVS_SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"] as const;
export type LvsScheduler = (typeof LVS_SCHEDULERS)[number];
export type LvsProtocol = "TCP" | "UDP" | "SCTP";

/** ipvsadm's default persistence timeout, used by a bare `persistence_timeout`. */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;
const LVS_MAX_TIMEOUT = 86400 * 31;
const U32_MAX = 4294967295;
const WEIGHT_MAX = 2147483647;

// ---------------------------------------------------------------------------
// Small value types only these blocks use

/** `persistence_timeout [SECONDS]`: without a value, 360. */
const persistenceTimeout: ValueType<number> = {
  ...int(1, LVS_MAX_TIMEOUT),
  fromConf(node, ctx) {
    return node.args.length === 0 ? DEFAULT_PERSISTENCE_TIMEOUT : int(1, LVS_MAX_TIMEOUT).fromConf(node, ctx);
  },
};

/** `persistence_granularity`: an IPv4 netmask, or an IPv6 prefix length 1..128. */
const persistenceGranularity: ValueType<string> = {
  describe: "IPv4 netmask (255.255.255.0) or IPv6 prefix length 1..128",
  fromConf(node, ctx) {
    const v = word.fromConf(node, ctx);
    return v === undefined ? undefined : checkGranularity(v, node.keyword, node.argLocs[0] ?? node.loc, ctx);
  },
  fromToml(value, loc, ctx) {
    const v = typeof value === "number" ? String(value) : value;
    if (typeof v !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' expects a netmask string or a prefix length`, loc); return undefined; }
    return checkGranularity(v, tomlKey(ctx), loc, ctx);
  },
  toToml: (v) => (/^\d+$/.test(v) ? Number(v) : v),
};
function checkGranularity(v: string, kw: string, loc: ConfNode["loc"], ctx: ParseCtx): string | undefined {
  if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 128) return v;
  const ip = parseIp(v);
  if (ip?.family === 4) return v;
  ctx.diag.error(`'${kw}': '${v}' is neither an IPv4 netmask nor an IPv6 prefix length 1..128`, loc);
  return undefined;
}

const protocol = oneOf(["TCP", "UDP", "SCTP"] as const, { caseInsensitive: true });
const port = int(0, 65535);

// ---------------------------------------------------------------------------
// Settings shared by virtual and real servers (the virtual server's are the real
// servers' defaults, the real server's the checkers').

const serverDefaults = (level: "vs" | "rs"): Field[] => {
  const from = level === "rs" ? "the virtual server's" : undefined;
  const d = (own: string): string => (from ? `${from}; ${own}` : own);
  return [
    { key: "delay_loop", type: seconds(0.000001), ...(level === "vs" ? { default: 60 } : { defaultDoc: d("60") }), doc: "Seconds between checks of each checker." },
    { key: "connect_timeout", type: seconds(0.000001, CONNECT_TIMEOUT_MAX), ...(level === "vs" ? { default: 5 } : { defaultDoc: d("5") }), doc: "Default connection timeout of the checkers, in seconds." },
    { key: "retry", type: int(1, U32_MAX), defaultDoc: d("each checker's own (1; DNS_CHECK 3, MISC_CHECK 0)"), doc: "Default number of retries of the checkers." },
    { key: "delay_before_retry", type: seconds(0), defaultDoc: d("each checker's own (1; HTTP_GET/SSL_GET 3, DNS_CHECK its delay_loop)"), doc: "Default delay in seconds before a checker retries." },
    { key: "warmup", type: seconds(0), defaultDoc: d("each checker's delay_loop"), doc: "Checkers start after a random delay of up to this many seconds; 0 disables." },
    { key: "inhibit_on_failure", type: flag, ...(level === "vs" ? { default: false } : { defaultDoc: d("false") }), doc: "On failure set the real server's weight to 0 instead of removing it." },
    { key: "alpha", type: flag, ...(level === "vs" ? { default: false } : { defaultDoc: d("false") }), doc: "Start with real servers down until their checkers succeed." },
    { key: "smtp_alert", type: flag, defaultDoc: level === "vs" ? "global_defs smtp_alert_checker, else smtp_alert, else false" : "global_defs smtp_alert_checker, else smtp_alert, else true", doc: "Send email alerts on state changes (addresses from global_defs)." },
    { key: "virtualhost", type: word, defaultDoc: d("none"), doc: "Default Host header of HTTP_GET and SSL_GET checkers." },
    { key: "snmp_name", type: word, doc: "Name shown for this server in SNMP data." },
  ];
};

// ---------------------------------------------------------------------------
// real_server

function serverHeader(what: "virtual_server" | "real_server") {
  return (node: ConfNode, ctx: ParseCtx): Model | undefined => {
    const [a, b, extra] = node.args;
    const head: Model = {};
    const locs = locsOf(head);
    const loc0 = node.argLocs[0] ?? node.loc, loc1 = node.argLocs[1] ?? node.loc;
    if (a === undefined) { ctx.diag.error(`'${what}' needs ${what === "virtual_server" ? "an address and port, fwmark N or group NAME" : "an address"}`, node.loc); return undefined; }
    if (extra !== undefined) ctx.diag.warning(`'${what}': extra argument '${extra}' ignored`, node.argLocs[2] ?? node.loc);
    if (what === "virtual_server" && (a === "fwmark" || a === "group")) {
      if (b === undefined) { ctx.diag.error(`'${what} ${a}' needs a ${a === "fwmark" ? "mark" : "group name"}`, loc0); return undefined; }
      if (a === "fwmark") {
        if (!/^\d+$/.test(b) || Number(b) > U32_MAX) { ctx.diag.error(`virtual server fwmark '${b}' must be in [0, ${U32_MAX}]`, loc1); return undefined; }
        head.fwmark = Number(b);
        locs.fwmark = loc1;
      } else {
        head.group = b;
        locs.group = loc1;
      }
      return head;
    }
    const ip = parseIp(a);
    if (!ip) { ctx.diag.error(`invalid ${what === "virtual_server" ? "virtual" : "real"} server address '${a}'`, loc0); return undefined; }
    head.ip = ip.text;
    locs.ip = loc0;
    if (b !== undefined) {
      const p = parsePort(b);
      if (p === undefined) { ctx.diag.error(`invalid ${what === "virtual_server" ? "virtual" : "real"} server port '${b}' (0..65535)`, loc1); return undefined; }
      if (p !== 0) { head.port = p; locs.port = loc1; }
    }
    return head;
  };
}

export function describeServer(o: Model): string {
  if (o.group !== undefined) return `group ${String(o.group)}`;
  if (o.fwmark !== undefined) return `fwmark ${String(o.fwmark)}`;
  const ip = String(o.ip ?? "?");
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return o.port === undefined ? host : `${host}:${String(o.port)}`;
}

/** Where a header-less (TOML) block can be pointed at: its first located value. */
function anyLoc(obj: Model): ConfNode["loc"] | undefined {
  return Object.values(locsOf(obj))[0];
}

export const realServerSpec: BlockSpec = {
  name: "real_server",
  doc: "A backend of the virtual server and its health checkers.",
  validate(obj, ctx) {
    if (obj.ip === undefined) ctx.diag.error(`${ctx.where}: 'ip' is required`, anyLoc(obj));
  },
  fields: [
    { key: "ip", type: parseIpType(), headerOnly: true, doc: "Address of the real server (real_server IP PORT { ... })." },
    { key: "port", type: port, headerOnly: true, defaultDoc: "the virtual server's port", doc: "Port of the real server; ignored by the kernel for DR and TUN." },
    { key: "weight", type: int(0, WEIGHT_MAX), defaultDoc: "the virtual server's weight; 1", doc: "Scheduling weight; 0 takes no new connections." },
    { key: "lvs_method", type: forwardingMethod, defaultDoc: "the virtual server's lvs_method", doc: "Forwarding method to this real server: NAT, DR or TUN with tunnel options." },
    { key: "uthreshold", type: int(0, U32_MAX), doc: "Upper connection limit (0 = none)." },
    { key: "lthreshold", type: int(0, U32_MAX), doc: "Lower connection threshold for resuming after uthreshold." },
    { key: "notify_up", type: script, doc: "Script run when the checkers consider the real server up." },
    { key: "notify_down", type: script, doc: "Script run when the checkers consider the real server down." },
    ...serverDefaults("rs"),
    checkerField,
  ],
};

function parseIpType(): ValueType<string> {
  // Header-only: only TOML reads it through the type.
  return {
    describe: "IPv4 or IPv6 address",
    fromConf: () => undefined,
    fromToml(value, loc, ctx) {
      const ip = typeof value === "string" ? parseIp(value) : undefined;
      if (!ip) ctx.diag.error(`'${tomlKey(ctx)}' expects an IP address`, loc);
      return ip?.text;
    },
    toToml: (v) => v,
  };
}

// ---------------------------------------------------------------------------
// virtual_server

export const virtualServerSpec: BlockSpec = {
  name: "virtual_server",
  doc: "An IPVS service: address and port, firewall mark or virtual_server_group; its scheduler, forwarding and real servers.",
  obsolete: { nat_mask: "'nat_mask' is obsolete and ignored" },
  validate(obj, ctx) {
    // The header forms exclude each other; TOML could set several.
    const forms = (["ip", "fwmark", "group"] as const).filter((k) => obj[k] !== undefined);
    if (forms.length !== 1) ctx.diag.error(`${ctx.where}: needs exactly one of 'ip', 'fwmark' or 'group'${forms.length ? `, got ${forms.join(" and ")}` : ""}`, anyLoc(obj));
    else if (obj.port !== undefined && forms[0] !== "ip") ctx.diag.error(`${ctx.where}: 'port' goes with 'ip', not with '${forms[0]}'`, locsOf(obj).port);
  },
  fields: [
    { key: "ip", type: parseIpType(), headerOnly: true, doc: "Service address (virtual_server IP PORT { ... })." },
    { key: "port", type: port, headerOnly: true, doc: "Service port; may be omitted only for persistent services." },
    { key: "fwmark", type: int(0, U32_MAX), headerOnly: true, doc: "Firewall mark of the service (virtual_server fwmark N { ... })." },
    { key: "group", type: word, headerOnly: true, doc: "Name of the virtual_server_group the service uses (virtual_server group NAME { ... })." },
    { key: "ip_family", type: oneOf(["inet", "inet6"] as const), defaultDoc: "the family of the addresses (inet for fwmark services whose real servers are all tunnelled)", doc: "Address family of a fwmark service." },
    { key: "lvs_sched", aliases: [{ kw: "lb_algo", deprecated: true }], type: oneOf(LVS_SCHEDULERS), default: "wlc", doc: "IPVS scheduler. `lb_algo` is the old spelling." },
    { key: "hashed", type: flag, default: false, doc: "Accepted for compatibility; keepalived 2.2.7 ignores it." },
    { key: "flag_1", kw: "flag-1", type: flag, default: false, doc: "Scheduler flag 1 (ipvsadm -b flag-1)." },
    { key: "flag_2", kw: "flag-2", type: flag, default: false, doc: "Scheduler flag 2 (ipvsadm -b flag-2)." },
    { key: "flag_3", kw: "flag-3", type: flag, default: false, doc: "Scheduler flag 3 (ipvsadm -b flag-3)." },
    { key: "sh_port", kw: "sh-port", type: flag, default: false, doc: "sh scheduler: hash the source port too." },
    { key: "sh_fallback", kw: "sh-fallback", type: flag, default: false, doc: "sh scheduler: fall back to another server when the chosen one is unavailable." },
    { key: "mh_port", kw: "mh-port", type: flag, default: false, doc: "mh scheduler: hash the source port too." },
    { key: "mh_fallback", kw: "mh-fallback", type: flag, default: false, doc: "mh scheduler: fall back to another server when the chosen one is unavailable." },
    { key: "ops", type: flag, default: false, doc: "One-packet scheduling (UDP or fwmark services only)." },
    { key: "lvs_method", aliases: [{ kw: "lb_kind", deprecated: true }], type: forwardingMethod, default: { method: "NAT" } as ForwardingMethod, defaultDoc: "NAT", doc: "Default forwarding method of the real servers. `lb_kind` is the old spelling." },
    { key: "persistence_engine", type: word, doc: "IPVS persistence engine (only sip exists)." },
    { key: "persistence_timeout", type: persistenceTimeout, defaultDoc: "not persistent; 360 when given without a value", doc: `Seconds a client stays with its real server (1..${LVS_MAX_TIMEOUT}).` },
    { key: "persistence_granularity", type: persistenceGranularity, doc: "Netmask grouping clients for persistence (ipvsadm -M)." },
    { key: "protocol", type: protocol, default: "UDP", defaultDoc: "UDP (keepalived 2.2.7 warns and uses UDP); ignored for fwmark services", doc: "Transport protocol: TCP, UDP or SCTP." },
    { key: "ha_suspend", type: flag, default: false, doc: "Suspend the checkers while the service address is not on this host." },
    { key: "omega", type: flag, default: false, doc: "On shutdown run the quorum-down and real-server-down notifiers." },
    { key: "quorum", type: int(1, U32_MAX), default: 1, doc: "Minimum total weight of live real servers for the service to be up." },
    { key: "quorum_up", type: script, doc: "Script run when the quorum is gained." },
    { key: "quorum_down", type: script, doc: "Script run when the quorum is lost." },
    { key: "hysteresis", type: int(0, U32_MAX), default: 0, doc: "Weight tolerance around the quorum before its state changes." },
    { key: "weight", type: int(1, WEIGHT_MAX), default: 1, doc: "Default weight of the real servers." },
    { key: "sorry_server", type: serverAddress, doc: "Server put in place of all real servers while the quorum is lost." },
    { key: "sorry_server_inhibit", type: flag, default: false, doc: "Apply inhibit_on_failure to the sorry server." },
    { key: "sorry_server_lvs_method", type: forwardingMethod, defaultDoc: "the virtual server's lvs_method", doc: "Forwarding method of the sorry server." },
    ...serverDefaults("vs"),
    { key: "real_server", type: headedBlocks(realServerSpec, serverHeader("real_server"), describeServer), repeat: "append", doc: realServerSpec.doc! },
  ],
};

// ---------------------------------------------------------------------------
// virtual_server_group: a named list of addresses, ranges and fwmarks

export const virtualServerGroupSpec: BlockSpec = {
  name: "virtual_server_group",
  doc: "A named set of addresses, address ranges and fwmarks that virtual servers can share.",
  fields: [
    { key: "entries", type: lines(vsgEntryItem), repeat: "append", doc: "IP [PORT], IP-LAST [PORT], IP/PREFIX [PORT] or fwmark N [inet|inet6], one per line in keepalived.conf." },
  ],
};

/** In keepalived.conf the block holds bare entry lines; in TOML a table with `entries`. */
const virtualServerGroups: ValueType<Record<string, Model>> = {
  describe: "named virtual_server_group blocks",
  named: true,
  fromConf(node, ctx) {
    const name = node.args[0];
    if (name === undefined) { ctx.diag.error(`'virtual_server_group' needs a name`, node.loc); return undefined; }
    if (!node.children) { ctx.diag.error(`'virtual_server_group ${name}' must open a block with '{'`, node.loc); return undefined; }
    const entries = lines(vsgEntryItem).fromConf({ ...node, args: [] }, { ...ctx, where: `virtual_server_group ${name}` }) ?? [];
    const obj: Model = { entries };
    locsOf(obj).entries = node.loc;
    setBlockLoc(obj, node.loc);
    return { [name]: obj };
  },
  fromToml(value, loc, ctx) {
    if (!isPlainTable(value)) { ctx.diag.error(`'virtual_server_group' expects a table of named groups`, loc); return undefined; }
    const out: Record<string, Model> = {};
    for (const [name, body] of Object.entries(value)) {
      const p = [...ctx.path, name];
      const obj = parseTomlBlock(body, virtualServerGroupSpec, { ...ctx, path: p, where: `virtual_server_group ${name}` });
      setBlockLoc(obj, ctx.locate(p));
      out[name] = obj;
    }
    return out;
  },
  toToml: (v) => Object.fromEntries(Object.entries(v).map(([n, o]) => [n, blockToToml(o, virtualServerGroupSpec)])),
  effective: (v) => Object.fromEntries(Object.entries(v).map(([n, o]) => [n, withDefaults(o, virtualServerGroupSpec)])),
};

// ---------------------------------------------------------------------------
// SSL: the client context of SSL_GET checkers

export const sslSpec: BlockSpec = {
  name: "SSL",
  doc: "Client TLS context for SSL_GET checkers; generated automatically when absent.",
  fields: [
    { key: "password", type: restOfLine, doc: "Password of the private key." },
    { key: "ca", type: restOfLine, doc: "CA certificate file used to verify servers." },
    { key: "certificate", type: restOfLine, doc: "Client certificate file." },
    { key: "key", type: restOfLine, doc: "Client private key file." },
  ],
};

// ---------------------------------------------------------------------------
// Effective model: keepalived's inheritance (virtual server -> real server -> checker)
// applied on top of each block's own defaults.

const vsList = headedBlocks(virtualServerSpec, serverHeader("virtual_server"), describeServer);

const virtualServers: ValueType<Model[]> = {
  ...vsList,
  effective: (list) => list.map((vs) => resolveVirtualServer(withDefaults(vs, virtualServerSpec))),
};

const RS_INHERITS = ["lvs_method", "alpha", "inhibit_on_failure", "retry", "connect_timeout", "delay_loop", "warmup", "delay_before_retry", "virtualhost"] as const;

function resolveVirtualServer(vs: Model): Model {
  const rsList = (vs.real_server as Model[] | undefined) ?? [];
  for (const rs of rsList) {
    for (const k of RS_INHERITS) if (rs[k] === undefined && vs[k] !== undefined) rs[k] = cloneData(vs[k]);
    if (rs.weight === undefined) rs.weight = vs.weight;
    if (rs.port === undefined && vs.port !== undefined) rs.port = vs.port;
    for (const c of (rs.checker as Model[] | undefined) ?? []) resolveChecker(c, rs);
  }
  if (vs.sorry_server !== undefined && vs.sorry_server_lvs_method === undefined) vs.sorry_server_lvs_method = cloneData(vs.lvs_method);
  return vs;
}

function resolveChecker(c: Model, rs: Model): void {
  const type = c.type as CheckerType;
  if (type === "FILE_CHECK" || type === "BFD_CHECK") return;
  c.alpha ??= rs.alpha ?? false;
  c.delay_loop ??= rs.delay_loop;
  c.retry ??= rs.retry ?? CHECKER_DEFAULT_RETRY[type];
  c.warmup ??= rs.warmup ?? c.delay_loop;
  c.delay_before_retry ??= rs.delay_before_retry ?? CHECKER_DEFAULT_DELAY_BEFORE_RETRY[type] ?? c.delay_loop;
  if (type === "MISC_CHECK") {
    if (!c.misc_timeout) c.misc_timeout = c.delay_loop;
    return;
  }
  c.connect_timeout ??= rs.connect_timeout;
  c.connect_ip ??= rs.ip;
  if (c.connect_port === undefined && rs.port !== undefined) c.connect_port = rs.port;
  if (type === "HTTP_GET" || type === "SSL_GET") c.virtualhost ??= rs.virtualhost;
}

/** Top-level fields this module contributes to the root spec. */
export const lvsRootFields: Field[] = [
  // A second SSL block replaces the first, as in keepalived ("SSL context already specified - replacing").
  { key: "ssl", kw: "SSL", type: block(sslSpec), doc: sslSpec.doc! },
  { key: "virtual_server_group", type: virtualServerGroups, repeat: "merge", doc: virtualServerGroupSpec.doc! },
  { key: "virtual_server", type: virtualServers, repeat: "append", doc: virtualServerSpec.doc! },
];

// ---------------------------------------------------------------------------
// The effective model, typed. Kept in step with the specs above (test/unit/config-lvs.test.ts
// builds a typed sample from a parsed configuration).

export interface VirtualServerGroupConfig { entries: VsgEntry[] }

export interface SslConfig { password?: string; ca?: string; certificate?: string; key?: string }

interface ServerTiming {
  delay_loop: number;
  connect_timeout: number;
  retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  inhibit_on_failure: boolean;
  alpha: boolean;
  smtp_alert?: boolean;
  virtualhost?: string;
  snmp_name?: string;
}

export interface RealServerConfig extends ServerTiming {
  ip: string;
  port?: number;
  weight: number;
  lvs_method: ForwardingMethod;
  uthreshold?: number;
  lthreshold?: number;
  notify_up?: ScriptConfig;
  notify_down?: ScriptConfig;
  checker?: CheckerConfig[];
}

export interface VirtualServerConfig extends ServerTiming {
  ip?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  ip_family?: "inet" | "inet6";
  lvs_sched: LvsScheduler;
  hashed: boolean;
  flag_1: boolean;
  flag_2: boolean;
  flag_3: boolean;
  sh_port: boolean;
  sh_fallback: boolean;
  mh_port: boolean;
  mh_fallback: boolean;
  ops: boolean;
  lvs_method: ForwardingMethod;
  persistence_engine?: string;
  persistence_timeout?: number;
  persistence_granularity?: string;
  protocol: LvsProtocol;
  ha_suspend: boolean;
  omega: boolean;
  quorum: number;
  quorum_up?: ScriptConfig;
  quorum_down?: ScriptConfig;
  hysteresis: number;
  weight: number;
  sorry_server?: ServerAddress;
  sorry_server_inhibit: boolean;
  sorry_server_lvs_method?: ForwardingMethod;
  real_server?: RealServerConfig[];
}

/** The LVS part of an effective root model. */
export interface LvsConfig {
  ssl?: SslConfig;
  virtual_server_group?: Record<string, VirtualServerGroupConfig>;
  virtual_server?: VirtualServerConfig[];
}
