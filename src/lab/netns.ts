// Network-namespace lab shared by the tests and `lbctl demo`.
// Test lab of network namespaces: unique names, veth pairs, a bridged LAN in its own namespace,
// commands and long-running processes inside namespaces, and cleanup that always runs
// (call lab.cleanup() from afterAll; a process-exit hook catches the rest).
//
//   const lab = createLab("lbt-xx-");
//   const [a, b] = await lab.namespaces("a", "b");
//   await lab.veth(a, "eth0", b, "eth0");
//   await lab.addr(a, "eth0", "10.9.0.1/24");
//   const p = lab.spawnIn(a, ["keepalived", "-n", ...]);
//   afterAll(() => lab.cleanup());
import { existsSync, readdirSync } from "node:fs";

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface SpawnedProcess {
  pid: number;
  ns: string;
  /** Resolves with the exit code (or signal-derived code) when the process ends. */
  exited: Promise<number>;
  /** Collected output so far (text). */
  output(): { stdout: string; stderr: string };
  kill(signal?: NodeJS.Signals | number): void;
}

export interface LanMember { ns: string; ifname: string; address?: string }

export interface Lab {
  /** The prefix plus a per-process tag; every namespace this lab makes starts with it. */
  readonly tag: string;
  /** Creates namespaces named `${tag}${suffix}` with lo up; returns their names. */
  namespaces(...suffixes: string[]): Promise<string[]>;
  /** veth pair with one end in each namespace, both up. */
  veth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void>;
  /** A bridge in its own namespace with a veth to every member; returns the bridge namespace. */
  lan(name: string, members: LanMember[]): Promise<string>;
  addr(ns: string, ifname: string, cidr: string, ...extra: string[]): Promise<void>;
  /** Runs a command in a namespace and returns its result (does not throw on failure). */
  exec(ns: string, cmd: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Like exec, but throws with the command's stderr on a non-zero exit. */
  run(ns: string, cmd: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<string>;
  /** Runs `ip -j ...` in the namespace and parses its JSON. */
  ipJson<T = unknown>(ns: string, args: string[]): Promise<T>;
  /** Starts a long-running process in the namespace; it is killed by cleanup(). */
  spawnIn(ns: string, cmd: string[], opts?: { env?: Record<string, string> }): SpawnedProcess;
  /** Kills every tracked process (SIGKILL) and deletes every namespace of this lab; it makes none after. Idempotent. */
  cleanup(): Promise<void>;
}

const liveLabs = new Set<LabImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => { for (const lab of liveLabs) lab.cleanupSync(); });
}

function decode(b: Uint8Array | undefined | null): string {
  return b ? new TextDecoder().decode(b) : "";
}

class LabImpl implements Lab {
  readonly tag: string;
  private readonly created = new Set<string>();
  private readonly procs = new Map<number, SpawnedProcess>();
  /** Set by cleanup(): no namespace or process is made after it. */
  private closed = false;

  constructor(prefix: string) {
    this.tag = `${prefix}${process.pid.toString(36)}-`;
    sweepStale(prefix);
    liveLabs.add(this);
    installExitHook();
  }

  async namespaces(...suffixes: string[]): Promise<string[]> {
    const names: string[] = [];
    for (const s of suffixes) {
      const name = `${this.tag}${s}`;
      // A cleaned-up lab makes nothing more: a cleanup (a signal handler's) that ran before or
      // while this namespace was made did not see it, and nothing would remove it.
      if (this.closed) throw new Error(`the lab was cleaned up; namespace ${name} not made`);
      await runHost(["ip", "netns", "add", name]);
      if (this.closed) {
        await execHost(["ip", "netns", "del", name]);
        throw new Error(`the lab was cleaned up while namespace ${name} was being made`);
      }
      this.created.add(name);
      await this.run(name, ["ip", "link", "set", "lo", "up"]);
      names.push(name);
    }
    return names;
  }

  async veth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    checkIfname(ifA);
    checkIfname(ifB);
    await runHost(["ip", "link", "add", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB]);
    await this.run(nsA, ["ip", "link", "set", ifA, "up"]);
    await this.run(nsB, ["ip", "link", "set", ifB, "up"]);
  }

  async lan(name: string, members: LanMember[]): Promise<string> {
    const [brNs] = await this.namespaces(`${name}`);
    await this.run(brNs, ["ip", "link", "add", "br0", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0"]);
    await this.run(brNs, ["ip", "link", "set", "br0", "up"]);
    for (const [i, m] of members.entries()) {
      const port = `p${i}`;
      await this.veth(m.ns, m.ifname, brNs, port);
      await this.run(brNs, ["ip", "link", "set", port, "master", "br0"]);
      if (m.address) await this.addr(m.ns, m.ifname, m.address);
    }
    return brNs;
  }

  async addr(ns: string, ifname: string, cidr: string, ...extra: string[]): Promise<void> {
    // nodad: IPv6 test addresses must be usable at once, not after duplicate address detection.
    const v6 = cidr.includes(":") ? ["nodad"] : [];
    await this.run(ns, ["ip", "addr", "add", cidr, "dev", ifname, ...v6, ...extra]);
  }

  async exec(ns: string, cmd: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return execHost(["ip", "netns", "exec", ns, ...cmd], opts);
  }

  async run(ns: string, cmd: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(ns, cmd, opts);
    if (r.code !== 0) throw new Error(`[${ns}] ${cmd.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  async ipJson<T = unknown>(ns: string, args: string[]): Promise<T> {
    const out = await this.run(ns, ["ip", "-j", ...args]);
    return JSON.parse(out.trim() === "" ? "[]" : out) as T;
  }

  spawnIn(ns: string, cmd: string[], opts: { env?: Record<string, string> } = {}): SpawnedProcess {
    const child = Bun.spawn(["ip", "netns", "exec", ns, ...cmd], {
      stdout: "pipe", stderr: "pipe", stdin: "ignore",
      env: { ...process.env, ...opts.env },
    });
    let stdout = "", stderr = "";
    const pump = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) sink(dec.decode(chunk, { stream: true }));
    };
    void pump(child.stdout, (s) => { stdout += s; }).catch(() => {});
    void pump(child.stderr, (s) => { stderr += s; }).catch(() => {});
    const handle: SpawnedProcess = {
      pid: child.pid, ns,
      exited: child.exited.then((code) => { this.procs.delete(child.pid); return code; }),
      output: () => ({ stdout, stderr }),
      kill: (signal = "SIGTERM") => { try { child.kill(signal); } catch { /* already gone */ } },
    };
    this.procs.set(child.pid, handle);
    return handle;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    for (const p of this.procs.values()) p.kill("SIGKILL");
    await Promise.all([...this.procs.values()].map((p) => Promise.race([p.exited, Bun.sleep(2000)])));
    // Anything else still inside our namespaces (e.g. daemons that forked away) goes too.
    for (const ns of this.created) killNamespacePids(ns);
    for (const ns of this.created) {
      // A namespace whose deletion failed (a process that entered it meanwhile) gets a second try.
      for (let i = 0; i < 3 && existsSync(`/run/netns/${ns}`); i++) {
        if (i) { killNamespacePids(ns); await Bun.sleep(100); }
        await execHost(["ip", "netns", "del", ns]);
      }
    }
    this.created.clear();
    liveLabs.delete(this);
  }

  /** Exit-hook variant: no awaiting possible, so everything is synchronous. */
  cleanupSync(): void {
    for (const pid of this.procs.keys()) { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }
    for (const ns of this.created) {
      killNamespacePids(ns);
      Bun.spawnSync(["ip", "netns", "del", ns]);
    }
    this.created.clear();
  }
}

function checkIfname(name: string): void {
  if (name.length === 0 || name.length > 15) throw new Error(`interface name '${name}' must be 1..15 characters`);
}

function killNamespacePids(ns: string): void {
  const r = Bun.spawnSync(["ip", "netns", "pids", ns]);
  for (const line of decode(r.stdout).split("\n")) {
    const pid = Number(line.trim());
    if (pid > 1 && pid !== process.pid) { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }
  }
}

/** Removes namespaces of this prefix left behind by test processes that no longer exist. */
function sweepStale(prefix: string): void {
  if (!existsSync("/run/netns")) return;
  for (const name of readdirSync("/run/netns")) {
    if (!name.startsWith(prefix)) continue;
    const owner = parseInt(name.slice(prefix.length).split("-")[0] ?? "", 36);
    if (!Number.isFinite(owner) || owner === process.pid || existsSync(`/proc/${owner}`)) continue;
    killNamespacePids(name);
    Bun.spawnSync(["ip", "netns", "del", name]);
  }
}

async function execHost(cmd: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const child = Bun.spawn(cmd, {
    stdout: "pipe", stderr: "pipe",
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

async function runHost(cmd: string[]): Promise<string> {
  const r = await execHost(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  const kids = decode(Bun.spawnSync(["pgrep", "-P", String(pid)]).stdout).trim().split("\n").filter(Boolean).map(Number);
  return [pid, ...kids.flatMap(processTree)];
}

/**
 * A real crash of a process and its descendants: all stopped first, then killed, so none of them
 * notices the others dying and cleans up (a VRRP child would otherwise send a goodbye advert).
 */
export function crashProcessTree(pid: number): void {
  const pids = processTree(pid);
  for (const p of pids) { try { process.kill(p, "SIGSTOP"); } catch { /* gone */ } }
  for (const p of pids) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
}

/** Makes a lab whose namespaces start with `prefix` (your brief's unique prefix, e.g. "lbt-nl-"). */
export function createLab(prefix: string): Lab {
  if (!/^[a-z0-9-]+$/.test(prefix)) throw new Error(`lab prefix '${prefix}' must be lowercase letters, digits and '-'`);
  return new LabImpl(prefix);
}
