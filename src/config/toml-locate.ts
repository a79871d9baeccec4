// Where was a TOML key written? smol-toml gives values without positions, so this scans
// the text once and records the position of every key path it defines: table headers
// (`[a.b]`, `[[a]]` counted per array), dotted keys, inline tables and array elements
// (each element of a multi-line array on its own line). Semantic errors found later on the
// parsed value can then point at file:line:col.
//
// The scanner assumes the text already parsed (smol-toml ran first); on text it cannot
// follow it stops recording, and unknown paths fall back to their nearest known parent.
import type { TomlLocator } from "./schema.ts";
import type { SourceLoc } from "./tree.ts";

type Path = (string | number)[];
const keyOf = (p: readonly (string | number)[]): string => JSON.stringify(p);

const BARE_KEY = /[A-Za-z0-9_-]/;

class Scanner {
  pos = 0;
  private readonly lineStarts: number[] = [0];
  constructor(readonly text: string, readonly file: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
  }
  loc(pos = this.pos): SourceLoc {
    // Binary search for the line holding `pos`.
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid; else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: pos - this.lineStarts[lo]! + 1 };
  }
  peek(n = 0): string { return this.text[this.pos + n] ?? ""; }
  startsWith(s: string): boolean { return this.text.startsWith(s, this.pos); }
  eof(): boolean { return this.pos >= this.text.length; }
  /** Spaces and tabs only. */
  skipBlank(): void { while (this.peek() === " " || this.peek() === "\t") this.pos++; }
  /** Blanks, newlines and comments. */
  skipAll(): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r" || c === "\n") this.pos++;
      else if (c === "#") this.skipComment();
      else return;
    }
  }
  skipComment(): void { while (!this.eof() && this.peek() !== "\n") this.pos++; }
  skipLine(): void { this.skipComment(); if (!this.eof()) this.pos++; }
}

class LocateError extends Error {}

/** Builds a locator for one TOML document. */
export function tomlLocator(text: string, file: string): TomlLocator {
  const found = new Map<string, SourceLoc>();
  const arrayCounts = new Map<string, number>();
  const s = new Scanner(text, file);
  const record = (p: Path, loc: SourceLoc): void => { const k = keyOf(p); if (!found.has(k)) found.set(k, loc); };

  function readString(): string {
    const q = s.peek();
    const triple = s.startsWith(q.repeat(3));
    const start = s.pos;
    if (triple) {
      s.pos += 3;
      const end = s.text.indexOf(q.repeat(3), s.pos);
      if (end < 0) throw new LocateError();
      s.pos = end + 3;
      // A closing delimiter may be followed by up to two more quotes that belong to the content.
      while (s.peek() === q) s.pos++;
      return s.text.slice(start + 3, s.pos - 3);
    }
    s.pos++;
    while (!s.eof() && s.peek() !== q && s.peek() !== "\n") s.pos += q === '"' && s.peek() === "\\" ? 2 : 1;
    if (s.peek() !== q) throw new LocateError();
    s.pos++;
    const raw = s.text.slice(start, s.pos);
    if (q === "'") return raw.slice(1, -1);
    try { return JSON.parse(raw.replace(/\\U([0-9a-fA-F]{8})/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/\\e/g, "\\u001b")) as string; }
    catch { return raw.slice(1, -1); }
  }

  /** A dotted key; returns each segment with its position. */
  function readKey(): { parts: string[]; locs: SourceLoc[] } {
    const parts: string[] = [], locs: SourceLoc[] = [];
    for (;;) {
      s.skipBlank();
      locs.push(s.loc());
      const c = s.peek();
      if (c === '"' || c === "'") parts.push(readString());
      else {
        const start = s.pos;
        while (BARE_KEY.test(s.peek())) s.pos++;
        if (s.pos === start) throw new LocateError();
        parts.push(s.text.slice(start, s.pos));
      }
      s.skipBlank();
      if (s.peek() !== ".") return { parts, locs };
      s.pos++;
    }
  }

  function readValue(path: Path): void {
    const c = s.peek();
    if (c === "{") {
      s.pos++;
      for (;;) {
        s.skipAll();
        if (s.peek() === "}") { s.pos++; return; }
        if (s.peek() === ",") { s.pos++; continue; }
        keyValue(path);
      }
    }
    if (c === "[") {
      s.pos++;
      for (let i = 0; ; i++) {
        s.skipAll();
        if (s.peek() === "]") { s.pos++; return; }
        record([...path, i], s.loc());
        readValue([...path, i]);
        s.skipAll();
        if (s.peek() === ",") s.pos++;
      }
    }
    if (c === '"' || c === "'") { readString(); return; }
    // Numbers, booleans, dates: up to the next delimiter.
    const start = s.pos;
    while (!s.eof() && !",]}\n#".includes(s.peek())) s.pos++;
    if (s.pos === start) throw new LocateError();
  }

  function keyValue(table: Path): void {
    const { parts, locs } = readKey();
    const p: Path = [...table];
    parts.forEach((part, i) => { p.push(part); record(p, locs[i]!); });
    if (s.peek() !== "=") throw new LocateError();
    s.pos++;
    s.skipBlank();
    readValue(p);
  }

  /** Resolves a header's segments, stepping into the latest element of arrays of tables. */
  function resolveHeader(parts: string[], locs: SourceLoc[], isArray: boolean, at: SourceLoc): Path {
    const p: Path = [];
    parts.forEach((part, i) => {
      p.push(part);
      record(p, locs[i]!);
      const last = i === parts.length - 1;
      const k = keyOf(p);
      if (last && isArray) {
        const n = arrayCounts.get(k) ?? 0;
        arrayCounts.set(k, n + 1);
        p.push(n);
        record(p, at);
      } else if (arrayCounts.has(k)) {
        p.push(arrayCounts.get(k)! - 1);
      }
    });
    if (!isArray) record(p, at);
    return p;
  }

  let table: Path = [];
  try {
    for (;;) {
      s.skipAll();
      if (s.eof()) break;
      if (s.peek() === "[") {
        const at = s.loc();
        const isArray = s.startsWith("[[");
        s.pos += isArray ? 2 : 1;
        const { parts, locs } = readKey();
        s.pos += isArray ? 2 : 1;
        table = resolveHeader(parts, locs, isArray, at);
        s.skipLine();
        continue;
      }
      keyValue(table);
      s.skipLine();
    }
  } catch (e) {
    if (!(e instanceof LocateError)) throw e;
  }

  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const hit = found.get(keyOf(path.slice(0, n)));
      if (hit) return hit;
    }
    return { file, line: 1, col: 1 };
  };
}
