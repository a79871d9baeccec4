// Memory of the VRRP process under a flood of malformed VRRP packets: an lbctl node and a keepalived
// node (VRRP only, -P) on one LAN, a third namespace sending random VRRP-protocol packets to
// 224.0.0.18 as fast as one process can (test/integration/vrrp-inject.ts, kind "fuzz"). Every 5 s:
// the PSS of lbctl's VRRP child and of keepalived's VRRP child. Reported: PSS before, the highest, at
// the end of the flood and 10 s after, for both, and lbctl / keepalived.
//   make bench-rx-flood-memory   or   bun bench/rx-flood-memory/run.ts [--seconds S]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab } from "../../src/lab/netns.ts";
import { pssKb } from "../vrrp-common.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const BUN = join(ROOT, "node_modules/.bin/bun");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const SECONDS = arg("--seconds", 60);

const conf = (prio: number) => `vrrp_instance VI {\n  interface eth0\n  virtual_router_id 81\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n    10.92.0.100/24\n  }\n}\n`;
const pss = (pid: number): number => pssKb([pid]) / 1024;
const waitFile = async (f: string) => { for (let i = 0; i < 100 && !existsSync(f); i++) await Bun.sleep(50); };

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
const dir = mkdtempSync(join(tmpdir(), "lbt-bm-"));
const lab = createLab("lbt-bm-");
try {
  const [lb, ka, src] = await lab.namespaces("lb", "ka", "src");
  await lab.lan("lan", [
    { ns: lb, ifname: "eth0", address: "10.92.0.1/24" },
    { ns: ka, ifname: "eth0", address: "10.92.0.2/24" },
    { ns: src, ifname: "eth0", address: "10.92.0.3/24" },
  ]);
  await lab.run(src, ["ip", "route", "add", "224.0.0.0/4", "dev", "eth0"]);
  writeFileSync(join(dir, "lb.conf"), conf(150));
  writeFileSync(join(dir, "ka.conf"), conf(100));
  const sock = join(dir, "lb.sock");
  lab.spawnIn(lb, [LBCTL, "daemon", "-f", join(dir, "lb.conf"), "--socket", sock]);
  const vrrpPidFile = join(dir, "ka.vrrp.pid");
  lab.spawnIn(ka, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", join(dir, "ka.conf"), "-p", join(dir, "ka.pid"), "-r", vrrpPidFile, "-c", join(dir, "ka.check.pid")]);
  await Bun.sleep(3000);
  await waitFile(vrrpPidFile);
  const status = JSON.parse(Bun.spawnSync([LBCTL, "status", "--json", "--socket", sock]).stdout.toString()) as { children: { role: string; pid: number }[] };
  const lbPid = status.children.find((c) => c.role === "vrrp")!.pid;
  const kaPid = Number(readFileSync(vrrpPidFile, "utf8").trim());
  const rows: { t: number; lb: number; ka: number; sent: number }[] = [];
  let sent = 0;
  const t0 = Date.now();
  const sample = () => rows.push({ t: Math.round((Date.now() - t0) / 1000), lb: pss(lbPid), ka: pss(kaPid), sent });
  sample();
  const flood = (async () => {
    while (Date.now() - t0 < SECONDS * 1000) {
      await lab.run(src, [BUN, join(ROOT, "test/integration/vrrp-inject.ts"), JSON.stringify({ src: "10.92.0.3", kind: "fuzz", count: 20_000, vrid: 81, vips: ["10.92.0.100"], seed: sent + 1 })]);
      sent += 20_000;
    }
  })();
  while (Date.now() - t0 < SECONDS * 1000) { await Bun.sleep(5000); sample(); }
  await flood;
  sample();
  const end = rows[rows.length - 1]!;
  await Bun.sleep(10_000);
  sample();
  console.log("  t(s)  sent      lbctl PSS MB  keepalived PSS MB");
  for (const r of rows) console.log(`  ${String(r.t).padStart(4)}  ${String(r.sent).padStart(8)}  ${r.lb.toFixed(1).padStart(12)}  ${r.ka.toFixed(1).padStart(17)}`);
  const peak = (k: "lb" | "ka") => Math.max(...rows.map((r) => r[k]));
  const after = rows[rows.length - 1]!;
  console.log(`\n${sent} malformed packets in ${SECONDS} s`);
  for (const [what, l, k] of [["before", rows[0]!.lb, rows[0]!.ka], ["peak", peak("lb"), peak("ka")], ["end of flood", end.lb, end.ka], ["10 s after", after.lb, after.ka]] as const)
    console.log(`${what.padEnd(13)} lbctl ${l.toFixed(1)} MB, keepalived ${k.toFixed(1)} MB, ratio ${(l / k).toFixed(1)}`);
  // Growth over the second half of the flood: what does not level off.
  const half = rows.filter((r) => r.t >= SECONDS / 2 && r.t <= SECONDS);
  if (half.length >= 2) console.log(`growth over the second half of the flood: lbctl ${(half[half.length - 1]!.lb - half[0]!.lb).toFixed(1)} MB, keepalived ${(half[half.length - 1]!.ka - half[0]!.ka).toFixed(1)} MB`);
} finally {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
