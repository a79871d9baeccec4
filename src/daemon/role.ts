// Entry of a child process (`lbctl __role ROLE`): the common loop — heartbeats, config and
// stop messages from the supervisor, and a clean stop if the supervisor disappears.
import { parentChannel, takeConfigFile, type Role } from "./child.ts";
import { FATAL_EXIT, isToChild, type ChildLevel, type FromChild, type ToChild } from "./protocol.ts";
import type { Model } from "../config/schema.ts";

/** What a role implements; the host does the plumbing. */
export interface RoleWorker {
  /** Applies a configuration; the first call starts the work. Throws only on a bug. */
  configure(effective: Model, reload: boolean): Promise<void>;
  /** Releases everything held (addresses, IPVS entries) and resolves when done. */
  stop(): Promise<void>;
  action?(action: string, args: Record<string, string>): Promise<{ ok: boolean; message: string }>;
  /** The current status, for a status request (undefined before the first configuration). */
  status(): Promise<Record<string, unknown> | undefined>;
}

export interface RoleContext {
  send(msg: FromChild): void;
  log(level: ChildLevel, message: string, key?: string): void;
  /**
   * Something the role depends on cannot work: log the cause, release everything (worker.stop) and
   * exit with FATAL_EXIT, so the supervisor restarts the process with back-off.
   */
  fatal(cause: string): void;
}


export type RoleFactory = (ctx: RoleContext, argv: string[]) => RoleWorker;

const roles: Partial<Record<Role, () => Promise<RoleFactory>>> = {
  vrrp: async () => (await import("./role-vrrp.ts")).default,
  check: async () => (await import("./role-check.ts")).default,
};

/** Roles this build can run. */
export function hasRole(role: Role): boolean { return roles[role] !== undefined; }

export async function runRole(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = roles[name as Role];
  const parent = parentChannel();
  if (!load || !parent) {
    process.stderr.write(`lbctl: '${name ?? ""}' is an internal role of 'lbctl daemon'\n`);
    return 64;
  }
  let stopping: Promise<void> | null = null;
  let queue: Promise<void> = Promise.resolve();
  let ready = false;
  const stop = (code = 0) => {
    // A fatal stop may come from inside the configuration being applied: don't wait for the queue.
    const after = code === 0 ? queue : Promise.resolve();
    stopping ??= after.then(() => worker.stop()).then(
      () => { if (code === 0) parent.send({ type: "stopped" }); },
      (e: unknown) => { ctx.log("err", `stop failed: ${(e as Error).message}`); },
    ).finally(() => process.exit(code));
    return stopping;
  };
  const ctx: RoleContext = {
    send: (m) => parent.send(m),
    log: (level, message, key) => parent.send({ type: "log", level, message, key }),
    fatal: (cause) => {
      if (stopping) return;
      ctx.log("err", `cannot run: ${cause}; exiting`);
      void stop(FATAL_EXIT);
    },
  };
  const worker = (await load())(ctx, rest);
  const heartbeat = setInterval(() => parent.send({ type: "heartbeat", at: Date.now() }), 1000);
  heartbeat.unref?.();
  parent.onMessage((raw) => {
    if (!isToChild(raw) || stopping) return;
    const msg: ToChild = raw;
    if (msg.type === "stop") { void stop(); return; }
    if (msg.type === "config") {
      // Read at once, so the file is gone even while an earlier configuration is still applying.
      const taken = "file" in msg ? takeConfigFile(msg.file) : { effective: msg.effective };
      // Configurations apply one at a time, in order.
      queue = queue.then(() => {
        if ("error" in taken) throw new Error(taken.error);
        return worker.configure(taken.effective, msg.reload);
      }).then(
        () => {
          parent.send({ type: "configured" });
          if (!ready) { ready = true; parent.send({ type: "ready" }); }
        },
        (e: unknown) => {
          ctx.log("err", `applying the configuration failed: ${(e as Error).message}`);
          parent.send({ type: "configured" });
        },
      );
      return;
    }
    if (msg.type === "status-request") {
      void worker.status().then(
        (status) => parent.send({ type: "status", status: status ?? {} }),
        (e: unknown) => ctx.log("err", `building the status failed: ${(e as Error).message}`),
      );
      return;
    }
    if (msg.type === "action") {
      const run = worker.action ?? (async () => ({ ok: false, message: `unknown action '${msg.action}'` }));
      void run.call(worker, msg.action, msg.args).then(
        (r) => parent.send({ type: "actionResult", id: msg.id, ...r }),
        (e: unknown) => parent.send({ type: "actionResult", id: msg.id, ok: false, message: (e as Error).message }),
      );
    }
  });
  // The supervisor went away (crash, SIGKILL): release everything rather than hold VIPs orphaned.
  process.on("disconnect", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => { /* the supervisor decides; a terminal ^C reaches the whole group */ });
  process.on("SIGHUP", () => { /* reloads come from the supervisor */ });
  return await new Promise<number>(() => { /* runs until stopped */ });
}
