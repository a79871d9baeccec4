// Problems found while reading a configuration, each tied to a file position when there is one.
import type { SourceLoc } from "./tree.ts";

export type Severity = "error" | "warning";

export interface Diagnostic { severity: Severity; message: string; loc?: SourceLoc }

/**
 * Diagnostics listed per severity; beyond that they are counted and summed up in one last line (a file of
 * 50,000 instances with one mistake each would otherwise print millions of lines and hold them all).
 */
export const MAX_LISTED = 1_000;

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly counts = { error: 0, warning: 0 };
  private readonly unlisted = { error: 0, warning: 0 };

  error(message: string, loc?: SourceLoc): void { this.add("error", message, loc); }
  warning(message: string, loc?: SourceLoc): void { this.add("warning", message, loc); }

  private add(severity: Severity, message: string, loc?: SourceLoc): void {
    const n = ++this.counts[severity];
    if (n <= MAX_LISTED) {
      this.list.push({ severity, message, loc });
      return;
    }
    if (this.unlisted[severity]++ === 0) {
      const unlisted = this.unlisted;
      // One line that keeps counting; without a position, so it sorts apart from the listed ones.
      this.list.push({ severity, get message() { return `${unlisted[severity]} more ${severity}s not listed (the first ${MAX_LISTED} are)`; } });
    }
  }

  get hasErrors(): boolean { return this.counts.error > 0; }
  get errorCount(): number { return this.counts.error; }
  get warningCount(): number { return this.counts.warning; }
}

/** `FILE:LINE:COL: error|warning: message`, the format editors and CI annotators understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}: ` : "";
  return `${where}${d.severity}: ${d.message}`;
}

/** Stable order for output: by file, line, column, then insertion order. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const la = a.d.loc, lb = b.d.loc;
      if (la && lb) {
        if (la.file !== lb.file) return la.file < lb.file ? -1 : 1;
        if (la.line !== lb.line) return la.line - lb.line;
        if (la.col !== lb.col) return la.col - lb.col;
      } else if (la || lb) return la ? 1 : -1;
      return a.i - b.i;
    })
    .map((x) => x.d);
}
