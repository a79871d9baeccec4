// Pure per-checker state machine: keepalived 2.2.7's checker epilogue (tcp_epilog/udp_epilog/...),
// with time left to the caller. Given the previous state and one check result it says the next state,
// when to run again, and whether the checker changed between up and down.
//
// keepalived's rule, reproduced exactly:
//   delay = delay_loop
//   if success, or (up or never run) and retry_it >= retry:
//       retry_it = 0; success & (down or never run) -> UP; failure & (up or never run) -> DOWN
//   else if up: retry_it++, delay = delay_before_retry      (a failure while retries remain)
//   has_run = true
// So with retry N an up checker goes down on the (N+1)th consecutive failure, and a down checker
// goes up on the first success. A checker that is down and keeps failing stays on delay_loop.
import type { CheckerPolicy } from "./types.ts";

export interface CheckerState {
  up: boolean;
  hasRun: boolean;
  /** Consecutive failures already retried (keepalived's retry_it). */
  retryIt: number;
}

export type CheckerTransition = "up" | "down" | null;

export interface CheckerStep {
  state: CheckerState;
  /** When to run the next check, relative to the end of this one. */
  nextDelayMs: number;
  /** up/down when the checker's verdict changed (or was first established), else null. */
  transition: CheckerTransition;
  /** Whether this failure should be logged: always the one that brings the checker down, every one
   *  while up under log_all_failures. */
  logFailure: boolean;
  /** Human summary for logs, e.g. "failed after 3 retries". */
  summary: string;
}

/** Initial state: up unless alpha (keepalived starts alpha checkers failed). */
export function initialCheckerState(policy: CheckerPolicy): CheckerState {
  return { up: !policy.alpha, hasRun: false, retryIt: 0 };
}

/** Delay before the first run: a random point in [0, warmup] spreads checkers out. `random01` in [0,1). */
export function firstRunDelayMs(policy: CheckerPolicy, random01: number): number {
  if (policy.warmupMs <= 0) return 0;
  return Math.floor(policy.warmupMs * Math.min(Math.max(random01, 0), 1));
}

export function applyCheckResult(policy: CheckerPolicy, prev: CheckerState, ok: boolean): CheckerStep {
  const firstOrUp = prev.up || !prev.hasRun;
  if (ok) {
    const transition: CheckerTransition = !prev.up || !prev.hasRun ? "up" : null;
    return {
      state: { up: true, hasRun: true, retryIt: 0 },
      nextDelayMs: policy.delayLoopMs,
      transition,
      logFailure: false,
      summary: transition ? "succeeded" : "ok",
    };
  }
  if (firstOrUp && prev.retryIt >= policy.retry) {
    const retried = prev.hasRun && policy.retry > 0;
    return {
      state: { up: false, hasRun: true, retryIt: 0 },
      nextDelayMs: policy.delayLoopMs,
      transition: "down",
      logFailure: true,
      summary: retried ? `failed after ${policy.retry} ${policy.retry === 1 ? "retry" : "retries"}` : "failed",
    };
  }
  if (prev.up) {
    const retryIt = prev.retryIt + 1;
    return {
      state: { up: true, hasRun: true, retryIt },
      nextDelayMs: policy.delayBeforeRetryMs,
      transition: null,
      logFailure: policy.logAllFailures,
      summary: `failed, retry ${retryIt} of ${policy.retry}`,
    };
  }
  // Down (or alpha and not yet run) and still failing: nothing changes, check again on delay_loop.
  return {
    state: { up: false, hasRun: true, retryIt: 0 },
    nextDelayMs: policy.delayLoopMs,
    transition: null,
    logFailure: false,
    summary: "still failing",
  };
}
