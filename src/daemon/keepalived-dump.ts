// keepalived 2.2.7's dump files, rendered from lbctl's status and effective configuration, so
// that tools written for keepalived (keepalived-exporter and friends) keep working:
//   SIGUSR1       -> keepalived.data        (VRRP part, vrrp/vrrp_data.c dump_data_vrrp)
//                 -> keepalived_check.data  (LVS part, check/check_data.c dump_data_check)
//   SIGUSR2       -> keepalived.stats       (vrrp/vrrp_print.c vrrp_print_stats)
//   SIGRTMIN+2    -> keepalived.json        (vrrp/vrrp_json.c; `keepalived --signum=JSON` prints 36)
// Line formats were taken from real keepalived 2.2.7 output (test/fixtures/keepalived-dump/)
// and, where a line depends on configuration or state, from the 2.2.7 source.
//
// Pure: time and interface indexes come in with the input. Lines whose values lbctl does not
// know (socket fds, the next timer expiry, the kernel's interface table) are left out rather
// than invented; docs/api.md lists them.
import type { Model } from "../config/schema.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import type { RouteConfig, VirtualIpConfig } from "../config/spec/common.ts";
import type { VirtualServerConfig } from "../config/spec/lvs.ts";
import type { ForwardingMethod } from "../config/spec/lvs-values.ts";
import type { VrrpSyncGroupConfig } from "../config/spec/vrrp.ts";
import { resolveVrrp, vrrpSmtpAlert, type ResolvedInstance, type ResolvedVrrp } from "../config/resolve-vrrp.ts";
import type { StatusV1, VirtualServerV1, VrrpInstanceV1, VrrpState } from "./api-types.ts";

export const DUMP_FILES = {
  data: "keepalived.data",
  checkData: "keepalived_check.data",
  stats: "keepalived.stats",
  json: "keepalived.json",
} as const;

/** `keepalived --signum=JSON` on glibc: SIGRTMIN (34) + 2. */
export const SIGNUM_JSON = 36;

export interface DumpInput {
  status: StatusV1;
  /** The effective configuration the daemon runs. */
  config: Model;
  /** keepalived's router_id default. */
  hostname: string;
  /** Interface name -> ifindex (for the IPv6 multicast line); unknown interfaces are left out. */
  ifindex?: (name: string) => number | null;
  /** The resolved VRRP model of `config` (resolveVrrp with the machine's look-ups); resolved without them when absent. */
  model?: ResolvedVrrp;
}

type SyncGroups = Record<string, VrrpSyncGroupConfig>;

function globals(config: Model): Partial<GlobalDefsConfig> {
  return (config.global_defs ?? {}) as Partial<GlobalDefsConfig>;
}
function syncGroupsOf(config: Model): SyncGroups { return (config.vrrp_sync_group ?? {}) as SyncGroups; }

/** keepalived's state names; lbctl's UNKNOWN (no report yet) is keepalived's INIT. */
function stateName(s: VrrpState | "UNKNOWN"): "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP" {
  return s === "UNKNOWN" ? "INIT" : s;
}
/** vrrp_t.state numbering (vrrp.h): INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 97 (keepalived's VRRP_STATE_STOP). */
const STATE_NUMBER: Record<ReturnType<typeof stateName>, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 97 };

const onOff = (b: boolean): string => (b ? "true" : "false");
const tristate = (v: boolean | undefined): string => (v === undefined ? "unset" : v ? "on" : "off");

// ---------------------------------------------------------------------------
// Per-instance settings come from the resolved model (config/resolve-vrrp.ts), the same one the
// VRRP child runs: nothing is resolved here.

export { vrrpSmtpAlert };

const models = new WeakMap<DumpInput, ResolvedVrrp>();
function modelOf(input: DumpInput): ResolvedVrrp {
  let m = input.model ?? models.get(input);
  if (!m) models.set(input, (m = resolveVrrp(input.config)));
  return m;
}

/**
 * The resolved instance behind a status entry. An instance the configuration no longer has (a
 * report from before a reload) is left out of the dumps: keepalived has no such instance.
 */
function resolvedOf(input: DumpInput, name: string): ResolvedInstance | undefined {
  return modelOf(input).instances.find((r) => r.name === name);
}

const advertUs = (r: ResolvedInstance): number => Math.round(r.advertInt * 1_000_000);

/** The authentication keepalived applies: PASS as resolved; AH (which lbctl does not run) only where keepalived keeps it. */
function authOf(r: ResolvedInstance): "none" | "pass" | "ah" {
  if (r.auth.type === "pass") return "pass";
  return r.config.authentication?.auth_type === "AH" && r.version === 2 && !r.strict ? "ah" : "none";
}

/** RFC 5798 Master_Down_Interval as keepalived computes it (ms_down_timer, microseconds). */
export function masterDownUs(advertUs: number, priority: number, downTimerAdverts = 3): number {
  return downTimerAdverts * advertUs + Math.floor(((256 - priority) * advertUs) / 256);
}

// ---------------------------------------------------------------------------
// Text helpers

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** `1795667979.062820 (Thu Nov 26 04:39:39.062820 2026)`: keepalived's ctime_us_r, here in UTC. */
export function timeWithCtime(ms: number): string {
  const d = new Date(ms);
  const sec = Math.floor(ms / 1000);
  const us = pad(Math.round((ms - sec * 1000) * 1000), 6);
  const ctime = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${us} ${d.getUTCFullYear()}`;
  return `${sec}.${us} (${ctime})`;
}

/** ipaddresstos + format_ipaddress (vrrp_ipaddress.c): `ADDR[/LEN] dev IF scope S [label L] ... [set]`. */
export function vipText(v: VirtualIpConfig, defaultDev: string, set: boolean): string {
  const full = v.family === 4 ? 32 : 128;
  const out = [`${v.address}${v.prefix !== full ? `/${v.prefix}` : ""}`];
  if (v.family === 4 && v.brd !== undefined && v.brd !== "-") out.push("brd", v.brd === "+" ? broadcastOf(v.address, v.prefix) : v.brd);
  out.push("dev", `${v.dev ?? defaultDev}${v.use_vmac ? " use_vmac" : ""}`);
  out.push("scope", v.scope ?? "global");
  if (v.label !== undefined) out.push("label", v.label);
  if (v.peer !== undefined) out.push("peer", `${v.peer}/${v.prefix}`);
  if (v.home) out.push("home");
  if (v.nodad) out.push("-nodad");
  if (v.mngtmpaddr) out.push("mngtmpaddr");
  if (v.noprefixroute) out.push("noprefixroute");
  if (v.autojoin) out.push("autojoin");
  if (v.no_track) out.push("no_track");
  if (v.family === 6) {
    const lft = v.preferred_lft ?? (v.prefix === 128 ? 0 : "forever");
    out.push(lft === 0 ? "deprecated" : `preferred_lft ${lft}`);
  }
  if (set) out.push("set");
  return out.join(" ");
}

function broadcastOf(address: string, prefix: number): string {
  const n = address.split(".").reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const b = (n | (prefix >= 32 ? 0 : 0xffffffff >>> prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (b >>> s) & 255).join(".");
}

/** format_iproute (vrrp_iproute.c) for the common forms: `prepend TO [via inet GW] [dev IF] proto 18 [no_track]`. */
export function routeText(r: RouteConfig): string {
  const out = ["prepend", r.to];
  if (r.src !== undefined) out.push("src", r.src);
  if (r.via !== undefined) out.push("via", `inet${r.family === 6 ? "6" : ""}`, r.via);
  if (r.dev !== undefined) out.push("dev", r.dev);
  if (r.table !== undefined) out.push("table", r.table);
  out.push("proto", "18");
  // keepalived cannot track a route without an interface and says so by adding no_track.
  if (r.no_track || r.dev === undefined) out.push("no_track");
  return out.join(" ");
}

// ---------------------------------------------------------------------------
// keepalived.data

/** keepalived.data (VRRP process): global definitions, VRRP topology and sync groups. */
export function formatKeepalivedData(input: DumpInput): string {
  const lines = [
    ...globalLines(input, "vrrp"),
    "------< VRRP Topology >------",
    ...input.status.vrrp.instances.flatMap((i) => instanceLines(i, input)),
  ];
  const groups = Object.entries(syncGroupsOf(input.config));
  if (groups.length > 0) {
    lines.push("------< VRRP Sync groups >------");
    for (const [name, g] of groups) lines.push(...syncGroupLines(name, g, input));
  }
  return lines.join("\n") + "\n";
}

/** dump_global_data (core/global_data.c), as the VRRP or checker process prints it. */
function globalLines(input: DumpInput, process: "vrrp" | "check"): string[] {
  const g = globals(input.config);
  const gx = g as Record<string, unknown>;
  const n = (k: string, d: number): number => (typeof gx[k] === "number" ? (gx[k] as number) : d);
  const b = (k: string, d = false): boolean => (typeof gx[k] === "boolean" ? (gx[k] as boolean) : d);
  const garpDelay = g.vrrp_garp_master_delay ?? 5, garpRepeat = g.vrrp_garp_master_repeat ?? 5;
  const out = [
    "------< Global definitions >------",
    // net_namespace is a top-level setting, not one of global_defs.
    ` Network namespace = ${typeof input.config.net_namespace === "string" ? input.config.net_namespace : "(default)"}`,
    // keepalived's words, odd as they are: unset is "(main namespace)", the keyword alone "(default)".
    ` Network namespace ipvs = ${!Array.isArray(input.config.net_namespace_ipvs) ? "(main namespace)" : input.config.net_namespace_ipvs.length ? String(input.config.net_namespace_ipvs[0]) : "(default)"}`,
    ...(typeof input.config.instance === "string" ? [` Instance name = ${input.config.instance}`] : []),
    ` Router ID = ${g.router_id ?? input.hostname}`,
  ];
  if (g.smtp_server) out.push(` Smtp server = ${g.smtp_server.host}`, ` Smtp server port = ${g.smtp_server.port ?? 25}`);
  if (g.smtp_helo_name !== undefined) out.push(` Smtp HELO name = ${g.smtp_helo_name}`);
  out.push(` Smtp server connection timeout = ${g.smtp_connect_timeout ?? 30}`);
  const emails = g.notification_email ?? [];
  if (g.notification_email_from !== undefined || emails.length > 0) {
    out.push(` Email notification from = ${alertFrom(g, input.hostname)}`, " Email notification to:", ...emails.map((e) => `   ${e}`));
  }
  out.push(
    ` Default smtp_alert = ${tristate(g.smtp_alert)}`,
    ` Default smtp_alert_vrrp = ${tristate(g.smtp_alert_vrrp)}`,
    ` Default smtp_alert_checker = ${tristate(g.smtp_alert_checker)}`,
    ` Checkers log all failures = ${onOff(g.checker_log_all_failures ?? false)}`,
    " No test config before reload",
    ` Dynamic interfaces = ${onOff(b("dynamic_interfaces"))}`,
  );
  if (process === "vrrp") out.push(` Default interface = ${typeof gx.default_interface === "string" ? gx.default_interface : "eth0"}`);
  out.push(
    ` Disable local IGMP = ${b("disable_local_igmp") ? "yes" : "no"}`,
    ` LVS flush = ${onOff(b("lvs_flush"))}`,
    " LVS flush on stop = disabled",
    ` FIFO write vrrp states on reload = ${onOff(b("fifo_write_vrrp_states_on_reload"))}`,
    ` VRRP notify priority changes = ${onOff(b("vrrp_notify_priority_changes"))}`,
    ` VRRP IPv4 mcast group = ${g.vrrp_mcast_group4 ?? "224.0.0.18"}`,
    ` VRRP IPv6 mcast group = ${g.vrrp_mcast_group6 ?? "ff02::12"}`,
    ` Gratuitous ARP delay = ${garpDelay}`,
    ` Gratuitous ARP repeat = ${garpRepeat}`,
    ` Gratuitous ARP refresh timer = ${g.vrrp_garp_master_refresh ?? 0}`,
    ` Gratuitous ARP refresh repeat = ${g.vrrp_garp_master_refresh_repeat ?? 1}`,
    ` Gratuitous ARP lower priority delay = ${n("vrrp_garp_lower_prio_delay", garpDelay)}`,
    ` Gratuitous ARP lower priority repeat = ${n("vrrp_garp_lower_prio_repeat", garpRepeat)}`,
    ` Num adverts before down = ${g.vrrp_down_timer_adverts ?? 3}`,
    ` Gratuitous ARP for each secondary VMAC = ${n("vrrp_garp_extra_if", 0)}s`,
    ` Send advert after receive lower priority advert = ${onOff(!b("vrrp_lower_prio_no_advert"))}`,
    ` Send advert after receive higher priority advert = ${onOff(g.vrrp_higher_prio_send_advert ?? false)}`,
    ` Gratuitous ARP interval = ${(g.vrrp_garp_interval ?? 0).toFixed(6)}`,
    ` Gratuitous NA interval = ${(g.vrrp_gna_interval ?? 0).toFixed(6)}`,
    ` VRRP default protocol version = ${g.vrrp_version ?? 2}`,
    ` nftables ${b("nftables_counters") ? "with" : "without"} counters`,
    ` VRRP check unicast_src = ${onOff(g.vrrp_check_unicast_src ?? false)}`,
    ` VRRP skip check advert addresses = ${onOff(g.vrrp_skip_check_adv_addr ?? false)}`,
    ` VRRP strict mode = ${onOff(g.vrrp_strict ?? false)}`,
    ` Max auto priority = ${n("max_auto_priority", 0)}`,
    ` Min auto priority delay = ${n("min_auto_priority_delay", 1000000)} usecs`,
  );
  for (const [label, key] of [["VRRP", "vrrp"], ["Checker", "checker"], ["BFD", "bfd"]] as const) {
    out.push(
      ` ${label} process priority = ${n(`${key}_priority`, 0)}`,
      ` ${label} don't swap = ${onOff(b(`${key}_no_swap`))}`,
      ` ${label} realtime priority = ${n(`${key}_rt_priority`, 0)}`,
      ` ${label} realtime limit = ${n(`${key}_rlimit_rttime`, 10000)}`,
    );
  }
  out.push(
    ` SNMP vrrp ${b("enable_snmp_vrrp") ? "enabled" : "disabled"}`,
    ` SNMP checker ${b("enable_snmp_checker") ? "enabled" : "disabled"}`,
    ` SNMP RFCv2 ${b("enable_snmp_rfcv2") || b("enable_snmp_rfc") ? "enabled" : "disabled"}`,
    ` SNMP RFCv3 ${b("enable_snmp_rfcv3") || b("enable_snmp_rfc") ? "enabled" : "disabled"}`,
    ` SNMP traps ${b("enable_traps") ? "enabled" : "disabled"}`,
    " SNMP socket = default (unix:/var/agentx/master)",
    ` DBus ${b("enable_dbus") ? "enabled" : "disabled"}`,
    ` DBus service name = ${b("enable_dbus") && typeof gx.dbus_service_name === "string" ? gx.dbus_service_name : ""}`,
    ` Script security ${b("enable_script_security") ? "enabled" : "disabled"}`,
    " Default script uid:gid 0:0",
  );
  for (const k of ["vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs", "process_monitor_rcv_bufs", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs"]) {
    out.push(` ${k} = ${n(k, 0)}`, ` ${k}_force = ${b(`${k}_force`) ? 1 : 0}`);
  }
  out.push(
    ` rs_init_notifies = ${b("rs_init_notifies") ? 1 : 0}`,
    ` no_checker_emails = ${b("no_checker_emails") ? 1 : 0}`,
    ` rx_bufs_multiples = ${n("vrrp_rx_bufs_multiplier", 3)}`,
    ` umask = ${typeof gx.umask === "number" ? "0" + (gx.umask as number).toString(8).padStart(3, "0") : "0177"}`,
  );
  return out;
}

/** keepalived: From defaults to keepalived@<host name> when only recipients are given. */
export function alertFrom(g: Partial<GlobalDefsConfig>, hostname: string): string {
  return g.notification_email_from ?? `keepalived@${hostname}`;
}

function instanceLines(inst: VrrpInstanceV1, input: DumpInput): string[] {
  const r = resolvedOf(input, inst.name);
  if (!r) return [];
  const cfg = r.config;
  const us = advertUs(r);
  const unicast = r.unicastPeers.length > 0;
  const state = stateName(inst.state);
  const out = [` VRRP Instance = ${inst.name}`, `   VRRP Version = ${r.version}`];
  if (r.syncGroup) out.push(`   Sync group = ${r.syncGroup}`);
  if (r.family === 6) out.push("   Using Native IPv6");
  out.push(`   State = ${state}`);
  if (state === "BACKUP") {
    out.push(`   Master router = ${inst.masterAddress ?? "0.0.0.0"}`, `   Master priority = ${inst.masterPriority ?? 0}`);
    if (r.version === 3) out.push(`   Master advert int = ${(us / 1e6).toFixed(2)} sec`);
  }
  if (unicast || cfg.unicast_fault_no_peer) {
    out.push("   Flags:");
    if (unicast) out.push("     Using unicast");
    if (cfg.unicast_fault_no_peer) out.push("     If unicast go to fault state if no peers");
  } else out.push("   Flags: none");
  out.push(
    `   Wantstate = ${inst.forcedBackup ? "BACKUP" : state}`,
    "   Number of config faults = 0",
    `   Number of interface and track script faults = ${inst.faults.length}`,
    "   Number of track scripts init = 0",
    `   Last transition = ${timeWithCtime(inst.lastTransition?.at ?? input.status.daemon.startedAt)}`,
    `   Master down timer = ${masterDownUs(us, (state === "BACKUP" ? inst.effectivePriority : inst.basePriority) ?? r.priority, r.downTimerAdverts)} usecs`,
    `   Interface = ${inst.interface ?? r.interface ?? "not configured"}`,
  );
  if (r.dontTrackPrimary) out.push("   VRRP interface tracking disabled");
  if (r.skipCheckAdvAddr) out.push("   Skip checking advert IP addresses");
  if (r.strict) out.push("   Enforcing strict VRRP compliance");
  if (r.sourceConfigured) out.push(`   Using src_ip = ${r.sourceIp} (from configuration)`);
  if (!unicast) {
    let index: number | null = null;
    const ifname = inst.interface ?? r.interface;
    if (r.family === 6 && ifname) index = input.ifindex?.(ifname) ?? null;
    out.push(`   Multicast address ${r.mcastGroup}${index !== null ? `, ifindex ${index}` : ""}`);
  }
  out.push(
    `   Gratuitous ARP delay = ${r.garpMasterDelay}`,
    `   Gratuitous ARP repeat = ${r.garpMasterRepeat}`,
    `   Gratuitous ARP refresh = ${r.garpMasterRefresh}`,
    `   Gratuitous ARP refresh repeat = ${r.garpMasterRefreshRepeat}`,
    `   Gratuitous ARP lower priority delay = ${r.garpLowerPrioDelay}`,
    `   Gratuitous ARP lower priority repeat = ${r.garpLowerPrioRepeat}`,
    `   Down timer adverts = ${r.downTimerAdverts}`,
    `   Send advert after receive lower priority advert = ${onOff(!r.lowerPrioNoAdvert)}`,
    `   Send advert after receive higher priority advert = ${onOff(r.higherPrioSendAdvert)}`,
    `   Virtual Router ID = ${inst.vrid ?? r.vrid ?? 0}`,
    `   Priority = ${inst.basePriority ?? r.priority}`,
    `   Effective priority = ${inst.effectivePriority ?? inst.basePriority ?? r.priority}`,
    `   Total priority = ${inst.effectivePriority ?? inst.basePriority ?? r.priority}`,
    r.version === 2 ? `   Advert interval = ${Math.floor(us / 1e6)} sec` : `   Advert interval = ${Math.floor(us / 1000)} milli-sec`,
  );
  if (state === "BACKUP" && r.version === 3) out.push(`   Master advert interval = ${Math.floor(us / 1000)} milli-sec`);
  out.push(`   Accept = ${r.accept ? "enabled" : "disabled"}`, `   Preempt = ${r.nopreempt ? "disabled" : "enabled"}`);
  if (r.preemptDelay) out.push(`   Preempt delay = ${r.preemptDelay} secs`);
  out.push(`   Promote_secondaries = ${cfg.promote_secondaries ? "enabled" : "disabled"}`);
  const auth = authOf(r);
  if (auth !== "none") {
    out.push(`   Authentication type = ${auth === "ah" ? "IPSEC_AH" : "SIMPLE_PASSWORD"}`);
    if (r.auth.type === "pass") out.push(`   Password = ${r.auth.pass}`);
  } else if (r.version === 2) out.push("   Authentication type = none");
  if (cfg.kernel_rx_buf_size) out.push(`   Kernel rx buffer size = ${cfg.kernel_rx_buf_size}`);
  if (cfg.debug) out.push(`   Debug level = ${cfg.debug}`);
  const dev = inst.interface ?? r.interface ?? "";
  const vips = cfg.virtual_ipaddress;
  const set = state === "MASTER";
  if (vips.length > 0) out.push(`   Virtual IP (${vips.length}):`, ...vips.map((v) => `     ${vipText(v, dev, set)}`));
  const evips = cfg.virtual_ipaddress_excluded;
  if (evips.length > 0) out.push("   Virtual IP Excluded :", ...evips.map((v) => `     ${vipText(v, dev, set)}`));
  if (unicast) {
    out.push(`   Unicast TTL = ${cfg.unicast_ttl ?? 255}`, `   Check unicast src : ${r.checkUnicastSrc ? "yes" : "no"}`, "   Unicast Peer :");
    for (const p of cfg.unicast_peer) {
      const peer = p as { address: string; min_ttl?: number; max_ttl?: number };
      out.push(`     ${peer.address} min_ttl ${peer.min_ttl ?? 0} max_ttl ${peer.max_ttl ?? 255}`);
    }
    out.push(`   Unicast checksum compatibility = ${cfg.old_unicast_checksum ? "config" : "no"}`);
  }
  const routes = cfg.virtual_routes;
  if (routes.length > 0) out.push("   Virtual Routes :", ...routes.map((rt) => `     ${routeText(rt)}`));
  const rules = cfg.virtual_rules;
  if (rules.length > 0) out.push("   Virtual Rules :", ...rules.map((ru) => `     ${(ru as { words?: string[] }).words?.join(" ") ?? ""}`));
  // What the instance tracks after keepalived's removals (its own interface, ignored weights, disabled scripts).
  const ifs = r.track.interfaces;
  if (ifs.length > 0) out.push("   Tracked interfaces :", ...ifs.map((t) => `     ${t.name} weight ${t.weight}${t.reverse ? " reverse" : ""}`));
  const files = r.track.files;
  if (files.length > 0) out.push("   Tracked files :", ...files.map((t) => `     ${t.name}, weight ${t.weight}${t.reverse ? " reverse" : ""}`));
  out.push(
    `   Using smtp notification = ${r.smtpAlert ? "yes" : "no"}`,
    `   Notify deleted = ${cfg.notify_deleted ? "Deleted" : "Fault"}`,
    `   Notify priority changes = ${onOff(r.notifyPriorityChanges)}`,
  );
  return out;
}

/** The group's state as keepalived derives it: FAULT if any member is, MASTER if all are, else BACKUP (INIT before any report). */
export function syncGroupState(members: readonly VrrpInstanceV1[]): "INIT" | "BACKUP" | "MASTER" | "FAULT" {
  if (members.length === 0 || members.every((m) => m.state === "UNKNOWN" || m.state === "INIT")) return "INIT";
  if (members.some((m) => m.state === "FAULT")) return "FAULT";
  if (members.every((m) => m.state === "MASTER")) return "MASTER";
  return "BACKUP";
}

function syncGroupLines(name: string, g: VrrpSyncGroupConfig, input: DumpInput): string[] {
  const members = input.status.vrrp.instances.filter((i) => g.group.includes(i.name));
  const out = [
    ` VRRP Sync Group = ${name}, ${syncGroupState(members)}`,
    `   Num member fault ${members.filter((m) => m.state === "FAULT").length}, num member init ${members.filter((m) => m.state === "INIT" || m.state === "UNKNOWN").length}`,
  ];
  if (g.group.length > 0) out.push("   VRRP member instances :", ...g.group.map((m) => `     ${m}`));
  if (g.sync_group_tracking_weight) out.push("   sync group tracking weight set");
  out.push(`   Using smtp notification = ${vrrpSmtpAlert(g.smtp_alert, globals(input.config)) ? "yes" : "no"}`);
  return out;
}

// ---------------------------------------------------------------------------
// keepalived_check.data (the checker process's SIGUSR1 file)

/**
 * dump_data_check (check/check_data.c dump_vs, dump_rs; check_api.c dump_checker) with the values
 * from the effective configuration (resolved as validate_check_config does) and the checker's status.
 */
export function formatKeepalivedCheckData(input: DumpInput): string {
  const lines = globalLines(input, "check");
  const vss = input.status.virtualServers;
  if (vss.length > 0) {
    // keepalived prints the kernel header's IP_VS_VERSION_CODE it was built with: 1.2.1 on every Linux since 2.6.
    lines.push("------< LVS Topology >------", " System is compiled with LVS v1.2.1");
    for (const vs of vss) lines.push(...virtualServerLines(vs, input));
  }
  const checkers = vss.flatMap((vs) => vs.realServers.flatMap((rs) => rs.checkers.map((c) => ({ vs, rs, c }))));
  if (checkers.length > 0) {
    lines.push("------< Health checkers >------");
    for (const { vs, rs, c } of checkers) {
      const proto = (vs.protocol ?? "none").toLowerCase();
      const vsName = vs.fwmark !== null ? `FWM ${vs.fwmark}` : `[${vs.address ?? ""}]:${proto}:${vs.port ?? 0}`;
      lines.push(
        ` ${vsName} -> [${rs.address}]:${proto}:${rs.port}`,
        `   Enabled = ${c.enabled ? "yes" : "no"}`,
        `   Up = ${c.up ? "yes" : "no"}`,
        `   Has run = ${c.lastResult !== null ? "yes" : "no"}`,
        `   Keepalive method = ${c.type}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function vsConfigFor(vs: VirtualServerV1, config: Model): VirtualServerConfig | undefined {
  const list = (config.virtual_server ?? []) as VirtualServerConfig[];
  return list.find((c) => (vs.fwmark !== null ? c.fwmark === vs.fwmark : c.ip === vs.address && c.port === vs.port));
}

/** The smtp_alert default chain for checkers (check_data.c validate_check_config). */
export function checkerSmtpAlert(own: boolean | undefined, g: Partial<GlobalDefsConfig>, isRealServer: boolean): boolean {
  return own ?? g.smtp_alert_checker ?? g.smtp_alert ?? isRealServer;
}

/** dump_forwarding_method's text after "forwarding method = ". */
function forwarding(m: ForwardingMethod | undefined): string {
  if (!m || m.method !== "TUN") return m?.method ?? "NAT";
  const type = m.tunnel_type ?? "ipip";
  if (type === "gue") return `TUN, type = GUE, port = ${m.tunnel_port ?? 0}`;
  return `TUN, type = ${type.toUpperCase()}`;
}

/** format_decimal(x, TIMER_HZ_DIGITS): seconds with six decimals. */
const secs = (s: number): string => s.toFixed(6);

function virtualServerLines(vs: VirtualServerV1, input: DumpInput): string[] {
  const c = vsConfigFor(vs, input.config);
  const g = globals(input.config);
  const sched = vs.scheduler ?? c?.lvs_sched ?? "wlc";
  const method = forwarding(c?.lvs_method);
  const out = [" ------< Virtual server >------"];
  if (c?.group !== undefined) out.push(` VS GROUP = [${c.group}]:${vs.port ?? 0}`);
  else if (vs.fwmark !== null) out.push(` VS FWMARK = ${vs.fwmark}`);
  else out.push(` VS VIP = ${vs.address ?? ""}, VPORT = ${vs.port ?? 0}`);
  if (c?.virtualhost !== undefined) out.push(`   VirtualHost = ${c.virtualhost}`);
  const family = c?.ip_family ?? (vs.address ? (vs.address.includes(":") ? "inet6" : "inet") : undefined);
  out.push(
    `   Address family = ${family ?? "unknown"}`,
    `   connection timeout = ${secs(c?.connect_timeout ?? 5)}`,
    `   delay_loop = ${secs(c?.delay_loop ?? 60)}`,
    `   lvs_sched = ${sched}`,
    `   Hashed = ${c?.hashed ? "en" : "dis"}abled`,
  );
  if (sched === "sh") out.push(`   sh-port = ${c?.sh_port ? "en" : "dis"}abled`, `   sh-fallback = ${c?.sh_fallback ? "en" : "dis"}abled`);
  else if (sched === "mh") out.push(`   mh-port = ${c?.mh_port ? "en" : "dis"}abled`, `   mh-fallback = ${c?.mh_fallback ? "en" : "dis"}abled`);
  else out.push(`   flag-1 = ${c?.flag_1 ? "en" : "dis"}abled`, `   flag-2 = ${c?.flag_2 ? "en" : "dis"}abled`, `   flag-3 = ${c?.flag_3 ? "en" : "dis"}abled`);
  const protocol = vs.protocol ?? c?.protocol ?? "none";
  out.push(`   One packet scheduling = ${c?.ops ? "en" : "dis"}abled${c?.ops && protocol !== "UDP" ? " (inactive due to not UDP)" : ""}`);
  if (c?.persistence_timeout) out.push(`   persistence timeout = ${c.persistence_timeout}`);
  if (c?.persistence_granularity !== undefined) out.push(`   persistence granularity = ${c.persistence_granularity}`);
  out.push(`   protocol = ${protocol}`, `   alpha is ${c?.alpha ? "ON" : "OFF"}`, `   omega is ${c?.omega ? "ON" : "OFF"}`);
  if (c?.retry !== undefined) out.push(`   Retry count = ${c.retry}`);
  if (c?.delay_before_retry !== undefined) out.push(`   Retry delay = ${secs(c.delay_before_retry)}`);
  if (c?.warmup !== undefined) out.push(`   Warmup = ${secs(c.warmup)}`);
  out.push(`   Inhibit on failure is ${c?.inhibit_on_failure ? "ON" : "OFF"}`, `   quorum = ${c?.quorum ?? 1}, hysteresis = ${c?.hysteresis ?? 0}`);
  if (c?.ha_suspend) out.push("   Using HA suspend");
  out.push(`   Using smtp notification = ${checkerSmtpAlert(c?.smtp_alert, g, false) ? "yes" : "no"}`, `   default forwarding method = ${method}`);
  if (c?.sorry_server) {
    const ss = c.sorry_server;
    out.push(`   sorry server = [${ss.ip}]:${protocol.toLowerCase()}:${ss.port ?? vs.port ?? 0}`,
      `     forwarding method = ${c.sorry_server_lvs_method ? forwarding(c.sorry_server_lvs_method) : method}`,
      `     Inhibit on failure is ${c.sorry_server_inhibit ? "ON" : "OFF"}`);
  }
  const up = vs.quorumUp !== false ? 1 : 0;
  out.push(`   alive = ${up}`, `   quorum_state_up = ${up}`, "   reloaded = 0");
  for (const rs of vs.realServers) {
    const rc = c?.real_server?.find((x) => x.ip === rs.address && (x.port ?? c.port) === rs.port);
    const weight = rs.weight ?? rc?.weight ?? c?.weight ?? 1;
    // lbctl's effectiveWeight is what IPVS has: 0 when drained, inhibited or down.
    const eff = rs.effectiveWeight ?? (rs.health === "up" ? weight : 0);
    const inhibit = rc?.inhibit_on_failure ?? c?.inhibit_on_failure ?? false;
    out.push(
      "   ------< Real server >------",
      `   RIP = ${rs.address}, RPORT = ${rs.port}, WEIGHT = ${Math.max(0, eff)} EFF WEIGHT = ${eff}`,
      `   forwarding method = ${rc?.lvs_method ? forwarding(rc.lvs_method) : method}`,
      `   Alpha is ${(rc?.alpha ?? c?.alpha) ? "ON" : "OFF"}`,
      `   connection timeout = ${secs(rc?.connect_timeout ?? c?.connect_timeout ?? 5)}`,
      `   connection limit range = ${rc?.lthreshold ?? 0} -> ${rc?.uthreshold ?? 0}`,
      `   Delay loop = ${secs(rc?.delay_loop ?? c?.delay_loop ?? 60)}`,
    );
    const retry = rc?.retry ?? c?.retry;
    if (retry !== undefined) out.push(`   Retry count = ${retry}`);
    const retryDelay = rc?.delay_before_retry ?? c?.delay_before_retry;
    if (retryDelay !== undefined) out.push(`   Retry delay = ${secs(retryDelay)}`);
    const warmup = rc?.warmup ?? c?.warmup;
    if (warmup !== undefined) out.push(`   Warmup = ${secs(warmup)}`);
    out.push(`   Inhibit on failure is ${inhibit ? "ON" : "OFF"}`);
    if (rc?.virtualhost !== undefined) out.push(`    VirtualHost = '${rc.virtualhost}'`);
    out.push(
      `   Using smtp notification = ${checkerSmtpAlert(rc?.smtp_alert, g, true) ? "yes" : "no"}`,
      `   initial weight = ${weight}`,
      `   effective weight = ${eff}`,
      `   previous effective_weight = ${eff}`,
      `   alive = ${rs.health === "up" ? 1 : 0}`,
      `   num failed checkers = ${rs.checkers.filter((k) => k.enabled && k.up === false).length}`,
      `   RS set = ${rs.effectiveWeight !== null ? 1 : 0}`,
      "   reloaded = 0",
    );
  }
  return out;
}

// ---------------------------------------------------------------------------
// keepalived.stats

/** vrrp_print_stats (vrrp_print.c), line for line. */
export function formatKeepalivedStats(status: StatusV1): string {
  const out: string[] = [];
  for (const i of status.vrrp.instances) {
    const c = i.counters;
    out.push(
      `VRRP Instance: ${i.name}`,
      "  Advertisements:",
      `    Received: ${c.advertisementsReceived}`,
      `    Sent: ${c.advertisementsSent}`,
      `  Became master: ${c.becomeMaster}`,
      `  Released master: ${c.releaseMaster}`,
      "  Packet Errors:",
      `    Length: ${c.packetLengthErrors}`,
      `    TTL: ${c.ipTtlErrors}`,
      `    Invalid Type: ${c.invalidTypePktsRcvd}`,
      `    Advertisement Interval: ${c.advertIntervalErrors}`,
      `    Address List: ${c.addressListErrors}`,
      "  Authentication Errors:",
      `    Invalid Type: ${c.invalidAuthType}`,
      `    Type Mismatch: ${c.authTypeMismatch}`,
      `    Failure: ${c.authFailures}`,
      "  Priority Zero:",
      `    Received: ${c.priorityZeroPktsRcvd}`,
      `    Sent: ${c.priorityZeroPktsSent}`,
    );
  }
  return out.map((l) => l + "\n").join("");
}

// ---------------------------------------------------------------------------
// keepalived.json

/** jsonw_float_field: printf("%g"). */
function g6(n: number): number { return Number(n.toPrecision(6)); }

/** vrrp_json_dump (vrrp_json.c): an array of {data, stats}, keys in keepalived's order. */
export function formatKeepalivedJson(input: DumpInput): string {
  const items = input.status.vrrp.instances.map((inst) => {
    const r = resolvedOf(input, inst.name);
    if (!r) return null;
    const cfg = r.config;
    const us = advertUs(r);
    const state = stateName(inst.state);
    const dev = inst.interface ?? r.interface ?? "";
    const data: Record<string, unknown> = {
      iname: inst.name,
      dont_track_primary: r.dontTrackPrimary ? 1 : 0,
      skip_check_adv_addr: r.skipCheckAdvAddr ? 1 : 0,
      strict_mode: r.strict ? 1 : 0,
      vmac_ifname: "",
      ifp_ifname: dev,
      master_priority: state === "BACKUP" ? inst.masterPriority ?? 0 : 0,
      last_transition: "__LAST_TRANSITION__",
      garp_delay: r.garpMasterDelay,
      garp_refresh: r.garpMasterRefresh,
      garp_rep: r.garpMasterRepeat,
      garp_refresh_rep: r.garpMasterRefreshRepeat,
      garp_lower_prio_delay: r.garpLowerPrioDelay,
      garp_lower_prio_rep: r.garpLowerPrioRepeat,
      lower_prio_no_advert: r.lowerPrioNoAdvert ? 1 : 0,
      higher_prio_send_advert: r.higherPrioSendAdvert ? 1 : 0,
      vrid: inst.vrid ?? r.vrid ?? 0,
      base_priority: inst.basePriority ?? 0,
      effective_priority: inst.effectivePriority ?? inst.basePriority ?? 0,
      vipset: state === "MASTER",
      promote_secondaries: cfg.promote_secondaries,
      adver_int: g6(us / 1e6),
      master_adver_int: g6(us / 1e6),
      accept: r.accept ? 1 : 0,
      nopreempt: r.nopreempt,
      preempt_delay: r.preemptDelay,
      state: STATE_NUMBER[state],
      wantstate: STATE_NUMBER[inst.forcedBackup ? "BACKUP" : state],
      version: r.version,
      smtp_alert: r.smtpAlert,
      notify_deleted: cfg.notify_deleted !== undefined && cfg.notify_deleted !== null && Boolean(cfg.notify_deleted),
    };
    const vips = cfg.virtual_ipaddress.map((v) => vipText(v, dev, state === "MASTER"));
    if (vips.length > 0) data.vips = vips;
    const evips = cfg.virtual_ipaddress_excluded.map((v) => vipText(v, dev, state === "MASTER"));
    if (evips.length > 0) data.evips = evips;
    const vroutes = cfg.virtual_routes.map(routeText);
    if (vroutes.length > 0) data.vroutes = vroutes;
    const auth = authOf(r);
    data.auth_type = auth === "ah" ? 2 : auth === "pass" ? 1 : 0;
    if (r.auth.type === "pass") data.auth_data = r.auth.pass;
    const c = inst.counters;
    const stats = {
      advert_rcvd: c.advertisementsReceived, advert_sent: c.advertisementsSent,
      become_master: c.becomeMaster, release_master: c.releaseMaster,
      packet_len_err: c.packetLengthErrors, advert_interval_err: c.advertIntervalErrors,
      ip_ttl_err: c.ipTtlErrors, invalid_type_rcvd: c.invalidTypePktsRcvd, addr_list_err: c.addressListErrors,
      invalid_authtype: c.invalidAuthType, authtype_mismatch: c.authTypeMismatch, auth_failure: c.authFailures,
      pri_zero_rcvd: c.priorityZeroPktsRcvd, pri_zero_sent: c.priorityZeroPktsSent,
    };
    const at = inst.lastTransition?.at ?? input.status.daemon.startedAt;
    // keepalived writes last_transition with "%f" (six decimals) and escapes '/' as "\/".
    return JSON.stringify({ data, stats })
      .replace('"__LAST_TRANSITION__"', (at / 1000).toFixed(6))
      .replace(/\//g, "\\/");
  });
  return `[${items.filter((i) => i !== null).join(",")}]\n`;
}
