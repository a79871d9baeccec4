// The demo's HTTP server and client, run by the lbctl binary itself (hidden commands
// `__demo-http` and `__demo-client`) so that `lbctl demo` needs nothing the binary lacks.
// Each runs inside a namespace the demo made (`ip netns exec NS lbctl __demo-...`).

export const DEMO_HTTP_COMMAND = "__demo-http";
export const DEMO_CLIENT_COMMAND = "__demo-client";

/** One request as the client prints it, one JSON line each. */
export interface ClientSample {
  /** Wall-clock start of the request (ms since the epoch). */
  t: number;
  ok: boolean;
  /** Who answered (the server's X-Demo-Node header). */
  node?: string;
  /** Time to the answer, or to the failure. */
  ms: number;
  err?: string;
}

function flag(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

function usageError(cmd: string, msg: string): number {
  process.stderr.write(`lbctl ${cmd}: ${msg}\n`);
  return 64;
}

/** `lbctl __demo-http --name NODE [--port 80]`: a page naming the node, on every address of the namespace. */
export async function runDemoHttp(argv: string[]): Promise<number> {
  const name = flag(argv, "--name", "");
  const port = Number(flag(argv, "--port", "80"));
  if (!/^[\w.-]{1,32}$/.test(name)) return usageError(DEMO_HTTP_COMMAND, "--name NODE is required (letters, digits, '.', '-', '_')");
  if (!Number.isInteger(port) || port < 1 || port > 65535) return usageError(DEMO_HTTP_COMMAND, "--port takes 1..65535");
  let server: ReturnType<typeof Bun.serve>;
  try {
    // 0.0.0.0: the page must answer on the VIP, which comes and goes on this node.
    server = Bun.serve({
      hostname: "0.0.0.0", port, reusePort: false,
      fetch: () => new Response(`lbctl demo: served by ${name}\n`, { headers: { "x-demo-node": name, "content-type": "text/plain" } }),
    });
  } catch (e) {
    process.stderr.write(`lbctl ${DEMO_HTTP_COMMAND}: cannot listen on port ${port}: ${(e as Error).message}\n`);
    return 69;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  server.stop(true);
  return 0;
}

/**
 * `lbctl __demo-client URL [--interval MS] [--timeout MS] [--count N]`: requests URL every
 * interval (a fixed rate: a slow request does not delay the next) on a fresh connection each
 * time, so a failover shows as failed requests rather than one stuck connection; prints one
 * ClientSample per request. Runs until SIGTERM, or for `count` requests.
 */
export async function runDemoClient(argv: string[]): Promise<number> {
  const url = argv.find((a) => a.startsWith("http://"));
  const interval = Number(flag(argv, "--interval", "100"));
  const timeout = Number(flag(argv, "--timeout", "300"));
  const count = Number(flag(argv, "--count", "0"));
  if (!url) return usageError(DEMO_CLIENT_COMMAND, "a URL (http://...) is required");
  if (!(interval >= 10) || !(timeout >= 10) || !(count >= 0)) return usageError(DEMO_CLIENT_COMMAND, "--interval and --timeout take at least 10 ms, --count 0 or more");
  let sent = 0, pending = 0, stopping = false;
  const write = (s: ClientSample) => process.stdout.write(JSON.stringify(s) + "\n");
  const one = async (): Promise<void> => {
    const t = Date.now(), t0 = performance.now();
    pending++;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(timeout), keepalive: false, headers: { connection: "close" } });
      await r.arrayBuffer();
      const ms = Math.round(performance.now() - t0);
      if (r.ok) write({ t, ok: true, node: r.headers.get("x-demo-node") ?? "?", ms });
      else write({ t, ok: false, ms, err: `HTTP ${r.status}` });
    } catch (e) {
      const err = (e as Error).name === "TimeoutError" ? `no answer within ${timeout} ms` : ((e as { code?: string }).code ?? (e as Error).message);
      write({ t, ok: false, ms: Math.round(performance.now() - t0), err });
    } finally { pending--; }
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (stopping) return;
      void one();
      if (count && ++sent >= count) { stopping = true; clearInterval(timer); resolve(); }
    }, interval);
    const stop = () => { stopping = true; clearInterval(timer); resolve(); };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  while (pending > 0) await Bun.sleep(10);
  return 0;
}
