// The schema: one declarative table per configuration block. Both front ends
// (keepalived.conf and TOML) are driven by it, docs/config.md is generated from it,
// and defaults come from it, so the two formats cannot drift apart.
//
// A model object is a plain record keyed by each field's `key` (the TOML spelling,
// which is the keepalived keyword unless that is not a valid bare TOML key). Only
// values the user set are stored; `withDefaults` fills the rest. Source positions of
// every value are kept beside the object (see `locsOf`) so later validation can
// point at file:line:col.
import type { Diagnostics } from "./diagnostics.ts";
import type { ConfNode, SourceLoc } from "./tree.ts";

export type Model = Record<string, unknown>;

export interface ParseCtx {
  diag: Diagnostics;
  /** The path of the block being read, for messages ("vrrp_instance VI_1"). */
  where: string;
}

/**
 * The context of a nested block. Its `where` is read only by messages, so it is built on first
 * use rather than for each of the 100,000 blocks of a 37,000-real-server file.
 */
export function nestedCtx(ctx: ParseCtx, where: () => string): ParseCtx {
  return new NestedCtx(ctx.diag, where);
}

class NestedCtx implements ParseCtx {
  private text: string | undefined;
  constructor(readonly diag: Diagnostics, private readonly build: () => string) {}
  get where(): string { return (this.text ??= this.build()); }
}

/** How one value is read from each front end and written back to TOML. */
export interface ValueType<T = unknown> {
  /** For docs: "integer 1..255", "seconds", "flag", ... */
  describe: string;
  fromConf(node: ConfNode, ctx: ParseCtx): T | undefined;
  fromToml(value: unknown, loc: SourceLoc, ctx: TomlCtx): T | undefined;
  toToml(value: T): unknown;
  /** True for maps of named blocks, where merging two with one name is an error. */
  named?: boolean;
  /** Fills defaults inside nested values (blocks); scalars need none. */
  effective?(value: T): T;
}

export interface Alias {
  kw: string;
  /** Deprecated spellings warn and name the new keyword; plain aliases are silent. */
  deprecated?: boolean;
}

export interface Field<T = unknown> {
  key: string;
  /** keepalived.conf spelling, when it differs from `key`. */
  kw?: string;
  aliases?: Alias[];
  type: ValueType<T>;
  default?: T;
  /** Prose for defaults that are not a constant ("the interface's first address"). */
  defaultDoc?: string;
  doc: string;
  /**
   * "last": a repeated keyword overrides (keepalived's behaviour for scalars);
   * "append": each occurrence adds to an array (e.g. several `url` blocks);
   * "merge": map-valued fields (named blocks) merge by name;
   * "first": the first stays and a repeat is warned of and ignored (keepalived's net_namespace, instance).
   */
  repeat?: "last" | "append" | "merge" | "first";
  /**
   * Set from a block's header words (`virtual_server IP PORT {`), not by a keyword inside
   * the block; TOML still spells it as a key.
   */
  headerOnly?: boolean;
}

export interface BlockSpec {
  /** Name in docs and messages, e.g. "vrrp_instance". */
  name: string;
  doc?: string;
  fields: Field[];
  /** Keywords that are accepted and ignored, each with the warning to give. */
  obsolete?: Record<string, string>;
  /** Extra checks once the block is read (cross-field rules). */
  validate?(obj: Model, ctx: ParseCtx): void;
}

// ---------------------------------------------------------------------------
// Source positions, kept off the model so models compare and serialise cleanly: one record per
// object under a symbol that is not enumerable, which JSON, Object.keys, spreads, structuredClone
// and test equality never see. The model and its effective copy share the record (positions are
// written only while a block is read). Measured at 37,000 real servers: a WeakMap cost several
// times more (300,000 entries, which every garbage collection walks); a private class field
// stamped onto the objects parsed no faster and made JSON.stringify of the result 2x slower.

interface Positions { keys: Record<string, SourceLoc>; block?: SourceLoc }
const POSITIONS = Symbol("positions");

function positionsOf(obj: object): Positions | undefined {
  return (obj as { [POSITIONS]?: Positions })[POSITIONS];
}

function attachPositions(obj: object, positions: Positions): Positions {
  Object.defineProperty(obj, POSITIONS, { value: positions, writable: true, configurable: true, enumerable: false });
  return positions;
}

/** The object's record, made on first use. */
function ownPositions(obj: object): Positions {
  return positionsOf(obj) ?? attachPositions(obj, { keys: {} });
}

export function locsOf(obj: object): Record<string, SourceLoc> { return ownPositions(obj).keys; }
export function locOfKey(obj: object, key: string): SourceLoc | undefined { return positionsOf(obj)?.keys[key]; }
export function blockLoc(obj: object): SourceLoc | undefined { return positionsOf(obj)?.block; }
export function setBlockLoc(obj: object, loc: SourceLoc): void { ownPositions(obj).block = loc; }

// ---------------------------------------------------------------------------
// Field lookup by keepalived keyword, cached on each spec under a hidden symbol (looked up for
// every block read: a WeakMap lookup was 5% of reading a 37,000-real-server file).

interface KeywordIndex { byKw: Map<string, { field: Field; alias?: Alias }>; byKey: Map<string, Field> }
const INDEX = Symbol("keywordIndex");

export function indexOf(spec: BlockSpec): KeywordIndex {
  const cached = (spec as { [INDEX]?: KeywordIndex })[INDEX];
  if (cached) return cached;
  const idx: KeywordIndex = { byKw: new Map(), byKey: new Map() };
  for (const f of spec.fields) {
    idx.byKey.set(f.key, f);
    if (f.headerOnly) continue;
    idx.byKw.set(f.kw ?? f.key, { field: f });
    for (const a of f.aliases ?? []) idx.byKw.set(a.kw, { field: f, alias: a });
  }
  Object.defineProperty(spec, INDEX, { value: idx, enumerable: false });
  return idx;
}

export function kwOf(f: Field): string { return f.kw ?? f.key; }

// ---------------------------------------------------------------------------
// keepalived.conf front end: walk a block's nodes through its spec.

export function parseConfBlock(nodes: readonly ConfNode[], spec: BlockSpec, ctx: ParseCtx, into: Model = {}): Model {
  const idx = indexOf(spec);
  const locs = locsOf(into);
  for (const node of nodes) {
    const hit = idx.byKw.get(node.keyword);
    if (!hit) {
      const obsolete = spec.obsolete?.[node.keyword];
      if (obsolete !== undefined) ctx.diag.warning(obsolete, node.loc);
      else ctx.diag.warning(`unknown keyword '${node.keyword}' in ${ctx.where}`, node.loc);
      continue;
    }
    const { field, alias } = hit;
    if (alias?.deprecated) ctx.diag.warning(`'${alias.kw}' is deprecated, use '${kwOf(field)}'`, node.loc);
    const value = field.type.fromConf(node, ctx);
    if (value === undefined) continue;
    store(into, locs, field, value, node.loc, ctx);
  }
  spec.validate?.(into, ctx);
  return into;
}

/** Stores a value read at `loc`; `locs` (the block's positions) keeps a repeated keyword's first place, a "last" one's last. */
function store(into: Model, locs: Record<string, SourceLoc>, field: Field, value: unknown, loc: SourceLoc, ctx: ParseCtx): void {
  const mode = field.repeat ?? "last";
  if (mode === "last") {
    into[field.key] = value;
    locs[field.key] = loc;
    return;
  }
  if (mode === "first") {
    if (field.key in into) {
      const words = Array.isArray(value) ? value.join(" ") : String(value);
      ctx.diag.warning(`Duplicate ${kwOf(field)} definition ${words} - ignoring (the first, ${JSON.stringify(into[field.key])}, stays)`, loc);
      return;
    }
    into[field.key] = value;
    locs[field.key] = loc;
    return;
  }
  locs[field.key] ??= loc;
  if (mode === "append") {
    const arr = (into[field.key] as unknown[] | undefined) ?? [];
    if (Array.isArray(value)) for (const v of value) arr.push(v);
    else arr.push(value);
    into[field.key] = arr;
  } else {
    // A repeated block adds to the first one (keepalived reads global_defs twice the same
    // way); for named blocks a repeated name is a mistake worth an error.
    const cur = into[field.key] as Model | undefined;
    if (!cur) { into[field.key] = value; return; }
    for (const [k, v] of Object.entries(value as Model)) {
      if (field.type.named) {
        if (k in cur) { ctx.diag.error(`${kwOf(field)} '${k}' is defined twice`, loc); continue; }
      } else {
        locsOf(cur)[k] = locOfKey(value as Model, k) ?? loc;
      }
      cur[k] = v;
    }
  }
}

// ---------------------------------------------------------------------------
// TOML front end: the same spec, read from a parsed TOML table.

/** Finds where a TOML key path was written; see toml-locate.ts. */
export type TomlLocator = (path: readonly (string | number)[]) => SourceLoc;

export interface TomlCtx extends ParseCtx {
  locate: TomlLocator;
  path: (string | number)[];
}

export function parseTomlBlock(table: unknown, spec: BlockSpec, ctx: TomlCtx, into: Model = {}): Model {
  const here = ctx.locate(ctx.path);
  if (!isPlainTable(table)) {
    ctx.diag.error(`${ctx.where}: expected a table`, here);
    return into;
  }
  const idx = indexOf(spec);
  const locs = locsOf(into);
  for (const [k, v] of Object.entries(table)) {
    const loc = ctx.locate([...ctx.path, k]);
    const field = idx.byKey.get(k);
    if (!field) {
      const alias = idx.byKw.get(k);
      const hint = alias ? ` (did you mean '${alias.field.key}'?)` : "";
      ctx.diag.error(`unknown setting '${k}' in ${ctx.where}${hint}`, loc);
      continue;
    }
    const sub: TomlCtx = { ...ctx, path: [...ctx.path, k] };
    const value = field.type.fromToml(v, loc, sub);
    if (value === undefined) continue;
    into[field.key] = value;
    locs[field.key] = loc;
  }
  spec.validate?.(into, ctx);
  return into;
}

/** The TOML key being read, for messages. */
export function tomlKey(ctx: TomlCtx): string {
  for (let i = ctx.path.length - 1; i >= 0; i--) if (typeof ctx.path[i] === "string") return ctx.path[i] as string;
  return ctx.where;
}

export function isPlainTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

// ---------------------------------------------------------------------------
// Back to TOML (for `lbctl convert`): only what was set, in schema order.

export function blockToToml(obj: Model, spec: BlockSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) {
    if (obj[f.key] === undefined) continue;
    out[f.key] = f.type.toToml(obj[f.key]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Defaults: the effective configuration is the set values plus every default.

export function withDefaults(obj: Model, spec: BlockSpec): Model {
  const out: Model = {};
  for (const f of spec.fields) {
    const v = obj[f.key];
    if (v !== undefined) out[f.key] = f.type.effective ? f.type.effective(v) : v;
    // Only object defaults (lists, ranges) need a copy the caller may change; most are numbers or strings.
    else if (f.default !== undefined) out[f.key] = typeof f.default === "object" ? cloneData(f.default) : f.default;
  }
  // Carry positions over so checks on the effective model still point at the source (shared:
  // positions are written only while a block is read, before its defaults are filled).
  const positions = positionsOf(obj);
  if (positions) attachPositions(out, positions);
  return out;
}

/**
 * A deep copy of model data (plain objects, arrays, primitives); anything else goes through
 * structuredClone. Several times faster than structuredClone alone on the small values copied
 * once per real server (a 37,000-server file copies about 100,000 of them).
 */
export function cloneData<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneData) as T;
  if (Object.getPrototypeOf(v) !== Object.prototype) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = cloneData((v as Record<string, unknown>)[k]);
  return out as T;
}
