import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART, initialRestartState, isHung, nextRestart, supervisorStalled } from "../../src/daemon/restart-policy.ts";

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
    const crashed = { consecutive: 5, lastStart: 0, fatalInARow: 0 };
    expect(nextRestart(crashed, DEFAULT_RESTART.stableAfterMs).delayMs).toBe(DEFAULT_RESTART.initialMs);
    expect(nextRestart(crashed, DEFAULT_RESTART.stableAfterMs).state.consecutive).toBe(0);
  });

  it("gives up after five fatal exits in a row; crashes alone never give up", () => {
    const run = (fatal: (i: number) => boolean, n: number) => {
      let s = initialRestartState(0);
      let now = 10;
      const giveUps: boolean[] = [];
      for (let i = 0; i < n; i++) {
        const r = nextRestart(s, now, DEFAULT_RESTART, fatal(i));
        giveUps.push(r.giveUp);
        s = r.state;
        now = s.lastStart + 50;
      }
      return giveUps;
    };
    expect(run(() => true, 5)).toEqual([false, false, false, false, true]);
    expect(run(() => false, 20).some(Boolean)).toBe(false);
    // A crash in between starts the count again.
    expect(run((i) => i !== 3, 7)).toEqual([false, false, false, false, false, false, false]);
    // So does a run longer than the stability window.
    const r = nextRestart({ consecutive: 4, lastStart: 0, fatalInARow: 4 }, DEFAULT_RESTART.stableAfterMs, DEFAULT_RESTART, true);
    expect(r.giveUp).toBe(false);
    expect(r.state.fatalInARow).toBe(1);
  });

  it("detects a hung child by its heartbeat age", () => {
    expect(isHung(1000, 5999, 5000)).toBe(false);
    expect(isHung(1000, 6001, 5000)).toBe(true);
  });
});

describe("a stalled supervisor", () => {
  it("is told from a hung child by its own watchdog check running late", () => {
    expect(supervisorStalled(0, 1500, 1000)).toBe(false); // a busy loop, not a stall
    expect(supervisorStalled(0, 3001, 1000)).toBe(true); // SIGSTOP, freeze: the checks themselves did not run
  });
});
