// The real CheckEnv: what `lbctl check` asks of the machine it runs on. Interface checks
// look at the network namespace of the process, or at the one `net_namespace` names (the daemon
// will run there), like `keepalived -t`. They ask rtnetlink, not /sys/class/net: sysfs shows the
// namespace it was mounted in, not the one a thread entered with setns.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { NETLINK_ROUTE } from "../netlink/message.ts";
import { addressDumpRequest, linkDumpRequest, parseAddressMessage, parseLinkMessage } from "../netlink/rtnetlink.ts";
import { NetlinkSocket } from "../netlink/socket.ts";
import { inNetns } from "../net/netns.ts";
import { insecureScript, statOwner } from "../util/script-security.ts";
import type { VrrpCheckEnv } from "./validate-vrrp.ts";

export interface MachineEnvOptions {
  /** false = do not check that interfaces exist (config written for another machine). */
  checkInterfaces?: boolean;
  /** passwd(5) file for user look-ups; /etc/passwd unless a test says otherwise. */
  passwdFile?: string;
}

function isRegularFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}

/** User names from a passwd(5) file (what getpwnam would look up for local users). */
export function passwdUsers(text: string): Set<string> {
  const users = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split(":")[0]?.trim();
    if (name && !name.startsWith("#")) users.add(name);
  }
  return users;
}

export function machineEnv(opts: MachineEnvOptions = {}): VrrpCheckEnv {
  let users: Set<string> | undefined;
  const passwd = opts.passwdFile ?? "/etc/passwd";
  const env: VrrpCheckEnv = {
    fileExists: (path) => isRegularFile(path),
    isExecutable(path) {
      if (!isRegularFile(path)) return false;
      try { accessSync(path, constants.X_OK); return true; } catch { return false; }
    },
    userExists(name) {
      if (!users) {
        try { users = passwdUsers(readFileSync(passwd, "utf8")); } catch { users = new Set(); }
      }
      return users.has(name);
    },
    hostname: hostname(),
    // The daemon refuses such scripts under enable_script_security; check says so first.
    insecure: (program) => insecureScript(program, statOwner),
  };
  if (opts.checkInterfaces ?? true) {
    let netns: string | undefined;
    let links: Links | undefined;
    env.useNamespace = (name) => { netns = name; links = undefined; };
    env.netnsExists = (name) => /^[A-Za-z0-9_.@:+-]+$/.test(name) && name !== "." && name !== ".." && pathExists(`/run/netns/${name}`);
    env.interfaceExists = (name) => {
      links ??= readLinks(netns);
      if (links.names) return links.names.has(name);
      // No rtnetlink: sysfs, right for the namespace the process started in. A net_namespace that
      // cannot be entered is reported once by validateNetns, not again for every interface.
      if (netns !== undefined) return true;
      return !name.includes("/") && name !== "." && name !== ".." && pathExists(`/sys/class/net/${name}`);
    };
    env.interfaceAddresses = (name) => (links ??= readLinks(netns)).addresses.get(name) ?? [];
  }
  return env;
}

interface Links { names: Set<string> | null; addresses: Map<string, string[]> }

/**
 * Interfaces and their addresses in this namespace or `netns`, read once over rtnetlink (the
 * socket is opened in the namespace, the dump read after). names is null when netlink cannot be used.
 */
function readLinks(netns: string | undefined): Links {
  const addresses = new Map<string, string[]>();
  let sock: NetlinkSocket | undefined;
  try {
    const open = () => NetlinkSocket.open(NETLINK_ROUTE, { rcvbuf: 1 << 20, timeoutMs: 2000 });
    sock = netns === undefined ? open() : inNetns(netns, open);
    const names = new Map<number, string>();
    for (const m of sock.requestSync(linkDumpRequest(), { dump: true })) {
      const l = parseLinkMessage(m);
      names.set(l.index, l.name);
    }
    for (const m of sock.requestSync(addressDumpRequest(), { dump: true })) {
      const a = parseAddressMessage(m);
      const name = a && names.get(a.ifindex);
      if (!a || !name) continue;
      addresses.set(name, [...(addresses.get(name) ?? []), a.address]);
    }
    return { names: new Set(names.values()), addresses };
  } catch {
    return { names: null, addresses: new Map() };
  } finally {
    sock?.close();
  }
}

function pathExists(path: string): boolean {
  try { statSync(path); return true; } catch { return false; }
}
