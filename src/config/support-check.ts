// `lbctl check` and the daemon's load: a warning at each keyword the file sets that lbctl accepts
// but does not act on, or acts on only in part, and at each option of an address, route, rule or peer
// line it does not apply (support.ts), so nothing is ignored silently. Walks the model (what the file
// sets, not the defaults) through the specs; a block that is unsupported as a whole is warned once
// per occurrence and not entered, so `bfd_instance` gives one warning, not one per line inside.
import type { Diagnostics } from "./diagnostics.ts";
import { blockLoc, isPlainTable, kwOf, locOfKey, type BlockSpec, type Field, type Model } from "./schema.ts";
import { collectSpecs, nestedSpecs } from "./spec-graph.ts";
import * as checkers from "./spec/checkers.ts";
import * as common from "./spec/common.ts";
import * as global from "./spec/global.ts";
import * as lvsValues from "./spec/lvs-values.ts";
import * as lvs from "./spec/lvs.ts";
import { rootSpec } from "./spec/root.ts";
import * as vrrp from "./spec/vrrp.ts";
import { ITEM_OPTION_SUPPORT, supportWarning, type ItemOptionSupport } from "./support.ts";

interface Plan {
  /** `blocks`: the field holds blocks (not lines), each warned at its own header. */
  unsupported: { field: Field; warning: string; blocks: boolean }[];
  /** Applied lists whose items may carry options lbctl does not act on. */
  items: { field: Field; options: ItemOptionSupport }[];
  /** Fields holding blocks in which something is unsupported; the spec of each block by name. */
  nested: { field: Field; specs: Map<string, BlockSpec>; only?: BlockSpec }[];
}

let specs: BlockSpec[] | undefined;
const plans = new Map<BlockSpec, Plan>();

function planOf(spec: BlockSpec): Plan {
  let plan = plans.get(spec);
  if (plan) return plan;
  specs ??= collectSpecs([checkers, common, global, lvsValues, lvs, vrrp] as Record<string, unknown>[], rootSpec);
  plan = { unsupported: [], items: [], nested: [] };
  plans.set(spec, plan); // before the nested ones, which may lead back here
  for (const field of spec.fields) {
    const warning = supportWarning(spec.name, field.key);
    if (warning !== undefined) { plan.unsupported.push({ field, warning, blocks: nestedSpecs(field, specs).length > 0 }); continue; }
    const options = ITEM_OPTION_SUPPORT[spec.name]?.[field.key];
    if (options) plan.items.push({ field, options });
    // Only blocks that can hold an unsupported keyword are walked: at 40,000 real servers each visit counts.
    const nested = nestedSpecs(field, specs).filter((s) => s !== spec && canWarn(s));
    if (nested.length) plan.nested.push({ field, specs: new Map(nested.map((s) => [s.name, s])), only: nested.length === 1 ? nested[0] : undefined });
  }
  return plan;
}

const warns = new Map<BlockSpec, boolean>();

/** Whether a block, or a block inside it, has an unsupported keyword. */
function canWarn(spec: BlockSpec): boolean {
  const known = warns.get(spec);
  if (known !== undefined) return known;
  warns.set(spec, false); // a cycle adds nothing
  let any = spec.fields.some((f) => supportWarning(spec.name, f.key) !== undefined || ITEM_OPTION_SUPPORT[spec.name]?.[f.key] !== undefined);
  if (!any) any = spec.fields.some((f) => nestedSpecs(f, specs!).some((s) => s !== spec && canWarn(s)));
  warns.set(spec, any);
  return any;
}

/** Warns for every unsupported keyword set in `model` (a configuration read by either front end). */
export function warnUnsupported(model: Model, diag: Diagnostics, format: "keepalived" | "toml"): void {
  walk(model, rootSpec, diag, format);
}

function walk(obj: Model, spec: BlockSpec, diag: Diagnostics, format: "keepalived" | "toml"): void {
  const plan = planOf(spec);
  for (const { field, warning, blocks: holdsBlocks } of plan.unsupported) {
    const value = obj[field.key];
    if (value === undefined) continue;
    // A checker's type is its block keyword (BFD_CHECK { }); otherwise the front end's spelling.
    const name = field.key === "type" && typeof value === "string" ? value : format === "toml" ? field.key : kwOf(field);
    const message = `'${name}' ${warning}`;
    const blocks = !holdsBlocks ? [] : Array.isArray(value) ? value.filter(isPlainTable) : field.type.named && isPlainTable(value) ? Object.values(value).filter(isPlainTable) : [];
    if (blocks.length) for (const b of blocks) diag.warning(message, blockLoc(b) ?? locOfKey(obj, field.key));
    else diag.warning(message, locOfKey(obj, field.key) ?? blockLoc(obj));
    // An unsupported checker type: its keywords are part of the one warning.
    if (field.key === "type") return;
  }
  for (const { field, options } of plan.items) {
    const list = obj[field.key];
    if (!Array.isArray(list)) continue;
    const name = format === "toml" ? field.key : kwOf(field);
    for (const item of list) {
      if (!isPlainTable(item)) continue;
      for (const opt of unsupportedOptions(item, options)) {
        diag.warning(`'${opt}' in ${name} is not supported by lbctl: ${options.why}`, blockLoc(item) ?? locOfKey(obj, field.key));
      }
    }
  }
  for (const n of plan.nested) {
    const value = obj[n.field.key];
    if (value === undefined) continue;
    // A block, a list of them, or a map of named ones.
    if (Array.isArray(value)) { for (const child of value) visit(child, n, diag, format); }
    else if (n.field.type.named && isPlainTable(value)) { for (const child of Object.values(value)) visit(child, n, diag, format); }
    else visit(value, n, diag, format);
  }
}

function visit(child: unknown, n: Plan["nested"][number], diag: Diagnostics, format: "keepalived" | "toml"): void {
  if (!isPlainTable(child)) return;
  const spec = n.only ?? n.specs.get(child.type as string);
  if (spec) walk(child, spec, diag, format);
}

/**
 * The options of one list item lbctl does not act on. Address and peer items carry their options as
 * keys; route and rule items as the words of their line, where an option may take a value.
 */
function unsupportedOptions(item: Model, options: ItemOptionSupport): string[] {
  const words = item.words;
  if (options.words === undefined || !Array.isArray(words)) {
    return (options.unsupported ?? []).filter((opt) => {
      const v = item[opt.replace(/^-/, "")];
      return v !== undefined && v !== false;
    });
  }
  const applied = new Set(options.applied ?? []);
  const valued = options.words === "rule" ? common.RULE_VALUE_OPTS : common.ROUTE_VALUE_OPTS;
  const out: string[] = [];
  // A route's destination is a bare word, not an option.
  let destination = options.words === "route" && typeof item.to === "string" ? item.to : undefined;
  for (let i = 0; i < words.length; i++) {
    const w = String(words[i]);
    if (w === destination) { destination = undefined; continue; }
    if (!applied.has(w) && !out.includes(w)) out.push(w);
    if (valued.has(w)) { i++; if (words[i] === "lock") i++; }
  }
  return out;
}
