// Child processes of the daemon are the same binary started with a hidden role argument,
// so a compiled lbctl needs nothing else on disk. Messages go over Bun's IPC channel as JSON.
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Subprocess } from "bun";
import type { Model } from "../config/schema.ts";
import { isCompiled } from "../version.ts";

export type Role = "vrrp" | "check";

/** The hidden subcommand a child is started with: `lbctl __role vrrp ...`. */
export const ROLE_COMMAND = "__role";

/** The command line that re-runs this program, compiled or under `bun run`. */
export function selfCommand(): string[] {
  // A compiled binary is lbctl itself; from source, Bun runs the entry script.
  return isCompiled() ? [process.execPath] : [process.execPath, Bun.main];
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
 * Configurations reach a child as a file, and only the file's name goes over IPC: the IPC
 * channel is read a chunk per turn of the child's event loop, so a busy checker took 1.3-1.7 s
 * to receive the 16 MB of 37,000 real servers; one read of a file takes milliseconds. Each file
 * has a private directory of its own (0700: a configuration holds passwords), which the child
 * removes with the file once read, so even a crash leaves only the files in flight behind.
 */
export function putConfigFile(role: Role, json: string, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, CONFIG_DIR_PREFIX));
  const file = join(dir, `${role}.json`);
  try {
    writeFileSync(file, json, { mode: 0o600 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return file;
}

const CONFIG_DIR_PREFIX = "lbctl-config-";

/** Removes a configuration file and its directory; nothing when they are already gone. */
export function discardConfigFile(file: string): void {
  // Only what putConfigFile made: a name that came over IPC must never remove anything else.
  if (!isConfigFilePath(file)) return;
  rmSync(file, { force: true });
  try { rmdirSync(dirname(file)); } catch { /* gone already */ }
}

function isConfigFilePath(file: string): boolean {
  return basename(dirname(file)).startsWith(CONFIG_DIR_PREFIX) && /^[a-z]+\.json$/.test(basename(file));
}

/** In a child: reads the configuration file the supervisor left, and removes it. */
export function takeConfigFile(file: string): { effective: Model } | { error: string } {
  if (!isConfigFilePath(file)) return { error: `'${file}' is not a configuration file of the supervisor` };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return { error: `cannot read the configuration file ${file}: ${(e as Error).message}` };
  }
  discardConfigFile(file);
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return { effective: v as Model };
    return { error: `the configuration file ${file} does not hold a configuration object` };
  } catch (e) {
    return { error: `the configuration file ${file} is not valid JSON: ${(e as Error).message}` };
  }
}
