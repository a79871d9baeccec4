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
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type Lab, type SpawnedProcess } from "../../src/lab/netns.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const INSTANCES = arg("--instances", 200);
const SECONDS = arg("--seconds", 60);
const IDLE = process.argv.includes("--idle");
const ADVERT_MS = 100;
type Impl = "lbctl" | "keepalived";

function config(prio: number): string {
  let s = "global_defs {\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n}\n";
  for (let i = 1; i <= INSTANCES; i++) {
    const vrid = i;
    s += `vrrp_instance V${i} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${vrid}\n  priority ${prio}\n  advert_int 0.1\n` +
      `  virtual_ipaddress {\n    10.90.${1 + (i >> 8)}.${i & 255}/16 dev eth0\n  }\n}\n`;
  }
  return s;
}

function start(lab: Lab, ns: string, impl: Impl, conf: string, dir: string, tag: string): SpawnedProcess {
  if (impl === "lbctl") return lab.spawnIn(ns, [LBCTL, "daemon", "-f", conf, "--socket", join(dir, `${tag}.sock`)]);
  const pid = (s: string) => join(dir, `${tag}.${s}.pid`);
  return lab.spawnIn(ns, ["keepalived", "-n", "-l", "-P", "-G", "-f", conf, "-p", pid("m"), "-r", pid("v"), "-c", pid("c")]);
}

function tree(pid: number): number[] {
  const kids = Bun.spawnSync(["pgrep", "-P", String(pid)]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
  return [pid, ...kids.flatMap(tree)];
}

function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8");
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      t += Number(rest[11]) + Number(rest[12]); // utime, stime
    } catch { /* exited */ }
  }
  return t;
}

function pssKb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try { kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"))?.[1] ?? 0); } catch { /* exited */ }
  }
  return kb;
}

const pct = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN; };

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
    writeFileSync(ca, config(150));
    writeFileSync(cb, config(100));
    const master = start(lab, a!, impl, ca, dir, "a");
    await Bun.sleep(1500);
    const backup = start(lab, b!, impl, cb, dir, "b");
    await Bun.sleep(3000); // elections settle

    const pcap = join(dir, `${impl}.pcap`);
    const capture = lab.spawnIn(obs!, ["tcpdump", "-i", "eth0", "-n", "-B", "16384", "-w", pcap, "ip proto 112"]);
    await Bun.sleep(1000);
    if (!IDLE) for (let i = 0; i < 2; i++) hogs.push(Bun.spawn(["sh", "-c", "while :; do :; done"]));
    const pidsA = tree(master.pid), pidsB = tree(backup.pid);
    const hz = 100; // USER_HZ
    const cpuA0 = cpuTicks(pidsA), cpuB0 = cpuTicks(pidsB);
    await Bun.sleep(SECONDS * 1000);
    const cpuA = ((cpuTicks(pidsA) - cpuA0) / hz / SECONDS) * 100;
    const cpuB = ((cpuTicks(pidsB) - cpuB0) / hz / SECONDS) * 100;
    const pss = (pssKb(pidsA) + pssKb(pidsB)) / 1024;
    capture.kill("SIGINT");
    await capture.exited;

    const last = new Map<number, number>();
    const jitter: number[] = [];
    let spurious = 0, seen = 0;
    const text = Bun.spawnSync(["tcpdump", "-r", pcap, "-tt", "-n"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
    for (const line of text.split("\n")) {
      const m = /^(\d+\.\d+) IP (\S+) > \S+ VRRPv3, Advertisement, vrid (\d+)/.exec(line);
      if (!m) continue;
      if (m[2] === "10.89.0.2") { spurious++; continue; }
      const t = Number(m[1]) * 1000, vrid = Number(m[3]);
      seen++;
      const prev = last.get(vrid);
      if (prev !== undefined) jitter.push(Math.abs(t - prev - ADVERT_MS));
      last.set(vrid, t);
    }
    return {
      adverts: seen, spurious, jitterP50: pct(jitter, 0.5), jitterP99: pct(jitter, 0.99), jitterMax: pct(jitter, 1),
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
