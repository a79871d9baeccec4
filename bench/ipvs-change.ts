// Single-change latency: with a large IPVS table loaded, the time from one real server's verdict to the
// kernel holding the change, along the checker child's path (the virtual server's desired services ->
// IpvsSync.apply: reconcile against what the child knows -> IpvsClient ops). Weight changes and
// removals/re-additions of one destination at random virtual servers; p50/p99 at the full table and at
// a small one (the goal: under 10 ms, independent of table size). Runs in the IPVS test VM, interleaving
// the two table sizes is impossible (one kernel table), so they run one after the other in one boot.
// The host part measures the same path without a kernel (reconcile + encode, ops encoded and dropped).
//   ./node_modules/.bin/bun bench/ipvs-change.ts [services=10000] [dests=10] [changes=300] [small=100]
import { join, resolve } from "node:path";
import { IpvsSync, type IpvsPort } from "../src/daemon/ipvs-sync.ts";
import { IpvsClient, opRequest, type ApplyReport } from "../src/ipvs/client.ts";
import { ipvsPayload } from "../src/ipvs/codec.ts";
import { reconcile, type IpvsOp } from "../src/ipvs/reconcile.ts";
import { serviceKeyId, type ServiceWithDests } from "../src/ipvs/types.ts";
import { encodeNlMsg } from "../src/netlink/message.ts";
import { seededRng } from "../test/vm/ipvs-gen.ts";
import { bundleForVm, buildVm, runInVm, vmCacheDir } from "../test/vm/run-in-vm.ts";
import { benchTable, percentile } from "./ipvs-table.ts";

const [services, dests, changes, small] = [10000, 10, 300, 100].map((d, i) => Number(process.argv[2 + i] ?? d));

interface ChangeTimes { wallMs: number[]; cpuUs: number }

/**
 * `changes` single changes against `sync`, which holds `table`: even steps change one destination's weight
 * or remove it, odd steps undo that (so every step is one op on a full-size table).
 */
async function runChanges(sync: IpvsSync, table: ServiceWithDests[], seed: number): Promise<ChangeTimes> {
  const rng = seededRng(seed);
  const wallMs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let c = 0; c < changes; c += 2) {
    const vs = table[Math.floor(rng() * table.length)];
    const j = Math.floor(rng() * vs.dests.length);
    const remove = rng() < 0.5;
    const id = serviceKeyId(vs.service.key);
    for (const step of [0, 1]) {
      const t0 = performance.now();
      // What the checker child derives from a verdict: this virtual server's desired services.
      const ds = step === 1 ? vs.dests
        : remove ? vs.dests.filter((_, k) => k !== j)
        : vs.dests.map((d, k) => (k === j ? { ...d, weight: d.weight + 10 } : d));
      const r = await sync.apply([{ service: vs.service, dests: ds }], [id]);
      wallMs.push(performance.now() - t0);
      if (r.errors.length) throw new Error(r.errors.join("; "));
      if (r.ops.length !== 1) throw new Error(`expected one op per change, got ${r.ops.length}`);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuUs: (cpu.user + cpu.system) / wallMs.length };
}

function summary(label: string, t: ChangeTimes): string {
  const f = (x: number) => x.toFixed(3);
  return `${label}: ${t.wallMs.length} changes, p50 ${f(percentile(t.wallMs, 50))} ms, p99 ${f(percentile(t.wallMs, 99))} ms, ` +
    `max ${f(Math.max(...t.wallMs))} ms, CPU ${t.cpuUs.toFixed(0)} us/change`;
}

/** A kernel stand-in that encodes every op as IpvsClient would and drops the bytes. */
function encodingPort(table: ServiceWithDests[]): IpvsPort {
  return {
    async apply(ops: readonly IpvsOp[]): Promise<ApplyReport> {
      for (const op of ops) {
        const r = opRequest(op);
        if (!r.ok) throw new Error(r.error);
        encodeNlMsg({ type: 0x20, payload: ipvsPayload(r.value) });
      }
      return { applied: ops.length, failures: [] };
    },
    async getTable() {
      const zero = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
      return { ok: true as const, value: table.map((s) => ({ service: { ...s.service, stats: zero }, dests: s.dests.map((d) => ({ ...d, stats: zero, activeConns: 0, inactiveConns: 0, persistentConns: 0 })) })) };
    },
    async flush() { return { ok: true as const, value: undefined }; },
    async setTimeouts() { return { ok: true as const, value: undefined }; },
    close() {},
  };
}

async function hostPure(): Promise<void> {
  const results: string[] = [];
  for (const n of [services, small]) {
    const table = benchTable(n, dests);
    const sync = new IpvsSync(encodingPort(table));
    await sync.start({ flush: false });
    await runChanges(sync, table, 7); // warm-up (JIT, adoption of the services)
    results.push(summary(`host, no kernel, ${n} x ${dests}`, await runChanges(sync, table, 8)));
  }
  for (const r of results) console.log(r);
}

async function inVm(): Promise<void> {
  const opened = await IpvsClient.open();
  if (!opened.ok) throw new Error(opened.error);
  const client = opened.value;
  for (const n of [services, small]) {
    const table = benchTable(n, dests);
    const flushed = await client.flush();
    if (!flushed.ok) throw new Error(flushed.error);
    const plan = reconcile(table, [], { owned: new Set() });
    if (!plan.ok) throw new Error(plan.errors.join("; "));
    const t0 = performance.now();
    const loaded = await client.apply(plan.ops);
    if (loaded.failures.length) throw new Error(loaded.failures[0].error);
    const loadMs = performance.now() - t0;
    const sync = new IpvsSync(client);
    const errors = await sync.start({ flush: false });
    if (errors.length) throw new Error(errors.join("; "));
    await runChanges(sync, table, 1); // warm-up (JIT, adoption of the services)
    console.log(`${summary(`VM, kernel, ${n} x ${dests}`, await runChanges(sync, table, 2))} (table loaded in ${loadMs.toFixed(0)} ms)`);
    const check = await client.getTable();
    if (!check.ok) throw new Error(check.error);
    const rules = check.value.reduce((k, s) => k + 1 + s.dests.length, 0);
    if (rules !== n * (dests + 1)) throw new Error(`kernel holds ${rules} rules after the changes, expected ${n * (dests + 1)}`);
  }
  await client.flush();
  client.close();
}

if (process.env.LBCTL_IN_VM) {
  await inVm();
} else {
  await hostPure();
  const repoRoot = resolve(import.meta.dirname, "..");
  const cache = buildVm();
  const command = bundleForVm(join(repoRoot, "bench/ipvs-change.ts"), join(vmCacheDir(), "bench-ipvs-change.js"));
  const r = await runInVm({ command: `${command} ${services} ${dests} ${changes} ${small}`, cacheDir: cache, timeoutMs: 1_200_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.exitCode ?? 1);
}
