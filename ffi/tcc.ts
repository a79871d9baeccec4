// C compiled at run time by Bun's built-in TinyCC (bun:ffi cc), for the few things JavaScript cannot
// do: a signal handler, a check engine on its own thread. TinyCC compiles from a file, so the source
// is written to a private directory that is removed right after.
import { cc, type FFIFunction, type Library } from "bun:ffi";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function compileC<Fns extends Record<string, FFIFunction>>(source: string, symbols: Fns): Library<Fns> {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-cc-"));
  try {
    const file = join(dir, "unit.c");
    const fd = openSync(file, "wx", 0o600);
    try { writeSync(fd, source); } finally { closeSync(fd); }
    return cc({ source: file, symbols });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
