// lbctl events: the daemon's event stream (transitions, real servers up/down, reloads ...).
import { formatEvent } from "../console/format.ts";
import { withClient, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs, USAGE_EXIT } from "./config-cli.ts";

const usage = `lbctl events [--json] [--since SEQ] [--no-follow] ${DAEMON_OPTIONS_USAGE}`;

const cmd: Command = {
  summary: [
    "Print the daemon's recent events, then follow new ones until interrupted.",
    "  --json           one EventV1 JSON object per line (docs/api.md)",
    "  --since SEQ      only events after sequence number SEQ (default: every event the daemon kept)",
    "  --no-follow      print the kept events and exit",
    "Exit status: 0 (interrupted, or --no-follow), 69 no daemon or the daemon went away, 77 not permitted.",
    ...DAEMON_OPTIONS_HELP,
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, {
      json: { type: "boolean" }, since: { type: "string" }, "no-follow": { type: "boolean" }, ...DAEMON_OPTIONS,
    }, usage);
    if (!args) return USAGE_EXIT;
    const sinceText = (args.values.since as string | undefined) ?? "0";
    if (!/^\d+$/.test(sinceText)) { process.stderr.write(`lbctl: --since takes an event sequence number\nusage: ${usage}\n`); return USAGE_EXIT; }
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      return await withClient(args.values, async (c) => {
        await c.events({
          since: Number(sinceText), follow: !args.values["no-follow"], signal: stop.signal,
          onEvent: (e) => { process.stdout.write((args.values.json ? JSON.stringify(e) : formatEvent(e)) + "\n"); },
        });
        return 0;
      });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};
export default cmd;
