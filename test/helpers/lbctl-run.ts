// Runs lbctl commands for the configuration tests: in-process (fast, for unit tests) or as
// a process (the compiled dist/lbctl when `make test` built it, else `bun src/cli/main.ts`).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export interface RunResult { code: number; stdout: string; stderr: string }

const ROOT = join(import.meta.dirname, "../..");

/** Runs `lbctl ARGV` in this process, capturing what it writes. */
export async function runInProcess(argv: string[]): Promise<RunResult> {
  let stdout = "", stderr = "";
  // Like a real stream, call the write's completion callback (commands wait for it).
  const capture = (add: (s: string) => void) => (s: string | Uint8Array, ...rest: unknown[]) => {
    add(String(s));
    const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    done?.();
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(capture((s) => { stdout += s; }));
  const err = vi.spyOn(process.stderr, "write").mockImplementation(capture((s) => { stderr += s; }));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The command line that starts lbctl: the built binary (`make test` builds it first), unless
 * it is older than the sources, which happens when vitest is run by hand after an edit.
 */
export function lbctlCommand(): string[] {
  const dist = join(ROOT, "dist/lbctl");
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestSource(join(ROOT, "src"))) return [dist];
  return [join(ROOT, "node_modules/.bin/bun"), join(ROOT, "src/cli/main.ts")];
}
