// When a child process dies, restart it soon, but not in a tight loop: the delay doubles with
// each crash inside the stability window and resets once the child has run long enough. A child
// that keeps exiting because it cannot work (FATAL_EXIT: no sockets, no receive path) is given up
// on, and the daemon exits non-zero, so that systemd reports the failure instead of a daemon that
// looks alive without VRRP.
export interface RestartPolicy { initialMs: number; maxMs: number; stableAfterMs: number; giveUpAfterFatal: number }

export const DEFAULT_RESTART: RestartPolicy = { initialMs: 100, maxMs: 10_000, stableAfterMs: 60_000, giveUpAfterFatal: 5 };

export interface RestartState { consecutive: number; lastStart: number; fatalInARow: number }

export function initialRestartState(now: number): RestartState { return { consecutive: 0, lastStart: now, fatalInARow: 0 }; }

/** Delay before restarting a child that exited at `now` (fatal: it said it cannot work), and the state to keep. */
export function nextRestart(state: RestartState, now: number, p: RestartPolicy = DEFAULT_RESTART, fatal = false): { delayMs: number; state: RestartState; giveUp: boolean } {
  const ranFor = now - state.lastStart;
  const stable = ranFor >= p.stableAfterMs;
  const consecutive = stable ? 0 : state.consecutive + 1;
  const fatalInARow = fatal ? (stable ? 1 : state.fatalInARow + 1) : 0;
  const delayMs = consecutive === 0 ? p.initialMs : Math.min(p.maxMs, p.initialMs * 2 ** consecutive);
  return { delayMs, state: { consecutive, lastStart: now + delayMs, fatalInARow }, giveUp: fatalInARow >= p.giveUpAfterFatal };
}

/** A child that has not sent a heartbeat for this long is considered hung. */
export function isHung(lastHeartbeat: number, now: number, timeoutMs: number): boolean {
  return now - lastHeartbeat > timeoutMs;
}

/**
 * The watchdog's own check ran this late: the supervisor itself was stopped or starved (SIGSTOP, a VM or
 * cgroup freeze, a stalled disk), so the children's silence says nothing about them; their heartbeats are
 * still queued in the pipe. keepalived's parent does not kill a child for that, and neither do we.
 */
export function supervisorStalled(lastCheck: number, now: number, everyMs: number): boolean {
  return now - lastCheck > 3 * everyMs;
}
