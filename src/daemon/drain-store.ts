// Drained real servers, kept in a small JSON file (default /run/lbctl/drains.json) so a drain
// survives reloads and daemon restarts until someone undrains it. /run is a tmpfs: a reboot
// forgets drains, which is what an operator expects of a maintenance mark.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const DEFAULT_DRAIN_FILE = "/run/lbctl/drains.json";

export interface DrainEntry { vs: string; rs: string; at: number }

interface DrainFile { version: 1; drains: DrainEntry[] }

/** Pure: the entries in a file's text, or why it cannot be read. */
export function parseDrainFile(text: string): { drains: DrainEntry[] } | { error: string } {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return { error: `not JSON: ${e instanceof Error ? e.message : String(e)}` }; }
  const o = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  if (!o || o.version !== 1 || !Array.isArray(o.drains)) return { error: "expected {\"version\":1,\"drains\":[...]}" };
  const drains: DrainEntry[] = [];
  for (const d of o.drains) {
    const e = typeof d === "object" && d !== null ? (d as Record<string, unknown>) : {};
    if (typeof e.vs !== "string" || typeof e.rs !== "string") return { error: "each drain needs string vs and rs" };
    drains.push({ vs: e.vs, rs: e.rs, at: typeof e.at === "number" ? e.at : 0 });
  }
  return { drains };
}

export function formatDrainFile(drains: readonly DrainEntry[]): string {
  return JSON.stringify({ version: 1, drains: [...drains] } satisfies DrainFile, null, 2) + "\n";
}

export class DrainStore {
  private drains: DrainEntry[] = [];

  /** `path` null keeps drains in memory only (tests, or a daemon told not to persist). */
  constructor(private readonly path: string | null) {}

  /** Reads the file; a missing file is an empty store, an unreadable one is reported and ignored. */
  load(): { ok: true } | { ok: false; error: string } {
    if (this.path === null) return { ok: true };
    let text: string;
    try { text = readFileSync(this.path, "utf8"); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") { this.drains = []; return { ok: true }; }
      return { ok: false, error: `${this.path}: ${(e as Error).message}` };
    }
    const r = parseDrainFile(text);
    if ("error" in r) return { ok: false, error: `${this.path}: ${r.error}` };
    this.drains = r.drains;
    return { ok: true };
  }

  list(): DrainEntry[] { return this.drains.map((d) => ({ ...d })); }

  has(vs: string, rs: string): boolean { return this.drains.some((d) => d.vs === vs && d.rs === rs); }

  /** Marks vs/rs drained and saves; returns an error message if the file could not be written. */
  add(vs: string, rs: string, at: number): string | null {
    if (this.has(vs, rs)) return null;
    return this.replace([...this.drains, { vs, rs, at }]);
  }

  remove(vs: string, rs: string): string | null {
    if (!this.has(vs, rs)) return null;
    return this.replace(this.drains.filter((d) => !(d.vs === vs && d.rs === rs)));
  }

  private replace(next: DrainEntry[]): string | null {
    if (this.path !== null) {
      // Write then rename, so a crash mid-write never leaves a half file behind.
      const tmp = `${this.path}.tmp`;
      try {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        writeFileSync(tmp, formatDrainFile(next), { mode: 0o600 });
        renameSync(tmp, this.path);
      } catch (e) {
        return `cannot save drains to ${this.path}: ${(e as Error).message}`;
      }
    }
    this.drains = next;
    return null;
  }
}
