// The imperative shell around the pure checker and virtual-server state: runs every checker on its
// delay_loop / delay_before_retry timeline, feeds results into state.ts and vs-state.ts, and reports
// verdicts, events and the desired IPVS destinations. Every checker is asynchronous; nothing here blocks
// the event loop. First runs are spread over [0, warmup] (keepalived's warmup) and at most maxInFlight
// checks run at once, so 10,000 checkers neither fire together nor exhaust file descriptors.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { deepEqual } from "../util/deep-equal.ts";
import { runUrl } from "./http.ts";
import { runChecker } from "./run.ts";
import { applyCheckResult, firstRunDelayMs, initialCheckerState, type CheckerState, type CheckerStep } from "./state.ts";
import type { NativeCounters } from "./native/protocol.ts";
import type { CheckResult, CheckerPolicy, CheckerSpec } from "./types.ts";
import {
  desiredDests, initVirtualServer, onCheckerVerdict, onWeight, rsKey, shutdownEvents,
  type DesiredVirtualServer, type HealthEvent, type VirtualServerConfig, type VirtualServerState,
} from "./vs-state.ts";

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ScheduledChecker {
  /** Unique id, e.g. "TCP 10.0.0.1:80/10.0.0.5:80/HTTP_GET#0". */
  id: string;
  vsKey: string;
  /** rsKey() of the real server it belongs to. */
  rs: string;
  spec: CheckerSpec;
  policy: CheckerPolicy;
}

export interface Verdict {
  checker: ScheduledChecker;
  result: CheckResult;
  step: CheckerStep;
}

/** How one check is executed; injectable for tests. `urlIndex` asks HTTP checkers for one url only. */
export type CheckRunner = (spec: CheckerSpec, signal: AbortSignal, urlIndex?: number) => Promise<CheckResult>;

export const defaultRunner: CheckRunner = (spec, signal, urlIndex) =>
  urlIndex !== undefined && (spec.kind === "HTTP_GET" || spec.kind === "SSL_GET")
    ? runUrl(spec.params, urlIndex, signal)
    : runChecker(spec, signal);

export interface EngineHandle { readonly slot: number; readonly gen: number }
export type EngineResultHandler = (result: CheckResult | "fallback", status: number) => void;

/**
 * Runs checkers off the event loop (native/engine.ts). The scheduler still times and judges every
 * result the engine reports; the engine alone re-arms a steady checker (up, no retry pending) whose
 * check succeeds again with the same HTTP status, since judging that result would change nothing.
 */
export interface CheckEngine {
  /** A handle when the engine can run this checker, else undefined (it then runs in JavaScript). */
  add(spec: CheckerSpec, policy: CheckerPolicy, onResult: EngineResultHandler): EngineHandle | undefined;
  /** Run it in `delayMs`; with `steadyStatus` (0 for TCP) a success like that is not reported. */
  schedule(h: EngineHandle, delayMs: number, steadyStatus: number | null): void;
  remove(h: EngineHandle): void;
  counters(h: EngineHandle): NativeCounters;
  checks(): number;
}

export interface SchedulerOptions {
  clock?: Clock;
  /** Uniform in [0,1), for the warmup spread. */
  random?: () => number;
  runner?: CheckRunner;
  /** Checks allowed to run at the same time. Default 256. */
  maxInFlight?: number;
  onVerdict?: (v: Verdict) => void;
  onEvent?: (e: HealthEvent) => void;
  /** Called with a virtual server's desired destinations whenever they may have changed (and at start). */
  onDesired?: (d: DesiredVirtualServer) => void;
  /** FILE_CHECK: re-read a tracked file as soon as it changes (inotify through fs.watch, as keepalived
   *  does), besides the delay_loop poll. Default true. */
  watchFiles?: boolean;
}

interface Running {
  sc: ScheduledChecker;
  /** Dropped by a reload: a check still in flight has no verdict. */
  retired: boolean;
  state: CheckerState;
  timer: unknown;
  abort: AbortController | undefined;
  /** HTTP recovery without fast_recovery: the next url to check (urls are checked one per delay_loop). */
  urlCursor: number;
  /** A tracked file changed while this check was running or queued: run again as soon as it ends. */
  rerun: boolean;
  /** Set when the check engine runs this checker. */
  native: EngineHandle | undefined;
  /** HTTP status of the last success (0 for TCP): the engine's steady case. */
  okStatus: number;
}

export interface SchedulerStats { checks: number; inFlight: number; queued: number }

export class HealthScheduler {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly runner: CheckRunner;
  private readonly maxInFlight: number;
  private vsConfigs: Map<string, VirtualServerConfig>;
  /** The virtual servers as last given (before their checkers were attached), to recognise them. */
  private vsInputs: Map<string, VirtualServerConfig>;
  private readonly vsStates = new Map<string, VirtualServerState>();
  private running = new Map<string, Running>();
  private waiting: Running[] = [];
  private readonly watchers: FSWatcher[] = [];
  private inFlight = 0;
  private checks = 0;
  private stopped = false;
  private checksStarted = false;
  /** Runs the checkers it can (TCP_CHECK, plain HTTP_GET), from useEngine(); without one every
   *  checker runs in JavaScript. */
  private engine: CheckEngine | undefined;

  constructor(virtualServers: VirtualServerConfig[], checkers: ScheduledChecker[], private readonly opts: SchedulerOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.runner = opts.runner ?? defaultRunner;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 256);
    this.vsConfigs = attachCheckers(virtualServers, checkers);
    this.vsInputs = new Map(virtualServers.map((v) => [v.vsKey, v]));
    for (const sc of checkers) this.running.set(sc.id, this.newRunning(sc));
  }

  private newRunning(sc: ScheduledChecker): Running {
    const r: Running = {
      sc, retired: false, state: initialCheckerState(sc.policy), timer: undefined, abort: undefined,
      urlCursor: 0, rerun: false, native: undefined, okStatus: 0,
    };
    this.attach(r);
    return r;
  }

  private attach(r: Running): void {
    r.native = this.engine?.add(r.sc.spec, r.sc.policy, (result, status) => this.engineResult(r, result, status));
  }

  /** Hands the checkers the engine can run to it; before startChecks() only (the checker child
   *  compiles the engine after the initial IPVS table is in the kernel). */
  useEngine(engine: CheckEngine): void {
    if (this.checksStarted || this.engine) throw new Error("useEngine after the checks started or with an engine already");
    this.engine = engine;
    for (const r of this.running.values()) this.attach(r);
  }

  /** A result the engine reports; "fallback" asks for this check to be run in JavaScript. */
  private engineResult(r: Running, result: CheckResult | "fallback", status: number): void {
    if (this.stopped || r.retired) return;
    if (result === "fallback") { this.fire(r); return; }
    if (result.ok) r.okStatus = status;
    this.complete(r, result, undefined);
  }

  /** Stops a checker's timer, engine slot and check in flight. */
  private halt(r: Running): void {
    if (r.timer !== undefined) this.clock.clearTimer(r.timer);
    r.timer = undefined;
    r.abort?.abort();
    if (r.native) this.engine?.remove(r.native);
  }

  /**
   * A reload as a diff (keepalived's migrate_checkers): a checker whose id, spec and policy are unchanged
   * keeps running untouched (its timer, its verdict, a check in flight); a new or changed one starts
   * within its warmup; a removed one stops. A virtual server whose configuration and checker set are
   * unchanged keeps its state and is not reported again; the others start again from their checkers'
   * current verdicts, with events and onDesired as at start. Returns the keys of those virtual servers.
   * Invalid input throws before anything changes.
   */
  reconfigure(virtualServers: VirtualServerConfig[], checkers: ScheduledChecker[]): string[] {
    if (this.stopped) throw new Error("reconfigure of a stopped scheduler");
    const nextConfigs = attachCheckers(virtualServers, checkers, { inputs: this.vsInputs, configs: this.vsConfigs });
    this.vsInputs = new Map(virtualServers.map((v) => [v.vsKey, v]));
    const next = new Map<string, Running>();
    const fresh: Running[] = [];
    for (const sc of checkers) {
      const old = this.running.get(sc.id);
      if (old && deepEqual(old.sc.spec, sc.spec) && deepEqual(old.sc.policy, sc.policy)) { old.sc = sc; next.set(sc.id, old); continue; }
      const r = this.newRunning(sc);
      next.set(sc.id, r);
      fresh.push(r);
    }
    for (const [id, r] of this.running) {
      if (next.get(id) === r) continue;
      r.retired = true;
      this.halt(r);
    }
    this.running = next;
    this.waiting = this.waiting.filter((r) => !r.retired);
    const previous = this.vsConfigs;
    this.vsConfigs = nextConfigs;
    for (const key of previous.keys()) if (!nextConfigs.has(key)) this.vsStates.delete(key);
    const restarted: string[] = [];
    for (const [key, cfg] of nextConfigs) {
      const before = previous.get(key);
      if (before && this.vsStates.has(key) && deepEqual(before, cfg)) continue;
      restarted.push(key);
      this.initVs(key, cfg);
    }
    for (const r of fresh) this.schedule(r, firstRunDelayMs(r.sc.policy, this.random()));
    this.watchTrackedFiles();
    return restarted;
  }

  /** A virtual server's state from its checkers' current verdicts (their configured start before the first). */
  private initVs(key: string, cfg: VirtualServerConfig): void {
    const withVerdicts: VirtualServerConfig = {
      ...cfg,
      realServers: cfg.realServers.map((rs) => ({
        ...rs,
        checkers: rs.checkers.map((c) => {
          const st = this.running.get(c.id)?.state;
          return st?.hasRun ? { id: c.id, startsUp: st.up } : c;
        }),
      })),
    };
    const t = initVirtualServer(withVerdicts);
    this.vsStates.set(key, t.state);
    for (const e of t.events) this.opts.onEvent?.(e);
    this.opts.onDesired?.(desiredDests(cfg, t.state));
  }

  /** Initial state and events, then the first run of every checker within its warmup. */
  start(): void {
    this.initialise();
    this.startChecks();
  }

  /** start() in two steps, so that the caller can program the initial table (onDesired) before any
   *  check competes with it for the event loop, as keepalived programs IPVS before its checkers run. */
  initialise(): void {
    for (const [key, cfg] of this.vsConfigs) this.initVs(key, cfg);
  }

  startChecks(): void {
    if (this.stopped) return;
    this.checksStarted = true;
    for (const r of this.running.values()) if (r.timer === undefined && !r.abort) this.schedule(r, firstRunDelayMs(r.sc.policy, this.random()));
    this.watchTrackedFiles();
  }

  /** (Re)places the inotify watches on the FILE_CHECK files' directories. */
  private watchTrackedFiles(): void {
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    if (this.opts.watchFiles === false) return;
    const byDir = new Map<string, Running[]>();
    for (const r of this.running.values()) {
      if (r.sc.spec.kind !== "FILE_CHECK") continue;
      const d = dirname(r.sc.spec.params.file);
      byDir.set(d, [...(byDir.get(d) ?? []), r]);
    }
    for (const [d, list] of byDir) {
      try {
        // The directory, not the file: tools replace files by rename, which a file watch would miss.
        const w = watch(d, (_event, name) => {
          for (const r of list) if (r.sc.spec.kind === "FILE_CHECK" && basename(r.sc.spec.params.file) === String(name)) this.runSoon(r);
        });
        w.on("error", () => { /* the delay_loop poll still covers this file */ });
        this.watchers.push(w);
      } catch {
        // Missing directory: the poll reports the unreadable file with its reason.
      }
    }
  }

  /** Run a checker now rather than at its next timer (or right after its current run). */
  private runSoon(r: Running): void {
    if (this.stopped) return;
    if (r.abort || this.waiting.includes(r)) { r.rerun = true; return; }
    if (r.timer !== undefined) this.clock.clearTimer(r.timer);
    r.timer = undefined;
    this.fire(r);
  }

  /** Stop every timer and in-flight check; returns (and reports) the omega shutdown events. */
  stop(): HealthEvent[] {
    this.stopped = true;
    for (const r of this.running.values()) this.halt(r);
    this.waiting.length = 0;
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    const events: HealthEvent[] = [];
    for (const [key, cfg] of this.vsConfigs) {
      const st = this.vsStates.get(key);
      if (st) events.push(...shutdownEvents(cfg, st));
    }
    for (const e of events) this.opts.onEvent?.(e);
    return events;
  }

  desired(): DesiredVirtualServer[] {
    return [...this.vsConfigs].flatMap(([key, cfg]) => {
      const st = this.vsStates.get(key);
      return st ? [desiredDests(cfg, st)] : [];
    });
  }

  checkerState(id: string): CheckerState | undefined {
    return this.running.get(id)?.state;
  }

  /** The engine's counters of a checker it runs (every check, including the steady ones it does not
   *  report); undefined for a checker that runs in JavaScript. */
  engineCounters(id: string): NativeCounters | undefined {
    const r = this.running.get(id);
    return r?.native && this.engine?.counters(r.native);
  }

  /** Quorum and sorry-server state of a virtual server. */
  virtualServerState(vsKey: string): { quorumUp: boolean; sorryActive: boolean } | undefined {
    const st = this.vsStates.get(vsKey);
    return st && { quorumUp: st.quorumUp, sorryActive: st.sorryActive };
  }

  stats(): SchedulerStats {
    return { checks: this.checks + (this.engine?.checks() ?? 0), inFlight: this.inFlight, queued: this.waiting.length };
  }

  private schedule(r: Running, delayMs: number): void {
    if (this.stopped) return;
    if (r.native && this.engine) {
      const steady = r.state.up && r.state.hasRun && r.state.retryIt === 0 && !r.rerun;
      this.engine.schedule(r.native, delayMs, steady ? r.okStatus : null);
      return;
    }
    r.timer = this.clock.setTimer(() => { r.timer = undefined; this.fire(r); }, Math.max(0, delayMs));
  }

  private fire(r: Running): void {
    if (this.stopped || r.retired) return;
    if (this.inFlight >= this.maxInFlight) { this.waiting.push(r); return; }
    this.launch(r);
  }

  /** HTTP urls are checked one per delay_loop while the checker is down, unless fast_recovery. */
  private pacedUrl(r: Running): number | undefined {
    const spec = r.sc.spec;
    if (spec.kind !== "HTTP_GET" && spec.kind !== "SSL_GET") return undefined;
    if (spec.params.fastRecovery || spec.params.urls.length < 2) return undefined;
    return r.state.up && r.state.hasRun ? undefined : r.urlCursor;
  }

  private launch(r: Running): void {
    this.inFlight++;
    this.checks++;
    const abort = new AbortController();
    r.abort = abort;
    const urlIndex = this.pacedUrl(r);
    this.runner(r.sc.spec, abort.signal, urlIndex)
      .catch((e: unknown): CheckResult => ({ ok: false, reason: `internal checker error: ${String(e)}`, latencyMs: 0 }))
      .then((result) => {
        this.inFlight--;
        r.abort = undefined;
        if (!this.stopped && !r.retired) this.complete(r, result, urlIndex);
        const next = this.waiting.shift();
        if (next && !this.stopped) this.launch(next);
      });
  }

  private complete(r: Running, result: CheckResult, urlIndex: number | undefined): void {
    const { sc } = r;
    if (urlIndex !== undefined && result.ok && urlIndex + 1 < urlCount(sc.spec)) {
      // One more url recovered; the next one after delay_loop. No verdict until all have passed.
      r.urlCursor = urlIndex + 1;
      this.schedule(r, sc.policy.delayLoopMs);
      return;
    }
    r.urlCursor = 0;
    const firstRun = !r.state.hasRun;
    const step = applyCheckResult(sc.policy, r.state, result.ok);
    r.state = step.state;
    this.opts.onVerdict?.({ checker: sc, result, step });
    const cfg = this.vsConfigs.get(sc.vsKey);
    let st = this.vsStates.get(sc.vsKey);
    if (cfg && st) {
      const events: HealthEvent[] = [];
      if (result.ok && result.weight !== undefined) {
        const t = onWeight(cfg, st, sc.rs, sc.id, sc.spec.kind === "FILE_CHECK" ? "file" : "misc", result.weight);
        st = t.state;
        events.push(...t.events);
      }
      if (step.transition) {
        const t = onCheckerVerdict(cfg, st, sc.rs, sc.id, step.transition === "up", {
          reason: `${sc.spec.kind} ${step.summary}: ${result.reason}`, firstRun, alpha: sc.policy.alpha,
        });
        st = t.state;
        events.push(...t.events);
      }
      this.vsStates.set(sc.vsKey, st);
      for (const e of events) this.opts.onEvent?.(e);
      if (events.length > 0) this.opts.onDesired?.(desiredDests(cfg, st));
    }
    const rerun = r.rerun;
    r.rerun = false;
    this.schedule(r, rerun ? 0 : step.nextDelayMs);
  }
}

/** The virtual servers with each real server's checker list taken from the scheduled checkers, so
 *  that the two cannot disagree. Throws on a duplicate checker id or a checker of an unknown server. */
function attachCheckers(virtualServers: readonly VirtualServerConfig[], checkers: readonly ScheduledChecker[],
  previous?: { inputs: Map<string, VirtualServerConfig>; configs: Map<string, VirtualServerConfig> }): Map<string, VirtualServerConfig> {
  const ids = new Set<string>();
  const byRs = new Map<string, { id: string; startsUp: boolean }[]>();
  for (const c of checkers) {
    if (ids.has(c.id)) throw new Error(`duplicate checker id ${c.id}`);
    ids.add(c.id);
    const key = `${c.vsKey}\n${c.rs}`;
    const entry = { id: c.id, startsUp: !c.policy.alpha };
    const list = byRs.get(key);
    if (list) list.push(entry); else byRs.set(key, [entry]);
  }
  const out = new Map<string, VirtualServerConfig>();
  for (const vs of virtualServers) {
    const lists = vs.realServers.map((rs) => {
      const key = `${vs.vsKey}\n${rsKey(rs)}`;
      const list = byRs.get(key) ?? [];
      byRs.delete(key);
      return list;
    });
    // The same input with the same checkers: the very object attached last time (a reload's diff then
    // recognises it by identity).
    const before = previous?.inputs.get(vs.vsKey) === vs ? previous.configs.get(vs.vsKey) : undefined;
    if (before && before.realServers.every((rs, i) => sameCheckers(rs.checkers, lists[i]))) { out.set(vs.vsKey, before); continue; }
    out.set(vs.vsKey, { ...vs, realServers: vs.realServers.map((rs, i) => ({ ...rs, checkers: lists[i] })) });
  }
  const orphan = checkers.find((c) => byRs.has(`${c.vsKey}\n${c.rs}`));
  if (orphan) throw new Error(`checker ${orphan.id} refers to unknown real server ${orphan.rs} of ${orphan.vsKey}`);
  return out;
}

function sameCheckers(a: readonly { id: string; startsUp: boolean }[], b: readonly { id: string; startsUp: boolean }[]): boolean {
  return a.length === b.length && a.every((x, i) => x.id === b[i].id && x.startsUp === b[i].startsUp);
}

function urlCount(spec: CheckerSpec): number {
  return spec.kind === "HTTP_GET" || spec.kind === "SSL_GET" ? spec.params.urls.length : 1;
}
