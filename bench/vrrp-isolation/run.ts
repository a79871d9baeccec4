// Isolation of VRRP from health checking: one lbctl node runs VRRPv3 instances at advert_int 0.1
// (default 200) and, in its checker child, TCP_CHECKs of many real servers (default 10,000, served
// by listeners on 100 ports × 100 loopback addresses of the node) at delay_loop 1, while a backup
// node and an observer share the LAN. Reported: the master's advert jitter (kernel timestamps from
// tcpdump at the observer), spurious adverts from the backup, checks per second and the checker
// child's CPU. No keepalived column: keepalived's checker exits on a kernel without IPVS, and the
// question here is only whether lbctl's VRRP keeps time while its checker is busy.
//   make bench-vrrp-isolation   or   bun bench/vrrp-isolation/run.ts [--servers N] [--instances N] [--seconds S]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab } from "../../src/lab/netns.ts";
import { advertTiming, cpuTicks, manyInstancesConfig, percentile, processTree } from "../vrrp-common.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const BUN = join(ROOT, "node_modules/.bin/bun");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const SERVERS = arg("--servers", 10_000);
const INSTANCES = arg("--instances", 200);
const SECONDS = arg("--seconds", 30);
const PORTS = 100;

/** One virtual server per 100 real servers; real server k is 127.0.0.(1 + k/PORTS):(30000 + k%PORTS). */
function checks(): string {
  let s = "";
  for (let v = 0; v * 100 < SERVERS; v++) {
    s += `virtual_server 10.91.${v >> 8}.${v & 255} 80 {\n  delay_loop 1\n  lvs_sched rr\n  protocol TCP\n`;
    for (let k = v * 100; k < Math.min(SERVERS, (v + 1) * 100); k++) {
      s += `  real_server 127.0.${1 + Math.floor(k / PORTS / 250)}.${1 + (Math.floor(k / PORTS) % 250)} ${30000 + (k % PORTS)} {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n`;
    }
    s += "}\n";
  }
  return s;
}

const LISTENER = `
let accepted = 0;
for (let p = 30000; p < 30000 + ${PORTS}; p++) {
  Bun.listen({ hostname: "0.0.0.0", port: p, socket: { open(s) { accepted++; s.end(); }, data() {} } });
}
setInterval(() => console.log("accepted", accepted), 1000);
`;

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build`"); process.exit(1); }
const dir = mkdtempSync(join(tmpdir(), "lbt-bi-"));
const lab = createLab("lbt-bi-");
try {
  const [a, b, obs] = await lab.namespaces("a", "b", "obs");
  const lan = await lab.lan("lan", [
    { ns: a!, ifname: "eth0", address: "10.89.0.1/24" },
    { ns: b!, ifname: "eth0", address: "10.89.0.2/24" },
    { ns: obs!, ifname: "eth0", address: "10.89.0.3/24" },
  ]);
  // The real servers live on 127.x.y.z: all of 127/8 is local on lo, no address to add.
  writeFileSync(join(dir, "listen.ts"), LISTENER);
  const listener = lab.spawnIn(a!, [BUN, join(dir, "listen.ts")]);
  writeFileSync(join(dir, "a.conf"), manyInstancesConfig(INSTANCES, 150) + checks());
  writeFileSync(join(dir, "b.conf"), manyInstancesConfig(INSTANCES, 100));
  const master = lab.spawnIn(a!, [LBCTL, "daemon", "-f", join(dir, "a.conf"), "--socket", join(dir, "a.sock")]);
  await Bun.sleep(2000);
  lab.spawnIn(b!, [LBCTL, "daemon", "-f", join(dir, "b.conf"), "--socket", join(dir, "b.sock")]);
  await Bun.sleep(8000); // elections settle and the checker reaches its pace
  const pcap = join(dir, "adverts.pcap");
  const capture = lab.spawnIn(lan, ["tcpdump", "-i", "br0", "-n", "-B", "16384", "-w", pcap, "ip proto 112"]);
  await Bun.sleep(1000);
  const acceptedAt = () => Number(/accepted (\d+)\s*$/.exec(listener.output().stdout)?.[1] ?? 0);
  const acc0 = acceptedAt(), cpu0 = cpuTicks(processTree(master.pid)), t0 = performance.now();
  await Bun.sleep(SECONDS * 1000);
  const secs = (performance.now() - t0) / 1000;
  const checksPerSec = (acceptedAt() - acc0) / secs;
  const cpuPct = ((cpuTicks(processTree(master.pid)) - cpu0) / 100 / secs) * 100;
  capture.kill("SIGINT");
  await capture.exited;
  const { seen, spurious, jitter } = advertTiming(pcap, "10.89.0.2", 100);
  console.log(`lbctl, ${INSTANCES} VRRPv3 instances at 0.1 s + ${SERVERS} TCP_CHECK real servers at delay_loop 1, ${SECONDS} s`);
  console.log(`adverts from the master      ${seen}`);
  console.log(`spurious adverts (backup)    ${spurious}`);
  console.log(`advert jitter p50/p99/max    ${percentile(jitter, 0.5).toFixed(2)} / ${percentile(jitter, 0.99).toFixed(2)} / ${percentile(jitter, 1).toFixed(2)} ms`);
  console.log(`checks per second            ${checksPerSec.toFixed(0)} (asked: ${SERVERS})`);
  console.log(`master CPU, all processes    ${cpuPct.toFixed(1)} % of one core`);
} finally {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
