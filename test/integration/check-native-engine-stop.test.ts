// The native check engine's thread ending must not go unnoticed: checks would silently stop while the
// real servers keep their last verdict. The engine reports it (onStopped) and the check child exits to
// be restarted (role-check.ts). A file of its own: the engine it stops is not the process's shared one.
import { describe, expect, it } from "vitest";
import * as libc from "../../ffi/libc.ts";
import { NativeCheckEngine } from "../../src/check/native/engine.ts";
import type { CheckResult, CheckerPolicy, CheckerSpec } from "../../src/check/types.ts";
import { loopbackServers } from "../helpers/loopback-servers.ts";

const policy: CheckerPolicy = { retry: 1, delayLoopMs: 60, delayBeforeRetryMs: 60, warmupMs: 0, alpha: false, logAllFailures: false };

describe("native check engine stopping", () => {
  it("reports that it stopped once its thread has ended, after running checks until then", async () => {
    const { closedPort } = loopbackServers();
    const engine = NativeCheckEngine.start();
    let stoppedEarly = false;
    engine.onStopped = () => { stoppedEarly = true; };
    const spec: CheckerSpec = { kind: "TCP_CHECK", params: { connectIp: "127.0.0.1", connectPort: await closedPort(), connectTimeoutMs: 1000 } };
    const result = await new Promise<CheckResult | "fallback">((resolve) => {
      const h = engine.add(spec, policy, (r) => { engine.remove(h!); resolve(r); });
      engine.schedule(h!, 0, null);
    });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/refused/i) });
    expect(stoppedEarly).toBe(false);

    const stopped = new Promise<string>((resolve) => { engine.onStopped = resolve; });
    // In production only a fault ends the thread; closing its command pipe ends it the same way (the
    // thread closes its result pipe on the way out), without a hook that exists for tests.
    libc.close((engine as unknown as { commandFd: number }).commandFd);
    expect(await stopped).toBe("its result pipe closed");
  });
});
