import { describe, expect, it } from "vitest";
import { applyCheckResult, firstRunDelayMs, initialCheckerState, type CheckerState } from "../../src/check/state.ts";
import { defaultPolicy, type CheckerPolicy } from "../../src/check/types.ts";

const policy = (over: Partial<CheckerPolicy> = {}): CheckerPolicy => ({
  ...defaultPolicy("TCP_CHECK", 10_000), ...over,
});

/** Feed results through the machine on a virtual clock; returns the timeline of (time, up, transition). */
function run(p: CheckerPolicy, results: boolean[]) {
  let s: CheckerState = initialCheckerState(p);
  let now = 0;
  const out: { at: number; up: boolean; transition: string | null; next: number }[] = [];
  for (const ok of results) {
    const step = applyCheckResult(p, s, ok);
    out.push({ at: now, up: step.state.up, transition: step.transition, next: step.nextDelayMs });
    now += step.nextDelayMs;
    s = step.state;
  }
  return out;
}

describe("checker state (keepalived retry semantics)", () => {
  it("defaults follow keepalived.conf(5)", () => {
    expect(defaultPolicy("TCP_CHECK")).toMatchObject({ retry: 1, delayLoopMs: 60_000, delayBeforeRetryMs: 1_000, warmupMs: 60_000, alpha: false });
    expect(defaultPolicy("HTTP_GET").delayBeforeRetryMs).toBe(3_000);
    expect(defaultPolicy("SSL_GET").delayBeforeRetryMs).toBe(3_000);
    expect(defaultPolicy("DNS_CHECK", 7_000)).toMatchObject({ retry: 3, delayBeforeRetryMs: 7_000 });
    expect(defaultPolicy("MISC_CHECK").retry).toBe(0);
  });

  it("starts up without alpha, down with alpha", () => {
    expect(initialCheckerState(policy()).up).toBe(true);
    expect(initialCheckerState(policy({ alpha: true })).up).toBe(false);
  });

  it("first success reports up once, then stays quiet on delay_loop", () => {
    const t = run(policy(), [true, true]);
    expect(t.map((x) => x.transition)).toEqual(["up", null]);
    expect(t.map((x) => x.next)).toEqual([10_000, 10_000]);
  });

  it("retry 1: goes down on the second consecutive failure, retry scheduled after delay_before_retry", () => {
    const t = run(policy({ retry: 1, delayBeforeRetryMs: 1_000 }), [true, false, false, false]);
    expect(t).toEqual([
      { at: 0, up: true, transition: "up", next: 10_000 },
      { at: 10_000, up: true, transition: null, next: 1_000 },
      { at: 11_000, up: false, transition: "down", next: 10_000 },
      { at: 21_000, up: false, transition: null, next: 10_000 },
    ]);
  });

  it("retry 3: three failures are tolerated, the fourth takes it down", () => {
    const t = run(policy({ retry: 3 }), [true, false, false, false, false]);
    expect(t.map((x) => x.transition)).toEqual(["up", null, null, null, "down"]);
    expect(applyCheckResult(policy({ retry: 3 }), { up: true, hasRun: true, retryIt: 3 }, false).summary).toBe("failed after 3 retries");
  });

  it("a success during retries resets the count", () => {
    const t = run(policy({ retry: 1 }), [true, false, true, false, false]);
    expect(t.map((x) => x.transition)).toEqual(["up", null, null, null, "down"]);
  });

  it("retry 0 (MISC_CHECK default): one failure takes it down", () => {
    const t = run(policy({ retry: 0 }), [true, false]);
    expect(t.map((x) => x.transition)).toEqual(["up", "down"]);
  });

  it("non-alpha first run failing uses retries before going down", () => {
    const t = run(policy({ retry: 1 }), [false, false]);
    expect(t.map((x) => x.transition)).toEqual([null, "down"]);
  });

  it("a down checker comes back on the first success", () => {
    const t = run(policy({ retry: 2 }), [false, false, false, false, true]);
    expect(t.map((x) => x.transition)).toEqual([null, null, "down", null, "up"]);
  });

  it("alpha: failures do not report a transition until retries are used (keepalived quirk), success brings it up", () => {
    const t = run(policy({ alpha: true, retry: 1 }), [false, false, true]);
    expect(t.map((x) => x.transition)).toEqual([null, null, "up"]);
    expect(t.map((x) => x.up)).toEqual([false, false, true]);
    // alpha with retry 0: the first failure reports the (already down) state
    expect(run(policy({ alpha: true, retry: 0 }), [false])[0].transition).toBe("down");
  });

  it("log_all_failures logs retried failures too", () => {
    const up: CheckerState = { up: true, hasRun: true, retryIt: 0 };
    expect(applyCheckResult(policy({ logAllFailures: false }), up, false).logFailure).toBe(false);
    expect(applyCheckResult(policy({ logAllFailures: true }), up, false).logFailure).toBe(true);
    expect(applyCheckResult(policy({ retry: 0 }), up, false).logFailure).toBe(true);
  });

  it("warmup spreads the first run in [0, warmup]; 0 disables", () => {
    expect(firstRunDelayMs(policy({ warmupMs: 10_000 }), 0.5)).toBe(5_000);
    expect(firstRunDelayMs(policy({ warmupMs: 10_000 }), 0)).toBe(0);
    expect(firstRunDelayMs(policy({ warmupMs: 0 }), 0.9)).toBe(0);
  });
});
