// When a child process dies, restart it soon, but not in a tight loop: the delay doubles with
// each crash inside the stability window and resets once the child has run long enough.
export interface RestartPolicy { initialMs: number; maxMs: number; stableAfterMs: number }

export const DEFAULT_RESTART: RestartPolicy = { initialMs: 100, maxMs: 10_000, stableAfterMs: 60_000 };

export interface RestartState { consecutive: number; lastStart: number }

export function initialRestartState(now: number): RestartState { return { consecutive: 0, lastStart: now }; }

/** Delay before restarting a child that exited at `now`, and the state to keep. */
export function nextRestart(state: RestartState, now: number, p: RestartPolicy = DEFAULT_RESTART): { delayMs: number; state: RestartState } {
  const ranFor = now - state.lastStart;
  const consecutive = ranFor >= p.stableAfterMs ? 0 : state.consecutive + 1;
  const delayMs = consecutive === 0 ? p.initialMs : Math.min(p.maxMs, p.initialMs * 2 ** consecutive);
  return { delayMs, state: { consecutive, lastStart: now + delayMs } };
}

/** A child that has not sent a heartbeat for this long is considered hung. */
export function isHung(lastHeartbeat: number, now: number, timeoutMs: number): boolean {
  return now - lastHeartbeat > timeoutMs;
}
