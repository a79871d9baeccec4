// global_defs and the few top-level daemon settings: every keyword keepalived 2.2.7's
// global parser installs (keepalived/core/global_parser.c, checked against the Debian
// keepalived 2.2.7 binary with `keepalived -t`).
import type { BlockSpec, Field, Model, ParseCtx, ValueType } from "../schema.ts";
import { locOfKey, tomlKey, withDefaults } from "../schema.ts";
import type { ConfNode, SourceLoc } from "../tree.ts";
import { block, flag, int, ipAddress, lines, parseIp, word, wordLine, words } from "../values.ts";
import {
  decimalIn, fifo, optionalInt, optionalWords, runAsUser, script,
  type FifoConfig, type RunAsConfig, type ScriptConfig,
} from "./common.ts";

// ---------------------------------------------------------------------------
// Structured global values.

export interface SmtpServerConfig { host: string; port: number }

/**
 * `nftables [TABLE]`: the kernel takes table names of up to 255 bytes; keepalived ignores a longer one
 * ("nftables table name too long - ignoring") and so does lbctl, as an error, instead of failing later.
 */
const nftTableName: ValueType<string[]> = (() => {
  const base = optionalWords(1, undefined, "table name");
  const tooLong = (v: string[] | undefined, loc: SourceLoc, ctx: ParseCtx): string[] | undefined => {
    if (!v?.[0] || new TextEncoder().encode(v[0]).byteLength <= 255) return v;
    ctx.diag.error(`nftables table name too long (${new TextEncoder().encode(v[0]).byteLength} bytes, at most 255) - ignoring`, loc);
    return undefined;
  };
  return {
    ...base,
    fromConf: (node, ctx) => tooLong(base.fromConf(node, ctx), node.argLocs[0] ?? node.loc, ctx),
    fromToml: (value, loc, ctx) => tooLong(base.fromToml(value, loc, ctx), loc, ctx),
  };
})();

const smtpServer: ValueType<SmtpServerConfig> = {
  describe: "host [port]",
  fromConf(node, ctx) { return readSmtp(node, ctx); },
  fromToml(value, loc, ctx) {
    if (typeof value !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' expects a string "HOST [PORT]"`, loc); return undefined; }
    const parts = value.trim().split(/\s+/);
    return readSmtp({ keyword: tomlKey(ctx), args: parts, argLocs: parts.map(() => loc), loc }, ctx);
  },
  toToml: (v) => (v.port === 25 ? v.host : `${v.host} ${v.port}`),
};

function readSmtp(node: ConfNode, ctx: ParseCtx): SmtpServerConfig | undefined {
  const [host, port, extra] = node.args;
  if (host === undefined) { ctx.diag.error(`'${node.keyword}' needs an address or host name`, node.loc); return undefined; }
  // keepalived 2.2.7 rejects names that are neither an address nor a plausible host name ("Invalid smtp server").
  if (!parseIp(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
    ctx.diag.error(`invalid smtp server '${node.args.join(" ")}'`, node.argLocs[0] ?? node.loc); return undefined;
  }
  let p = 25;
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) { ctx.diag.error(`'${node.keyword}': port '${port}' must be 1..65535`, node.argLocs[1] ?? node.loc); return undefined; }
    p = Number(port);
  }
  if (extra !== undefined) ctx.diag.warning(`'${node.keyword}': extra argument '${extra}' ignored`, node.argLocs[2] ?? node.loc);
  return { host, port: p };
}

export interface LvsSyncDaemonConfig {
  interface: string;
  /** The vrrp_instance whose state decides master/backup sync daemon. */
  instance?: string;
  id?: number;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

const SYNCD_OPTS: Record<string, [number, number]> = { id: [0, 255], maxlen: [1, 65507], port: [1, 65535], ttl: [1, 255] };

const lvsSyncDaemon: ValueType<LvsSyncDaemonConfig> = {
  describe: "INTERFACE [[inst] VRRP_INSTANCE] [id 0..255] [maxlen 1..65507] [port 1..65535] [ttl 1..255] [group ADDR]",
  fromConf(node, ctx) { return readSyncd(node, ctx); },
  fromToml(value, loc, ctx) {
    if (typeof value !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' expects a string in keepalived syntax`, loc); return undefined; }
    const parts = value.trim().split(/\s+/);
    return readSyncd({ keyword: tomlKey(ctx), args: parts, argLocs: parts.map(() => loc), loc }, ctx);
  },
  toToml: (v) => [v.interface, ...(v.instance ? ["inst", v.instance] : []),
    ...(["id", "maxlen", "port", "ttl", "group"] as const).flatMap((k) => (v[k] !== undefined ? [k, String(v[k])] : []))].join(" "),
};

function readSyncd(node: ConfNode, ctx: ParseCtx): LvsSyncDaemonConfig | undefined {
  const a = node.args;
  if (a.length === 0) { ctx.diag.error(`'${node.keyword}' needs an interface`, node.loc); return undefined; }
  const out: LvsSyncDaemonConfig = { interface: a[0]! };
  for (let i = 1; i < a.length; i++) {
    const k = a[i]!;
    const v = a[i + 1];
    const loc = node.argLocs[i] ?? node.loc;
    if (k === "inst") { if (v === undefined) { ctx.diag.error(`'${node.keyword}': 'inst' needs a vrrp_instance name`, loc); return undefined; } out.instance = v; i++; continue; }
    if (k === "group") {
      if (v === undefined || !parseIp(v)) { ctx.diag.error(`'${node.keyword}': 'group' needs a multicast address`, loc); return undefined; }
      out.group = v; i++; continue;
    }
    const range = SYNCD_OPTS[k];
    if (range) {
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < range[0] || Number(v) > range[1]) {
        ctx.diag.error(`'${node.keyword}': ${k} must be ${range[0]}..${range[1]}`, node.argLocs[i + 1] ?? loc); return undefined;
      }
      out[k as "id" | "maxlen" | "port" | "ttl"] = Number(v); i++; continue;
    }
    // "inst" can be omitted for backward compatibility: a bare word in second place names the instance.
    if (i === 1) { out.instance = k; continue; }
    ctx.diag.error(`'${node.keyword}': unknown option '${k}'`, loc);
    return undefined;
  }
  return out;
}

export interface LvsTimeoutsConfig { tcp?: number; tcpfin?: number; udp?: number }

const lvsTimeouts: ValueType<LvsTimeoutsConfig> = {
  describe: "[tcp SECS] [tcpfin SECS] [udp SECS]",
  fromConf(node, ctx) {
    const out: LvsTimeoutsConfig = {};
    const a = node.args;
    if (a.length === 0) { ctx.diag.error(`'${node.keyword}' needs at least one of tcp, tcpfin, udp`, node.loc); return undefined; }
    for (let i = 0; i < a.length; i += 2) {
      const k = a[i]!;
      const v = a[i + 1];
      if (k !== "tcp" && k !== "tcpfin" && k !== "udp") { ctx.diag.error(`'${node.keyword}': unknown timeout '${k}' (tcp, tcpfin, udp)`, node.argLocs[i] ?? node.loc); return undefined; }
      if (v === undefined || !/^\d+$/.test(v)) { ctx.diag.error(`'${node.keyword}': ${k} needs a number of seconds`, node.argLocs[i] ?? node.loc); return undefined; }
      out[k] = Number(v);
    }
    return out;
  },
  fromToml(value, loc, ctx) {
    const kw = tomlKey(ctx);
    if (typeof value !== "object" || value === null || Array.isArray(value)) { ctx.diag.error(`'${kw}' expects a table with tcp, tcpfin, udp`, loc); return undefined; }
    const out: LvsTimeoutsConfig = {};
    for (const [k, v] of Object.entries(value)) {
      if (k !== "tcp" && k !== "tcpfin" && k !== "udp") { ctx.diag.error(`'${kw}': unknown timeout '${k}'`, loc); return undefined; }
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) { ctx.diag.error(`'${kw}.${k}' expects a number of seconds`, loc); return undefined; }
      out[k] = v;
    }
    return out;
  },
  toToml: (v) => ({ ...v }),
};

/** `[all] SECONDS` for vrrp_garp_extra_if / garp_extra_if. */
export interface GarpExtraIfConfig { all: boolean; interval: number }

export const garpExtraIf: ValueType<GarpExtraIfConfig> = {
  describe: "[all] seconds 0..86400",
  fromConf(node, ctx) {
    let all = false;
    let interval: number | undefined;
    for (let i = 0; i < node.args.length; i++) {
      const w = node.args[i]!;
      if (w === "all") { all = true; continue; }
      if (!/^\d+$/.test(w) || Number(w) > 86400) { ctx.diag.error(`'${node.keyword}' '${w}' invalid - must be 'all' or seconds 0..86400`, node.argLocs[i] ?? node.loc); return undefined; }
      interval = Number(w);
    }
    if (interval === undefined) { ctx.diag.error(`'${node.keyword}' specified without time`, node.loc); return undefined; }
    return { all, interval };
  },
  fromToml(value, loc, ctx) {
    if (typeof value === "number") return garpExtraIf.fromConf({ keyword: tomlKey(ctx), args: [String(value)], argLocs: [loc], loc }, ctx);
    if (typeof value === "string") { const p = value.trim().split(/\s+/); return garpExtraIf.fromConf({ keyword: tomlKey(ctx), args: p, argLocs: p.map(() => loc), loc }, ctx); }
    ctx.diag.error(`'${tomlKey(ctx)}' expects seconds or "all SECONDS"`, loc);
    return undefined;
  },
  toToml: (v) => (v.all ? `all ${v.interval}` : v.interval),
};

const rxBufsPolicy: ValueType<string> = {
  describe: "MTU, ADVERT or a number of bytes",
  fromConf(node, ctx) {
    const a = node.args[0];
    if (a === undefined) { ctx.diag.error(`'${node.keyword}' needs MTU, ADVERT or a size`, node.loc); return undefined; }
    if (a !== "MTU" && a !== "ADVERT" && !/^\d+$/.test(a)) { ctx.diag.error(`'${node.keyword}' must be MTU, ADVERT or a number, got '${a}'`, node.argLocs[0] ?? node.loc); return undefined; }
    return a;
  },
  fromToml(value, loc, ctx) {
    const s = typeof value === "number" ? String(value) : value;
    if (typeof s !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' expects MTU, ADVERT or a number`, loc); return undefined; }
    return rxBufsPolicy.fromConf({ keyword: tomlKey(ctx), args: [s], argLocs: [loc], loc }, ctx);
  },
  toToml: (v) => v,
};

// ---------------------------------------------------------------------------
// The effective global_defs model (after withDefaults). Optional keys have no default:
// keepalived derives them (see each field's defaultDoc) or leaves the feature off.

export interface GlobalDefsConfig {
  process_names: boolean;
  process_name?: string;
  vrrp_process_name?: string;
  checker_process_name?: string;
  bfd_process_name?: string;
  router_id?: string;
  notification_email: string[];
  notification_email_from?: string;
  smtp_server?: SmtpServerConfig;
  smtp_helo_name?: string;
  smtp_connect_timeout: number;
  smtp_alert?: boolean;
  smtp_alert_vrrp?: boolean;
  smtp_alert_checker?: boolean;
  checker_log_all_failures: boolean;
  no_email_faults: boolean;
  startup_script?: ScriptConfig;
  startup_script_timeout: number;
  shutdown_script?: ScriptConfig;
  shutdown_script_timeout: number;
  max_auto_priority: number;
  min_auto_priority_delay: number;
  dynamic_interfaces?: string[];
  default_interface: string;
  disable_local_igmp: boolean;
  lvs_timeouts?: LvsTimeoutsConfig;
  lvs_flush: boolean;
  lvs_flush_on_stop?: string[];
  lvs_sync_daemon?: LvsSyncDaemonConfig;
  vrrp_mcast_group4: string;
  vrrp_mcast_group6: string;
  vrrp_garp_master_delay: number;
  vrrp_garp_master_repeat: number;
  vrrp_garp_master_refresh: number;
  vrrp_garp_master_refresh_repeat: number;
  vrrp_garp_lower_prio_delay?: number;
  vrrp_garp_lower_prio_repeat?: number;
  vrrp_down_timer_adverts: number;
  vrrp_garp_interval: number;
  vrrp_gna_interval: number;
  vrrp_min_garp: boolean;
  vrrp_garp_extra_if?: GarpExtraIfConfig;
  vrrp_lower_prio_no_advert?: boolean;
  vrrp_higher_prio_send_advert: boolean;
  vrrp_version: number;
  vrrp_iptables?: string[];
  nftables?: string[];
  nftables_priority: number;
  nftables_ifindex: boolean;
  nftables_counters: boolean;
  nftables_ipvs?: string[];
  nftables_ipvs_priority: number;
  nftables_ipvs_start_fwmark: number;
  vrrp_check_unicast_src: boolean;
  vrrp_skip_check_adv_addr: boolean;
  vrrp_strict: boolean;
  vrrp_priority: number;
  vrrp_no_swap: boolean;
  vrrp_rt_priority?: number;
  vrrp_cpu_affinity?: string[];
  vrrp_rlimit_rttime: number;
  checker_priority: number;
  checker_no_swap: boolean;
  checker_rt_priority?: number;
  checker_cpu_affinity?: string[];
  checker_rlimit_rttime: number;
  bfd_priority: number;
  bfd_no_swap: boolean;
  bfd_rt_priority?: number;
  bfd_cpu_affinity?: string[];
  bfd_rlimit_rttime: number;
  notify_fifo?: FifoConfig;
  notify_fifo_script?: ScriptConfig;
  vrrp_notify_fifo?: FifoConfig;
  vrrp_notify_fifo_script?: ScriptConfig;
  vrrp_notify_priority_changes: boolean;
  lvs_notify_fifo?: FifoConfig;
  lvs_notify_fifo_script?: ScriptConfig;
  fifo_write_vrrp_states_on_reload: boolean;
  metrics_listen?: string;
  snmp_socket?: string;
  enable_traps: boolean;
  enable_snmp_vrrp: boolean;
  enable_snmp_rfc: boolean;
  enable_snmp_rfcv2: boolean;
  enable_snmp_rfcv3: boolean;
  enable_snmp_checker: boolean;
  enable_dbus: boolean;
  dbus_service_name: string;
  script_user?: RunAsConfig;
  enable_script_security: boolean;
  vrrp_netlink_cmd_rcv_bufs?: number;
  vrrp_netlink_cmd_rcv_bufs_force: boolean;
  vrrp_netlink_monitor_rcv_bufs?: number;
  vrrp_netlink_monitor_rcv_bufs_force: boolean;
  process_monitor_rcv_bufs?: number;
  process_monitor_rcv_bufs_force: boolean;
  lvs_netlink_cmd_rcv_bufs?: number;
  lvs_netlink_cmd_rcv_bufs_force: boolean;
  lvs_netlink_monitor_rcv_bufs?: number;
  lvs_netlink_monitor_rcv_bufs_force: boolean;
  rs_init_notifies: boolean;
  no_checker_emails: boolean;
  vrrp_rx_bufs_policy?: string;
  vrrp_rx_bufs_multiplier: number;
  vrrp_startup_delay?: number;
  log_unknown_vrids: boolean;
  vmac_prefix: string;
  vmac_addr_prefix?: string;
  umask?: string;
  random_seed?: number;
  reload_check_config?: string[];
  reload_time_file?: string;
  reload_repeat: boolean;
  reload_file?: string[];
  include_check?: string[];
  config_save_dir?: string;
  tmp_config_directory?: string;
  data_use_instance: boolean;
}

const bool = (key: string, doc: string, extra: Partial<Field> = {}): Field => ({ key, type: flag, default: false, doc, ...extra });
const rcvBufs = (prefix: string, what: string): Field[] => [
  { key: `${prefix}_rcv_bufs`, type: int(0), defaultDoc: "the system default", doc: `Receive buffer size in bytes of the ${what} socket.` },
  bool(`${prefix}_rcv_bufs_force`, `Set the ${what} buffer with SO_RCVBUFFORCE, so it may exceed net.core.rmem_max.`),
];
const proc = (p: "vrrp" | "checker" | "bfd", what: string): Field[] => [
  { key: `${p}_priority`, type: int(-20, 19), default: 0, doc: `Nice value of the ${what} process (negative = higher priority).` },
  bool(`${p}_no_swap`, `Lock the ${what} process in memory.`),
  { key: `${p}_rt_priority`, type: int(1, 99), defaultDoc: "not real-time", doc: `Run the ${what} process with SCHED_RR at this real-time priority.` },
  { key: `${p}_cpu_affinity`, type: words, defaultDoc: "all CPUs", doc: `CPU numbers the ${what} process may run on.` },
  { key: `${p}_rlimit_rttime`, aliases: [{ kw: `${p}_rlimit_rtime`, deprecated: true }], type: int(2), default: 10000, doc: `RLIMIT_RTTIME in microseconds for the ${what} process when real-time.` },
];

const garpInterval = decimalIn(0.000001, 4294.967295, "seconds");

export const globalDefsSpec: BlockSpec = {
  name: "global_defs",
  doc: "Settings for the whole node: identity, alerts, VRRP and LVS defaults, process tuning.",
  fields: [
    // Process names
    bool("process_names", "Set the process names to keepalived, keepalived_vrrp, keepalived_ipvs, keepalived_bfd."),
    { key: "process_name", type: word, defaultDoc: "unchanged", doc: "Name of the parent process." },
    { key: "vrrp_process_name", type: word, defaultDoc: "unchanged", doc: "Name of the VRRP process." },
    { key: "checker_process_name", aliases: [{ kw: "lvs_process_name", deprecated: true }], type: word, defaultDoc: "unchanged", doc: "Name of the health-checker process." },
    { key: "bfd_process_name", type: word, defaultDoc: "unchanged", doc: "Name of the BFD process." },
    // Identity and alerts
    { key: "router_id", type: word, defaultDoc: "the host name", doc: "Identifies this node in alerts and logs." },
    { key: "notification_email", type: lines(wordLine), repeat: "append", default: [], doc: "Addresses that receive SMTP alerts." },
    { key: "notification_email_from", type: word, defaultDoc: "keepalived@<local host name>", doc: "From address of SMTP alerts." },
    { key: "smtp_server", type: smtpServer, defaultDoc: "none (no e-mail)", doc: "SMTP relay for alerts: an address or host name, optionally followed by a port (default 25)." },
    { key: "smtp_helo_name", type: word, defaultDoc: "the local host name", doc: "Name given in the SMTP HELO." },
    { key: "smtp_connect_timeout", type: int(1), default: 30, doc: "Seconds allowed for connecting to the SMTP relay." },
    { key: "smtp_alert", type: flag, defaultDoc: "off unless notification addresses are set", doc: "Default for every smtp_alert." },
    { key: "smtp_alert_vrrp", type: flag, defaultDoc: "smtp_alert", doc: "Default smtp_alert for VRRP instances and sync groups." },
    { key: "smtp_alert_checker", type: flag, defaultDoc: "smtp_alert", doc: "Default smtp_alert for checkers." },
    bool("checker_log_all_failures", "Log every failed real-server check, not only the transition to DOWN."),
    bool("no_email_faults", "Send no SMTP alert for FAULT transitions."),
    // Startup / shutdown scripts
    { key: "startup_script", type: script, doc: "Script run once before the child processes start." },
    { key: "startup_script_timeout", type: int(1, 1000), default: 10, doc: "Seconds the startup script may run." },
    { key: "shutdown_script", type: script, doc: "Script run once after the child processes have stopped." },
    { key: "shutdown_script_timeout", type: int(1, 1000), default: 10, doc: "Seconds the shutdown script may run." },
    // Scheduling
    { key: "max_auto_priority", type: optionalInt(-1, 99, 99), default: 0, doc: "Highest real-time priority taken automatically when timers run late (0: never; -1: never and no warning; alone: 99)." },
    { key: "min_auto_priority_delay", type: int(1, 10000000), default: 1000000, doc: "Lateness in microseconds that triggers an automatic priority increase." },
    // Interfaces
    { key: "dynamic_interfaces", type: optionalWords(1, ["allow_if_changes"]), defaultDoc: "off", doc: "Allow interfaces that do not exist at startup; 'allow_if_changes' also allows them to be recreated with another type." },
    { key: "default_interface", type: word, default: "eth0", doc: "Interface of static addresses and VIPs that name no dev." },
    bool("disable_local_igmp", "Set igmp_link_local_mcast_reports off instead of moving IGMP from VMACs."),
    // LVS
    { key: "lvs_timeouts", type: lvsTimeouts, defaultDoc: "unchanged", doc: "IPVS connection timeouts in seconds (tcp, tcpfin, udp)." },
    bool("lvs_flush", "Flush the whole IPVS table at startup."),
    { key: "lvs_flush_on_stop", aliases: [{ kw: "lvs_flush_onstop", deprecated: true }], type: optionalWords(1, ["VS"]), defaultDoc: "off (remove each service and server)", doc: "Flush IPVS at shutdown; 'VS' removes only keepalived's virtual servers." },
    { key: "lvs_sync_daemon", type: lvsSyncDaemon, defaultDoc: "off", doc: "Run the IPVS connection sync daemon on an interface, following a VRRP instance's state." },
    // VRRP defaults
    { key: "vrrp_mcast_group4", type: ipAddress, default: "224.0.0.18", doc: "IPv4 multicast group of VRRP adverts." },
    { key: "vrrp_mcast_group6", type: ipAddress, default: "ff02::12", doc: "IPv6 multicast group of VRRP adverts." },
    { key: "vrrp_garp_master_delay", type: int(0), default: 5, doc: "Seconds after becoming master before the second burst of gratuitous ARPs (0: none)." },
    { key: "vrrp_garp_master_repeat", type: int(1), default: 5, doc: "Gratuitous ARPs sent in each burst after becoming master." },
    { key: "vrrp_garp_master_refresh", type: int(0), default: 0, doc: "Seconds between gratuitous ARP refreshes while master (0: no refresh)." },
    { key: "vrrp_garp_master_refresh_repeat", type: int(1), default: 1, doc: "Gratuitous ARPs sent at each refresh." },
    { key: "vrrp_garp_lower_prio_delay", type: int(0), defaultDoc: "vrrp_garp_master_delay", doc: "Seconds before the second gratuitous ARP burst after a lower-priority advert is received as master." },
    { key: "vrrp_garp_lower_prio_repeat", type: int(0), defaultDoc: "vrrp_garp_master_repeat", doc: "Gratuitous ARPs sent after a lower-priority advert is received as master." },
    { key: "vrrp_down_timer_adverts", type: int(1, 100), default: 3, doc: "Default down_timer_adverts of instances." },
    { key: "vrrp_garp_interval", type: garpInterval, default: 0, defaultDoc: "0 (no delay)", doc: "Delay between gratuitous ARPs on one interface." },
    { key: "vrrp_gna_interval", type: garpInterval, default: 0, defaultDoc: "0 (no delay)", doc: "Delay between unsolicited neighbour adverts on one interface." },
    bool("vrrp_min_garp", "Send one gratuitous ARP/NA on becoming master and no second burst."),
    { key: "vrrp_garp_extra_if", aliases: [{ kw: "vrrp_vmac_garp_intvl", deprecated: true }], type: garpExtraIf, defaultDoc: "off", doc: "Periodic gratuitous ARP/NA on VIP interfaces other than the instance's ('all': every interface)." },
    { key: "vrrp_lower_prio_no_advert", type: flag, defaultDoc: "off, on in strict mode", doc: "As master, do not answer a lower-priority advert with an advert." },
    bool("vrrp_higher_prio_send_advert", "As master, send one advert before yielding to a higher-priority advert."),
    { key: "vrrp_version", type: int(2, 3), default: 2, doc: "Default VRRP version (IPv6 instances always use 3)." },
    { key: "vrrp_iptables", type: optionalWords(2, undefined, "chain"), defaultDoc: "off", doc: "Use iptables chains (IN [OUT]) for no_accept; keepalived 2.2.7 without iptables support uses nftables instead." },
    { key: "nftables", type: nftTableName, defaultDoc: "table 'keepalived'", doc: "Name of the nftables tables (ip and ip6) in which instances without accept (no_accept, strict mode) drop traffic to the VIPs they hold, as keepalived; used with or without this keyword, deleted on stop. lbctl adds no use_vmac rules there." },
    { key: "nftables_priority", type: int(-2147483648, 2147483647), default: -1, doc: "Priority of that table's base chains (hooks input and output); the tables are built once, so a change applies after a restart." },
    bool("nftables_ifindex", "Key link-local IPv6 VIPs by interface index also for dont_track_primary instances (which otherwise key them by interface name)."),
    bool("nftables_counters", "A counter in each of those drop/accept rules."),
    { key: "nftables_ipvs", type: optionalWords(1, undefined, "table name"), defaultDoc: "off", doc: "nftables table for virtual_server_group fwmarks." },
    { key: "nftables_ipvs_priority", type: int(-2147483648, 2147483647), default: -1, doc: "Priority of the IPVS nftables chains." },
    { key: "nftables_ipvs_start_fwmark", type: int(1), default: 1000, doc: "First fwmark allocated for virtual_server_groups." },
    bool("vrrp_check_unicast_src", "In unicast mode, accept adverts only from configured peers."),
    bool("vrrp_skip_check_adv_addr", "Do not re-check advert addresses when the advert is from the same master as before."),
    bool("vrrp_strict", "Enforce strict RFC compliance: no authentication, no accept mode on VRRPv2, no preempt_delay, no advert or GARPs in answer to a lower priority (unicast peers stay, as in keepalived 2.2.7)."),
    ...proc("vrrp", "VRRP"),
    ...proc("checker", "checker"),
    ...proc("bfd", "BFD"),
    // Notification FIFOs
    { key: "notify_fifo", type: fifo, doc: "FIFO receiving every notify event." },
    { key: "notify_fifo_script", type: script, doc: "Script started to read notify_fifo (the FIFO name is its last argument)." },
    { key: "vrrp_notify_fifo", type: fifo, doc: "FIFO receiving VRRP notify events: `INSTANCE \"VI_1\" MASTER 100`." },
    { key: "vrrp_notify_fifo_script", type: script, doc: "Script started to read vrrp_notify_fifo." },
    bool("vrrp_notify_priority_changes", "Send priority changes of instances to the notify FIFOs."),
    { key: "lvs_notify_fifo", type: fifo, doc: "FIFO receiving checker notify events." },
    { key: "lvs_notify_fifo_script", type: script, doc: "Script started to read lvs_notify_fifo." },
    bool("fifo_write_vrrp_states_on_reload", "Write instance and group states to the FIFOs after a reload."),
    // SNMP / DBus
    { key: "metrics_listen", type: word, doc: "lbctl only (keepalived rejects it): serve Prometheus metrics over HTTP on HOST:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9650. Off when absent; `lbctl daemon --metrics-listen` overrides it. Read at start-up." },
    { key: "snmp_socket", type: word, defaultDoc: "unix:/var/agentx/master", doc: "AgentX socket of the SNMP master agent." },
    bool("enable_traps", "Send SNMP traps."),
    bool("enable_snmp_vrrp", "Serve the VRRP part of the KEEPALIVED MIB.", { aliases: [{ kw: "enable_snmp_keepalived", deprecated: true }] }),
    bool("enable_snmp_rfc", "Serve the RFC2787 and RFC6527 VRRP MIBs."),
    bool("enable_snmp_rfcv2", "Serve the RFC2787 VRRP MIB."),
    bool("enable_snmp_rfcv3", "Serve the RFC6527 VRRP MIB."),
    bool("enable_snmp_checker", "Serve the checker part of the KEEPALIVED MIB."),
    bool("enable_dbus", "Enable the DBus interface."),
    { key: "dbus_service_name", type: word, default: "org.keepalived.Vrrp1", doc: "DBus service name." },
    // Script security
    { key: "script_user", type: runAsUser, defaultDoc: "keepalived_script if that user exists, else root", doc: "Default user [group] scripts run as." },
    bool("enable_script_security", "Refuse to run scripts as root when any part of their path is writable by a non-root user."),
    // Buffers
    ...rcvBufs("vrrp_netlink_cmd", "VRRP netlink command"),
    ...rcvBufs("vrrp_netlink_monitor", "VRRP netlink monitor"),
    ...rcvBufs("process_monitor", "process monitor"),
    ...rcvBufs("lvs_netlink_cmd", "checker netlink command"),
    ...rcvBufs("lvs_netlink_monitor", "checker netlink monitor"),
    bool("rs_init_notifies", "Send notifies at startup for real servers that are starting up."),
    bool("no_checker_emails", "Send checker e-mail only when a real server is added or removed."),
    { key: "vrrp_rx_bufs_policy", type: rxBufsPolicy, defaultDoc: "the system default", doc: "Receive buffer sizing of VRRP sockets: MTU, ADVERT or bytes." },
    { key: "vrrp_rx_bufs_multiplier", type: int(1), default: 3, doc: "Multiplier for vrrp_rx_bufs_policy MTU/ADVERT." },
    { key: "vrrp_startup_delay", type: decimalIn(0.001, 4294.967295, "seconds"), defaultDoc: "no delay", doc: "Delay before VRRP instances start after the daemon starts." },
    bool("log_unknown_vrids", "Log adverts received for VRIDs not configured on the interface."),
    { key: "vmac_prefix", type: word, default: "vrrp", doc: "Prefix of generated VMAC interface names." },
    { key: "vmac_addr_prefix", type: word, defaultDoc: "vmac_prefix", doc: "Prefix of VMAC names for VIPs not on the instance's interface." },
    // Misc
    { key: "umask", type: word, defaultDoc: "0177 (what keepalived 2.2.7 reports; its man page says IWGRP|IWOTH)", doc: "umask for created files: a number or IRUSR|IWGRP|... bits." },
    { key: "random_seed", type: int(0, 4294967295), defaultDoc: "time based", doc: "Seed for ${_RANDOM}." },
    { key: "reload_check_config", type: optionalWords(1, undefined, "log file"), defaultDoc: "off", doc: "Check a new configuration before reloading (log to FILE, default /dev/null)." },
    { key: "reload_time_file", type: word, doc: "File holding a time at which to reload." },
    bool("reload_repeat", "Keep reload_time_file and reload again daily."),
    { key: "reload_file", type: optionalWords(1, undefined, "path"), defaultDoc: "off (keepalived.reload in the pid directory when given alone)", doc: "File that exists while the configuration is being read." },
    { key: "include_check", type: words, defaultDoc: "off", doc: "Make missing include files an error: readable, match, wildcard_match, brace_match (+/- to add/remove)." },
    { key: "config_save_dir", type: word, doc: "Directory to save configuration state before and after each reload." },
    { key: "tmp_config_directory", type: word, defaultDoc: "memory (memfd)", doc: "Directory on whose file system the configuration copy is kept." },
    bool("data_use_instance", "Include the instance name and namespace in SIGUSR1 .data file names. lbctl does so always when net_namespace or instance is set, for every dump file (.data, .stats, .json), since two daemons would otherwise overwrite each other's; this keyword changes nothing."),
  ],
  obsolete: {
    lvs_id: "'lvs_id' is not a keyword in keepalived 2.2.7 (it says \"Unknown keyword 'lvs_id'\"): remove it; use 'router_id' to name the node",
    lvs_sync_daemon_interface: "'lvs_sync_daemon_interface' is not a global_defs keyword in keepalived 2.2.7: ignored; use 'lvs_sync_daemon INTERFACE [inst VRRP_INSTANCE]'",
    vrrp_ipsets: "'vrrp_ipsets' is ignored: lbctl (like Debian's keepalived 2.2.7) has no ipset support; remove it and use 'nftables'",
    ...Object.fromEntries(["garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "garp_interval", "gna_interval", "lower_prio_no_advert", "higher_prio_send_advert", "down_timer_adverts"]
      .map((k) => [k, `'${k}' is not a global_defs keyword (keepalived 2.2.7 says "Unknown keyword '${k}'"): ignored; use 'vrrp_${k}' here or '${k}' in a vrrp_instance`])),
    ...Object.fromEntries(["net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "use_pid_dir", "instance", "child_wait_time", "linkbeat_use_polling"]
      .map((k) => [k, `'${k}' must be written at the top level, outside global_defs: ignored here`])),
  },
  validate(obj, ctx) {
    if (obj.vrrp_iptables !== undefined) {
      ctx.diag.warning("iptables not supported, using nftables instead. Please replace 'vrrp_iptables' with the 'nftables' option", locOfKey(obj, "vrrp_iptables"));
    }
  },
};


/** The effective global_defs of an effective model, with every default even when the file has no global_defs block. */
export function globalDefsOf(effective: Model): GlobalDefsConfig {
  const g = effective.global_defs as Model | undefined;
  return (g ?? withDefaults({}, globalDefsSpec)) as unknown as GlobalDefsConfig;
}

/** Daemon settings keepalived reads only at the top level of the file. */
export interface GlobalRootConfig {
  net_namespace?: string;
  /** [] = the main namespace (the keyword alone), [NAME] = /run/netns/NAME. */
  net_namespace_ipvs?: string[];
  namespace_with_ipsets: boolean;
  use_pid_dir: boolean;
  instance?: string;
  child_wait_time: number;
  linkbeat_use_polling: boolean;
}

export const globalRootSettings: Field[] = [
  { key: "net_namespace", type: word, repeat: "first", defaultDoc: "the current namespace", doc: "Network namespace (/run/netns/NAME, made by `ip netns add`) the daemon runs in: VRRP, checks and IPVS. It must exist at start; it cannot change at a reload. Names the control socket /run/lbctl/NAME/lbctl.sock and the dump files (keepalived.NAME.data, ...), so daemons in two namespaces need no --socket; `lbctl status --namespace NAME` finds it. `lbctl daemon --namespace NAME` overrides it (keepalived -s)." },
  { key: "net_namespace_ipvs", type: optionalWords(1, undefined, "namespace"), repeat: "first", defaultDoc: "net_namespace", doc: "Network namespace where IPVS is programmed, when it is not the daemon's: a name from /run/netns, or nothing for the main namespace (that of PID 1). Cannot change at a reload." },
  bool("namespace_with_ipsets", "Allow ipsets in a namespace on kernels before 3.13. No effect: lbctl has no ipsets (nftables only), like Debian's keepalived 2.2.7."),
  bool("use_pid_dir", "Create pid files in /run/keepalived."),
  { key: "instance", type: word, repeat: "first", doc: "Name of this daemon when several run in one namespace; it cannot change at a reload. Names the control socket /run/lbctl/lbctl_NAME.sock (/run/lbctl/NS/lbctl_NAME.sock with net_namespace) and the dump files (keepalived.NAME.data, ...); `lbctl status --instance NAME` finds it." },
  { key: "child_wait_time", type: int(0), default: 5, doc: "Seconds the parent waits for children to exit on termination." },
  bool("linkbeat_use_polling", "Poll media link state (MII/ethtool/ioctl) instead of netlink."),
];

/** global_defs keywords written at the top level by mistake (seen in real configs). */
export const globalRootObsolete: Record<string, string> = Object.fromEntries(
  ["enable_script_security", "script_user", "router_id", "vrrp_strict", "vrrp_garp_master_delay", "notification_email", "smtp_server"]
    .map((k) => [k, `'${k}' must be inside global_defs: ignored at the top level (keepalived 2.2.7 says "Unknown keyword '${k}'")`]),
);

/** Top-level fields this module contributes to the root spec. */
export const globalRootFields: Field[] = [
  { key: "global_defs", type: block(globalDefsSpec), repeat: "merge", doc: globalDefsSpec.doc ?? "" },
  ...globalRootSettings,
];
