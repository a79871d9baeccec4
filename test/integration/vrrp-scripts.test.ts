// The script runner behind vrrp_script and notify: runs as the configured user (root needed to
// switch), is killed at its timeout without blocking the event loop, and reports a missing program.
import { describe, expect, it } from "vitest";

import { runScript } from "../../src/vrrp/scripts.ts";

describe("runScript", () => {
  it("runs as the given uid/gid", async () => {
    const check = ["/bin/sh", "-c", 'test "$(id -u):$(id -g)" = "65534:65534"'];
    expect(await runScript(check, { user: { uid: 65534, gid: 65534 } })).toEqual({ code: 0, timedOut: false });
    expect((await runScript(check)).code).toBe(1);
  });

  it("kills a script at its timeout, and the event loop keeps running meanwhile", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const r = await runScript(["/bin/sleep", "5"], { timeoutMs: 200 });
    clearInterval(ticker);
    expect(r).toEqual({ code: null, timedOut: true });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(ticks).toBeGreaterThan(5);
  });

  it("a missing program is an error value, not an exception", async () => {
    const r = await runScript(["/nonexistent/lbtvr-script"]);
    expect(r.code).toBeNull();
    expect(r.timedOut).toBe(false);
    expect(r.error).toMatch(/cannot run \/nonexistent\/lbtvr-script: ENOENT/);
  });
});
