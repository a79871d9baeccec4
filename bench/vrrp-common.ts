// What the VRRP benchmarks share: the many-instance configuration, process-tree CPU and memory
// from /proc, and advert timing read back from a tcpdump capture (kernel timestamps).
import { readFileSync } from "node:fs";

/** `count` VRRPv3 instances at advert_int 0.1 on eth0, VIPs in 10.90.0.0/16. */
export function manyInstancesConfig(count: number, priority: number): string {
  let s = "global_defs {\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n}\n";
  for (let i = 1; i <= count; i++) {
    s += `vrrp_instance V${i} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${i}\n  priority ${priority}\n  advert_int 0.1\n` +
      `  virtual_ipaddress {\n    10.90.${1 + (i >> 8)}.${i & 255}/16 dev eth0\n  }\n}\n`;
  }
  return s;
}

export { processTree } from "../src/lab/netns.ts";

/** utime + stime of the processes, in USER_HZ ticks (100 per second). */
export function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8");
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      t += Number(rest[11]) + Number(rest[12]);
    } catch { /* exited */ }
  }
  return t;
}

export function pssKb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try { kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"))?.[1] ?? 0); } catch { /* exited */ }
  }
  return kb;
}

export const percentile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/**
 * VRRPv3 adverts in a capture: how many came from the master, how many from `backupAddress`
 * (which should never send), and per VRID |interval − intervalMs| in ms.
 */
export function advertTiming(pcap: string, backupAddress: string, intervalMs: number): { seen: number; spurious: number; jitter: number[] } {
  const last = new Map<number, number>();
  const jitter: number[] = [];
  let spurious = 0, seen = 0;
  const text = Bun.spawnSync(["tcpdump", "-r", pcap, "-tt", "-n"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  for (const line of text.split("\n")) {
    const m = /^(\d+\.\d+) IP (\S+) > \S+ VRRPv3, Advertisement, vrid (\d+)/.exec(line);
    if (!m) continue;
    if (m[2] === backupAddress) { spurious++; continue; }
    const t = Number(m[1]) * 1000, vrid = Number(m[3]);
    seen++;
    const prev = last.get(vrid);
    if (prev !== undefined) jitter.push(Math.abs(t - prev - intervalMs));
    last.set(vrid, t);
  }
  return { seen, spurious, jitter };
}
