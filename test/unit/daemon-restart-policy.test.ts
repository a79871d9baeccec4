import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART, initialRestartState, isHung, nextRestart } from "../../src/daemon/restart-policy.ts";

describe("restart policy", () => {
  it("backs off exponentially on quick crashes, capped", () => {
    let s = initialRestartState(0);
    const delays: number[] = [];
    let now = 10;
    for (let i = 0; i < 9; i++) {
      const r = nextRestart(s, now);
      delays.push(r.delayMs);
      s = r.state;
      now = s.lastStart + 50; // crashes 50 ms after each restart
    }
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  });

  it("resets after the child ran longer than the stability window", () => {
    const crashed = { consecutive: 5, lastStart: 0 };
    expect(nextRestart(crashed, DEFAULT_RESTART.stableAfterMs).delayMs).toBe(DEFAULT_RESTART.initialMs);
    expect(nextRestart(crashed, DEFAULT_RESTART.stableAfterMs).state.consecutive).toBe(0);
  });

  it("detects a hung child by its heartbeat age", () => {
    expect(isHung(1000, 5999, 5000)).toBe(false);
    expect(isHung(1000, 6001, 5000)).toBe(true);
  });
});
