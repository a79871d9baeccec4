// Value types for the schema: each knows how to read a keepalived.conf statement, a TOML
// value, and how to write itself back to TOML. Messages name the keyword and the range, so a
// user can fix the line without opening the man page.
import {
  blockToToml, withDefaults, tomlKey, isPlainTable, nestedCtx, parseConfBlock, parseTomlBlock, setBlockLoc,
  type BlockSpec, type Model, type ParseCtx, type TomlCtx, type ValueType,
} from "./schema.ts";
import type { ConfNode, SourceLoc } from "./tree.ts";
import { parseIPv6 } from "../net/inet.ts";

function argLoc(node: ConfNode, i: number): SourceLoc { return node.argLocs[i] ?? node.loc; }

function needArg(node: ConfNode, ctx: ParseCtx, what: string): string | undefined {
  const a = node.args[0];
  if (a === undefined) ctx.diag.error(`'${node.keyword}' needs ${what}`, node.loc);
  return a;
}

function tooMany(node: ConfNode, ctx: ParseCtx, max: number): void {
  if (node.args.length > max) ctx.diag.warning(`'${node.keyword}': extra argument '${node.args[max]}' ignored`, argLoc(node, max));
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `>= ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return "";
}

// ---------------------------------------------------------------------------
// Numbers

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function checkRange(v: number, kw: string, min: number | undefined, max: number | undefined, loc: SourceLoc, ctx: ParseCtx): boolean {
  if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
    ctx.diag.error(`'${kw}' ${v} is out of range ${rangeText(min, max)}`, loc);
    return false;
  }
  return true;
}

interface NumberKind { noun: string; what: string; pattern: RegExp; accepts(v: number): boolean }
const INTEGER: NumberKind = { noun: "integer", what: "an integer", pattern: INT_RE, accepts: Number.isInteger };
const DECIMAL: NumberKind = { noun: "number", what: "a number", pattern: NUM_RE, accepts: Number.isFinite };

function numeric(kind: NumberKind, min: number | undefined, max: number | undefined, unit: string): ValueType<number> {
  const range = min !== undefined || max !== undefined ? " " + rangeText(min, max) : "";
  return {
    describe: `${kind.noun}${unit ? " (" + unit + ")" : ""}${range}`,
    fromConf(node, ctx) {
      const a = needArg(node, ctx, kind.what);
      if (a === undefined) return undefined;
      if (!kind.pattern.test(a)) { ctx.diag.error(`'${node.keyword}' expects ${kind.what}, got '${a}'`, argLoc(node, 0)); return undefined; }
      tooMany(node, ctx, 1);
      const v = Number(a);
      return checkRange(v, node.keyword, min, max, argLoc(node, 0), ctx) ? v : undefined;
    },
    fromToml(value, loc, ctx) {
      const kw = tomlKey(ctx);
      const v = typeof value === "bigint" ? Number(value) : value;
      if (typeof v !== "number" || !kind.accepts(v)) { ctx.diag.error(`'${kw}' expects ${kind.what}`, loc); return undefined; }
      return checkRange(v, kw, min, max, loc, ctx) ? v : undefined;
    },
    toToml: (v) => v,
  };
}

export const int = (min?: number, max?: number): ValueType<number> => numeric(INTEGER, min, max, "");

/** A decimal number (keepalived allows fractions for many timers, e.g. advert_int 0.1). */
export const decimal = (min?: number, max?: number, unit = ""): ValueType<number> => numeric(DECIMAL, min, max, unit);

/** Seconds, stored as a number of seconds (fractions allowed). */
export const seconds = (min = 0, max?: number): ValueType<number> => decimal(min, max, "seconds");

// ---------------------------------------------------------------------------
// Flags and booleans

const TRUE_WORDS = new Set(["true", "on", "yes", "1"]);
const FALSE_WORDS = new Set(["false", "off", "no", "0"]);

/**
 * A keyword that is on when present (`nopreempt`). keepalived also accepts an optional
 * true/false word after many of them.
 */
export const flag: ValueType<boolean> = {
  describe: "flag",
  fromConf(node, ctx) {
    const a = node.args[0];
    if (a === undefined) return true;
    const w = a.toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
    ctx.diag.error(`'${node.keyword}' takes no value or one of true/false/on/off/yes/no, got '${a}'`, argLoc(node, 0));
    return undefined;
  },
  fromToml(value, loc, ctx) {
    if (typeof value !== "boolean") { ctx.diag.error(`'${tomlKey(ctx)}' expects true or false`, loc); return undefined; }
    return value;
  },
  toToml: (v) => v,
};

// ---------------------------------------------------------------------------
// Words

/** One word (quotes already removed by the lexer). */
export const word: ValueType<string> = {
  describe: "string",
  fromConf(node, ctx) {
    const a = needArg(node, ctx, "a value");
    if (a === undefined) return undefined;
    tooMany(node, ctx, 1);
    return a;
  },
  fromToml(value, loc, ctx) {
    if (typeof value !== "string") { ctx.diag.error(`'${tomlKey(ctx)}' expects a string`, loc); return undefined; }
    return value;
  },
  toToml: (v) => v,
};

/** The rest of the line as one string (scripts with arguments, smtp_helo text, ...). */
export const restOfLine: ValueType<string> = {
  describe: "string",
  fromConf(node, ctx) {
    if (node.args.length === 0) { ctx.diag.error(`'${node.keyword}' needs a value`, node.loc); return undefined; }
    return node.args.join(" ");
  },
  fromToml: word.fromToml,
  toToml: (v) => v,
};

/** All words on the line, kept apart. */
export const words: ValueType<string[]> = {
  describe: "list of strings",
  fromConf(node, ctx) {
    if (node.args.length === 0) { ctx.diag.error(`'${node.keyword}' needs at least one value`, node.loc); return undefined; }
    return [...node.args];
  },
  fromToml(value, loc, ctx) {
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || !value.every((x) => typeof x === "string")) {
      ctx.diag.error(`'${tomlKey(ctx)}' expects a list of strings`, loc); return undefined;
    }
    return [...value] as string[];
  },
  toToml: (v) => v,
};

export function oneOf<T extends string>(values: readonly T[], opts: { caseInsensitive?: boolean } = {}): ValueType<T> {
  const find = (s: string): T | undefined =>
    values.find((v) => (opts.caseInsensitive ? v.toLowerCase() === s.toLowerCase() : v === s));
  return {
    describe: `one of ${values.join(", ")}`,
    fromConf(node, ctx) {
      const a = needArg(node, ctx, `one of ${values.join(", ")}`);
      if (a === undefined) return undefined;
      tooMany(node, ctx, 1);
      const v = find(a);
      if (v === undefined) ctx.diag.error(`'${node.keyword}' must be one of ${values.join(", ")}, got '${a}'`, argLoc(node, 0));
      return v;
    },
    fromToml(value, loc, ctx) {
      const kw = tomlKey(ctx);
      const v = typeof value === "string" ? find(value) : undefined;
      if (v === undefined) ctx.diag.error(`'${kw}' must be one of ${values.join(", ")}`, loc);
      return v;
    },
    toToml: (v) => v,
  };
}

// ---------------------------------------------------------------------------
// Addresses

export interface ParsedIp { family: 4 | 6; text: string }

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIp(s: string): ParsedIp | undefined {
  if (V4_RE.test(s)) return { family: 4, text: s };
  if (s.includes(":") && isIpv6(s)) return { family: 6, text: s.toLowerCase() };
  return undefined;
}

/** IPv6 text (a zone suffix is allowed: link-local peers need one). */
function isIpv6(s: string): boolean {
  return parseIPv6(s) !== null;
}

export const ipAddress: ValueType<string> = {
  describe: "IPv4 or IPv6 address",
  fromConf(node, ctx) {
    const a = needArg(node, ctx, "an IP address");
    if (a === undefined) return undefined;
    tooMany(node, ctx, 1);
    const ip = parseIp(a);
    if (!ip) ctx.diag.error(`'${node.keyword}': '${a}' is not a valid IP address`, argLoc(node, 0));
    return ip?.text;
  },
  fromToml(value, loc, ctx) {
    const ip = typeof value === "string" ? parseIp(value) : undefined;
    if (!ip) ctx.diag.error(`'${tomlKey(ctx)}' expects an IP address`, loc);
    return ip?.text;
  },
  toToml: (v) => v,
};

// ---------------------------------------------------------------------------
// Blocks

/** A nested block with fixed fields, e.g. `authentication { ... }`. */
export function block(spec: BlockSpec): ValueType<Model> {
  return {
    describe: `block (${spec.name})`,
    fromConf(node, ctx) {
      if (!node.children) { ctx.diag.error(`'${node.keyword}' must open a block with '{'`, node.loc); return undefined; }
      tooMany(node, ctx, 0);
      const obj = parseConfBlock(node.children, spec, nestedCtx(ctx, () => `${ctx.where} ${node.keyword}`));
      setBlockLoc(obj, node.loc);
      return obj;
    },
    fromToml(value, loc, ctx) {
      const obj = parseTomlBlock(value, spec, { ...ctx, where: `${ctx.where} ${spec.name}` });
      setBlockLoc(obj, loc);
      return obj;
    },
    toToml: (v) => blockToToml(v, spec),
    effective: (v) => withDefaults(v, spec),
  };
}

/**
 * A block whose every line is one item (`virtual_ipaddress { ... }`, `track_script { ... }`).
 * In TOML an item is either the same line as a string or a table of the item's fields.
 */
export interface LineItemType<T> {
  describe: string;
  parseLine(node: ConfNode, ctx: ParseCtx): T | undefined;
  /** Table form for TOML; when absent only the string form is accepted. */
  spec?: BlockSpec;
  fromTable?(t: Model, loc: SourceLoc, ctx: TomlCtx): T | undefined;
  toToml(item: T): unknown;
  effective?(item: T): T;
}

export function lines<T>(item: LineItemType<T>): ValueType<T[]> {
  return {
    describe: `list of ${item.describe}`,
    fromConf(node, ctx) {
      // keepalived also accepts the single-line form `track_interface eth0` for some of these.
      if (!node.children) {
        if (node.args.length === 0) { ctx.diag.error(`'${node.keyword}' must open a block with '{'`, node.loc); return undefined; }
        const v = item.parseLine({ ...node, keyword: node.args[0]!, args: node.args.slice(1), loc: argLoc(node, 0), argLocs: node.argLocs.slice(1) }, ctx);
        return v === undefined ? [] : [v];
      }
      const out: T[] = [];
      for (const child of node.children) {
        if (child.children) { ctx.diag.error(`unexpected block '${child.keyword} {' inside '${node.keyword}'`, child.loc); continue; }
        const v = item.parseLine(child, ctx);
        if (v !== undefined) out.push(v);
      }
      return out;
    },
    fromToml(value, loc, ctx) {
      const tctx = ctx;
      if (!Array.isArray(value)) { ctx.diag.error(`'${tomlKey(tctx)}' expects a list`, loc); return undefined; }
      const out: T[] = [];
      value.forEach((v, i) => {
        const iloc = tctx.locate([...tctx.path, i]);
        if (typeof v === "string") {
          const node = lineNode(v, iloc);
          if (!node) { ctx.diag.error(`empty item in '${tomlKey(tctx)}'`, iloc); return; }
          const r = item.parseLine(node, ctx);
          if (r !== undefined) out.push(r);
        } else if (isPlainTable(v) && item.fromTable) {
          const r = item.fromTable(v as Model, iloc, { ...tctx, path: [...tctx.path, i] });
          if (r !== undefined) out.push(r);
        } else {
          ctx.diag.error(`'${tomlKey(tctx)}' item ${i + 1}: expected ${item.fromTable ? "a string or a table" : "a string"}`, iloc);
        }
      });
      return out;
    },
    toToml: (v) => v.map((x) => item.toToml(x)),
    effective: item.effective ? (v) => v.map((x) => item.effective!(x)) : undefined,
  };
}

/** A TOML string item parsed as if it were a keepalived.conf line. */
export function lineNode(text: string, loc: SourceLoc): ConfNode | undefined {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return undefined;
  return { keyword: parts[0]!, args: parts.slice(1), loc, argLocs: parts.slice(1).map(() => loc) };
}

/** Lines that are a single word each (`notification_email`, `unicast_peer` without options). */
export const wordLine: LineItemType<string> = {
  describe: "string",
  parseLine(node, ctx) {
    if (node.args.length > 0) ctx.diag.warning(`extra words after '${node.keyword}' ignored`, node.argLocs[0] ?? node.loc);
    return node.keyword;
  },
  toToml: (s) => s,
};

/**
 * Named blocks collected into a map by name (`vrrp_instance VI_1 { ... }`). A repeated
 * name is an error, as in keepalived.
 */
export function namedBlocks(spec: BlockSpec, opts: { nameRequired?: boolean } = {}): ValueType<Record<string, Model>> {
  const nameRequired = opts.nameRequired ?? true;
  return {
    describe: `named ${spec.name} blocks`,
    named: true,
    fromConf(node, ctx) {
      const name = node.args[0];
      if (name === undefined && nameRequired) { ctx.diag.error(`'${node.keyword}' needs a name`, node.loc); return undefined; }
      if (!node.children) { ctx.diag.error(`'${node.keyword} ${name ?? ""}' must open a block with '{'`, node.loc); return undefined; }
      tooMany(node, ctx, 1);
      const key = name ?? "";
      const obj = parseConfBlock(node.children, spec, nestedCtx(ctx, () => `${spec.name} ${key}`));
      setBlockLoc(obj, node.loc);
      return { [key]: obj };
    },
    fromToml(value, loc, ctx) {
      const tctx = ctx;
      if (!isPlainTable(value)) { ctx.diag.error(`'${spec.name}' expects a table of named blocks`, loc); return undefined; }
      const out: Record<string, Model> = {};
      for (const [name, body] of Object.entries(value)) {
        const p = [...tctx.path, name];
        const obj = parseTomlBlock(body, spec, { ...tctx, path: p, where: `${spec.name} ${name}` });
        setBlockLoc(obj, tctx.locate(p));
        out[name] = obj;
      }
      return out;
    },
    toToml: (v) => Object.fromEntries(Object.entries(v).map(([n, o]) => [n, blockToToml(o, spec)])),
    effective: (v) => Object.fromEntries(Object.entries(v).map(([n, o]) => [n, withDefaults(o, spec)])),
  };
}

/**
 * Blocks whose header carries values (`virtual_server 10.0.0.1 80 { ... }`,
 * `real_server 10.0.0.2 80 { ... }`), collected in order. `header` turns the header's
 * words into fields of the block.
 */
export function headedBlocks(
  spec: BlockSpec,
  header: (node: ConfNode, ctx: ParseCtx) => Model | undefined,
  describeHeader: (obj: Model) => string,
): ValueType<Model[]> {
  return {
    describe: `${spec.name} blocks`,
    fromConf(node, ctx) {
      const head = header(node, ctx);
      if (!head) return undefined;
      if (!node.children) { ctx.diag.error(`'${node.keyword}' must open a block with '{'`, node.loc); return undefined; }
      const obj = parseConfBlock(node.children, spec, nestedCtx(ctx, () => `${spec.name} ${describeHeader(head)}`), head);
      setBlockLoc(obj, node.loc);
      return [obj];
    },
    fromToml(value, loc, ctx) {
      const tctx = ctx;
      const arr = Array.isArray(value) ? value : [value];
      const out: Model[] = [];
      arr.forEach((body, i) => {
        const p = Array.isArray(value) ? [...tctx.path, i] : tctx.path;
        const obj = parseTomlBlock(body, spec, { ...tctx, path: p, where: `${spec.name} #${i + 1}` });
        setBlockLoc(obj, tctx.locate(p));
        out.push(obj);
      });
      return out;
    },
    toToml: (v) => v.map((o) => blockToToml(o, spec)),
    effective: (v) => v.map((o) => withDefaults(o, spec)),
  };
}
