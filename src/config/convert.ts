// keepalived.conf -> TOML. The TOML holds what the file sets (not the defaults), written
// through the same spec that reads it back, so loading the TOML gives the same effective
// configuration as loading the keepalived.conf (tested on every sample and corpus file).
import { stringify } from "smol-toml";
import { blockToToml, type Model } from "./schema.ts";
import { rootSpec } from "./spec/root.ts";

/** Inline arrays longer than this are written one item per line, like a keepalived block. */
const MAX_INLINE = 80;

/** The TOML text for a model, with a header saying where it came from. */
export function modelToToml(model: Model, source?: string): string {
  const header = [
    source ? `# Converted by lbctl from ${source}.` : "# Written by lbctl.",
    "# Settings not written here take their defaults: `lbctl config show -f THIS_FILE` lists them all.",
    "",
  ].join("\n");
  const body = stringify(blockToToml(model, rootSpec)).split("\n").map(unfoldLongArray).join("\n");
  return `${header}\n${body}${body.endsWith("\n") ? "" : "\n"}`;
}

/** `key = [ item, item, ... ]` -> one item per line when the line is too long to read. */
export function unfoldLongArray(line: string): string {
  if (line.length <= MAX_INLINE) return line;
  const m = /^(\s*)([^=]+?) = \[ (.*) \]$/.exec(line);
  if (!m) return line;
  const items = splitTopLevel(m[3]!);
  if (!items) return line;
  return [`${m[1]}${m[2]} = [`, ...items.map((i) => `${m[1]}  ${i},`), `${m[1]}]`].join("\n");
}

/** Splits `"a", { b = 1 }, [ 2, 3 ]` at its top-level commas; undefined if unbalanced. */
function splitTopLevel(text: string): string[] | undefined {
  const items: string[] = [];
  let start = 0, depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const q = c;
      for (i++; i < text.length && text[i] !== q; i++) if (q === '"' && text[i] === "\\") i++;
    } else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  items.push(text.slice(start).trim());
  return depth === 0 && items.every((x) => x.length > 0) ? items : undefined;
}
