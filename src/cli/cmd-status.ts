// lbctl status: what the running daemon is doing, from its control API.
import { formatStatus } from "../console/format.ts";
import { withClient, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs, USAGE_EXIT } from "./config-cli.ts";

const usage = `lbctl status [--json] ${DAEMON_OPTIONS_USAGE}`;

const cmd: Command = {
  summary: [
    "Show the running daemon: its processes and last reload, every VRRP instance (state, priorities,",
    "master), every virtual server and its real servers (health, weight, drain, reason).",
    "  --json           the API's StatusV1 document as it is (docs/api.md)",
    ...DAEMON_OPTIONS_HELP,
    "Exit status: 0, 69 no daemon, 77 not permitted (the socket is root only).",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, { json: { type: "boolean" }, ...DAEMON_OPTIONS }, usage);
    if (!args) return USAGE_EXIT;
    return withClient(args.values, async (c) => {
      const s = await c.status();
      process.stdout.write(args.values.json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s, Date.now()));
      return 0;
    });
  },
};
export default cmd;
