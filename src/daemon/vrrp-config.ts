// From the effective configuration to what the VRRP core needs: instance by instance,
// keepalived's inheritance rules (global vrrp_* settings as defaults for each instance,
// version 3 for IPv6, the interface's primary address as source) applied in one place.
import type { RouteConfig, RuleConfig, TrackRef, VirtualIpConfig } from "../config/spec/common.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import {
  instanceFamily, instancePriority,
  type TrackFileConfig, type VrrpInstanceConfig, type VrrpScriptConfig, type VrrpSyncGroupConfig, type VrrpTrackProcessConfig,
} from "../config/spec/vrrp.ts";
import type { Model } from "../config/schema.ts";
import type { NotifyScripts } from "../vrrp/notify.ts";
import type { RuntimeConfig, RuntimeInstanceConfig, SyncGroupConfig, TrackRef as RuntimeTrackRef } from "../vrrp/runtime.ts";
import type { ScriptUser } from "../vrrp/scripts.ts";
import type { TrackFileDef, TrackProcessDef, VrrpScriptDef } from "../vrrp/tracking.ts";
import type { VrrpInstanceParams } from "../vrrp/types.ts";
import type { VipSpec, VirtualRoute, VirtualRule } from "../vrrp/vips.ts";

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
    // keepalived's old_unicast_checksum [never]: "auto" detects pre-1.3.6 peers by their checksum.
    oldUnicastChecksum: inst.old_unicast_checksum === undefined ? "auto" : inst.old_unicast_checksum[0] === "never" ? "never" : "always",
    v3ChecksumAsV2: false,
  };
}

// ---------------------------------------------------------------------------
// The whole VRRP side: instances with their addresses, tracking and notify scripts, plus
// the shared tracked objects and sync groups, in the runtime's terms.

export interface VrrpLookups {
  primaryAddress: PrimaryAddressLookup;
  /** uid/gid of a user (script_user, vrrp_script user); undefined when unknown. */
  user(name: string, group?: string): ScriptUser | undefined;
  /** Why a program may not run as root under enable_script_security (see util/script-security.ts). */
  insecure(program: string): string | undefined;
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };
const tableNumber = (t: string | undefined): number | undefined =>
  t === undefined ? undefined : TABLES[t] ?? (Number.isInteger(Number(t)) ? Number(t) : undefined);

function vipSpec(v: VirtualIpConfig): VipSpec {
  const full = v.prefix === (v.family === 4 ? 32 : 128) ? v.address : `${v.address}/${v.prefix}`;
  return { address: full, dev: v.dev, scope: v.scope, label: v.label, brd: v.brd };
}

function route(r: RouteConfig): VirtualRoute {
  return { dst: r.to, via: r.via, dev: r.dev, src: r.src, table: tableNumber(r.table), type: r.type as VirtualRoute["type"] };
}

function rule(r: RuleConfig): VirtualRule {
  return { family: r.family, from: r.from, to: r.to, table: tableNumber(r.table), priority: r.preference };
}

/** Drops a command that enable_script_security forbids (it would run as root and is not root's alone). */
type ScriptGate = (command: string | undefined, runsAsRoot: boolean, owner: string) => string | undefined;

function scriptGate(secure: boolean, look: VrrpLookups, problems: MappingProblem[]): ScriptGate {
  return (command, runsAsRoot, owner) => {
    if (command === undefined || !secure || !runsAsRoot) return command;
    const why = look.insecure(command.trim().split(/\s+/)[0] ?? "");
    if (why === undefined) return command;
    problems.push({ instance: owner, message: `not running '${command}': ${why} (enable_script_security)` });
    return undefined;
  };
}

function notifyScripts(
  c: Pick<VrrpInstanceConfig, "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify">,
  gate: ScriptGate, rootNotify: boolean, owner: string,
): NotifyScripts | undefined {
  const g = (cmd: string | undefined) => gate(cmd, rootNotify, owner);
  const n: NotifyScripts = {
    master: g(c.notify_master?.command), backup: g(c.notify_backup?.command), fault: g(c.notify_fault?.command),
    stop: g(c.notify_stop?.command), generic: g(c.notify?.command),
  };
  return Object.values(n).some((x) => x !== undefined) ? n : undefined;
}

const refs = (r: TrackRef[]): RuntimeTrackRef[] => r.map((t) => ({ name: t.name, weight: t.weight, reverse: t.reverse }));

export function vrrpRuntimeConfig(effective: Model, look: VrrpLookups): { config: RuntimeConfig; problems: MappingProblem[] } {
  const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  const { instances, problems } = vrrpInstances(effective, look.primaryAddress);
  const scriptUserName = global.script_user;
  const scriptUser = scriptUserName ? look.user(scriptUserName.user, scriptUserName.group) : undefined;
  const gate = scriptGate(global.enable_script_security ?? false, look, problems);
  const rootNotify = scriptUser === undefined || scriptUser.uid === 0;
  const runtimeInstances: RuntimeInstanceConfig[] = instances.map(({ params, config: c }) => ({
    ...params,
    // The runtime matches details to `vips` by address; keep the family the adverts carry.
    vipDetails: c.virtual_ipaddress.filter((v) => v.family === params.family).map(vipSpec),
    excludedVips: [...c.virtual_ipaddress.filter((v) => v.family !== params.family), ...c.virtual_ipaddress_excluded].map(vipSpec),
    virtualRoutes: c.virtual_routes.map(route),
    virtualRules: c.virtual_rules.map(rule),
    trackInterfaces: refs(c.track_interface),
    trackScripts: refs(c.track_script),
    trackFiles: refs(c.track_file),
    trackProcesses: refs(c.track_process),
    dontTrackPrimary: c.dont_track_primary,
    notify: notifyScripts(c, gate, rootNotify, params.name),
    garpIntervalMs: Math.round((global.vrrp_garp_interval ?? 0) * 1000),
    gnaIntervalMs: Math.round((global.vrrp_gna_interval ?? 0) * 1000),
    useVmac: c.use_vmac ? (c.use_vmac.name ?? true) : undefined,
  }));

  const scripts = Object.entries((effective.vrrp_script ?? {}) as Record<string, VrrpScriptConfig>)
    .map(([name, s]) => {
      const user = s.user ? look.user(s.user.user, s.user.group) : undefined;
      const runAs = user ?? scriptUser;
      return { name, s, user, script: gate(s.script, runAs === undefined || runAs.uid === 0, `vrrp_script ${name}`) };
    })
    .filter((x) => x.script !== undefined)
    .map(({ name, s, user, script }): VrrpScriptDef => ({
      name, script: script!, intervalMs: s.interval * 1000, timeoutMs: (s.timeout ?? s.interval) * 1000,
      weight: s.weight.value, weightReverse: s.weight.reverse, rise: s.rise, fall: s.fall, initFail: s.init_fail, user,
    }));
  const trackFiles = Object.entries((effective.track_file ?? {}) as Record<string, TrackFileConfig>)
    .filter(([, f]) => f.file !== undefined)
    .map(([name, f]): TrackFileDef => ({ name, path: f.file!, weight: f.weight.value, weightReverse: f.weight.reverse }));
  const trackProcesses = Object.entries((effective.vrrp_track_process ?? {}) as Record<string, VrrpTrackProcessConfig>)
    .filter(([, p]) => p.process !== undefined && p.process.length > 0)
    .map(([name, p]): TrackProcessDef => ({
      name, process: p.process![0]!, params: p.process!.length > 1 ? p.process!.slice(1).join(" ") : undefined,
      quorum: p.quorum, quorumMax: p.quorum_max, weight: p.weight.value, weightReverse: p.weight.reverse,
    }));
  const syncGroups = Object.entries((effective.vrrp_sync_group ?? {}) as Record<string, VrrpSyncGroupConfig>)
    .map(([name, g]): SyncGroupConfig => ({ name, members: g.group, notify: notifyScripts(g, gate, rootNotify, `vrrp_sync_group ${name}`) }));
  return {
    config: {
      instances: runtimeInstances,
      syncGroups,
      scripts,
      trackFiles,
      trackProcesses,
      notifyFifo: (global.vrrp_notify_fifo ?? global.notify_fifo)?.path,
      scriptUser,
    },
    problems,
  };
}
