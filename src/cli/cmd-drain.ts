// lbctl drain / undrain: take a real server out of rotation (IPVS weight 0, existing
// connections finish) and put it back. A drain survives reloads and daemon restarts.
import { withClient, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs, USAGE_EXIT } from "./config-cli.ts";

function drainCommand(undo: boolean): Command {
  const name = undo ? "undrain" : "drain";
  const usage = `lbctl ${name} VIRTUAL_SERVER REAL_SERVER ${DAEMON_OPTIONS_USAGE}`;
  return {
    summary: [
      undo
        ? "Put a drained real server back into rotation with its configured weight."
        : "Drain a real server: weight 0 in IPVS, so it takes no new connections; kept across reloads until undrained.",
      "VIRTUAL_SERVER as `lbctl status` shows it (\"TCP 10.0.0.1:80\"), or ADDR:PORT when that is unambiguous;",
      "REAL_SERVER as ADDR:PORT ([ADDR]:PORT for IPv6).",
      ...DAEMON_OPTIONS_HELP,
      "Exit status: 0 done, 1 refused (unknown server ...), 69 no daemon, 77 not permitted.",
    ].join("\n"),
    usage,
    async run(argv) {
      const args = parseCommandArgs(argv, { ...DAEMON_OPTIONS }, usage, 2);
      if (!args) return USAGE_EXIT;
      if (args.positionals.length !== 2) { process.stderr.write(`lbctl: ${name} needs a virtual server and a real server\nusage: ${usage}\n`); return USAGE_EXIT; }
      const [vs, rs] = args.positionals;
      return withClient(args.values, async (c) => {
        const r = await c.drain(vs, rs, undo);
        process.stdout.write(`${r.message}\n`);
        return 0;
      });
    },
  };
}

export const undrain = drainCommand(true);
export default drainCommand(false);
