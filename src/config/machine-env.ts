// The real CheckEnv: what `lbctl check` asks of the machine it runs on. Interface checks
// look at the network namespace of the process (/sys/class/net), like `keepalived -t`.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { NETLINK_ROUTE } from "../netlink/message.ts";
import { addressDumpRequest, linkDumpRequest, parseAddressMessage, parseLinkMessage } from "../netlink/rtnetlink.ts";
import { NetlinkSocket } from "../netlink/socket.ts";
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
    // An interface name never holds '/', so it cannot escape /sys/class/net.
    env.interfaceExists = (name) => !name.includes("/") && name !== "." && name !== ".." && pathExists(`/sys/class/net/${name}`);
    let addresses: Map<string, string[]> | undefined;
    env.interfaceAddresses = (name) => (addresses ??= readAddresses()).get(name) ?? [];
  }
  return env;
}

/**
 * Addresses per interface of this namespace, read once over rtnetlink (only asked for when an
 * instance claims to be the address owner). Empty when netlink cannot be used.
 */
function readAddresses(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let sock: NetlinkSocket | undefined;
  try {
    sock = NetlinkSocket.open(NETLINK_ROUTE, { rcvbuf: 1 << 20, timeoutMs: 2000 });
    const names = new Map<number, string>();
    for (const m of sock.requestSync(linkDumpRequest(), { dump: true })) {
      const l = parseLinkMessage(m);
      names.set(l.index, l.name);
    }
    for (const m of sock.requestSync(addressDumpRequest(), { dump: true })) {
      const a = parseAddressMessage(m);
      const name = a && names.get(a.ifindex);
      if (!a || !name) continue;
      out.set(name, [...(out.get(name) ?? []), a.address]);
    }
  } catch {
    out.clear();
  } finally {
    sock?.close();
  }
  return out;
}

function pathExists(path: string): boolean {
  try { statSync(path); return true; } catch { return false; }
}
