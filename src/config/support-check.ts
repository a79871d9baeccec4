// `lbctl check` and the daemon's load: a warning at each keyword the file sets that lbctl accepts
// but does not act on (support.ts), so nothing is silently ignored. Walks the model (what the file
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
import { unsupportedWhy } from "./support.ts";

interface Plan {
  unsupported: { field: Field; why: string }[];
  nested: { field: Field; specs: BlockSpec[] }[];
}

let specs: BlockSpec[] | undefined;
const plans = new Map<BlockSpec, Plan>();

function planOf(spec: BlockSpec): Plan {
  let plan = plans.get(spec);
  if (plan) return plan;
  specs ??= collectSpecs([checkers, common, global, lvsValues, lvs, vrrp] as Record<string, unknown>[], rootSpec);
  plan = { unsupported: [], nested: [] };
  for (const field of spec.fields) {
    const why = unsupportedWhy(spec.name, field.key);
    if (why !== undefined) plan.unsupported.push({ field, why });
    else {
      const nested = nestedSpecs(field, specs).filter((s) => s !== spec);
      if (nested.length) plan.nested.push({ field, specs: nested });
    }
  }
  plans.set(spec, plan);
  return plan;
}

/** The block objects a field's value holds: one block, a list of them, or a map of named ones. */
function blocksIn(value: unknown, field: Field): Model[] {
  if (Array.isArray(value)) return value.filter(isPlainTable);
  if (!isPlainTable(value)) return [];
  return field.type.named ? Object.values(value).filter(isPlainTable) : [value];
}

/** Warns for every unsupported keyword set in `model` (a configuration read by either front end). */
export function warnUnsupported(model: Model, diag: Diagnostics, format: "keepalived" | "toml"): void {
  walk(model, rootSpec, diag, format);
}

function walk(obj: Model, spec: BlockSpec, diag: Diagnostics, format: "keepalived" | "toml"): void {
  const plan = planOf(spec);
  for (const { field, why } of plan.unsupported) {
    const value = obj[field.key];
    if (value === undefined) continue;
    // A checker's type is its block keyword (BFD_CHECK { }); otherwise the front end's spelling.
    const name = field.key === "type" && typeof value === "string" ? value : format === "toml" ? field.key : kwOf(field);
    const message = `'${name}' is not supported by lbctl: ${why}`;
    const blocks = field.type.named ? blocksIn(value, field) : [];
    if (blocks.length) for (const b of blocks) diag.warning(message, blockLoc(b) ?? locOfKey(obj, field.key));
    else diag.warning(message, locOfKey(obj, field.key) ?? blockLoc(obj));
    // An unsupported checker type: its keywords are part of the one warning.
    if (field.key === "type") return;
  }
  for (const { field, specs: nested } of plan.nested) {
    const value = obj[field.key];
    if (value === undefined) continue;
    for (const child of blocksIn(value, field)) {
      const childSpec = nested.length === 1 ? nested[0] : nested.find((s) => s.name === child.type);
      if (childSpec) walk(child, childSpec, diag, format);
    }
  }
}
