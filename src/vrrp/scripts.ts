// Running vrrp_script checks and notify scripts without blocking the event loop (Bun.spawn), killed
// at their timeout, optionally as another user (script_user / enable_script_security).
// keepalived execs scripts itself after splitting the line into words (no shell), honouring quotes;
// we do the same, so "/bin/sh -c 'test -f /x'" works as it does there.
import type { UserIds } from "../util/users.ts";

/** uid/gid to run as (src/util/users.ts lookupUser resolves names). */
export type ScriptUser = UserIds;

export interface ScriptRun {
  /** Exit code; null when killed (timeout or signal). */
  code: number | null;
  timedOut: boolean;
  /** Set when the script could not be started at all (missing, not executable). */
  error?: string;
}

/** Splits a script line into argv as keepalived does: whitespace separates, quotes group, backslash escapes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** Runs argv with a deadline; never throws. */
export async function runScript(argv: readonly string[], opts: { timeoutMs?: number; user?: ScriptUser; env?: Record<string, string> } = {}): Promise<ScriptRun> {
  if (argv.length === 0) return { code: null, timedOut: false, error: "empty script command" };
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn([...argv], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      env: opts.env ? { ...process.env, ...opts.env } : undefined,
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
  } catch (e) {
    return { code: null, timedOut: false, error: `cannot run ${argv[0]}: ${(e as Error).message}` };
  }
  let timedOut = false;
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : null;
  try {
    await child.exited;
  } finally {
    if (timer) clearTimeout(timer);
  }
  return { code: child.signalCode ? null : child.exitCode, timedOut };
}
