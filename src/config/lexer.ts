// keepalived.conf -> located keyword tree. The preprocessor (preprocess.ts) yields logical
// lines; here each is split into words and braces the way keepalived 2.2.7 does it, and the
// statements are nested into blocks.
//
// Words (keepalived's alloc_strvec): separated by blanks; "..." is one word with the quotes
// removed and nothing else changed (a '"' also ends an unquoted word: `"a b"c` is two words);
// '{' and '}' outside double quotes are always tokens of their own, glued or not; '\#' and
// '\!' stand for '#' and '!', while a bare '#' or '!' (only possible after substitution, e.g.
// ${_HASH}) ends the line. Other backslashes and single quotes are ordinary characters at
// this level: keepalived resolves them only when it splits a script command line, which
// `splitScriptWords(node.rawArgs)` does.
import { type Diagnostics } from "./diagnostics.ts";
import { type PreprocessOptions, Preprocessor } from "./preprocess.ts";
import { type SrcLine, colAt } from "./srcline.ts";
import type { ConfNode, SourceLoc } from "./tree.ts";
import { defaultConfigId, fsGlob, fsReadFile } from "./conf-files.ts";

/** No keyword argument, script or address needs more; a bound keeps a 50 MB router_id out of the model. */
export const MAX_WORD = 65_536;

/** A ConfNode that also keeps the text after its keyword, for keywords that take a command line. */
export interface LexedNode extends ConfNode {
  /** The statement after the keyword as written (quotes kept), after preprocessing. */
  rawArgs: string;
  children?: LexedNode[];
}

export type ParseOptions = PreprocessOptions;

export interface ParseFileOptions extends Omit<PreprocessOptions, "configId"> {
  /** undefined: the host name up to its first '.', as keepalived does; null: no config id. */
  configId?: string | null;
}

interface Frame { node: LexedNode | null; children: LexedNode[]; open: SourceLoc }

/** Builds the tree from logical lines, one line at a time. */
class TreeBuilder {
  readonly root: LexedNode[] = [];
  private readonly stack: Frame[] = [];
  private children: LexedNode[] = this.root;
  /** The statement that ended the previous line: a '{' on the next line opens its block. */
  private lastStatement: LexedNode | null = null;
  // Words of the statement being read and their offsets, reused from line to line.
  private readonly words: string[] = [];
  private readonly offs: number[] = [];

  constructor(private readonly diag: Diagnostics) {}

  line(l: SrcLine): void {
    const text = l.text;
    const n = text.length;
    const words = this.words;
    const offs = this.offs;
    words.length = 0;
    offs.length = 0;
    let stmtEnd = 0;
    let i = 0;
    while (i < n) {
      let c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 10) { i++; continue; }
      if (c === 123 /* { */ || c === 125 /* } */) {
        const node = words.length > 0 ? this.statement(l, stmtEnd) : null;
        words.length = 0;
        offs.length = 0;
        if (c === 123) this.open(l, i, node);
        else this.close(l, i);
        i++;
        continue;
      }
      if (c === 35 /* # */ || c === 33 /* ! */) break;
      const start = i;
      let word: string;
      if (c === 34 /* " */) {
        let j = i + 1;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 34) break;
          j += d === 92 /* \ */ ? 2 : 1;
        }
        if (j >= n) {
          this.diag.error("unterminated quoted string", this.loc(l, i));
          word = text.slice(i + 1);
          i = n;
        } else {
          word = text.slice(i + 1, j);
          i = j + 1;
        }
      } else {
        let escaped = false;
        while (i < n) {
          c = text.charCodeAt(i);
          if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 10 || c === 34 || c === 123 || c === 125 || c === 35 || c === 33) break;
          if (c === 92 && i + 1 < n) {
            const d = text.charCodeAt(i + 1);
            if (d === 35 || d === 33) { escaped = true; i += 2; continue; }
          }
          i++;
        }
        word = text.slice(start, i);
        if (escaped) word = word.replace(/\\([#!])/g, "$1");
        if (i === n && word.endsWith("\\") && !word.endsWith("\\\\")) {
          this.diag.warning("a trailing '\\' does not continue the line in keepalived (only inside $NAME= definitions); it stays part of the word", this.loc(l, i - 1));
        }
      }
      if (word.length > MAX_WORD) {
        this.diag.error(`word of ${word.length} characters, more than ${MAX_WORD}`, this.loc(l, start));
        word = word.slice(0, MAX_WORD);
      }
      words.push(word);
      offs.push(start);
      stmtEnd = i;
    }
    this.lastStatement = words.length > 0 ? this.statement(l, stmtEnd) : null;
  }

  private loc(l: SrcLine, off: number): SourceLoc {
    return { file: l.file, line: l.line, col: l.segs === null ? l.base + off : colAt(l, off) };
  }

  private statement(l: SrcLine, end: number): LexedNode {
    const words = this.words;
    const offs = this.offs;
    const argLocs: SourceLoc[] = [];
    for (let k = 1; k < words.length; k++) argLocs.push(this.loc(l, offs[k]));
    const node: LexedNode = {
      keyword: words[0],
      args: words.length === 1 ? [] : words.slice(1),
      argLocs,
      loc: this.loc(l, offs[0]),
      rawArgs: words.length === 1 ? "" : l.text.slice(offs[1], end),
    };
    this.children.push(node);
    return node;
  }

  /** '{': opens the block of the statement just before it (same line or the previous line). */
  private open(l: SrcLine, off: number, node: LexedNode | null): void {
    const opener = node ?? this.lastStatement;
    this.lastStatement = null;
    const at = this.loc(l, off);
    if (opener === null) {
      this.diag.error("unexpected '{' with no statement before it", at);
      // Its contents stay in the enclosing block; its '}' must still match.
      this.stack.push({ node: null, children: this.children, open: at });
      return;
    }
    if (opener.children !== undefined) {
      this.diag.error(`'${opener.keyword}' already has a block`, at);
    }
    opener.children = [];
    this.stack.push({ node: opener, children: this.children, open: at });
    this.children = opener.children;
  }

  private close(l: SrcLine, off: number): void {
    this.lastStatement = null;
    const at = this.loc(l, off);
    const frame = this.stack.pop();
    if (frame === undefined) { this.diag.error("unexpected '}' with no open block", at); return; }
    this.children = frame.children;
    if (frame.node !== null) frame.node.endLoc = at;
  }

  finish(): LexedNode[] {
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const f = this.stack[k];
      const what = f.node ? `'${f.node.keyword}' block` : "block";
      this.diag.error(`missing '}': the ${what} opened here is never closed`, f.open);
    }
    this.stack.length = 0;
    return this.root;
  }
}

/** Parse configuration text as if it were the file `fileName` (includes go through opts.readFile/opts.glob). */
export function parseKeepalivedText(text: string, fileName: string, opts: ParseOptions): LexedNode[] {
  const tree = new TreeBuilder(opts.diag);
  new Preprocessor(opts, (l) => tree.line(l)).runText(text, fileName);
  return tree.finish();
}

/** Parse a keepalived.conf file and everything it includes; files come from the real filesystem unless injected. */
export function parseKeepalivedConf(path: string, opts: ParseFileOptions): LexedNode[] {
  const { configId, ...rest } = opts;
  const full: ParseOptions = {
    readFile: fsReadFile,
    glob: fsGlob,
    cwd: process.cwd(),
    random: Math.random,
    ...rest,
    configId: configId === undefined ? defaultConfigId() : configId ?? undefined,
  };
  const tree = new TreeBuilder(opts.diag);
  new Preprocessor(full, (l) => tree.line(l)).runFile(path);
  return tree.finish();
}

/**
 * Split a script command line the way keepalived does (alloc_strvec_quoted_escaped):
 * blanks separate words, "..." and '...' group (quotes removed, adjacent parts joined),
 * and backslash escapes \a \b \E \f \n \r \t \v \nnn \xXX \cC and \C are resolved.
 * Returns undefined when a quote is not closed.
 */
export function splitScriptWords(text: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /[ \t\f\n\r\v]/.test(text[i])) i++;
    if (i >= n) break;
    let word = "";
    let quote = "";
    while (i < n) {
      const c = text[i];
      if (c === "\\") {
        const e = unescape(text, i + 1);
        word += e.ch;
        i = e.end;
        continue;
      }
      if (quote) {
        if (c === quote) quote = "";
        else word += c;
        i++;
        continue;
      }
      if (c === "\"" || c === "'") { quote = c; i++; continue; }
      if (/[ \t\f\n\r\v]/.test(c)) break;
      word += c;
      i++;
    }
    if (quote) return undefined;
    words.push(word);
  }
  return words;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", E: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

function unescape(s: string, i: number): { ch: string; end: number } {
  if (i >= s.length) return { ch: "", end: i };
  const c = s[i];
  if (c === "x" && /[0-9a-fA-F]/.test(s[i + 1] ?? "")) {
    let j = i + 1;
    let v = 0;
    while (j < s.length && /[0-9a-fA-F]/.test(s[j])) { v = (v * 16 + parseInt(s[j], 16)) & 0xff; j++; }
    return { ch: String.fromCharCode(v), end: j };
  }
  if (c === "c" && i + 1 < s.length) return { ch: String.fromCharCode(s.charCodeAt(i + 1) & 0x1f), end: i + 2 };
  if (c >= "0" && c <= "7") {
    let j = i;
    let v = 0;
    while (j < s.length && j < i + 3 && s[j] >= "0" && s[j] <= "7") { v = v * 8 + (s.charCodeAt(j) - 48); j++; }
    return { ch: String.fromCharCode(v & 0xff), end: j };
  }
  return { ch: SIMPLE_ESCAPES[c] ?? c, end: i + 1 };
}
