// Test helpers for the LVS specs: a minimal keepalived.conf reader (words, quotes, braces,
// comments, positions) standing in for the real lexer, and the parse/effective pipeline.
import { Diagnostics, type Diagnostic } from "../../src/config/diagnostics.ts";
import { parseConfBlock, parseTomlBlock, withDefaults, type Model, type TomlCtx } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";
import type { ConfNode, SourceLoc } from "../../src/config/tree.ts";

interface Tok { text: string; loc: SourceLoc; quoted: boolean }

function tokenize(text: string, file: string): Tok[][] {
  const out: Tok[][] = [];
  text.split("\n").forEach((line, li) => {
    const toks: Tok[] = [];
    let i = 0;
    while (i < line.length) {
      const ch = line[i]!;
      if (ch === " " || ch === "\t" || ch === "\r") { i++; continue; }
      if (ch === "#" || ch === "!") break;
      const loc = { file, line: li + 1, col: i + 1 };
      if (ch === "{" || ch === "}") { toks.push({ text: ch, loc, quoted: false }); i++; continue; }
      if (ch === '"') {
        const end = line.indexOf('"', i + 1);
        const stop = end < 0 ? line.length : end;
        toks.push({ text: line.slice(i + 1, stop), loc, quoted: true });
        i = stop + 1;
        continue;
      }
      let j = i;
      while (j < line.length && !" \t\r{}#!\"".includes(line[j]!)) j++;
      toks.push({ text: line.slice(i, j), loc, quoted: false });
      i = j;
    }
    if (toks.length) out.push(toks);
  });
  return out;
}

export function confTree(text: string, file = "t.conf"): ConfNode[] {
  const lines = tokenize(text, file);
  const root: ConfNode[] = [];
  const stack: ConfNode[][] = [root];
  for (const toks of lines) {
    let words: Tok[] = [];
    const flush = (opens: boolean) => {
      if (words.length) {
        const [k, ...rest] = words;
        const node: ConfNode = { keyword: k!.text, args: rest.map((t) => t.text), argLocs: rest.map((t) => t.loc), loc: k!.loc };
        stack[stack.length - 1]!.push(node);
        if (opens) { node.children = []; stack.push(node.children); }
      }
      words = [];
    };
    for (const t of toks) {
      if (!t.quoted && t.text === "{") flush(true);
      else if (!t.quoted && t.text === "}") { flush(false); if (stack.length > 1) stack.pop(); }
      else words.push(t);
    }
    flush(false);
  }
  return root;
}

export interface Parsed { model: Model; eff: Model; diag: Diagnostics; messages: string[] }

export function parseConf(text: string, file = "t.conf"): Parsed {
  const diag = new Diagnostics();
  const model = parseConfBlock(confTree(text, file), rootSpec, { diag, where: "configuration" });
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
