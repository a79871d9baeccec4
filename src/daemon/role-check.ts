// The checker child (`lbctl __role check`), keepalived's checker process: runs the health checkers,
// turns their verdicts into IPVS changes one virtual server at a time, runs the notify scripts and
// reports status, events and IPVS counters to the supervisor.
// A kernel without IPVS is reported once; the checkers keep running so status still tells the truth.
import { statSync } from "node:fs";
import { hostname } from "node:os";
import { HealthScheduler, type ScheduledChecker } from "../check/scheduler.ts";
import { desiredDests, initVirtualServer, rsKey, type DesiredVirtualServer, type HealthEvent, type VirtualServerConfig as HealthVirtualServer } from "../check/vs-state.ts";
import type { IpvsTable } from "../ipvs/client.ts";
import { describeOp } from "../ipvs/reconcile.ts";
import { describeService, serviceKeyId, type IpvsStats } from "../ipvs/types.ts";
import { emptyLatencyHistogram, observeLatency, type LatencyHistogramV1 } from "./api-types.ts";
import type { Model } from "../config/schema.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import { lookupUser } from "../util/users.ts";
import { runScript, splitCommand, type ScriptUser } from "../vrrp/scripts.ts";
import { checkMapping, ipvsServices, type CheckMapping, type MappedVirtualServer } from "./check-config.ts";
import { IpvsSync } from "./ipvs-sync.ts";
import type { RoleContext, RoleFactory, RoleWorker } from "./role.ts";

const STATUS_EVERY_MS = 3000;
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

/** The health model the scheduler builds from its checkers, built the same way for initial state. */
function withCheckers(vs: HealthVirtualServer, checkers: ScheduledChecker[]): HealthVirtualServer {
  return {
    ...vs,
    realServers: vs.realServers.map((rs) => ({
      ...rs,
      checkers: checkers.filter((c) => c.vsKey === vs.vsKey && c.rs === rsKey(rs)).map((c) => ({ id: c.id, startsUp: !c.policy.alpha })),
    })),
  };
}

const fingerprint = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));

/**
 * enable_script_security: a script run as root must not be replaceable by another user, i.e. no
 * part of its path may be writable by anyone but root (keepalived's check_script_secure).
 */
export function insecureScript(path: string, stat: (p: string) => { uid: number; mode: number } | undefined): string | undefined {
  if (!path.startsWith("/")) return `${path}: not an absolute path`;
  const parts = path.split("/").filter(Boolean);
  for (let i = parts.length; i >= 0; i--) {
    const p = "/" + parts.slice(0, i).join("/");
    const st = stat(p);
    if (!st) return `${p}: not found`;
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return `${p} is writable by a non-root user`;
  }
  return undefined;
}

/** Notify scripts run one after another in event order, as their configured user (keepalived execs them without a shell). */
class ScriptQueue {
  private queue: Promise<void> = Promise.resolve();
  constructor(private readonly ctx: RoleContext) {}
  run(command: string, user: ScriptUser | undefined, secure: boolean): Promise<void> {
    this.queue = this.queue.then(async () => {
      const argv = splitCommand(command);
      if (secure && (user === undefined || user.uid === 0)) {
        const why = insecureScript(argv[0] ?? "", (p) => { try { const s = statSync(p); return { uid: s.uid, mode: s.mode }; } catch { return undefined; } });
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

interface VsView { quorumUp: boolean; sorryActive: boolean }

const checkRole: RoleFactory = (ctx): RoleWorker => {
  let effective: Model | null = null;
  let mapping: CheckMapping = { virtualServers: [], checkers: [], problems: [] };
  let byKey = new Map<string, MappedVirtualServer>();
  let scheduler: HealthScheduler | null = null;
  let generation = 0;
  let sync: IpvsSync | null = null;
  let ipvsError: string | null = null;
  let ipvsTable: IpvsTable | null = null;
  let statusTimer: ReturnType<typeof setInterval> | null = null;
  let scriptUser: ScriptUser | undefined;
  let scriptSecurity = false;
  const scripts = new ScriptQueue(ctx);
  /** Services programmed per virtual server (serviceKeyIds), to remove what a reload drops. */
  const programmed = new Map<string, string[]>();
  const desired = new Map<string, DesiredVirtualServer>();
  const views = new Map<string, VsView>();
  const drained = new Map<string, Set<string>>();
  const disabled = new Set<string>();
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

  const publish = () => ctx.send({ type: "status", status: status() });

  function onEvent(e: HealthEvent, gen: number, quiet: ReadonlySet<string>): void {
    if (gen !== generation) return;
    const view = views.get(e.vsKey);
    if (view) {
      if (e.type === "quorum-up") view.quorumUp = true;
      else if (e.type === "quorum-down") view.quorumUp = false;
      else if (e.type === "sorry-in") view.sorryActive = true;
      else if (e.type === "sorry-out") view.sorryActive = false;
    }
    // A reload re-derives the state of unchanged virtual servers: nothing happened to them.
    if (quiet.has(e.vsKey)) return;
    ctx.log(e.type === "rs-down" || e.type === "quorum-down" || e.type === "sorry-in" ? "warning" : "notice", e.reason, e.vsKey);
    const smtp = "smtpAlert" in e && e.smtpAlert;
    const { smtpAlert: _s, ...rest } = e as HealthEvent & { smtpAlert?: boolean };
    ctx.send({ type: "event", event: { ...rest, ...(smtp ? { smtpAlert: true } : {}) } });
    if ("notify" in e && e.notify) void scripts.run(e.notify, scriptUser, scriptSecurity);
    publish();
  }

  /** (Re)builds the scheduler from `effective`, keeping the verdicts of unchanged checkers (keepalived's migrate_checkers). */
  function build(eff: Model, reload: boolean): void {
    const global = (eff.global_defs ?? {}) as Partial<GlobalDefsConfig>;
    scriptUser = global.script_user ? lookupUser(global.script_user.user, global.script_user.group) : lookupUser("keepalived_script");
    scriptSecurity = global.enable_script_security ?? false;
    const next = checkMapping(eff, { user: (u, g) => lookupUser(u, g), hostname: hostname() });
    for (const p of next.problems) ctx.log("err", p);
    const old = scheduler;
    const oldCheckers = new Map(mapping.checkers.map((c) => [c.id, fingerprint(c)]));
    const checkers = next.checkers.filter((c) => !disabled.has(c.id)).map((c) => {
      const st = old?.checkerState(c.id);
      if (!st?.hasRun || oldCheckers.get(c.id) !== fingerprint(c)) return c;
      // An unchanged checker that has run keeps its verdict: a down one starts down (as alpha does).
      return { ...c, policy: { ...c.policy, alpha: !st.up } };
    });
    const oldHealth = new Map(mapping.virtualServers.map((v) => [v.key, fingerprint({ h: v.health, s: v.services, d: v.dests })]));
    const quiet = new Set(reload ? next.virtualServers.filter((v) => oldHealth.get(v.key) === fingerprint({ h: v.health, s: v.services, d: v.dests })).map((v) => v.key) : []);
    generation++;
    old?.stop();
    const nextKeys = new Set(next.virtualServers.map((v) => v.key));
    for (const key of byKey.keys()) {
      if (!nextKeys.has(key)) { desired.delete(key); views.delete(key); drained.delete(key); request(key); }
    }
    const nextIds = new Set(next.checkers.map((c) => c.id));
    for (const id of history.keys()) if (!nextIds.has(id)) history.delete(id);
    mapping = next;
    byKey = new Map(next.virtualServers.map((v) => [v.key, v]));
    const healths = next.virtualServers.map((v) => withCheckers(v.health, checkers));
    for (const h of healths) {
      const st = initVirtualServer(h).state;
      views.set(h.vsKey, { quorumUp: st.quorumUp, sorryActive: st.sorryActive });
    }
    const gen = generation;
    scheduler = new HealthScheduler(next.virtualServers.map((v) => v.health), checkers, {
      onEvent: (e) => onEvent(e, gen, quiet),
      onDesired: (d) => { if (gen !== generation) return; desired.set(d.vsKey, d); request(d.vsKey); },
      onVerdict: (v) => {
        if (gen !== generation) return;
        const h = history.get(v.checker.id);
        history.set(v.checker.id, {
          last: { ok: v.result.ok, reason: v.result.reason, latencyMs: v.result.latencyMs, at: Date.now() },
          successes: (h?.successes ?? 0) + (v.result.ok ? 1 : 0), failures: (h?.failures ?? 0) + (v.result.ok ? 0 : 1),
          latency: observeLatency(h?.latency ?? emptyLatencyHistogram(), v.result.latencyMs / 1000),
        });
        if (!v.result.ok && v.step.logFailure) ctx.log("info", `${v.checker.id}: ${v.step.summary}: ${v.result.reason}`, v.checker.vsKey);
      },
    });
    scheduler.start();
    quiet.clear();
  }

  /** Kernel view of one virtual server: per real server its weight and counters (summed over a group's services). */
  function kernelView(key: string, vs: MappedVirtualServer): { service: IpvsStats | null; dests: Map<string, DestView> } {
    const dests = new Map<string, DestView>();
    if (!ipvsTable) return { service: null, dests };
    const ids = new Set(programmed.get(key) ?? vs.services.map((s) => serviceKeyId(s.key)));
    let service: IpvsStats | null = null;
    for (const s of ipvsTable) {
      if (!ids.has(serviceKeyId(s.service.key))) continue;
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
      const view = views.get(vs.key);
      const kernel = kernelView(vs.key, vs);
      const first = vs.services[0]?.key;
      const realServers = vs.health.realServers.map((rs) => {
        const k = rsKey(rs);
        let decisive: LastResult | undefined;
        const checkers = mapping.checkers.filter((c) => c.vsKey === vs.key && c.rs === k).map((c) => {
          const st = scheduler?.checkerState(c.id);
          const h = history.get(c.id);
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
    if (t.ok) ipvsTable = t.table;
    else ctx.log("warning", `reading IPVS counters: ${t.error}`);
  }

  function findVs(args: Record<string, string>): MappedVirtualServer | string {
    const vs = byKey.get(args.vs ?? "");
    return vs ?? `no virtual server '${args.vs ?? ""}' (known: ${[...byKey.keys()].join(", ")})`;
  }

  return {
    async configure(eff, reload) {
      if (!effective) {
        const opened = await IpvsSync.open();
        if (opened.ok) {
          sync = opened.sync;
          const g = (eff.global_defs ?? {}) as Partial<GlobalDefsConfig>;
          const t = g.lvs_timeouts;
          const errors = await sync.start({ flush: g.lvs_flush ?? false, timeouts: t ? { tcp: t.tcp ?? 0, tcpFin: t.tcpfin ?? 0, udp: t.udp ?? 0 } : undefined });
          for (const e of errors) ctx.log("err", e);
        } else {
          ipvsError = `${IPVS_MISSING} (${opened.error})`;
          ctx.log("err", IPVS_MISSING);
        }
        statusTimer = setInterval(() => { void refreshCounters().then(publish); }, STATUS_EVERY_MS);
      }
      effective = eff;
      build(eff, reload);
      await applyPending();
      await refreshCounters();
      publish();
    },
    async stop() {
      if (statusTimer) clearInterval(statusTimer);
      generation++;
      // omega: the down notifiers of what was up, as keepalived runs them at shutdown.
      const events = scheduler?.stop() ?? [];
      scheduler = null;
      for (const e of events) if ("notify" in e && e.notify) void scripts.run(e.notify, scriptUser, scriptSecurity);
      await applying;
      if (sync) {
        const g = ((effective?.global_defs ?? {}) as Partial<GlobalDefsConfig>).lvs_flush_on_stop;
        for (const e of await sync.stop(g !== undefined && !g.includes("VS"))) ctx.log("err", e);
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
        publish();
        return { ok: true, message: `${action} ${rs} of ${vs.key}` };
      }
      if (action === "disable-checker" || action === "enable-checker") {
        // vs + rs, and checker = its id within the real server ("TCP_CHECK#0"); without checker, all of them.
        const ids = mapping.checkers
          .filter((c) => c.vsKey === args.vs && c.rs === args.rs && (args.checker === undefined || c.localId === args.checker))
          .map((c) => c.id);
        if (ids.length === 0) return { ok: false, message: `no checker '${args.checker ?? "*"}' on real server '${args.rs ?? ""}' of '${args.vs ?? ""}'` };
        for (const id of ids) { if (action === "disable-checker") disabled.add(id); else disabled.delete(id); }
        build(effective, true);
        await applyPending();
        publish();
        return { ok: true, message: `${action}: ${ids.join(", ")}` };
      }
      return { ok: false, message: `unknown action '${action}'` };
    },
  };
};
export default checkRole;
