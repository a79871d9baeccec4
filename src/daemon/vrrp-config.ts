// From the resolved VRRP model (config/resolve-vrrp.ts: keepalived's inheritance, vrrp_strict,
// version rules and verdicts, decided once) to what the VRRP core and runtime need. A mapping only:
// nothing is resolved or decided here.
import type { RouteConfig, RuleConfig, VirtualIpConfig } from "../config/spec/common.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import { resolveVrrp, type ResolveEnv, type ResolvedInstance, type ResolvedNotify, type ResolvedTrack, type ResolvedVrrp } from "../config/resolve-vrrp.ts";
import type { TrackFileConfig, VrrpInstanceConfig, VrrpScriptConfig, VrrpTrackProcessConfig } from "../config/spec/vrrp.ts";
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

/** The instances that run, in the core's terms, and why the others do not. */
export function vrrpInstances(effective: Model, primaryAddress: PrimaryAddressLookup): { instances: MappedInstance[]; problems: MappingProblem[] } {
  return instancesOf(resolveVrrp(effective, { primaryAddress }));
}

function instancesOf(model: ResolvedVrrp): { instances: MappedInstance[]; problems: MappingProblem[] } {
  const instances: MappedInstance[] = [];
  const problems: MappingProblem[] = [];
  for (const r of model.instances) {
    const p = instanceParams(r);
    if (typeof p === "string") problems.push({ instance: r.name, message: p });
    else instances.push({ params: p, config: r.config });
  }
  return { instances, problems };
}

/** One resolved instance as the core's parameters, or why it cannot run. */
export function instanceParams(r: ResolvedInstance): VrrpInstanceParams | string {
  if (r.notStarted !== undefined) return r.notStarted;
  // Without a primary address look-up the model leaves the source open; the core needs one.
  if (r.interface === undefined || r.vrid === undefined || r.sourceIp === undefined) return "no source address";
  return {
    name: r.name,
    vrid: r.vrid,
    version: r.version,
    family: r.family,
    interface: r.interface,
    priority: r.priority,
    advertIntervalMs: secondsToMs(r.advertInt),
    initialState: r.initialState,
    nopreempt: r.nopreempt,
    preemptDelayMs: secondsToMs(r.preemptDelay),
    accept: r.accept,
    authType: r.auth.type,
    authPass: r.auth.type === "pass" ? r.auth.pass : undefined,
    vips: r.vips.map((v) => v.address),
    primaryIp: r.sourceIp,
    unicastPeers: r.unicastPeers,
    garpMasterDelayMs: secondsToMs(r.garpMasterDelay),
    garpMasterRepeat: r.garpMasterRepeat,
    garpMasterRefreshMs: secondsToMs(r.garpMasterRefresh),
    garpMasterRefreshRepeat: r.garpMasterRefreshRepeat,
    garpLowerPrioDelayMs: secondsToMs(r.garpLowerPrioDelay),
    garpLowerPrioRepeat: r.garpLowerPrioRepeat,
    lowerPrioNoAdvert: r.lowerPrioNoAdvert,
    higherPrioSendAdvert: r.higherPrioSendAdvert,
    downTimerAdverts: r.downTimerAdverts,
    oldUnicastChecksum: r.oldUnicastChecksum,
    v3ChecksumAsV2: false,
  };
}

// ---------------------------------------------------------------------------
// The whole VRRP side: instances with their addresses, tracking and notify scripts, plus
// the shared tracked objects and sync groups, in the runtime's terms.

export interface VrrpLookups extends ResolveEnv {
  primaryAddress: PrimaryAddressLookup;
  /** uid/gid of a user (script_user, vrrp_script user); undefined when unknown. */
  user(name: string, group?: string): ScriptUser | undefined;
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

function notifyScripts(n: ResolvedNotify): NotifyScripts | undefined {
  const out: NotifyScripts = { master: n.master, backup: n.backup, fault: n.fault, stop: n.stop, generic: n.generic };
  return Object.values(out).some((x) => x !== undefined) ? out : undefined;
}

const refs = (r: ResolvedTrack[]): RuntimeTrackRef[] => r.map((t) => ({ name: t.name, weight: t.ref.weight, reverse: t.ref.reverse }));

/**
 * The VRRP child's configuration: the resolved model (resolve-vrrp.ts) in the runtime's terms, nothing
 * decided here. Scripts the model disabled are neither run nor tracked; weights it ignores are not
 * passed on. `problems`: instances that do not start and scripts not run, in the model's words.
 */
export function vrrpRuntimeConfig(effective: Model, look: VrrpLookups): { config: RuntimeConfig; problems: MappingProblem[]; model: ResolvedVrrp } {
  const model = resolveVrrp(effective, look);
  return { ...runtimeConfigOf(model, effective, look), model };
}

export function runtimeConfigOf(model: ResolvedVrrp, effective: Model, look: Pick<VrrpLookups, "user">): { config: RuntimeConfig; problems: MappingProblem[] } {
  const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  const { instances, problems } = instancesOf(model);
  for (const v of model.verdicts) {
    // The enable_script_security verdicts, as the VRRP child has always reported them.
    if (v.type === "scriptDisabled" && v.reason === "insecure") problems.push({ instance: v.owner, message: `not running '${v.command}': ${v.detail} (enable_script_security)` });
  }
  const dflt = model.defaultScriptUser;
  const scriptUser = dflt.user !== "root" ? look.user(dflt.user, dflt.group) : undefined;
  const byName = new Map(model.instances.map((r) => [r.name, r]));
  const runtimeInstances: RuntimeInstanceConfig[] = instances.map(({ params }) => {
    const r = byName.get(params.name)!;
    return {
      ...params,
      // The runtime matches details to `vips` by address; keep the family the adverts carry.
      vipDetails: r.vips.map(vipSpec),
      excludedVips: r.excludedVips.map(vipSpec),
      virtualRoutes: r.config.virtual_routes.map(route),
      virtualRules: r.config.virtual_rules.map(rule),
      trackInterfaces: refs(r.track.interfaces),
      trackScripts: refs(r.track.scripts),
      trackFiles: refs(r.track.files),
      trackProcesses: refs(r.track.processes),
      dontTrackPrimary: r.dontTrackPrimary,
      notify: notifyScripts(r.notify),
      notifyMasterRxLowerPri: r.notify.masterRxLowerPri,
      checkUnicastSrc: r.checkUnicastSrc,
      skipCheckAdvAddr: r.skipCheckAdvAddr,
      garpIntervalMs: Math.round((global.vrrp_garp_interval ?? 0) * 1000),
      gnaIntervalMs: Math.round((global.vrrp_gna_interval ?? 0) * 1000),
      useVmac: r.config.use_vmac ? (r.config.use_vmac.name ?? true) : undefined,
    };
  });

  const scripts = Object.values(model.scripts)
    .filter((s) => s.used && !s.disabled)
    .map((s): VrrpScriptDef => {
      const c = (effective.vrrp_script as Record<string, VrrpScriptConfig>)[s.name]!;
      const user = c.user ? look.user(c.user.user, c.user.group) : undefined;
      return {
        name: s.name, script: s.command, intervalMs: c.interval * 1000, timeoutMs: (c.timeout ?? c.interval) * 1000,
        weight: c.weight.value, weightReverse: c.weight.reverse, rise: c.rise, fall: c.fall, initFail: c.init_fail, user,
      };
    });
  const trackFiles = Object.entries((effective.track_file ?? {}) as Record<string, TrackFileConfig>)
    .filter(([, f]) => f.file !== undefined)
    .map(([name, f]): TrackFileDef => ({ name, path: f.file!, weight: f.weight.value, weightReverse: f.weight.reverse }));
  const trackProcesses = Object.entries((effective.vrrp_track_process ?? {}) as Record<string, VrrpTrackProcessConfig>)
    .filter(([, p]) => p.process !== undefined && p.process.length > 0)
    .map(([name, p]): TrackProcessDef => ({
      name, process: p.process![0]!, params: p.process!.length > 1 ? p.process!.slice(1).join(" ") : undefined,
      quorum: p.quorum, quorumMax: p.quorum_max, weight: p.weight.value, weightReverse: p.weight.reverse,
    }));
  const syncGroups = model.syncGroups.map((g): SyncGroupConfig => ({ name: g.name, members: g.members, notify: notifyScripts(g.notify), trackingWeight: g.trackingWeight }));
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
