// The VRRP side of a configuration as keepalived 2.2.7 would run it, resolved once: each instance's
// settings (its keyword, else the global_defs vrrp_* default, else keepalived's default; vrrp_strict;
// version 3 for IPv6; keepalived's fix-ups) and the verdicts keepalived reaches before it starts
// (scripts disabled, tracking weights ignored, instances not started, strict-mode resets).
//
// Every consumer reads this model instead of resolving again: the VRRP child's runtime config
// (daemon/vrrp-config.ts), `lbctl check` (validate-vrrp.ts prints the verdicts with file:line),
// keepalived.data / keepalived.json (daemon/keepalived-dump.ts), `lbctl config show --json`.
// So what `check` says keepalived would do is what the daemon does.
//
// Pure: the machine (files, users, interface addresses) comes in through ResolveEnv. A look-up the
// caller does not provide is not checked (the verdict that needs it is never reached).
// Behaviour checked against keepalived 2.2.7 in a namespace (`keepalived -P`, SIGUSR1/JSON dumps):
// - vrrp_strict forces lower_prio_no_advert on and garp_lower_prio_delay/repeat to 0, even when the
//   instance sets them ("Strict mode requires no lower priority advert. resetting"); accept off, and an
//   explicit `accept` on a VRRPv2 instance is reset ("accept mode for VRRP version 2 does not comply
//   with RFC3768 - resetting"); authentication ignored; unicast peers still used.
// - a track script whose file is missing is removed from every instance ("Disabling track script
//   chk since not found/accessible"): the priority stays the configured one, no fault.
import { blockLoc, locOfKey, type Model } from "./schema.ts";
import { itemLoc, type ScriptConfig, type TrackRef, type VirtualIpConfig } from "./spec/common.ts";
import type { GlobalDefsConfig } from "./spec/global.ts";
import { instanceFamily, instancePriority, vrrpPart, type VrrpInstanceConfig, type VrrpRootConfig } from "./spec/vrrp.ts";
import type { SourceLoc } from "./tree.ts";

/** What resolution may ask of the machine; every look-up is optional (absent = not checked). */
export interface ResolveEnv {
  fileExists?(path: string): boolean;
  isExecutable?(path: string): boolean;
  userExists?(name: string): boolean;
  /** Why a program may not run as root under enable_script_security (util/script-security.ts). */
  insecure?(program: string): string | undefined;
  /** The address an instance sends from when none is configured. */
  primaryAddress?(ifname: string, family: 4 | 6): string | undefined;
}

export type TrackerKind = "interface" | "script" | "file" | "process" | "bfd";

/** A verdict keepalived reaches on the configuration; `message` is keepalived's wording where it has one. */
export type VrrpVerdict = { message: string; severity: "error" | "warning"; loc?: SourceLoc } & (
  | {
      type: "scriptDisabled";
      /** "track script chk", "vrrp_instance VI_1 notify_master", ... */
      what: string;
      /** The instance, group or vrrp_script the script belongs to. */
      owner: string;
      command: string;
      reason: "not found" | "not executable" | "insecure" | "unknown user";
      /** For "insecure": which part of the path another user could change. */
      detail?: string;
    }
  | { type: "weightIgnored"; instance: string; kind: TrackerKind; name: string; reason: "SYNC group" | "address owner" }
  | { type: "notStarted"; instance: string; reason: string }
  | { type: "reset"; instance: string; keyword: string }
);

/** A tracked object an instance keeps, with the weight keepalived applies (the reference's, else the object's). */
export interface ResolvedTrack { name: string; weight: number; reverse: boolean; ref: TrackRef }

export interface ResolvedNotify {
  master?: string; backup?: string; fault?: string; stop?: string;
  /** `notify SCRIPT`: called with TYPE NAME STATE PRIORITY. */
  generic?: string;
  /** notify_master_rx_lower_pri (instances only): called with no arguments, as keepalived's send_event_notify. */
  masterRxLowerPri?: string;
}

export interface ResolvedInstance {
  name: string;
  config: VrrpInstanceConfig;
  /** Why the daemon does not run it; undefined when it runs. */
  notStarted?: string;
  vrid: number | undefined;
  family: 4 | 6;
  version: 2 | 3;
  interface: string | undefined;
  priority: number;
  initialState: "MASTER" | "BACKUP";
  nopreempt: boolean;
  preemptDelay: number;
  advertInt: number;
  strict: boolean;
  accept: boolean;
  auth: { type: "none" } | { type: "pass"; pass: string };
  /** Addresses carried in adverts (the instance's family), then the rest announced but not carried. */
  vips: VirtualIpConfig[];
  excludedVips: VirtualIpConfig[];
  /** The advert source; undefined when the interface has none (then notStarted says so). */
  sourceIp: string | undefined;
  sourceConfigured: boolean;
  unicastPeers: string[];
  /** Multicast destination (not used with unicast peers). */
  mcastGroup: string;
  garpMasterDelay: number;
  garpMasterRepeat: number;
  garpMasterRefresh: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelay: number;
  garpLowerPrioRepeat: number;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  oldUnicastChecksum: "auto" | "always" | "never";
  checkUnicastSrc: boolean;
  skipCheckAdvAddr: boolean;
  dontTrackPrimary: boolean;
  syncGroup: string | null;
  /** Why weighted tracking is dropped for this instance, or null. */
  weightsIgnored: "SYNC group" | "address owner" | null;
  /** What the instance tracks after keepalived's removals (disabled scripts, ignored weights, its own interface). */
  track: Record<"interfaces" | "scripts" | "files" | "processes", ResolvedTrack[]>;
  notify: ResolvedNotify;
  smtpAlert: boolean;
  notifyPriorityChanges: boolean;
}

export interface ResolvedScript {
  name: string;
  command: string;
  /** The user it runs as: its own, else script_user, else keepalived_script if it exists, else root. */
  runAs: string;
  runAsGroup?: string;
  /** Why it does not run, undefined when it does. Unused scripts are not checked (keepalived does not either). */
  disabled?: VrrpVerdict & { type: "scriptDisabled" };
  used: boolean;
}

export interface ResolvedSyncGroup {
  name: string;
  /** Members that exist, each in no other group. */
  members: string[];
  trackingWeight: boolean;
  notify: ResolvedNotify;
  smtpAlert: boolean;
}

/** A script keepalived would run (for the enable_script_security check): where, and as whom. */
export interface RunScript { what: string; runAs: string; loc?: SourceLoc }

export interface ResolvedVrrp {
  instances: ResolvedInstance[];
  scripts: Record<string, ResolvedScript>;
  syncGroups: ResolvedSyncGroup[];
  /** The user scripts without their own run as (script_user, else keepalived_script, else root). */
  defaultScriptUser: { user: string; group?: string };
  /** Every script that will run, with its user. */
  runScripts: RunScript[];
  verdicts: VrrpVerdict[];
}

/** keepalived's smtp_alert default chain for VRRP: the object's own, smtp_alert_vrrp, smtp_alert, else off. */
export function vrrpSmtpAlert(own: boolean | undefined, g: Partial<GlobalDefsConfig>): boolean {
  return own ?? g.smtp_alert_vrrp ?? g.smtp_alert ?? false;
}

const OWNER_PRIORITY = 255;

export function resolveVrrp(effective: Model, env: ResolveEnv = {}): ResolvedVrrp {
  // A configuration may lack whole sections (a role's part, a test's partial model).
  const raw = vrrpPart(effective);
  const v: VrrpRootConfig = {
    ...raw,
    vrrp_instance: raw.vrrp_instance ?? {}, vrrp_script: raw.vrrp_script ?? {}, vrrp_sync_group: raw.vrrp_sync_group ?? {},
    track_file: raw.track_file ?? {}, vrrp_track_process: raw.vrrp_track_process ?? {}, bfd_instance: raw.bfd_instance ?? {},
  };
  const g = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  let verdicts: VrrpVerdict[] = [];
  let runScripts: RunScript[] = [];
  const userExists = (u: string) => env.userExists?.(u) ?? true;
  const defaultScriptUser = g.script_user
    ? { user: g.script_user.user, group: g.script_user.group }
    : { user: env.userExists?.("keepalived_script") ? "keepalived_script" : "root" };
  const secure = g.enable_script_security ?? false;

  /** keepalived's checks before it runs a script; returns the verdict that stops it, if any. */
  const judge = (command: string, what: string, owner: string, runAs: string, loc: SourceLoc | undefined, user?: string): (VrrpVerdict & { type: "scriptDisabled" }) | undefined => {
    const disable = (reason: "not found" | "not executable" | "insecure" | "unknown user", message: string, severity: "error" | "warning" = "warning", detail?: string) => {
      const verdict = { type: "scriptDisabled" as const, what, owner, command, reason, message, severity, loc, ...(detail !== undefined ? { detail } : {}) };
      verdicts.push(verdict);
      return verdict;
    };
    if (user !== undefined && !userExists(user)) return disable("unknown user", `Unable to set uid/gid for ${what}: user '${user}' does not exist`, "error");
    const path = command.trim().split(/\s+/)[0] ?? "";
    // keepalived searches PATH for bare names; only paths can be checked without it.
    if (path.includes("/")) {
      if (env.fileExists && !env.fileExists(path)) return disable("not found", `Disabling ${what} since '${path}' is not found`);
      if (env.isExecutable && !env.isExecutable(path)) return disable("not executable", `Disabling ${what} since '${path}' is not executable`);
    }
    if (secure && runAs === "root" && env.insecure) {
      const why = env.insecure(path);
      // keepalived 2.2.7 -t: "Disabling track script chk due to insecure".
      if (why !== undefined) return disable("insecure", `Disabling ${what} due to insecure (${why}; enable_script_security)`, "warning", why);
    }
    runScripts.push({ what, runAs, loc });
    return undefined;
  };
  const runScript = (s: ScriptConfig | undefined, what: string, owner: string, loc: SourceLoc | undefined): string | undefined => {
    if (!s) return undefined;
    return judge(s.command, what, owner, s.user ?? defaultScriptUser.user, loc, s.user) ? undefined : s.command;
  };

  // vrrp_scripts: a user that does not exist removes the script at parse time; the file is only
  // looked at when something tracks the script. Their verdicts are listed after the instances'
  // (the order `keepalived -t` and `lbctl check` report them in).
  const used = new Set<string>();
  for (const holder of [...Object.values(v.vrrp_instance), ...Object.values(v.vrrp_sync_group)]) for (const r of holder.track_script) used.add(r.name);
  const scripts: Record<string, ResolvedScript> = {};
  for (const [name, s] of Object.entries(v.vrrp_script)) {
    if (s.script === undefined) continue;
    const runAs = s.user?.user ?? defaultScriptUser.user;
    const r: ResolvedScript = { name, command: s.script, runAs, runAsGroup: s.user ? s.user.group : defaultScriptUser.group, used: used.has(name) };
    const loc = locOfKey(s, "script");
    if (s.user && !userExists(s.user.user)) {
      r.disabled = judge(s.script, `vrrp_script ${name}`, `vrrp_script ${name}`, runAs, locOfKey(s, "user"), s.user.user);
    } else if (r.used) {
      r.disabled = judge(s.script, `track script ${name}`, `vrrp_script ${name}`, runAs, loc);
    }
    scripts[name] = r;
  }
  const scriptVerdicts = verdicts, scriptRuns = runScripts;
  verdicts = [];
  runScripts = [];

  // Sync groups: an instance belongs to the first group that names it.
  const groupOf = new Map<string, string>();
  const syncGroups: ResolvedSyncGroup[] = [];
  for (const [name, sg] of Object.entries(v.vrrp_sync_group)) {
    const members = sg.group.filter((m) => m in v.vrrp_instance && !groupOf.has(m));
    for (const m of members) groupOf.set(m, name);
    syncGroups.push({
      name, members,
      trackingWeight: sg.sync_group_tracking_weight || sg.global_tracking,
      notify: groupNotify(sg, (s, k) => runScript(s, `vrrp_sync_group ${name} ${k}`, `vrrp_sync_group ${name}`, locOfKey(sg, k))),
      smtpAlert: vrrpSmtpAlert(sg.smtp_alert, g),
    });
  }

  const instances = Object.entries(v.vrrp_instance).map(([name, inst]) =>
    resolveInstance(name, inst, { v, g, env, verdicts, scripts, group: groupOf.get(name) ?? null, syncGroups, runScript }));

  verdicts.push(...scriptVerdicts);
  runScripts.push(...scriptRuns);
  for (const k of ["notify_fifo_script", "vrrp_notify_fifo_script", "startup_script", "shutdown_script"] as const) {
    runScript(g[k], k, "global_defs", locOfKey(g, k));
  }
  return { instances, scripts, syncGroups, defaultScriptUser, runScripts, verdicts };
}

type RunScriptFn = (s: ScriptConfig | undefined, what: string, owner: string, loc: SourceLoc | undefined) => string | undefined;

function groupNotify(c: Partial<Record<"notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify", ScriptConfig>>, run: (s: ScriptConfig | undefined, key: string) => string | undefined): ResolvedNotify {
  return {
    master: run(c.notify_master, "notify_master"), backup: run(c.notify_backup, "notify_backup"), fault: run(c.notify_fault, "notify_fault"),
    stop: run(c.notify_stop, "notify_stop"), generic: run(c.notify, "notify"),
  };
}

interface InstanceCtx {
  v: VrrpRootConfig;
  g: Partial<GlobalDefsConfig>;
  env: ResolveEnv;
  verdicts: VrrpVerdict[];
  scripts: Record<string, ResolvedScript>;
  group: string | null;
  syncGroups: ResolvedSyncGroup[];
  runScript: RunScriptFn;
}

function resolveInstance(name: string, inst: VrrpInstanceConfig, c: InstanceCtx): ResolvedInstance {
  const { g, verdicts } = c;
  const here = blockLoc(inst);
  const at = (key: string) => locOfKey(inst, key) ?? here;
  const reset = (keyword: string, message: string) => verdicts.push({ type: "reset", instance: name, keyword, message, severity: "warning", loc: at(keyword) });
  const family = instanceFamily(inst);
  // IPv6 is VRRPv3 only (RFC 5798); keepalived forces it the same way.
  const version: 2 | 3 = family === 6 ? 3 : (inst.version ?? g.vrrp_version ?? 2) === 3 ? 3 : 2;
  const strict = inst.strict_mode ?? g.vrrp_strict ?? false;
  const priority = instancePriority(inst);
  const ifname = inst.interface ?? g.default_interface;

  // Preemption fix-ups (vrrp.c vrrp_complete_instance; the core applies them too, see params.ts).
  let nopreempt = inst.nopreempt;
  if (nopreempt && priority === OWNER_PRIORITY) reset("nopreempt", `(${name}) nopreempt is incompatible with priority 255. resetting nopreempt`);
  else if (nopreempt && inst.state === "MASTER") reset("nopreempt", `(${name}) Warning - nopreempt will not work with initial state MASTER - clearing`);
  if (nopreempt && (priority === OWNER_PRIORITY || inst.state === "MASTER")) nopreempt = false;
  if (inst.preempt_delay > 0 && strict) reset("preempt_delay", `(${name}) preempt_delay is incompatible with strict mode - resetting`);
  else if (inst.preempt_delay > 0 && inst.state === "MASTER") reset("preempt_delay", `(${name}) Warning - preempt delay will not work with initial state MASTER - clearing`);
  const preemptDelay = strict || inst.state === "MASTER" || nopreempt ? 0 : inst.preempt_delay;

  // vrrp_strict (checked with 2.2.7): no answer to lower priority adverts, no GARP bursts for them,
  // no accept mode (an explicit `accept` is reset on VRRPv2), no authentication.
  if (strict && inst.lower_prio_no_advert === false) reset("lower_prio_no_advert", `(${name}) Strict mode requires no lower priority advert. resetting`);
  if (strict && (inst.garp_lower_prio_repeat ?? 0) > 0) reset("garp_lower_prio_repeat", `(${name}) Strict mode requires no repeat garps. resetting`);
  if (strict && version === 2 && inst.accept === true) reset("accept", `(${name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`);
  const accept = strict ? version === 3 && inst.accept === true : inst.accept ?? true;
  // Authentication: VRRPv2 only, never with strict (RFC 3768 removed it), and not without a password.
  if (inst.authentication) {
    const who = `(${name})`;
    if (inst.authentication.auth_pass === undefined) reset("authentication", `${who} Authentication specified but no password given. Ignoring`);
    else if (version === 3) reset("authentication", `${who} VRRP version 3 does not support authentication. Ignoring.`);
    else if (strict) reset("authentication", `${who} Strict mode does not support authentication. Ignoring.`);
  }
  const pass = inst.authentication?.auth_type === "PASS" ? inst.authentication.auth_pass : undefined;
  const auth = pass !== undefined && version === 2 && !strict ? { type: "pass" as const, pass: pass.slice(0, 8) } : { type: "none" as const };

  const garpMasterDelay = inst.garp_master_delay ?? g.vrrp_garp_master_delay ?? 5;
  const garpMasterRepeat = inst.garp_master_repeat ?? g.vrrp_garp_master_repeat ?? 5;
  const configuredSource = inst.unicast_src_ip ?? inst.mcast_src_ip;
  const sourceIp = configuredSource ?? (ifname !== undefined ? c.env.primaryAddress?.(ifname, family) : undefined);

  const weightsIgnored = priority === OWNER_PRIORITY ? "address owner" as const
    : c.group !== null && !c.syncGroups.find((s) => s.name === c.group)?.trackingWeight ? "SYNC group" as const : null;
  const track = resolveTracks(name, inst, weightsIgnored, c);

  const notify: ResolvedNotify = {
    ...groupNotify(inst, (s, k) => c.runScript(s, `vrrp_instance ${name} ${k}`, name, at(k))),
    masterRxLowerPri: c.runScript(inst.notify_master_rx_lower_pri, `vrrp_instance ${name} notify_master_rx_lower_pri`, name, at("notify_master_rx_lower_pri")),
  };
  if (inst.notify_deleted?.command !== undefined) c.runScript(inst.notify_deleted as ScriptConfig, `vrrp_instance ${name} notify_deleted`, name, at("notify_deleted"));

  let notStarted: string | undefined;
  if (ifname === undefined) notStarted = "no interface configured";
  else if (inst.virtual_router_id === undefined) notStarted = "no virtual_router_id configured";
  else if (sourceIp === undefined && c.env.primaryAddress) notStarted = `interface ${ifname} has no IPv${family} address to send adverts from`;
  if (notStarted !== undefined) verdicts.push({ type: "notStarted", instance: name, reason: notStarted, message: `(${name}) not started: ${notStarted}`, severity: "error", loc: here });

  return {
    name, config: inst, notStarted,
    vrid: inst.virtual_router_id, family, version, interface: ifname, priority,
    initialState: inst.state, nopreempt, preemptDelay, advertInt: inst.advert_int,
    strict, accept, auth,
    vips: inst.virtual_ipaddress.filter((a) => a.family === family),
    excludedVips: [...inst.virtual_ipaddress.filter((a) => a.family !== family), ...inst.virtual_ipaddress_excluded],
    sourceIp, sourceConfigured: configuredSource !== undefined,
    unicastPeers: inst.unicast_peer.map((p) => p.address),
    mcastGroup: inst.mcast_dst_ip ?? (family === 4 ? g.vrrp_mcast_group4 ?? "224.0.0.18" : g.vrrp_mcast_group6 ?? "ff02::12"),
    garpMasterDelay, garpMasterRepeat,
    garpMasterRefresh: inst.garp_master_refresh ?? g.vrrp_garp_master_refresh ?? 0,
    garpMasterRefreshRepeat: inst.garp_master_refresh_repeat ?? g.vrrp_garp_master_refresh_repeat ?? 1,
    garpLowerPrioDelay: strict ? 0 : inst.garp_lower_prio_delay ?? g.vrrp_garp_lower_prio_delay ?? garpMasterDelay,
    garpLowerPrioRepeat: strict ? 0 : inst.garp_lower_prio_repeat ?? g.vrrp_garp_lower_prio_repeat ?? garpMasterRepeat,
    downTimerAdverts: inst.down_timer_adverts ?? g.vrrp_down_timer_adverts ?? 3,
    lowerPrioNoAdvert: strict || (inst.lower_prio_no_advert ?? g.vrrp_lower_prio_no_advert ?? false),
    higherPrioSendAdvert: inst.higher_prio_send_advert ?? g.vrrp_higher_prio_send_advert ?? false,
    // keepalived's old_unicast_checksum [never]: "auto" detects pre-1.3.6 peers by their checksum.
    oldUnicastChecksum: inst.old_unicast_checksum === undefined ? "auto" : inst.old_unicast_checksum[0] === "never" ? "never" : "always",
    checkUnicastSrc: inst.check_unicast_src || (g.vrrp_check_unicast_src ?? false),
    skipCheckAdvAddr: inst.skip_check_adv_addr ?? g.vrrp_skip_check_adv_addr ?? false,
    dontTrackPrimary: inst.dont_track_primary,
    syncGroup: c.group,
    weightsIgnored,
    track,
    notify,
    smtpAlert: vrrpSmtpAlert(inst.smtp_alert, g),
    notifyPriorityChanges: inst.notify_priority_changes ?? (g as { vrrp_notify_priority_changes?: boolean }).vrrp_notify_priority_changes ?? false,
  };
}

/**
 * keepalived ignores tracking weights of an address owner and of sync group members (unless the
 * group sets sync_group_tracking_weight); weight-0 trackers (failure = FAULT) always count. A
 * reference without a weight takes the tracked object's own. Disabled scripts are removed.
 */
function resolveTracks(name: string, inst: VrrpInstanceConfig, why: ResolvedInstance["weightsIgnored"], c: InstanceCtx): ResolvedInstance["track"] {
  const { v } = c;
  const reason = why === "address owner" ? "address_owner" : why;
  const ignored = (kind: TrackerKind, r: TrackRef, message: string) =>
    c.verdicts.push({ type: "weightIgnored", instance: name, kind, name: r.name, reason: why!, message, severity: "warning", loc: itemLoc(r) ?? locOfKey(inst, `track_${kind}`) });
  const keep = (kind: TrackerKind, refs: TrackRef[], defWeight: (r: TrackRef) => number | undefined, message: (r: TrackRef) => string): ResolvedTrack[] => {
    const out: ResolvedTrack[] = [];
    for (const r of refs) {
      const w = defWeight(r);
      if (w === undefined) continue; // not defined: validate says so, keepalived ignores it
      const weight = r.weight ?? w;
      if (why !== null && weight !== 0) { ignored(kind, r, message(r)); continue; }
      out.push({ name: r.name, weight, reverse: r.reverse ?? false, ref: r });
    }
    return out;
  };
  // bfd is not run by lbctl, but keepalived's verdict on its weight is the same.
  keep("bfd", inst.track_bfd, (r) => (r.name in v.bfd_instance ? v.bfd_instance[r.name]!.weight.value : undefined),
    (r) => `(${name}) ignoring weight from tracked bfd ${r.name} due to ${reason}. specify weight 0`);
  return {
    interfaces: keep("interface", inst.track_interface.filter((r) => r.name !== inst.interface), () => 0, (r) =>
      why === "address owner" ? `(${name}) ignoring ${r.name} tracked interface due to address owner` : `(${name}) ignoring ${r.name} tracked interface weight due to SYNC group`),
    scripts: keep("script", inst.track_script, (r) => {
      const s = c.scripts[r.name];
      return s && !s.disabled ? v.vrrp_script[r.name]!.weight.value : undefined;
    }, (r) => `(${name}) ignoring tracked script ${r.name} with weights due to ${reason}`),
    files: keep("file", inst.track_file, (r) => (v.track_file[r.name]?.file !== undefined ? v.track_file[r.name]!.weight.value : undefined),
      (r) => `(${name}) ignoring weight from tracked file ${r.name} due to ${reason}. specify weight 0`),
    processes: keep("process", inst.track_process, (r) => (v.vrrp_track_process[r.name]?.process?.length ? v.vrrp_track_process[r.name]!.weight.value : undefined),
      (r) => `(${name}) ignoring weight from tracked process ${r.name} due to ${reason}. specify weight 0`),
  };
}

// ---------------------------------------------------------------------------
// A plain JSON view of the model, for `lbctl config show --json` and the tests that compare
// every view with it: settings as resolved, verdicts with where they come from.

export interface ResolvedInstanceView extends Omit<ResolvedInstance, "config" | "track" | "vips" | "excludedVips" | "auth"> {
  auth: "none" | "pass";
  vips: string[];
  excludedVips: string[];
  track: Record<"interfaces" | "scripts" | "files" | "processes", { name: string; weight: number; reverse: boolean }[]>;
}

export interface ResolvedVrrpView {
  instances: ResolvedInstanceView[];
  syncGroups: ResolvedSyncGroup[];
  /** The scripts that are not run, and why. */
  disabledScripts: { name: string; reason: string }[];
  verdicts: { type: VrrpVerdict["type"]; severity: "error" | "warning"; message: string; at?: string }[];
}

export function resolvedView(m: ResolvedVrrp): ResolvedVrrpView {
  const trackView = (t: ResolvedTrack[]) => t.map(({ name, weight, reverse }) => ({ name, weight, reverse }));
  const addr = (v: VirtualIpConfig) => (v.prefix === (v.family === 4 ? 32 : 128) ? v.address : `${v.address}/${v.prefix}`);
  return {
    instances: m.instances.map(({ config: _config, track, vips, excludedVips, auth, ...rest }) => ({
      ...rest,
      auth: auth.type,
      vips: vips.map(addr),
      excludedVips: excludedVips.map(addr),
      track: { interfaces: trackView(track.interfaces), scripts: trackView(track.scripts), files: trackView(track.files), processes: trackView(track.processes) },
    })),
    syncGroups: m.syncGroups,
    disabledScripts: Object.values(m.scripts).filter((s) => s.disabled).map((s) => ({ name: s.name, reason: s.disabled!.reason })),
    verdicts: m.verdicts.map((v) => ({ type: v.type, severity: v.severity, message: v.message, ...(v.loc ? { at: `${v.loc.file}:${v.loc.line}:${v.loc.col}` } : {}) })),
  };
}

/** The verdicts that concern one instance: its own, and those on the scripts it tracks or runs (for `lbctl status`). */
export function instanceVerdicts(m: ResolvedVrrp, name: string): string[] {
  const r = m.instances.find((i) => i.name === name);
  const tracked = new Set((r?.config.track_script ?? []).map((t) => `vrrp_script ${t.name}`));
  return m.verdicts
    .filter((v) => v.type !== "notStarted" && (v.type === "scriptDisabled" ? v.owner === name || tracked.has(v.owner) : v.instance === name))
    .map((v) => v.message);
}
