// What the configuration commands (check, convert, config show) share: option parsing with
// usage errors instead of exceptions, loading with the common options, and printing
// diagnostics as `FILE:LINE:COL: severity: message`.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { formatDiagnostic, sortDiagnostics, type Diagnostics } from "../config/diagnostics.ts";
import { defaultConfig, loadConfig, type LoadedConfig } from "../config/load.ts";
import { machineEnv } from "../config/machine-env.ts";

export const USAGE_EXIT = 64;

type Options = NonNullable<ParseArgsConfig["options"]>;
export type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Options every command that reads a configuration takes. */
export const LOAD_OPTIONS: Options = {
  file: { type: "string", short: "f" },
  "config-id": { type: "string" },
  "no-interfaces": { type: "boolean" },
};

export function parseCommandArgs(argv: string[], options: Options, usage: string, maxPositionals = 0): Parsed | undefined {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (r.positionals.length > maxPositionals) throw new Error(`unexpected argument '${r.positionals[maxPositionals]}'`);
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (e) {
    // node's messages go on to explain `--`; the first sentence is what the user needs.
    const msg = (e instanceof Error ? e.message : String(e)).split(". To specify")[0];
    process.stderr.write(`lbctl: ${msg}\nusage: ${usage}\n`);
    return undefined;
  }
}

/** Loads FILE, -f FILE, or the default configuration (`defaultConfig`); an error when there is none. */
export function loadFromArgs(values: Parsed["values"], file?: string): { path: string; reason: string; loaded: LoadedConfig } | { error: string } {
  const choice = defaultConfig(file ?? (values.file as string | undefined));
  if ("error" in choice) return choice;
  const env = machineEnv({ checkInterfaces: !values["no-interfaces"] });
  return { ...choice, loaded: loadConfig(choice.path, { configId: values["config-id"] as string | undefined, env }) };
}

export function formatDiagnostics(diag: Diagnostics): string {
  return sortDiagnostics(diag.list).map((d) => formatDiagnostic(d) + "\n").join("");
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export function summaryLine(diag: Diagnostics, path: string, setsNothing = false): string {
  if (diag.list.length === 0) return `lbctl: no problems in ${path}${setsNothing ? " (it sets nothing: only comments)" : ""}`;
  return `lbctl: ${plural(diag.errorCount, "error")}, ${plural(diag.warningCount, "warning")} in ${path}`;
}
