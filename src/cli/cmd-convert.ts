// lbctl convert: keepalived.conf -> lbctl TOML, refusing a configuration with errors.
import { writeFileSync } from "node:fs";
import { modelToToml } from "../config/convert.ts";
import type { Command } from "./command.ts";
import { formatDiagnostics, loadFromArgs, parseCommandArgs, summaryLine, USAGE_EXIT } from "./config-cli.ts";

const usage = "lbctl convert FILE [-o OUT] [--config-id ID]";

const cmd: Command = {
  summary: [
    "Convert a keepalived.conf (with its includes) to lbctl's TOML format.",
    "Writes to OUT, or standard output. Warnings are printed and the conversion goes on;",
    "errors stop it (exit 1). Loading the TOML gives the same effective configuration.",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, { output: { type: "string", short: "o" }, "config-id": { type: "string" } }, usage, 1);
    if (!args) return USAGE_EXIT;
    const file = args.positionals[0];
    if (!file) { process.stderr.write(`lbctl: convert needs a FILE\nusage: ${usage}\n`); return USAGE_EXIT; }
    // Interfaces of this machine say nothing about the file being converted.
    const r = loadFromArgs({ ...args.values, "no-interfaces": true }, file);
    if ("error" in r) { process.stderr.write(`lbctl: ${r.error}\n`); return 1; }
    const { path, loaded } = r;
    process.stderr.write(formatDiagnostics(loaded.diag));
    if (loaded.diag.hasErrors) { process.stderr.write(summaryLine(loaded.diag, path) + "; not converted\n"); return 1; }
    const id = args.values["config-id"] as string | undefined;
    const toml = modelToToml(loaded.model, id === undefined ? path : `${path} (config id ${id})`);
    const out = args.values.output as string | undefined;
    if (!out) { process.stdout.write(toml); return 0; }
    try {
      writeFileSync(out, toml);
    } catch (e) {
      process.stderr.write(`lbctl: cannot write ${out}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    return 0;
  },
};
export default cmd;
