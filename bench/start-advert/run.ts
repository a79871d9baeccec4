// Start to first advert, lbctl against keepalived 2.2.7 in the same run, and the size of what is
// shipped. One node (VRRPv3 advert_int 1, one VIP) in a namespace on
// a veth whose other end an observer namespace captures with tcpdump (kernel timestamps, wall
// clock); the time runs from just before the exec of `lbctl daemon` / `keepalived` (both through
// `ip netns exec`, so both pay the same) to the first VRRP advert from the node on the wire. The
// daemon is stopped (SIGTERM, waited for) between runs; runs interleave (L K L K ...). Two cases:
//   priority 255 (address owner): master at once, so this is the daemon's own start-up cost;
//   state MASTER, priority 150: both wait the master-down interval first (RFC 5798), as a node
//   joining a cluster does; fewer runs, the protocol's timer dominates.
//   make bench-start-advert      or      bun bench/start-advert/run.ts [RUNS]
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type Lab, type SpawnedProcess } from "../../src/lab/netns.ts";
import { percentile } from "../vrrp-common.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const RUNS = Number(process.argv[2] ?? 15);
const CASES = [
  { name: "priority 255 (owner)", priority: 255, runs: RUNS },
  { name: "state MASTER, prio 150", priority: 150, runs: Math.max(1, Math.ceil(RUNS / 5)) },
];
type Impl = "lbctl" | "keepalived";
const NODE = "10.66.0.1";
const config = (priority: number) => `global_defs {\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n}\nvrrp_instance S {\n  state MASTER\n  interface eth0\n  virtual_router_id 66\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    10.66.0.100/24 dev eth0\n  }\n}\n`;
const median = (xs: number[]) => percentile(xs, 0.5);

function start(lab: Lab, ns: string, impl: Impl, conf: string, dir: string): SpawnedProcess {
  if (impl === "lbctl") return lab.spawnIn(ns, [LBCTL, "daemon", "-f", conf, "--socket", join(dir, "s.sock")]);
  const pid = (s: string) => join(dir, `k.${s}.pid`);
  return lab.spawnIn(ns, ["keepalived", "-n", "-l", "-P", "-G", "-f", conf, "-p", pid("m"), "-r", pid("v"), "-c", pid("c")]);
}

/** Kernel timestamps (ms, wall clock) of adverts from the node in the capture so far. */
function adverts(tcpdump: SpawnedProcess): number[] {
  const out: number[] = [];
  for (const line of tcpdump.output().stdout.split("\n")) {
    const m = /^(\d+\.\d+) IP (\S+) > \S+ VRRPv3, Advertisement/.exec(line);
    if (m && m[2] === NODE) out.push(Number(m[1]) * 1000);
  }
  return out;
}

async function once(lab: Lab, ns: string, tcpdump: SpawnedProcess, impl: Impl, conf: string, dir: string): Promise<number> {
  const seen = adverts(tcpdump).length;
  const t0 = performance.timeOrigin + performance.now();
  const p = start(lab, ns, impl, conf, dir);
  try {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(5)) {
      const a = adverts(tcpdump);
      if (a.length > seen) return a[seen]! - t0;
    }
    throw new Error(`${impl}: no advert within 10 s\n${p.output().stderr.slice(-2000)}`);
  } finally {
    p.kill("SIGTERM");
    await Promise.race([p.exited, Bun.sleep(5000)]);
    p.kill("SIGKILL");
    await lab.exec(ns, ["ip", "addr", "flush", "dev", "eth0", "label", "eth0", "to", "10.66.0.100/32"]);
    await Bun.sleep(300); // the goodbye advert is on the wire before the next start
  }
}

function size(path: string): string {
  return `${(statSync(path).size / 1e6).toFixed(1)} MB`;
}

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
for (const tool of ["keepalived", "tcpdump"]) if (!Bun.which(tool)) { console.error(`${tool} is missing: apt-get install ${tool}`); process.exit(1); }
const lab = createLab("lbt-sa-");
const dir = mkdtempSync(join(tmpdir(), "lbt-sa-"));
process.once("SIGINT", () => { void lab.cleanup().then(() => process.exit(130)); });
try {
  const [node, obs] = await lab.namespaces("node", "obs");
  await lab.veth(node!, "eth0", obs!, "eth0");
  await lab.addr(node!, "eth0", `${NODE}/24`);
  await lab.addr(obs!, "eth0", "10.66.0.2/24");
  const tcpdump = lab.spawnIn(obs!, ["tcpdump", "-i", "eth0", "-n", "-tt", "-l", "--immediate-mode", "-p", "vrrp"]);
  for (const deadline = Date.now() + 5000; !tcpdump.output().stderr.includes("listening on") && Date.now() < deadline;) await Bun.sleep(20);
  console.log("Start to first advert (ms from exec to the first advert on the wire), lbctl and keepalived 2.2.7 interleaved");
  console.log("case                     runs   keepalived median   lbctl median   ratio   keepalived min-max   lbctl min-max");
  for (const c of CASES) {
    const conf = join(dir, `node-${c.priority}.conf`);
    writeFileSync(conf, config(c.priority));
    const t: Record<Impl, number[]> = { lbctl: [], keepalived: [] };
    for (let r = 0; r < c.runs; r++) for (const impl of ["lbctl", "keepalived"] as const) t[impl].push(await once(lab, node!, tcpdump, impl, conf, dir));
    const l = median(t.lbctl), k = median(t.keepalived);
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    console.log(`${c.name.padEnd(24)} ${String(c.runs).padStart(4)} ${k.toFixed(1).padStart(19)} ${l.toFixed(1).padStart(14)} ${(l / k).toFixed(2).padStart(7)} ${range(t.keepalived).padStart(20)} ${range(t.lbctl).padStart(15)}`);
  }
  const kbin = Bun.which("keepalived")!;
  const kpkg = Bun.spawnSync(["dpkg-query", "-W", "-f", "${Installed-Size}", "keepalived"]).stdout.toString().trim();
  console.log(`\nSize: dist/lbctl ${size(LBCTL)} (${statSync(LBCTL).size} bytes); ${kbin} ${size(kbin)} (${statSync(kbin).size} bytes)` +
    (kpkg ? `, Debian package keepalived installed ${(Number(kpkg) / 1000).toFixed(1)} MB` : ""));
  const rpms = existsSync(join(ROOT, "dist")) ? readdirSync(join(ROOT, "dist")).filter((f) => f.endsWith(".rpm")) : [];
  for (const f of rpms) console.log(`      dist/${f} ${size(join(ROOT, "dist", f))} (${statSync(join(ROOT, "dist", f)).size} bytes)`);
  if (!rpms.length) console.log("      (no RPM in dist/: `make rpm` builds one)");
} finally {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
