// Child processes of the daemon are the same binary started with a hidden role argument,
// so a compiled lbctl needs nothing else on disk. Messages go over Bun's IPC channel as JSON.
import type { Subprocess } from "bun";

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
