import { describe, expect, it } from "vitest";

describe("realtime priority and memory locking (in a child process)", () => {
  it("SCHED_RR applies to the calling thread only, clamps to the kernel maximum, and mlockall locks memory", async () => {
    const child = Bun.spawn([process.execPath, new URL("../fixtures/netlink/realtime-child.ts", import.meta.url).pathname], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.worker).toEqual({ applied: 99, policy: "rr" });
    expect(r.mainPolicyBefore).toBe("other");
    expect(r.vmLckKb).toBeGreaterThan(1000);
    // Locking on fault must not populate the engine's huge address-space reservations.
    expect(r.rssGrowthKb).toBeLessThan(50_000);
    expect(r.appliedMain).toBe(10);
    expect(r.mainPolicyAfter).toBe("rr");
  });
});
