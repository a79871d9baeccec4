// Reads keepalived.conf text through the lexer, the root spec, defaults and validateVrrp,
// with a fake machine, and renders diagnostics as "LINE:COL severity: message".
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { parseKeepalivedText } from "../../src/config/lexer.ts";
import { parseConfBlock, withDefaults, type Model } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";
import { validateVrrp, type VrrpCheckEnv } from "../../src/config/validate-vrrp.ts";

export const fakeEnv = (over: Partial<VrrpCheckEnv> = {}): VrrpCheckEnv => ({
  interfaceExists: (n) => ["eth0", "eth1", "lo"].includes(n),
  fileExists: (p) => p.startsWith("/usr/") || p.startsWith("/etc/ok/"),
  isExecutable: (p) => !p.endsWith(".txt"),
  userExists: (u) => ["root", "nobody", "www"].includes(u),
  hostname: "lb1",
  ...over,
});

export interface Loaded { diag: Diagnostics; model: Model; eff: Model; msgs: string[] }

/** Parse only (no validateVrrp). */
export function parse(text: string): Loaded {
  const diag = new Diagnostics();
  const tree = parseKeepalivedText(text, "k.conf", { diag });
  const model = parseConfBlock(tree, rootSpec, { diag, where: "top" });
  const eff = withDefaults(model, rootSpec);
  return { diag, model, eff, msgs: render(diag) };
}

/** Parse and validate. */
export function check(text: string, env: VrrpCheckEnv = fakeEnv()): Loaded {
  const r = parse(text);
  validateVrrp(r.eff, env, r.diag);
  return { ...r, msgs: render(r.diag) };
}

export function render(diag: Diagnostics): string[] {
  return diag.list.map((d) => `${d.loc ? `${d.loc.line}:${d.loc.col} ` : ""}${d.severity}: ${d.message}`);
}

/** A minimal valid instance body to extend in tests. */
export const inst = (name: string, body: string, head = "interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1/24\n }") =>
  `vrrp_instance ${name} {\n ${head}\n${body}\n}\n`;
