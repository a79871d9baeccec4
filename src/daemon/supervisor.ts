// The supervisor: reads and validates the configuration, keeps one child per role running
// (restarting a child that dies or stops answering), hands each child the configuration, and
// turns a reload into "check first, then send the new config" so a bad file never reaches
// the children. It holds no VRRP or IPVS state itself.
import { formatDiagnostic, sortDiagnostics } from "../config/diagnostics.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { Model } from "../config/schema.ts";
import type { Logger } from "../util/log.ts";
import { discardConfigFile, putConfigFile, spawnChild, type ChildHandle, type Role } from "./child.ts";
import { RESUME_ARG } from "./protocol.ts";
import { configForRole, FATAL_EXIT, isFromChild, type FromChild, type ToChild } from "./protocol.ts";
import { DEFAULT_RESTART, initialRestartState, isHung, nextRestart, supervisorStalled, type RestartState } from "./restart-policy.ts";
import type { SystemdNotifier } from "./sd-notify.ts";

export interface SupervisorOptions {
  configPath: string;
  load(path: string): LoadedConfig;
  /** Which children this configuration needs (e.g. no checker without virtual servers). */
  rolesFor(effective: Model): Role[];
  log: Logger;
  notifier: SystemdNotifier;
  /** Extra arguments for every child (e.g. --vrrp-rt-priority). */
  childArgs?: string[];
  heartbeatTimeoutMs?: number;
  now?: () => number;
  onEvent?(role: Role, event: Record<string, unknown>): void;
  /** A child started, exited or was restarted (for the event stream). */
  onChild?(role: Role, pid: number | null, change: "started" | "exited" | "restarted", detail: string): void;
  /**
   * A child kept exiting because it cannot work (RestartPolicy.giveUpAfterFatal): it is not
   * restarted again, and the daemon should stop and exit non-zero.
   */
  onGiveUp?(role: Role, detail: string): void;
  /** A child applied its first configuration (e.g. to re-send drains to a new checker). */
  onChildReady?(role: Role): void;
}

/** How long a child may stay silent while it applies a configuration. */
export const BUSY_TIMEOUT_MS = 300_000;
/** How long a status request waits for the children before the last known status is shown. */
export const STATUS_REQUEST_TIMEOUT_MS = 2000;

export interface ReloadResult { ok: boolean; errors: string[]; warnings: string[] }

interface Managed {
  role: Role;
  child: ChildHandle | null;
  ready: boolean;
  lastHeartbeat: number;
  /** Since when the child has been applying a configuration we sent (null: idle). */
  busySince: number | null;
  restart: RestartState;
  restartTimer: ReturnType<typeof setTimeout> | null;
  status: Record<string, unknown>;
  stopping: boolean;
  /** Resolves the pending "stopped" wait during shutdown. */
  onStopped?: () => void;
  pendingActions: Map<number, (r: { ok: boolean; message: string }) => void>;
  /** Waiting for the answer to a status request. */
  statusWaiters: (() => void)[];
  /** One entry per configuration sent and not yet acknowledged: its file (null: sent inline). */
  unacknowledged: (string | null)[];
}

export class Supervisor {
  private effective: Model = {};
  private readonly children = new Map<Role, Managed>();
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastCheck = 0;
  private systemdWatchdog: ReturnType<typeof setInterval> | null = null;
  private readyWaiters: (() => void)[] = [];
  private nextActionId = 1;
  readonly startedAt: number;
  lastReload: { at: number; ok: boolean; message: string } | null = null;
  reloadCount = 0;

  constructor(private readonly o: SupervisorOptions) {
    this.startedAt = this.now();
  }

  private now(): number { return (this.o.now ?? Date.now)(); }

  /** Loads the configuration; errors are returned for the caller to print (nothing starts). */
  start(): ReloadResult {
    const loaded = this.o.load(this.o.configPath);
    const r = summarize(loaded);
    this.report(r);
    if (!r.ok) return r;
    this.effective = loaded.effective;
    for (const role of this.o.rolesFor(this.effective)) this.ensureChild(role);
    const timeout = this.o.heartbeatTimeoutMs ?? 10_000;
    const every = Math.min(1000, timeout / 2);
    this.lastCheck = this.now();
    this.watchdog = setInterval(() => this.checkHeartbeats(timeout, every), every);
    // systemd's WatchdogSec= watches this process: pinged from this loop at half the interval systemd
    // asked for, so a hung or stopped supervisor misses its pings. Not tied to the children being ready:
    // the supervisor restarts those itself (with back-off that can exceed WatchdogSec), and applying a big
    // configuration at start-up can take longer than WatchdogSec.
    const systemdEvery = this.o.notifier.watchdogIntervalMs();
    if (systemdEvery !== undefined) {
      this.o.notifier.watchdog();
      this.systemdWatchdog = setInterval(() => this.o.notifier.watchdog(), systemdEvery);
    }
    return r;
  }

  /** Resolves once every child has reported ready (or immediately with no children). */
  whenReady(): Promise<void> {
    if (this.allReady()) return Promise.resolve();
    return new Promise((res) => this.readyWaiters.push(res));
  }

  /** Checks the new file first; only a clean load replaces the running configuration. */
  reload(): ReloadResult {
    this.o.notifier.reloading();
    const startedAt = this.now();
    const loaded = this.o.load(this.o.configPath);
    const r = summarize(loaded);
    this.report(r);
    this.reloadCount++;
    if (!r.ok) {
      this.lastReload = { at: this.now(), ok: false, message: r.errors.join("; ") };
      this.o.log.err(`reload rejected, keeping the running configuration: ${r.errors.length} error(s) in ${this.o.configPath}`);
      this.o.notifier.ready("reload rejected; running the previous configuration");
      return r;
    }
    this.effective = loaded.effective;
    const wanted = new Set(this.o.rolesFor(this.effective));
    for (const role of wanted) {
      const m = this.children.get(role);
      if (m?.child) this.sendConfig(m, true);
      else this.ensureChild(role);
    }
    for (const [role, m] of this.children) if (!wanted.has(role)) void this.stopChild(m);
    this.lastReload = { at: this.now(), ok: true, message: "reloaded" };
    this.o.log.notice(`reloaded ${this.o.configPath} (read and checked in ${this.now() - startedAt} ms)`);
    this.o.notifier.ready("running");
    return r;
  }

  /** Stops every child (each releases its addresses and adverts priority 0), then returns. */
  async stop(graceMs = 900): Promise<void> {
    this.o.notifier.stopping();
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.systemdWatchdog) clearInterval(this.systemdWatchdog);
    await Promise.all([...this.children.values()].map((m) => this.stopChild(m, graceMs)));
  }

  /** Routes a control action to the child that owns it. */
  action(role: Role, action: string, args: Record<string, string>): Promise<{ ok: boolean; message: string }> {
    const m = this.children.get(role);
    if (!m?.child || !m.ready) return Promise.resolve({ ok: false, message: `${role} process is not running` });
    const id = this.nextActionId++;
    return new Promise((res) => {
      m.pendingActions.set(id, res);
      m.child!.send({ type: "action", id, action, args } satisfies ToChild);
      setTimeout(() => { if (m.pendingActions.delete(id)) res({ ok: false, message: `${role} process did not answer` }); }, 5000);
    });
  }

  statusOf(role: Role): Record<string, unknown> | undefined { return this.children.get(role)?.status; }

  /**
   * Asks every running child for its status and resolves once each has answered, or after
   * `timeoutMs` (a child busy applying a large configuration): statusOf() then has the last known.
   */
  refreshStatus(timeoutMs = STATUS_REQUEST_TIMEOUT_MS): Promise<void> {
    const answers = [...this.children.values()].filter((m) => m.child && m.ready).map((m) => new Promise<void>((res) => {
      m.statusWaiters.push(res);
      m.child!.send({ type: "status-request" } satisfies ToChild);
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((res) => { timer = setTimeout(res, timeoutMs); });
    return Promise.race([Promise.all(answers).then(() => {}), timeout]).finally(() => clearTimeout(timer));
  }

  childInfo(): { role: Role; pid: number | null; ready: boolean; restarts: number }[] {
    return [...this.children.values()].map((m) => ({ role: m.role, pid: m.child?.pid ?? null, ready: m.ready, restarts: m.restart.consecutive }));
  }

  get config(): Model { return this.effective; }

  // -------------------------------------------------------------------------

  private ensureChild(role: Role): void {
    let m = this.children.get(role);
    if (!m) {
      m = { role, child: null, ready: false, lastHeartbeat: this.now(), busySince: null, restart: initialRestartState(this.now()), restartTimer: null, status: {}, stopping: false, pendingActions: new Map(), statusWaiters: [], unacknowledged: [] };
      this.children.set(role, m);
    }
    this.spawn(m);
  }

  private spawn(m: Managed, restarted = false): void {
    m.ready = false;
    m.lastHeartbeat = this.now();
    // A restarted child (its predecessor died) may find what the old one held still in place: the VRRP
    // child then resumes mastership instead of starting from scratch (RESUME_ARG, role-vrrp.ts).
    const args = [...(this.o.childArgs ?? []), ...(restarted ? [RESUME_ARG] : [])];
    const child = spawnChild({ role: m.role, args, onMessage: (msg) => this.onMessage(m, msg) });
    m.child = child;
    this.o.onChild?.(m.role, child.pid, restarted ? "restarted" : "started", "");
    this.sendConfig(m, false);
    void child.exited.then((code) => this.onExit(m, child, code));
  }

  private sendConfig(m: Managed, reload: boolean): void {
    if (!m.child) return;
    m.busySince = this.now();
    const effective = configForRole(m.role, this.effective);
    let file: string;
    try {
      file = putConfigFile(m.role, JSON.stringify(effective));
    } catch (e) {
      this.o.log.warning(`cannot write the ${m.role} process's configuration file (${(e as Error).message}); sending it over IPC`);
      m.unacknowledged.push(null);
      m.child.send({ type: "config", effective, reload } satisfies ToChild);
      return;
    }
    m.unacknowledged.push(file);
    m.child.send({ type: "config", file, reload } satisfies ToChild);
  }

  private onMessage(m: Managed, msg: unknown): void {
    if (!isFromChild(msg)) return;
    const fm: FromChild = msg;
    m.lastHeartbeat = this.now();
    switch (fm.type) {
      case "ready":
        m.ready = true;
        this.o.onChildReady?.(m.role);
        if (this.allReady()) for (const w of this.readyWaiters.splice(0)) w();
        break;
      case "heartbeat": break;
      case "configured":
        // How long a reload takes to reach the kernel is what operators of big configurations ask.
        if (m.busySince !== null) this.o.log.info(`${m.role} process applied the configuration in ${this.now() - m.busySince} ms`);
        m.busySince = null;
        // Acknowledged in order; the child removed the file when it read it.
        m.unacknowledged.shift();
        // No forced collection here: at 37,000 real servers one halved the supervisor's PSS
        // (500 -> 210 MB) but made the next reload's parse ~200 ms slower (a heap regrown from small).
        break;
      case "log": this.o.log.log(fm.level, `${m.role}: ${fm.message}`, fm.key); break;
      case "event": this.o.onEvent?.(m.role, fm.event); break;
      case "status":
        m.status = fm.status;
        for (const w of m.statusWaiters.splice(0)) w();
        break;
      case "actionResult": {
        const done = m.pendingActions.get(fm.id);
        m.pendingActions.delete(fm.id);
        done?.({ ok: fm.ok, message: fm.message });
        break;
      }
      case "stopped": m.onStopped?.(); break;
    }
  }

  private onExit(m: Managed, child: ChildHandle, code: number): void {
    if (m.child !== child) return;
    m.child = null;
    m.ready = false;
    // Files it may not have read: a child takes each as its message arrives.
    for (const f of m.unacknowledged.splice(0)) if (f !== null) discardConfigFile(f);
    for (const w of m.statusWaiters.splice(0)) w();
    if (m.stopping) return;
    const { delayMs, state, giveUp } = nextRestart(m.restart, this.now(), DEFAULT_RESTART, code === FATAL_EXIT);
    m.restart = state;
    this.o.onChild?.(m.role, child.pid, "exited", `code ${code}`);
    if (giveUp) {
      const detail = `${m.role} process could not run ${state.fatalInARow} times in a row`;
      this.o.log.crit(`${detail} (last: pid ${child.pid}, code ${code}); giving up`);
      this.o.onGiveUp?.(m.role, detail);
      return;
    }
    this.o.log.err(`${m.role} process ${child.pid} exited (code ${code}); restarting in ${delayMs} ms`);
    m.restartTimer = setTimeout(() => { m.restartTimer = null; if (!m.stopping) this.spawn(m, true); }, delayMs);
  }

  private checkHeartbeats(timeoutMs: number, everyMs: number): void {
    const now = this.now();
    const stalled = supervisorStalled(this.lastCheck, now, everyMs);
    if (stalled) this.o.log.warning(`the supervisor did not run for ${Math.round(now - this.lastCheck)} ms (stopped or frozen); its children are not blamed for the silence`);
    this.lastCheck = now;
    for (const m of this.children.values()) {
      if (stalled) {
        m.lastHeartbeat = now;
        continue;
      }
      // Applying a large configuration can keep a child's loop busy for a while (10,000 real
      // servers in a slow VM: tens of seconds); only a child past the longer limit is hung then.
      const limit = m.busySince !== null ? Math.max(timeoutMs, BUSY_TIMEOUT_MS) : timeoutMs;
      if (!m.child || m.stopping || !isHung(m.lastHeartbeat, now, limit)) continue;
      this.o.log.err(`${m.role} process ${m.child.pid} sent no heartbeat for ${now - m.lastHeartbeat} ms; killing it`);
      m.child.kill("SIGKILL");
    }
  }

  private async stopChild(m: Managed, graceMs = 900): Promise<void> {
    m.stopping = true;
    if (m.restartTimer) clearTimeout(m.restartTimer);
    const child = m.child;
    if (!child) return;
    const stopped = new Promise<void>((res) => { m.onStopped = res; });
    child.send({ type: "stop" } satisfies ToChild);
    const timeout = new Promise<"timeout">((res) => setTimeout(() => res("timeout"), graceMs));
    const r = await Promise.race([child.exited.then(() => "exited" as const), stopped.then(() => child.exited).then(() => "exited" as const), timeout]);
    if (r === "timeout") {
      this.o.log.warning(`${m.role} process ${child.pid} did not stop within ${graceMs} ms; killing it`);
      child.kill("SIGKILL");
      await child.exited;
    }
    this.children.delete(m.role);
  }

  private allReady(): boolean {
    for (const m of this.children.values()) if (!m.ready) return false;
    return true;
  }

  private report(r: ReloadResult): void {
    for (const w of r.warnings) this.o.log.warning(w);
    for (const e of r.errors) this.o.log.err(e);
  }
}

export function summarize(loaded: LoadedConfig): ReloadResult {
  const sorted = sortDiagnostics(loaded.diag.list);
  return {
    ok: !loaded.diag.hasErrors,
    errors: sorted.filter((d) => d.severity === "error").map(formatDiagnostic),
    warnings: sorted.filter((d) => d.severity === "warning").map(formatDiagnostic),
  };
}
