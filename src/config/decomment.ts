// Physical line -> logical line text, as keepalived 2.2.7's decomment() does it:
// a '#' or '!' outside double quotes starts a comment (anywhere, even inside a word),
// "\#" and "\!" are kept for the tokenizer to unescape, indentation and trailing blanks
// go, and a trailing '\' stays at the end so multi-line $NAME= definitions can continue.

export interface Decommented {
  text: string;
  lead: number;            // characters of indentation removed
}

function isBlank(c: number): boolean { return c === 32 || c === 9; }

export function decomment(raw: string): Decommented {
  let lead = 0;
  while (lead < raw.length && isBlank(raw.charCodeAt(lead))) lead++;
  let end = raw.length;
  let quoted = false;
  let continued = false;
  // Fast path: nothing that needs a scan.
  let needsScan = false;
  for (let i = lead; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 35 /* # */ || c === 33 /* ! */ || c === 34 /* " */ || c === 92 /* \ */) { needsScan = true; break; }
  }
  if (needsScan) {
    for (let i = lead; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 34) { quoted = !quoted; continue; }
      if (c === 92) {
        if (i + 1 < raw.length) { i++; continue; }
        continued = true;
        end = i;
        break;
      }
      if ((c === 35 || c === 33) && !quoted) { end = i; break; }
    }
  }
  while (end > lead && isBlank(raw.charCodeAt(end - 1))) end--;
  let text = raw.slice(lead, end);
  if (continued) text += "\\";   // kept: it marks a multi-line $NAME= definition
  return { text, lead };
}
