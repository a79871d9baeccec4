// The filesystem side of reading keepalived.conf: file reading, include globbing (csh-style
// braces plus * ? [...], as glob(3) with GLOB_BRACE) and the default config id.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";

export function fsReadFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** keepalived's default config id: the node name up to its first '.'. */
export function defaultConfigId(nodeName: string = hostname()): string {
  const dot = nodeName.indexOf(".");
  return dot < 0 ? nodeName : nodeName.slice(0, dot);
}

/** "a{b,c{d,e}}f" -> ["abf", "acdf", "acef"]; braces without a top-level comma stay literal. */
export function expandBraces(pattern: string): string[] {
  for (let open = pattern.indexOf("{"); open >= 0; open = pattern.indexOf("{", open + 1)) {
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let i = open; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === "\\") { i++; continue; }
      if (c === "{") depth++;
      else if (c === "}") { if (--depth === 0) { close = i; break; } }
      else if (c === "," && depth === 1) commas.push(i);
    }
    if (close < 0) return [pattern];
    if (commas.length === 0) continue;
    const head = pattern.slice(0, open);
    const tail = pattern.slice(close + 1);
    const bounds = [open, ...commas, close];
    const out: string[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      out.push(...expandBraces(head + pattern.slice(bounds[k] + 1, bounds[k + 1]) + tail));
    }
    return out;
  }
  return [pattern];
}

const META = /[*?[]/;

/** One path component of a glob pattern as an anchored regular expression. */
export function segmentRegExp(seg: string): RegExp {
  let re = "^";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === "\\" && i + 1 < seg.length) { re += escapeRe(seg[++i]); continue; }
    if (c === "*") { re += "[^/]*"; continue; }
    if (c === "?") { re += "[^/]"; continue; }
    if (c === "[") {
      const close = seg.indexOf("]", i + 2);
      if (close > 0) {
        let body = seg.slice(i + 1, close);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += "[" + body.replace(/\\/g, "\\\\") + "]";
        i = close;
        continue;
      }
    }
    re += escapeRe(c);
  }
  return new RegExp(re + "$");
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

function listDir(p: string): string[] {
  try { return readdirSync(p); } catch { return []; }
}

/**
 * Files matching `pattern` (relative to `baseDir` unless absolute), each brace alternative's
 * matches sorted, directories left out. Returned paths are `baseDir`-joined when relative.
 */
export function fsGlob(pattern: string, baseDir: string): string[] {
  const out: string[] = [];
  for (const alt of expandBraces(pattern)) {
    const root = isAbsolute(alt) ? "/" : baseDir;
    let paths = [root];
    for (const seg of alt.split("/")) {
      if (seg === "") continue;
      if (!META.test(seg)) { paths = paths.map((p) => join(p, seg)); continue; }
      const re = segmentRegExp(seg);
      const next: string[] = [];
      for (const dir of paths) {
        for (const name of listDir(dir).sort()) {
          if (name.startsWith(".") && !seg.startsWith(".")) continue;
          if (re.test(name)) next.push(join(dir, name));
        }
      }
      paths = next;
    }
    out.push(...paths.filter(isFile));
  }
  return out;
}
