// keepalived.conf -> TOML. The TOML holds what the file sets (not the defaults), written
// through the same spec that reads it back, so loading the TOML gives the same effective
// configuration as loading the keepalived.conf (tested on every sample and corpus file).
import { stringify } from "smol-toml";
import { blockToToml, type Model } from "./schema.ts";
import { rootSpec } from "./spec/root.ts";

/** The TOML text for a model, with a header saying where it came from. */
export function modelToToml(model: Model, source?: string): string {
  const header = [
    source ? `# Converted by lbctl from ${source}.` : "# Written by lbctl.",
    "# Settings not written here take their defaults: `lbctl config show -f THIS_FILE` lists them all.",
    "",
  ].join("\n");
  const body = stringify(blockToToml(model, rootSpec));
  return `${header}\n${body}${body.endsWith("\n") ? "" : "\n"}`;
}
