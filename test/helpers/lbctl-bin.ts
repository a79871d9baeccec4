// How tests run the CLI: the compiled binary that `make test` builds, else Bun on the sources.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "dist/lbctl");

export function lbctlCommand(): string[] {
  if (existsSync(bin) && statSync(bin).mode & 0o111) return [bin];
  return [join(root, "node_modules/.bin/bun"), join(root, "src/cli/main.ts")];
}
