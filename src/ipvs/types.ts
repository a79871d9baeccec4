// IPVS model: the constants of <linux/ip_vs.h> (generic netlink interface) and the typed shapes lbctl
// uses for services, destinations, counters, timeouts and the sync daemon. Pure data, no I/O.

export const IPVS_GENL_NAME = "IPVS";
export const IPVS_GENL_VERSION = 1;

export const IPVS_CMD_NEW_SERVICE = 1, IPVS_CMD_SET_SERVICE = 2, IPVS_CMD_DEL_SERVICE = 3, IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5, IPVS_CMD_SET_DEST = 6, IPVS_CMD_DEL_DEST = 7, IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9, IPVS_CMD_DEL_DAEMON = 10, IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12, IPVS_CMD_GET_CONFIG = 13, IPVS_CMD_SET_INFO = 14, IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16, IPVS_CMD_FLUSH = 17;

export const IPVS_CMD_ATTR_SERVICE = 1, IPVS_CMD_ATTR_DEST = 2, IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5, IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

export const IPVS_SVC_ATTR_AF = 1, IPVS_SVC_ATTR_PROTOCOL = 2, IPVS_SVC_ATTR_ADDR = 3, IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5, IPVS_SVC_ATTR_SCHED_NAME = 6, IPVS_SVC_ATTR_FLAGS = 7, IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9, IPVS_SVC_ATTR_STATS = 10, IPVS_SVC_ATTR_PE_NAME = 11, IPVS_SVC_ATTR_STATS64 = 12;

export const IPVS_DEST_ATTR_ADDR = 1, IPVS_DEST_ATTR_PORT = 2, IPVS_DEST_ATTR_FWD_METHOD = 3, IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5, IPVS_DEST_ATTR_L_THRESH = 6, IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8, IPVS_DEST_ATTR_PERSIST_CONNS = 9, IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11, IPVS_DEST_ATTR_STATS64 = 12, IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14, IPVS_DEST_ATTR_TUN_FLAGS = 15;

export const IPVS_DAEMON_ATTR_STATE = 1, IPVS_DAEMON_ATTR_MCAST_IFN = 2, IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4, IPVS_DAEMON_ATTR_MCAST_GROUP = 5, IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7, IPVS_DAEMON_ATTR_MCAST_TTL = 8;

export const IPVS_STATS_ATTR_CONNS = 1, IPVS_STATS_ATTR_INPKTS = 2, IPVS_STATS_ATTR_OUTPKTS = 3;
export const IPVS_STATS_ATTR_INBYTES = 4, IPVS_STATS_ATTR_OUTBYTES = 5, IPVS_STATS_ATTR_CPS = 6;
export const IPVS_STATS_ATTR_INPPS = 7, IPVS_STATS_ATTR_OUTPPS = 8, IPVS_STATS_ATTR_INBPS = 9, IPVS_STATS_ATTR_OUTBPS = 10;

export const IPVS_INFO_ATTR_VERSION = 1, IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

// Service flags (struct ip_vs_flags.flags).
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
/** Set by the kernel on every listed service: internal state, never part of a desired configuration. */
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008, IP_VS_SVC_F_SCHED2 = 0x0010, IP_VS_SVC_F_SCHED3 = 0x0020;
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;
/** Every flag user space may set. */
export const IP_VS_SVC_F_USER_MASK = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED1 |
  IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

// Forwarding methods (low bits of the connection flags).
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0, IP_VS_CONN_F_LOCALNODE = 1, IP_VS_CONN_F_TUNNEL = 2, IP_VS_CONN_F_DROUTE = 3;
export const IP_VS_CONN_F_BYPASS = 4;

export const IP_VS_STATE_NONE = 0, IP_VS_STATE_MASTER = 1, IP_VS_STATE_BACKUP = 2;

export const AF_INET = 2, AF_INET6 = 10;
export const IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_SCTP = 132;

export const IP_VS_SCHEDNAME_MAXLEN = 16, IP_VS_PENAME_MAXLEN = 16, IP_VS_IFNAME_MAXLEN = 16;

export type Family = "ipv4" | "ipv6";
export type Protocol = "tcp" | "udp" | "sctp";
export type ForwardMethod = "masq" | "local" | "tunnel" | "droute" | "bypass";
export type TunnelType = "ipip" | "gue" | "gre";

/** Schedulers of Linux 6.x (twos is 6.8+). The kernel is the authority; this list is for messages and tests. */
export const KNOWN_SCHEDULERS = [
  "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
] as const;

/** A virtual service is identified either by protocol + address + port, or by firewall mark (per family). */
export type ServiceKey =
  | { kind: "addr"; family: Family; protocol: Protocol; address: string; port: number }
  | { kind: "fwmark"; family: Family; fwmark: number };

export interface ServiceConfig {
  key: ServiceKey;
  scheduler: string;
  /** IP_VS_SVC_F_* bits (PERSISTENT, ONEPACKET, SCHED1..3); never HASHED. */
  flags: number;
  /** Persistence timeout in seconds (used when flags has PERSISTENT). */
  timeout: number;
  /** Persistence granularity as a prefix length: 0..32 for IPv4, 0..128 for IPv6. */
  netmask: number;
  /** Persistence engine ("sip") or "" for none. */
  peName: string;
}

export interface DestKey {
  family: Family;
  address: string;
  port: number;
}

export interface TunnelOptions {
  type: TunnelType;
  /** GUE destination port (0 for ipip/gre). */
  port: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_* (CSUM = 1, REMCSUM = 2). */
  flags: number;
}

export interface DestConfig extends DestKey {
  method: ForwardMethod;
  weight: number;
  /** Upper / lower connection thresholds; 0 = unlimited. */
  upperThreshold: number;
  lowerThreshold: number;
  /** Only meaningful for the tunnel method; undefined means plain IPIP. */
  tunnel?: TunnelOptions;
}

export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  /** Rates, per second, as the kernel's estimator computes them (every 2 s). */
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface ServiceStatus extends ServiceConfig {
  stats: IpvsStats;
}

export interface DestStatus extends DestConfig {
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: IpvsStats;
}

export interface ServiceWithDests<S extends ServiceConfig = ServiceConfig, D extends DestConfig = DestConfig> {
  service: S;
  dests: D[];
}

export interface IpvsInfo {
  /** e.g. 0x010201 */
  version: number;
  versionText: string;
  connTableSize: number;
}

/** Connection timeouts in seconds; 0 in a set request means "leave unchanged". */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export type SyncDaemonState = "master" | "backup";

export interface SyncDaemonConfig {
  state: SyncDaemonState;
  interface: string;
  syncId: number;
  /** Optional tuning (0 / undefined = kernel default). */
  maxLength?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

export function serviceKeyId(key: ServiceKey): string {
  return key.kind === "fwmark"
    ? `${key.family}/fwmark/${key.fwmark}`
    : `${key.family}/${key.protocol}/${formatHostPort(key.address, key.port)}`;
}

export function destKeyId(dest: DestKey): string {
  return `${dest.family}/${formatHostPort(dest.address, dest.port)}`;
}

export function formatHostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** ipvsadm-like text: "TCP 10.0.0.1:80", "FWM 7 (IPv6)". */
export function describeService(key: ServiceKey): string {
  if (key.kind === "fwmark") return `FWM ${key.fwmark}${key.family === "ipv6" ? " (IPv6)" : ""}`;
  return `${key.protocol.toUpperCase()} ${formatHostPort(key.address, key.port)}`;
}

export function fullNetmask(family: Family): number {
  return family === "ipv4" ? 32 : 128;
}
