// TCP_CHECK: the server is up when a TCP connection to it completes within connect_timeout.
import { StreamConn, timed } from "./conn.ts";
import type { CheckResult, TcpCheckParams } from "./types.ts";
import { formatEndpoint } from "./vs-state.ts";

export function run(params: TcpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    const conn = await StreamConn.open(params, signal);
    conn.close();
    return { ok: true, reason: `connected to ${formatEndpoint(params.connectIp, params.connectPort)}` };
  });
}
