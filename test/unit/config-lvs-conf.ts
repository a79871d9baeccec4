// Test helpers for the LVS specs: keepalived.conf text through the real lexer and the
// schema, to the effective model; TOML tables through the same schema.
import { Diagnostics, type Diagnostic } from "../../src/config/diagnostics.ts";
import { parseConfBlock, parseTomlBlock, withDefaults, type Model, type TomlCtx } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";
import { parseKeepalivedText } from "../../src/config/lexer.ts";
import type { SourceLoc } from "../../src/config/tree.ts";

export interface Parsed { model: Model; eff: Model; diag: Diagnostics; messages: string[] }

export function parseConf(text: string, file = "t.conf"): Parsed {
  const diag = new Diagnostics();
  const model = parseConfBlock(parseKeepalivedText(text, file, { diag }), rootSpec, { diag, where: "configuration" });
  const eff = withDefaults(model, rootSpec);
  return { model, eff, diag, messages: diag.list.map((d) => d.message) };
}

export const at = (line: number, col: number, file = "t.conf"): SourceLoc => ({ file, line, col });

/** A TOML context whose locator names the key path (positions are not under test there). */
export function tomlCtx(diag: Diagnostics): TomlCtx {
  return { diag, where: "configuration", path: [], locate: (p) => ({ file: "t.toml", line: p.length, col: 1 }) };
}

export function parseToml(table: Record<string, unknown>): { model: Model; diag: Diagnostics } {
  const diag = new Diagnostics();
  const model = parseTomlBlock(table, rootSpec, tomlCtx(diag));
  return { model, diag };
}

export function only(list: readonly Diagnostic[], severity: "error" | "warning"): string[] {
  return list.filter((d) => d.severity === severity).map((d) => d.message);
}
