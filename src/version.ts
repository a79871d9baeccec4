// What this lbctl is: the version (package.json), and for a built binary the git revision and build
// date that `make build` defines (bun build --define). The date is SOURCE_DATE_EPOCH, by default the
// commit's time, so the same inputs give the same binary.
import pkg from "../package.json" with { type: "json" };

declare const LBCTL_REVISION: string | undefined;
declare const LBCTL_BUILD_DATE: string | undefined;

export const VERSION: string = pkg.version;

/** Git revision the binary was built from ("abc1234", "-dirty" if the tree had changes); undefined from source. */
export const REVISION: string | undefined = typeof LBCTL_REVISION === "string" ? LBCTL_REVISION : undefined;
/** Build date (ISO 8601, UTC); undefined from source. */
export const BUILD_DATE: string | undefined = typeof LBCTL_BUILD_DATE === "string" ? LBCTL_BUILD_DATE : undefined;

/** True in a `bun build --compile` binary: its entry point lives in Bun's embedded filesystem. */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
}

/** The `lbctl --version` line. */
export function versionLine(): string {
  if (REVISION === undefined) return `lbctl ${VERSION} (from source)`;
  return `lbctl ${VERSION} (revision ${REVISION}, built ${BUILD_DATE ?? "unknown"})`;
}
