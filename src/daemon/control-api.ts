// The control API: versioned JSON over HTTP on a root-only unix socket (docs/api.md).
// `route` is the whole API as a function of a request and a DaemonFacade, so it is tested
// without a daemon; `serveControlApi` is the thin shell around it (http-server.ts).
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync, rmdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  API_VERSION, eventFromChild, ipvsFromChild, virtualServersFromChild, vrrpFromChild,
  type ActionResultV1, type ApiErrorV1, type ChildRole, type EventInput, type EventV1, type RealServerV1,
  type ReloadResultV1, type StatusV1, type VirtualServerV1,
} from "./api-types.ts";
import { DEFAULT_DRAIN_FILE, DrainStore } from "./drain-store.ts";
import { EventLog } from "./events.ts";
import { headerValue, splitTarget, type HttpError, type HttpRequest } from "./http-parser.ts";
import { raiseOpenFileLimit, serveHttp, type HttpResponse, type HttpServer } from "./http-server.ts";
import { serveMetrics } from "./metrics.ts";

export const DEFAULT_SOCKET = "/run/lbctl/lbctl.sock";

export type ControlAction =
  | { kind: "drain" | "undrain"; vs: string; rs: string }
  | { kind: "disable-checker" | "enable-checker"; vs: string; rs: string; checker: string }
  | { kind: "force-backup" | "resume"; instance: string };

/** What the daemon (the supervisor) offers the API. The router validates before calling it. */
export interface DaemonFacade {
  /** The status as last reported by the children. */
  status(): StatusV1;
  /** The children's current status (asked for now; what they last said if they are busy). */
  freshStatus(): Promise<StatusV1>;
  /** Check the configuration file and apply it only when it has no errors. */
  reload(): Promise<ReloadResultV1>;
  /** Called only with objects that exist in status(). */
  action(a: ControlAction): Promise<ActionResultV1>;
  /** Kept events with seq > since, oldest first. */
  eventsSince(since: number): EventV1[];
  subscribe(listener: (e: EventV1) => void): () => void;
}

export interface ApiRequest {
  method: string;
  /** The raw (still percent-encoded) path, without the query. */
  path: string;
  query: URLSearchParams;
  body: string;
  accept?: string;
}

export type EventFormat = "ndjson" | "sse";

export type ApiResponse =
  | { kind: "json"; status: number; body: unknown; headers?: Record<string, string> }
  /**
   * An event stream: replay kept events after `since`, then follow live ones unless follow is
   * false. `epoch` names this daemon's run (its start time): seq numbers restart with the daemon.
   */
  | { kind: "events"; since: number; follow: boolean; format: EventFormat; epoch: number };

function json(status: number, body: unknown, headers?: Record<string, string>): ApiResponse {
  return { kind: "json", status, body, ...(headers ? { headers } : {}) };
}

function apiError(status: number, code: string, message: string, headers?: Record<string, string>): ApiResponse {
  return json(status, { error: { code, message } } satisfies ApiErrorV1, headers);
}

type Params = Record<string, string>;
type Handler = (req: ApiRequest, p: Params, f: DaemonFacade) => Promise<ApiResponse> | ApiResponse;

interface Route { pattern: string[]; methods: Record<string, Handler> }

function post(h: Handler): Record<string, Handler> { return { POST: h }; }

const ROUTES: Route[] = [
  { pattern: ["v1", "status"], methods: { GET: async (req, _p, f) => noQuery(req) ?? json(200, await f.freshStatus()) } },
  { pattern: ["v1", "events"], methods: { GET: (req, _p, f) => events(req, f.status().daemon.startedAt) } },
  { pattern: ["v1", "reload"], methods: post(reload) },
  ...(["drain", "undrain"] as const).map((kind): Route => ({
    pattern: ["v1", "virtual-servers", ":vs", "real-servers", ":rs", kind],
    methods: post((req, p, f) => realServerAction(req, p, f, (vs, rs) => ({ kind, vs: vs.key, rs: rs.key }))),
  })),
  ...(["disable", "enable"] as const).map((verb): Route => ({
    pattern: ["v1", "virtual-servers", ":vs", "real-servers", ":rs", "checkers", ":checker", verb],
    methods: post((req, p, f) => realServerAction(req, p, f, (vs, rs) => {
      const c = rs.checkers.find((x) => x.id === p.checker);
      if (!c) return { response: apiError(404, "not_found", `real server ${rs.key} of ${vs.key} has no checker '${p.checker}' (see GET /v1/status)`) };
      return { kind: verb === "disable" ? "disable-checker" : "enable-checker", vs: vs.key, rs: rs.key, checker: c.id };
    })),
  })),
  ...(["force-backup", "resume"] as const).map((kind): Route => ({
    pattern: ["v1", "vrrp", "instances", ":name", kind],
    methods: post(async (req, p, f) => {
      const bad = checkBody(req) ?? noQuery(req);
      if (bad) return bad;
      const inst = (await f.freshStatus()).vrrp.instances.find((i) => i.name === p.name);
      if (!inst) return apiError(404, "not_found", `no VRRP instance '${p.name}'`);
      return actionResponse(await f.action({ kind, instance: inst.name }));
    }),
  })),
];

/** The API: one request in, one response out. Never throws for anything a client can send. */
export async function route(req: ApiRequest, facade: DaemonFacade): Promise<ApiResponse> {
  const segments = splitPath(req.path);
  if (!segments) return apiError(400, "bad_path", "the path is not valid percent-encoding");
  for (const r of ROUTES) {
    const params = match(r.pattern, segments);
    if (!params) continue;
    const h = r.methods[req.method];
    if (!h) {
      const allow = Object.keys(r.methods).join(", ");
      return apiError(405, "method_not_allowed", `${req.method} is not allowed here; use ${allow}`, { Allow: allow });
    }
    try {
      return await h(req, params, facade);
    } catch (e) {
      // The facade failing is the daemon's problem, not the client's: say so, without a stack.
      return apiError(500, "internal", e instanceof Error ? e.message : String(e));
    }
  }
  return apiError(404, "not_found", `no such endpoint: ${req.path}`);
}

function splitPath(path: string): string[] | null {
  const parts = path.split("/").filter((s, i, all) => !(s === "" && (i === 0 || i === all.length - 1)));
  try { return parts.map((s) => decodeURIComponent(s)); } catch { return null; }
}

function match(pattern: string[], segments: string[]): Params | null {
  if (pattern.length !== segments.length) return null;
  const p: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(":")) {
      if (segments[i] === "") return null;
      p[pattern[i].slice(1)] = segments[i];
    } else if (pattern[i] !== segments[i]) return null;
  }
  return p;
}

/** Actions take no parameters: the body must be empty or `{}`, so a typo'd option is not silently ignored. */
function checkBody(req: ApiRequest): ApiResponse | null {
  const text = req.body.trim();
  if (text === "") return null;
  let v: unknown;
  try { v = JSON.parse(text); } catch { return apiError(400, "bad_body", "the body must be empty or a JSON object"); }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return apiError(400, "bad_body", "the body must be empty or a JSON object");
  const keys = Object.keys(v);
  if (keys.length > 0) return apiError(400, "bad_body", `unknown field '${keys[0]}': this endpoint takes no parameters`);
  return null;
}

function noQuery(req: ApiRequest, allowed: readonly string[] = []): ApiResponse | null {
  for (const k of req.query.keys()) {
    if (!allowed.includes(k)) return apiError(400, "bad_query", `unknown query parameter '${k}'${allowed.length ? ` (known: ${allowed.join(", ")})` : ""}`);
  }
  return null;
}

/**
 * A client that reconnects passes the `since` and `epoch` it saw; when the epoch is not this
 * daemon's (it was restarted and numbers from 1 again), it gets every kept event instead.
 */
function events(req: ApiRequest, epoch: number): ApiResponse {
  const bad = noQuery(req, ["since", "epoch", "follow", "format"]);
  if (bad) return bad;
  const sinceText = req.query.get("since") ?? "0";
  if (!/^\d{1,15}$/.test(sinceText)) return apiError(400, "bad_query", "since must be a non-negative integer (an event seq)");
  const epochText = req.query.get("epoch");
  if (epochText !== null && !/^\d{1,15}$/.test(epochText)) return apiError(400, "bad_query", "epoch must be a non-negative integer (from the Lbctl-Epoch header)");
  const sameRun = epochText === null || Number(epochText) === epoch;
  const followText = req.query.get("follow") ?? "1";
  if (followText !== "0" && followText !== "1") return apiError(400, "bad_query", "follow must be 0 or 1");
  const formatText = req.query.get("format") ?? (req.accept?.includes("text/event-stream") ? "sse" : "ndjson");
  if (formatText !== "ndjson" && formatText !== "sse") return apiError(400, "bad_query", "format must be ndjson or sse");
  return { kind: "events", since: sameRun ? Number(sinceText) : 0, follow: followText === "1", format: formatText, epoch };
}

async function reload(req: ApiRequest, _p: Params, f: DaemonFacade): Promise<ApiResponse> {
  const bad = checkBody(req) ?? noQuery(req);
  if (bad) return bad;
  const r = await f.reload();
  // 409: the request was fine, the configuration on disk was not; the old one keeps running.
  return json(r.ok ? 200 : 409, r);
}

/**
 * Finds a virtual server by its key ("TCP 10.0.0.1:80") or, when exactly one matches, by its
 * address and port alone ("10.0.0.1:80"), so `lbctl drain 10.0.0.1:80 10.0.0.2:80` works.
 */
export function findVirtualServer(list: readonly VirtualServerV1[], name: string): VirtualServerV1 | { error: string } {
  const exact = list.find((v) => v.key === name);
  if (exact) return exact;
  const byEndpoint = list.filter((v) => v.key.split(" ").slice(1).join(" ") === name);
  if (byEndpoint.length === 1) return byEndpoint[0];
  if (byEndpoint.length > 1) return { error: `'${name}' matches ${byEndpoint.map((v) => v.key).join(" and ")}; name one with its protocol` };
  return { error: `no virtual server '${name}'` };
}

async function realServerAction(
  req: ApiRequest, p: Params, f: DaemonFacade,
  toAction: (vs: VirtualServerV1, rs: RealServerV1) => ControlAction | { response: ApiResponse },
): Promise<ApiResponse> {
  const bad = checkBody(req) ?? noQuery(req);
  if (bad) return bad;
  const vs = findVirtualServer((await f.freshStatus()).virtualServers, p.vs);
  if ("error" in vs) return apiError(404, "not_found", vs.error);
  const rs = vs.realServers.find((r) => r.key === p.rs);
  if (!rs) return apiError(404, "not_found", `virtual server ${vs.key} has no real server '${p.rs}'`);
  const a = toAction(vs, rs);
  if ("response" in a) return a.response;
  return actionResponse(await f.action(a));
}

function actionResponse(r: ActionResultV1): ApiResponse {
  return json(r.ok ? 200 : 409, r);
}

// ---------------------------------------------------------------------------
// Event streams

function encodeEvent(e: EventV1, format: EventFormat): string {
  return format === "sse" ? `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n` : JSON.stringify(e) + "\n";
}

/** Replays kept events after `since`, then (when following) streams live ones until the client goes. */
/** Unread events a follower may have queued before it is cut off (it can reconnect with ?since=). */
export const MAX_BACKLOG = 10_000;

export function eventStream(facade: DaemonFacade, since: number, follow: boolean, format: EventFormat, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let unsubscribe: (() => void) | null = null;
  const stop = (): void => { unsubscribe?.(); unsubscribe = null; };
  // highWaterMark counts chunks, i.e. events: desiredSize goes negative by one per unread event.
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let last = since;
      const send = (e: EventV1): void => {
        if (e.seq <= last) return;
        last = e.seq;
        try {
          controller.enqueue(enc.encode(encodeEvent(e, format)));
          // A client that stopped reading must not make the daemon buffer without bound.
          const queued = 1 - (controller.desiredSize ?? 1);
          if (follow && queued > MAX_BACKLOG) { stop(); controller.close(); }
        } catch { stop(); }
      };
      // Replay, then subscribe, in one synchronous stretch: no event can be published in between.
      for (const e of facade.eventsSince(since)) send(e);
      if (follow) unsubscribe = facade.subscribe(send);
      if (!follow) { controller.close(); return; }
      if (format === "sse") controller.enqueue(enc.encode(": following\n\n"));
      signal?.addEventListener("abort", () => { stop(); try { controller.close(); } catch { /* already closed */ } });
    },
    cancel() { stop(); },
  }, { highWaterMark: 1 });
}

// ---------------------------------------------------------------------------
// The HTTP shell (http-server.ts: lbctl's own HTTP/1.1 server; Bun.serve did not answer pipelined
// requests or a half-closed client, see issue 13)

export interface ControlServer { socketPath: string; readonly connections: number; readonly maxConnections: number; stop(): Promise<void> }

const MAX_BODY = 64 * 1024;
export const EPOCH_HEADER = "lbctl-epoch";

/** One parsed HTTP request through the router; `signal` aborts when the client goes (it ends an event stream). */
export async function handleRequest(req: HttpRequest, facade: DaemonFacade, signal?: AbortSignal): Promise<HttpResponse> {
  const target = splitTarget(req.target);
  if (!target) return errorResponse({ status: 400, code: "bad_path", message: "the request target must be a path such as /v1/status" });
  const body = new TextDecoder().decode(req.body);
  const r = await route({ method: req.method, path: target.path, query: new URLSearchParams(target.query), body, accept: headerValue(req, "accept") }, facade);
  if (r.kind === "json") return jsonResponse(r);
  const type = r.format === "sse" ? "text/event-stream" : "application/x-ndjson";
  return {
    status: 200,
    headers: { "Content-Type": type, "Cache-Control": "no-store", "Lbctl-Epoch": String(r.epoch) },
    stream: eventStream(facade, r.since, r.follow, r.format, signal),
  };
}

function jsonResponse(r: Extract<ApiResponse, { kind: "json" }>): HttpResponse {
  return { status: r.status, headers: { "Content-Type": "application/json", ...r.headers }, body: JSON.stringify(r.body) + "\n" };
}

/** What the server answers for a request it could not read, a failing handler (500) and at its connection cap (503). */
function errorResponse(e: HttpError): HttpResponse {
  return jsonResponse({ kind: "json", status: e.status, body: { error: { code: e.code, message: e.message } } satisfies ApiErrorV1 });
}

/**
 * Listens on `socketPath` (0600, in a 0700 directory when it creates one). Access control is the
 * file mode: only root (the socket's owner) can connect. Refuses to take over a socket another
 * process is listening on.
 */
export async function serveControlApi(o: { socketPath: string; facade: DaemonFacade; maxConnections?: number; idleTimeoutMs?: number }): Promise<ControlServer> {
  const dir = dirname(o.socketPath);
  // A directory made here (/run/lbctl/NS for a net_namespace) goes at stop when empty, as
  // keepalived's /run/keepalived/NS does.
  const madeDir = !existsSync(dir);
  if (madeDir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  await removeStaleSocket(o.socketPath);
  // umask first, so the socket is never reachable with a looser mode, even for an instant.
  const oldMask = process.umask(0o177);
  let server: HttpServer;
  try {
    server = serveHttp({
      unix: o.socketPath,
      handle: (req, signal) => handleRequest(req, o.facade, signal),
      errorResponse,
      limits: { maxBody: MAX_BODY },
      maxConnections: o.maxConnections,
      idleTimeoutMs: o.idleTimeoutMs,
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(o.socketPath, 0o600);
  return {
    socketPath: o.socketPath,
    get connections() { return server.connections; },
    maxConnections: server.maxConnections,
    async stop() {
      await server.stop();
      try { unlinkSync(o.socketPath); } catch { /* already gone */ }
      if (madeDir) { try { rmdirSync(dir); } catch { /* not empty: another daemon's socket is there */ } }
    },
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it`);
  const live = await fetch("http://lbctl/v1/status", { unix: path, signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
  if (live) throw new Error(`another lbctl daemon is listening on ${path}`);
  unlinkSync(path);
}

// ---------------------------------------------------------------------------
// The facade over the Supervisor: status assembled from the children's reports, actions routed
// to the child that owns them, drains kept in the DrainStore and re-sent after every reload
// (and whenever the checker process comes back: call reapplyDrains() then).

/** The part of the Supervisor the facade uses (src/daemon/supervisor.ts). */
export interface SupervisorLike {
  readonly startedAt: number;
  readonly lastReload: { at: number; ok: boolean; message: string } | null;
  readonly reloadCount: number;
  reload(): { ok: boolean; errors: string[]; warnings: string[] } | Promise<{ ok: boolean; errors: string[]; warnings: string[] }>;
  action(role: ChildRole, action: string, args: Record<string, string>): Promise<{ ok: boolean; message: string }>;
  statusOf(role: ChildRole): Record<string, unknown> | undefined;
  refreshStatus(): Promise<void>;
  childInfo(): { role: ChildRole; pid: number | null; ready: boolean; restarts: number }[];
}

export interface SupervisorFacadeOptions {
  supervisor: SupervisorLike;
  events: EventLog;
  drains: DrainStore;
  configPath: string;
  /** Why the daemon reads that file (`chooseConfig` in config/load.ts). */
  configReason: string;
  version: string;
  pid: number;
  now: () => number;
}

/** The action names and arguments the children receive for each ControlAction. */
export function childAction(a: ControlAction): { role: ChildRole; action: string; args: Record<string, string> } {
  switch (a.kind) {
    case "drain": case "undrain": return { role: "check", action: a.kind, args: { vs: a.vs, rs: a.rs } };
    case "disable-checker": case "enable-checker": return { role: "check", action: a.kind, args: { vs: a.vs, rs: a.rs, checker: a.checker } };
    case "force-backup": case "resume": return { role: "vrrp", action: a.kind, args: { instance: a.instance } };
  }
}

function describe(a: ControlAction): { input: EventInput; done: string } {
  switch (a.kind) {
    case "drain": case "undrain": {
      const drained = a.kind === "drain";
      const message = `${a.vs} real server ${a.rs} ${drained ? "drained" : "undrained"}`;
      return { input: { type: "drain", vs: a.vs, rs: a.rs, drained, message }, done: message };
    }
    case "disable-checker": case "enable-checker": {
      const enabled = a.kind === "enable-checker";
      const message = `${a.vs} real server ${a.rs} checker ${a.checker} ${enabled ? "enabled" : "disabled"}`;
      return { input: { type: "checker", vs: a.vs, rs: a.rs, checker: a.checker, enabled, message }, done: message };
    }
    case "force-backup": case "resume": {
      const forcedBackup = a.kind === "force-backup";
      const message = `${a.instance}: ${forcedBackup ? "forced to BACKUP" : "resumed normal election"}`;
      return { input: { type: "vrrp-control", instance: a.instance, forcedBackup, message }, done: message };
    }
  }
}

export class SupervisorFacade implements DaemonFacade {
  constructor(private readonly o: SupervisorFacadeOptions) {}

  status(): StatusV1 {
    const s = this.o.supervisor;
    const drains = this.o.drains;
    const virtualServers = virtualServersFromChild(s.statusOf("check")).map((vs) => ({
      ...vs,
      realServers: vs.realServers.map((rs) => ({ ...rs, drained: rs.drained || drains.has(vs.key, rs.key) })),
    }));
    return {
      apiVersion: API_VERSION,
      daemon: {
        version: this.o.version,
        pid: this.o.pid,
        startedAt: s.startedAt,
        configPath: this.o.configPath,
        configReason: this.o.configReason,
        reloadCount: s.reloadCount,
        lastReload: s.lastReload ? { ...s.lastReload } : null,
      },
      children: s.childInfo().map((c) => ({ ...c })),
      vrrp: vrrpFromChild(s.statusOf("vrrp")),
      virtualServers,
      ipvs: ipvsFromChild(s.statusOf("check")),
    };
  }

  async freshStatus(): Promise<StatusV1> {
    await this.o.supervisor.refreshStatus();
    return this.status();
  }

  async reload(): Promise<ReloadResultV1> {
    const r = await this.o.supervisor.reload();
    const result = { ok: r.ok, errors: [...r.errors], warnings: [...r.warnings] };
    this.o.events.publish({
      type: "reload", ok: r.ok, errors: r.errors.length, warnings: r.warnings.length,
      message: r.ok ? `configuration reloaded (${r.warnings.length} warning(s))` : `reload rejected: ${r.errors.length} error(s); the previous configuration keeps running`,
    }, this.o.now());
    if (r.ok) await this.reapplyDrains();
    return result;
  }

  async action(a: ControlAction): Promise<ActionResultV1> {
    const { role, action, args } = childAction(a);
    const r = await this.o.supervisor.action(role, action, args);
    if (!r.ok) return { ok: false, message: r.message };
    if (a.kind === "drain" || a.kind === "undrain") {
      const saveError = a.kind === "drain" ? this.o.drains.add(a.vs, a.rs, this.o.now()) : this.o.drains.remove(a.vs, a.rs);
      if (saveError) return { ok: false, message: `${a.kind} applied but not saved: ${saveError}` };
    }
    const d = describe(a);
    this.o.events.publish(d.input, this.o.now());
    return { ok: true, message: d.done };
  }

  /** Sends every kept drain to the checker process again (after a reload or a restart of it). */
  async reapplyDrains(): Promise<void> {
    for (const d of this.o.drains.list()) await this.o.supervisor.action("check", "drain", { vs: d.vs, rs: d.rs });
  }

  /** For the Supervisor's onEvent: a child's event into the event log. */
  childEvent(role: ChildRole, raw: Record<string, unknown>): void {
    this.o.events.publish(eventFromChild(role, raw), this.o.now());
  }

  /** For the Supervisor when it starts, loses or restarts a child. */
  childChanged(role: ChildRole, pid: number | null, change: "started" | "exited" | "restarted", detail: string): void {
    this.o.events.publish({ type: "child", role, pid, change, detail, message: `${role} process${pid === null ? "" : ` ${pid}`} ${change}${detail ? ` (${detail})` : ""}` }, this.o.now());
  }

  eventsSince(since: number): EventV1[] { return this.o.events.since(since); }

  subscribe(listener: (e: EventV1) => void): () => void { return this.o.events.subscribe(listener); }
}

// ---------------------------------------------------------------------------
// Everything the daemon starts for the outside world, in one call.

export interface ControlPlaneOptions {
  supervisor: SupervisorLike;
  configPath: string;
  configReason: string;
  version: string;
  socketPath?: string;
  drainFile?: string;
  /** From resolveMetricsListen(); null serves no metrics. */
  metrics: { hostname: string; port: number } | null;
  log: { warning(m: string): void; notice(m: string): void; info?(m: string): void };
  eventCapacity?: number;
  now?: () => number;
}

export interface ControlPlane {
  facade: SupervisorFacade;
  socketPath: string;
  metricsPort: number | null;
  stop(): Promise<void>;
}

/**
 * Loads the kept drains, serves the control API and (when asked) the metrics. Throws, with a
 * message for the user, when the socket or the metrics port cannot be had.
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const drains = new DrainStore(o.drainFile ?? DEFAULT_DRAIN_FILE);
  const loaded = drains.load();
  if (!loaded.ok) o.log.warning(`ignoring the kept drains: ${loaded.error}`);
  const facade = new SupervisorFacade({
    supervisor: o.supervisor, events: new EventLog(o.eventCapacity ?? 1000), drains,
    configPath: o.configPath, configReason: o.configReason, version: o.version, pid: process.pid, now: o.now ?? Date.now,
  });
  // Before the socket and the children (who inherit it): 1,024 open files, the usual default soft
  // limit, is too few for many API clients or a checker with many real servers (issue 13).
  try {
    const raised = raiseOpenFileLimit();
    if (raised) o.log.info?.(`open-file limit raised from ${raised.from} to ${raised.to}`);
  } catch (e) {
    o.log.warning(`cannot raise the open-file limit: ${e instanceof Error ? e.message : String(e)}`);
  }
  const socketPath = o.socketPath ?? DEFAULT_SOCKET;
  const api = await serveControlApi({ socketPath, facade });
  let metrics: ReturnType<typeof serveMetrics> | null = null;
  try {
    if (o.metrics) metrics = serveMetrics({ ...o.metrics, status: () => facade.freshStatus() });
  } catch (e) {
    await api.stop();
    throw new Error(`cannot serve metrics on ${o.metrics?.hostname}:${o.metrics?.port}: ${e instanceof Error ? e.message : String(e)}`);
  }
  o.log.notice(`control API on ${socketPath}${metrics ? `, metrics on ${o.metrics!.hostname}:${metrics.port}` : ""}`);
  return {
    facade, socketPath, metricsPort: metrics?.port ?? null,
    async stop() { await Promise.all([api.stop(), metrics?.stop()]); },
  };
}
