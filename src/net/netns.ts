// Running code in another network namespace from this process: setns() affects only the calling
// thread, and a socket stays in the namespace it was created in, so we switch, create sockets, and
// switch straight back. The callback must be synchronous (no await): the JS thread must not run
// anything else while it is in the other namespace.
import { closeSync, openSync, readlinkSync } from "node:fs";

import * as libc from "../../ffi/libc.ts";

export function netnsPath(name: string): string {
  if (!/^[A-Za-z0-9_.@:+-]+$/.test(name) || name === "." || name === "..") throw new Error(`invalid network namespace name '${name}'`);
  return `/run/netns/${name}`;
}

/** Runs fn with the calling thread in network namespace `name` (as made by `ip netns add`). */
export function inNetns<T>(name: string, fn: () => T): T {
  return inNetnsPath(netnsPath(name), fn);
}

/** inNetns for any namespace file (/run/netns/NAME, /proc/1/ns/net, ...). */
export function inNetnsPath<T>(path: string, fn: () => T): T {
  const target = openNamespace(path);
  const home = openSync(`/proc/thread-self/ns/net`, "r");
  try {
    setnsOrExplain(target, path);
    try {
      const result = fn();
      if (result instanceof Promise) throw new Error("inNetns callback must be synchronous");
      return result;
    } finally {
      libc.setns(home);
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}

/**
 * Moves the calling thread into namespace `name` for good (keepalived's set_namespaces). Done by
 * the daemon's main thread before it starts anything: the children it spawns, the Workers it
 * creates and every socket it opens from then on are in that namespace. Threads that already exist
 * (the runtime's own) stay where they were; none of them opens lbctl's sockets (a host-name look-up
 * Bun runs on a pool thread may be the exception: docs/architecture.md).
 * Throws an Error whose message is meant for the user.
 */
export function enterNetns(name: string): void {
  const path = netnsPath(name);
  const fd = openNamespace(path, name);
  try {
    setnsOrExplain(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** The inode naming the calling thread's network namespace ("net:[4026531840]"). */
export function currentNetnsId(): string {
  return readlinkSync("/proc/thread-self/ns/net");
}

function openNamespace(path: string, name?: string): number {
  try {
    return openSync(path, "r");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") {
      throw new Error(name !== undefined
        ? `network namespace '${name}' does not exist (no ${path}; create it with 'ip netns add ${name}')`
        : `network namespace ${path} does not exist`);
    }
    if (code === "EACCES" || code === "EPERM") throw new Error(`cannot open ${path}: permission denied (run as root)`);
    throw new Error(`cannot open ${path}: ${(e as Error).message}`);
  }
}

function setnsOrExplain(fd: number, path: string): void {
  try {
    libc.setns(fd);
  } catch (e) {
    if (e instanceof libc.SysError && e.code === "EPERM") {
      throw new Error(`cannot enter network namespace ${path}: setns needs CAP_SYS_ADMIN (a systemd unit must keep it in CapabilityBoundingSet=, see docs/systemd.md)`);
    }
    if (e instanceof libc.SysError && e.code === "EINVAL") throw new Error(`${path} is not a network namespace`);
    throw e;
  }
}
