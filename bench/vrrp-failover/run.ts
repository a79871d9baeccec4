// Failover time, lbctl against keepalived 2.2.7, measured in the same run on the same topology
// (two nodes on a bridged LAN in namespaces; master priority 150, backup 100; the backup's
// addresses polled every 10 ms over rtnetlink from this process).
//   crash:    SIGSTOP of every process of the master, then SIGKILL (no goodbye advert)
//   graceful: SIGTERM to the master (priority-0 advert)
// Modes: VRRPv2 advert_int 1 and VRRPv3 advert_int 0.1. Runs interleave lbctl and keepalived
// (L K L K ...) so machine noise hits both alike; prints medians and lbctl/keepalived ratios.
//   make bench-vrrp-failover      or      bun bench/vrrp-failover/run.ts [RUNS]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crashProcessTree, createLab, type Lab, type SpawnedProcess } from "../../src/lab/netns.ts";
import { inNetns } from "../../src/net/netns.ts";
import { Rtnl } from "../../src/netlink/rtnetlink.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const RUNS = Number(process.argv[2] ?? 5);
const VIP = "10.88.0.100";
type Impl = "lbctl" | "keepalived";
type Mode = { name: string; version: 2 | 3; advertInt: number };
const MODES: Mode[] = [{ name: "v2 advert_int 1", version: 2, advertInt: 1 }, { name: "v3 advert_int 0.1", version: 3, advertInt: 0.1 }];

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

function config(prio: number, m: Mode): string {
  return `global_defs {\n  vrrp_version ${m.version}\n  vrrp_garp_master_delay 0\n}\nvrrp_instance B {\n  state BACKUP\n  interface eth0\n  virtual_router_id 88\n  priority ${prio}\n  advert_int ${m.advertInt}\n  virtual_ipaddress {\n    ${VIP}/24 dev eth0\n  }\n}\n`;
}

function start(lab: Lab, ns: string, impl: Impl, conf: string, dir: string, tag: string): SpawnedProcess {
  if (impl === "lbctl") return lab.spawnIn(ns, [LBCTL, "daemon", "-f", conf, "--socket", join(dir, `${tag}.sock`)]);
  const pid = (s: string) => join(dir, `${tag}.${s}.pid`);
  return lab.spawnIn(ns, ["keepalived", "-n", "-l", "-P", "-G", "-f", conf, "-p", pid("m"), "-r", pid("v"), "-c", pid("c")]);
}

async function holds(rtnl: Rtnl): Promise<boolean> {
  return (await rtnl.addresses(4)).some((a) => a.address === VIP);
}

async function waitHolds(rtnl: Rtnl, want: boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if ((await holds(rtnl)) === want) return performance.now() - t0;
    await Bun.sleep(10);
  }
  throw new Error(`VIP ${want ? "never appeared" : "never left"} within ${timeoutMs} ms`);
}

async function once(impl: Impl, m: Mode, kind: "crash" | "graceful", dir: string): Promise<number> {
  const lab = createLab("lbt-bf-");
  try {
    const [a, b] = await lab.namespaces("a", "b");
    await lab.lan("lan", [{ ns: a!, ifname: "eth0", address: "10.88.0.1/24" }, { ns: b!, ifname: "eth0", address: "10.88.0.2/24" }]);
    const ca = join(dir, "a.conf"), cb = join(dir, "b.conf");
    writeFileSync(ca, config(150, m));
    writeFileSync(cb, config(100, m));
    const rA = inNetns(a!, () => Rtnl.open()), rB = inNetns(b!, () => Rtnl.open());
    try {
      const master = start(lab, a!, impl, ca, dir, "a");
      await waitHolds(rA, true, 20_000);
      start(lab, b!, impl, cb, dir, "b");
      await Bun.sleep(m.advertInt * 1000 * 5 + 500); // the backup settles in BACKUP
      if (await holds(rB)) throw new Error("backup holds the VIP before the failover");
      const t0 = performance.now();
      if (kind === "crash") {
        crashProcessTree(master.pid);
      } else {
        master.kill("SIGTERM");
      }
      await waitHolds(rB, true, 20_000);
      return performance.now() - t0;
    } finally {
      rA.close();
      rB.close();
    }
  } finally {
    await lab.cleanup();
  }
}

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
const dir = mkdtempSync(join(tmpdir(), "lbt-bf-"));
try {
  console.log(`VRRP failover, median of ${RUNS} (ms), lbctl and keepalived 2.2.7 interleaved`);
  console.log("mode                 kind      keepalived   lbctl   ratio");
  for (const m of MODES) {
    for (const kind of ["crash", "graceful"] as const) {
      const t: Record<Impl, number[]> = { lbctl: [], keepalived: [] };
      for (let r = 0; r < RUNS; r++) for (const impl of ["lbctl", "keepalived"] as const) t[impl].push(await once(impl, m, kind, dir));
      const k = median(t.keepalived), l = median(t.lbctl);
      console.log(`${m.name.padEnd(20)} ${kind.padEnd(9)} ${k.toFixed(0).padStart(10)} ${l.toFixed(0).padStart(7)} ${(l / k).toFixed(2).padStart(7)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
