// keepalived.conf preprocessing, following keepalived 2.2.7's read_line() (lib/parser.c):
// files and includes -> logical lines -> `@id` conditions, `$NAME=value` definitions
// (also multi-line ones), `~SEQ`/`~SEQx`/`~LST` line expansion and `$NAME`/`${NAME}`
// substitution. Each surviving line is handed to `emit` with its source location map.
// Pure: files, globbing, the config id and randomness all come in through options.
import { dirname, isAbsolute, join, normalize } from "node:path";
import type { Diagnostics } from "./diagnostics.ts";
import type { SourceLoc } from "./tree.ts";
import { decomment } from "./decomment.ts";
import { type SrcLine, dropPrefix, locAt, splice } from "./srcline.ts";

export interface PreprocessOptions {
  diag: Diagnostics;
  /** `-i/--config-id`; undefined means none: every `@id` line is skipped, every `@^id` line kept. */
  configId?: string;
  /** Reads a whole file (UTF-8); throws when it cannot. Needed only for `include`. */
  readFile?: (path: string) => string;
  /** Expands an include pattern (csh braces, `*?[]`) relative to `baseDir`, sorted; [] when nothing matches. */
  glob?: (pattern: string, baseDir: string) => string[];
  /** Directory relative file names are taken from (for `${_PWD}` and include loop detection). */
  cwd?: string;
  /** Uniform [0, 1) source for `${_RANDOM}`; a fixed-seed generator when absent. */
  random?: () => number;
  limits?: Partial<PreprocessLimits>;
}

export interface PreprocessLimits {
  includeDepth: number;      // nested include files
  expansionDepth: number;    // nested multi-line definitions / ~SEQ / ~LST
  substitutions: number;     // $NAME replacements on one line (catches $A=$A)
  lineLength: number;        // characters on one line after substitution
  totalLines: number;        // logical lines produced overall (catches runaway ~SEQ)
  includedFiles: number;     // files read by include overall (catches include fan-out: a*b*c*...)
}

const DEFAULT_LIMITS: PreprocessLimits = {
  includeDepth: 32,
  expansionDepth: 64,
  substitutions: 1_000,
  lineLength: 1 << 20,
  totalLines: 10_000_000,
  includedFiles: 10_000,
};

/** keepalived's include keyword and its 2.2.7 variants with stricter checks. */
const INCLUDE_KEYWORDS = new Set(["include", "includer", "includem", "includew", "includeb", "includea", "includet"]);

interface Definition {
  /** Plain definitions: the value. Multi-line ones: the first line of the value. */
  value: string;
  /** Multi-line definitions: the first line of the value and the ones after it, located where they were written. */
  first: SrcLine | null;
  more: SrcLine[] | null;
  /** Built-in definitions computed on use (`${_PWD}`, `${_RANDOM 1 10}`...). */
  fn?: (line: SrcLine, params: number[]) => string;
  maxParams: number;
}

/** A stream of logical lines: a file, or the remaining lines of a multi-line definition. */
interface LineSource {
  next(): SrcLine | undefined;
}

class Abort extends Error {}

function isNameStart(c: number): boolean { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; }
function isNameChar(c: number): boolean { return isNameStart(c) || (c >= 48 && c <= 57); }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isBlank(c: number): boolean { return c === 32 || c === 9; }

/** strtol(s + i, &end, 0): sign, 0x hex, leading-0 octal or decimal; `end === i` when no digits. */
export function parseCLong(s: string, i: number): { value: number; end: number } {
  let p = i;
  while (p < s.length && isBlank(s.charCodeAt(p))) p++;
  let sign = 1;
  if (s[p] === "+" || s[p] === "-") { if (s[p] === "-") sign = -1; p++; }
  let base = 10;
  if (s[p] === "0" && (s[p + 1] === "x" || s[p + 1] === "X") && /[0-9a-fA-F]/.test(s[p + 2] ?? "")) { base = 16; p += 2; }
  else if (s[p] === "0") base = 8;
  const start = p;
  let value = 0;
  for (; p < s.length; p++) {
    const d = parseInt(s[p], base);
    if (Number.isNaN(d)) break;
    value = value * base + d;
  }
  if (p === start) return { value: 0, end: i };
  return { value: sign * value, end: p };
}

/** Small deterministic generator so `${_RANDOM}` stays reproducible when no source is injected. */
function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export class Preprocessor {
  private readonly diag: Diagnostics;
  private readonly limits: PreprocessLimits;
  private readonly defs = new Map<string, Definition>();
  private readonly includeStack: string[] = [];   // resolved paths of the files being read
  private readonly fileStack: string[] = [];      // display names of the files being read
  private depth = 0;
  private emitted = 0;
  private included = 0;

  constructor(private readonly opts: PreprocessOptions, private readonly emit: (line: SrcLine) => void) {
    this.diag = opts.diag;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const random = opts.random ?? seededRandom(1);
    this.builtin("_PWD", 0, (line) => dirname(this.resolve(this.currentFile() ?? line.file)));
    this.builtin("_INSTANCE", 0, () => opts.configId ?? "");
    this.builtin("_HASH", 0, () => "#");
    this.builtin("_BANG", 0, () => "!");
    this.builtin("_RANDOM", 2, (_line, params) => {
      const min = params.length > 0 ? params[0] : 0;
      const max = params.length > 1 ? params[1] : 32767;
      return String(min + Math.floor(random() * (Math.max(max, min) - min + 1)));
    });
  }

  /** Preprocess `text` as the contents of `file`. */
  runText(text: string, file: string): void {
    this.guarded(() => this.runFileText(text, file, this.resolve(file)));
  }

  /** Preprocess the file at `path` (read through `readFile`). */
  runFile(path: string): void {
    this.guarded(() => {
      const text = this.read(path, undefined, true);
      if (text !== undefined) this.runFileText(text, path, this.resolve(path));
    });
  }

  private guarded(body: () => void): void {
    try { body(); } catch (e) { if (!(e instanceof Abort)) throw e; }
  }

  private fail(message: string, loc?: SourceLoc): never {
    this.diag.error(message, loc);
    throw new Abort(message);
  }

  private builtin(name: string, maxParams: number, fn: (line: SrcLine, params: number[]) => string): void {
    this.defs.set(name, { value: "", first: null, more: null, fn, maxParams });
  }

  private currentFile(): string | undefined { return this.fileStack[this.fileStack.length - 1]; }

  private resolve(p: string): string {
    return isAbsolute(p) ? normalize(p) : join(this.opts.cwd ?? "/", p);
  }

  private read(path: string, at: SourceLoc | undefined, required: boolean): string | undefined {
    const readFile = this.opts.readFile;
    if (!readFile) { this.diag.error(`cannot read '${path}': no file access configured`, at); return undefined; }
    try {
      return readFile(path);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (required) this.diag.error(`cannot read configuration file '${path}': ${why}`, at);
      else this.diag.warning(`cannot read included file '${path}': ${why}`, at);
      return undefined;
    }
  }

  private runFileText(text: string, file: string, resolved: string): void {
    if (text.charCodeAt(0) === 0xfeff) {
      this.diag.warning("byte-order mark at the start of the file ignored (keepalived would read it as part of the first word)", { file, line: 1, col: 1 });
      text = text.slice(1);
    }
    this.includeStack.push(resolved);
    this.fileStack.push(file);
    try {
      this.runSource(this.fileSource(text, file));
    } finally {
      this.includeStack.pop();
      this.fileStack.pop();
    }
  }

  private fileSource(text: string, file: string): LineSource {
    // Line by line in place: a 37,000-real-server file is 355,000 lines, and copying each
    // before decommenting it was a large part of the load.
    let pos = 0;
    let line = 0;
    return {
      next(): SrcLine | undefined {
        if (pos >= text.length) return undefined;
        const nl = text.indexOf("\n", pos);
        const start = pos;
        let end = nl < 0 ? text.length : nl;
        pos = end + 1;
        line++;
        while (end > start && text.charCodeAt(end - 1) === 13) end--;
        const d = decomment(text, start, end);
        return { text: d.text, file, line, base: d.lead + 1, segs: null };
      },
    };
  }

  private runSource(src: LineSource): void {
    for (let l = src.next(); l !== undefined; l = src.next()) {
      if (l.text.length > 0) this.processLine(l, src);
    }
  }

  private nested(at: SourceLoc, body: () => void): void {
    if (this.depth >= this.limits.expansionDepth) {
      this.fail(`expansion nested more than ${this.limits.expansionDepth} deep (recursive definition?)`, at);
    }
    this.depth++;
    try { body(); } finally { this.depth--; }
  }

  private processLine(l: SrcLine, src: LineSource): void {
    const pending: SrcLine[][] = [];   // remaining lines of multi-line definitions used on this line
    let rounds = 0;
    for (;;) {
      if (++rounds > this.limits.substitutions) this.fail("parameter substitution does not terminate (recursive definition?)", locAt(l, 0));
      const text = l.text;
      const c0 = text.charCodeAt(0);
      if (c0 === 64 /* @ */) {
        const cond = this.conditional(l);
        if (cond === undefined) return;
        l = cond;
        continue;
      }
      if (c0 === 36 /* $ */ && this.definition(l, src)) return;
      if (c0 === 126 /* ~ */) {
        if (text.startsWith("~SEQ")) { this.sequence(l, src); return; }
        if (text.startsWith("~LST")) { this.list(l, src); return; }
        break;
      }
      if (text.indexOf("$") < 0) break;
      const replaced = this.substitute(l, pending);
      if (replaced === l) break;
      l = replaced;
      if (l.text.length === 0) break;
      const c = l.text.charCodeAt(0);
      if (c !== 64 && c !== 126 && l.text.indexOf("$") < 0) break;
    }
    if (l.text.length > 0 && !this.include(l)) {
      if (++this.emitted > this.limits.totalLines) {
        this.fail(`configuration expands to more than ${this.limits.totalLines} lines`, locAt(l, 0));
      }
      this.emit(l);
    }
    // Remaining lines of multi-line definitions, the most recently started first (keepalived's multiline stack).
    for (let i = pending.length - 1; i >= 0; i--) {
      const lines = pending[i];
      this.nested(locAt(l, 0), () => {
        let k = 0;
        this.runSource({ next: () => (k < lines.length ? lines[k++] : undefined) });
      });
    }
  }

  /** `@id rest` / `@^id rest`: the line without the condition, or undefined when it is skipped. */
  private conditional(l: SrcLine): SrcLine | undefined {
    const text = l.text;
    const negate = text.charCodeAt(1) === 94; /* ^ */
    const idStart = negate ? 2 : 1;
    let sp = idStart;
    while (sp < text.length && !isBlank(text.charCodeAt(sp))) sp++;
    if (sp >= text.length) return undefined;   // nothing after the id
    const id = text.slice(idStart, sp);
    const matches = this.opts.configId !== undefined && id === this.opts.configId;
    if (matches === negate) return undefined;
    while (sp < text.length && isBlank(text.charCodeAt(sp))) sp++;
    return dropPrefix(l, sp);
  }

  /** `$NAME=value` (no blank before '='); a trailing '\\' continues the value on following lines. */
  private definition(l: SrcLine, src: LineSource): boolean {
    const text = l.text;
    if (!isNameStart(text.charCodeAt(1))) return false;
    let p = 2;
    while (p < text.length && isNameChar(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== 61 /* = */) return false;
    const name = text.slice(1, p);
    p++;
    while (p < text.length && isBlank(text.charCodeAt(p))) p++;
    if (!text.endsWith("\\")) {
      this.defs.set(name, { value: text.slice(p), first: null, more: null, maxParams: 0 });
      return true;
    }
    // Multi-line: the value's lines, each located where it was written. A blank line ends it, as in keepalived.
    const valueLines: SrcLine[] = [];
    const firstLine = dropPrefix(l, p);
    const firstText = firstLine.text.slice(0, -1).replace(/[ \t]+$/, "");
    if (firstText.length > 0) valueLines.push({ ...firstLine, text: firstText });
    for (;;) {
      const next = src.next();
      if (next === undefined || next.text.length === 0) break;
      const t = next.text;
      if (!t.endsWith("\\")) { valueLines.push(next); break; }
      const body = t.slice(0, -1).replace(/[ \t]+$/, "");
      if (body.length > 0) valueLines.push({ ...next, text: body });
    }
    if (valueLines.length === 0) {
      this.diag.warning(`multi-line definition of '$${name}' is empty`, locAt(l, 0));
      this.defs.set(name, { value: "", first: null, more: null, maxParams: 0 });
    } else {
      this.defs.set(name, { value: valueLines[0].text, first: valueLines[0], more: valueLines.slice(1), maxParams: 0 });
    }
    return true;
  }

  /**
   * Replace every known `$NAME` (followed by blank, ',', ')' or end of line) and `${NAME}`.
   * Replacement text is scanned again, so values may refer to other definitions. A
   * multi-line definition only expands when its reference ends the line; its first line
   * replaces the reference and the others are queued on `pending`.
   */
  private substitute(l: SrcLine, pending: SrcLine[][]): SrcLine {
    let count = 0;
    let pos = l.text.indexOf("$");
    while (pos >= 0 && pos + 1 < l.text.length) {
      const ref = this.reference(l.text, pos);
      if (ref === undefined) { pos = l.text.indexOf("$", pos + 1); continue; }
      if (++count > this.limits.substitutions) this.fail("parameter substitution does not terminate (recursive definition?)", locAt(l, pos));
      const def = ref.def;
      if (def.first !== null && def.more !== null) {
        pending.push(def.more);
        if (pos === 0) {
          // The reference is the whole line: it becomes the definition's first line, located there.
          l = def.first;
          pos = l.text.indexOf("$");
          continue;
        }
      }
      const value = def.fn ? def.fn(l, ref.params) : def.value;
      if (l.text.length - (ref.end - pos) + value.length > this.limits.lineLength) {
        this.fail(`line longer than ${this.limits.lineLength} characters after parameter substitution`, locAt(l, pos));
      }
      l = splice(l, pos, ref.end, value);
      // keepalived stops substituting when the value starts a ~SEQ/~LST: that line is expanded next.
      if (value.trimStart().startsWith("~")) break;
      pos = l.text.indexOf("$", pos);
    }
    return l;
  }

  private reference(text: string, pos: number): { def: Definition; end: number; params: number[] } | undefined {
    const braces = text.charCodeAt(pos + 1) === 123; /* { */
    const nameStart = pos + (braces ? 2 : 1);
    if (!isNameStart(text.charCodeAt(nameStart))) return undefined;
    let p = nameStart + 1;
    while (p < text.length && isNameChar(text.charCodeAt(p))) p++;
    const name = text.slice(nameStart, p);
    let params: number[] = [];
    let end: number;
    if (braces) {
      const paramStart = p;
      while (p < text.length && (text.charCodeAt(p) === 32 || isDigit(text.charCodeAt(p)))) p++;
      if (text.charCodeAt(p) !== 125 /* } */) return undefined;
      const paramText = text.slice(paramStart, p);
      if (paramText.length > 0) {
        if (paramText.endsWith(" ")) return undefined;
        params = paramText.trim().split(/ +/).map(Number);
      }
      end = p + 1;
    } else {
      const c = text.charCodeAt(p);
      if (p < text.length && c !== 32 && c !== 9 && c !== 44 /* , */ && c !== 41 /* ) */) return undefined;
      end = p;
    }
    const def = this.defs.get(name);
    if (def === undefined) return undefined;
    if (def.more !== null && end !== text.length) return undefined;
    if (params.length > def.maxParams) return undefined;
    return { def, end, params };
  }

  /** `~SEQ(var, [start, [step,]] end) rest` and `~SEQx(...)` (hexadecimal values). */
  private sequence(l: SrcLine, src: LineSource): void {
    const text = l.text;
    const at = locAt(l, 0);
    const invalid = (why: string): void => { this.diag.error(`invalid ~SEQ specification: ${why}`, at); };
    let p = 4;
    const hex = text[p] === "x";
    if (hex) p++;
    while (isBlank(text.charCodeAt(p))) p++;
    if (text[p] !== "(") return invalid("expected '(' after ~SEQ");
    p++;
    while (isBlank(text.charCodeAt(p))) p++;
    const varStart = p;
    while (p < text.length && !/[ \t,)]/.test(text[p])) p++;
    const name = text.slice(varStart, p);
    while (isBlank(text.charCodeAt(p))) p++;
    if (name.length === 0 || text[p] !== ",") return invalid("expected '(NAME, [START, [STEP,]] END)'");
    const close = text.indexOf(")", p);
    if (close < 0) return invalid("missing ')'");
    const args = this.expandInline(text.slice(p + 1, close + 1), l);
    if (args === undefined) return invalid("its parameters use a multi-line definition");
    const nums: number[] = [];
    let q = 0;
    for (;;) {
      const n = parseCLong(args, q);
      nums.push(n.value);
      q = n.end;
      while (isBlank(args.charCodeAt(q))) q++;
      if (args[q] === ")") break;
      if (args[q] !== "," || nums.length === 3) return invalid("expected '(NAME, [START, [STEP,]] END)'");
      q++;
    }
    let start: number, step: number, end: number;
    if (nums.length === 1) { end = nums[0]; step = end < 1 ? -1 : 1; start = end < 0 ? -1 : 1; }
    else if (nums.length === 2) { [start, end] = nums; step = start <= end ? 1 : -1; }
    else {
      [start, step, end] = nums;
      if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) return invalid("STEP does not lead from START to END");
    }
    if (hex && (start < 0 || end < 0)) return invalid("~SEQx is only valid for non-negative numbers");
    let restAt = close + 1;
    while (isBlank(text.charCodeAt(restAt))) restAt++;
    const rest = dropPrefix(l, restAt);
    const count = Math.floor((end - start) / step) + 1;
    if (count > this.limits.totalLines) {
      this.fail(`~SEQ expands to ${count} lines, more than ${this.limits.totalLines}`, at);
    }
    this.nested(at, () => {
      for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
        this.defs.set(name, { value: hex ? v.toString(16) : String(v), first: null, more: null, maxParams: 0 });
        if (rest.text.length > 0) this.processLine(rest, src);
      }
    });
  }

  /** `~LST(var, v1, v2, ...) rest` and `~LST({a, b}, {1, 2}, {3, 4}) rest`. */
  private list(l: SrcLine, src: LineSource): void {
    const text = l.text;
    const at = locAt(l, 0);
    const invalid = (why: string): void => { this.diag.error(`invalid ~LST specification: ${why}`, at); };
    let p = 4;
    while (isBlank(text.charCodeAt(p))) p++;
    if (text[p] !== "(") return invalid("expected '(' after ~LST");
    let depth = 0;
    let close = -1;
    for (let i = p + 1; i < text.length; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}") depth--;
      else if (c === ")" && depth === 0) { close = i; break; }
    }
    if (close < 0) return invalid("missing ')'");
    const spec = this.expandInline(text.slice(p + 1, close), l);
    if (spec === undefined) return invalid("its parameters use a multi-line definition");
    const items = splitTopLevel(spec);
    if (items === undefined) return invalid("unbalanced '{' '}'");
    const groups = items.map(ungroup);
    const names = groups[0];
    if (names.length === 0 || names.some((n) => n.length === 0)) return invalid("missing variable name");
    const values = groups.slice(1);
    if (values.length === 0) return invalid("no values");
    if (values.some((v) => v.length !== names.length)) return invalid(`every value must give ${names.length} item(s)`);
    if (groups.some((g) => g.some((item) => /[ \t]/.test(item)))) return invalid("names and values cannot contain blanks");
    let restAt = close + 1;
    while (isBlank(text.charCodeAt(restAt))) restAt++;
    const rest = dropPrefix(l, restAt);
    this.nested(at, () => {
      for (const v of values) {
        names.forEach((n, i) => this.defs.set(n, { value: v[i], first: null, more: null, maxParams: 0 }));
        if (rest.text.length > 0) this.processLine(rest, src);
      }
    });
  }

  /** Substitute definitions inside a ~SEQ/~LST parameter list; undefined if a multi-line one was used. */
  private expandInline(text: string, l: SrcLine): string | undefined {
    if (text.indexOf("$") < 0) return text;
    const pending: SrcLine[][] = [];
    const out = this.substitute({ text, file: l.file, line: l.line, base: l.base, segs: null }, pending);
    return pending.length > 0 ? undefined : out.text;
  }

  /** `include PATTERN` (and the 2.2.7 variants): read every matching file in place. */
  private include(l: SrcLine): boolean {
    const text = l.text;
    if (!text.startsWith("include")) return false;
    let kw = 0;
    while (kw < text.length && !/[ \t\r\f\v"]/.test(text[kw])) kw++;
    const keyword = text.slice(0, kw);
    if (!INCLUDE_KEYWORDS.has(keyword)) return false;
    let p = kw;
    while (p < text.length && /[ \t\r\f\v]/.test(text[p])) p++;
    if (p >= text.length) return false;   // a bare word: left to the keyword parser to reject
    let pattern = text.slice(p);
    if (pattern.length >= 2 && pattern.startsWith("\"") && pattern.endsWith("\"") && pattern.indexOf("\"", 1) === pattern.length - 1) {
      pattern = pattern.slice(1, -1);
    }
    const at = locAt(l, 0);
    const strict = keyword !== "include";
    const report = (msg: string): void => { if (strict) this.diag.error(msg, at); else this.diag.warning(msg, at); };
    if (this.includeStack.length >= this.limits.includeDepth) {
      this.fail(`includes nested more than ${this.limits.includeDepth} deep`, at);
    }
    const glob = this.opts.glob;
    if (!glob) { report(`cannot include '${pattern}': no file access configured`); return true; }
    const current = this.currentFile() ?? l.file;
    let matches: string[];
    try {
      matches = glob(pattern, dirname(current));
    } catch (e) {
      report(`cannot expand '${pattern}': ${e instanceof Error ? e.message : String(e)}`);
      return true;
    }
    if (matches.length === 0) { report(`no configuration file matches '${pattern}'`); return true; }
    for (const file of matches) {
      const resolved = this.resolve(file);
      if (this.includeStack.includes(resolved)) {
        this.diag.error(`include loop: '${file}' is already being read (${this.includeStack.join(" -> ")})`, at);
        continue;
      }
      if (++this.included > this.limits.includedFiles) {
        this.fail(`more than ${this.limits.includedFiles} files included in all (includes that include each other fan out)`, at);
      }
      const text = this.read(file, at, strict);
      if (text !== undefined) this.runFileText(text, file, resolved);
    }
    return true;
  }
}

/** Split "a, {b, c}, d" at top-level commas; undefined when braces do not balance. */
function splitTopLevel(spec: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === "{") depth++;
    else if (c === "}") { if (--depth < 0) return undefined; }
    else if (c === "," && depth === 0) { out.push(spec.slice(from, i).trim()); from = i + 1; }
  }
  if (depth !== 0) return undefined;
  out.push(spec.slice(from).trim());
  return out;
}

/** "{a, b}" -> ["a", "b"]; "a" -> ["a"]. */
function ungroup(item: string): string[] {
  if (item.startsWith("{") && item.endsWith("}")) return item.slice(1, -1).split(",").map((s) => s.trim());
  return [item];
}
