// Parameters of one VRRP instance as the pure core needs them. The config layer maps keepalived's
// `vrrp_instance` block (keepalived.conf(5), keepalived 2.2.7) onto this; defaults below are keepalived's.

export type VrrpVersion = 2 | 3;
export type IpFamily = 4 | 6;
/** "ah" (IPsec AH, type 2) is deliberately absent: it is refused at validation, see validateParams. */
export type VrrpAuthType = "none" | "pass";

export interface VrrpInstanceParams {
  /** vrrp_instance NAME; used in logs, like keepalived's "(NAME) ..." messages. */
  name: string;
  /** virtual_router_id, 1..255. */
  vrid: number;
  /** version: default global vrrp_version (2); IPv6 instances always use 3. */
  version: VrrpVersion;
  family: IpFamily;
  /** interface the instance runs on (carried for the shell). */
  interface: string;
  /** priority: 1..255, default 100; 255 = address owner. */
  priority: number;
  /** advert_int: default 1 s. v2 needs whole seconds (1..255 s), v3 whole centiseconds (10..40950 ms). */
  advertIntervalMs: number;
  /**
   * state: configured initial state. keepalived 2.2.7 derives MASTER when no state is given and the
   * priority is 255, BACKUP otherwise (vrrp.c vrrp_complete_instance); the config layer applies that.
   */
  initialState: "MASTER" | "BACKUP";
  /** nopreempt: default off. keepalived clears it when state is MASTER or priority is 255. */
  nopreempt: boolean;
  /** preempt_delay: 0..1000 s, default 0. keepalived clears it with state MASTER and with nopreempt. */
  preemptDelayMs: number;
  /** accept / no_accept: default accept (not strict). Only carried for the shell's firewall handling. */
  accept: boolean;
  /** authentication { auth_type PASS|AH }: default none. v2 only. */
  authType: VrrpAuthType;
  /** auth_pass: only the first 8 characters are used (keepalived.conf(5)). */
  authPass?: string;
  /** virtual_ipaddress list, in configured order; the first is the primary one in adverts. */
  vips: string[];
  /** Our source address for adverts (mcast_src_ip / unicast_src_ip or the interface's primary). */
  primaryIp: string;
  /** unicast_peer list; empty means multicast to 224.0.0.18 / ff02::12. */
  unicastPeers: string[];
  /** garp_master_delay: second GARP burst this long after becoming master; default 5 s, 0 = none. */
  garpMasterDelayMs: number;
  /** garp_master_repeat: GARPs per VIP in each burst after becoming master; default 5. */
  garpMasterRepeat: number;
  /** garp_master_refresh: periodic GARP while master; default 0 = none. */
  garpMasterRefreshMs: number;
  /** garp_master_refresh_repeat: GARPs per VIP per refresh; default 1. */
  garpMasterRefreshRepeat: number;
  /** garp_lower_prio_delay: second burst after a lower-priority advert as master; default = garp_master_delay. */
  garpLowerPrioDelayMs: number;
  /** garp_lower_prio_repeat: burst after a lower-priority advert as master; default = garp_master_repeat. */
  garpLowerPrioRepeat: number;
  /** lower_prio_no_advert: don't answer a lower-priority advert with an advert; default false (true if strict). */
  lowerPrioNoAdvert: boolean;
  /** higher_prio_send_advert: send one more advert before yielding to a higher priority; default false. */
  higherPrioSendAdvert: boolean;
  /** down_timer_adverts: adverts in the master down interval, 1..100; default 3 (the RFC's value). */
  downTimerAdverts: number;
  /**
   * old_unicast_checksum: before keepalived 1.3.6, VRRPv3-over-IPv4 unicast adverts carried a checksum
   * whose pseudo-header held the multicast group 224.0.0.18 instead of the peer's address. "auto" (no
   * keyword, keepalived built with OLD_CHKSUM_COMPAT as Debian's is): send the standard checksum, accept
   * the old one and report it (ReceivedAdvert.legacyUnicastChecksum) so the shell switches to sending it,
   * as keepalived does; "always": the keyword; "never": `old_unicast_checksum never`. Absent = "auto".
   */
  oldUnicastChecksum?: "auto" | "always" | "never";
  /**
   * Not a keepalived option: VRRPv3-over-IPv4 checksum with no pseudo-header at all, as some older
   * non-keepalived routers compute it (FRR's `no vrrp N checksum-with-ipv4-pseudoheader`). Sent when set;
   * accepted on receive in addition to the standard one.
   */
  v3ChecksumAsV2: boolean;
}

/** keepalived 2.2.7's defaults for everything that has one. */
export const VRRP_DEFAULTS = {
  version: 2,
  priority: 100,
  advertIntervalMs: 1000,
  initialState: "BACKUP",
  nopreempt: false,
  preemptDelayMs: 0,
  accept: true,
  authType: "none",
  unicastPeers: [] as string[],
  garpMasterDelayMs: 5000,
  garpMasterRepeat: 5,
  garpMasterRefreshMs: 0,
  garpMasterRefreshRepeat: 1,
  garpLowerPrioDelayMs: 5000,
  garpLowerPrioRepeat: 5,
  lowerPrioNoAdvert: false,
  higherPrioSendAdvert: false,
  downTimerAdverts: 3,
  oldUnicastChecksum: "auto",
  v3ChecksumAsV2: false,
} as const satisfies Partial<VrrpInstanceParams>;

export const VRRP_PRIORITY_OWNER = 255;
export const VRRP_IP_TTL = 255;
export const IPPROTO_VRRP = 112;
export const VRRP_MCAST_GROUP4 = "224.0.0.18";
export const VRRP_MCAST_GROUP6 = "ff02::12";
