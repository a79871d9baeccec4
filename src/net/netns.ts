// Running code in another network namespace from this process: setns() affects only the calling
// thread, and a socket stays in the namespace it was created in, so we switch, create sockets, and
// switch straight back. The callback must be synchronous (no await): the JS thread must not run
// anything else while it is in the other namespace.
import { closeSync, openSync } from "node:fs";

import * as libc from "../../ffi/libc.ts";

export function netnsPath(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid network namespace name '${name}'`);
  return `/run/netns/${name}`;
}

/** Runs fn with the calling thread in network namespace `name` (as made by `ip netns add`). */
export function inNetns<T>(name: string, fn: () => T): T {
  const target = openSync(netnsPath(name), "r");
  const home = openSync(`/proc/thread-self/ns/net`, "r");
  try {
    libc.setns(target);
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
