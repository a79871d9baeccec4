// The checker child (`lbctl __role check`), keepalived's checker process: runs the health checkers,
// turns their verdicts into IPVS changes one virtual server at a time, runs the notify scripts and
// reports status, events and IPVS counters to the supervisor.
// A kernel without IPVS is reported once; the checkers keep running so status still tells the truth.
import { ipvsNamespacePath } from "./instance-names.ts";
import { hostname } from "node:os";
import { nativeCheckEngine } from "../check/native/engine.ts";
import { HealthScheduler, type CheckEngine, type ScheduledChecker, type Verdict } from "../check/scheduler.ts";
import { rsKey, type DesiredVirtualServer, type HealthEvent } from "../check/vs-state.ts";
import type { IpvsTable } from "../ipvs/client.ts";
import { describeOp } from "../ipvs/reconcile.ts";
import { describeService, serviceKeyId, type IpvsStats } from "../ipvs/types.ts";
import type { NativeCounters } from "../check/native/protocol.ts";
import { emptyLatencyHistogram, observeLatency, type LatencyHistogramV1 } from "./api-types.ts";
import type { Model } from "../config/schema.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import { lookupUser } from "../util/users.ts";
import { runScript, splitCommand, type ScriptUser } from "../vrrp/scripts.ts";
import { checkMapping, ipvsFlushAllOnStop, ipvsServices, ipvsStartOptions, newMappingCache, type CheckMapping, type MappedChecker, type MappedVirtualServer } from "./check-config.ts";
import { IpvsSync } from "./ipvs-sync.ts";
import { insecureScript, statOwner } from "../util/script-security.ts";
import { Rtnl } from "../netlink/rtnetlink.ts";
import { subscribeRtnlEvents } from "../netlink/events.ts";
import type { RoleContext, RoleFactory, RoleWorker } from "./role.ts";

const NOTIFY_TIMEOUT_MS = 30_000;
export const IPVS_MISSING = "IPVS is not available in this kernel: virtual servers are not programmed; VRRP keeps running";

/** A check result as the control API shows it; `at` is wall-clock ms. */
interface LastResult { ok: boolean; reason: string; latencyMs: number; at: number }
interface CheckHistory { last: LastResult; successes: number; failures: number; latency: LatencyHistogramV1 }
interface DestView { weight: number; stats: IpvsStats; activeConns: number; inactiveConns: number }

function addStats(a: IpvsStats, b: IpvsStats): IpvsStats {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof IpvsStats)[]) out[k] += b[k];
  return out;
}

/** TCP_CHECK and plain HTTP_GET run in the native check engine (keepalived's cost per check) unless
 *  LBCTL_NATIVE_CHECKS=0; without it (TinyCC cannot compile here) they run in JavaScript. */
function checkEngine(ctx: RoleContext): CheckEngine | undefined {
  if (process.env.LBCTL_NATIVE_CHECKS === "0") return undefined;
  const engine = nativeCheckEngine();
  if (engine instanceof Error) {
    ctx.log("warning", `native check engine unavailable, TCP and HTTP checks run in JavaScript: ${engine.message}`);
    return undefined;
  }
  engine.onError = (e) => ctx.log("err", `check engine result: ${e instanceof Error ? e.message : String(e)}`);
  engine.onStopped = (why) => {
    // Its checkers would wait forever: better a restart of this process by the supervisor, as for any crash.
    ctx.log("err", `native check engine stopped (${why}); exiting so that the checker process is restarted`);
    setTimeout(() => process.exit(70), 100);
  };
  return engine;
}

/** The engine counts every check it runs, the steady ones it does not report included: its counters
 *  stand for the checker's, and a newer steady success repeats the last reported one's reason. */
function withEngineCounters(h: CheckHistory | undefined, c: NativeCounters | undefined): CheckHistory | undefined {
  if (!c) return h;
  const last = h?.last.ok && c.lastOk && c.lastAt > h.last.at ? { ok: true, reason: h.last.reason, latencyMs: c.lastLatencyMs, at: c.lastAt } : h?.last;
  return last && { last, successes: c.successes, failures: c.failures, latency: c.latency };
}

/** Checkers grouped by virtual server and real server ("VS\nRS"): status and state are built per real server. */
function byRealServer<C extends ScheduledChecker>(checkers: readonly C[]): Map<string, C[]> {
  const out = new Map<string, C[]>();
  for (const c of checkers) {
    const k = `${c.vsKey}\n${c.rs}`;
    const list = out.get(k);
    if (list) list.push(c); else out.set(k, [c]);
  }
  return out;
}

/** Notify scripts run one after another in event order, as their configured user (keepalived execs them without a shell). */
class ScriptQueue {
  private queue: Promise<void> = Promise.resolve();
  constructor(private readonly ctx: RoleContext) {}
  run(command: string, user: ScriptUser | undefined, secure: boolean): Promise<void> {
    this.queue = this.queue.then(async () => {
      const argv = splitCommand(command);
      if (secure && (user === undefined || user.uid === 0)) {
        const why = insecureScript(argv[0] ?? "", statOwner);
        if (why) { this.ctx.log("err", `not running '${command}': ${why} (enable_script_security)`); return; }
      }
      const r = await runScript(argv, { timeoutMs: NOTIFY_TIMEOUT_MS, user });
      if (r.error) this.ctx.log("err", `notify script '${command}': ${r.error}`);
      else if (r.timedOut) this.ctx.log("warning", `notify script '${command}' timed out after ${NOTIFY_TIMEOUT_MS / 1000} s`);
    });
    return this.queue;
  }
  idle(): Promise<void> { return this.queue; }
}

const checkRole: RoleFactory = (ctx): RoleWorker => {
  let effective: Model | null = null;
  let mapping: CheckMapping = { virtualServers: [], checkers: [], problems: [] };
  /** What each virtual server's IPVS programming was built from, as JSON, kept from one build to the
   *  next so that a reload serialises only the new configuration. */
  let programmedFrom = new Map<string, string>();
  const mappingCache = newMappingCache();
  let byKey = new Map<string, MappedVirtualServer>();
  let checkersByRs = new Map<string, MappedChecker[]>();
  let scheduler: HealthScheduler | null = null;
  /** The scheduler lives as long as the process (reloads reconfigure it); once stopping, its late
   *  callbacks (omega events, a last verdict) are run by stop() itself or dropped. */
  let stopping = false;
  let sync: IpvsSync | null = null;
  let ipvsError: string | null = null;
  /** The kernel table by serviceKeyId, as last read (counters for status). */
  let ipvsTable: Map<string, IpvsTable[number]> | null = null;
  let scriptUser: ScriptUser | undefined;
  let scriptSecurity = false;
  const scripts = new ScriptQueue(ctx);
  /** Services programmed per virtual server (serviceKeyIds), to remove what a reload drops. */
  const programmed = new Map<string, string[]>();
  const desired = new Map<string, DesiredVirtualServer>();
  const drained = new Map<string, Set<string>>();
  const disabled = new Set<string>();
  /**
   * ha_suspend virtual servers whose address is not on this host: their checkers do not run and
   * their real servers keep the state they had; the service stays programmed (keepalived 2.2.7
   * does the same: "Deactivating healthchecker for service ...", checked in the IPVS VM).
   */
  let suspended = new Set<string>();
  let localAddresses = new Set<string>();
  let addressEvents: { close(): Promise<void> } | null = null;
  const history = new Map<string, CheckHistory>();
  /** Virtual servers with a pending IPVS update, applied in order by one loop. */
  const pending = new Set<string>();
  let applying: Promise<void> | null = null;

  const applyPending = (): Promise<void> => {
    applying ??= (async () => {
      while (pending.size > 0) {
        const [key] = pending;
        pending.delete(key);
        await applyVs(key);
      }
      applying = null;
    })();
    return applying;
  };

  async function applyVs(key: string): Promise<void> {
    if (!sync) return;
    const vs = byKey.get(key);
    const d = desired.get(key);
    const services = vs && d ? ipvsServices(vs, d, drained.get(key)) : [];
    const r = await sync.apply(services, programmed.get(key) ?? []);
    if (services.length) programmed.set(key, services.map((s) => serviceKeyId(s.service.key)));
    else programmed.delete(key);
    for (const op of r.ops) ctx.log("debug", `${key}: ${describeOp(op)}`);
    for (const e of r.errors) ctx.log("err", `${key}: ${e}`);
  }

  const request = (key: string) => { pending.add(key); void applyPending(); };

  /** One status build (with a fresh read of the kernel's counters) shared by the requests that arrive meanwhile. */
  let building: Promise<Record<string, unknown>> | null = null;
  const currentStatus = (): Promise<Record<string, unknown>> => {
    building ??= refreshCounters().then(status).finally(() => { building = null; });
    return building;
  };

  /** A reload re-derives the state of virtual servers whose checker set changed but not their
   *  configuration (a checker disabled, ha_suspend): nothing happened to them, so no events. */
  let quiet: ReadonlySet<string> = new Set();

  function onEvent(e: HealthEvent): void {
    if (stopping || quiet.has(e.vsKey)) return;
    ctx.log(e.type === "rs-down" || e.type === "quorum-down" || e.type === "sorry-in" ? "warning" : "notice", e.reason, e.vsKey);
    const smtp = "smtpAlert" in e && e.smtpAlert;
    const { smtpAlert: _s, ...rest } = e as HealthEvent & { smtpAlert?: boolean };
    ctx.send({ type: "event", event: { ...rest, ...(smtp ? { smtpAlert: true } : {}) } });
    if ("notify" in e && e.notify) void scripts.run(e.notify, scriptUser, scriptSecurity);
  }

  function onVerdict(v: Verdict): void {
    if (stopping) return;
    const last = { ok: v.result.ok, reason: v.result.reason, latencyMs: v.result.latencyMs, at: Date.now() };
    let h = history.get(v.checker.id);
    if (h) h.last = last;
    else history.set(v.checker.id, h = { last, successes: 0, failures: 0, latency: emptyLatencyHistogram() });
    if (v.result.ok) h.successes++; else h.failures++;
    observeLatency(h.latency, v.result.latencyMs / 1000);
    if (!v.result.ok && v.step.logFailure) ctx.log("info", `${v.checker.id}: ${v.step.summary}: ${v.result.reason}`, v.checker.vsKey);
  }

  /**
   * Applies `eff` to the health checks. The first time it starts the scheduler; after that it is a
   * diff (HealthScheduler.reconfigure, keepalived's migrate_checkers): unchanged checkers keep
   * running with their verdicts and only changed virtual servers are re-derived and reprogrammed,
   * so the work of a reload follows the change, not the size of the configuration.
   */
  function build(eff: Model): void {
    const global = (eff.global_defs ?? {}) as Partial<GlobalDefsConfig>;
    scriptUser = global.script_user ? lookupUser(global.script_user.user, global.script_user.group) : lookupUser("keepalived_script");
    scriptSecurity = global.enable_script_security ?? false;
    const next = checkMapping(eff, { user: (u, g) => lookupUser(u, g), hostname: hostname() }, mappingCache);
    for (const p of next.problems) ctx.log("err", p);
    suspended = suspendedOf(next.virtualServers);
    const checkers = next.checkers.filter((c) => !disabled.has(c.id) && !suspended.has(c.vsKey));
    const before = programmedFrom;
    // A virtual server the mapping reused (the same object) was programmed from the same JSON. Plain
    // JSON, no replacer (one would dominate a reload of 10,000 real servers); a Uint8Array comes out
    // exact as {"0":..}.
    programmedFrom = new Map(next.virtualServers.map((v) => [v.key,
      (byKey.get(v.key) === v ? before.get(v.key) : undefined) ?? JSON.stringify({ h: v.health, s: v.services, d: v.dests })]));
    const nextKeys = new Set(next.virtualServers.map((v) => v.key));
    for (const key of byKey.keys()) {
      if (!nextKeys.has(key)) { desired.delete(key); drained.delete(key); request(key); }
    }
    const nextIds = new Set(next.checkers.map((c) => c.id));
    for (const id of history.keys()) if (!nextIds.has(id)) history.delete(id);
    mapping = next;
    byKey = new Map(next.virtualServers.map((v) => [v.key, v]));
    checkersByRs = byRealServer(next.checkers);
    const healths = next.virtualServers.map((v) => v.health);
    if (!scheduler) {
      scheduler = new HealthScheduler(healths, checkers, {
        onEvent,
        onDesired: (d) => { if (stopping) return; desired.set(d.vsKey, d); request(d.vsKey); },
        onVerdict,
      });
      scheduler.initialise();
      return;
    }
    const changed = new Set(next.virtualServers.filter((v) => before.get(v.key) !== programmedFrom.get(v.key)).map((v) => v.key));
    quiet = new Set(next.virtualServers.filter((v) => !changed.has(v.key)).map((v) => v.key));
    try {
      scheduler.reconfigure(healths, checkers);
    } finally {
      quiet = new Set();
    }
    // Services or destination settings changed with the same health model: reprogram those too.
    for (const key of changed) request(key);
  }

  function suspendedOf(list: readonly MappedVirtualServer[]): Set<string> {
    return new Set(list.filter((v) => v.haSuspendOn?.some((a) => !localAddresses.has(a))).map((v) => v.key));
  }

  /** An address came or went: the checkers of ha_suspend virtual servers resume or suspend. */
  function onLocalAddresses(next: Set<string>): void {
    localAddresses = next;
    if (!effective) return;
    const now = suspendedOf(mapping.virtualServers);
    const changed = [...new Set([...now, ...suspended])].filter((k) => now.has(k) !== suspended.has(k));
    if (changed.length === 0) return;
    for (const k of changed) ctx.log("notice", `${k}: ${now.has(k) ? "address gone, suspending its checkers (ha_suspend)" : "address present, resuming its checkers (ha_suspend)"}`, k);
    build(effective);
  }

  async function watchLocalAddresses(): Promise<void> {
    const rtnl = Rtnl.open();
    try {
      localAddresses = new Set((await rtnl.addresses()).map((a) => a.address));
    } finally {
      rtnl.close();
    }
    addressEvents = subscribeRtnlEvents((e) => {
      if (e.kind !== "address") return;
      const next = new Set(localAddresses);
      if (e.op === "new") next.add(e.address.address); else next.delete(e.address.address);
      onLocalAddresses(next);
    }, { onError: (err) => ctx.log("warning", `address events: ${err.message}`) });
  }

  /** Kernel view of one virtual server: per real server its weight and counters (summed over a group's services). */
  function kernelView(key: string, vs: MappedVirtualServer): { service: IpvsStats | null; dests: Map<string, DestView> } {
    const dests = new Map<string, DestView>();
    if (!ipvsTable) return { service: null, dests };
    let service: IpvsStats | null = null;
    for (const id of programmed.get(key) ?? vs.services.map((s) => serviceKeyId(s.key))) {
      const s = ipvsTable.get(id);
      if (!s) continue;
      service = service ? addStats(service, s.service.stats) : { ...s.service.stats };
      for (const d of s.dests) {
        const k = rsKey({ addr: d.address, port: d.port });
        const acc = dests.get(k);
        if (!acc) { dests.set(k, { weight: d.weight, stats: { ...d.stats }, activeConns: d.activeConns, inactiveConns: d.inactiveConns }); continue; }
        acc.stats = addStats(acc.stats, d.stats);
        acc.activeConns += d.activeConns;
        acc.inactiveConns += d.inactiveConns;
      }
    }
    return { service, dests };
  }

  /** The shape the supervisor's control API reads (api-types.ts virtualServersFromChild), plus details. */
  function status(): Record<string, unknown> {
    const virtualServers = mapping.virtualServers.map((vs) => {
      const view = scheduler?.virtualServerState(vs.key);
      const kernel = kernelView(vs.key, vs);
      const first = vs.services[0]?.key;
      const realServers = vs.health.realServers.map((rs) => {
        const k = rsKey(rs);
        let decisive: LastResult | undefined;
        const checkers = (checkersByRs.get(`${vs.key}\n${k}`) ?? []).map((c) => {
          const st = scheduler?.checkerState(c.id);
          const h = withEngineCounters(history.get(c.id), scheduler?.engineCounters(c.id));
          if (!disabled.has(c.id) && h?.last && (!decisive || (!h.last.ok && decisive.ok) || (h.last.ok === decisive.ok && h.last.at > decisive.at))) decisive = h.last;
          return {
            id: c.localId, type: c.spec.kind, up: disabled.has(c.id) ? null : st?.up ?? null, enabled: !disabled.has(c.id),
            lastResult: h?.last ?? null, successes: h?.successes ?? 0, failures: h?.failures ?? 0, latency: h?.latency ?? null,
          };
        });
        const up = checkers.every((c) => !c.enabled || c.up !== false);
        const inKernel = kernel.dests.get(k);
        return {
          key: k, address: rs.addr, port: rs.port, health: up ? "up" : "down", reason: decisive?.reason ?? null,
          weight: rs.weight, effectiveWeight: inKernel?.weight ?? null, drained: drained.get(vs.key)?.has(k) ?? false,
          activeConns: inKernel?.activeConns ?? null, inactiveConns: inKernel?.inactiveConns ?? null, stats: inKernel?.stats ?? null,
          checkers,
        };
      });
      return {
        key: vs.key,
        protocol: first?.kind === "addr" ? first.protocol.toUpperCase() : null,
        address: first?.kind === "addr" && vs.services.length === 1 ? first.address : null,
        port: first?.kind === "addr" && vs.services.length === 1 ? first.port : null,
        fwmark: first?.kind === "fwmark" && vs.services.length === 1 ? first.fwmark : null,
        scheduler: vs.services[0]?.scheduler ?? null,
        services: vs.services.map((s) => describeService(s.key)),
        quorumUp: view?.quorumUp ?? null, quorum: vs.health.quorum, hysteresis: vs.health.hysteresis,
        sorryServer: vs.health.sorryServer ? rsKey(vs.health.sorryServer) : null, sorryServerActive: view?.sorryActive ?? false,
        stats: kernel.service,
        realServers,
      };
    });
    return {
      ipvs: { available: sync !== null, ...(ipvsError ? { error: ipvsError } : {}), ownedServices: sync?.ownedCount() ?? 0 },
      checks: scheduler?.stats() ?? null,
      problems: mapping.problems,
      virtualServers,
    };
  }

  async function refreshCounters(): Promise<void> {
    if (!sync) return;
    const t = await sync.read();
    if (t.ok) ipvsTable = new Map(t.table.map((s) => [serviceKeyId(s.service.key), s]));
    else ctx.log("warning", `reading IPVS counters: ${t.error}`);
  }

  function findVs(args: Record<string, string>): MappedVirtualServer | string {
    const vs = byKey.get(args.vs ?? "");
    return vs ?? `no virtual server '${args.vs ?? ""}' (known: ${[...byKey.keys()].join(", ")})`;
  }

  return {
    async configure(eff) {
      if (!effective) {
        const opened = await IpvsSync.open(ipvsNamespacePath(eff));
        if (opened.ok) {
          sync = opened.sync;
          const errors = await sync.start(ipvsStartOptions((eff.global_defs ?? {}) as Partial<GlobalDefsConfig>));
          for (const e of errors) ctx.log("err", e);
        } else {
          // net_namespace_ipvs that cannot be entered is not a kernel without IPVS: say which.
          const why = opened.error.startsWith("net_namespace_ipvs:")
            ? `IPVS cannot be programmed (${opened.error}): virtual servers are not programmed; VRRP keeps running`
            : IPVS_MISSING;
          ipvsError = why === IPVS_MISSING ? `${IPVS_MISSING} (${opened.error})` : why;
          ctx.log("err", why);
        }
      }
      if (!addressEvents && ((eff.virtual_server ?? []) as { ha_suspend?: boolean }[]).some((v) => v.ha_suspend)) await watchLocalAddresses();
      effective = eff;
      const first = !scheduler;
      build(eff);
      await applyPending();
      // The initial table is in the kernel before the check engine is compiled and the first check
      // competes with it for the CPU.
      if (first && scheduler) {
        const engine = checkEngine(ctx);
        if (engine) scheduler.useEngine(engine);
        scheduler.startChecks();
      }
      // A large configuration leaves its parse and the previous model behind: collect them once this
      // configuration is acknowledged, rather than let the heap settle tens of MB higher (10,000 real
      // servers: 167 -> 131 MB PSS).
      setTimeout(() => Bun.gc(true), 0);
    },
    async status() {
      return effective ? currentStatus() : undefined;
    },
    async stop() {
      await addressEvents?.close();
      stopping = true;
      // omega: the down notifiers of what was up, as keepalived runs them at shutdown.
      const events = scheduler?.stop() ?? [];
      scheduler = null;
      for (const e of events) if ("notify" in e && e.notify) void scripts.run(e.notify, scriptUser, scriptSecurity);
      await applying;
      if (sync) {
        for (const e of await sync.stop(ipvsFlushAllOnStop((effective?.global_defs ?? {}) as Partial<GlobalDefsConfig>))) ctx.log("err", e);
        sync = null;
      }
      await scripts.idle();
    },
    async action(action, args) {
      if (!effective) return { ok: false, message: "the checker has no configuration yet" };
      if (action === "drain" || action === "undrain") {
        const vs = findVs(args);
        if (typeof vs === "string") return { ok: false, message: vs };
        const rs = args.rs ?? "";
        if (!vs.health.realServers.some((r) => rsKey(r) === rs)) return { ok: false, message: `${vs.key} has no real server '${rs}'` };
        const set = drained.get(vs.key) ?? new Set<string>();
        if (action === "drain") set.add(rs); else set.delete(rs);
        drained.set(vs.key, set);
        request(vs.key);
        await applyPending();
        ctx.send({ type: "event", event: { type: action, vsKey: vs.key, rs, reason: `${action === "drain" ? "Draining" : "Undraining"} ${rs} of VS ${vs.key} (operator)` } });
        return { ok: true, message: `${action} ${rs} of ${vs.key}` };
      }
      if (action === "disable-checker" || action === "enable-checker") {
        // vs + rs, and checker = its id within the real server ("TCP_CHECK#0"); without checker, all of them.
        const ids = (checkersByRs.get(`${args.vs ?? ""}\n${args.rs ?? ""}`) ?? [])
          .filter((c) => args.checker === undefined || c.localId === args.checker)
          .map((c) => c.id);
        if (ids.length === 0) return { ok: false, message: `no checker '${args.checker ?? "*"}' on real server '${args.rs ?? ""}' of '${args.vs ?? ""}'` };
        for (const id of ids) { if (action === "disable-checker") disabled.add(id); else disabled.delete(id); }
        build(effective);
        await applyPending();
        return { ok: true, message: `${action}: ${ids.join(", ")}` };
      }
      return { ok: false, message: `unknown action '${action}'` };
    },
  };
};
export default checkRole;
