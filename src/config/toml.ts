// The TOML front end: smol-toml parses the text, the root spec reads the resulting tables
// (the same spec that reads keepalived.conf), and toml-locate.ts points every semantic
// problem at its key's line and column.
import { parse, TomlError } from "smol-toml";
import type { Diagnostics } from "./diagnostics.ts";
import { parseTomlBlock, type Model } from "./schema.ts";
import { rootSpec } from "./spec/root.ts";
import { tomlLocator } from "./toml-locate.ts";

/** Reads a TOML configuration; undefined when the text is not valid TOML (reported in diag). */
export function parseTomlConfig(text: string, file: string, diag: Diagnostics): Model | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    if (e instanceof TomlError) {
      // smol-toml's message carries a code excerpt after the first line; the location says enough.
      const msg = e.message.replace(/^Invalid TOML document: /, "").split("\n")[0]!;
      diag.error(`TOML syntax: ${msg}`, { file, line: e.line, col: e.column });
      return undefined;
    }
    throw e;
  }
  const locate = tomlLocator(text, file);
  return parseTomlBlock(doc, rootSpec, { diag, where: "the top level", locate, path: [] });
}
