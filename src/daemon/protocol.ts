// Messages between the supervisor and its children (JSON over Bun's IPC channel).
// Children own the work; the supervisor owns configuration, restarts and the outside world.
import type { Model } from "../config/schema.ts";

export type ToChild =
  /** First message after start, and after every accepted reload: the whole effective config, in a
   *  file the child reads and removes (see putConfigFile), or inline when no file could be written. */
  | ({ type: "config"; reload: boolean } & ({ file: string } | { effective: Model }))
  | { type: "stop" }
  /** Control actions routed to the child that owns the object. */
  | { type: "action"; id: number; action: string; args: Record<string, string> }
  /** Answered with one `status` message: status is built when someone (API, metrics, a dump) asks,
   *  because a checker's full status at 10,000 real servers is megabytes. */
  | { type: "status-request" };

/** Top-level sections a role never reads. The configuration travels as JSON; 10,000 real servers are
 *  megabytes that the VRRP process would otherwise parse on its timing-critical loop at every reload. */
const NOT_FOR_ROLE: Record<"vrrp" | "check", readonly string[]> = {
  vrrp: ["virtual_server", "virtual_server_group"],
  check: ["vrrp_instance", "vrrp_sync_group", "vrrp_script"],
};

/** The part of the effective configuration a child is sent. */
export function configForRole(role: "vrrp" | "check", effective: Model): Model {
  const out: Model = {};
  for (const [k, v] of Object.entries(effective)) if (!NOT_FOR_ROLE[role].includes(k)) out[k] = v;
  return out;
}

/**
 * Exit status of a child that stopped because it cannot work (no sockets, no receive path): the
 * supervisor restarts it with back-off and gives up after a few in a row (restart-policy.ts).
 */
export const FATAL_EXIT = 70; // EX_SOFTWARE

/** Argument of a child started again after its predecessor died (not at daemon start). */
export const RESUME_ARG = "--resume";

export type ChildLevel = "err" | "warning" | "notice" | "info" | "debug";

export type FromChild =
  | { type: "ready" }
  /** A configuration (first or reload) has been applied; the child may have been busy until now. */
  | { type: "configured" }
  | { type: "heartbeat"; at: number }
  | { type: "log"; level: ChildLevel; message: string; key?: string }
  /** A state change worth an event-stream entry (instance transition, real server up/down ...). */
  | { type: "event"; event: Record<string, unknown> }
  /** The child's full status: on request, and (VRRP, whose status is small) on every change. */
  | { type: "status"; status: Record<string, unknown> }
  | { type: "actionResult"; id: number; ok: boolean; message: string }
  /** The child has released everything it held and is about to exit. */
  | { type: "stopped" };

export function isFromChild(m: unknown): m is FromChild {
  return typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";
}

export function isToChild(m: unknown): m is ToChild {
  return typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";
}
