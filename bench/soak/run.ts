// Soak: an lbctl node and a keepalived node (VRRP only: its checker exits on a kernel without IPVS) on
// one LAN, under the same load for an hour: a reload every 10 s (the VIP list changes every other
// time), packet noise (malformed VRRP packets, 200 a second), for lbctl also real servers that flap
// (two TCP listeners started and stopped every 15 s, checked every second) and API load (`lbctl status`
// twice a second). Every minute: PSS, open files and CPU seconds of each process. Reported: the table,
// and per process the growth over the second half, which should be about zero (no growth that does not
// level off).
//   make bench-soak   or   bun bench/soak/run.ts [--minutes M] [--sample-seconds S]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type SpawnedProcess } from "../../src/lab/netns.ts";
import { cpuTicks, pssKb } from "../vrrp-common.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const BUN = join(ROOT, "node_modules/.bin/bun");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const MINUTES = arg("--minutes", 60);
const SAMPLE_S = arg("--sample-seconds", 60);
const TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

const vrrp = (prio: number, vips: string[]) => `vrrp_instance VI {\n  interface eth0\n  virtual_router_id 88\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n${vips.map((v) => `    ${v}/24`).join("\n")}\n  }\n}\n`;
const checks = `virtual_server 10.93.0.200 80 {\n  delay_loop 1\n  lvs_sched rr\n  protocol TCP\n${[31001, 31002].map((p) => `  real_server 127.0.0.1 ${p} {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n`).join("")}}\n`;

interface Sample { pss: number; fds: number; cpu: number }
function sample(pid: number): Sample | null {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`).length; // throws once the process is gone
    return { pss: pssKb([pid]) / 1024, fds, cpu: cpuTicks([pid]) / TICKS };
  } catch {
    return null;
  }
}

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
const dir = mkdtempSync(join(tmpdir(), "lbt-sk-"));
const lab = createLab("lbt-sk-");
const timers: ReturnType<typeof setInterval>[] = [];
try {
  const [lb, ka, src] = await lab.namespaces("lb", "ka", "src");
  await lab.lan("lan", [
    { ns: lb, ifname: "eth0", address: "10.93.0.1/24" },
    { ns: ka, ifname: "eth0", address: "10.93.0.2/24" },
    { ns: src, ifname: "eth0", address: "10.93.0.3/24" },
  ]);
  await lab.run(src, ["ip", "route", "add", "224.0.0.0/4", "dev", "eth0"]);
  const lbConf = join(dir, "lb.conf"), kaConf = join(dir, "ka.conf");
  const vipsA = ["10.93.0.100"], vipsB = ["10.93.0.100", "10.93.0.101"];
  writeFileSync(lbConf, vrrp(150, vipsA) + checks);
  writeFileSync(kaConf, vrrp(100, vipsA));
  const sock = join(dir, "lb.sock");
  const d = lab.spawnIn(lb, [LBCTL, "daemon", "-f", lbConf, "--socket", sock]);
  const kaVrrpPid = join(dir, "ka.vrrp.pid");
  const k = lab.spawnIn(ka, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", kaConf, "-p", join(dir, "ka.pid"), "-r", kaVrrpPid, "-c", join(dir, "ka.check.pid")]);
  await Bun.sleep(4000);
  const children = () => (JSON.parse(Bun.spawnSync([LBCTL, "status", "--json", "--socket", sock]).stdout.toString() || "{}") as { children?: { role: string; pid: number | null }[] }).children ?? [];
  const procs = (): Record<string, number | null> => {
    const c = children();
    return {
      "lbctl supervisor": d.pid,
      "lbctl vrrp": c.find((x) => x.role === "vrrp")?.pid ?? null,
      "lbctl check": c.find((x) => x.role === "check")?.pid ?? null,
      "keepalived parent": k.pid,
      "keepalived vrrp": existsSync(kaVrrpPid) ? Number(readFileSync(kaVrrpPid, "utf8").trim()) : null,
    };
  };

  // The load.
  let reloads = 0;
  timers.push(setInterval(() => {
    reloads++;
    const vips = reloads % 2 ? vipsB : vipsA;
    writeFileSync(lbConf, vrrp(150, vips) + checks);
    writeFileSync(kaConf, vrrp(100, vips));
    d.kill("SIGHUP");
    k.kill("SIGHUP");
  }, 10_000));
  let noise: SpawnedProcess | null = null;
  let seed = 1;
  timers.push(setInterval(() => {
    if (noise) return;
    noise = lab.spawnIn(src, [BUN, join(ROOT, "test/integration/vrrp-inject.ts"), JSON.stringify({ src: "10.93.0.3", kind: "fuzz", count: 200, vrid: 88, vips: vipsA, seed: seed++ })]);
    void noise.exited.then(() => { noise = null; });
  }, 1000));
  let servers: SpawnedProcess | null = null;
  const flap = () => {
    if (servers) { servers.kill("SIGKILL"); servers = null; return; }
    servers = lab.spawnIn(lb, [BUN, "-e", "for (const port of [31001, 31002]) Bun.listen({ hostname: '127.0.0.1', port, socket: { open(s) { s.end(); }, data() {} } }); setInterval(() => {}, 1e9);"]);
  };
  flap();
  timers.push(setInterval(flap, 15_000));
  let apiCalls = 0;
  timers.push(setInterval(() => { apiCalls++; Bun.spawn([LBCTL, "status", "--json", "--socket", sock], { stdout: "ignore", stderr: "ignore" }); }, 500));

  const names = Object.keys(procs());
  const rows: { min: number; values: (Sample | null)[] }[] = [];
  const t0 = Date.now();
  const take = () => { const p = procs(); rows.push({ min: (Date.now() - t0) / 60_000, values: names.map((n) => (p[n] ? sample(p[n]!) : null)) }); };
  take();
  while (Date.now() - t0 < MINUTES * 60_000) {
    await Bun.sleep(SAMPLE_S * 1000);
    take();
    const last = rows[rows.length - 1]!;
    console.error(`${last.min.toFixed(1)} min: ${names.map((n, i) => `${n} ${last.values[i]?.pss.toFixed(1) ?? "-"} MB`).join(", ")}`);
  }
  for (const t of timers) clearInterval(t);

  console.log(`soak: ${MINUTES} min, ${reloads} reloads, ${seed - 1} bursts of 200 malformed packets, ${apiCalls} API calls, real servers flapping every 15 s (lbctl)`);
  for (const [what, pick, unit] of [["PSS", (s: Sample) => s.pss, "MB"], ["open files", (s: Sample) => s.fds, ""], ["CPU", (s: Sample) => s.cpu, "s"]] as const) {
    console.log(`\n${what} ${unit ? `(${unit})` : ""}`);
    console.log(`  min    ${names.map((n) => n.padStart(18)).join("")}`);
    for (const r of rows) console.log(`  ${r.min.toFixed(1).padStart(5)}  ${r.values.map((v) => (v ? pick(v).toFixed(what === "open files" ? 0 : 1) : "-").padStart(18)).join("")}`);
  }
  const half = rows.filter((r) => r.min >= MINUTES / 2);
  if (half.length >= 2) {
    console.log("\ngrowth over the second half (PSS MB, open files):");
    for (const [i, n] of names.entries()) {
      const a = half[0]!.values[i], b = half[half.length - 1]!.values[i];
      console.log(`  ${n.padEnd(18)} ${a && b ? `${(b.pss - a.pss).toFixed(1)} MB, ${b.fds - a.fds} files` : "(restarted or gone)"}`);
    }
  }
} finally {
  for (const t of timers) clearInterval(t);
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
