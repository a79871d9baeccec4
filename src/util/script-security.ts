// keepalived's enable_script_security (check_script_secure): a script that would run as root must
// not be replaceable by another user. Pure, with the file system's stat injected.
import { statSync } from "node:fs";

export interface FileOwner { uid: number; gid: number; mode: number }

/** Why `path` is not safe to run as root, or undefined when every part of it is root's and closed. */
export function insecureScript(path: string, stat: (p: string) => FileOwner | undefined): string | undefined {
  if (!path.startsWith("/")) return `${path}: not an absolute path`;
  const parts = path.split("/").filter(Boolean);
  for (let i = parts.length; i >= 0; i--) {
    const p = "/" + parts.slice(0, i).join("/");
    const st = stat(p);
    if (!st) return `${p}: not found`;
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}, not root`;
    if (((st.mode & 0o020) !== 0 && st.gid !== 0) || (st.mode & 0o002) !== 0) return `${p} is writable by a non-root user`;
  }
  return undefined;
}

export function statOwner(p: string): FileOwner | undefined {
  try { const s = statSync(p); return { uid: s.uid, gid: s.gid, mode: s.mode }; } catch { return undefined; }
}
