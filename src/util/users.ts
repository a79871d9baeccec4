// Local users and groups from passwd(5) and group(5), for scripts run as another user
// (script_user, vrrp_script user, MISC_CHECK user). Pure parsers plus a file-reading lookup.
import { readFileSync } from "node:fs";

export interface UserIds { uid: number; gid: number }

export function parsePasswd(text: string): Map<string, UserIds> {
  const out = new Map<string, UserIds>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || f[0] === "" || line.startsWith("#")) continue;
    const uid = Number(f[2]), gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.set(f[0]!, { uid, gid });
  }
  return out;
}

export function parseGroup(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || f[0] === "" || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.set(f[0]!, gid);
  }
  return out;
}

function readOr(path: string): string {
  try { return readFileSync(path, "utf8"); } catch { return ""; }
}

/** uid and gid for `user` (with `group` overriding the primary group); undefined if unknown. */
export function lookupUser(user: string, group?: string, files = { passwd: "/etc/passwd", group: "/etc/group" }): UserIds | undefined {
  const u = parsePasswd(readOr(files.passwd)).get(user);
  if (!u) return undefined;
  if (group === undefined) return u;
  const gid = parseGroup(readOr(files.group)).get(group);
  return gid === undefined ? undefined : { uid: u.uid, gid };
}
