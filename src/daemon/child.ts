// Child processes of the daemon are the same binary started with a hidden role argument,
// so a compiled lbctl needs nothing else on disk. Messages go over Bun's IPC channel as JSON.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Model } from "../config/schema.ts";

export type Role = "vrrp" | "check";

/** The hidden subcommand a child is started with: `lbctl __role vrrp ...`. */
export const ROLE_COMMAND = "__role";

/** The command line that re-runs this program, compiled or under `bun run`. */
export function selfCommand(): string[] {
  // A compiled binary's entry lives in Bun's embedded filesystem; then execPath is lbctl itself.
  const main = Bun.main;
  if (main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, main];
}

export interface ChildHandle {
  role: Role;
  pid: number;
  send(msg: unknown): boolean;
  kill(signal?: NodeJS.Signals | number): void;
  exited: Promise<number>;
}

export interface SpawnOptions {
  role: Role;
  args?: string[];
  onMessage(msg: unknown): void;
  env?: Record<string, string | undefined>;
}

export function spawnChild(opts: SpawnOptions): ChildHandle {
  let proc: Subprocess | undefined = undefined;
  proc = Bun.spawn({
    cmd: [...selfCommand(), ROLE_COMMAND, opts.role, ...(opts.args ?? [])],
    stdio: ["ignore", "inherit", "inherit"],
    serialization: "json",
    env: { ...process.env, ...opts.env },
    ipc(message) { opts.onMessage(message); },
  });
  const p = proc;
  return {
    role: opts.role,
    pid: p.pid,
    send(msg) {
      try { p.send(msg); return true; } catch { return false; }
    },
    kill(signal) { try { p.kill(signal); } catch { /* already gone */ } },
    exited: p.exited,
  };
}

/** In a child: the channel back to the supervisor. */
export function parentChannel(): { send(msg: unknown): void; onMessage(cb: (msg: unknown) => void): void } | undefined {
  if (typeof process.send !== "function") return undefined;
  const send = process.send.bind(process);
  return {
    send(msg) { try { send(msg); } catch { /* parent gone: the disconnect handler stops us */ } },
    onMessage(cb) { process.on("message", cb); },
  };
}

/**
 * Where the supervisor leaves each child's configuration; only the file's name goes over IPC.
 * The IPC channel is read a chunk per turn of the child's event loop, so a busy checker took
 * 1.3-1.7 s to receive the 16 MB of 37,000 real servers; one read of a file takes milliseconds.
 * The directory is private (0700) because a configuration holds passwords.
 */
export class ConfigDrop {
  private dir: string | null = null;
  private seq = 0;

  constructor(private readonly parent: string = tmpdir()) {}

  /** Writes `json` for `role` and returns the file's path; throws when it cannot be written. */
  put(role: Role, json: string): string {
    const file = join(this.directory(), `${role}-${++this.seq}.json`);
    writeFileSync(file, json, { mode: 0o600 });
    return file;
  }

  /** Removes the files left for `role` that its child will not read (it died first). */
  discard(role: Role): void {
    if (this.dir === null) return;
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return; }
    for (const n of names) if (n.startsWith(`${role}-`)) rmSync(join(this.dir, n), { force: true });
  }

  /** Removes the directory and whatever is left in it. */
  remove(): void {
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** The directory, made again when it is gone or no longer ours alone (a /tmp cleaner ran). */
  private directory(): string {
    if (this.dir !== null && isPrivateDir(this.dir)) return this.dir;
    this.dir = mkdtempSync(join(this.parent, "lbctl-config-"));
    return this.dir;
  }
}

function isPrivateDir(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** In a child: reads and removes the configuration file the supervisor left. */
export function takeConfigFile(file: string): { effective: Model } | { error: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return { error: `cannot read the configuration file ${file}: ${(e as Error).message}` };
  }
  rmSync(file, { force: true });
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return { effective: v as Model };
    return { error: `the configuration file ${file} does not hold a configuration object` };
  } catch (e) {
    return { error: `the configuration file ${file} is not valid JSON: ${(e as Error).message}` };
  }
}
