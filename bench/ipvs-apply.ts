// How fast lbctl programs and lists an IPVS table from empty compared with `ipvsadm -R` / `-Sn` restoring
// and saving the same rules, in the IPVS test VM. Interleaved runs in one boot (lbctl, ipvsadm, lbctl, ...)
// reported as per-pair ratios lbctl / ipvsadm (below 1.0: lbctl faster) and their median, since timing
// in the TCG guest is noisy (see /work/shared/LAB.md). The load time includes reconcile and encoding.
//   ./node_modules/.bin/bun bench/ipvs-apply.ts [services=10000] [dests=10] [pairs=3]
import { join, resolve } from "node:path";
import { IpvsClient } from "../src/ipvs/client.ts";
import { reconcile } from "../src/ipvs/reconcile.ts";
import { benchTable, median, restoreText } from "./ipvs-table.ts";
import { bundleForVm, buildVm, runInVm, vmCacheDir } from "../test/vm/run-in-vm.ts";

const [services, dests, pairs] = [10000, 10, 3].map((d, i) => Number(process.argv[2 + i] ?? d));

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function timedAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function sh(cmd: string, input?: string): void {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd}: ${p.stderr.toString()}`);
}

async function inVm(): Promise<void> {
  const opened = await IpvsClient.open();
  if (!opened.ok) throw new Error(opened.error);
  const client = opened.value;
  const desired = benchTable(services, dests);
  const text = restoreText(desired);
  const rules = services * (dests + 1);
  console.log(`${services} services x ${dests} destinations = ${rules} rules, ${pairs} interleaved pairs`);
  const loadRatios: number[] = [];
  const listRatios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    sh("ipvsadm -C");
    const lbctlLoad = await timedAsync(async () => {
      const plan = reconcile(desired, [], { owned: new Set() });
      if (!plan.ok) throw new Error(plan.errors.join("; "));
      const report = await client.apply(plan.ops);
      if (report.failures.length) throw new Error(report.failures[0].error);
    });
    let listed = 0;
    const lbctlList = await timedAsync(async () => {
      const t = await client.getTable();
      if (!t.ok) throw new Error(t.error);
      listed = t.value.reduce((n, s) => n + 1 + s.dests.length, 0);
    });
    if (listed !== rules) throw new Error(`lbctl listed ${listed} rules, expected ${rules}`);
    const ipvsadmList = timed(() => sh("ipvsadm -Sn"));
    sh("ipvsadm -C");
    const ipvsadmLoad = timed(() => sh("ipvsadm -R", text));
    loadRatios.push(lbctlLoad / ipvsadmLoad);
    listRatios.push(lbctlList / ipvsadmList);
    console.log(
      `pair ${p + 1}: load lbctl ${lbctlLoad.toFixed(0)} ms, ipvsadm -R ${ipvsadmLoad.toFixed(0)} ms (ratio ${loadRatios[p].toFixed(2)}); ` +
      `list lbctl ${lbctlList.toFixed(0)} ms, ipvsadm -Sn ${ipvsadmList.toFixed(0)} ms (ratio ${listRatios[p].toFixed(2)})`,
    );
  }
  console.log(`median ratio lbctl/ipvsadm: load ${median(loadRatios).toFixed(2)}, list ${median(listRatios).toFixed(2)} (goal: load <= 1.0)`);
  sh("ipvsadm -C");
  client.close();
}

if (process.env.LBCTL_IN_VM) {
  await inVm();
} else {
  const repoRoot = resolve(import.meta.dirname, "..");
  const cache = buildVm();
  const command = bundleForVm(join(repoRoot, "bench/ipvs-apply.ts"), join(vmCacheDir(), "bench-ipvs-apply.js"));
  const r = await runInVm({ command: `${command} ${services} ${dests} ${pairs}`, cacheDir: cache, timeoutMs: 1_800_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.exitCode ?? 1);
}
