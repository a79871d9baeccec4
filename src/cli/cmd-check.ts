// lbctl check: `keepalived -t`, with every problem at FILE:LINE:COL and an exit code that
// separates errors from warnings.
import type { Command } from "./command.ts";
import { formatDiagnostics, LOAD_OPTIONS, loadFromArgs, parseCommandArgs, summaryLine, USAGE_EXIT } from "./config-cli.ts";

const usage = "lbctl check [-f FILE] [--config-id ID] [--no-interfaces]";

const cmd: Command = {
  summary: [
    "Check a configuration (keepalived.conf or lbctl TOML) like `keepalived -t`, without starting anything.",
    "Prints every problem as FILE:LINE:COL: error|warning: message, then a summary line.",
    "Without -f: /etc/lbctl/lbctl.toml if it exists and sets anything (comments alone do not count),",
    "else /etc/keepalived/keepalived.conf; the file checked and why is said on standard error.",
    "  --config-id ID    select @ID conditional lines, as keepalived's --config-id",
    "  --no-interfaces   do not check that the interfaces named exist on this machine",
    "Exit status: 0 no problems, 1 errors, 2 warnings only.",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, LOAD_OPTIONS, usage);
    if (!args) return USAGE_EXIT;
    const r = loadFromArgs(args.values);
    if ("error" in r) { process.stderr.write(`lbctl: ${r.error}\n`); return 1; }
    const { path, reason, loaded } = r;
    if (args.values.file === undefined) process.stderr.write(`lbctl: checking ${path} (${reason})\n`);
    process.stdout.write(formatDiagnostics(loaded.diag) + summaryLine(loaded.diag, path, loaded.setsNothing) + "\n");
    return loaded.diag.hasErrors ? 1 : loaded.diag.warningCount > 0 ? 2 : 0;
  },
};
export default cmd;
