// The IPVS suite that runs INSIDE the test VM (a kernel with ip_vs), bundled into one JS file and run
// by Bun in one boot. Each case prints one result line "LBCTL-VM-RESULT {json}"; the host-side vitest
// file (test/integration/ipvs-vm.test.ts) turns every line into one `it`.
// Every change goes through lbctl's IpvsClient; every check also reads the kernel independently
// with `ipvsadm -Sn`, `ipvsadm -Ln --thresholds --exact` and /proc/net/ip_vs.
import { isDeepStrictEqual } from "node:util";
import { IPVS_UNAVAILABLE, IpvsClient, type IpvsResult, type IpvsTable } from "../../src/ipvs/client.ts";
import { reconcile, type IpvsOp } from "../../src/ipvs/reconcile.ts";
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT, serviceKeyId, type DestConfig, type ServiceKey,
  type ServiceWithDests,
} from "../../src/ipvs/types.ts";
import { makeDest, makeService, randomTable, seededRng } from "./ipvs-gen.ts";
import {
  parseIpvsadmDaemons, parseIpvsadmSave, parseIpvsadmThresholds, parseIpvsadmTimeouts, parseProcIpVs, project,
  projectProc, projectThresholds,
} from "./readers.ts";

export const RESULT_PREFIX = "LBCTL-VM-RESULT ";

export interface VmCaseResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

interface Ctx {
  client: IpvsClient;
}

interface VmCase {
  name: string;
  run: (ctx: Ctx) => Promise<void>;
}

// ---------- helpers ----------

function sh(cmd: string): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function shOk(cmd: string): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`'${cmd}' exited ${r.code}: ${r.err.trim()}`);
  return r.out;
}

function must<T>(r: IpvsResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.error}`);
  return r.value;
}

function mustFail<T>(r: IpvsResult<T>, code: string, what: string): void {
  if (r.ok) throw new Error(`${what}: expected ${code}, but it succeeded`);
  if (r.code !== code) throw new Error(`${what}: expected ${code}, got ${r.code ?? "no code"} (${r.error})`);
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what} differs\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`);
  }
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

/** The configuration part of what the kernel reports (no counters), for exact comparison. */
function configOf(table: IpvsTable): ServiceWithDests[] {
  return table.map(({ service, dests }) => {
    const { stats: _s, ...svc } = service;
    return {
      service: svc,
      dests: dests.map(({ stats: _d, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...d }) => d),
    };
  });
}

function sorted(table: readonly ServiceWithDests[]): ServiceWithDests[] {
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return table
    .map((t) => ({ id: serviceKeyId(t.service.key), t }))
    .sort(byId)
    .map(({ t }) => ({
      service: t.service,
      dests: t.dests.map((d) => ({ id: `${d.family}/${d.address}/${d.port}`, d })).sort(byId).map(({ d }) => d),
    }));
}

/** The kernel equals `expected`, as seen by lbctl itself and by three independent readers. */
async function expectKernel(ctx: Ctx, expected: readonly ServiceWithDests[]): Promise<void> {
  const mine = must(await ctx.client.getTable(), "list table");
  expectEqual(sorted(configOf(mine)), sorted(expected), "lbctl's own listing");
  expectEqual(parseIpvsadmSave(shOk("ipvsadm -Sn")), project(expected), "ipvsadm -Sn");
  expectEqual(parseIpvsadmThresholds(shOk("ipvsadm -Ln --thresholds --exact")), projectThresholds(expected), "ipvsadm thresholds");
  expectEqual(parseProcIpVs(shOk("cat /proc/net/ip_vs")), projectProc(expected), "/proc/net/ip_vs");
}

async function addAll(ctx: Ctx, table: readonly ServiceWithDests[]): Promise<void> {
  for (const { service, dests } of table) {
    must(await ctx.client.addService(service), `add ${serviceKeyId(service.key)}`);
    for (const d of dests) must(await ctx.client.addDest(service.key, d), `add dest ${d.address}`);
  }
}

const v4 = (protocol: "tcp" | "udp" | "sctp", address: string, port: number): ServiceKey =>
  ({ kind: "addr", family: "ipv4", protocol, address, port });
const v6 = (protocol: "tcp" | "udp" | "sctp", address: string, port: number): ServiceKey =>
  ({ kind: "addr", family: "ipv6", protocol, address, port });

/** Counters reach user space through the estimator, which sums the per-CPU counters every 2 s. */
async function waitForConns(ctx: Ctx, expected: number): Promise<IpvsTable> {
  const deadline = performance.now() + 8000;
  for (;;) {
    const table = must(await ctx.client.getTable(), "list");
    if (table[0]?.service.stats.conns === expected || performance.now() > deadline) return table;
    await Bun.sleep(250);
  }
}

function kernelSchedulers(): string[] {
  return shOk("ls /sys/module").split("\n").filter((m) => /^ip_vs_[a-z]+$/.test(m))
    .map((m) => m.slice("ip_vs_".length)).filter((s) => s !== "ftp").sort();
}

// ---------- cases ----------

export const ipvsVmCases: VmCase[] = [
  {
    name: "GET_INFO reports IPVS 1.2.1 and the connection table size",
    async run(ctx) {
      const info = must(await ctx.client.getInfo(), "get info");
      expectEqual(info.versionText, "1.2.1", "version");
      const header = shOk("ipvsadm -Ln").split("\n")[0];
      expectEqual(header, `IP Virtual Server version 1.2.1 (size=${info.connTableSize})`, "ipvsadm header");
    },
  },
  {
    name: "TCP, UDP and SCTP services over IPv4 and IPv6 round-trip",
    async run(ctx) {
      const table: ServiceWithDests[] = [];
      for (const protocol of ["tcp", "udp", "sctp"] as const) {
        table.push({
          service: makeService(v4(protocol, "10.1.0.1", 80), { scheduler: "rr" }),
          dests: [makeDest("ipv4", "10.2.0.1", 8080), makeDest("ipv4", "10.2.0.2", 8081, { weight: 5 })],
        });
        table.push({
          service: makeService(v6(protocol, "2001:db8::1", 443), { scheduler: "wrr" }),
          dests: [makeDest("ipv6", "2001:db8:1::10", 8443, { weight: 2 })],
        });
      }
      await addAll(ctx, table);
      await expectKernel(ctx, table);
    },
  },
  {
    name: "firewall-mark services (IPv4 and IPv6) round-trip",
    async run(ctx) {
      const table: ServiceWithDests[] = [
        { service: makeService({ kind: "fwmark", family: "ipv4", fwmark: 7 }), dests: [makeDest("ipv4", "10.3.0.1", 0, { method: "droute" })] },
        { service: makeService({ kind: "fwmark", family: "ipv6", fwmark: 7 }, { scheduler: "lc" }), dests: [makeDest("ipv6", "2001:db8:3::1", 80)] },
        { service: makeService({ kind: "fwmark", family: "ipv4", fwmark: 4294967295 }, { scheduler: "sed" }), dests: [] },
      ];
      await addAll(ctx, table);
      await expectKernel(ctx, table);
    },
  },
  {
    name: "every scheduler the kernel ships can be used",
    async run(ctx) {
      const schedulers = kernelSchedulers().filter((s) => s !== "pe_sip");
      for (const s of ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"]) {
        check(schedulers.includes(s), `kernel lacks scheduler ${s} (has ${schedulers.join(" ")})`);
      }
      const table = schedulers.map((scheduler, i) => ({
        service: makeService(v4("tcp", "10.4.0.1", 1000 + i), { scheduler }),
        dests: [makeDest("ipv4", "10.4.1.1", 80, { weight: 2 }), makeDest("ipv4", "10.4.1.2", 80)],
      }));
      await addAll(ctx, table);
      await expectKernel(ctx, table);
      mustFail(await ctx.client.addService(makeService(v4("tcp", "10.4.0.2", 1), { scheduler: "nosuch" })), "ENOENT", "unknown scheduler");
    },
  },
  {
    name: "persistence with netmask and persistence engine, one-packet and sh/mh flags",
    async run(ctx) {
      const table: ServiceWithDests[] = [
        { service: makeService(v4("tcp", "10.5.0.1", 80), { flags: IP_VS_SVC_F_PERSISTENT, timeout: 300, netmask: 24 }), dests: [makeDest("ipv4", "10.5.1.1", 80)] },
        { service: makeService(v6("tcp", "2001:db8:5::1", 80), { flags: IP_VS_SVC_F_PERSISTENT, timeout: 60, netmask: 64 }), dests: [] },
        { service: makeService(v4("udp", "10.5.0.2", 5060), { flags: IP_VS_SVC_F_PERSISTENT, timeout: 120, netmask: 32, peName: "sip" }), dests: [] },
        { service: makeService(v4("udp", "10.5.0.3", 53), { scheduler: "rr", flags: IP_VS_SVC_F_ONEPACKET }), dests: [] },
        { service: makeService(v4("tcp", "10.5.0.4", 80), { scheduler: "sh", flags: IP_VS_SVC_F_SCHED_SH_FALLBACK | IP_VS_SVC_F_SCHED_SH_PORT }), dests: [] },
        { service: makeService(v4("tcp", "10.5.0.5", 80), { scheduler: "mh", flags: IP_VS_SVC_F_SCHED_MH_PORT }), dests: [] },
        { service: makeService(v4("tcp", "10.5.0.6", 80), { scheduler: "mh", flags: IP_VS_SVC_F_SCHED_MH_FALLBACK | IP_VS_SVC_F_PERSISTENT, timeout: 10, netmask: 16 }), dests: [] },
      ];
      await addAll(ctx, table);
      await expectKernel(ctx, table);
      // the persistence engine and persistence itself can be changed in place, in both directions
      table[2].service = { ...table[2].service, peName: "", timeout: 30, netmask: 24 };
      table[1].service = { ...table[1].service, peName: "sip", flags: 0, timeout: 0 };
      must(await ctx.client.editService(table[2].service), "drop pe");
      must(await ctx.client.editService(table[1].service), "set pe, drop persistence");
      await expectKernel(ctx, table);
    },
  },
  {
    name: "NAT, DR and tunnel destinations: weights, thresholds, GUE/GRE options, IPv4 real servers behind IPv6",
    async run(ctx) {
      const dests: DestConfig[] = [
        makeDest("ipv4", "10.6.1.1", 8080, { weight: 0 }),
        makeDest("ipv4", "10.6.1.2", 80, { method: "droute", weight: 100, upperThreshold: 1000, lowerThreshold: 800 }),
        makeDest("ipv4", "10.6.1.3", 80, { method: "tunnel", weight: 3 }),
        makeDest("ipv4", "10.6.1.4", 80, { method: "tunnel", tunnel: { type: "gue", port: 6080, flags: 1 } }),
        makeDest("ipv4", "10.6.1.5", 80, { method: "tunnel", tunnel: { type: "gre", port: 0, flags: 0 } }),
        makeDest("ipv4", "10.6.1.6", 80, { method: "tunnel", tunnel: { type: "gue", port: 5555, flags: 2 } }),
        makeDest("ipv4", "10.6.1.7", 80, { weight: 2147483647, upperThreshold: 2147483647 }),
      ];
      const table = [
        { service: makeService(v4("tcp", "10.6.0.1", 80), { scheduler: "wlc" }), dests },
        // tunnelling lets an IPv6 service have IPv4 real servers (and the other way round)
        { service: makeService(v6("tcp", "2001:db8:6::1", 80)), dests: [makeDest("ipv4", "10.6.2.1", 80, { method: "tunnel" }), makeDest("ipv6", "2001:db8:6::2", 80)] },
      ];
      await addAll(ctx, table);
      await expectKernel(ctx, table);
      const tunInfo = shOk("ipvsadm -Ln --tun-info");
      check(/10\.6\.1\.4:80\s+Tunnel\s+gue:6080:\+c/.test(tunInfo), `ipvsadm --tun-info lacks gue:6080:+c:\n${tunInfo}`);
    },
  },
  {
    name: "edit service and destination in place; delete destination and service",
    async run(ctx) {
      const key = v4("tcp", "10.7.0.1", 80);
      const table = [{ service: makeService(key, { scheduler: "rr" }), dests: [makeDest("ipv4", "10.7.1.1", 80), makeDest("ipv4", "10.7.1.2", 80)] }];
      await addAll(ctx, table);
      const edited = makeService(key, { scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT, timeout: 900, netmask: 20 });
      must(await ctx.client.editService(edited), "edit service");
      const editedDest = makeDest("ipv4", "10.7.1.1", 80, { method: "droute", weight: 9, upperThreshold: 50, lowerThreshold: 10 });
      must(await ctx.client.editDest(key, editedDest), "edit dest");
      await expectKernel(ctx, [{ service: edited, dests: [editedDest, table[0].dests[1]] }]);
      const { stats: _stats, ...single } = must(await ctx.client.getService(key), "get one service");
      expectEqual(single, edited, "GET_SERVICE of one service");
      mustFail(await ctx.client.getService(v4("tcp", "10.7.0.2", 80)), "ESRCH", "GET_SERVICE of a missing service");
      must(await ctx.client.deleteDest(key, table[0].dests[1]), "delete dest");
      await expectKernel(ctx, [{ service: edited, dests: [editedDest] }]);
      must(await ctx.client.deleteService(key), "delete service");
      await expectKernel(ctx, []);
    },
  },
  {
    name: "kernel refusals come back as error values with errno codes",
    async run(ctx) {
      const key = v4("tcp", "10.8.0.1", 80);
      must(await ctx.client.addService(makeService(key)), "add");
      mustFail(await ctx.client.addService(makeService(key)), "EEXIST", "duplicate service");
      mustFail(await ctx.client.deleteService(v4("tcp", "10.8.0.2", 80)), "ESRCH", "delete missing service");
      mustFail(await ctx.client.deleteDest(key, makeDest("ipv4", "10.8.1.1", 80)), "ENOENT", "delete missing dest");
      mustFail(await ctx.client.addService(makeService(v4("tcp", "10.8.0.300", 80))), "EINVAL", "bad address");
      mustFail(await ctx.client.addDest(key, makeDest("ipv4", "10.8.1.1", 80, { upperThreshold: 5, lowerThreshold: 6 })), "EINVAL", "thresholds");
      await expectKernel(ctx, [{ service: makeService(key), dests: [] }]);
    },
  },
  {
    name: "timeouts: set and get agree with ipvsadm; zero keeps a value",
    async run(ctx) {
      must(await ctx.client.setTimeouts({ tcp: 1234, tcpFin: 56, udp: 78 }), "set");
      expectEqual(must(await ctx.client.getTimeouts(), "get"), { tcp: 1234, tcpFin: 56, udp: 78 }, "timeouts");
      expectEqual(parseIpvsadmTimeouts(shOk("ipvsadm -Ln --timeout")), { tcp: 1234, tcpFin: 56, udp: 78 }, "ipvsadm --timeout");
      must(await ctx.client.setTimeouts({ tcp: 900, tcpFin: 0, udp: 300 }), "set partial");
      expectEqual(must(await ctx.client.getTimeouts(), "get"), { tcp: 900, tcpFin: 56, udp: 300 }, "timeouts after partial set");
      must(await ctx.client.setTimeouts({ tcp: 900, tcpFin: 120, udp: 300 }), "restore");
    },
  },
  {
    name: "sync daemon: start master and backup, list, stop",
    async run(ctx) {
      shOk("ip link add lbt-iv-s0 type veth peer name lbt-iv-s1 && ip link set lbt-iv-s0 up && ip link set lbt-iv-s1 up");
      try {
        must(await ctx.client.startDaemon({ state: "master", interface: "lbt-iv-s0", syncId: 5 }), "start master");
        must(await ctx.client.startDaemon({ state: "backup", interface: "lbt-iv-s1", syncId: 9, mcastPort: 9000, mcastTtl: 2 }), "start backup");
        const mine = must(await ctx.client.listDaemons(), "list").map((d) => ({ state: d.state, interface: d.interface, syncId: d.syncId }));
        const expected = [{ state: "master", interface: "lbt-iv-s0", syncId: 5 }, { state: "backup", interface: "lbt-iv-s1", syncId: 9 }];
        expectEqual(mine, expected, "lbctl daemon list");
        expectEqual(parseIpvsadmDaemons(shOk("ipvsadm -Ln --daemon")), expected, "ipvsadm --daemon");
        const backup = must(await ctx.client.listDaemons(), "list").find((d) => d.state === "backup");
        expectEqual([backup?.mcastPort, backup?.mcastTtl], [9000, 2], "backup tuning");
        must(await ctx.client.stopDaemon("master"), "stop master");
        must(await ctx.client.stopDaemon("backup"), "stop backup");
        expectEqual(must(await ctx.client.listDaemons(), "list"), [], "daemons after stop");
        expectEqual(shOk("ipvsadm -Ln --daemon").trim(), "", "ipvsadm --daemon after stop");
      } finally {
        sh("ip link del lbt-iv-s0");
      }
    },
  },
  {
    name: "reconcile: a changing desired state keeps the kernel equal to it; foreign services untouched",
    async run(ctx) {
      shOk("ipvsadm -A -t 192.0.2.1:25 -s lc && ipvsadm -a -t 192.0.2.1:25 -r 192.0.2.2:25 -m -w 4");
      const foreign = parseIpvsadmSave(shOk("ipvsadm -Sn"));
      const rng = seededRng(20261126);
      let owned = new Set<string>();
      let totalOps = 0;
      for (let step = 0; step < 12; step++) {
        const desired = randomTable(rng, 6);
        const current = configOf(must(await ctx.client.getTable(), "list"));
        const plan = reconcile(desired, current, { owned });
        if (!plan.ok) throw new Error(`step ${step}: ${plan.errors.join("; ")}`);
        const report = await ctx.client.apply(plan.ops);
        if (report.failures.length) throw new Error(`step ${step}: ${report.failures.map((f) => f.error).join("; ")}`);
        totalOps += plan.ops.length;
        owned = plan.owned;
        const after = configOf(must(await ctx.client.getTable(), "list"));
        const mineAfter = after.filter((s) => owned.has(serviceKeyId(s.service.key)));
        expectEqual(sorted(mineAfter), sorted(desired), `step ${step}: owned services`);
        const foreignAfter = parseIpvsadmSave(shOk("ipvsadm -Sn")).filter((s) => s.id === foreign[0].id);
        expectEqual(foreignAfter, foreign, `step ${step}: foreign service`);
        const again = reconcile(desired, after, { owned });
        expectEqual(again.ok ? again.ops : again.errors, [], `step ${step}: second reconcile`);
      }
      check(totalOps > 20, `random walk produced only ${totalOps} ops`);
    },
  },
  {
    name: "reconcile with flush takes over the whole table in one batch",
    async run(ctx) {
      shOk("ipvsadm -A -t 192.0.2.1:25 -s lc && ipvsadm -A -u 192.0.2.1:53 -s rr");
      const desired = [{ service: makeService(v4("tcp", "10.9.0.1", 80)), dests: [makeDest("ipv4", "10.9.1.1", 80)] }];
      const current = configOf(must(await ctx.client.getTable(), "list"));
      const plan = reconcile(desired, current, { owned: new Set(), flush: true });
      if (!plan.ok) throw new Error(plan.errors.join("; "));
      expectEqual(plan.ops.map((o) => o.op), ["flush", "add-service", "add-dest"], "ops");
      const report = await ctx.client.apply(plan.ops);
      expectEqual(report, { applied: 3, failures: [] }, "apply report");
      await expectKernel(ctx, desired);
    },
  },
  {
    name: "batch apply of 1,000 services with 2 destinations each, then reconcile to empty",
    async run(ctx) {
      const desired: ServiceWithDests[] = [];
      for (let i = 0; i < 1000; i++) {
        desired.push({
          service: makeService(v4("tcp", `10.${100 + (i >> 8)}.${i & 255}.1`, 80), { scheduler: "wrr" }),
          dests: [makeDest("ipv4", "10.99.0.1", 80, { weight: i % 7 }), makeDest("ipv4", "10.99.0.2", 80)],
        });
      }
      const plan = reconcile(desired, [], { owned: new Set() });
      if (!plan.ok) throw new Error(plan.errors.join("; "));
      const report = await ctx.client.apply(plan.ops);
      expectEqual([report.applied, report.failures.length], [3000, 0], "applied/failures");
      await expectKernel(ctx, desired);
      const down = reconcile([], configOf(must(await ctx.client.getTable(), "list")), { owned: plan.owned });
      if (!down.ok) throw new Error(down.errors.join("; "));
      expectEqual(down.ops.length, 1000, "delete ops");
      expectEqual((await ctx.client.apply(down.ops)).failures, [], "delete failures");
      await expectKernel(ctx, []);
    },
  },
  {
    name: "a failed op in a batch is reported and the others still apply",
    async run(ctx) {
      const key = v4("tcp", "10.10.0.1", 80);
      const ops: IpvsOp[] = [
        { op: "add-service", service: makeService(key) },
        { op: "add-dest", service: v4("tcp", "10.10.0.9", 80), dest: makeDest("ipv4", "10.10.1.1", 80) },
        { op: "add-dest", service: key, dest: makeDest("ipv4", "10.10.1.2", 80) },
      ];
      const report = await ctx.client.apply(ops);
      expectEqual([report.applied, report.failures.map((f) => [f.index, f.code])], [2, [[1, "ESRCH"]]], "report");
      await expectKernel(ctx, [{ service: makeService(key), dests: [makeDest("ipv4", "10.10.1.2", 80)] }]);
    },
  },
  ...endToEndCases(),
  {
    name: "without the ip_vs module, open() returns a clear error value",
    async run(ctx) {
      ctx.client.close(); // it is the last case: unloading needs no IPVS socket open
      sh("ipvsadm -C");
      const mods = shOk("ls /sys/module").split("\n").filter((m) => m.startsWith("ip_vs_"));
      shOk(`rmmod ${mods.join(" ")} && rmmod ip_vs`);
      const r = await IpvsClient.open();
      expectEqual(r.ok ? "opened" : [r.error, r.code], [IPVS_UNAVAILABLE, "ENOENT"], "open without IPVS");
    },
  },
];

// ---------- end to end: namespaces + veth inside the VM, busybox httpd as real servers ----------

const E2E_NS = ["lbt-iv-c", "lbt-iv-r1", "lbt-iv-r2"];
// The suite's bundle doubles as the HTTP client of the end-to-end cases (busybox-static's wget crashes
// here, and python3 may be missing): raw HTTP/1.0 on a fresh TCP connection per request.
const HTTP_GET_FLAG = "--http-get";

function cleanupNamespaces(): void {
  for (const ns of E2E_NS) {
    sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill -9`);
    sh(`ip netns del ${ns}`);
  }
  sh("ip link del lbt-iv-c0; ip link del lbt-iv-r10; ip link del lbt-iv-r20; ip link del lbt-iv-br");
}

function startHttpd(ns: string, name: string): void {
  shOk(`mkdir -p /tmp/${name} && echo ${name} > /tmp/${name}/index.html`);
  shOk(`ip netns exec ${ns} busybox httpd -p 80 -h /tmp/${name}`);
}

/** `count` HTTP GETs from the client namespace, each on a new connection; how many answers each body got. */
function requestMany(host: string, count: number): Record<string, number> {
  const out = shOk(`ip netns exec lbt-iv-c ${process.execPath} ${process.argv[1]} ${HTTP_GET_FLAG} ${host} ${count}`);
  const counts: Record<string, number> = {};
  for (const line of out.split("\n").filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

function endToEndCases(): VmCase[] {
  return [
    {
      name: "end to end NAT: wrr 3:1 across two real servers, counters, zero",
      async run(ctx) {
        cleanupNamespaces();
        try {
          shOk([
            "sysctl -qw net.ipv4.ip_forward=1",
            ...E2E_NS.map((ns) => `ip netns add ${ns}`),
            "ip link add lbt-iv-c0 type veth peer name eth0 netns lbt-iv-c",
            "ip link add lbt-iv-r10 type veth peer name eth0 netns lbt-iv-r1",
            "ip link add lbt-iv-r20 type veth peer name eth0 netns lbt-iv-r2",
            "ip addr add 10.201.0.1/24 dev lbt-iv-c0 && ip link set lbt-iv-c0 up",
            "ip addr add 10.201.1.1/24 dev lbt-iv-r10 && ip link set lbt-iv-r10 up",
            "ip addr add 10.201.2.1/24 dev lbt-iv-r20 && ip link set lbt-iv-r20 up",
            "ip -n lbt-iv-c addr add 10.201.0.2/24 dev eth0 && ip -n lbt-iv-c link set eth0 up && ip -n lbt-iv-c link set lo up",
            "ip -n lbt-iv-r1 addr add 10.201.1.2/24 dev eth0 && ip -n lbt-iv-r1 link set eth0 up && ip -n lbt-iv-r1 link set lo up",
            "ip -n lbt-iv-r2 addr add 10.201.2.2/24 dev eth0 && ip -n lbt-iv-r2 link set eth0 up && ip -n lbt-iv-r2 link set lo up",
            "ip -n lbt-iv-r1 route add default via 10.201.1.1 && ip -n lbt-iv-r2 route add default via 10.201.2.1",
          ].join(" && "));
          startHttpd("lbt-iv-r1", "r1");
          startHttpd("lbt-iv-r2", "r2");
          const key = v4("tcp", "10.201.0.1", 80);
          const dests = [makeDest("ipv4", "10.201.1.2", 80, { weight: 3 }), makeDest("ipv4", "10.201.2.2", 80, { weight: 1 })];
          const plan = reconcile([{ service: makeService(key, { scheduler: "wrr" }), dests }], [], { owned: new Set() });
          if (!plan.ok) throw new Error(plan.errors.join("; "));
          expectEqual((await ctx.client.apply(plan.ops)).failures, [], "apply");
          expectEqual(requestMany("10.201.0.1", 20), { r1: 15, r2: 5 }, "answers per real server");
          const table = await waitForConns(ctx, 20);
          expectEqual(table[0].service.stats.conns, 20, "service connections");
          expectEqual(table[0].dests.map((d) => d.stats.conns).sort(), [15, 5].sort(), "destination connections");
          check(table[0].service.stats.inBytes > 0 && table[0].service.stats.outPkts > 0, "byte/packet counters stay zero");
          const ipvsadmStats = shOk("ipvsadm -Ln --stats --exact");
          check(/TCP\s+10\.201\.0\.1:80\s+20\s/.test(ipvsadmStats), `ipvsadm --stats disagrees:\n${ipvsadmStats}`);
          must(await ctx.client.zero(key), "zero");
          const zeroed = must(await ctx.client.getTable(), "list");
          expectEqual([zeroed[0].service.stats.conns, zeroed[0].service.stats.inBytes, ...zeroed[0].dests.map((d) => d.stats.conns)], [0, 0, 0, 0], "after zero");
        } finally {
          cleanupNamespaces();
        }
      },
    },
    {
      name: "end to end DR: one L2 segment, VIP on the real servers' lo, replies bypass the director; zero all",
      async run(ctx) {
        cleanupNamespaces();
        try {
          const vip = "10.202.0.100";
          shOk([
            ...E2E_NS.map((ns) => `ip netns add ${ns}`),
            "ip link add lbt-iv-br type bridge && ip link set lbt-iv-br up",
            "ip addr add 10.202.0.1/24 dev lbt-iv-br && ip addr add 10.202.0.100/32 dev lbt-iv-br",
            ...E2E_NS.map((ns, i) => [
              `ip link add lbt-iv-${["c0", "r10", "r20"][i]} type veth peer name eth0 netns ${ns}`,
              `ip link set lbt-iv-${["c0", "r10", "r20"][i]} master lbt-iv-br up`,
              `ip -n ${ns} addr add 10.202.0.${[2, 11, 12][i]}/24 dev eth0`,
              `ip -n ${ns} link set eth0 up && ip -n ${ns} link set lo up`,
            ].join(" && ")),
            ...["lbt-iv-r1", "lbt-iv-r2"].map((ns) => [
              `ip netns exec ${ns} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2`,
              `ip -n ${ns} addr add ${vip}/32 dev lo`,
            ].join(" && ")),
          ].join(" && "));
          startHttpd("lbt-iv-r1", "r1");
          startHttpd("lbt-iv-r2", "r2");
          const key = v4("tcp", vip, 80);
          const dests = [makeDest("ipv4", "10.202.0.11", 80, { method: "droute", weight: 1 }), makeDest("ipv4", "10.202.0.12", 80, { method: "droute", weight: 1 })];
          const plan = reconcile([{ service: makeService(key, { scheduler: "rr" }), dests }], [], { owned: new Set() });
          if (!plan.ok) throw new Error(plan.errors.join("; "));
          expectEqual((await ctx.client.apply(plan.ops)).failures, [], "apply");
          expectEqual(requestMany(vip, 10), { r1: 5, r2: 5 }, "answers per real server");
          const table = await waitForConns(ctx, 10);
          expectEqual(table[0].service.stats.conns, 10, "service connections");
          // DR: the director sees only the client's packets, never the servers' replies.
          expectEqual(table[0].service.stats.outPkts, 0, "director saw reply packets");
          must(await ctx.client.zero(), "zero everything");
          const zeroed = must(await ctx.client.getTable(), "list");
          expectEqual([zeroed[0].service.stats.conns, zeroed[0].service.stats.inPkts, ...zeroed[0].dests.map((d) => d.stats.conns)], [0, 0, 0, 0], "after zero of all");
        } finally {
          cleanupNamespaces();
        }
      },
    },
  ];
}

// ---------- runner ----------

export async function runIpvsSuite(only?: (name: string) => boolean): Promise<VmCaseResult[]> {
  const results: VmCaseResult[] = [];
  const opened = await IpvsClient.open();
  if (!opened.ok) {
    for (const c of ipvsVmCases) results.push({ name: c.name, ok: false, error: `IpvsClient.open: ${opened.error}`, ms: 0 });
    return results;
  }
  const ctx: Ctx = { client: opened.value };
  for (const c of ipvsVmCases) {
    if (only && !only(c.name)) continue;
    sh("ipvsadm -C");
    const started = performance.now();
    let result: VmCaseResult;
    try {
      await c.run(ctx);
      result = { name: c.name, ok: true, ms: Math.round(performance.now() - started) };
    } catch (e) {
      result = { name: c.name, ok: false, error: e instanceof Error ? e.message : String(e), ms: Math.round(performance.now() - started) };
    }
    results.push(result);
    console.log(RESULT_PREFIX + JSON.stringify(result));
  }
  ctx.client.close();
  return results;
}

async function httpGetBodies(host: string, count: number): Promise<void> {
  const { connect } = await import("node:net");
  for (let i = 0; i < count; i++) {
    const body = await new Promise<string>((resolve) => {
      let data = "";
      const sock = connect({ host, port: 80 }, () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
      sock.setTimeout(5000, () => sock.destroy());
      sock.on("data", (d) => (data += d.toString()));
      sock.on("error", () => resolve("FAIL"));
      sock.on("close", () => {
        const split = data.indexOf("\r\n\r\n");
        resolve(split < 0 ? "FAIL" : data.slice(split + 4).trim());
      });
    });
    console.log(body);
  }
}

if (import.meta.main && process.argv[2] === HTTP_GET_FLAG) {
  await httpGetBodies(process.argv[3], Number(process.argv[4]));
} else if (import.meta.main) {
  const filter = process.env.LBCTL_VM_ONLY;
  const results = await runIpvsSuite(filter ? (name) => name.includes(filter) : undefined);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
