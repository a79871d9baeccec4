// VRRP blocks: vrrp_instance, vrrp_script, vrrp_track_process, track_file, vrrp_sync_group,
// garp_group, track_group, static addresses/routes/rules, linkbeat_interfaces,
// interface_up_down_delays and bfd_instance. Keywords, ranges and defaults follow
// keepalived.conf(5) and keepalived/vrrp/vrrp_parser.c of keepalived 2.2.7.
import type { BlockSpec, Field, Model, ParseCtx, ValueType } from "../schema.ts";
import { locOfKey, setBlockLoc, tomlKey } from "../schema.ts";
import type { ConfNode } from "../tree.ts";
import { block, decimal, flag, int, ipAddress, lines, namedBlocks, oneOf, parseIp, restOfLine, word, wordLine, words, type LineItemType } from "../values.ts";
import {
  blockList, decimalIn, ipAddressLine, notifyDeleted, optionalWords, pairedFlag, routeLine, ruleLine, runAsUser, script,
  trackLine, unicastPeerLine, weight,
  type NotifyDeletedConfig, type RouteConfig, type RuleConfig, type RunAsConfig, type ScriptConfig, type TrackRef,
  type UnicastPeerConfig, type VirtualIpConfig, type WeightConfig,
} from "./common.ts";
import { garpExtraIf, type GarpExtraIfConfig } from "./global.ts";

// ---------------------------------------------------------------------------
// Instance-specific value types.

/** `use_vmac [IFNAME] [MAC]` */
export interface VmacConfig { name?: string; mac?: string }

const MAC_RE = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){4,5}:?$/;

const useVmac: ValueType<VmacConfig> = {
  describe: "flag, optionally with an interface name and/or a MAC address",
  fromConf(node, ctx) { return readVmac(node, ctx); },
  fromToml(value, loc, ctx) {
    if (value === true) return {};
    if (typeof value === "string") { const p = value.trim().split(/\s+/); return readVmac({ keyword: tomlKey(ctx), args: p, argLocs: p.map(() => loc), loc }, ctx); }
    ctx.diag.error(`'${tomlKey(ctx)}' expects true or "[NAME] [MAC]"`, loc);
    return undefined;
  },
  toToml: (v) => (v.name === undefined && v.mac === undefined ? true : [v.name, v.mac].filter(Boolean).join(" ")),
};

function readVmac(node: ConfNode, ctx: ParseCtx): VmacConfig | undefined {
  const out: VmacConfig = {};
  for (let i = 0; i < node.args.length; i++) {
    let w = node.args[i]!;
    const loc = node.argLocs[i] ?? node.loc;
    if (w.includes(":")) {
      // Interface names cannot contain ':', so this is a MAC (5 octets: the VRID is the 6th).
      if (!MAC_RE.test(w)) { ctx.diag.error(`VMAC invalid MAC address ${w}`, loc); return undefined; }
      if (parseInt(w.split(":")[0]!, 16) & 1) { ctx.diag.error(`VMAC MAC address is multicast ${w}`, loc); return undefined; }
      out.mac = w;
      continue;
    }
    if (w === "name") { i++; w = node.args[i] ?? ""; }
    if (w.length === 0 || w.length > 15 || /[/\s]/.test(w) || w === "." || w === "..") {
      ctx.diag.error(`VMAC interface name '${w}' too long or invalid characters`, loc); return undefined;
    }
    out.name = w;
  }
  return out;
}

/** `use_ipvlan [IFNAME] [ADDRESS[/LEN]] [bridge|private|vepa]` */
export interface IpvlanConfig { name?: string; address?: string; mode: "bridge" | "private" | "vepa" }

const useIpvlan: ValueType<IpvlanConfig> = {
  describe: "[NAME] [ADDRESS] [bridge|private|vepa]",
  fromConf(node, ctx) { return readIpvlan(node, ctx); },
  fromToml(value, loc, ctx) {
    if (value === true) return { mode: "bridge" };
    if (typeof value === "string") { const p = value.trim().split(/\s+/); return readIpvlan({ keyword: tomlKey(ctx), args: p, argLocs: p.map(() => loc), loc }, ctx); }
    ctx.diag.error(`'${tomlKey(ctx)}' expects true or "[NAME] [ADDRESS] [MODE]"`, loc);
    return undefined;
  },
  toToml: (v) => [v.name, v.address, v.mode].filter(Boolean).join(" "),
};

function readIpvlan(node: ConfNode, ctx: ParseCtx): IpvlanConfig | undefined {
  const out: IpvlanConfig = { mode: "bridge" };
  for (let i = 0; i < node.args.length; i++) {
    const w = node.args[i]!;
    if (w === "bridge" || w === "private" || w === "vepa") { out.mode = w; continue; }
    if (parseIp(w.split("/")[0]!)) { out.address = w; continue; }
    if (w.length > 15) { ctx.diag.error(`IPVLAN interface name '${w}' too long`, node.argLocs[i] ?? node.loc); return undefined; }
    out.name = w;
  }
  return out;
}

/** `state MASTER|BACKUP`: keepalived is case-sensitive and falls back to BACKUP. */
const stateType: ValueType<"MASTER" | "BACKUP"> = {
  ...oneOf(["MASTER", "BACKUP"] as const),
  fromConf(node, ctx) {
    const a = node.args[0];
    if (a === "MASTER" || a === "BACKUP") return a;
    ctx.diag.warning(`unknown state '${a ?? ""}' (must be MASTER or BACKUP, in capitals), defaulting to BACKUP`, node.argLocs[0] ?? node.loc);
    return "BACKUP";
  },
};

/** Interface names are at most 15 characters (IFNAMSIZ - 1). */
const ifName: ValueType<string> = {
  ...word,
  describe: "interface name",
  fromConf(node, ctx) {
    const v = word.fromConf(node, ctx);
    if (v !== undefined && v.length > 15) { ctx.diag.error(`interface name '${v}' too long (at most 15 characters)`, node.argLocs[0] ?? node.loc); return undefined; }
    return v;
  },
};

/** auth_pass: keepalived keeps the first 8 characters. */
const authPass: ValueType<string> = {
  ...word,
  fromConf(node, ctx) {
    const v = word.fromConf(node, ctx);
    if (v !== undefined && v.length > 8) {
      ctx.diag.warning("Truncating auth_pass to 8 characters", node.loc);
      return v.slice(0, 8);
    }
    return v;
  },
  fromToml(value, loc, ctx) {
    const v = word.fromToml(value, loc, ctx);
    if (v !== undefined && v.length > 8) { ctx.diag.warning("Truncating auth_pass to 8 characters", loc); return v.slice(0, 8); }
    return v;
  },
};

// ---------------------------------------------------------------------------
// authentication { }

export interface AuthenticationConfig { auth_type: "PASS" | "AH"; auth_pass?: string }

export const authenticationSpec: BlockSpec = {
  name: "authentication",
  doc: "VRRPv2 authentication (removed from the standard by RFC 3768; avoid except with unicast).",
  fields: [
    { key: "auth_type", type: oneOf(["PASS", "AH"] as const), default: "PASS", doc: "PASS (simple password). AH (IPsec) is refused by lbctl." },
    { key: "auth_pass", type: authPass, doc: "Password, at most 8 characters (longer ones are truncated, as keepalived does)." },
  ],
  validate(obj, ctx) {
    if (obj.auth_type === "AH") ctx.diag.error("auth_type AH (IPsec authentication header) is not supported by lbctl: use PASS or remove the authentication block", locOfKey(obj, "auth_type"));
  },
};

// ---------------------------------------------------------------------------
// vrrp_instance

const TRACK_IF = trackLine(-253, 253);
const TRACK_SCRIPT = trackLine(-253, 253);
const TRACK_FILE = trackLine(-254, 254);
const TRACK_PROCESS = trackLine(-254, 254);
const TRACK_BFD = trackLine(-253, 253);

const trackFields = (what: string): Field[] => [
  { key: "track_interface", type: lines(TRACK_IF), repeat: "append", default: [], doc: `Interfaces whose link state ${what} follows; unweighted: FAULT when down; weighted (-253..253): priority change.` },
  { key: "track_script", type: lines(TRACK_SCRIPT), repeat: "append", default: [], doc: `vrrp_script names ${what} tracks; weight -253..253 overrides the script's own weight.` },
  { key: "track_file", type: lines(TRACK_FILE), repeat: "append", default: [], doc: `track_file names ${what} tracks; weight -254..254 overrides the file's own weight.` },
  { key: "track_process", type: lines(TRACK_PROCESS), repeat: "append", default: [], doc: `vrrp_track_process names ${what} tracks; weight -254..254 overrides the process's own weight.` },
  { key: "track_bfd", type: lines(TRACK_BFD), repeat: "append", default: [], doc: `bfd_instance names ${what} tracks; weight -253..253.` },
];

const notifyFields = (what: string): Field[] => [
  { key: "notify_master", type: script, doc: `Script run when ${what} becomes MASTER.` },
  { key: "notify_backup", type: script, doc: `Script run when ${what} becomes BACKUP.` },
  { key: "notify_fault", type: script, doc: `Script run when ${what} enters FAULT.` },
  { key: "notify_stop", type: script, doc: `Script run when ${what} stops.` },
  { key: "notify", type: script, doc: `Script run on every transition of ${what}, with 4 more arguments: GROUP|INSTANCE, name, state, priority.` },
];

const garpDelay = (kw: string, glob: string, doc: string, min = 0): Field =>
  ({ key: kw, type: int(min), defaultDoc: `global ${glob}`, doc });

export const vrrpInstanceSpec: BlockSpec = {
  name: "vrrp_instance",
  doc: "One virtual router: its addresses, priority, peers and tracking.",
  fields: [
    { key: "state", type: stateType, default: "BACKUP", doc: "Initial state wanted; with priority 255 and MASTER the instance takes over at once, otherwise the election decides." },
    { key: "interface", type: ifName, defaultDoc: "none (allowed only with unicast peers)", doc: "Interface VRRP runs on." },
    { key: "vrf", type: ifName, doc: "VRF to operate in when unicasting without an interface." },
    { key: "use_vmac", type: useVmac, defaultDoc: "off", doc: "Run on a macvlan with the VRRP virtual MAC (optional interface name and MAC; 5 octets: the VRID is the 6th)." },
    { key: "use_vmac_addr", type: flag, default: false, doc: "Create VMACs on every other interface used by a VIP or eVIP." },
    { key: "vmac_xmit_base", type: flag, default: false, doc: "Send and receive adverts on the base interface instead of the VMAC." },
    { key: "use_ipvlan", type: useIpvlan, defaultDoc: "off", doc: "Run on an L2 ipvlan (optional name, address, mode bridge|private|vepa)." },
    { key: "native_ipv6", type: flag, default: false, doc: "Force IPv6 (deprecated: the addresses decide the family)." },
    { key: "dont_track_primary", type: flag, default: false, doc: "Ignore faults of the instance's own interface." },
    ...trackFields("the instance"),
    { key: "mcast_src_ip", type: ipAddress, defaultDoc: "the interface's primary address", doc: "Source address of adverts." },
    { key: "unicast_src_ip", type: ipAddress, defaultDoc: "the interface's primary address", doc: "Source address of unicast adverts." },
    { key: "mcast_dst_ip", type: ipAddress, defaultDoc: "global vrrp_mcast_group4 / vrrp_mcast_group6", doc: "Multicast destination of adverts (IPv6: link-local ffX2::)." },
    { key: "track_src_ip", type: flag, default: false, doc: "Go to FAULT when the configured source address disappears." },
    { key: "version", type: int(2, 3), defaultDoc: "global vrrp_version; 3 for IPv6", doc: "VRRP version." },
    { key: "check_unicast_src", type: flag, default: false, doc: "Accept unicast adverts only from configured peers." },
    { key: "unicast_peer", type: lines(unicastPeerLine), repeat: "append", default: [], doc: "Peers adverts are unicast to, each ADDRESS [min_ttl N] [max_ttl N]." },
    { key: "unicast_fault_no_peer", type: flag, default: false, doc: "With unicast and no peers, go to FAULT instead of multicasting." },
    { key: "unicast_ttl", type: int(0, 255), defaultDoc: "255", doc: "TTL / hop limit of unicast adverts." },
    { key: "old_unicast_checksum", type: optionalWords(1, ["never"]), defaultDoc: "off", doc: "Use the pre-1.3.6 VRRPv3 unicast checksum ('never': no auto-detection)." },
    { key: "garp_master_delay", type: int(0), defaultDoc: "global vrrp_garp_master_delay (5)", doc: "Seconds after becoming master before the second gratuitous ARP burst (0: none)." },
    garpDelay("garp_master_repeat", "vrrp_garp_master_repeat (5)", "Gratuitous ARPs per burst after becoming master.", 1),
    garpDelay("garp_master_refresh", "vrrp_garp_master_refresh (0)", "Seconds between gratuitous ARP refreshes while master."),
    garpDelay("garp_master_refresh_repeat", "vrrp_garp_master_refresh_repeat (1)", "Gratuitous ARPs per refresh.", 1),
    garpDelay("garp_lower_prio_delay", "vrrp_garp_lower_prio_delay", "Seconds before the second burst after a lower-priority advert."),
    garpDelay("garp_lower_prio_repeat", "vrrp_garp_lower_prio_repeat", "Gratuitous ARPs after a lower-priority advert."),
    { key: "garp_extra_if", aliases: [{ kw: "vmac_garp_intvl", deprecated: true }], type: garpExtraIf, defaultDoc: "global vrrp_garp_extra_if", doc: "Periodic gratuitous ARP/NA on other interfaces of VIPs ([all] seconds; 0: off)." },
    { key: "down_timer_adverts", type: int(1, 100), defaultDoc: "global vrrp_down_timer_adverts (3)", doc: "Master down timer in advert intervals (3 is the RFC; all routers must agree)." },
    { key: "lower_prio_no_advert", type: flag, defaultDoc: "global vrrp_lower_prio_no_advert", doc: "As master, do not answer a lower-priority advert." },
    { key: "higher_prio_send_advert", type: flag, defaultDoc: "global vrrp_higher_prio_send_advert", doc: "As master, send an advert before yielding to a higher priority." },
    { key: "virtual_router_id", type: int(1, 255), doc: "VRID 1..255, unique per interface and address family. Required." },
    { key: "priority", type: int(1, 255), defaultDoc: "255 with state MASTER, else 100 (see instancePriority)", doc: "Election priority; 255 means address owner (its priority is never changed by tracking)." },
    { key: "advert_int", type: decimal(0.01, 255, "seconds"), default: 1, doc: "Advertisement interval (VRRPv3: centiseconds resolution)." },
    { key: "authentication", type: block(authenticationSpec), doc: authenticationSpec.doc ?? "" },
    { key: "virtual_ipaddress", type: lines(ipAddressLine({ isStatic: false })), repeat: "append", default: [], doc: "Addresses added on MASTER and removed otherwise; all of one family, sent in adverts." },
    { key: "virtual_ipaddress_excluded", type: lines(ipAddressLine({ isStatic: false })), repeat: "append", default: [], doc: "Addresses handled like virtual_ipaddress but not sent in adverts (may mix families)." },
    { key: "promote_secondaries", type: flag, default: false, doc: "Set promote_secondaries on the interface so removing one address keeps others of its subnet." },
    { key: "linkbeat_use_polling", type: flag, default: false, doc: "Poll link state of the instance's interface (deprecated: use linkbeat_interfaces)." },
    { key: "virtual_routes", type: lines(routeLine({ isStatic: false })), repeat: "append", default: [], doc: "Routes added on MASTER (ip route syntax)." },
    { key: "virtual_rules", type: lines(ruleLine({ isStatic: false })), repeat: "append", default: [], doc: "Policy rules added on MASTER (ip rule syntax)." },
    { key: "accept", aliases: [{ kw: "no_accept" }], type: pairedFlag("accept", "no_accept"), defaultDoc: "on, unless strict mode (then on only with priority 255)", doc: "Accept packets addressed to the VIPs when not address owner; 'no_accept' turns it off: while the instance holds its VIPs, nftables drops traffic to them (see global nftables)." },
    { key: "skip_check_adv_addr", type: flag, defaultDoc: "global vrrp_skip_check_adv_addr", doc: "Skip checking advert addresses when from the same master as before." },
    { key: "strict_mode", type: flag, defaultDoc: "global vrrp_strict", doc: "Strict RFC compliance for this instance." },
    { key: "nopreempt", aliases: [{ kw: "preempt" }], type: pairedFlag("nopreempt", "preempt"), default: false, doc: "Do not take over from a lower-priority master ('preempt' turns it off). Needs state BACKUP." },
    { key: "preempt_delay", type: decimal(0, 1000, "seconds"), default: 0, doc: "Extra delay before preempting a lower-priority master at startup. Needs state BACKUP." },
    { key: "debug", type: int(0, 4), default: 0, doc: "Debug level (not implemented by keepalived)." },
    ...notifyFields("the instance"),
    { key: "notify_deleted", type: notifyDeleted, defaultDoc: "off (FAULT is reported)", doc: "Report DELETED rather than FAULT when the instance is removed by a reload, optionally running a script." },
    { key: "notify_master_rx_lower_pri", type: script, doc: "Script run (with its own arguments only, as keepalived) when the master receives a lower-priority advert; notify_fifo gets MASTER_RX_LOWER_PRI." },
    { key: "notify_priority_changes", type: flag, defaultDoc: "global vrrp_notify_priority_changes", doc: "Send priority changes to the notify FIFOs." },
    { key: "smtp_alert", type: flag, defaultDoc: "global smtp_alert_vrrp / smtp_alert", doc: "Send e-mail on transitions." },
    { key: "kernel_rx_buf_size", type: int(0), defaultDoc: "global vrrp_rx_bufs_policy", doc: "Receive buffer size of the instance's socket." },
    { key: "lvs_sync_daemon_interface", type: ifName, doc: "Deprecated: use global lvs_sync_daemon." },
  ],
  // Keywords of older keepalived versions (and unicast patches) that 2.2.7 reports as "Unknown keyword".
  obsolete: {
    ha_suspend: "'ha_suspend' was removed in keepalived 2.0 (2.2.7 says \"Unknown keyword 'ha_suspend'\"): ignored; remove it",
    vrrp_unicast_bind: "'vrrp_unicast_bind' is not a keepalived 2.2.7 keyword: ignored; use 'unicast_src_ip ADDRESS'",
    vrrp_unicast_peer: "'vrrp_unicast_peer' is not a keepalived 2.2.7 keyword: ignored; use a 'unicast_peer { ADDRESS }' block",
    unicast_src: "'unicast_src' is not a keepalived 2.2.7 keyword: ignored; use 'unicast_src_ip ADDRESS'",
  },
  validate(obj, ctx) {
    const where = ctx.where.replace(/^vrrp_instance /, "");
    if (obj.lvs_sync_daemon_interface !== undefined) {
      ctx.diag.warning(`(${where}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon`, locOfKey(obj, "lvs_sync_daemon_interface"));
    }
    if (obj.linkbeat_use_polling === true) {
      ctx.diag.warning(`(${where}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block`, locOfKey(obj, "linkbeat_use_polling"));
    }
    if (obj.native_ipv6 === true) {
      ctx.diag.warning(`(${where}) 'native_ipv6' is deprecated: the virtual addresses decide the address family`, locOfKey(obj, "native_ipv6"));
    }
  },
};

export interface VrrpInstanceConfig {
  state: "MASTER" | "BACKUP";
  interface?: string;
  vrf?: string;
  use_vmac?: VmacConfig;
  use_vmac_addr: boolean;
  vmac_xmit_base: boolean;
  use_ipvlan?: IpvlanConfig;
  native_ipv6: boolean;
  dont_track_primary: boolean;
  track_interface: TrackRef[];
  track_script: TrackRef[];
  track_file: TrackRef[];
  track_process: TrackRef[];
  track_bfd: TrackRef[];
  mcast_src_ip?: string;
  unicast_src_ip?: string;
  mcast_dst_ip?: string;
  track_src_ip: boolean;
  version?: number;
  check_unicast_src: boolean;
  unicast_peer: UnicastPeerConfig[];
  unicast_fault_no_peer: boolean;
  unicast_ttl?: number;
  old_unicast_checksum?: string[];
  garp_master_delay?: number;
  garp_master_repeat?: number;
  garp_master_refresh?: number;
  garp_master_refresh_repeat?: number;
  garp_lower_prio_delay?: number;
  garp_lower_prio_repeat?: number;
  garp_extra_if?: GarpExtraIfConfig;
  down_timer_adverts?: number;
  lower_prio_no_advert?: boolean;
  higher_prio_send_advert?: boolean;
  virtual_router_id?: number;
  /** Absent: see `instancePriority` (keepalived gives state MASTER the owner priority 255). */
  priority?: number;
  advert_int: number;
  authentication?: AuthenticationConfig;
  virtual_ipaddress: VirtualIpConfig[];
  virtual_ipaddress_excluded: VirtualIpConfig[];
  promote_secondaries: boolean;
  linkbeat_use_polling: boolean;
  virtual_routes: RouteConfig[];
  virtual_rules: RuleConfig[];
  accept?: boolean;
  skip_check_adv_addr?: boolean;
  strict_mode?: boolean;
  nopreempt: boolean;
  preempt_delay: number;
  debug: number;
  notify_master?: ScriptConfig;
  notify_backup?: ScriptConfig;
  notify_fault?: ScriptConfig;
  notify_stop?: ScriptConfig;
  notify?: ScriptConfig;
  notify_deleted?: NotifyDeletedConfig;
  notify_master_rx_lower_pri?: ScriptConfig;
  notify_priority_changes?: boolean;
  smtp_alert?: boolean;
  kernel_rx_buf_size?: number;
  lvs_sync_daemon_interface?: string;
}

/** The priority keepalived 2.2.7 uses: a MASTER with no priority set is the address owner (255). */
export function instancePriority(inst: Pick<VrrpInstanceConfig, "priority" | "state">): number {
  return inst.priority ?? (inst.state === "MASTER" ? 255 : 100);
}

/** The address family of an instance: its first VIP's, else its source or peer addresses', else IPv4. */
export function instanceFamily(inst: VrrpInstanceConfig): 4 | 6 {
  const first = inst.virtual_ipaddress[0];
  if (first) return first.family;
  if (inst.native_ipv6) return 6;
  const src = inst.unicast_src_ip ?? inst.mcast_src_ip;
  if (src !== undefined) return src.includes(":") ? 6 : 4;
  return inst.unicast_peer[0]?.family ?? 4;
}

// ---------------------------------------------------------------------------
// vrrp_script

export const vrrpScriptSpec: BlockSpec = {
  name: "vrrp_script",
  doc: "A script run periodically; its exit status tracks the health of the instances and groups that name it.",
  fields: [
    { key: "script", type: restOfLine, doc: "Command to run (quote it when it has arguments). Required." },
    { key: "interval", type: int(1), default: 1, doc: "Seconds between runs." },
    { key: "timeout", type: int(1), defaultDoc: "interval", doc: "Seconds after which a running script counts as failed." },
    { key: "weight", type: weight(-253, 253), default: { value: 0, reverse: false }, doc: "Priority change: 0 means FAULT after `fall` failures; positive adds on success, negative subtracts on failure; 'reverse' inverts." },
    { key: "rise", type: int(1), default: 1, doc: "Consecutive successes needed for OK." },
    { key: "fall", type: int(1), default: 1, doc: "Consecutive failures needed for KO." },
    { key: "user", type: runAsUser, defaultDoc: "global script_user", doc: "User [group] the script runs as." },
    { key: "init_fail", type: flag, default: false, doc: "Assume the script starts in the failed state." },
  ],
};

export interface VrrpScriptConfig {
  script?: string;
  interval: number;
  timeout?: number;
  weight: WeightConfig;
  rise: number;
  fall: number;
  user?: RunAsConfig;
  init_fail: boolean;
}

// ---------------------------------------------------------------------------
// vrrp_track_process

const paramMatch: ValueType<"exact" | "initial" | "partial"> = {
  describe: "alone (exact), initial or partial",
  fromConf(node, ctx) {
    const a = node.args[0];
    if (a === undefined) return "exact";
    if (a === "initial" || a === "partial") return a;
    ctx.diag.error(`Invalid param_match type ${a} (initial or partial)`, node.argLocs[0] ?? node.loc);
    return undefined;
  },
  fromToml(value, loc, ctx) {
    if (value === "exact" || value === "initial" || value === "partial") return value;
    ctx.diag.error(`'${tomlKey(ctx)}' must be one of exact, initial, partial`, loc);
    return undefined;
  },
  toToml: (v) => v,
};

const processDelay = decimalIn(0.000001, 3600, "seconds");

export const vrrpTrackProcessSpec: BlockSpec = {
  name: "vrrp_track_process",
  doc: "Tracks whether a process is running (matched exactly on its name, or on the command line).",
  fields: [
    { key: "process", type: words, doc: "Process name, optionally followed by parameters to match. Required." },
    { key: "param_match", type: paramMatch, defaultDoc: "exact when parameters are given", doc: "How parameters match: exact, initial (last one may be longer), partial (first n)." },
    // keepalived.conf(5) says 1, but 2.2.7 tracks a process with weight 0 (FAULT) unless one is set (checked with --dump-conf).
    { key: "weight", type: weight(-254, 254), default: { value: 0, reverse: false }, doc: "Priority change when the quorum is (not) met (0: FAULT without quorum); 'reverse' inverts." },
    { key: "quorum", type: int(1, 65535), default: 1, doc: "Minimum number of processes for OK." },
    { key: "quorum_max", type: int(0, 65535), defaultDoc: "no maximum", doc: "Maximum number of processes for OK." },
    { key: "fork_delay", type: processDelay, defaultDoc: "0", doc: "Seconds to wait after the quorum is gained." },
    { key: "terminate_delay", type: processDelay, defaultDoc: "0", doc: "Seconds to wait after the quorum is lost." },
    { key: "delay", type: processDelay, defaultDoc: "0", doc: "Sets both fork_delay and terminate_delay." },
    { key: "full_command", type: flag, default: false, doc: "Match the full command line instead of the process name." },
  ],
  validate(obj, ctx) {
    const q = obj.quorum as number | undefined, qm = obj.quorum_max as number | undefined;
    if (q !== undefined && qm !== undefined && qm !== 0 && qm < q) ctx.diag.error("quorum_max is less than quorum", locOfKey(obj, "quorum_max"));
  },
};

export interface VrrpTrackProcessConfig {
  process?: string[];
  param_match?: "exact" | "initial" | "partial";
  weight: WeightConfig;
  quorum: number;
  quorum_max?: number;
  fork_delay?: number;
  terminate_delay?: number;
  delay?: number;
  full_command: boolean;
}

// ---------------------------------------------------------------------------
// track_file (vrrp_track_file is the deprecated spelling)

export interface InitFileConfig { value: number; overwrite: boolean }

const initFile: ValueType<InitFileConfig> = {
  describe: "[VALUE] [overwrite]",
  fromConf(node, ctx) {
    const out: InitFileConfig = { value: 0, overwrite: false };
    for (let i = 0; i < node.args.length; i++) {
      const w = node.args[i]!;
      if (w === "overwrite") out.overwrite = true;
      else if (/^[+-]?\d+$/.test(w)) out.value = Number(w);
      else { ctx.diag.error(`'${node.keyword}': '${w}' is neither a number nor 'overwrite'`, node.argLocs[i] ?? node.loc); return undefined; }
    }
    return out;
  },
  fromToml(value, loc, ctx) {
    if (value === true) return { value: 0, overwrite: false };
    if (typeof value === "number") return { value, overwrite: false };
    if (typeof value === "string") { const p = value.trim().split(/\s+/); return initFile.fromConf({ keyword: tomlKey(ctx), args: p, argLocs: p.map(() => loc), loc }, ctx); }
    ctx.diag.error(`'${tomlKey(ctx)}' expects true, a number or "VALUE overwrite"`, loc);
    return undefined;
  },
  toToml: (v) => (v.overwrite ? `${v.value} overwrite` : v.value),
};

export const trackFileSpec: BlockSpec = {
  name: "track_file",
  doc: "A file holding a number, read whenever it changes; the number times the weight changes priority.",
  fields: [
    { key: "file", type: word, doc: "Path of the file. Required." },
    { key: "weight", type: weight(-2147483647, 2147483647), default: { value: 1, reverse: false }, doc: "Multiplier of the value read (0: non-zero means failure); 'reverse' inverts." },
    { key: "init_file", type: initFile, defaultDoc: "off", doc: "Create the file with VALUE (default 0) at startup if missing; 'overwrite' always writes it." },
  ],
};

export interface TrackFileConfig { file?: string; weight: WeightConfig; init_file?: InitFileConfig }

// ---------------------------------------------------------------------------
// vrrp_sync_group

export const vrrpSyncGroupSpec: BlockSpec = {
  name: "vrrp_sync_group",
  doc: "Instances that change state together.",
  fields: [
    { key: "group", type: lines(wordLine), repeat: "append", default: [], doc: "Names of the member vrrp_instances. Required." },
    ...trackFields("every member"),
    ...notifyFields("the group"),
    { key: "notify_priority_changes", type: flag, defaultDoc: "global vrrp_notify_priority_changes", doc: "Send priority changes to the notify FIFOs." },
    { key: "smtp_alert", type: flag, defaultDoc: "global smtp_alert_vrrp / smtp_alert", doc: "Send e-mail on transitions." },
    { key: "global_tracking", type: flag, default: false, doc: "Deprecated: use the group's track_* keywords (same effect as sync_group_tracking_weight)." },
    { key: "sync_group_tracking_weight", type: flag, default: false, doc: "Allow members' tracking weights (normally forced to 0 in a group)." },
  ],
  validate(obj, ctx) {
    const name = ctx.where.replace(/^vrrp_sync_group /, "");
    if (obj.global_tracking === true) {
      ctx.diag.warning(`(${name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`, locOfKey(obj, "global_tracking"));
    }
  },
};

export interface VrrpSyncGroupConfig {
  group: string[];
  track_interface: TrackRef[];
  track_script: TrackRef[];
  track_file: TrackRef[];
  track_process: TrackRef[];
  track_bfd: TrackRef[];
  notify_master?: ScriptConfig;
  notify_backup?: ScriptConfig;
  notify_fault?: ScriptConfig;
  notify_stop?: ScriptConfig;
  notify?: ScriptConfig;
  notify_priority_changes?: boolean;
  smtp_alert?: boolean;
  global_tracking: boolean;
  sync_group_tracking_weight: boolean;
}

// ---------------------------------------------------------------------------
// garp_group, track_group, linkbeat_interfaces, interface_up_down_delays

const garpGroupInterval = decimalIn(0, 2147.483647, "seconds");

export const garpGroupSpec: BlockSpec = {
  name: "garp_group",
  doc: "Delays between gratuitous ARPs / unsolicited NAs on an interface or a set of interfaces on one switch.",
  fields: [
    { key: "garp_interval", type: garpGroupInterval, defaultDoc: "global vrrp_garp_interval", doc: "Seconds between gratuitous ARPs (microsecond resolution)." },
    { key: "gna_interval", type: garpGroupInterval, defaultDoc: "global vrrp_gna_interval", doc: "Seconds between unsolicited neighbour adverts." },
    { key: "interface", type: ifName, doc: "The one interface these delays apply to." },
    { key: "interfaces", type: lines(wordLine), repeat: "append", default: [], doc: "Interfaces across which the delays are aggregated." },
  ],
  validate(obj, ctx) {
    if (obj.interface !== undefined && obj.interfaces !== undefined) ctx.diag.warning("garp_group: use only one of 'interface' and 'interfaces'", locOfKey(obj, "interfaces"));
  },
};

export interface GarpGroupConfig { garp_interval?: number; gna_interval?: number; interface?: string; interfaces: string[] }

export const trackGroupSpec: BlockSpec = {
  name: "track_group",
  doc: "vrrp_instances that go to FAULT when a static address, route or rule naming this group is lost.",
  fields: [{ key: "group", type: lines(wordLine), repeat: "append", default: [], doc: "Names of the vrrp_instances." }],
};

export interface TrackGroupConfig { group: string[] }

export interface LinkbeatInterfaceConfig { interface: string; method?: "MII" | "ETHTOOL" | "IOCTL" }

const linkbeatLine: LineItemType<LinkbeatInterfaceConfig> = {
  describe: "INTERFACE [MII|ETHTOOL|IOCTL]",
  parseLine(node, ctx) {
    const m = node.args[0];
    const item: LinkbeatInterfaceConfig = { interface: node.keyword };
    setBlockLoc(item, node.loc);
    if (m === undefined) return item;
    if (m === "MII" || m === "ETHTOOL" || m === "IOCTL") { item.method = m; return item; }
    ctx.diag.error(`extra characters ${m} in linkbeat interface (MII, ETHTOOL or IOCTL)`, node.argLocs[0] ?? node.loc);
    return undefined;
  },
  toToml: (v) => (v.method ? `${v.interface} ${v.method}` : v.interface),
};

export interface UpDownDelayConfig { interface: string; down_delay: number; up_delay: number }

const upDownLine: LineItemType<UpDownDelayConfig> = {
  describe: "INTERFACE DOWN_DELAY [UP_DELAY] (seconds 0..255; UP_DELAY defaults to 0)",
  parseLine(node, ctx) {
    const read = (i: number, what: string): number | undefined => {
      const a = node.args[i]!;
      const v = Number(a);
      if (!/^(\d+\.?\d*|\.\d+)$/.test(a) || v > 255) { ctx.diag.error(`Invalid ${what} delay ${a} for ${node.keyword} (0..255 seconds)`, node.argLocs[i] ?? node.loc); return undefined; }
      return v;
    };
    if (node.args.length < 1) { ctx.diag.error(`No timeouts specified for ${node.keyword} up/down delays`, node.loc); return undefined; }
    if (node.args.length > 2) ctx.diag.warning(`Too many parameters for ${node.keyword} up/down delays`, node.argLocs[2] ?? node.loc);
    const down = read(0, "down");
    if (down === undefined) return undefined;
    // keepalived 2.2.7 leaves the up delay at 0 when it is omitted (its man page says "same as down").
    const up = node.args.length >= 2 ? read(1, "up") : 0;
    if (up === undefined) return undefined;
    const item: UpDownDelayConfig = { interface: node.keyword, down_delay: down, up_delay: up };
    setBlockLoc(item, node.loc);
    return item;
  },
  toToml: (v) => `${v.interface} ${v.down_delay} ${v.up_delay}`,
};

// ---------------------------------------------------------------------------
// bfd_instance

export const bfdInstanceSpec: BlockSpec = {
  name: "bfd_instance",
  doc: "A BFD session (RFC 5880) that instances and groups can track.",
  fields: [
    { key: "neighbor_ip", aliases: [{ kw: "neighbour_ip" }], type: ipAddress, doc: "Neighbour address. Required." },
    { key: "source_ip", type: ipAddress, defaultDoc: "chosen by routing", doc: "Source address." },
    { key: "min_rx", type: decimal(0.001, 4294967, "milliseconds"), default: 10, doc: "Required minimum receive interval." },
    { key: "min_tx", type: decimal(0.001, 4294967, "milliseconds"), default: 10, doc: "Desired minimum transmit interval." },
    { key: "idle_tx", type: decimal(0.001, 4294967, "milliseconds"), default: 1000, doc: "Desired transmit interval while idle." },
    { key: "multiplier", type: int(1, 255), default: 5, doc: "Missed packets before the session is down." },
    { key: "passive", type: flag, default: false, doc: "Wait for the neighbour to start the session." },
    { key: "ttl", type: int(1, 255), default: 255, doc: "IPv4 TTL of sent packets." },
    { key: "hoplimit", type: int(1, 255), default: 64, doc: "IPv6 hop limit of sent packets." },
    { key: "max_hops", type: int(0, 255), default: 0, doc: "Largest TTL reduction accepted (255: no check)." },
    { key: "weight", type: weight(-253, 253), default: { value: 0, reverse: false }, doc: "Default tracking weight; 'reverse' inverts." },
    { key: "vrrp", type: flag, default: false, doc: "Send events only to the VRRP process." },
    { key: "checker", type: flag, default: false, doc: "Send events only to the checker process." },
  ],
};

export interface BfdInstanceConfig {
  neighbor_ip?: string;
  source_ip?: string;
  min_rx: number;
  min_tx: number;
  idle_tx: number;
  multiplier: number;
  passive: boolean;
  ttl: number;
  hoplimit: number;
  max_hops: number;
  weight: WeightConfig;
  vrrp: boolean;
  checker: boolean;
}

// ---------------------------------------------------------------------------
// Top level

/** Top-level fields this module contributes to the root spec. */
export const vrrpRootFields: Field[] = [
  { key: "linkbeat_interfaces", type: lines(linkbeatLine), repeat: "append", default: [], doc: "Interfaces whose link state is polled (MII, ETHTOOL or IOCTL) instead of read from netlink." },
  { key: "interface_up_down_delays", type: lines(upDownLine), repeat: "append", default: [], doc: "Debounce delays before interface down/up changes affect instances: INTERFACE DOWN [UP] seconds (UP defaults to 0, as keepalived 2.2.7 does)." },
  { key: "track_group", type: namedBlocks(trackGroupSpec), repeat: "merge", default: {}, doc: trackGroupSpec.doc ?? "" },
  { key: "static_ipaddress", type: lines(ipAddressLine({ isStatic: true })), repeat: "append", default: [], doc: "Addresses configured at startup and kept, whatever the VRRP state." },
  { key: "static_routes", type: lines(routeLine({ isStatic: true })), repeat: "append", default: [], doc: "Routes configured at startup and kept (ip route syntax)." },
  { key: "static_rules", type: lines(ruleLine({ isStatic: true })), repeat: "append", default: [], doc: "Policy rules configured at startup and kept (ip rule syntax)." },
  { key: "track_file", aliases: [{ kw: "vrrp_track_file", deprecated: true }], type: namedBlocks(trackFileSpec), repeat: "merge", default: {}, doc: trackFileSpec.doc ?? "" },
  { key: "vrrp_script", type: namedBlocks(vrrpScriptSpec), repeat: "merge", default: {}, doc: vrrpScriptSpec.doc ?? "" },
  { key: "vrrp_track_process", type: namedBlocks(vrrpTrackProcessSpec), repeat: "merge", default: {}, doc: vrrpTrackProcessSpec.doc ?? "" },
  { key: "bfd_instance", type: namedBlocks(bfdInstanceSpec), repeat: "merge", default: {}, doc: bfdInstanceSpec.doc ?? "" },
  { key: "garp_group", type: blockList(garpGroupSpec), repeat: "append", default: [], doc: garpGroupSpec.doc ?? "" },
  { key: "vrrp_sync_group", type: namedBlocks(vrrpSyncGroupSpec), repeat: "merge", default: {}, doc: vrrpSyncGroupSpec.doc ?? "" },
  { key: "vrrp_instance", type: namedBlocks(vrrpInstanceSpec), repeat: "merge", default: {}, doc: vrrpInstanceSpec.doc ?? "" },
];

/** The VRRP part of the effective model. */
export interface VrrpRootConfig {
  linkbeat_interfaces: LinkbeatInterfaceConfig[];
  interface_up_down_delays: UpDownDelayConfig[];
  track_group: Record<string, TrackGroupConfig>;
  static_ipaddress: VirtualIpConfig[];
  static_routes: RouteConfig[];
  static_rules: RuleConfig[];
  track_file: Record<string, TrackFileConfig>;
  vrrp_script: Record<string, VrrpScriptConfig>;
  vrrp_track_process: Record<string, VrrpTrackProcessConfig>;
  bfd_instance: Record<string, BfdInstanceConfig>;
  garp_group: GarpGroupConfig[];
  vrrp_sync_group: Record<string, VrrpSyncGroupConfig>;
  vrrp_instance: Record<string, VrrpInstanceConfig>;
}

/** Reads an effective model as the VRRP part, for code that wants types (the shape is guaranteed by the specs). */
export function vrrpPart(effective: Model): VrrpRootConfig { return effective as unknown as VrrpRootConfig; }
