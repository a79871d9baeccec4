// The README's first command: `lbctl demo` must run its scripted failovers and leave nothing behind.
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const demoNamespaces = () => readdirSync("/run/netns").filter((n) => n.startsWith("lbdemo-"));

describe("lbctl demo", () => {
  for (const peer of ["lbctl", "keepalived"] as const) {
    it(`fails over and back with ${peer} as the second node, then cleans up`, async () => {
      const p = Bun.spawn([...lbctlCommand(), "demo", "--peer", peer], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toBe("");
      expect(code).toBe(0);
      for (const step of ["startup", "failover after a crash", "preemption", "failover after a graceful stop"]) {
        expect(out).toMatch(new RegExp(`${step}[^\\n]*: node[12] holds 10\\.77\\.0\\.100 after \\d+ ms`));
      }
      expect(out).toMatch(/startup.*: node1 holds/);
      expect(out).toMatch(/failover after a crash: node2 holds/);
      expect(out).toMatch(/preemption: node1 holds/);
      expect(out).toMatch(/graceful stop: node2 holds/);
      // node1 released the VIP when it stopped gracefully.
      expect(out).toMatch(/node1 exited with code 0; its addresses: (?!.*10\.77\.0\.100)/);
      expect(demoNamespaces()).toEqual([]);
    }, 90_000);
  }
});
