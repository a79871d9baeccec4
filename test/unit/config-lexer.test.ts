// Words, quotes, comments and braces of keepalived.conf, with every location checked.
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedText, splitScriptWords } from "../../src/config/lexer.ts";

function parse(text: string, configId?: string): { tree: LexedNode[]; diag: Diagnostics } {
  const diag = new Diagnostics();
  const tree = parseKeepalivedText(text, "k.conf", { diag, configId });
  return { tree, diag };
}

/** keyword + args of each node, nested: a compact picture of the tree. */
function shape(nodes: LexedNode[]): unknown[] {
  return nodes.map((n) => {
    const head = [n.keyword, ...n.args].join(" ");
    return n.children ? { [head]: shape(n.children) } : head;
  });
}

const at = (line: number, col: number) => ({ file: "k.conf", line, col });

describe("config lexer: words and locations", () => {
  it("splits statements into keyword and args with 1-based line/col", () => {
    const { tree, diag } = parse("global_defs {\n   router_id  LVS_1\n\tsmtp_server 10.0.0.1 25\n}\n");
    expect(diag.list).toEqual([]);
    expect(shape(tree)).toEqual([{ "global_defs": ["router_id LVS_1", "smtp_server 10.0.0.1 25"] }]);
    const [g] = tree;
    expect(g.loc).toEqual(at(1, 1));
    expect(g.endLoc).toEqual(at(4, 1));
    const [rid, smtp] = g.children!;
    expect(rid.loc).toEqual(at(2, 4));
    expect(rid.argLocs).toEqual([at(2, 15)]);
    expect(smtp.loc).toEqual(at(3, 2));
    expect(smtp.argLocs).toEqual([at(3, 14), at(3, 23)]);
  });

  it("keeps a double-quoted string as one word without its quotes, located at the quote", () => {
    const { tree, diag } = parse(`notify_master "/etc/ka/notify.sh MASTER  x" extra\n`);
    expect(diag.list).toEqual([]);
    expect(tree[0].args).toEqual(["/etc/ka/notify.sh MASTER  x", "extra"]);
    expect(tree[0].argLocs).toEqual([at(1, 15), at(1, 45)]);
    expect(tree[0].rawArgs).toBe(`"/etc/ka/notify.sh MASTER  x" extra`);
  });

  it("ends an unquoted word at a quote, and treats single quotes and backslashes literally (as keepalived's keyword parser)", () => {
    const { tree } = parse(`interface "a b"c 'd' e\\x41\n`);
    expect(tree[0].args).toEqual(["a b", "c", "'d'", "e\\x41"]);
    expect(tree[0].argLocs.map((l) => l.col)).toEqual([11, 16, 18, 22]);
  });

  it("reports an unterminated quote at the quote and keeps going", () => {
    const { tree, diag } = parse(`a "b c\nd e\n`);
    expect(diag.list).toEqual([{ severity: "error", message: "unterminated quoted string", loc: at(1, 3) }]);
    expect(shape(tree)).toEqual(["a b c", "d e"]);
  });
});

describe("config lexer: comments", () => {
  it("drops '#' and '!' comments at line start, after words and inside words", () => {
    const { tree, diag } = parse("! header\n# another\n  a b # c\nd e!f g\nh#i\n   ! indented\n");
    expect(diag.list).toEqual([]);
    expect(shape(tree)).toEqual(["a b", "d e", "h"]);
  });

  it("keeps comment characters inside double quotes and unescapes \\# and \\!", () => {
    const { tree } = parse(`a "x # y ! z" b\nc d\\#e f\\!g # gone\n`);
    expect(tree[0].args).toEqual(["x # y ! z", "b"]);
    expect(tree[1].args).toEqual(["d#e", "f!g"]);
    expect(tree[1].argLocs).toEqual([at(2, 3), at(2, 8)]);
  });

  it("reads UTF-8 comments and CRLF line endings", () => {
    const { tree, diag } = parse("# 全局定义块\r\nglobal_defs {\r\n   # 邮件通知配置\r\n   router_id 节点1 # 注释\r\n}\r\n");
    expect(diag.list).toEqual([]);
    expect(shape(tree)).toEqual([{ "global_defs": ["router_id 节点1"] }]);
    expect(tree[0].children![0].argLocs).toEqual([at(4, 14)]);
  });
});

describe("config lexer: braces", () => {
  it("splits braces glued to words, on the next line, and whole blocks on one line", () => {
    const text = [
      "virtual_server 192.168.26.34 9999{",
      "    real_server 1.2.3.4 80 { weight 1 }",
      "    real_server 1.2.3.5 80",
      "    {",
      "        TCP_CHECK { connect_timeout 3 }}",
      "}",
    ].join("\n");
    const { tree, diag } = parse(text);
    expect(diag.list).toEqual([]);
    expect(shape(tree)).toEqual([{
      "virtual_server 192.168.26.34 9999": [
        { "real_server 1.2.3.4 80": ["weight 1"] },
        { "real_server 1.2.3.5 80": [{ "TCP_CHECK": ["connect_timeout 3"] }] },
      ],
    }]);
    const vs = tree[0];
    expect(vs.argLocs).toEqual([at(1, 16), at(1, 30)]);
    expect(vs.endLoc).toEqual(at(6, 1));
    const [rs1, rs2] = vs.children!;
    expect(rs1.children![0].loc).toEqual(at(2, 30));
    expect(rs1.endLoc).toEqual(at(2, 39));
    expect(rs2.endLoc).toEqual(at(5, 40));
    expect(rs2.children![0].endLoc).toEqual(at(5, 39));
  });

  it("splits braces glued on both sides of words: a{b}c", () => {
    const { tree } = parse("vrrp_instance VI{state MASTER}priority 1\n");
    expect(shape(tree)).toEqual([{ "vrrp_instance VI": ["state MASTER"] }, "priority 1"]);
    expect(tree[1].loc).toEqual(at(1, 31));
  });

  it("does not split braces inside double quotes", () => {
    const { tree } = parse(`script "echo {a}" {\n}\n`);
    expect(tree[0].args).toEqual(["echo {a}"]);
    expect(tree[0].children).toEqual([]);
  });

  it("reports a stray '}' and an unclosed block precisely, without throwing", () => {
    const { tree, diag } = parse("a {\n  b\n}\n}\nc {\n  d {\n");
    expect(diag.list).toEqual([
      { severity: "error", message: "unexpected '}' with no open block", loc: at(4, 1) },
      { severity: "error", message: "missing '}': the 'd' block opened here is never closed", loc: at(6, 5) },
      { severity: "error", message: "missing '}': the 'c' block opened here is never closed", loc: at(5, 3) },
    ]);
    expect(shape(tree)).toEqual([{ a: ["b"] }, { c: [{ d: [] }] }]);
  });

  it("reports a '{' with no statement before it and keeps its contents in the enclosing block", () => {
    const { tree, diag } = parse("a {\n}\n{\n  b\n}\nc\n");
    expect(diag.list).toEqual([{ severity: "error", message: "unexpected '{' with no statement before it", loc: at(3, 1) }]);
    expect(shape(tree)).toEqual([{ a: [] }, "b", "c"]);
  });

  it("warns that a trailing backslash is not a line continuation and keeps it in the word", () => {
    const { tree, diag } = parse("a b \\\nc\n");
    expect(shape(tree)).toEqual(["a b\\", "c"]);
    expect(diag.list.map((d) => [d.severity, d.loc])).toEqual([["warning", at(1, 4)]]);
  });
});

describe("splitScriptWords (keepalived's script command-line splitting)", () => {
  it("groups quotes, joins adjacent parts and resolves escapes", () => {
    expect(splitScriptWords(`/bin/x.sh 'a b'  "c d"e f\\ g`)).toEqual(["/bin/x.sh", "a b", "c de", "f g"]);
    expect(splitScriptWords(`a\\tb \\x41\\102 \\cA "\\""`)).toEqual(["a\tb", "AB", "\x01", "\""]);
    expect(splitScriptWords(`'unterminated`)).toBeUndefined();
    expect(splitScriptWords("   ")).toEqual([]);
  });
});

describe("config lexer: robustness", () => {
  it("never throws on arbitrary input", () => {
    let x = 12345;
    const rnd = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x; };
    const alphabet = ["{", "}", "\"", "'", "\\", "#", "!", "$", "@", "~SEQ(", "~LST(", "$A=", "${", "(", ")", ",", " ", "\n", "a", "1", "include x", "$A", "@^", "\t"];
    for (let round = 0; round < 300; round++) {
      let text = "";
      const len = rnd() % 80;
      for (let k = 0; k < len; k++) text += alphabet[rnd() % alphabet.length];
      const diag = new Diagnostics();
      expect(() => parseKeepalivedText(text, "fuzz.conf", { diag, configId: "a" })).not.toThrow();
    }
  });
});
