// net_namespace, net_namespace_ipvs and instance: names that become file names (the control
// socket, dump files) and a namespace that must exist where the daemon starts. keepalived 2.2.7
// `-t` says nothing of a missing namespace (and the daemon then exits with status 0); lbctl check
// reports it as an error, since the daemon will refuse to start. Pure: the machine is `env`.
import type { Diagnostics } from "./diagnostics.ts";
import type { CheckEnv } from "./env.ts";
import { locOfKey, type Model } from "./schema.ts";

const NAME = /^[A-Za-z0-9_.@:+-]{1,64}$/;

function badName(name: string): boolean {
  return !NAME.test(name) || name === "." || name === "..";
}

export function validateNetns(effective: Model, env: CheckEnv, diag: Diagnostics, fileName: string, enteredNamespace?: string): void {
  const at = (key: string) => locOfKey(effective, key) ?? { file: fileName, line: 1, col: 1 };
  const ns = effective.net_namespace;
  let nsName: string | undefined;
  if (typeof ns === "string") {
    if (badName(ns)) diag.error(`net_namespace '${ns}': a namespace name of up to 64 letters, digits and _ . @ : + - is expected (it names /run/netns/NAME and the control socket)`, at("net_namespace"));
    else {
      if (ns !== enteredNamespace && env.netnsExists && !env.netnsExists(ns)) diag.error(`net_namespace '${ns}' does not exist on this machine (no /run/netns/${ns}; create it with 'ip netns add ${ns}'); the daemon would not start`, at("net_namespace"));
      // Even when missing: its interfaces are then not checked (the env cannot enter it), rather
      // than checked in the wrong namespace.
      nsName = ns;
    }
  }
  const inst = effective.instance;
  if (typeof inst === "string" && badName(inst)) diag.error(`instance '${inst}': a name of up to 64 letters, digits and _ . @ : + - is expected (it names the control socket and dump files)`, at("instance"));
  const ipvs = effective.net_namespace_ipvs;
  if (Array.isArray(ipvs) && ipvs.length === 1) {
    const name = String(ipvs[0]);
    if (badName(name)) diag.error(`net_namespace_ipvs '${name}': a namespace name of letters, digits and _ . @ : + - is expected`, at("net_namespace_ipvs"));
    else if (env.netnsExists && !env.netnsExists(name)) diag.warning(`net_namespace_ipvs '${name}' does not exist on this machine (no /run/netns/${name}); IPVS cannot be programmed until it does`, at("net_namespace_ipvs"));
  }
  // Interfaces are those of the namespace the daemon will run in.
  if (nsName !== undefined) env.useNamespace?.(nsName);
}
