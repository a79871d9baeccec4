// The demo's client-visible failover gap, lbctl against keepalived 2.2.7 in the same run: the
// scenario of `lbctl demo` (src/demo/demo.ts: a request to the VIP every 100 ms, 300 ms timeout;
// crash = every process of the master stopped then killed and its link down; preemption = the
// crashed node back with the higher priority; graceful stop = SIGTERM) with both nodes lbctl, then
// both keepalived (VRRP only, -P), interleaved run by run. The web servers and the client are the
// same (dist/lbctl's __demo-http / __demo-client). VRRPv3, advert_int 0.5 (the demo's default).
// Prints per phase the median gap (longest run of failed requests, ms) and failed requests, and
// lbctl/keepalived ratios.
//   make bench-demo-failover      or      bun bench/demo-failover/run.ts [RUNS]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Demo, type DemoResult, type Impl } from "../../src/demo/demo.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const RUNS = Number(process.argv[2] ?? 5);
const PHASES = ["crash failover", "preemption", "graceful stop"] as const;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

async function once(impl: Impl): Promise<DemoResult> {
  const log: string[] = [];
  const demo = new Demo({ node1: impl, peer: impl, version: 3, advertInt: 0.5, keep: false, noIpvs: true, lbctl: [LBCTL], labPrefix: "lbt-bd-", out: (l) => log.push(l) });
  const stop = () => { void demo.stop().then(() => process.exit(130)); };
  process.once("SIGINT", stop);
  try {
    return await demo.run();
  } catch (e) {
    throw new Error(`${impl} run failed: ${(e as Error).message}\n${log.join("\n")}`);
  } finally {
    process.off("SIGINT", stop);
  }
}

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
if (!Bun.which("keepalived")) { console.error("keepalived is missing: apt-get install keepalived"); process.exit(1); }
const runs: Record<Impl, DemoResult[]> = { lbctl: [], keepalived: [] };
const t0 = performance.now();
for (let r = 0; r < RUNS; r++) {
  for (const impl of ["lbctl", "keepalived"] as const) {
    const res = await once(impl);
    runs[impl].push(res);
    const cells = PHASES.map((p) => { const s = res.phases.find((x) => x.phase === p)!.stats; return `${p} ${s.gapMs} ms/${s.failed}`; });
    console.error(`run ${r + 1} ${impl.padEnd(10)} ${cells.join(", ")}`);
  }
}
const stat = (impl: Impl, phase: string, f: "gapMs" | "failed") => median(runs[impl].map((r) => r.phases.find((p) => p.phase === phase)!.stats[f]));
const ratio = (l: number, k: number) => (k === 0 ? (l === 0 ? "1.00" : "inf") : (l / k).toFixed(2));
console.log(`Demo scenario, client-visible gap (longest run of failed requests, a request every 100 ms, 300 ms timeout),`);
console.log(`VRRPv3 advert_int 0.5, median of ${RUNS}, both nodes lbctl vs both nodes keepalived 2.2.7, interleaved (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
console.log("phase             keepalived gap ms   lbctl gap ms   ratio   keepalived failed   lbctl failed");
for (const p of PHASES) {
  const kg = stat("keepalived", p, "gapMs"), lg = stat("lbctl", p, "gapMs"), kf = stat("keepalived", p, "failed"), lf = stat("lbctl", p, "failed");
  console.log(`${p.padEnd(17)} ${String(kg).padStart(17)} ${String(lg).padStart(14)} ${ratio(lg, kg).padStart(7)} ${String(kf).padStart(19)} ${String(lf).padStart(14)}`);
}
