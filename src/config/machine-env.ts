// The real CheckEnv: what `lbctl check` asks of the machine it runs on. Interface checks
// look at the network namespace of the process (/sys/class/net), like `keepalived -t`.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import type { CheckEnv } from "./env.ts";

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

export function machineEnv(opts: MachineEnvOptions = {}): CheckEnv {
  let users: Set<string> | undefined;
  const passwd = opts.passwdFile ?? "/etc/passwd";
  const env: CheckEnv = {
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
  };
  if (opts.checkInterfaces ?? true) {
    // An interface name never holds '/', so it cannot escape /sys/class/net.
    env.interfaceExists = (name) => !name.includes("/") && name !== "." && name !== ".." && pathExists(`/sys/class/net/${name}`);
  }
  return env;
}

function pathExists(path: string): boolean {
  try { statSync(path); return true; } catch { return false; }
}
