// The whole daemon on the host (no IPVS: the host kernel has none): `lbctl daemon -C` on
// bench/checker-scale's generated configuration, against the same four listeners, in a namespace this
// script makes. What the VM run cannot show at full speed: checks/s, CPU per 1,000 checks and PSS of the
// daemon's process tree (per process too), and the reload time an operator sees — SIGHUP to the
// checker process's "applied the configuration in N ms" log line (file read and checked, sent, applied).
//   make bench-checker-host BENCH_ARGS="10000 10 20"        (sizes, warm-up s, window s)
// Needs root and dist/lbctl (make build); LBCTL_BIN overrides it. LBB_DELAY_LOOP=5 gives every virtual
// server delay_loop 5 (37,000 real servers at 1 s ask more connections than a 2-core host's listeners
// serve); LBB_NS=NAME runs in namespace NAME (and /tmp/NAME) instead of lbb-host, beside another run.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { config, cpuSeconds, listenerStats, pssMb, rerunInNamespace, startListeners, tree } from "./run.ts";

const NS = process.env.LBB_NS ?? "lbb-host";
const WORK = process.env.LBB_NS ? `/tmp/${process.env.LBB_NS}` : "/tmp/lbb-host";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Time between the reloads: 1 s, or LBB_RELOAD_GAP seconds (a reload long after the last one, as in
 *  production, finds the daemon's heaps settled). */
const RELOAD_GAP_MS = Number(process.env.LBB_RELOAD_GAP ?? 1) * 1000;
const APPLIED = /check process applied the configuration in (\d+) ms/g;

function appliedCount(log: string): number { return [...readFileSync(log, "utf8").matchAll(APPLIED)].length; }

async function waitApplied(log: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (appliedCount(log) < count) {
    if (performance.now() > deadline) throw new Error(`no "applied the configuration" line #${count} within ${timeoutMs} ms:\n${readFileSync(log, "utf8").slice(-1500)}`);
    await sleep(5);
  }
}

async function measure(size: number, warmupS: number, windowS: number): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(`${WORK}/lbctl-${size}.log`, "");
  const conf = `${WORK}/lbctl-${size}.conf`;
  const log = `${WORK}/lbctl-${size}.log`;
  writeFileSync(conf, config(size, false));
  const lbctl = process.env.LBCTL_BIN ?? resolve(import.meta.dirname, "../../dist/lbctl");
  const t0 = performance.now();
  // One append-mode descriptor for the whole tree, so that no process overwrites another's lines.
  const out = openSync(log, "a");
  const proc = Bun.spawn([lbctl, "daemon", "-C", "-f", conf, "--socket", `${WORK}/lbctl.sock`, "-p", `${WORK}/lbctl.pid`], {
    stdin: "ignore", stdout: out, stderr: out,
  });
  closeSync(out);
  try {
    await waitApplied(log, 1, 120_000);
    const startS = (performance.now() - t0) / 1000;
    await sleep(warmupS * 1000);
    const c0 = cpuSeconds(proc.pid), a0 = listenerStats().accepted, w0 = performance.now();
    await sleep(windowS * 1000);
    const c1 = cpuSeconds(proc.pid), a1 = listenerStats().accepted, secs = (performance.now() - w0) / 1000;
    const pids = tree(proc.pid);
    const checks = a1 - a0;
    const reloadMs: number[] = [];
    for (const extra of [true, false, true, false]) {
      writeFileSync(conf, config(size, extra));
      const before = appliedCount(log);
      const r0 = performance.now();
      proc.kill("SIGHUP");
      await waitApplied(log, before + 1, 120_000);
      reloadMs.push(Math.round(performance.now() - r0));
      await sleep(RELOAD_GAP_MS);
    }
    const applied = [...readFileSync(log, "utf8").matchAll(APPLIED)].map((m) => Number(m[1]));
    console.log(JSON.stringify({
      size, startS: +startS.toFixed(2), checksPerS: Math.round(checks / secs), cpuMsPer1000: +(((c1 - c0) * 1e6) / checks).toFixed(1),
      cpuPct: +(((c1 - c0) / secs) * 100).toFixed(1), pssMb: +pssMb(pids).toFixed(1),
      pssPerProcessMb: pids.map((p) => +pssMb([p]).toFixed(1)),
      reloadMs, checkChildApplyMs: applied.slice(1),
    }));
  } finally {
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await proc.exited;
    clearTimeout(killer);
  }
}

if (process.env.LBB_IN_NS) {
  const sizes = (process.argv[2] ?? "1000,10000").split(",").map(Number);
  const listeners = startListeners();
  for (const size of sizes) await measure(size, Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 20));
  for (const l of listeners) l.stop(true);
  process.exit(0);
} else {
  const lbctl = process.env.LBCTL_BIN ?? resolve(import.meta.dirname, "../../dist/lbctl");
  if (!existsSync(lbctl)) throw new Error(`${lbctl} is missing: make build`);
  rerunInNamespace(NS, resolve(import.meta.dirname, "host.ts"), process.argv.slice(2), { LBCTL_BIN: lbctl });
}
