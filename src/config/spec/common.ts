// Value types shared by the VRRP, global and LVS specs: address lines with `ip address`
// options, routes and rules, scripts run as a user, tracked objects with weights. Each
// reads one keepalived.conf line (or a TOML string written the same way, or a table).
import {
  blockToToml, isPlainTable, blockLoc, parseConfBlock, parseTomlBlock, setBlockLoc, tomlKey, withDefaults,
  type BlockSpec, type Model, type ParseCtx, type TomlCtx, type ValueType,
} from "../schema.ts";
import type { ConfNode, SourceLoc } from "../tree.ts";
import { parseIp, type LineItemType } from "../values.ts";

function argLoc(node: ConfNode, i: number): SourceLoc { return node.argLocs[i] ?? node.loc; }
const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** Where a line item (address, route, track reference ...) was written. */
export function itemLoc(item: object): SourceLoc | undefined { return blockLoc(item); }

/** Reads a TOML string as if it were the keepalived.conf line `KEYWORD <string>`. */
function fromTomlString<T>(
  value: unknown, loc: SourceLoc, ctx: TomlCtx, read: (node: ConfNode, ctx: ParseCtx) => T | undefined,
): T | undefined {
  const kw = tomlKey(ctx);
  if (typeof value !== "string") { ctx.diag.error(`'${kw}' expects a string`, loc); return undefined; }
  const parts = value.trim().split(/\s+/).filter(Boolean);
  return read({ keyword: kw, args: parts, argLocs: parts.map(() => loc), loc }, ctx);
}

/**
 * The table form of a line item (`{ address = "10.0.0.1/24", dev = "eth0", no_track = true }`)
 * turned into the words of its keepalived.conf line, so one parser checks both. `main` is
 * the key holding the line's first word; `spelling` maps a key to its keepalived spelling.
 */
function tableToLine<T>(
  t: Model, loc: SourceLoc, ctx: TomlCtx, main: string, allowed: readonly string[],
  parseLine: (node: ConfNode, ctx: ParseCtx) => T | undefined, spelling: (key: string) => string = (k) => k,
): T | undefined {
  const kw = tomlKey(ctx);
  const head = t[main];
  if (typeof head !== "string") { ctx.diag.error(`'${kw}' item needs '${main}'`, loc); return undefined; }
  const args: string[] = [];
  for (const [k, v] of Object.entries(t)) {
    if (k === main) continue;
    if (!allowed.includes(k)) { ctx.diag.error(`'${kw}' item: unknown setting '${k}'`, loc); return undefined; }
    if (v === true) args.push(spelling(k));
    else if (v === false) continue;
    else if (typeof v === "string" || typeof v === "number") args.push(spelling(k), String(v));
    else { ctx.diag.error(`'${kw}' item: '${k}' expects a string, a number or true`, loc); return undefined; }
  }
  return parseLine({ keyword: head, args, argLocs: args.map(() => loc), loc }, ctx);
}

// ---------------------------------------------------------------------------
// Scripts and FIFOs run or opened as a user: `notify_master /x.sh [user [group]]`.

/** A command line (quoted in keepalived.conf when it has arguments) and who runs it. */
export interface ScriptConfig { command: string; user?: string; group?: string }
/** A FIFO path and who owns it. */
export interface FifoConfig { path: string; user?: string; group?: string }

function runAs<K extends "command" | "path">(main: K, what: string): ValueType<Record<K, string> & { user?: string; group?: string }> {
  type R = Record<K, string> & { user?: string; group?: string };
  const build = (parts: string[]): R => {
    const r = { [main]: parts[0]! } as R;
    if (parts[1] !== undefined) r.user = parts[1];
    if (parts[2] !== undefined) r.group = parts[2];
    return r;
  };
  return {
    describe: `${what} [user [group]]`,
    fromConf(node, ctx) {
      if (node.args.length === 0) { ctx.diag.error(`'${node.keyword}' needs ${what}`, node.loc); return undefined; }
      if (node.args.length > 3) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[3]}' ignored (quote a command that has arguments)`, argLoc(node, 3));
      return build(node.args);
    },
    fromToml(value, loc, ctx) {
      if (typeof value === "string") return { [main]: value } as R;
      if (isPlainTable(value) && typeof value[main] === "string") {
        const extra = Object.keys(value).find((k) => k !== main && k !== "user" && k !== "group");
        if (extra) { ctx.diag.error(`'${tomlKey(ctx)}': unknown setting '${extra}'`, loc); return undefined; }
        for (const k of ["user", "group"]) {
          if (value[k] !== undefined && typeof value[k] !== "string") { ctx.diag.error(`'${tomlKey(ctx)}.${k}' expects a string`, loc); return undefined; }
        }
        const r = { [main]: value[main] } as R;
        if (typeof value.user === "string") r.user = value.user;
        if (typeof value.group === "string") r.group = value.group;
        return r;
      }
      ctx.diag.error(`'${tomlKey(ctx)}' expects a string or a table with '${main}', 'user', 'group'`, loc);
      return undefined;
    },
    toToml: (v) => (v.user === undefined ? v[main] : { ...v }),
  };
}

export const script: ValueType<ScriptConfig> = runAs("command", "a script");
export const fifo: ValueType<FifoConfig> = runAs("path", "a FIFO path");

/** `notify_deleted [script [user [group]]]`: on by itself, optionally with a script. */
export interface NotifyDeletedConfig { command?: string; user?: string; group?: string }
export const notifyDeleted: ValueType<NotifyDeletedConfig> = {
  describe: "flag, or a script [user [group]]",
  fromConf(node, ctx) { return node.args.length === 0 ? {} : script.fromConf(node, ctx); },
  fromToml(value, loc, ctx) { return value === true ? {} : script.fromToml(value, loc, ctx); },
  toToml: (v) => (v.command === undefined ? true : script.toToml(v as ScriptConfig)),
};

/** `user NAME [GROUP]` */
export interface RunAsConfig { user: string; group?: string }
export const runAsUser: ValueType<RunAsConfig> = {
  describe: "user [group]",
  fromConf(node, ctx) {
    const [user, group, extra] = node.args;
    if (user === undefined) { ctx.diag.error(`'${node.keyword}' needs a user name`, node.loc); return undefined; }
    if (extra !== undefined) ctx.diag.warning(`'${node.keyword}': extra argument '${extra}' ignored`, argLoc(node, 2));
    return group === undefined ? { user } : { user, group };
  },
  fromToml(value, loc, ctx) { return fromTomlString(value, loc, ctx, (n, c) => runAsUser.fromConf(n, c)); },
  toToml: (v) => (v.group === undefined ? v.user : `${v.user} ${v.group}`),
};

// ---------------------------------------------------------------------------
// Weights: `weight N [reverse]` in vrrp_script, track_file, vrrp_track_process, bfd_instance.

export interface WeightConfig { value: number; reverse: boolean }

export function weight(min: number, max: number): ValueType<WeightConfig> {
  const read = (node: ConfNode, ctx: ParseCtx): WeightConfig | undefined => {
    const [a, opt, extra] = node.args;
    if (a === undefined) { ctx.diag.error(`'${node.keyword}' needs a number`, node.loc); return undefined; }
    if (!INT_RE.test(a)) { ctx.diag.error(`'${node.keyword}' expects an integer, got '${a}'`, argLoc(node, 0)); return undefined; }
    const v = Number(a);
    if (v < min || v > max) { ctx.diag.error(`'${node.keyword}' ${v} is out of range ${min}..${max}`, argLoc(node, 0)); return undefined; }
    if (opt !== undefined && opt !== "reverse") { ctx.diag.error(`'${node.keyword}': unknown option '${opt}' (only 'reverse')`, argLoc(node, 1)); return undefined; }
    if (extra !== undefined) ctx.diag.warning(`'${node.keyword}': extra argument '${extra}' ignored`, argLoc(node, 2));
    return { value: v, reverse: opt === "reverse" };
  };
  return {
    describe: `integer ${min}..${max}, optionally followed by 'reverse'`,
    fromConf: read,
    fromToml(value, loc, ctx) {
      if (typeof value === "number" || typeof value === "bigint") return read({ keyword: tomlKey(ctx), args: [String(value)], argLocs: [loc], loc }, ctx);
      return fromTomlString(value, loc, ctx, read);
    },
    toToml: (v) => (v.reverse ? `${v.value} reverse` : v.value),
  };
}

// ---------------------------------------------------------------------------
// Tracked objects inside an instance or sync group: `NAME [weight N] [reverse|noreverse]`.

export interface TrackRef {
  name: string;
  /** Absent: the tracked object's own weight (scripts, files, processes, BFD) or 0 (interfaces). */
  weight?: number;
  reverse: boolean;
}

export function trackLine(min: number, max: number): LineItemType<TrackRef> {
  return {
    describe: `NAME [weight ${min}..${max}] [reverse|noreverse]`,
    parseLine(node, ctx) {
      const ref: TrackRef = { name: node.keyword, reverse: false };
      for (let i = 0; i < node.args.length; i++) {
        const w = node.args[i]!;
        if (w === "weight") {
          const n = node.args[i + 1];
          if (n === undefined || !INT_RE.test(n)) { ctx.diag.error(`'${ref.name}': 'weight' needs an integer`, argLoc(node, i)); return undefined; }
          const v = Number(n);
          if (v < min || v > max) { ctx.diag.error(`'${ref.name}': weight ${v} is out of range ${min}..${max}`, argLoc(node, i + 1)); return undefined; }
          ref.weight = v;
          i++;
        } else if (w === "reverse") ref.reverse = true;
        else if (w === "noreverse" || w === "no_reverse") ref.reverse = false;
        else { ctx.diag.error(`'${ref.name}': unknown option '${w}'`, argLoc(node, i)); return undefined; }
      }
      setBlockLoc(ref, node.loc);
      return ref;
    },
    fromTable(t, loc, ctx) {
      if (typeof t.name !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' item needs 'name'`, loc); return undefined; }
      const extra = Object.keys(t).find((k) => !["name", "weight", "reverse"].includes(k));
      if (extra) { ctx.diag.error(`'${tomlKey(ctx)}' item: unknown setting '${extra}'`, loc); return undefined; }
      const args: string[] = [];
      if (t.weight !== undefined) {
        if (typeof t.weight !== "number" || !Number.isInteger(t.weight)) { ctx.diag.error(`'${tomlKey(ctx)}' item: 'weight' expects an integer`, loc); return undefined; }
        args.push("weight", String(t.weight));
      }
      if (t.reverse !== undefined && typeof t.reverse !== "boolean") { ctx.diag.error(`'${tomlKey(ctx)}' item: 'reverse' expects true or false`, loc); return undefined; }
      if (t.reverse === true) args.push("reverse");
      return this.parseLine({ keyword: t.name, args, argLocs: args.map(() => loc), loc }, ctx);
    },
    toToml: (r) => (r.weight === undefined && !r.reverse ? r.name : { name: r.name, ...(r.weight !== undefined ? { weight: r.weight } : {}), ...(r.reverse ? { reverse: true } : {}) }),
  };
}

// ---------------------------------------------------------------------------
// Addresses with `ip address add` options: virtual_ipaddress, virtual_ipaddress_excluded,
// static_ipaddress.

export type AddressScope = "site" | "link" | "host" | "nowhere" | "global";
const SCOPES: readonly string[] = ["site", "link", "host", "nowhere", "global"];

export interface VirtualIpConfig {
  /** The address without its prefix length. */
  address: string;
  family: 4 | 6;
  /** Prefix length; 32 (IPv4) or 128 (IPv6) when not given. */
  prefix: number;
  /** Broadcast address, or '+' / '-' to set / clear the host bits. */
  brd?: string;
  dev?: string;
  scope?: AddressScope;
  label?: string;
  peer?: string;
  home: boolean;
  nodad: boolean;
  mngtmpaddr: boolean;
  noprefixroute: boolean;
  autojoin: boolean;
  /** The instance stays master if this address is removed by someone else. */
  no_track: boolean;
  /** Put this address on a VMAC interface created on `dev`. */
  use_vmac: boolean;
  /** Seconds, or "forever"; IPv6 /128 addresses default to 0 (deprecated). */
  preferred_lft?: number | "forever";
  /** Static addresses only: the track_group whose instances watch this address. */
  track_group?: string;
}

const IP_FLAGS = { home: "home", "-nodad": "nodad", nodad: "nodad", mngtmpaddr: "mngtmpaddr", noprefixroute: "noprefixroute", autojoin: "autojoin", no_track: "no_track" } as const;

/** Splits `ADDR[/LEN]`, checks the address and length; warns and clamps a too-long prefix as keepalived does. */
export function parsePrefixed(text: string, loc: SourceLoc, ctx: ParseCtx): { address: string; family: 4 | 6; prefix: number; hasPrefix: boolean } | undefined {
  const slash = text.indexOf("/");
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const ip = parseIp(addr);
  if (!ip) { ctx.diag.error(`'${text}' is not a valid IP address`, loc); return undefined; }
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d+$/.test(p)) { ctx.diag.error(`'${text}': prefix length '${p}' is not a number`, loc); return undefined; }
    prefix = Number(p);
    if (prefix > max) { ctx.diag.warning(`invalid address prefix len ${prefix} for address ${text} - using ${max}`, loc); prefix = max; }
  }
  return { address: ip.text, family: ip.family, prefix, hasPrefix: slash >= 0 };
}

export function ipAddressLine(opts: { isStatic: boolean }): LineItemType<VirtualIpConfig> {
  return {
    describe: "ADDRESS[/LEN] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL] [peer ADDR] [home] [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [use_vmac] [preferred_lft N|forever]" + (opts.isStatic ? " [track_group GROUP]" : ""),
    parseLine(node, ctx) {
      const p = parsePrefixed(node.keyword, node.loc, ctx);
      if (!p) return undefined;
      const vip: VirtualIpConfig = {
        address: p.address, family: p.family, prefix: p.prefix,
        home: false, nodad: false, mngtmpaddr: false, noprefixroute: false, autojoin: false, no_track: false, use_vmac: false,
      };
      const a = node.args;
      for (let i = 0; i < a.length; i++) {
        const w = a[i]!;
        const loc = argLoc(node, i);
        const needValue = (): string | undefined => {
          const v = a[i + 1];
          if (v === undefined) ctx.diag.error(`'${node.keyword}': '${w}' needs a value`, loc);
          i++;
          return v;
        };
        if (w in IP_FLAGS) { vip[IP_FLAGS[w as keyof typeof IP_FLAGS]] = true; continue; }
        switch (w) {
          case "brd": case "broadcast": {
            const v = needValue(); if (v === undefined) return undefined;
            if (v !== "+" && v !== "-" && !parseIp(v)) { ctx.diag.error(`'${node.keyword}': invalid broadcast address '${v}'`, argLoc(node, i)); return undefined; }
            vip.brd = v; break;
          }
          case "dev": { const v = needValue(); if (v === undefined) return undefined; vip.dev = v; break; }
          case "scope": {
            const v = needValue(); if (v === undefined) return undefined;
            if (!SCOPES.includes(v)) { ctx.diag.error(`'${node.keyword}': unknown scope '${v}' (site, link, host, nowhere, global)`, argLoc(node, i)); return undefined; }
            vip.scope = v as AddressScope; break;
          }
          case "label": { const v = needValue(); if (v === undefined) return undefined; vip.label = v; break; }
          case "peer": {
            const v = needValue(); if (v === undefined) return undefined;
            const pp = parsePrefixed(v, argLoc(node, i), ctx); if (!pp) return undefined;
            if (pp.family !== vip.family) { ctx.diag.error(`'${node.keyword}': peer '${v}' is not the same address family`, argLoc(node, i)); return undefined; }
            vip.peer = v; break;
          }
          case "use_vmac": vip.use_vmac = true; break;
          case "preferred_lft": {
            const v = needValue(); if (v === undefined) return undefined;
            if (v === "forever") vip.preferred_lft = "forever";
            else if (/^\d+$/.test(v)) vip.preferred_lft = Number(v);
            else { ctx.diag.error(`'${node.keyword}': preferred_lft must be a number of seconds or 'forever', got '${v}'`, argLoc(node, i)); return undefined; }
            break;
          }
          case "track_group": {
            const v = needValue(); if (v === undefined) return undefined;
            if (!opts.isStatic) ctx.diag.warning(`'${node.keyword}': track_group only applies to static addresses - ignored`, loc);
            else vip.track_group = v;
            break;
          }
          default:
            ctx.diag.error(`'${node.keyword}': unknown address option '${w}'`, loc);
            return undefined;
        }
      }
      if (vip.label !== undefined && vip.dev !== undefined && !vip.label.startsWith(vip.dev)) {
        ctx.diag.warning(`'${node.keyword}': label '${vip.label}' should start with the device name '${vip.dev}' (e.g. ${vip.dev}:1)`, node.loc);
      }
      setBlockLoc(vip, node.loc);
      return vip;
    },
    fromTable(t, loc, ctx) {
      const keys = ["brd", "dev", "scope", "label", "peer", "home", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac", "preferred_lft", ...(opts.isStatic ? ["track_group"] : [])];
      return tableToLine(t, loc, ctx, "address", keys, (n, c) => this.parseLine(n, c), (k) => (k === "nodad" ? "-nodad" : k));
    },
    toToml: (v) => ipAddressText(v),
  };
}

/** The keepalived.conf spelling of an address line (also the TOML string form). */
export function ipAddressText(v: VirtualIpConfig): string {
  const out = [`${v.address}${v.prefix !== (v.family === 4 ? 32 : 128) ? "/" + v.prefix : ""}`];
  if (v.brd !== undefined) out.push("brd", v.brd);
  if (v.dev !== undefined) out.push("dev", v.dev);
  if (v.use_vmac) out.push("use_vmac");
  if (v.scope !== undefined) out.push("scope", v.scope);
  if (v.label !== undefined) out.push("label", v.label);
  if (v.peer !== undefined) out.push("peer", v.peer);
  for (const [kw, key] of [["home", "home"], ["-nodad", "nodad"], ["mngtmpaddr", "mngtmpaddr"], ["noprefixroute", "noprefixroute"], ["autojoin", "autojoin"], ["no_track", "no_track"]] as const) {
    if (v[key]) out.push(kw);
  }
  if (v.preferred_lft !== undefined) out.push("preferred_lft", String(v.preferred_lft));
  if (v.track_group !== undefined) out.push("track_group", v.track_group);
  return out.join(" ");
}

// ---------------------------------------------------------------------------
// Routes and rules: `ip route` / `ip rule` syntax. The few options lbctl reasons about
// are lifted out; the whole line is kept for the netlink layer.

export const ROUTE_TYPES = ["unicast", "blackhole", "unreachable", "prohibit", "throw", "local", "broadcast", "anycast", "multicast", "nat"];

export interface RouteConfig {
  /** Every word of the line, in order, as written. */
  words: string[];
  family: 4 | 6;
  /** Destination (`default` or ADDR[/LEN]). */
  to: string;
  type?: string;
  src?: string;
  via?: string;
  dev?: string;
  table?: string;
  no_track: boolean;
  track_group?: string;
}

/** Route options that take a value (from `ip route`); the rest are single words. */
export const ROUTE_VALUE_OPTS = new Set([
  "via", "gw", "or", "dev", "table", "tos", "dsfield", "protocol", "proto", "scope", "metric", "priority", "preference", "pref",
  "mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "ssthresh", "realms", "rto_min", "initcwnd",
  "initrwnd", "features", "quickack", "congctl", "vrf", "nexthop", "weight", "src", "expires", "encap", "fastopen_no_cookie",
  "track_group", "ttl-propagate", "as", "from",
]);

function isAddrOrDefault(s: string): boolean {
  if (s === "default") return true;
  const slash = s.indexOf("/");
  return parseIp(slash >= 0 ? s.slice(0, slash) : s) !== undefined;
}

export function routeLine(opts: { isStatic: boolean }): LineItemType<RouteConfig> {
  return {
    describe: "route in `ip route add` syntax: [src ADDR] [to] [TYPE] PREFIX [via ADDR] [dev IF] [table T] ... [no_track]",
    parseLine(node, ctx) {
      const all = [node.keyword, ...node.args];
      const locs = [node.loc, ...node.argLocs];
      const r: RouteConfig = { words: all, family: 4, to: "", no_track: false };
      let inet6 = false;
      for (let i = 0; i < all.length; i++) {
        const w = all[i]!;
        const loc = locs[i] ?? node.loc;
        if (w === "inet6") { inet6 = true; continue; }
        if (w === "no_track") { r.no_track = true; continue; }
        if (w === "to") continue;
        // keepalived 2.2.7's wording for the two spellings `ip route` no longer documents.
        if (w === "gw") ctx.diag.warning(`"gw" for routes is deprecated. Please use "via"`, loc);
        if (w === "or") ctx.diag.warning(`"or" for routes is deprecated. Please use "nexthop"`, loc);
        if (ROUTE_TYPES.includes(w) && !r.to) { r.type = w; continue; }
        if (ROUTE_VALUE_OPTS.has(w)) {
          const v = all[i + 1];
          if (v === undefined) { ctx.diag.error(`route '${all.join(" ")}': '${w}' needs a value`, loc); return undefined; }
          if ((w === "via" || w === "gw") && !isAddrOrDefault(v) && v !== "inet" && v !== "inet6") {
            ctx.diag.error(`route '${all.join(" ")}': '${v}' is not a valid gateway address`, locs[i + 1] ?? loc); return undefined;
          }
          if (w === "via" || w === "gw") r.via ??= v;
          else if (w === "dev") r.dev ??= v;
          else if (w === "table") r.table = v;
          else if (w === "src") { if (!parseIp(v)) { ctx.diag.error(`route '${all.join(" ")}': '${v}' is not a valid source address`, locs[i + 1] ?? loc); return undefined; } r.src = v; }
          else if (w === "track_group") {
            if (!opts.isStatic) ctx.diag.warning(`route '${all.join(" ")}': track_group only applies to static routes - ignored`, loc);
            else r.track_group = v;
          }
          i++;
          // `ssthresh lock 107`, `mtu lock 1000`: the value follows 'lock'
          if (v === "lock") i++;
          continue;
        }
        if (!r.to && isAddrOrDefault(w)) { r.to = w; continue; }
        // Remaining words are flags such as onlink, append, prepend.
      }
      if (!r.to) { ctx.diag.error(`route '${all.join(" ")}': no destination address`, node.loc); return undefined; }
      const dest = r.to === "default" ? undefined : parseIp(r.to.split("/")[0]!);
      const gw = r.via !== undefined ? parseIp(r.via) : undefined;
      r.family = inet6 || dest?.family === 6 || (dest === undefined && gw?.family === 6) ? 6 : 4;
      setBlockLoc(r, node.loc);
      return r;
    },
    toToml: (r) => r.words.join(" "),
  };
}

export interface RuleConfig {
  words: string[];
  family: 4 | 6;
  from?: string;
  to?: string;
  table?: string;
  preference?: number;
  no_track: boolean;
  track_group?: string;
}

export const RULE_VALUE_OPTS = new Set([
  "from", "to", "table", "lookup", "preference", "priority", "pref", "order", "tos", "dsfield", "fwmark", "realms", "iif", "oif",
  "goto", "suppress_prefixlength", "sup_pl", "suppress_ifgroup", "sup_group", "uidrange", "protocol", "ipproto", "ip_proto",
  "sport", "dport", "tun_id", "track_group", "not",
]);

export function ruleLine(opts: { isStatic: boolean }): LineItemType<RuleConfig> {
  return {
    describe: "rule in `ip rule add` syntax: [from P] [to P] [table T] [preference N] ... [no_track]",
    parseLine(node, ctx) {
      const all = [node.keyword, ...node.args];
      const locs = [node.loc, ...node.argLocs];
      const r: RuleConfig = { words: all, family: 4, no_track: false };
      let inet6 = false;
      for (let i = 0; i < all.length; i++) {
        const w = all[i]!;
        const loc = locs[i] ?? node.loc;
        if (w === "inet6") { inet6 = true; continue; }
        if (w === "no_track") { r.no_track = true; continue; }
        if (w === "not") continue;
        if (!RULE_VALUE_OPTS.has(w)) continue; // single-word options (l3mdev, blackhole, ...)
        const v = all[i + 1];
        if (v === undefined) { ctx.diag.error(`rule '${all.join(" ")}': '${w}' needs a value`, loc); return undefined; }
        const vloc = locs[i + 1] ?? loc;
        if (w === "from" || w === "to") {
          if (v !== "all" && !isAddrOrDefault(v)) { ctx.diag.error(`rule '${all.join(" ")}': '${v}' is not a valid address`, vloc); return undefined; }
          r[w] = v;
        } else if (w === "table" || w === "lookup") r.table = v;
        else if (w === "preference" || w === "priority" || w === "pref" || w === "order") {
          if (!/^\d+$/.test(v)) { ctx.diag.error(`rule '${all.join(" ")}': preference '${v}' is not a number`, vloc); return undefined; }
          r.preference = Number(v);
        } else if (w === "track_group") {
          if (!opts.isStatic) ctx.diag.warning(`rule '${all.join(" ")}': track_group only applies to static rules - ignored`, loc);
          else r.track_group = v;
        }
        i++;
      }
      const fam = (s?: string) => (s && s !== "all" ? parseIp(s.split("/")[0]!)?.family : undefined);
      r.family = inet6 || fam(r.from) === 6 || fam(r.to) === 6 ? 6 : 4;
      setBlockLoc(r, node.loc);
      return r;
    },
    toToml: (r) => r.words.join(" "),
  };
}

// ---------------------------------------------------------------------------
// unicast_peer lines: `ADDR [min_ttl N] [max_ttl N]`.

export interface UnicastPeerConfig { address: string; family: 4 | 6; min_ttl?: number; max_ttl?: number }

export const unicastPeerLine: LineItemType<UnicastPeerConfig> = {
  describe: "ADDRESS [min_ttl 0..255] [max_ttl 0..255]",
  parseLine(node, ctx) {
    const ip = parseIp(node.keyword);
    if (!ip) { ctx.diag.error(`malformed unicast peer address '${node.keyword}'`, node.loc); return undefined; }
    const peer: UnicastPeerConfig = { address: ip.text, family: ip.family };
    for (let i = 0; i < node.args.length; i += 2) {
      const k = node.args[i]!;
      const v = node.args[i + 1];
      if (k !== "min_ttl" && k !== "max_ttl") { ctx.diag.error(`unicast peer ${node.keyword}: unknown option '${k}'`, argLoc(node, i)); return undefined; }
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 255) { ctx.diag.error(`unicast peer ${node.keyword}: ${k} must be 0..255`, argLoc(node, i + 1)); return undefined; }
      peer[k] = Number(v);
    }
    if (peer.min_ttl !== undefined && peer.max_ttl !== undefined && peer.min_ttl > peer.max_ttl) {
      ctx.diag.error(`unicast peer ${node.keyword}: min_ttl ${peer.min_ttl} is greater than max_ttl ${peer.max_ttl}`, node.loc);
      return undefined;
    }
    setBlockLoc(peer, node.loc);
    return peer;
  },
  fromTable(t, loc, ctx) { return tableToLine(t, loc, ctx, "address", ["min_ttl", "max_ttl"], (n, c) => unicastPeerLine.parseLine(n, c)); },
  toToml: (p) => [p.address, ...(p.min_ttl !== undefined ? ["min_ttl", p.min_ttl] : []), ...(p.max_ttl !== undefined ? ["max_ttl", p.max_ttl] : [])].join(" "),
};

// ---------------------------------------------------------------------------
// Smaller shapes.

/**
 * A keyword with optional trailing words (`vrrp_iptables [IN [OUT]]`, `nftables [TABLE]`,
 * `dynamic_interfaces [allow_if_changes]`). The value is the list of words, possibly empty.
 * `allowed`, when given, restricts the words.
 */
export function optionalWords(max: number, allowed?: readonly string[], what = "word"): ValueType<string[]> {
  const read = (node: ConfNode, ctx: ParseCtx): string[] | undefined => {
    if (node.args.length > max) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[max]}' ignored`, argLoc(node, max));
    const out = node.args.slice(0, max);
    for (let i = 0; i < out.length; i++) {
      if (allowed && !allowed.includes(out[i]!)) { ctx.diag.error(`'${node.keyword}': unknown option '${out[i]}' (${allowed.join(", ")})`, argLoc(node, i)); return undefined; }
    }
    return out;
  };
  return {
    describe: max === 1 ? `flag with an optional ${what}` : `flag with up to ${max} ${what}s`,
    fromConf: read,
    fromToml(value, loc, ctx) {
      if (value === true) return [];
      if (typeof value === "string") return read({ keyword: tomlKey(ctx), args: [value], argLocs: [loc], loc }, ctx);
      if (Array.isArray(value) && value.every((x) => typeof x === "string")) return read({ keyword: tomlKey(ctx), args: value as string[], argLocs: value.map(() => loc), loc }, ctx);
      ctx.diag.error(`'${tomlKey(ctx)}' expects true, a string or a list of strings`, loc);
      return undefined;
    },
    toToml: (v) => (v.length === 0 ? true : v.length === 1 ? v[0] : v),
  };
}

/** An integer whose argument may be left out (`max_auto_priority` alone means the maximum). */
export function optionalInt(min: number, max: number, whenAbsent: number): ValueType<number> {
  return {
    describe: `integer ${min}..${max} (alone: ${whenAbsent})`,
    fromConf(node, ctx) {
      const a = node.args[0];
      if (a === undefined) return whenAbsent;
      if (!INT_RE.test(a)) { ctx.diag.error(`'${node.keyword}' expects an integer, got '${a}'`, argLoc(node, 0)); return undefined; }
      const v = Number(a);
      if (v < min || v > max) { ctx.diag.error(`'${node.keyword}' ${v} is out of range ${min}..${max}`, argLoc(node, 0)); return undefined; }
      return v;
    },
    fromToml(value, loc, ctx) {
      if (value === true) return whenAbsent;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        ctx.diag.error(`'${tomlKey(ctx)}' expects an integer ${min}..${max}`, loc); return undefined;
      }
      return value;
    },
    toToml: (v) => v,
  };
}

/** A flag written as one of two keywords: `accept` / `no_accept`, `nopreempt` / `preempt`. */
export function pairedFlag(onKw: string, offKw: string): ValueType<boolean> {
  return {
    describe: `flag ('${offKw}' turns it off)`,
    fromConf(node, ctx) {
      if (node.args.length > 0) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[0]}' ignored`, argLoc(node, 0));
      return node.keyword !== offKw;
    },
    fromToml(value, loc, ctx) {
      if (typeof value !== "boolean") { ctx.diag.error(`'${tomlKey(ctx)}' expects true or false`, loc); return undefined; }
      return value;
    },
    toToml: (v) => v,
  };
}

/** Unnamed blocks that may repeat (`garp_group { ... }`), kept in order. */
export function blockList(spec: BlockSpec): ValueType<Model[]> {
  return {
    describe: `${spec.name} blocks`,
    fromConf(node, ctx) {
      if (!node.children) { ctx.diag.error(`'${node.keyword}' must open a block with '{'`, node.loc); return undefined; }
      const obj = parseConfBlock(node.children, spec, { ...ctx, where: spec.name });
      setBlockLoc(obj, node.loc);
      return [obj];
    },
    fromToml(value, loc, ctx) {
      const arr = Array.isArray(value) ? value : [value];
      return arr.map((body, i) => {
        const p = Array.isArray(value) ? [...ctx.path, i] : ctx.path;
        const obj = parseTomlBlock(body, spec, { ...ctx, path: p, where: `${spec.name} #${i + 1}` });
        setBlockLoc(obj, Array.isArray(value) ? ctx.locate(p) : loc);
        return obj;
      });
    },
    toToml: (v) => v.map((o) => blockToToml(o, spec)),
    effective: (v) => v.map((o) => withDefaults(o, spec)),
  };
}

/** A decimal number checked against a range, with keepalived's own wording of the range. */
export function decimalIn(min: number, max: number, unit: string): ValueType<number> {
  const read = (text: string, kw: string, loc: SourceLoc, ctx: ParseCtx): number | undefined => {
    if (!NUM_RE.test(text)) { ctx.diag.error(`'${kw}' expects a number, got '${text}'`, loc); return undefined; }
    const v = Number(text);
    if (v < min || v > max) { ctx.diag.error(`'${kw}' ${text} is out of range [${min}, ${max}]`, loc); return undefined; }
    return v;
  };
  return {
    describe: `number (${unit}) ${min}..${max}`,
    fromConf(node, ctx) {
      const a = node.args[0];
      if (a === undefined) { ctx.diag.error(`'${node.keyword}' needs a number`, node.loc); return undefined; }
      return read(a, node.keyword, argLoc(node, 0), ctx);
    },
    fromToml(value, loc, ctx) {
      if (typeof value !== "number") { ctx.diag.error(`'${tomlKey(ctx)}' expects a number`, loc); return undefined; }
      return read(String(value), tomlKey(ctx), loc, ctx);
    },
    toToml: (v) => v,
  };
}
