// lbctl config show: the effective configuration, every default filled in.
import { stringify } from "smol-toml";
import { blockToToml } from "../config/schema.ts";
import { resolveVrrp, resolvedView } from "../config/resolve-vrrp.ts";
import { machineEnv } from "../config/machine-env.ts";
import { rootSpec } from "../config/spec/root.ts";
import type { Command } from "./command.ts";
import { formatDiagnostics, LOAD_OPTIONS, loadFromArgs, parseCommandArgs, summaryLine, USAGE_EXIT } from "./config-cli.ts";

const usage = "lbctl config show [-f FILE] [--json] [--config-id ID] [--no-interfaces]";

const cmd: Command = {
  summary: [
    "Show the effective configuration: every setting, defaults included, as TOML (or JSON with --json).",
    "--json adds vrrp_resolved: each VRRP instance as the daemon runs it (vrrp_strict, inheritance, version)",
    "and keepalived's verdicts (scripts disabled, tracking weights ignored), the ones `lbctl check` prints.",
    "Problems go to standard error; with errors nothing is shown (exit 1).",
    "FILE defaults as for `lbctl check`: /etc/lbctl/lbctl.toml if it sets anything, else /etc/keepalived/keepalived.conf.",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, { ...LOAD_OPTIONS, json: { type: "boolean" } }, usage, 1);
    if (!args) return USAGE_EXIT;
    if (args.positionals[0] !== "show") {
      process.stderr.write(`lbctl: config needs a subcommand: show\nusage: ${usage}\n`);
      return USAGE_EXIT;
    }
    const r = loadFromArgs(args.values);
    if ("error" in r) { process.stderr.write(`lbctl: ${r.error}\n`); return 1; }
    const { path, loaded } = r;
    process.stderr.write(formatDiagnostics(loaded.diag));
    if (loaded.diag.hasErrors) { process.stderr.write(summaryLine(loaded.diag, path) + "\n"); return 1; }
    // --json adds `vrrp_resolved`: every instance as the daemon runs it and keepalived's verdicts
    // (the model `lbctl check`, the daemon and the keepalived dumps all read; resolve-vrrp.ts).
    const resolved = Object.keys(loaded.effective.vrrp_instance ?? {}).length > 0
      ? { vrrp_resolved: resolvedView(resolveVrrp(loaded.effective, machineEnv({ checkInterfaces: false }))) }
      : {};
    process.stdout.write(args.values.json
      ? JSON.stringify({ ...loaded.effective, ...resolved }, null, 2) + "\n"
      : stringify(blockToToml(loaded.effective, rootSpec)) + "\n");
    return 0;
  },
};
export default cmd;
