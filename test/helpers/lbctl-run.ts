// Runs lbctl commands for the configuration tests: in-process (fast, for unit tests) or as
// a process (the compiled dist/lbctl, see lbctl-bin.ts).
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export interface RunResult { code: number; stdout: string; stderr: string }

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

export { lbctlCommand } from "./lbctl-bin.ts";
