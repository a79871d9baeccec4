// How fast lbctl loads and lists an IPVS table compared with ipvsadm, in the IPVS test VM.
// Interleaved runs in one boot (lbctl, ipvsadm, lbctl, ...) reported as per-pair ratios, since timing in
// the TCG guest is noisy (see /work/shared/LAB.md).
//   ./node_modules/.bin/bun bench/ipvs-apply.ts [services=1000] [dests=10] [pairs=3]
import { join, resolve } from "node:path";
import { IpvsClient } from "../src/ipvs/client.ts";
import { reconcile } from "../src/ipvs/reconcile.ts";
import type { ServiceWithDests } from "../src/ipvs/types.ts";
import { makeDest, makeService } from "../test/vm/ipvs-gen.ts";
import { bundleForVm, buildVm, runInVm, vmCacheDir } from "../test/vm/run-in-vm.ts";

const [services, dests, pairs] = [1000, 10, 3].map((d, i) => Number(process.argv[2 + i] ?? d));

function table(): ServiceWithDests[] {
  const out: ServiceWithDests[] = [];
  for (let i = 0; i < services; i++) {
    const key = { kind: "addr", family: "ipv4", protocol: "tcp", address: `10.${100 + (i >> 8)}.${i & 255}.1`, port: 80 } as const;
    const ds = Array.from({ length: dests }, (_, j) => makeDest("ipv4", `10.99.${j}.1`, 8080, { weight: 1 + (j % 5) }));
    out.push({ service: makeService(key, { scheduler: "wrr" }), dests: ds });
  }
  return out;
}

function restoreText(t: ServiceWithDests[]): string {
  const lines: string[] = [];
  for (const { service, dests: ds } of t) {
    if (service.key.kind !== "addr") continue;
    const vip = `${service.key.address}:${service.key.port}`;
    lines.push(`-A -t ${vip} -s ${service.scheduler}`);
    for (const d of ds) lines.push(`-a -t ${vip} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return lines.join("\n") + "\n";
}

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
  const desired = table();
  const text = restoreText(desired);
  const rules = services * (dests + 1);
  console.log(`${services} services x ${dests} destinations = ${rules} rules, ${pairs} interleaved pairs`);
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
    console.log(
      `pair ${p + 1}: load lbctl ${lbctlLoad.toFixed(0)} ms, ipvsadm -R ${ipvsadmLoad.toFixed(0)} ms (ratio ${(ipvsadmLoad / lbctlLoad).toFixed(2)}); ` +
      `list lbctl ${lbctlList.toFixed(0)} ms, ipvsadm -Sn ${ipvsadmList.toFixed(0)} ms (ratio ${(ipvsadmList / lbctlList).toFixed(2)})`,
    );
  }
  sh("ipvsadm -C");
  client.close();
}

if (process.env.LBCTL_IN_VM) {
  await inVm();
} else {
  const repoRoot = resolve(import.meta.dirname, "..");
  const cache = buildVm();
  const command = bundleForVm(join(repoRoot, "bench/ipvs-apply.ts"), join(vmCacheDir(), "bench-ipvs-apply.js"));
  const r = await runInVm({ command: `${command} ${services} ${dests} ${pairs}`, cacheDir: cache, timeoutMs: 900_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.exitCode ?? 1);
}
