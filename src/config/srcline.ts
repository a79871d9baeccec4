// A logical configuration line and the map from its text offsets back to source columns.
// Most lines are a file line minus its indentation (identity map, `segs === null`); lines
// rewritten by parameter substitution or `@id` removal carry explicit segments so every
// token still points at a real column in a real file.
import type { SourceLoc } from "./tree.ts";

/** From text offset `at` on, columns start at `col`; `exact` means they advance with the text. */
export interface Seg { at: number; col: number; exact: boolean }

export interface SrcLine {
  text: string;
  file: string;
  line: number;
  base: number;          // 1-based column of text[0] when segs is null
  segs: Seg[] | null;
}

export function colAt(l: SrcLine, off: number): number {
  const segs = l.segs;
  if (segs === null) return l.base + off;
  let s = segs[0];
  for (let i = 1; i < segs.length && segs[i].at <= off; i++) s = segs[i];
  return s.exact ? s.col + (off - s.at) : s.col;
}

export function locAt(l: SrcLine, off: number): SourceLoc {
  return { file: l.file, line: l.line, col: colAt(l, off) };
}

function segsOf(l: SrcLine): Seg[] {
  return l.segs ?? [{ at: 0, col: l.base, exact: true }];
}

/** The line without its first `k` characters. */
export function dropPrefix(l: SrcLine, k: number): SrcLine {
  if (k === 0) return l;
  const text = l.text.slice(k);
  if (l.segs === null) return { text, file: l.file, line: l.line, base: l.base + k, segs: null };
  const segs: Seg[] = [];
  let first = true;
  const all = l.segs;
  for (let i = 0; i < all.length; i++) {
    const s = all[i];
    const next = i + 1 < all.length ? all[i + 1].at : Infinity;
    if (next <= k) continue;
    if (first) {
      segs.push({ at: 0, col: s.exact ? s.col + Math.max(0, k - s.at) : s.col, exact: s.exact });
      first = false;
    } else segs.push({ at: s.at - k, col: s.col, exact: s.exact });
  }
  if (segs.length === 0) segs.push({ at: 0, col: colAt(l, k), exact: true });
  return { text, file: l.file, line: l.line, base: l.base, segs };
}

/** Append a segment unless it only continues the previous one. */
function pushSeg(segs: Seg[], s: Seg): void {
  const prev = segs[segs.length - 1];
  if (prev !== undefined && prev.exact === s.exact && (s.exact ? prev.col + (s.at - prev.at) === s.col : prev.col === s.col)) return;
  segs.push(s);
}

/**
 * Replace text[start, end) with `value`. The inserted characters all map to the column of
 * `start` (where the `$NAME` reference was); the text after `end` keeps its own columns.
 */
export function splice(l: SrcLine, start: number, end: number, value: string): SrcLine {
  const text = l.text.slice(0, start) + value + l.text.slice(end);
  const all = segsOf(l);
  const segs: Seg[] = [];
  for (const s of all) if (s.at < start) pushSeg(segs, s);
  if (value.length > 0) pushSeg(segs, { at: start, col: colAt(l, start), exact: false });
  if (end < l.text.length) {
    const delta = value.length - (end - start);
    let at = all[0];
    for (const s of all) if (s.at <= end) at = s;
    pushSeg(segs, { at: end + delta, col: colAt(l, end), exact: at.exact });
    for (const s of all) if (s.at > end) pushSeg(segs, { at: s.at + delta, col: s.col, exact: s.exact });
  }
  if (segs.length === 0) segs.push({ at: 0, col: colAt(l, start), exact: false });
  return { text, file: l.file, line: l.line, base: l.base, segs };
}
