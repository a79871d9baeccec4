// The CLI side of the control API: HTTP over the daemon's unix socket, with the socket's
// failure modes turned into sentences (no daemon, not root) instead of stack traces.
import type { ActionResultV1, EventV1, ReloadResultV1, StatusV1 } from "../daemon/api-types.ts";
import { EPOCH_HEADER } from "../daemon/control-api.ts";
import { checkName, discoverSocket, resolveSocketPath, type RunDirReader } from "../daemon/instance-names.ts";
import { readdirSync } from "node:fs";

/** sysexits(3): what a script can tell apart. */
export const EXIT_UNAVAILABLE = 69;
export const EXIT_NOPERM = 77;

/** An error meant for the user as it is, with the exit status it should end the command with. */
export class ApiClientError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

/** Runs a command body against the daemon; an ApiClientError becomes one line on stderr and its exit status. */
export async function withClient(values: Record<string, string | boolean | undefined>, body: (c: ApiClient) => Promise<number>): Promise<number> {
  try {
    const socket = socketFrom(values);
    return await body(new ApiClient(socket));
  } catch (e) {
    if (!(e instanceof ApiClientError)) throw e;
    process.stderr.write(`lbctl: ${e.message}\n`);
    return e.exitCode;
  }
}

/**
 * The daemon a client command talks to: --socket; else --namespace/--instance (the daemon's
 * net_namespace and instance, which name its socket: /run/lbctl/NS/lbctl_INST.sock); else
 * $LBCTL_SOCKET; else /run/lbctl/lbctl.sock, or the only daemon socket under /run/lbctl
 * (discoverSocket). A bad name, or several daemons to choose from, is an ApiClientError.
 */
export function socketFrom(values: Record<string, string | boolean | undefined>, env: string | undefined = process.env.LBCTL_SOCKET, runDir: RunDirReader = realRunDir): string {
  const str = (k: string) => (typeof values[k] === "string" && values[k] !== "" ? (values[k] as string) : undefined);
  const namespace = str("namespace"), instance = str("instance");
  for (const [what, v] of [["--namespace", namespace], ["--instance", instance]] as const) {
    const bad = v === undefined ? undefined : checkName(what, v);
    if (bad) throw new ApiClientError(bad, 64);
  }
  if (str("socket") || namespace || instance || env) return resolveSocketPath({ socket: str("socket"), explicitIdentity: { namespace, instance }, env: env || undefined });
  const found = discoverSocket(runDir);
  if ("error" in found) throw new ApiClientError(found.error, 64);
  return found.path;
}

const realRunDir: RunDirReader = {
  list(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
    } catch {
      return [];
    }
  },
};

/** The options every client command takes to choose its daemon (parseArgs form) and their help. */
export const DAEMON_OPTIONS = {
  socket: { type: "string", short: "s" },
  namespace: { type: "string" },
  instance: { type: "string" },
} as const;
export const DAEMON_OPTIONS_USAGE = "[--socket PATH] [--namespace NS] [--instance NAME]";
export const DAEMON_OPTIONS_HELP = [
  "  --socket PATH     the control socket (default $LBCTL_SOCKET, else /run/lbctl/lbctl.sock or the only one in /run/lbctl)",
  "  --namespace NS    the daemon whose net_namespace is NS (socket /run/lbctl/NS/lbctl.sock)",
  "  --instance NAME   the daemon whose instance is NAME (socket .../lbctl_NAME.sock)",
];

function connectError(e: unknown, socket: string): ApiClientError {
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  switch (code) {
    case "ENOENT": case "ENOTDIR": return new ApiClientError(`lbctl daemon is not running (no socket at ${socket})`, EXIT_UNAVAILABLE);
    case "ECONNREFUSED": return new ApiClientError(`lbctl daemon is not running (nothing listens on ${socket})`, EXIT_UNAVAILABLE);
    case "EACCES": case "EPERM": return new ApiClientError(`permission denied: the control socket is root only (${socket})`, EXIT_NOPERM);
  }
  return new ApiClientError(`cannot reach the lbctl daemon at ${socket}: ${e instanceof Error ? e.message : String(e)}`, EXIT_UNAVAILABLE);
}

export class ApiClient {
  constructor(readonly socket: string) {}

  private async request(method: string, path: string, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(`http://lbctl${path}`, { method, unix: this.socket, signal, ...(method === "POST" ? { body: "" } : {}) });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw connectError(e, this.socket);
    }
  }

  /** Parses a JSON answer; an error answer becomes an ApiClientError with the server's message. */
  private async json<T>(r: Response, acceptStatus: number[] = []): Promise<T> {
    let body: unknown;
    try { body = await r.json(); } catch { throw new ApiClientError(`the daemon sent an unreadable answer (HTTP ${r.status})`); }
    if (r.ok || acceptStatus.includes(r.status)) return body as T;
    const err = typeof body === "object" && body !== null ? (body as { error?: { message?: unknown }; message?: unknown }) : {};
    const message = typeof err.error?.message === "string" ? err.error.message : typeof err.message === "string" ? err.message : `HTTP ${r.status}`;
    throw new ApiClientError(message);
  }

  async status(): Promise<StatusV1> {
    return this.json<StatusV1>(await this.request("GET", "/v1/status"));
  }

  /** A rejected configuration (409) is a result, not an error. */
  async reload(): Promise<ReloadResultV1> {
    return this.json<ReloadResultV1>(await this.request("POST", "/v1/reload"), [409]);
  }

  async drain(vs: string, rs: string, undo: boolean): Promise<ActionResultV1> {
    const path = `/v1/virtual-servers/${encodeURIComponent(vs)}/real-servers/${encodeURIComponent(rs)}/${undo ? "undrain" : "drain"}`;
    return this.json<ActionResultV1>(await this.request("POST", path));
  }

  /**
   * Calls `onEvent` for each event after `since` and, when following, for live ones until
   * `signal` aborts (then it resolves) or the daemon goes away (an ApiClientError). Pass the `epoch` that
   * `onOpen` reported on the previous connection when reconnecting: if the daemon restarted
   * meanwhile, its numbering restarted too, and it replays everything it kept.
   */
  async events(o: {
    since?: number; epoch?: number; follow: boolean; signal?: AbortSignal;
    onOpen?(epoch: number | null): void; onEvent(e: EventV1): void;
  }): Promise<void> {
    const epoch = o.epoch === undefined ? "" : `&epoch=${o.epoch}`;
    const r = await this.request("GET", `/v1/events?since=${o.since ?? 0}${epoch}&follow=${o.follow ? 1 : 0}`, o.signal);
    if (!r.ok || !r.body) { await this.json<unknown>(r); return; }
    const header = Number(r.headers.get(EPOCH_HEADER));
    o.onOpen?.(Number.isFinite(header) && r.headers.has(EPOCH_HEADER) ? header : null);
    const dec = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of r.body) {
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) o.onEvent(JSON.parse(line) as EventV1);
        }
      }
    } catch {
      // Reset or cut: either way the daemon went away, as below.
    }
    if (o.follow && !o.signal?.aborted) throw new ApiClientError("the daemon closed the event stream (it stopped or restarted)", EXIT_UNAVAILABLE);
  }
}
