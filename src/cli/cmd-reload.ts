// lbctl reload: ask the daemon to check and apply its configuration file again.
import { withClient, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs, USAGE_EXIT } from "./config-cli.ts";

const usage = `lbctl reload [--json] ${DAEMON_OPTIONS_USAGE}`;

const cmd: Command = {
  summary: [
    "Reload the running daemon's configuration. The file is checked first: with any error the daemon",
    "keeps the configuration it runs and nothing changes. Prints the diagnostics (FILE:LINE:COL: ...).",
    "VRRP instances keep their state: changed settings apply in place (a master keeps the addresses it",
    "holds, adds and announces only new ones); only a new interface, VRID, family or use_vmac restarts one.",
    "  --json           the API's ReloadResultV1 as it is",
    ...DAEMON_OPTIONS_HELP,
    "Exit status: 0 applied, 1 rejected, 69 no daemon, 77 not permitted.",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, { json: { type: "boolean" }, ...DAEMON_OPTIONS }, usage);
    if (!args) return USAGE_EXIT;
    return withClient(args.values, async (c) => {
      const r = await c.reload();
      if (args.values.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      } else {
        const lines = [...r.errors, ...r.warnings];
        lines.push(r.ok
          ? `reloaded${r.warnings.length ? ` with ${r.warnings.length} warning(s)` : ""}`
          : `reload rejected: ${r.errors.length} error(s); the daemon keeps running its previous configuration`);
        (r.ok ? process.stdout : process.stderr).write(lines.join("\n") + "\n");
      }
      return r.ok ? 0 : 1;
    });
  },
};
export default cmd;
