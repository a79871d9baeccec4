import { describe, expect, it } from "vitest";
import type { NativeCounters } from "../../src/check/native/protocol.ts";
import {
  HealthScheduler, type CheckEngine, type Clock, type EngineHandle, type EngineResultHandler, type ScheduledChecker,
} from "../../src/check/scheduler.ts";
import { defaultPolicy, type CheckResult, type CheckerPolicy, type CheckerSpec } from "../../src/check/types.ts";
import type { HealthEvent, VirtualServerConfig } from "../../src/check/vs-state.ts";

/** A virtual clock: timers fire only when the test advances time. */
class FakeClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now() { return this.t; }
  setTimer(fn: () => void, ms: number) { const id = ++this.seq; this.timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimer(h: unknown) { this.timers.delete(h as number); }
  pending() { return this.timers.size; }
  /** Advance to `to`, firing due timers in time order and letting the promises they start settle. */
  async advanceTo(to: number) {
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= to).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = to;
  }
}

const tcpSpec: CheckerSpec = { kind: "TCP_CHECK", params: { connectIp: "10.0.0.1", connectPort: 80, connectTimeoutMs: 5000 } };
const policy = (over: Partial<CheckerPolicy> = {}): CheckerPolicy => ({ ...defaultPolicy("TCP_CHECK", 10_000), warmupMs: 0, ...over });

const vsCfg = (n: number, over: Partial<VirtualServerConfig> = {}): VirtualServerConfig => ({
  vsKey: "TCP 10.0.0.100:80", quorum: 1, hysteresis: 0, omega: true, smtpAlert: false,
  quorumUp: "qup", quorumDown: "qdown",
  realServers: Array.from({ length: n }, (_, i) => ({
    addr: `10.0.0.${i + 1}`, port: 80, weight: 1, inhibitOnFailure: false, smtpAlert: false,
    notifyUp: `up${i + 1}`, notifyDown: `down${i + 1}`, checkers: [],
  })),
  ...over,
});

const checker = (i: number, over: Partial<CheckerPolicy> = {}, spec: CheckerSpec = tcpSpec): ScheduledChecker =>
  ({ id: `c${i}`, vsKey: "TCP 10.0.0.100:80", rs: `10.0.0.${i}:80`, spec, policy: policy(over) });

const result = (ok: boolean, extra: Partial<CheckResult> = {}): CheckResult => ({ ok, reason: ok ? "fine" : "connect refused", latencyMs: 1, ...extra });

describe("health scheduler (virtual clock)", () => {
  it("runs on delay_loop, retries after delay_before_retry, and goes down after `retry` retries", async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    let healthy = true;
    const events: HealthEvent[] = [];
    const s = new HealthScheduler([vsCfg(1)], [checker(1, { retry: 2, delayBeforeRetryMs: 1_000 })], {
      clock, runner: async () => { runs.push(clock.now()); return result(healthy); }, onEvent: (e) => events.push(e),
    });
    s.start();
    await clock.advanceTo(0);
    await clock.advanceTo(10_000);
    healthy = false;
    await clock.advanceTo(30_000);
    // 0, 10000 ok; 20000 fail; retries at 21000, 22000 -> down; then every delay_loop: 32000 is after 30000
    expect(runs).toEqual([0, 10_000, 20_000, 21_000, 22_000]);
    expect(events.map((e) => e.type)).toEqual(["rs-down", "quorum-down"]);
    expect(events[0].reason).toContain("TCP_CHECK failed after 2 retries: connect refused");
    healthy = true;
    await clock.advanceTo(32_000);
    expect(events.map((e) => e.type)).toEqual(["rs-down", "quorum-down", "rs-up", "quorum-up"]);
    expect(s.desired()).toEqual([{ vsKey: "TCP 10.0.0.100:80", dests: [{ addr: "10.0.0.1", port: 80, weight: 1 }] }]);
  });

  it("spreads first runs over warmup with the injected random source", async () => {
    const clock = new FakeClock();
    const firstRun = new Map<string, number>();
    const randoms = [0.1, 0.5, 0.9];
    const s = new HealthScheduler([vsCfg(3)], [1, 2, 3].map((i) => checker(i, { warmupMs: 10_000 })), {
      clock, random: () => randoms.shift() ?? 0,
      runner: async (spec, _sig) => { void spec; return result(true); },
      onVerdict: (v) => { if (!firstRun.has(v.checker.id)) firstRun.set(v.checker.id, clock.now()); },
    });
    s.start();
    await clock.advanceTo(10_000);
    expect(Object.fromEntries(firstRun)).toEqual({ c1: 1_000, c2: 5_000, c3: 9_000 });
  });

  it("never runs more than maxInFlight checks at once; queued checks run as slots free up", async () => {
    const clock = new FakeClock();
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const s = new HealthScheduler([vsCfg(5)], [1, 2, 3, 4, 5].map((i) => checker(i)), {
      clock, maxInFlight: 2,
      runner: () => new Promise((res) => { inFlight++; peak = Math.max(peak, inFlight); release.push(() => { inFlight--; res(result(true)); }); }),
    });
    s.start();
    await clock.advanceTo(0);
    expect(s.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    while (release.length) { release.shift()!(); for (let i = 0; i < 10; i++) await Promise.resolve(); }
    expect(peak).toBe(2);
    expect(s.stats()).toMatchObject({ checks: 5, inFlight: 0, queued: 0 });
  });

  it("HTTP without fast_recovery checks one url per delay_loop while down; with fast_recovery all at once", async () => {
    const http = (fast: boolean): CheckerSpec => ({
      kind: "HTTP_GET", params: {
        connectIp: "10.0.0.1", connectPort: 80, connectTimeoutMs: 5000, tls: false, httpProtocol: "1.0",
        fastRecovery: fast, urls: [{ path: "/a" }, { path: "/b" }, { path: "/c" }],
      },
    });
    for (const fast of [false, true]) {
      const clock = new FakeClock();
      const calls: (number | undefined)[] = [];
      const events: string[] = [];
      const s = new HealthScheduler([vsCfg(1)], [checker(1, { alpha: true }, http(fast))], {
        clock, runner: async (_spec, _sig, url) => { calls.push(url); return result(true); },
        onEvent: (e) => events.push(`${clock.now()} ${e.type}`),
      });
      s.start();
      await clock.advanceTo(30_000);
      if (fast) {
        expect(calls).toEqual([undefined, undefined, undefined, undefined]);
        expect(events).toEqual(["0 rs-up", "0 quorum-up"]);
      } else {
        expect(calls).toEqual([0, 1, 2, undefined]);
        expect(events).toEqual(["20000 rs-up", "20000 quorum-up"]);
      }
    }
  });

  it("misc_dynamic weight reaches the desired destinations", async () => {
    const clock = new FakeClock();
    const desired: number[] = [];
    const misc: CheckerSpec = { kind: "MISC_CHECK", params: { path: "x", timeoutMs: 1000, dynamic: true } };
    const s = new HealthScheduler([vsCfg(1)], [checker(1, {}, misc)], {
      clock, runner: async () => result(true, { weight: 7 }),
      onDesired: (d) => desired.push(d.dests[0]?.weight ?? -1),
    });
    s.start();
    await clock.advanceTo(0);
    expect(desired).toEqual([1, 7]);
  });

  it("stop() cancels timers, aborts running checks and returns omega events", async () => {
    const clock = new FakeClock();
    let aborted = false;
    const s = new HealthScheduler([vsCfg(2)], [checker(1), checker(2)], {
      clock, runner: (_spec, sig) => new Promise((res) => sig.addEventListener("abort", () => { aborted = true; res(result(false)); })),
    });
    s.start();
    await clock.advanceTo(0);
    const ev = s.stop();
    expect(aborted).toBe(true);
    expect(clock.pending()).toBe(0);
    expect(ev.map((e) => e.type)).toEqual(["rs-down", "rs-down", "quorum-down"]);
  });

  it("initialise() reports the initial table without running a check; startChecks() starts them", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const desired: string[] = [];
    const s = new HealthScheduler([vsCfg(2)], [checker(1), checker(2)], {
      clock, runner: async () => { runs++; return result(true); }, onDesired: (d) => desired.push(d.vsKey),
    });
    s.initialise();
    await clock.advanceTo(5_000);
    expect(desired).toEqual(["TCP 10.0.0.100:80"]);
    expect(runs).toBe(0);
    s.startChecks();
    await clock.advanceTo(5_000);
    expect(runs).toBe(2);
  });

  it("rejects checkers that point at unknown real servers", () => {
    expect(() => new HealthScheduler([vsCfg(1)], [checker(2)])).toThrow(/unknown real server 10.0.0.2:80/);
  });
});

describe("health scheduler reload (reconfigure)", () => {
  const vsKey2 = "TCP 10.0.0.200:80";
  const vs2 = (): VirtualServerConfig => ({ ...vsCfg(1), vsKey: vsKey2, realServers: [{ ...vsCfg(1).realServers[0], addr: "10.0.1.1" }] });
  /** Checker i with its own address, so the runner can tell them apart; retry 0 goes down on the first failure. */
  const own = (i: number, over: Partial<CheckerPolicy> = {}): ScheduledChecker =>
    checker(i, { retry: 0, ...over }, { kind: "TCP_CHECK", params: { connectIp: `10.0.0.${i}`, connectPort: 80, connectTimeoutMs: 5000 } });
  const checker2 = (over: Partial<CheckerPolicy> = {}): ScheduledChecker =>
    ({ id: "d1", vsKey: vsKey2, rs: "10.0.1.1:80", spec: { kind: "TCP_CHECK", params: { connectIp: "10.0.1.1", connectPort: 80, connectTimeoutMs: 5000 } }, policy: policy({ retry: 0, ...over }) });

  it("keeps unchanged checkers running untouched, starts new ones, and reports only the changed virtual server", async () => {
    const clock = new FakeClock();
    const runs: string[] = [];
    const down = new Set(["c2"]);
    const events: HealthEvent[] = [];
    const desired: string[] = [];
    const s = new HealthScheduler([vsCfg(2)], [own(1), own(2)], {
      clock, runner: async (spec) => {
        const id = spec.kind === "TCP_CHECK" ? `${spec.params.connectIp}` : "";
        runs.push(`${clock.now()} ${id}`);
        return result(!down.has(id === "10.0.0.2" ? "c2" : ""));
      },
      onEvent: (e) => events.push(e), onDesired: (d) => desired.push(d.vsKey),
    });
    s.start();
    await clock.advanceTo(0);
    expect(events.map((e) => e.type)).toEqual(["rs-down"]);
    expect(s.checkerState("c2")).toMatchObject({ up: false, hasRun: true });
    events.length = 0; desired.length = 0; runs.length = 0;
    await clock.advanceTo(4_000);
    const timersBefore = clock.pending();
    // Reload: the first virtual server unchanged, a second one added.
    const restarted = s.reconfigure([vsCfg(2), vs2()], [own(1), own(2), checker2()]);
    expect(restarted).toEqual([vsKey2]);
    expect(desired).toEqual([vsKey2]);
    expect(events).toEqual([]);
    // The kept checkers keep their timers (next run at 10,000, not now) and their verdicts.
    expect(clock.pending()).toBe(timersBefore + 1);
    expect(s.checkerState("c2")).toMatchObject({ up: false, hasRun: true });
    await clock.advanceTo(9_999);
    expect(runs).toEqual(["4000 10.0.1.1"]);
    await clock.advanceTo(10_000);
    expect(runs).toEqual(["4000 10.0.1.1", "10000 10.0.0.1", "10000 10.0.0.2"]);
    expect(s.desired().find((d) => d.vsKey === "TCP 10.0.0.100:80")?.dests.map((d) => d.addr)).toEqual(["10.0.0.1"]);
  });

  it("a changed checker starts again; a removed one stops, and its check in flight gives no verdict", async () => {
    const clock = new FakeClock();
    const verdicts: string[] = [];
    let release: (() => void) | undefined;
    const s = new HealthScheduler([vsCfg(2)], [own(1), own(2)], {
      clock,
      runner: (spec) => spec.kind === "TCP_CHECK" && spec.params.connectIp === "10.0.0.2"
        ? new Promise((r) => { release = () => r(result(true)); })
        : Promise.resolve(result(true)),
      onVerdict: (v) => verdicts.push(`${clock.now()} ${v.checker.id} ${v.checker.policy.delayLoopMs}`),
    });
    s.start();
    await clock.advanceTo(0);
    expect(verdicts).toEqual(["0 c1 10000"]);
    // c1's delay_loop changes; c2 (still checking) goes away with its real server.
    const one = vsCfg(1);
    const restarted = s.reconfigure([one], [own(1, { delayLoopMs: 3_000 })]);
    expect(restarted).toEqual(["TCP 10.0.0.100:80"]);
    release?.();
    await clock.advanceTo(3_000);
    expect(verdicts).toEqual(["0 c1 10000", "0 c1 3000", "3000 c1 3000"]);
    expect(s.checkerState("c2")).toBeUndefined();
    expect(s.stats().inFlight).toBe(0);
  });

  it("a virtual server re-derived by a reload starts from its checkers' verdicts, not from their configured start", async () => {
    const clock = new FakeClock();
    const s = new HealthScheduler([vsCfg(2)], [own(1), own(2)], {
      clock, runner: async (spec) => result(!(spec.kind === "TCP_CHECK" && spec.params.connectIp === "10.0.0.2")),
    });
    s.start();
    await clock.advanceTo(0);
    // quorum raised to 2: only one real server is alive, so the reload finds quorum down.
    const s2 = s.reconfigure([vsCfg(2, { quorum: 2 })], [own(1), own(2)]);
    expect(s2).toEqual(["TCP 10.0.0.100:80"]);
    expect(s.virtualServerState("TCP 10.0.0.100:80")).toEqual({ quorumUp: false, sorryActive: false });
    expect(s.desired()[0].dests.map((d) => d.addr)).toEqual(["10.0.0.1"]);
  });

  it("a UDP_CHECK whose payload bytes change is a changed checker", async () => {
    const clock = new FakeClock();
    const udp = (payload: number[]): CheckerSpec => ({
      kind: "UDP_CHECK", params: { connectIp: "10.0.0.1", connectPort: 53, connectTimeoutMs: 5000, payload: new Uint8Array(payload), requireReply: false, minReplyLength: 0, maxReplyLength: 255 },
    });
    const s = new HealthScheduler([vsCfg(1)], [checker(1, {}, udp([1, 2]))], { clock, runner: async () => result(true) });
    s.start();
    await clock.advanceTo(0);
    s.reconfigure([vsCfg(1)], [checker(1, {}, udp([1, 2]))]);
    expect(s.checkerState("c1")?.hasRun).toBe(true);
    s.reconfigure([vsCfg(1)], [checker(1, {}, udp([1, 3]))]);
    expect(s.checkerState("c1")?.hasRun).toBe(false);
  });

  it("the same virtual server object with the same checkers is unchanged; a checker gone from it changes it", async () => {
    const clock = new FakeClock();
    const vs = vsCfg(2);
    const s = new HealthScheduler([vs], [own(1), own(2)], { clock, runner: async () => result(true) });
    s.start();
    await clock.advanceTo(0);
    expect(s.reconfigure([vs], [own(1), own(2)])).toEqual([]);
    expect(s.reconfigure([vs], [own(1)])).toEqual(["TCP 10.0.0.100:80"]); // c2 disabled: 10.0.0.2 has no checker
    expect(s.reconfigure([vs], [own(1), own(2, { alpha: true })])).toEqual(["TCP 10.0.0.100:80"]);
    expect(s.reconfigure([vs], [own(1), own(2, { alpha: true })])).toEqual([]);
  });

  it("rejects invalid input without changing anything", async () => {
    const clock = new FakeClock();
    const s = new HealthScheduler([vsCfg(1)], [checker(1)], { clock, runner: async () => result(true) });
    s.start();
    expect(() => s.reconfigure([vsCfg(1)], [checker(1), checker(1)])).toThrow(/duplicate checker id c1/);
    expect(() => s.reconfigure([vsCfg(1)], [checker(1), checker(5)])).toThrow(/unknown real server 10\.0\.0\.5:80/);
    expect(s.checkerState("c1")).toBeDefined();
    expect(s.desired()).toHaveLength(1);
  });
});

/** An engine that records what the scheduler asks of it; the test plays its results. */
class FakeEngine implements CheckEngine {
  calls: string[] = [];
  handlers = new Map<number, EngineResultHandler>();
  private next = 0;
  add(spec: CheckerSpec, _policy: CheckerPolicy, onResult: EngineResultHandler): EngineHandle | undefined {
    if (spec.kind !== "TCP_CHECK" && spec.kind !== "HTTP_GET") return undefined;
    const h = { slot: this.next++, gen: 1 };
    this.handlers.set(h.slot, onResult);
    this.calls.push(`add ${h.slot}`);
    return h;
  }
  schedule(h: EngineHandle, delayMs: number, steadyStatus: number | null): void { this.calls.push(`schedule ${h.slot} ${delayMs} ${steadyStatus}`); }
  remove(h: EngineHandle): void { this.calls.push(`remove ${h.slot}`); }
  counters(): NativeCounters { return { successes: 3, failures: 1, latency: { buckets: [], count: 4, sumSeconds: 0 }, lastAt: 0, lastOk: true, lastLatencyMs: 0 }; }
  checks(): number { return 100; }
}

describe("health scheduler with a check engine", () => {
  it("hands eligible checkers to the engine, steady only while up with no retry pending, and judges what it reports", async () => {
    const clock = new FakeClock();
    const engine = new FakeEngine();
    const jsRuns: string[] = [];
    const events: HealthEvent[] = [];
    const misc: CheckerSpec = { kind: "MISC_CHECK", params: { path: "/bin/true", timeoutMs: 1000, dynamic: false } };
    const s = new HealthScheduler([vsCfg(2)], [checker(1, { retry: 1, delayBeforeRetryMs: 1_000 }), checker(2, {}, misc)], {
      clock, runner: async (spec) => { jsRuns.push(spec.kind); return result(true); }, onEvent: (e) => events.push(e),
    });
    s.initialise();
    s.useEngine(engine); // as the checker child does: after the initial table, before the first check
    s.startChecks();
    expect(() => s.useEngine(engine)).toThrow(/useEngine after the checks started/);
    await clock.advanceTo(0);
    expect(engine.calls).toEqual(["add 0", "schedule 0 0 null"]);
    expect(jsRuns).toEqual(["MISC_CHECK"]); // the engine does not take it
    const report = engine.handlers.get(0)!;
    report(result(true), 0);
    expect(engine.calls.at(-1)).toBe("schedule 0 10000 0"); // up and judged: the engine may re-arm alone
    report(result(false), 0);
    expect(engine.calls.at(-1)).toBe("schedule 0 1000 null"); // a retry pending: every result comes back
    report(result(false), 0);
    expect(engine.calls.at(-1)).toBe("schedule 0 10000 null"); // down
    expect(events.map((e) => e.type)).toContain("rs-down");
    report(result(true), 200);
    expect(engine.calls.at(-1)).toBe("schedule 0 10000 200");
    // The engine cannot finish this check: it runs in JavaScript, and its result is judged the same way.
    report("fallback", 0);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(jsRuns).toEqual(["MISC_CHECK", "TCP_CHECK"]);
    expect(engine.calls.at(-1)).toBe("schedule 0 10000 200");
    expect(s.engineCounters("c1")?.successes).toBe(3);
    expect(s.engineCounters("c2")).toBeUndefined();
    expect(s.stats().checks).toBe(102);
    s.reconfigure([vsCfg(2)], [checker(2, {}, misc)]);
    expect(engine.calls.at(-1)).toBe("remove 0");
    report(result(false), 0); // a late result of a retired checker is dropped
    expect(engine.calls.at(-1)).toBe("remove 0");
  });
});
