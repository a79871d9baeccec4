// Which daemon is which when several run on one host: keepalived's `net_namespace NAME` and
// `instance NAME` (top level of the configuration) name the daemon, and lbctl derives its control
// socket and keepalived dump file names from them, so two daemons in two namespaces need no
// --socket. The client commands find a daemon the same way (`--namespace`, `--instance`). Pure.
//
// keepalived 2.2.7 (core/main.c, namespaces.c, global_data.c open_dump_file), checked by running it:
//   pid files   /run/keepalived/NS/keepalived_INST.pid (seen from outside: it bind-mounts
//               /run/keepalived/NS on /run/keepalived in a mount namespace of its own), vrrp_INST.pid, ...
//   dump files  keepalived.NS_INST.data only with `data_use_instance`; .stats and .json never renamed,
//               so two keepalived daemons overwrite each other's /tmp/keepalived.stats.
// lbctl: socket /run/lbctl/NS/lbctl_INST.sock (the same layout, without a mount namespace), and every
// dump file named like keepalived's .data with data_use_instance (also .stats and .json, which
// keepalived leaves shared: two daemons would overwrite each other's files).
import type { Model } from "../config/schema.ts";

export const RUN_DIR = "/run/lbctl";
export const SOCKET_BASENAME = "lbctl";

/** What tells one daemon from another on the same host. */
export interface DaemonIdentity {
  /** `net_namespace`: the network namespace the daemon runs in (/run/netns/NAME). */
  namespace?: string;
  /** `instance`: a name for daemons that share a namespace. */
  instance?: string;
}

/** A name that is safe as one path component (what `ip netns add` accepts, less the odd cases). */
export function checkName(what: string, name: string): string | undefined {
  if (name === "" || name === "." || name === ".." || !/^[A-Za-z0-9_.@:+-]+$/.test(name)) {
    return `${what} '${name}' is not usable as a file name: use letters, digits and _ . @ : + -`;
  }
  if (name.length > 64) return `${what} '${name}' is longer than 64 characters`;
  return undefined;
}

/** The identity a configuration gives, with the daemon's `--namespace` (keepalived's -s) over the file's. */
export function identityOf(effective: Model, namespaceOverride?: string): DaemonIdentity {
  const ns = namespaceOverride ?? (typeof effective.net_namespace === "string" ? effective.net_namespace : undefined);
  const inst = typeof effective.instance === "string" ? effective.instance : undefined;
  return { ...(ns !== undefined ? { namespace: ns } : {}), ...(inst !== undefined ? { instance: inst } : {}) };
}

/** /run/lbctl/lbctl.sock, /run/lbctl/NS/lbctl.sock, /run/lbctl/lbctl_INST.sock, /run/lbctl/NS/lbctl_INST.sock. */
export function defaultSocketPath(id: DaemonIdentity): string {
  const dir = id.namespace ? `${RUN_DIR}/${id.namespace}` : RUN_DIR;
  return `${dir}/${SOCKET_BASENAME}${id.instance ? `_${id.instance}` : ""}.sock`;
}

/**
 * The drained real servers' file (drain-store.ts): /run/lbctl/drains.json, /run/lbctl/NS/drains_INST.json,
 * ...; beside the socket when the daemon was given one of its own (--socket, $LBCTL_SOCKET), so two
 * daemons told apart only by their sockets do not share their drains.
 */
export function drainFilePath(id: DaemonIdentity, socketPath?: string): string {
  if (socketPath !== undefined && socketPath !== defaultSocketPath(id)) {
    const slash = socketPath.lastIndexOf("/");
    const base = socketPath.slice(slash + 1).replace(/\.sock$/, "");
    return `${socketPath.slice(0, slash + 1)}${base}.drains.json`;
  }
  const dir = id.namespace ? `${RUN_DIR}/${id.namespace}` : RUN_DIR;
  return `${dir}/drains${id.instance ? `_${id.instance}` : ""}.json`;
}

/**
 * Where a daemon listens, or a client connects: --socket, then the identity given on the command
 * line (--namespace/--instance), then $LBCTL_SOCKET, then the identity's default.
 */
export function resolveSocketPath(o: { socket?: string; explicitIdentity?: DaemonIdentity; env?: string; identity?: DaemonIdentity }): string {
  if (o.socket) return o.socket;
  const explicit = o.explicitIdentity;
  if (explicit && (explicit.namespace || explicit.instance)) return defaultSocketPath(explicit);
  if (o.env) return o.env;
  return defaultSocketPath(o.identity ?? {});
}

/**
 * A keepalived dump file's name for this daemon: keepalived.data -> keepalived.NS_INST.data
 * (keepalived's open_dump_file with data_use_instance), unchanged without a namespace or instance.
 */
export function dumpFileName(base: string, id: DaemonIdentity): string {
  if (!id.namespace && !id.instance) return base;
  const dot = base.lastIndexOf(".");
  const stem = dot < 0 ? base : base.slice(0, dot);
  const ext = dot < 0 ? "" : base.slice(dot);
  const tag = `${id.namespace ?? ""}${id.namespace && id.instance ? "_" : ""}${id.instance ?? ""}`;
  return `${stem}.${tag}${ext}`;
}

/** How the daemon names itself in logs (keepalived's syslog ident is Keepalived_NS_INST). */
export function identityLabel(id: DaemonIdentity): string {
  const parts = [id.namespace ? `net_namespace ${id.namespace}` : "", id.instance ? `instance ${id.instance}` : ""].filter(Boolean);
  return parts.join(", ");
}

/** keepalived refuses to change these at a reload ("please restart"); so does lbctl. */
export function identityChange(before: DaemonIdentity, after: DaemonIdentity, ipvs?: { before?: string; after?: string }): string[] {
  const out: string[] = [];
  if (ipvs && ipvs.before !== ipvs.after) {
    const say = (v?: string) => (v === undefined ? "none" : v === "" ? "the main namespace" : v);
    out.push(`net_namespace_ipvs cannot change at a reload (running with ${say(ipvs.before)}, the file now says ${say(ipvs.after)}): restart lbctl`);
  }
  if ((before.namespace ?? "") !== (after.namespace ?? "")) {
    out.push(`net_namespace cannot change at a reload (running in ${before.namespace ?? "the namespace lbctl was started in"}, the file now says ${after.namespace ?? "none"}): restart lbctl`);
  }
  if ((before.instance ?? "") !== (after.instance ?? "")) {
    out.push(`instance cannot change at a reload (running as ${before.instance ?? "no instance"}, the file now says ${after.instance ?? "none"}): restart lbctl`);
  }
  return out;
}

/**
 * The namespace IPVS is programmed in (`net_namespace_ipvs`): undefined = the daemon's own;
 * a path otherwise. keepalived: a name is /var/run/netns/NAME, the keyword alone is the main
 * namespace (/proc/1/ns/net, core/namespaces.c open_ipvs_namespace).
 */
export function ipvsNamespacePath(effective: Model): string | undefined {
  const v = effective.net_namespace_ipvs;
  if (!Array.isArray(v)) return undefined;
  return v.length === 0 ? "/proc/1/ns/net" : `/run/netns/${String(v[0])}`;
}

/** net_namespace_ipvs as written, for messages: undefined, "" (main namespace) or a name. */
export function ipvsNamespaceName(effective: Model): string | undefined {
  const v = effective.net_namespace_ipvs;
  return Array.isArray(v) ? (v.length === 0 ? "" : String(v[0])) : undefined;
}

/** What socket discovery reads of /run/lbctl (injected in tests). */
export interface RunDirReader {
  /** Entries of a directory: names, and whether each is a directory; [] when it cannot be read. */
  list(dir: string): { name: string; dir: boolean }[];
}

const SOCKET_FILE = /^lbctl(_[A-Za-z0-9_.@:+-]+)?\.sock$/;

/** Every control socket under /run/lbctl named the way daemons name theirs, with the options that select it. */
export function daemonSockets(fs: RunDirReader): { path: string; select: string }[] {
  const out: { path: string; select: string }[] = [];
  const add = (dir: string, ns: string | undefined) => {
    for (const e of fs.list(dir)) {
      const m = !e.dir && SOCKET_FILE.exec(e.name);
      if (!m) continue;
      const inst = m[1]?.slice(1);
      const select = [ns ? `--namespace ${ns}` : "", inst ? `--instance ${inst}` : ""].filter(Boolean).join(" ");
      out.push({ path: `${dir}/${e.name}`, select });
    }
  };
  add(RUN_DIR, undefined);
  for (const e of fs.list(RUN_DIR)) if (e.dir) add(`${RUN_DIR}/${e.name}`, e.name);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The socket a client command uses when told nothing (no --socket, --namespace, --instance or
 * $LBCTL_SOCKET): /run/lbctl/lbctl.sock when it is there; else the only daemon socket there is, so
 * `systemctl reload` (plain `lbctl reload`) still reaches a daemon whose net_namespace moved its
 * socket; several: an error naming them and how to choose.
 */
export function discoverSocket(fs: RunDirReader): { path: string } | { error: string } {
  const def = defaultSocketPath({});
  const all = daemonSockets(fs);
  if (all.length === 0 || all.some((s) => s.path === def)) return { path: def };
  if (all.length === 1) return { path: all[0]!.path };
  return { error: `several lbctl daemons have sockets in ${RUN_DIR}: ${all.map((s) => `${s.path} (${s.select})`).join(", ")}; choose one with --namespace/--instance or --socket` };
}
