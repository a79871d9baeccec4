// Physical line -> logical line text, as keepalived 2.2.7's decomment() does it:
// a '#' or '!' outside double quotes starts a comment (anywhere, even inside a word),
// "\#" and "\!" are kept for the tokenizer to unescape, indentation and trailing blanks
// go, and a trailing '\' stays at the end so multi-line $NAME= definitions can continue.

export interface Decommented {
  text: string;
  lead: number;            // characters of indentation removed
}

function isBlank(c: number): boolean { return c === 32 || c === 9; }

/** The line `src[start, end)` (a line of a larger text, read in place), decommented; `lead` counts from `start`. */
export function decomment(src: string, start = 0, end = src.length): Decommented {
  let from = start;
  while (from < end && isBlank(src.charCodeAt(from))) from++;
  let to = end;
  let quoted = false;
  let continued = false;
  // Fast path: nothing that needs a scan.
  let needsScan = false;
  for (let i = from; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c === 35 /* # */ || c === 33 /* ! */ || c === 34 /* " */ || c === 92 /* \ */) { needsScan = true; break; }
  }
  if (needsScan) {
    for (let i = from; i < end; i++) {
      const c = src.charCodeAt(i);
      if (c === 34) { quoted = !quoted; continue; }
      if (c === 92) {
        if (i + 1 < end) { i++; continue; }
        continued = true;
        to = i;
        break;
      }
      if ((c === 35 || c === 33) && !quoted) { to = i; break; }
    }
  }
  while (to > from && isBlank(src.charCodeAt(to - 1))) to--;
  let text = src.slice(from, to);
  if (continued) text += "\\";   // kept: it marks a multi-line $NAME= definition
  return { text, lead: from - start };
}
