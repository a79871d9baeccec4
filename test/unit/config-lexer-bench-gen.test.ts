// The benchmark generator's two forms of the same configuration must parse to the same tree,
// which also checks ~SEQ driving nested multi-line definitions at scale.
import { describe, expect, it } from "vitest";
import { generatePlain, generateSeq } from "../../bench/config-parse/gen.ts";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedText } from "../../src/config/lexer.ts";

function shape(nodes: LexedNode[]): unknown[] {
  return nodes.map((n) => [n.keyword, n.args, n.children ? shape(n.children) : null]);
}

describe("bench/config-parse generator", () => {
  it("plain and ~SEQ forms parse to identical trees", () => {
    const scale = { interfaces: 3, vrids: 4, vsNets: 2, vsPerNet: 3, rs: 5 };
    const parse = (text: string, file: string) => {
      const diag = new Diagnostics();
      const tree = parseKeepalivedText(text, file, { diag });
      expect(diag.list).toEqual([]);
      return tree;
    };
    const plain = parse(generatePlain(scale), "plain.conf");
    const seq = parse(generateSeq(scale), "seq.conf");
    expect(plain.filter((n) => n.keyword === "vrrp_instance")).toHaveLength(12);
    const vs = plain.filter((n) => n.keyword === "virtual_server");
    expect(vs).toHaveLength(6);
    expect(vs[5].children!.filter((c) => c.keyword === "real_server").map((c) => c.args[0])).toEqual(
      ["192.168.3.1", "192.168.3.2", "192.168.3.3", "192.168.3.4", "192.168.3.5"]);
    expect(shape(seq)).toEqual(shape(plain));
  });
});
