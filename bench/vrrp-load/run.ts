// VRRP timing and cost under load, lbctl against keepalived 2.2.7 on the same topology:
// a master and a backup, each with N instances (default 200) of VRRPv3 at advert_int 0.1 on
// one interface, and an observer on the same bridged LAN where tcpdump records every advert
// with the kernel's receive timestamp (so the observer's own scheduling does not count).
//   jitter:    |interval between two adverts of one VRID - 100 ms|, p50/p99/max
//   spurious:  adverts seen from the backup (it should never become master)
//   CPU:       user+system time of each node's process tree over the window, in % of one core
//   memory:    PSS of each node's process tree (from /proc/PID/smaps_rollup)
// While measuring, two busy-loop processes load both cores (pass --idle to skip them).
//   make bench-vrrp-load      or      bun bench/vrrp-load/run.ts [--instances N] [--seconds S] [--idle]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type Lab, type SpawnedProcess } from "../../src/lab/netns.ts";
import { advertTiming, cpuTicks, manyInstancesConfig, percentile, processTree, pssKb } from "../vrrp-common.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const INSTANCES = arg("--instances", 200);
const SECONDS = arg("--seconds", 60);
const IDLE = process.argv.includes("--idle");
const ADVERT_MS = 100;
type Impl = "lbctl" | "keepalived";

function start(lab: Lab, ns: string, impl: Impl, conf: string, dir: string, tag: string): SpawnedProcess {
  if (impl === "lbctl") return lab.spawnIn(ns, [LBCTL, "daemon", "-f", conf, "--socket", join(dir, `${tag}.sock`)]);
  const pid = (s: string) => join(dir, `${tag}.${s}.pid`);
  return lab.spawnIn(ns, ["keepalived", "-n", "-l", "-P", "-G", "-f", conf, "-p", pid("m"), "-r", pid("v"), "-c", pid("c")]);
}

async function measure(impl: Impl, dir: string): Promise<Record<string, number>> {
  const lab = createLab("lbt-bl-");
  const hogs: ReturnType<typeof Bun.spawn>[] = [];
  try {
    const [a, b, obs] = await lab.namespaces("a", "b", "obs");
    await lab.lan("lan", [
      { ns: a!, ifname: "eth0", address: "10.89.0.1/24" },
      { ns: b!, ifname: "eth0", address: "10.89.0.2/24" },
      { ns: obs!, ifname: "eth0", address: "10.89.0.3/24" },
    ]);
    const ca = join(dir, `${impl}-a.conf`), cb = join(dir, `${impl}-b.conf`);
    writeFileSync(ca, manyInstancesConfig(INSTANCES, 150));
    writeFileSync(cb, manyInstancesConfig(INSTANCES, 100));
    const master = start(lab, a!, impl, ca, dir, "a");
    await Bun.sleep(1500);
    const backup = start(lab, b!, impl, cb, dir, "b");
    await Bun.sleep(3000); // elections settle

    const pcap = join(dir, `${impl}.pcap`);
    const capture = lab.spawnIn(obs!, ["tcpdump", "-i", "eth0", "-n", "-B", "16384", "-w", pcap, "ip proto 112"]);
    await Bun.sleep(1000);
    if (!IDLE) for (let i = 0; i < 2; i++) hogs.push(Bun.spawn(["sh", "-c", "while :; do :; done"]));
    const pidsA = processTree(master.pid), pidsB = processTree(backup.pid);
    const hz = 100; // USER_HZ
    const cpuA0 = cpuTicks(pidsA), cpuB0 = cpuTicks(pidsB);
    await Bun.sleep(SECONDS * 1000);
    const cpuA = ((cpuTicks(pidsA) - cpuA0) / hz / SECONDS) * 100;
    const cpuB = ((cpuTicks(pidsB) - cpuB0) / hz / SECONDS) * 100;
    const pss = (pssKb(pidsA) + pssKb(pidsB)) / 1024;
    capture.kill("SIGINT");
    await capture.exited;

    const { seen, spurious, jitter } = advertTiming(pcap, "10.89.0.2", ADVERT_MS);
    return {
      adverts: seen, spurious, jitterP50: percentile(jitter, 0.5), jitterP99: percentile(jitter, 0.99), jitterMax: percentile(jitter, 1),
      cpuMaster: cpuA, cpuBackup: cpuB, pssMb: pss,
    };
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
    await lab.cleanup();
  }
}

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
const dir = mkdtempSync(join(tmpdir(), "lbt-bl-"));
try {
  console.log(`VRRP v3 advert_int 0.1, ${INSTANCES} instances per node, ${SECONDS} s, ${IDLE ? "idle machine" : "both cores loaded by 2 busy loops"}`);
  const r: Record<Impl, Record<string, number>> = { keepalived: await measure("keepalived", dir), lbctl: await measure("lbctl", dir) };
  const rows: [string, string, number][] = [
    ["adverts seen from the master", "adverts", 0], ["spurious adverts from the backup", "spurious", 0],
    ["jitter p50 (ms)", "jitterP50", 2], ["jitter p99 (ms)", "jitterP99", 2], ["jitter max (ms)", "jitterMax", 2],
    ["CPU master (% of a core)", "cpuMaster", 2], ["CPU backup (% of a core)", "cpuBackup", 2], ["PSS both nodes (MB)", "pssMb", 1],
  ];
  console.log(`${"".padEnd(34)} ${"keepalived".padStart(11)} ${"lbctl".padStart(9)} ${"ratio".padStart(7)}`);
  for (const [label, key, digits] of rows) {
    const k = r.keepalived[key]!, l = r.lbctl[key]!;
    console.log(`${label.padEnd(34)} ${k.toFixed(digits).padStart(11)} ${l.toFixed(digits).padStart(9)} ${(k ? (l / k).toFixed(2) : "-").padStart(7)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
