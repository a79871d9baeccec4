import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { parseConfBlock, withDefaults, locOfKey } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";
import type { ConfNode } from "../../src/config/tree.ts";

const at = (line: number, col = 1) => ({ file: "t.conf", line, col });
const n = (keyword: string, args: string[], line: number, children?: ConfNode[]): ConfNode =>
  ({ keyword, args, argLocs: args.map((_, i) => at(line, 10 + i)), loc: at(line), children });

describe("schema engine", () => {
  it("reads named blocks, keeps positions, fills defaults", () => {
    const diag = new Diagnostics();
    const tree = [n("vrrp_instance", ["VI_1"], 1, [n("interface", ["eth0"], 2), n("virtual_router_id", ["51"], 3)])];
    const model = parseConfBlock(tree, rootSpec, { diag, where: "top" });
    expect(diag.list).toEqual([]);
    const inst = (model.vrrp_instance as Record<string, Record<string, unknown>>).VI_1!;
    expect(inst).toEqual({ interface: "eth0", virtual_router_id: 51 });
    expect(locOfKey(inst, "virtual_router_id")).toEqual(at(3));
    const eff = withDefaults(model, rootSpec);
    expect((eff.vrrp_instance as Record<string, Record<string, unknown>>).VI_1!.advert_int).toBe(1);
  });

  it("reports range errors and unknown keywords with the argument's position", () => {
    const diag = new Diagnostics();
    parseConfBlock([n("vrrp_instance", ["X"], 1, [n("priority", ["300"], 2), n("bogus", [], 3)])], rootSpec, { diag, where: "top" });
    expect(diag.list).toEqual([
      { severity: "error", message: "'priority' 300 is out of range 1..255", loc: at(2, 10) },
      { severity: "warning", message: "unknown keyword 'bogus' in vrrp_instance X", loc: at(3) },
    ]);
  });

  it("rejects a named block defined twice", () => {
    const diag = new Diagnostics();
    parseConfBlock([n("vrrp_instance", ["A"], 1, []), n("vrrp_instance", ["A"], 5, [])], rootSpec, { diag, where: "top" });
    expect(diag.list.map((d) => d.message)).toEqual(["vrrp_instance 'A' is defined twice"]);
  });
});
