// Which block specs a field holds. A field's type does not expose its spec, so nested blocks are
// found among the spec modules' exports and matched by the name the type's description carries
// ("block (authentication)", "named vrrp_instance blocks", ...). Shared by the docs (docs.ts) and
// the unsupported-keyword check (support-check.ts).
import type { BlockSpec, Field } from "./schema.ts";

export function isSpec(v: unknown): v is BlockSpec {
  return typeof v === "object" && v !== null && typeof (v as BlockSpec).name === "string" && Array.isArray((v as BlockSpec).fields);
}

/** The specs among modules' exports, exported one by one or in tables (checkerSpecs: one per checker type). */
export function collectSpecs(mods: readonly Record<string, unknown>[], except?: BlockSpec): BlockSpec[] {
  const specs: BlockSpec[] = [];
  const add = (v: unknown): void => { if (isSpec(v) && v !== except && !specs.includes(v)) specs.push(v); };
  for (const m of mods) for (const v of Object.values(m)) {
    if (isSpec(v)) add(v);
    else if (typeof v === "object" && v !== null && !Array.isArray(v)) Object.values(v).forEach(add);
  }
  return specs;
}

/**
 * The blocks a field holds: the specs its description names, when it speaks of blocks, in the
 * order it names them (a checker list names several).
 */
export function nestedSpecs(f: Field, specs: readonly BlockSpec[]): BlockSpec[] {
  const d = f.type.describe;
  if (!/\bblocks?\b/.test(d)) return [];
  const at = (s: BlockSpec): number => d.search(new RegExp(`(^|[ (])${s.name.replace(/[^\w]/g, "\\$&")}([ ),]|$)`));
  return specs.filter((s) => at(s) >= 0).sort((a, b) => at(a) - at(b));
}
