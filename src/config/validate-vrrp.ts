// Cross-reference and semantic checks of the VRRP side of an effective configuration:
// what keepalived 2.2.7 reports after reading the file (its wording is kept where it has
// one, so messages match what users search for), plus the checks lbctl adds.
import type { Diagnostics } from "./diagnostics.ts";
import type { CheckEnv } from "./env.ts";
import { blockLoc, locOfKey, type Model } from "./schema.ts";
import { resolveVrrp, type ResolvedVrrp } from "./resolve-vrrp.ts";
import { itemLoc } from "./spec/common.ts";
import { globalDefsOf, type GlobalDefsConfig } from "./spec/global.ts";
import { instanceFamily, instancePriority, vrrpPart, type VrrpInstanceConfig, type VrrpRootConfig } from "./spec/vrrp.ts";
import { parseIp } from "./values.ts";

/** CheckEnv plus what only the VRRP checks need; every extra is optional. */
export interface VrrpCheckEnv extends CheckEnv {
  /** Addresses (without prefix) configured on an interface, for the address-owner check. */
  interfaceAddresses?(name: string): string[];
  /** Why a program may not run as root under enable_script_security; absent = not checked. */
  insecure?(program: string): string | undefined;
}

interface Ctx {
  v: VrrpRootConfig;
  g: GlobalDefsConfig;
  env: VrrpCheckEnv;
  diag: Diagnostics;
  /** The configuration as the daemon runs it, with keepalived's verdicts (resolve-vrrp.ts). */
  model: ResolvedVrrp;
}

export function validateVrrp(effective: Model, env: VrrpCheckEnv, diag: Diagnostics): void {
  const v = vrrpPart(effective);
  const g = globalDefsOf(effective);
  // The decisions (script disabled, weight ignored, strict-mode resets) are the resolved model's,
  // the same the daemon acts on; here they are only printed, in keepalived's words, at file:line.
  const c: Ctx = { v, g, env, diag, model: resolveVrrp(effective, env) };
  checkScriptUser(c);
  checkSyncGroups(c);
  for (const [name, inst] of Object.entries(v.vrrp_instance)) checkInstance(c, name, inst);
  checkDuplicateVrids(c);
  checkDuplicateVips(c);
  checkTrackedObjects(c);
  checkStatic(c);
  reportVerdicts(c);
  checkScriptSecurity(c);
}

/** The model's verdicts on scripts, tracking weights and strict mode; not-started instances are reported by their own checks above. */
function reportVerdicts(c: Ctx): void {
  for (const verdict of c.model.verdicts) {
    if (verdict.type === "notStarted") continue;
    if (verdict.severity === "error") c.diag.error(verdict.message, verdict.loc);
    else c.diag.warning(verdict.message, verdict.loc);
  }
}

// ---------------------------------------------------------------------------

function checkScriptUser(c: Ctx): void {
  const su = c.g.script_user;
  if (su && !c.env.userExists(su.user)) {
    c.diag.error(`Error setting global script uid/gid: user '${su.user}' does not exist`, locOfKey(c.g, "script_user"));
  }
}

function checkScriptSecurity(c: Ctx): void {
  if (c.g.enable_script_security) return;
  const asRoot = c.model.runScripts.find((s) => s.runAs === "root");
  if (asRoot) {
    c.diag.warning("SECURITY VIOLATION - scripts are being executed but script_security not enabled. " +
      "Add 'enable_script_security' to global_defs, or run scripts as a non-root 'script_user' (keepalived -t exits 6 for this)", asRoot.loc);
  }
}

// ---------------------------------------------------------------------------

function checkSyncGroups(c: Ctx): void {
  const groupOf = new Map<string, string>();
  for (const [gname, sg] of Object.entries(c.v.vrrp_sync_group)) {
    const at = locOfKey(sg, "group") ?? blockLoc(sg);
    if (sg.group.length === 0) { c.diag.warning(`Sync group ${gname} has no members - removing`, blockLoc(sg)); continue; }
    let members = 0;
    for (const m of sg.group) {
      if (!(m in c.v.vrrp_instance)) { c.diag.warning(`Virtual router ${m} specified in sync group ${gname} doesn't exist - ignoring`, at); continue; }
      const other = groupOf.get(m);
      if (other !== undefined) { c.diag.error(`Virtual router ${m} cannot exist in more than one sync group (${other} and ${gname})`, at); continue; }
      groupOf.set(m, gname);
      members++;
    }
    if (members === 1) c.diag.warning(`Sync group ${gname} has only 1 virtual router(s) - this probably isn't what you want`, at);
    // keepalived.conf(5): members must all start MASTER or all BACKUP, or the group keeps re-electing.
    const states = new Set(sg.group.filter((m) => groupOf.get(m) === gname).map((m) => c.v.vrrp_instance[m]!.state));
    if (states.size > 1) c.diag.warning(`Sync group ${gname} mixes initial states MASTER and BACKUP: members should all start in the same state`, at);
    checkTrackRefs(c, `(${gname})`, sg);
  }
}

function checkTrackRefs(c: Ctx, who: string, holder: Pick<VrrpInstanceConfig, "track_interface" | "track_script" | "track_file" | "track_process" | "track_bfd">): void {
  const kinds: [keyof typeof holder, Record<string, unknown>, string][] = [
    ["track_script", c.v.vrrp_script, "track script"],
    ["track_file", c.v.track_file, "track file"],
    ["track_process", c.v.vrrp_track_process, "track process"],
    ["track_bfd", c.v.bfd_instance, "track bfd"],
  ];
  for (const [key, defs, what] of kinds) {
    for (const r of holder[key]) {
      if (!(r.name in defs)) c.diag.warning(`${who} ${what} ${r.name} not found, ignoring...`, itemLoc(r) ?? locOfKey(holder, key));
    }
  }
  if (c.env.interfaceExists) {
    for (const r of holder.track_interface) {
      if (!c.env.interfaceExists(r.name)) c.diag.warning(`${who} tracked interface ${r.name} doesn't exist`, itemLoc(r) ?? locOfKey(holder, "track_interface"));
    }
  }
}

// ---------------------------------------------------------------------------

function checkInstance(c: Ctx, name: string, inst: VrrpInstanceConfig): void {
  const { diag, env } = c;
  const here = blockLoc(inst);
  const at = (key: string) => locOfKey(inst, key) ?? here;
  const who = `(${name})`;
  const unicast = inst.unicast_peer.length > 0;
  const family = instanceFamily(inst);
  const fam = family === 4 ? "IPv4" : "IPv6";
  // Version and strict mode as resolved once for every consumer (resolve-vrrp.ts).
  const resolved = c.model.instances.find((r) => r.name === name)!;
  const strict = resolved.strict;
  const priority = instancePriority(inst);

  if (inst.virtual_router_id === undefined) diag.error(`${who} the virtual router id must be set (virtual_router_id 1..255)`, here);
  // keepalived watches a virtual route through its interface; without one it cannot notice the
  // route being deleted behind its back, and says so.
  for (const r of inst.virtual_routes) {
    if (r.dev === undefined && !r.no_track) diag.warning(`Warning - cannot track route ${r.to} with no interface specified, not tracking`, blockLoc(r) ?? at("virtual_routes"));
  }
  if (inst.interface === undefined && !unicast) diag.error(`${who} no interface: set 'interface' (only an instance with unicast peers may omit it)`, here);
  if (inst.interface !== undefined && env.interfaceExists && !env.interfaceExists(inst.interface)) {
    diag.warning(`WARNING - interface ${inst.interface} for vrrp_instance ${name} doesn't exist`, at("interface"));
  }

  // Addresses and their families.
  if (inst.virtual_ipaddress.length === 0) diag.warning(`${who} No VIP specified; at least one is sensible`, here);
  for (const vip of inst.virtual_ipaddress) {
    if (vip.family !== family) diag.error(`${who}: address family must match VRRP instance [${vip.address}] - ${fam} expected`, itemLoc(vip) ?? at("virtual_ipaddress"));
  }
  for (const vip of [...inst.virtual_ipaddress, ...inst.virtual_ipaddress_excluded]) {
    if (vip.dev !== undefined && env.interfaceExists && !env.interfaceExists(vip.dev)) {
      diag.warning(`WARNING - interface ${vip.dev} for ip address ${vip.address}/${vip.prefix} doesn't exist`, itemLoc(vip));
    }
  }
  for (const key of ["mcast_src_ip", "unicast_src_ip"] as const) {
    const a = inst[key];
    if (a !== undefined && parseIp(a)?.family !== family) diag.error(`Configuration error: VRRP instance[${name}] and src address[${a}] MUST be of the same family (${fam})`, at(key));
  }
  for (const p of inst.unicast_peer) {
    if (p.family !== family) diag.error(`Configuration error: VRRP instance[${name}] and unicast peer address[${p.address}] MUST be of the same family (${fam})`, itemLoc(p) ?? at("unicast_peer"));
  }
  if (inst.mcast_dst_ip !== undefined) {
    const d = inst.mcast_dst_ip;
    const ok = d.includes(":") ? /^ff[0-9a-f]2:/i.test(d) : Number(d.split(".")[0]) >= 224 && Number(d.split(".")[0]) <= 239;
    if (!ok) diag.error(`${who} mcast_dst_ip ${d} not${d.includes(":") ? " link-local" : ""} multicast`, at("mcast_dst_ip"));
    else if (parseIp(d)?.family !== family) diag.error(`${who} mcast dest address ${d} MUST match VRRP instance family (${fam})`, at("mcast_dst_ip"));
  }

  // Versions and authentication.
  const version = resolved.version;
  if (inst.version === 2 && family === 6) diag.error(`${who} vrrp_version 2 conflicts with IPv6 addresses (IPv6 needs VRRPv3)`, at("version"));
  if (version === 2 && !Number.isInteger(inst.advert_int)) {
    diag.warning(`${who} VRRPv2 advertisement interval ${inst.advert_int}s must be an integer. rounding to ${Math.max(1, Math.round(inst.advert_int))}`, at("advert_int"));
  }
  if (version === 3 && inst.advert_int >= 40.96) {
    diag.warning(`${who} VRRPv3 advertisement interval ${inst.advert_int}s is out of range. Must be less than 40.96s. Setting to 40.95s`, at("advert_int"));
  } else if (version === 3 && Math.abs(inst.advert_int * 100 - Math.round(inst.advert_int * 100)) > 1e-6) {
    diag.warning(`${who} VRRPv3 advertisement interval ${inst.advert_int}s must be in units of 10ms - rounding`, at("advert_int"));
  }
  // Authentication ignored (v3, strict, no password): a verdict of the resolved model, reported with the others.

  // State, preemption and priority (nopreempt and preempt_delay resets are verdicts of the resolved model).
  if (strict && inst.state === "MASTER" && priority !== 255) diag.warning(`${who} State MASTER must match being address owner (strict mode needs priority 255)`, at("state"));
  if (priority === 255 && env.interfaceAddresses && inst.interface !== undefined) {
    const own = new Set(env.interfaceAddresses(inst.interface));
    for (const vip of inst.virtual_ipaddress) {
      if (!own.has(vip.address)) diag.warning(`${who} priority 255 means address owner, but ${vip.address} is not an address of ${vip.dev ?? inst.interface}`, itemLoc(vip) ?? at("priority"));
    }
  }

  // Unicast details.
  if (!unicast && inst.unicast_ttl !== undefined) diag.warning(`${who}: Cannot use unicast_ttl without unicast peers - resetting`, at("unicast_ttl"));
  if (!unicast && !inst.unicast_fault_no_peer && (inst.unicast_src_ip !== undefined || inst.check_unicast_src || inst.old_unicast_checksum !== undefined)) {
    diag.warning(`${who} A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`,
      at(inst.unicast_src_ip !== undefined ? "unicast_src_ip" : inst.check_unicast_src ? "check_unicast_src" : "old_unicast_checksum"));
  }
  if (inst.vmac_xmit_base && !inst.use_vmac && !inst.use_ipvlan) diag.warning(`${who} vmac_xmit_base is only valid with a vmac`, at("vmac_xmit_base"));
  if (unicast && inst.use_vmac && !inst.vmac_xmit_base) diag.warning(`${who} unicast with use_vmac requires vmac_xmit_base - setting`, at("use_vmac"));

  checkDebounce(c, name, inst);
  checkRulePreferences(c, inst.virtual_rules);
  checkTrackRefs(c, who, inst);
}

/** An address managed twice (by two instances, or twice in one) is added and removed by both. */
function checkDuplicateVips(c: Ctx): void {
  const owner = new Map<string, string>();
  for (const [name, inst] of Object.entries(c.v.vrrp_instance)) {
    for (const vip of [...inst.virtual_ipaddress, ...inst.virtual_ipaddress_excluded]) {
      const key = `${vip.address}|${vip.dev ?? inst.interface ?? ""}`;
      const first = owner.get(key);
      if (first === undefined) { owner.set(key, name); continue; }
      c.diag.warning(first === name
        ? `(${name}) address ${vip.address} is listed twice`
        : `(${name}) address ${vip.address} is also managed by vrrp_instance ${first}: the two instances will fight over it`, itemLoc(vip));
    }
  }
}

/** One VRID per interface, family and destination; unicast instances may share one if their peers differ. */
function checkDuplicateVrids(c: Ctx): void {
  const seen = new Map<string, { name: string; peers: Set<string> }[]>();
  for (const [name, inst] of Object.entries(c.v.vrrp_instance)) {
    if (inst.virtual_router_id === undefined || inst.interface === undefined) continue;
    const family = instanceFamily(inst);
    const dest = inst.unicast_peer.length > 0 ? "unicast" : inst.mcast_dst_ip ?? "default";
    const key = `${inst.interface}|${family}|${dest}|${inst.virtual_router_id}`;
    const peers = new Set(inst.unicast_peer.map((p) => p.address));
    const list = seen.get(key) ?? [];
    // One error per instance, naming the first it collides with (not one per pair: n^2 lines).
    const other = list.find((o) => dest !== "unicast" || [...peers].some((p) => o.peers.has(p)));
    if (other) {
      c.diag.error(`${other.name} and ${name} both use VRID ${inst.virtual_router_id} with IPv${family} on interface ${inst.interface}`, locOfKey(inst, "virtual_router_id") ?? blockLoc(inst));
    }
    list.push({ name, peers });
    seen.set(key, list);
  }
}

function checkTrackedObjects(c: Ctx): void {
  for (const [name, s] of Object.entries(c.v.vrrp_script)) {
    if (s.script === undefined) c.diag.error(`No script set for vrrp_script ${name} - removing`, blockLoc(s));
    if (s.timeout !== undefined && s.timeout > s.interval) {
      c.diag.warning(`vrrp_script ${name}: timeout ${s.timeout}s is longer than interval ${s.interval}s; runs will overlap`, locOfKey(s, "timeout"));
    }
  }
  for (const [name, f] of Object.entries(c.v.track_file)) {
    if (f.file === undefined) c.diag.error(`track_file ${name} has no file set - removing`, blockLoc(f));
  }
  for (const [name, p] of Object.entries(c.v.vrrp_track_process)) {
    if (p.process === undefined) c.diag.error(`track process '${name}' process name not specified`, blockLoc(p));
  }
  for (const [name, b] of Object.entries(c.v.bfd_instance)) {
    if (b.neighbor_ip === undefined) c.diag.error(`Configuration error: BFD instance ${name} has no neighbor address set, disabling instance`, blockLoc(b));
    else if (b.source_ip !== undefined && parseIp(b.source_ip)?.family !== parseIp(b.neighbor_ip)?.family) {
      c.diag.error(`BFD instance ${name}: source_ip and neighbor_ip are not the same address family`, locOfKey(b, "source_ip"));
    }
  }
  for (const gg of c.v.garp_group) {
    if (gg.garp_interval === undefined && gg.gna_interval === undefined) c.diag.warning("garp_group does not have any delay set - removing", blockLoc(gg));
    if (c.env.interfaceExists) {
      for (const i of [...(gg.interface !== undefined ? [gg.interface] : []), ...gg.interfaces]) {
        if (!c.env.interfaceExists(i)) c.diag.warning(`WARNING - interface ${i} specified for garp_group doesn't exist`, locOfKey(gg, gg.interface === i ? "interface" : "interfaces") ?? blockLoc(gg));
      }
    }
  }
  const syncd = c.g.lvs_sync_daemon;
  if (syncd?.instance !== undefined && !(syncd.instance in c.v.vrrp_instance)) {
    c.diag.warning(`lvs_sync_daemon: vrrp_instance ${syncd.instance} doesn't exist`, locOfKey(c.g, "lvs_sync_daemon"));
  }
}

/** A debounce delay must be shorter than the time a backup waits before taking over. */
function checkDebounce(c: Ctx, name: string, inst: VrrpInstanceConfig): void {
  const adverts = inst.down_timer_adverts ?? c.g.vrrp_down_timer_adverts;
  for (const d of c.v.interface_up_down_delays) {
    if (d.interface !== inst.interface) continue;
    if (Math.max(d.down_delay, d.up_delay) >= (adverts - 1) * inst.advert_int) {
      c.diag.warning(`${name}: interface ${d.interface} debounce timer(s) not less than ${adverts - 1} * advert_int - resetting`, itemLoc(d));
    }
  }
}

/** Rules without a preference are added in an order that depends on state changes. */
function checkRulePreferences(c: Ctx, rules: { preference?: number }[]): void {
  for (const r of rules) {
    if (r.preference === undefined) c.diag.warning("Rule has no preference specified - keepalived assigns one (16384 and down). This is probably not what you want.", itemLoc(r));
  }
}

function checkStatic(c: Ctx): void {
  checkRulePreferences(c, c.v.static_rules);
  for (const [gname, tg] of Object.entries(c.v.track_group)) {
    for (const m of tg.group) {
      if (!(m in c.v.vrrp_instance)) c.diag.warning(`track_group ${gname}: vrrp_instance ${m} doesn't exist`, locOfKey(tg, "group") ?? blockLoc(tg));
    }
  }
  for (const item of [...c.v.static_ipaddress, ...c.v.static_routes, ...c.v.static_rules]) {
    if (item.track_group !== undefined && !(item.track_group in c.v.track_group)) {
      c.diag.warning(`track_group ${item.track_group} not found, ignoring`, itemLoc(item));
    }
  }
  if (!c.env.interfaceExists) return;
  const dyn = c.g.dynamic_interfaces !== undefined;
  for (const l of c.v.linkbeat_interfaces) {
    if (!c.env.interfaceExists(l.interface) && !dyn) c.diag.error(`unknown interface ${l.interface} specified for linkbeat interface`, itemLoc(l));
  }
  for (const d of c.v.interface_up_down_delays) {
    if (!c.env.interfaceExists(d.interface) && !dyn) c.diag.error(`unknown interface ${d.interface} specified for up/down delay`, itemLoc(d));
  }
}
