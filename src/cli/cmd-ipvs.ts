// `lbctl ipvs`: the IPVS table as the kernel has it, with owner and health from the daemon.
import { parseArgs } from "node:util";
import { IpvsClient } from "../ipvs/client.ts";
import { formatIpvsTable } from "../ipvs/format.ts";
import { ApiClient, ApiClientError, socketFrom, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";

const cmd: Command = {
  summary: "Show the kernel's IPVS table like `ipvsadm -Ln`, with the owner of each service (lbctl or another tool)\n" +
    "and, for lbctl's, the health of each real server. Works without a running daemon (owner then shows '?').\n" +
    "With --namespace NS: the table in network namespace NS, and the daemon running there.",
  usage: `lbctl ipvs ${DAEMON_OPTIONS_USAGE}`,
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({ args: argv, options: { ...DAEMON_OPTIONS }, strict: true }).values;
    } catch (e) {
      process.stderr.write(`lbctl ipvs: ${(e as Error).message}\n${cmd.usage}\n`);
      return 64;
    }
    // --namespace NS: the table of the daemon that runs there (its net_namespace; not net_namespace_ipvs).
    const ns = typeof values.namespace === "string" && values.namespace !== "" ? values.namespace : undefined;
    let socket: string;
    try { socket = socketFrom(values); } catch (e) { process.stderr.write(`lbctl ipvs: ${(e as Error).message}\n`); return 64; }
    const opened = await IpvsClient.open(ns === undefined ? {} : { netnsPath: `/run/netns/${ns}` });
    if (!opened.ok) { process.stderr.write(`lbctl ipvs: ${opened.error}\n`); return 69; }
    const client = opened.value;
    try {
      const [info, table] = [await client.getInfo(), await client.getTable()];
      if (!table.ok) { process.stderr.write(`lbctl ipvs: ${table.error}\n`); return 1; }
      let owned = null;
      try {
        owned = (await new ApiClient(socket).status()).virtualServers;
      } catch (e) {
        if (!(e instanceof ApiClientError)) throw e;
        process.stderr.write(`lbctl ipvs: owner and health unknown: ${e.message}\n`);
      }
      process.stdout.write(formatIpvsTable(info.ok ? info.value : null, table.value, owned));
      return 0;
    } finally {
      client.close();
    }
  },
};
export default cmd;
