// Problems found while reading a configuration, each tied to a file position when there is one.
import type { SourceLoc } from "./tree.ts";

export type Severity = "error" | "warning";

export interface Diagnostic { severity: Severity; message: string; loc?: SourceLoc }

export class Diagnostics {
  readonly list: Diagnostic[] = [];

  error(message: string, loc?: SourceLoc): void { this.list.push({ severity: "error", message, loc }); }
  warning(message: string, loc?: SourceLoc): void { this.list.push({ severity: "warning", message, loc }); }

  get hasErrors(): boolean { return this.list.some((d) => d.severity === "error"); }
  get errorCount(): number { return this.list.filter((d) => d.severity === "error").length; }
  get warningCount(): number { return this.list.filter((d) => d.severity === "warning").length; }
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
