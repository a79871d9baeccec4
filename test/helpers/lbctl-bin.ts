// How tests run lbctl: the compiled dist/lbctl that `make test` builds, the artifact users get.
// Running the sources instead would hide what only breaks in the binary (embedded workers, paths).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "dist/lbctl");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/lbctl; throws when it is missing or older than the sources (run `make build`). */
export function distBinary(): string {
  if (!existsSync(bin) || !(statSync(bin).mode & 0o111)) throw new Error(`${bin} is missing: run \`make build\` (make test does)`);
  const newest = Math.max(newestSource(join(root, "src")), newestSource(join(root, "ffi")));
  if (statSync(bin).mtimeMs < newest) throw new Error(`${bin} is older than the sources: run \`make build\` (make test does)`);
  return bin;
}

/** The command line that starts lbctl. */
export function lbctlCommand(): string[] {
  return [distBinary()];
}
