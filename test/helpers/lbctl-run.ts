// Runs lbctl commands for the configuration tests: in-process (fast, for unit tests) or as
// a process (the compiled dist/lbctl when `make test` built it, else `bun src/cli/main.ts`).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export interface RunResult { code: number; stdout: string; stderr: string }

const ROOT = join(import.meta.dirname, "../..");

/** Runs `lbctl ARGV` in this process, capturing what it writes. */
export async function runInProcess(argv: string[]): Promise<RunResult> {
  let stdout = "", stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => { stdout += String(s); return true; });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => { stderr += String(s); return true; });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The command line that starts lbctl: the built binary when present. */
export function lbctlCommand(): string[] {
  const dist = join(ROOT, "dist/lbctl");
  if (existsSync(dist)) return [dist];
  return [join(ROOT, "node_modules/.bin/bun"), join(ROOT, "src/cli/main.ts")];
}
