// From the effective configuration to what the VRRP core needs: instance by instance,
// keepalived's inheritance rules (global vrrp_* settings as defaults for each instance,
// version 3 for IPv6, the interface's primary address as source) applied in one place.
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import { instanceFamily, instancePriority, type VrrpInstanceConfig } from "../config/spec/vrrp.ts";
import type { Model } from "../config/schema.ts";
import type { VrrpInstanceParams } from "../vrrp/types.ts";

export interface MappedInstance {
  params: VrrpInstanceParams;
  config: VrrpInstanceConfig;
}

export interface MappingProblem { instance: string; message: string }

/** The address an instance sends from when none is configured (I/O, so injected). */
export type PrimaryAddressLookup = (ifname: string, family: 4 | 6) => string | undefined;

const secondsToMs = (s: number): number => Math.round(s * 1000);

export function vrrpInstances(effective: Model, primaryAddress: PrimaryAddressLookup): { instances: MappedInstance[]; problems: MappingProblem[] } {
  const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  const all = (effective.vrrp_instance ?? {}) as Record<string, VrrpInstanceConfig>;
  const instances: MappedInstance[] = [];
  const problems: MappingProblem[] = [];
  for (const [name, inst] of Object.entries(all)) {
    const r = mapInstance(name, inst, global, primaryAddress);
    if (typeof r === "string") problems.push({ instance: name, message: r });
    else instances.push({ params: r, config: inst });
  }
  return { instances, problems };
}

export function mapInstance(
  name: string,
  inst: VrrpInstanceConfig,
  global: Partial<GlobalDefsConfig>,
  primaryAddress: PrimaryAddressLookup,
): VrrpInstanceParams | string {
  const family = instanceFamily(inst);
  const ifname = inst.interface ?? global.default_interface;
  if (!ifname) return "no interface configured";
  if (inst.virtual_router_id === undefined) return "no virtual_router_id configured";
  const configuredSource = inst.unicast_src_ip ?? inst.mcast_src_ip;
  const primaryIp = configuredSource ?? primaryAddress(ifname, family);
  if (!primaryIp) return `interface ${ifname} has no IPv${family} address to send adverts from`;
  // IPv6 is VRRPv3 only (RFC 5798); keepalived forces it the same way.
  const version = family === 6 ? 3 : ((inst.version ?? global.vrrp_version ?? 2) as 2 | 3);
  const garpMasterDelay = inst.garp_master_delay ?? global.vrrp_garp_master_delay ?? 5;
  const garpMasterRepeat = inst.garp_master_repeat ?? global.vrrp_garp_master_repeat ?? 5;
  const auth = inst.authentication;
  return {
    name,
    vrid: inst.virtual_router_id,
    version,
    family,
    interface: ifname,
    priority: instancePriority(inst),
    advertIntervalMs: secondsToMs(inst.advert_int),
    initialState: inst.state,
    nopreempt: inst.nopreempt,
    preemptDelayMs: secondsToMs(inst.preempt_delay),
    accept: inst.accept ?? !(inst.strict_mode ?? global.vrrp_strict ?? false),
    authType: auth?.auth_type === "PASS" && version === 2 ? "pass" : "none",
    authPass: auth?.auth_type === "PASS" && version === 2 ? auth.auth_pass : undefined,
    vips: inst.virtual_ipaddress.filter((v) => v.family === family).map((v) => v.address),
    primaryIp,
    unicastPeers: inst.unicast_peer.map((p) => p.address),
    garpMasterDelayMs: secondsToMs(garpMasterDelay),
    garpMasterRepeat,
    garpMasterRefreshMs: secondsToMs(inst.garp_master_refresh ?? global.vrrp_garp_master_refresh ?? 0),
    garpMasterRefreshRepeat: inst.garp_master_refresh_repeat ?? global.vrrp_garp_master_refresh_repeat ?? 1,
    garpLowerPrioDelayMs: secondsToMs(inst.garp_lower_prio_delay ?? global.vrrp_garp_lower_prio_delay ?? garpMasterDelay),
    garpLowerPrioRepeat: inst.garp_lower_prio_repeat ?? global.vrrp_garp_lower_prio_repeat ?? garpMasterRepeat,
    lowerPrioNoAdvert: inst.lower_prio_no_advert ?? global.vrrp_lower_prio_no_advert ?? (inst.strict_mode ?? global.vrrp_strict ?? false),
    higherPrioSendAdvert: inst.higher_prio_send_advert ?? global.vrrp_higher_prio_send_advert ?? false,
    downTimerAdverts: inst.down_timer_adverts ?? global.vrrp_down_timer_adverts ?? 3,
    v3ChecksumAsV2: inst.old_unicast_checksum !== undefined,
  };
}
