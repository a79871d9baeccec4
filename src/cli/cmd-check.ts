import type { Command } from "./command.ts";
const cmd: Command = {
  summary: "Check a configuration like `keepalived -t`.",
  usage: "lbctl check [-f FILE] [--config-id ID]",
  async run() { process.stderr.write("lbctl check: not implemented yet\n"); return 1; },
};
export default cmd;
