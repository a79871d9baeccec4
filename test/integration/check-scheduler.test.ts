// The scheduler with real timers, a real HTTP server (Bun.serve on loopback) that the test stops and
// starts again, and real notify scripts: the server goes down after `retry` retries, comes back on the
// first success, and each notify script fires once per transition, in order.
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NotifyRunner } from "../../src/check/notify.ts";
import { HealthScheduler, type Verdict } from "../../src/check/scheduler.ts";
import { defaultPolicy } from "../../src/check/types.ts";
import type { HealthEvent, VirtualServerConfig } from "../../src/check/vs-state.ts";

const dir = mkdtempSync(join(tmpdir(), "lbt-ck-sched-"));
let server: ReturnType<typeof Bun.serve> | undefined;
let scheduler: HealthScheduler | undefined;

afterAll(() => {
  scheduler?.stop();
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

function startServer(port: number) {
  return Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("alive\n") });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("HealthScheduler with a real server and notify scripts", () => {
  it("down after retry+1 failures, up on the first success, notifies once per transition in order", async () => {
    server = startServer(0);
    const port = server.port ?? 0;
    expect(port).toBeGreaterThan(0);
    const log = join(dir, "notify.log");
    const note = (word: string) => `echo ${word} >> ${log}`;
    const vs: VirtualServerConfig = {
      vsKey: "TCP 127.0.0.100:80", quorum: 1, hysteresis: 0, omega: false, smtpAlert: false,
      quorumUp: note("quorum-up"), quorumDown: note("quorum-down"),
      realServers: [{ addr: "127.0.0.1", port, weight: 3, inhibitOnFailure: false, smtpAlert: false,
        notifyUp: note("rs-up"), notifyDown: note("rs-down"), checkers: [] }],
    };
    const policy = { ...defaultPolicy("HTTP_GET", 150), retry: 2, delayBeforeRetryMs: 50, warmupMs: 0 };
    const notifier = new NotifyRunner(5_000);
    const verdicts: Verdict[] = [];
    const events: HealthEvent[] = [];
    const weights: number[][] = [];
    scheduler = new HealthScheduler([vs], [{
      id: "http#0", vsKey: vs.vsKey, rs: `127.0.0.1:${port}`, policy,
      spec: { kind: "HTTP_GET", params: { connectIp: "127.0.0.1", connectPort: port, connectTimeoutMs: 500, tls: false, httpProtocol: "1.0", urls: [{ path: "/" }] } },
    }], {
      onVerdict: (v) => verdicts.push(v),
      onEvent: (e) => { events.push(e); if ("notify" in e && e.notify) void notifier.run(e.notify); },
      onDesired: (d) => weights.push(d.dests.map((x) => x.weight)),
    });
    scheduler.start();
    await waitFor("first success", () => verdicts.some((v) => v.result.ok));

    server.stop(true);
    const stoppedAt = verdicts.length;
    await waitFor("rs-down", () => events.some((e) => e.type === "rs-down"));
    const failures = verdicts.slice(stoppedAt).filter((v) => !v.result.ok);
    expect(failures.length).toBe(3); // retry 2 => the third consecutive failure takes it down
    expect(failures[0].result.reason).toBe(`connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)`);
    expect(failures.map((f) => f.step.transition)).toEqual([null, null, "down"]);

    server = startServer(port);
    await waitFor("rs-up", () => events.some((e) => e.type === "rs-up"));
    await Bun.sleep(400); // a few more healthy rounds: no further notifications
    await notifier.idle();

    expect(events.map((e) => e.type)).toEqual(["rs-down", "quorum-down", "rs-up", "quorum-up"]);
    expect(events[0].reason).toBe(`Removing service 127.0.0.1:${port} from VS TCP 127.0.0.100:80: HTTP_GET failed after 2 retries: connect to 127.0.0.1:${port} failed: ECONNREFUSED (Connection refused)`);
    expect(existsSync(log) && readFileSync(log, "utf8").trim().split("\n")).toEqual(["rs-down", "quorum-down", "rs-up", "quorum-up"]);
    expect(weights).toEqual([[3], [], [3]]);
    scheduler.stop();
  });

  it("FILE_CHECK reacts to the tracked file changing (inotify), long before delay_loop", async () => {
    const tracked = join(dir, "weight");
    writeFileSync(tracked, "2\n");
    const vs: VirtualServerConfig = {
      vsKey: "TCP 127.0.0.101:80", quorum: 1, hysteresis: 0, omega: false, smtpAlert: false,
      realServers: [{ addr: "127.0.0.1", port: 81, weight: 10, inhibitOnFailure: true, smtpAlert: false, checkers: [] }],
    };
    const weights: number[] = [];
    const s = new HealthScheduler([vs], [
      { id: "dyn", vsKey: vs.vsKey, rs: "127.0.0.1:81", policy: { ...defaultPolicy("FILE_CHECK", 60_000), warmupMs: 0 },
        spec: { kind: "FILE_CHECK", params: { file: tracked, weight: 5, reverse: false, dynamic: true } } },
    ], { onDesired: (d) => weights.push(d.dests[0]?.weight ?? -1) });
    try {
      s.start();
      await waitFor("initial weight", () => weights.includes(20));
      writeFileSync(tracked, "4\n");
      await waitFor("weight after write", () => weights.includes(30), 3_000);
      // Replaced by rename, as configuration tools do.
      writeFileSync(`${tracked}.new`, "-2\n");
      renameSync(`${tracked}.new`, tracked);
      await waitFor("weight after rename", () => weights.includes(0), 3_000);
      expect(weights).toEqual([10, 20, 30, 0]);
    } finally {
      s.stop();
    }
  });
});
