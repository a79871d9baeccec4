// The demo's pure parts: its node configurations (with and without the IPVS virtual server) and
// the reading of the client's log into per-phase figures and lines.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigText } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { NODES, demoConfig, parseSamples, phaseLine, phaseStats, summaryTable } from "../../src/demo/report.ts";
import type { ClientSample } from "../../src/demo/agents.ts";

const env = machineEnv({ checkInterfaces: false });

describe("demo configurations", () => {
  for (const ipvs of [false, true]) {
    it(`load cleanly${ipvs ? " with the IPVS virtual server" : ""}`, () => {
      for (const n of NODES) {
        const r = loadConfigText(demoConfig(n, { version: 3, advertInt: 0.5, ipvs }), `${n.name}.conf`, { env });
        expect(r.diag.list).toEqual([]);
        expect((r.model as unknown as { vrrp_instance: Record<string, { priority: number }> }).vrrp_instance.DEMO?.priority).toBe(n.priority);
      }
    });
  }

  it("the IPVS one has a DR virtual server on the VIP with two TCP-checked real servers", () => {
    const r = loadConfigText(demoConfig(NODES[0], { version: 3, advertInt: 0.5, ipvs: true }), "n.conf", { env });
    const vs = (r.model as unknown as { virtual_server: { ip: string; port: number; lvs_method: { method: string }; real_server: { ip: string; checker: { type: string }[] }[] }[] }).virtual_server;
    expect(vs).toHaveLength(1);
    expect(vs[0]).toMatchObject({ ip: "10.77.0.100", port: 8080, lvs_method: { method: "DR" } });
    expect(vs[0]!.real_server.map((rs) => [rs.ip, rs.checker.map((c) => c.type)])).toEqual([["10.77.0.11", ["TCP_CHECK"]], ["10.77.0.12", ["TCP_CHECK"]]]);
  });

  it("keepalived 2.2.7 accepts it too", () => {
    if (spawnSync("which", ["keepalived"]).status !== 0) return;
    const dir = mkdtempSync(join(tmpdir(), "lbt-demo-"));
    try {
      const f = join(dir, "k.conf");
      // keepalived -t checks interfaces: drop the dev (the VRRP instance still needs one, so only the VIP's).
      writeFileSync(f, demoConfig(NODES[0], { version: 3, advertInt: 0.5, ipvs: true }).replaceAll("eth0", "lo"));
      const r = spawnSync("keepalived", ["-t", "-f", f], { encoding: "utf8" });
      expect(r.stderr + r.stdout).not.toMatch(/unknown keyword|error/i);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe("what the client saw", () => {
  const s = (t: number, node: string | null): ClientSample => node ? { t, ok: true, node, ms: 2 } : { t, ok: false, ms: 300, err: "timeout" };
  // node1 answers until 1000, nothing from 1000 to 2500 (15 requests), then node2.
  const log: ClientSample[] = [];
  for (let t = 0; t < 4000; t += 100) log.push(s(t, t < 1000 ? "node1" : t < 2500 ? null : "node2"));

  it("counts requests, failures, who answered before and after, and the longest run of failures", () => {
    const p = phaseStats(log.slice().reverse(), 1000, 4000);
    expect(p).toEqual({ requests: 30, failed: 15, answeredBy: { node2: 15 }, before: "node1", after: "node2", gapMs: 1500, gapFailed: 15 });
    expect(phaseLine("crash failover", p)).toBe("crash failover: node1 → node2; 30 requests, 15 failed; client-visible gap 1.50 s (15 requests failed in a row)");
  });

  it("a phase that ends while requests still fail counts the gap to its end; nobody before the first answer", () => {
    const p = phaseStats(log, 1500, 2000);
    expect(p).toMatchObject({ requests: 5, failed: 5, before: "node1", after: null, gapMs: 500, gapFailed: 5 });
    expect(phaseStats(log, 0, 500)).toMatchObject({ before: null, after: "node1", gapMs: 0, gapFailed: 0 });
    expect(phaseLine("startup", phaseStats([s(0, null), s(100, "node1")], 0, 200))).toBe("startup: nobody → node1; 2 requests, 1 failed; client-visible gap 0.10 s (1 requests failed in a row)");
    expect(phaseLine("preemption", phaseStats(log, 3000, 4000))).toBe("preemption: node2 throughout; 10 requests, 0 failed; no request failed");
  });

  it("parses the client's lines, skipping a cut one, and tabulates the phases", () => {
    expect(parseSamples('{"t":1,"ok":true,"node":"node1","ms":3}\n{"t":2,"ok":false,"ms":300,"err":"x"}\n{"t":3,"o')).toHaveLength(2);
    const rows = summaryTable([{ phase: "crash failover", stats: phaseStats(log, 1000, 4000), vipMs: 1800 }]);
    expect(rows[1]).toMatch(/^crash failover\s+node1 → node2\s+30\s+15\s+1\.50\s+1\.80$/);
  });
});
