// State-change notifications (keepalived vrrp_notify.c): notify_master/backup/fault/stop, the generic
// `notify` script called as `SCRIPT INSTANCE|GROUP NAME STATE PRIORITY`, and notify_fifo lines
// `INSTANCE "VI_1" MASTER 100`. Scripts of one instance (or group) run one at a time, in order, each
// on its own queue, so a slow script never blocks the VRRP loop or another instance's notifications.
// keepalived starts notify scripts without waiting for the previous one; serialising per instance
// keeps "MASTER then BACKUP" from racing each other in the scripts, which is what operators rely on.
import { closeSync, constants, openSync, writeSync } from "node:fs";

import { runScript, splitCommand, type ScriptUser } from "./scripts.ts";

export type NotifyStateName = "MASTER" | "BACKUP" | "FAULT" | "STOP";

export interface NotifyScripts {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** `notify SCRIPT`: gets TYPE NAME STATE PRIORITY. */
  generic?: string;
}

export interface NotifierOptions {
  /** global notify_fifo path (must exist as a FIFO with a reader, as with keepalived). */
  fifo?: string;
  /** script_user (uid/gid) for every notify script. */
  user?: ScriptUser;
  /** Notify scripts still running after this long are killed (default 30 s). */
  timeoutMs?: number;
  log: (level: "info" | "warning" | "error", msg: string) => void;
}

/** The argv for one notification: the state's own script (no arguments), then the generic one. */
export function notifyCommands(scripts: NotifyScripts, kind: "INSTANCE" | "GROUP", name: string, state: NotifyStateName, priority: number): string[][] {
  const own = { MASTER: scripts.master, BACKUP: scripts.backup, FAULT: scripts.fault, STOP: scripts.stop }[state];
  const out: string[][] = [];
  if (own) out.push(splitCommand(own));
  if (scripts.generic) out.push([...splitCommand(scripts.generic), kind, name, state, String(priority)]);
  return out.filter((argv) => argv.length > 0);
}

/** Events that are not states: keepalived writes them to the FIFO in the state's place (vrrp_notify.c notify_fifo). */
export type NotifyEventName = "MASTER_RX_LOWER_PRI";

/** A notify_fifo line, as keepalived 2.2.7 writes it (groups too carry a priority, always 0). */
export function fifoLine(kind: "INSTANCE" | "GROUP", name: string, state: NotifyStateName | NotifyEventName, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}

export class Notifier {
  private readonly queues = new Map<string, Promise<void>>();
  private fifoFd: number | null = null;

  constructor(private readonly opts: NotifierOptions) {}

  notify(scripts: NotifyScripts | undefined, kind: "INSTANCE" | "GROUP", name: string, state: NotifyStateName, priority: number): void {
    if (this.opts.fifo) this.writeFifo(fifoLine(kind, name, state, priority));
    this.run(`${kind} ${name}`, name, scripts ? notifyCommands(scripts, kind, name, state, priority) : []);
  }

  /**
   * An instance event (notify_master_rx_lower_pri): keepalived 2.2.7's send_event_notify runs the
   * script with its own arguments only, and writes `INSTANCE "NAME" MASTER_RX_LOWER_PRI PRIORITY` to the FIFO.
   */
  event(script: string | undefined, name: string, event: NotifyEventName, priority: number): void {
    if (this.opts.fifo) this.writeFifo(fifoLine("INSTANCE", name, event, priority));
    const argv = script ? splitCommand(script) : [];
    this.run(`INSTANCE ${name}`, name, argv.length > 0 ? [argv] : []);
  }

  private run(key: string, name: string, commands: string[][]): void {
    if (commands.length === 0) return;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (const argv of commands) {
        const r = await runScript(argv, { timeoutMs: this.opts.timeoutMs ?? 30_000, user: this.opts.user });
        if (r.error) this.opts.log("error", `(${name}) notify: ${r.error}`);
        else if (r.timedOut) this.opts.log("warning", `(${name}) notify script ${argv[0]} timed out and was killed`);
        else if (r.code !== 0) this.opts.log("warning", `(${name}) notify script ${argv[0]} exited ${r.code}`);
      }
    });
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private writeFifo(line: string): void {
    try {
      // Non-blocking: with no reader the open fails (ENXIO) instead of hanging the loop.
      if (this.fifoFd === null) this.fifoFd = openSync(this.opts.fifo!, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(this.fifoFd, line);
    } catch (e) {
      this.opts.log("warning", `notify_fifo ${this.opts.fifo}: ${(e as Error).message}`);
      this.closeFifo();
    }
  }

  private closeFifo(): void {
    if (this.fifoFd === null) return;
    try {
      closeSync(this.fifoFd);
    } catch {
      /* already closed */
    }
    this.fifoFd = null;
  }

  /** Resolves when every queued notification has run. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  close(): void {
    this.closeFifo();
  }
}
