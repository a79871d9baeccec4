// Shared helpers for the VRRP integration tests: lbctl VRRP nodes (test/helpers/vrrp-node.ts) and
// keepalived 2.2.7 (-P: VRRP only) inside lab namespaces, and what the tests look at (who holds a VIP).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import type { Lab, SpawnedProcess } from "../helpers/netns.ts";
import type { RuntimeConfig, RuntimeInstanceConfig, RuntimeStatus } from "../../src/vrrp/runtime.ts";
import { VRRP_DEFAULTS, type VrrpInstanceParams } from "../../src/vrrp/types.ts";

const NODE_ENTRY = resolve(import.meta.dirname, "../helpers/vrrp-node.ts");

export const workDir = mkdtempSync(join(tmpdir(), "lbt-vr-"));
export function removeWorkDir(): void {
  rmSync(workDir, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value; throws with `what` (and the last value) on timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const end = performance.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

/** A complete instance with keepalived's defaults for whatever is not given. */
export function instance(over: Partial<RuntimeInstanceConfig> & Pick<VrrpInstanceParams, "name" | "vrid" | "interface" | "primaryIp" | "vips">): RuntimeInstanceConfig {
  return {
    ...VRRP_DEFAULTS,
    unicastPeers: [],
    family: over.vips[0]?.includes(":") ? 6 : 4,
    version: 3,
    accept: true,
    ...over,
  } as RuntimeInstanceConfig;
}

export interface LbNode {
  ns: string;
  proc: SpawnedProcess;
  file: string;
  status(): RuntimeStatus | null;
  state(instance: string): string | null;
  waitState(instance: string, state: string, timeoutMs?: number): Promise<void>;
    /** Rewrites the node file with a new config and sends SIGHUP (reload). */
  reload(config: RuntimeConfig): void;
  logs(): string;
}

/** (rt_priority, policy) of a process's main thread from /proc/PID/stat (policy 2 = SCHED_RR). */
export function schedulingOf(pid: number): { rtPriority: number; policy: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command start at field 3 (state); rt_priority is field 40, policy 41.
  return { rtPriority: Number(fields[40 - 3]), policy: Number(fields[41 - 3]) };
}

let nodeSeq = 0;
const started: SpawnedProcess[] = [];

/** SIGKILLs every node this file started that is still running (afterEach: a failed test leaves none). */
export async function killStarted(): Promise<void> {
  const live = started.splice(0);
  for (const p of live) p.kill("SIGKILL");
  await Promise.all(live.map((p) => p.exited));
}

export function startLbNode(lab: Lab, ns: string, config: RuntimeConfig, extra: { control?: string[]; realtimePriority?: number } = {}): LbNode {
  const id = `${ns}-${nodeSeq++}`;
  const file = join(workDir, `${id}.json`);
  const statusFile = join(workDir, `${id}.status.json`);
  const write = (c: RuntimeConfig) => writeFileSync(file, JSON.stringify({ config: c, statusFile, ...extra }));
  write(config);
  const proc = lab.spawnIn(ns, [process.execPath, NODE_ENTRY, file]);
  started.push(proc);
  const status = (): RuntimeStatus | null => {
    try {
      return JSON.parse(readFileSync(statusFile, "utf8")) as RuntimeStatus;
    } catch {
      return null;
    }
  };
  const state = (inst: string) => status()?.instances.find((i) => i.name === inst)?.state ?? null;
  return {
    ns, proc, file, status, state,
    async waitState(inst, want, timeoutMs = 5000) {
      await waitFor(`${ns} ${inst} ${want} (logs: ${proc.output().stderr.slice(-1500)})`, () => state(inst) === want, timeoutMs);
    },
    reload(c) {
      write(c);
      proc.kill("SIGHUP");
    },
    logs: () => proc.output().stderr,
  };
}

export interface KeepalivedNode {
  ns: string;
  proc: SpawnedProcess;
  /** The configuration file it reads (rewrite it, then SIGHUP, to reload). */
  confFile: string;
  /** keepalived's VRRP child pid (from the -r pid file). */
  vrrpPid(): number | null;
  /** A real crash: SIGSTOP both processes, then SIGKILL (LAB.md). */
  crash(): void;
  logs(): string;
}

export function startKeepalived(lab: Lab, ns: string, conf: string): KeepalivedNode {
  const id = `${ns}-ka-${nodeSeq++}`;
  const confFile = join(workDir, `${id}.conf`);
  const pid = join(workDir, `${id}.pid`);
  const vpid = join(workDir, `${id}.vrrp.pid`);
  const cpid = join(workDir, `${id}.check.pid`);
  writeFileSync(confFile, conf);
  const proc = lab.spawnIn(ns, ["keepalived", "-n", "-l", "-D", "-P", "-f", confFile, "-p", pid, "-r", vpid, "-c", cpid]);
  started.push(proc);
  const vrrpPid = () => {
    try {
      return Number(readFileSync(vpid, "utf8").trim()) || null;
    } catch {
      return null;
    }
  };
  const parentPid = () => {
    try {
      return Number(readFileSync(pid, "utf8").trim()) || null;
    } catch {
      return null;
    }
  };
  return {
    ns, proc, confFile, vrrpPid,
    crash() {
      // killStarted() only knows the parent; the VRRP child goes here or with the namespace.
      const pids = [parentPid(), vrrpPid()].filter((p): p is number => p !== null);
      for (const p of pids) try { process.kill(p, "SIGSTOP"); } catch { /* gone */ }
      for (const p of pids) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
      proc.kill("SIGKILL");
    },
    logs: () => proc.output().stdout + proc.output().stderr,
  };
}

/** keepalived.conf text for one instance (plus optional global_defs lines). */
export function keepalivedConf(i: {
  name: string; state?: "MASTER" | "BACKUP"; interface: string; vrid: number; priority: number; advertInt: number;
  version?: 2 | 3; vips: string[]; unicastSrc?: string; unicastPeers?: string[]; authPass?: string; nopreempt?: boolean;
  preemptDelay?: number; extra?: string; global?: string; top?: string;
}): string {
  const lines = [
    `global_defs {`, `  vrrp_version ${i.version ?? 3}`, ...(i.global ? [i.global] : []), `}`,
    ...(i.top ? [i.top] : []),
    `vrrp_instance ${i.name} {`,
    `  state ${i.state ?? "BACKUP"}`,
    `  interface ${i.interface}`,
    `  virtual_router_id ${i.vrid}`,
    `  priority ${i.priority}`,
    `  advert_int ${i.advertInt}`,
    ...(i.nopreempt ? ["  nopreempt"] : []),
    ...(i.preemptDelay ? [`  preempt_delay ${i.preemptDelay}`] : []),
    ...(i.authPass ? [`  authentication {`, `    auth_type PASS`, `    auth_pass ${i.authPass}`, `  }`] : []),
    ...(i.unicastSrc ? [`  unicast_src_ip ${i.unicastSrc}`] : []),
    ...(i.unicastPeers ? [`  unicast_peer {`, ...i.unicastPeers.map((p) => `    ${p}`), `  }`] : []),
    `  virtual_ipaddress {`, ...i.vips.map((v) => `    ${v}`), `  }`,
    ...(i.extra ? [i.extra] : []),
    `}`,
  ];
  return lines.join("\n") + "\n";
}

interface IpAddrJson { ifname: string; addr_info: { local: string; prefixlen: number; label?: string; family: string }[] }

/** Every address on every interface of a namespace, as "ifname address/prefix". */
export async function addresses(lab: Lab, ns: string): Promise<string[]> {
  const links = await lab.ipJson<IpAddrJson[]>(ns, ["addr", "show"]);
  return links.flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`));
}

export async function holds(lab: Lab, ns: string, vip: string): Promise<boolean> {
  return (await addresses(lab, ns)).some((a) => a.split(" ")[1]?.split("/")[0] === vip);
}

/** The namespaces (of those given) that hold `vip` now. */
export async function holders(lab: Lab, nss: readonly string[], vip: string): Promise<string[]> {
  const out: string[] = [];
  for (const ns of nss) if (await holds(lab, ns, vip)) out.push(ns);
  return out;
}

export async function waitHolders(lab: Lab, nss: readonly string[], vip: string, want: string[], timeoutMs = 5000): Promise<void> {
  const key = (a: string[]) => [...a].sort().join(",");
  await waitFor(`${vip} held by [${want.join(", ")}]`, async () => key(await holders(lab, nss, vip)) === key(want), timeoutMs);
}

export interface Frame {
  /** tcpdump's one-line summary. */
  summary: string;
  bytes: Uint8Array;
}

/** Captures whole frames on the LAN bridge (tcpdump -xx) until stop(). */
export async function captureFrames(lab: Lab, lanNs: string, filter: string): Promise<{ stop(): Promise<Frame[]> }> {
  const p = lab.spawnIn(lanNs, ["tcpdump", "-l", "-n", "-e", "-xx", "-i", "br0", filter]);
  await waitFor("tcpdump listening", () => p.output().stderr.includes("listening on"), 3000);
  return {
    async stop() {
      await sleep(100);
      p.kill("SIGTERM");
      await p.exited;
      const frames: Frame[] = [];
      for (const line of p.output().stdout.split("\n")) {
        const hex = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
        if (hex && frames.length > 0) {
          const last = frames[frames.length - 1];
          const more = hex[1].replace(/\s+/g, "").match(/../g)?.map((h) => parseInt(h, 16)) ?? [];
          last.bytes = Uint8Array.from([...last.bytes, ...more]);
        } else if (line.trim() !== "") frames.push({ summary: line, bytes: new Uint8Array() });
      }
      return frames;
    },
  };
}

/** A frame with its Ethernet source MAC (and, for ARP/NDP, the link-layer address fields) zeroed. */
export function withoutMacs(f: Frame): string {
  const b = f.bytes.slice();
  b.fill(0, 6, 12);
  const ethertype = (b[12] << 8) | b[13];
  if (ethertype === 0x0806) b.fill(0, 22, 28); // ARP sender hardware address
  if (ethertype === 0x86dd && b[20] === 58 && b[54] === 136) b.fill(0, 80, 86); // NA target link-layer option
  return Buffer.from(b).toString("hex");
}

/** One reading of an interface's addresses: when (ms since the epoch) and the bare addresses. */
export interface AddressSample {
  t: number;
  addrs: string[];
}

/**
 * Samples the addresses of `ifname` in `ns` every `everyMs` (default 20 ms) from a loop inside the
 * namespace (one `ip` per sample, timestamped by bash's EPOCHREALTIME), until stop().
 */
export function startAddressSampler(lab: Lab, ns: string, ifname: string, everyMs = 20): { stop(): Promise<AddressSample[]> } {
  const loop = `while :; do echo "$EPOCHREALTIME $(ip -br addr show dev ${ifname})"; sleep ${everyMs / 1000}; done`;
  const p = lab.spawnIn(ns, ["bash", "-c", loop]);
  started.push(p);
  return {
    async stop() {
      p.kill("SIGKILL");
      await p.exited;
      const out: AddressSample[] = [];
      for (const line of p.output().stdout.split("\n")) {
        const words = line.trim().split(/\s+/);
        const t = Number(words[0]) * 1000;
        // "<time> eth0@if5 UP 10.0.0.1/24 10.0.0.100/24 ..."
        if (!Number.isFinite(t) || words.length < 3) continue;
        out.push({ t, addrs: words.slice(3).map((a) => a.split("/")[0]!) });
      }
      return out;
    },
  };
}
