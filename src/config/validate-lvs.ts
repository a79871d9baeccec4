// Checks across the LVS part of an effective configuration: references between blocks,
// duplicates, address families, forwarding/port consistency, scheduler flags, quorum,
// scripts and users on this machine. keepalived 2.2.7 "corrects" many of these silently
// or with a log line; lbctl says what is wrong and where.
import type { Diagnostics } from "./diagnostics.ts";
import type { CheckEnv } from "./env.ts";
import { blockLoc, locOfKey, type Model } from "./schema.ts";
import type { CheckerConfig, HttpCheckConfig, UdpCheckConfig } from "./spec/checkers.ts";
import {
  DEFAULT_PERSISTENCE_TIMEOUT, describeServer, type LvsConfig, type RealServerConfig, type VirtualServerConfig,
} from "./spec/lvs.ts";
import type { ScriptConfig, VirtualIpConfig } from "./spec/common.ts";
import { parseIpRange, scriptProgram, type ServerAddress } from "./spec/lvs-values.ts";
import { parseIp } from "./values.ts";
import type { SourceLoc } from "./tree.ts";

/** Where a value was written, else where its block starts. */
function where(obj: object, key?: string): SourceLoc | undefined {
  return (key !== undefined ? locOfKey(obj, key) : undefined) ?? blockLoc(obj);
}
function wasSet(obj: object, key: string): boolean { return locOfKey(obj, key) !== undefined; }

function familyOf(ip: string | undefined): 4 | 6 | undefined { return ip === undefined ? undefined : parseIp(ip)?.family; }
const fam = (f: 4 | 6): string => (f === 4 ? "IPv4" : "IPv6");

function isLinkLocal6(ip: string): boolean { return /^fe[89ab][0-9a-f]?:/i.test(ip); }

/** Addresses the VRRP instances manage (for ha_suspend). */
function vrrpAddresses(root: Model): Set<string> {
  const out = new Set<string>();
  const instances = (root.vrrp_instance ?? {}) as Record<string, { virtual_ipaddress?: VirtualIpConfig[]; virtual_ipaddress_excluded?: VirtualIpConfig[] }>;
  for (const inst of Object.values(instances)) {
    for (const v of [...(inst.virtual_ipaddress ?? []), ...(inst.virtual_ipaddress_excluded ?? [])]) {
      const ip = parseIp(v.address);
      if (ip) out.add(ip.text);
    }
  }
  return out;
}

function namesIn(root: Model, ...keys: string[]): Set<string> {
  const out = new Set<string>();
  for (const k of keys) {
    const v = root[k];
    if (typeof v === "object" && v !== null && !Array.isArray(v)) for (const n of Object.keys(v)) out.add(n);
  }
  return out;
}

export function validateLvs(effective: Model, env: CheckEnv, diag: Diagnostics): void {
  const lvs = effective as LvsConfig;
  const groups = lvs.virtual_server_group ?? {};
  const vips = vrrpAddresses(effective);
  const trackFiles = namesIn(effective, "track_file");
  const bfds = namesIn(effective, "bfd_instance");

  // --- virtual_server_group
  for (const [name, g] of Object.entries(groups)) {
    const entries = g.entries ?? [];
    if (entries.length === 0) { diag.warning(`virtual_server_group ${name} has no entries and is ignored`, where(g)); continue; }
    let v4 = false, v6 = false, fwmarkNoFamily = false;
    for (const e of entries) {
      if ("fwmark" in e) { if (e.family === "inet") v4 = true; else if (e.family === "inet6") v6 = true; else fwmarkNoFamily = true; continue; }
      const r = parseIpRange(e.ip);
      if (typeof r !== "string") { if (r.family === 4) v4 = true; else v6 = true; }
    }
    if (v4 && v6 && fwmarkNoFamily) diag.error(`virtual_server_group ${name} mixes IPv4 and IPv6 addresses, so each fwmark needs a family (inet or inet6)`, where(g));
  }

  // --- SSL
  if (lvs.ssl) {
    for (const key of ["ca", "certificate", "key"] as const) {
      const file = lvs.ssl[key];
      if (file !== undefined && !env.fileExists(file)) diag.error(`SSL ${key} file '${file}' does not exist`, where(lvs.ssl, key));
    }
  }

  // --- virtual servers
  const seen = new Map<string, SourceLoc | undefined>();
  for (const vs of lvs.virtual_server ?? []) {
    const name = `virtual_server ${describeServer(vs as unknown as Model)}`;
    const byAddress = vs.ip !== undefined;
    const isFwmark = vs.fwmark !== undefined;
    const group = vs.group !== undefined ? groups[vs.group] : undefined;
    const groupHasFwmark = group?.entries.some((e) => "fwmark" in e) ?? false;
    const groupHasAddr = group?.entries.some((e) => "ip" in e) ?? false;
    const vsFamily = familyOf(vs.ip) ?? (vs.ip_family === "inet6" ? 6 : vs.ip_family === "inet" ? 4 : undefined);

    if (vs.group !== undefined && !group) diag.error(`${name}: no virtual_server_group named '${vs.group}'`, where(vs, "group"));

    // Duplicates: IPVS identifies a service by address+port+protocol, by fwmark+family, and a group expands to its entries.
    const id = byAddress ? `${vs.ip}|${vs.port ?? 0}|${vs.protocol}` : isFwmark ? `fwmark|${vs.fwmark}|${vsFamily ?? 4}` : `group|${vs.group}|${vs.protocol}|${vsFamily ?? ""}`;
    if (seen.has(id)) {
      const first = seen.get(id);
      diag.error(`${name} (${isFwmark ? "fwmark" : vs.protocol}) is defined twice${first ? `; first at ${first.file}:${first.line}` : ""}`, where(vs));
    } else seen.set(id, where(vs));

    if (vs.ip_family !== undefined && familyOf(vs.ip) !== undefined && familyOf(vs.ip) !== (vs.ip_family === "inet" ? 4 : 6)) {
      diag.error(`${name}: ip_family ${vs.ip_family} conflicts with the service address`, where(vs, "ip_family"));
    }

    // Protocol, port and one-packet scheduling (address services).
    const addressService = byAddress || (group !== undefined && groupHasAddr);
    if (addressService && !wasSet(vs, "protocol")) diag.warning(`${name}: no protocol set; keepalived 2.2.7 defaults to UDP, set 'protocol TCP' if that is meant`, where(vs));
    if (!addressService && (isFwmark || groupHasFwmark) && wasSet(vs, "protocol")) diag.warning(`${name}: 'protocol' is ignored for fwmark services`, where(vs, "protocol"));
    if (addressService && vs.ops && vs.protocol !== "UDP") diag.warning(`${name}: 'ops' (one-packet scheduling) requires UDP; ignored for ${vs.protocol}`, where(vs, "ops"));
    if (byAddress && vs.port === undefined && vs.persistence_timeout === undefined && vs.persistence_granularity === undefined) {
      diag.warning(`${name}: a service without a port must be persistent; keepalived makes it persistent for ${DEFAULT_PERSISTENCE_TIMEOUT} seconds`, where(vs, "ip"));
    }
    if (vs.persistence_granularity !== undefined) {
      if (vs.persistence_timeout === undefined) {
        diag.warning(`${name}: 'persistence_granularity' without 'persistence_timeout' makes the service persistent for ${DEFAULT_PERSISTENCE_TIMEOUT} seconds`, where(vs, "persistence_granularity"));
      }
      const prefixForm = /^\d+$/.test(vs.persistence_granularity);
      if (vsFamily !== undefined && (vsFamily === 6) !== prefixForm) {
        diag.error(`${name}: persistence_granularity '${vs.persistence_granularity}' must be ${vsFamily === 6 ? "a prefix length 1..128 for an IPv6" : "a netmask for an IPv4"} service`, where(vs, "persistence_granularity"));
      }
    }
    if (vs.persistence_engine !== undefined && vs.persistence_engine !== "sip") diag.warning(`${name}: unknown persistence_engine '${vs.persistence_engine}' (the kernel has only sip)`, where(vs, "persistence_engine"));

    // Scheduler flags only mean something to their scheduler.
    for (const [key, kw, sched] of [["sh_port", "sh-port", "sh"], ["sh_fallback", "sh-fallback", "sh"], ["mh_port", "mh-port", "mh"], ["mh_fallback", "mh-fallback", "mh"]] as const) {
      if (vs[key] && vs.lvs_sched !== sched) diag.warning(`${name}: '${kw}' only applies to the ${sched} scheduler; ignored with ${vs.lvs_sched}`, where(vs, key));
    }

    // ha_suspend needs an address this node may or may not hold.
    if (vs.ha_suspend) {
      if (isFwmark || groupHasFwmark) diag.warning(`${name}: ha_suspend cannot be used with fwmarks and is ignored`, where(vs, "ha_suspend"));
      else if (byAddress && !vips.has(vs.ip!)) diag.warning(`${name}: ha_suspend, but no vrrp_instance holds ${vs.ip}; its checkers stay suspended unless the address is configured here by other means`, where(vs, "ha_suspend"));
    }

    checkScript(vs.quorum_up, "quorum_up", vs, name, env, diag);
    checkScript(vs.quorum_down, "quorum_down", vs, name, env, diag);

    // Sorry server.
    if (vs.sorry_server === undefined) {
      if (vs.sorry_server_inhibit) diag.warning(`${name}: 'sorry_server_inhibit' without a sorry_server is ignored`, where(vs, "sorry_server_inhibit"));
      if (wasSet(vs, "sorry_server_lvs_method")) diag.warning(`${name}: 'sorry_server_lvs_method' without a sorry_server is ignored`, where(vs, "sorry_server_lvs_method"));
    } else {
      const ss = vs.sorry_server;
      const method = vs.sorry_server_lvs_method ?? vs.lvs_method;
      checkFamily(ss.ip, method.method, vsFamily, `${name}: sorry_server ${ss.ip}`, where(vs, "sorry_server"), diag);
      checkPort(ss, method.method, vs, `${name}: sorry_server`, where(vs, "sorry_server"), diag);
    }

    // Real servers.
    const rsList = vs.real_server ?? [];
    if (rsList.length === 0) diag.warning(`${name} has no real servers and is ignored`, where(vs));
    const rsSeen = new Map<string, RealServerConfig>();
    let weightSum = 0;
    for (const rs of rsList) {
      const rsName = `real_server ${describeServer(rs as unknown as Model)}`;
      const rsKey = `${rs.ip}|${rs.port ?? 0}`;
      if (rsSeen.has(rsKey)) { diag.error(`${name}: ${rsName} is defined twice`, where(rs)); continue; }
      rsSeen.set(rsKey, rs);
      weightSum += rs.weight;
      checkFamily(rs.ip, rs.lvs_method.method, vsFamily, `${name}: ${rsName}`, where(rs, "ip"), diag);
      checkPort(rs, rs.lvs_method.method, vs, `${name}: ${rsName}`, where(rs, "port") ?? where(rs), diag);
      if (rs.uthreshold !== undefined && rs.lthreshold !== undefined && rs.uthreshold !== 0 && rs.lthreshold > rs.uthreshold) {
        diag.warning(`${name}: ${rsName}: lthreshold ${rs.lthreshold} is above uthreshold ${rs.uthreshold}`, where(rs, "lthreshold"));
      }
      if (vs.sorry_server && vs.sorry_server.ip === rs.ip && (vs.sorry_server.port ?? vs.port) === rs.port && vs.sorry_server_inhibit !== rs.inhibit_on_failure) {
        diag.warning(`${name}: ${rsName} is also the sorry server but their inhibit_on_failure settings differ; keepalived uses the real server's`, where(vs, "sorry_server"));
      }
      checkScript(rs.notify_up, "notify_up", rs, `${name}: ${rsName}`, env, diag);
      checkScript(rs.notify_down, "notify_down", rs, `${name}: ${rsName}`, env, diag);
      checkCheckers(rs, vs, `${name}: ${rsName}`, { env, diag, trackFiles, bfds });
    }
    if (rsList.length > 0 && vs.quorum > weightSum) {
      diag.warning(`${name}: quorum ${vs.quorum} exceeds the total weight ${weightSum} of its real servers and can never be reached`, where(vs, "quorum"));
    }
    if (wasSet(vs, "hysteresis") && vs.hysteresis >= vs.quorum) {
      diag.warning(`${name}: hysteresis ${vs.hysteresis} must be below quorum ${vs.quorum}`, where(vs, "hysteresis"));
    }
  }
}

function checkFamily(ip: string, method: string, vsFamily: 4 | 6 | undefined, what: string, loc: SourceLoc | undefined, diag: Diagnostics): void {
  const f = familyOf(ip);
  if (method === "TUN" || f === undefined || vsFamily === undefined || f === vsFamily) return;
  diag.error(`${what} is ${fam(f)} but the service is ${fam(vsFamily)}; only TUN servers may differ`, loc);
}

/** DR and TUN cannot change the port: the real server's must be the service's (or none for fwmark services). */
function checkPort(s: ServerAddress, method: string, vs: VirtualServerConfig, what: string, loc: SourceLoc | undefined, diag: Diagnostics): void {
  if (method === "NAT" || s.port === undefined) return;
  if (vs.fwmark !== undefined) diag.warning(`${what} has port ${s.port}, which a ${method} fwmark service ignores`, loc);
  else if (vs.port !== undefined && s.port !== vs.port) {
    diag.warning(`${what} port ${s.port} differs from the service port ${vs.port}; ${method} cannot change ports, keepalived resets it to ${vs.port}`, loc);
  }
}

function checkScript(script: ScriptConfig | undefined, key: string, owner: object, what: string, env: CheckEnv, diag: Diagnostics): void {
  if (!script) return;
  const loc = where(owner, key);
  checkProgram(scriptProgram(script.command), `${what}: ${key}`, loc, env, diag);
  if (script.user !== undefined && !env.userExists(script.user)) diag.error(`${what}: ${key} user '${script.user}' does not exist`, loc);
}

function checkProgram(program: string, what: string, loc: SourceLoc | undefined, env: CheckEnv, diag: Diagnostics): void {
  // Bare names are looked up in PATH at run time; only paths can be checked here.
  if (!program.includes("/")) return;
  if (!env.fileExists(program)) diag.error(`${what}: script '${program}' does not exist`, loc);
  else if (!env.isExecutable(program)) diag.error(`${what}: script '${program}' is not executable`, loc);
}

interface CheckCtx { env: CheckEnv; diag: Diagnostics; trackFiles: Set<string>; bfds: Set<string> }

const PORTLESS: ReadonlySet<string> = new Set(["PING_CHECK", "MISC_CHECK", "FILE_CHECK", "BFD_CHECK"]);

function checkCheckers(rs: RealServerConfig, vs: VirtualServerConfig, what: string, { env, diag, trackFiles, bfds }: CheckCtx): void {
  let dynamicMisc = 0;
  for (const c of rs.checker ?? []) {
    const name = `${what}: ${c.type}`;
    const at = (key?: string): SourceLoc | undefined => where(c, key);
    if ("connect_ip" in c && c.connect_ip !== undefined) checkConnection(c, name, at, diag);
    if (!PORTLESS.has(c.type) && "connect_ip" in c && c.connect_port === undefined) {
      diag.error(`${name}: no port to connect to (the ${vs.fwmark !== undefined ? "fwmark service" : "real server"} has none); set connect_port`, at());
    }
    switch (c.type) {
      case "HTTP_GET":
      case "SSL_GET":
        checkHttp(c, name, at, diag);
        break;
      case "MISC_CHECK":
        if (c.misc_path === undefined) diag.error(`${name}: no misc_path; the checker is ignored`, at());
        else checkProgram(scriptProgram(c.misc_path), name, at("misc_path"), env, diag);
        if (c.user !== undefined && !env.userExists(c.user.user)) diag.error(`${name}: user '${c.user.user}' does not exist`, at("user"));
        if (c.misc_dynamic && ++dynamicMisc === 2) diag.warning(`${name}: more than one dynamic MISC_CHECK on a real server makes their weights fight`, at("misc_dynamic"));
        break;
      case "UDP_CHECK":
        checkUdp(c, name, at, diag);
        break;
      case "FILE_CHECK":
        if (c.track_file === undefined) diag.error(`${name}: no track_file; the checker is ignored`, at());
        else if (!trackFiles.has(c.track_file)) diag.error(`${name}: no track_file named '${c.track_file}'`, at("track_file"));
        break;
      case "BFD_CHECK":
        if (c.name === undefined) diag.error(`${name}: no name; the checker is ignored`, at());
        else if (!bfds.has(c.name)) diag.warning(`${name}: no bfd_instance named '${c.name}'`, at("name"));
        break;
      default:
        break;
    }
  }
}

function checkConnection(c: Extract<CheckerConfig, { connect_ip: string }>, name: string, at: (k?: string) => SourceLoc | undefined, diag: Diagnostics): void {
  if (c.bindto !== undefined && familyOf(c.bindto) !== familyOf(c.connect_ip)) {
    diag.error(`${name}: bindto ${c.bindto} and the connect address ${c.connect_ip} are of different families`, at("bindto"));
  }
  for (const key of ["connect_ip", "bindto"] as const) {
    const ip = c[key];
    if (ip !== undefined && isLinkLocal6(ip) && c.bind_if === undefined) diag.error(`${name}: link-local address ${ip} needs bind_if`, at(key) ?? at());
  }
}

function checkHttp(c: HttpCheckConfig, name: string, at: (k?: string) => SourceLoc | undefined, diag: Diagnostics): void {
  if (c.type === "HTTP_GET" && wasSet(c, "enable_sni")) diag.warning(`${name}: 'enable_sni' has no effect on HTTP_GET (TLS only)`, at("enable_sni"));
  const urls = c.url ?? [];
  if (urls.length === 0) { diag.error(`${name}: no url; the checker is ignored`, at()); return; }
  for (const u of urls) {
    const uat = (k?: string) => where(u, k);
    if (u.path === undefined) diag.error(`${name}: url has no path and is ignored`, uat());
    if (u.regex === undefined) {
      for (const key of ["regex_no_match", "regex_options", "regex_stack", "regex_min_offset", "regex_max_offset"]) {
        if (wasSet(u, key)) { diag.warning(`${name}: url '${u.path ?? ""}': '${key}' without 'regex' is ignored`, uat(key)); break; }
      }
    } else if (u.regex_max_offset !== undefined && u.regex_min_offset > u.regex_max_offset) {
      diag.warning(`${name}: url '${u.path ?? ""}': regex_min_offset ${u.regex_min_offset} is beyond regex_max_offset ${u.regex_max_offset}; both are ignored`, uat("regex_min_offset"));
    }
  }
}

function checkUdp(c: UdpCheckConfig, name: string, at: (k?: string) => SourceLoc | undefined, diag: Diagnostics): void {
  if (c.min_reply_length > c.max_reply_length) {
    diag.error(`${name}: min_reply_length ${c.min_reply_length} exceeds max_reply_length ${c.max_reply_length}`, at("min_reply_length") ?? at("max_reply_length"));
  }
  if (c.require_reply === undefined && (wasSet(c, "min_reply_length") || wasSet(c, "max_reply_length"))) {
    diag.warning(`${name}: reply lengths are only checked with require_reply`, at("min_reply_length") ?? at("max_reply_length"));
  }
}
