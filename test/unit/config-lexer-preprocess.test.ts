// Conditional lines, parameter definitions/substitution, ~SEQ and ~LST, and the runaway guards.
import { describe, expect, it } from "vitest";
import { defaultConfigId } from "../../src/config/conf-files.ts";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedText } from "../../src/config/lexer.ts";
import { parseCLong } from "../../src/config/preprocess.ts";

function parse(text: string, configId?: string, limits?: Record<string, number>): { tree: LexedNode[]; diag: Diagnostics } {
  const diag = new Diagnostics();
  const tree = parseKeepalivedText(text, "k.conf", { diag, configId, limits, cwd: "/etc/keepalived" });
  return { tree, diag };
}

function lines(nodes: LexedNode[]): string[] {
  const out: string[] = [];
  const walk = (ns: LexedNode[], ind: string): void => {
    for (const n of ns) {
      out.push(ind + [n.keyword, ...n.args].join(" "));
      if (n.children) walk(n.children, ind + "  ");
    }
  };
  walk(nodes, "");
  return out;
}

const at = (line: number, col: number) => ({ file: "k.conf", line, col });

describe("conditional configuration (@id, @^id)", () => {
  const text = "@main router_id main_router\n@backup router_id backup_router\n@^main peer 1.2.3.4\n@^backup\tpeer 1.2.3.5\n@main\n";

  it("keeps @id lines only for that config id, and @^id lines for every other id", () => {
    expect(lines(parse(text, "main").tree)).toEqual(["router_id main_router", "peer 1.2.3.5"]);
    expect(lines(parse(text, "backup").tree)).toEqual(["router_id backup_router", "peer 1.2.3.4"]);
    expect(lines(parse(text, "other").tree)).toEqual(["peer 1.2.3.4", "peer 1.2.3.5"]);
  });

  it("with no config id, skips every @id line and keeps every @^id line", () => {
    expect(lines(parse(text).tree)).toEqual(["peer 1.2.3.4", "peer 1.2.3.5"]);
  });

  it("locates the statement after the condition", () => {
    const { tree } = parse(text, "backup");
    expect(tree[0].loc).toEqual(at(2, 9));
    expect(tree[1].loc).toEqual(at(3, 8));
    expect(tree[1].argLocs).toEqual([at(3, 13)]);
  });

  it("defaults the config id to the node name up to its first dot", () => {
    expect(defaultConfigId("lb1.example.com")).toBe("lb1");
    expect(defaultConfigId("vm")).toBe("vm");
  });
});

describe("parameter definitions and substitution", () => {
  it("replaces $NAME before blank/,/)/end and ${NAME} anywhere; leaves the rest alone", () => {
    const { tree, diag } = parse("$A=10.0.0\n$B=\nx $A ${A}.1 $A, k${A}z $Ay $UNDEF $B.\n");
    expect(diag.list).toEqual([]);
    expect(lines(tree)).toEqual(["x 10.0.0 10.0.0.1 10.0.0, k10.0.0z $Ay $UNDEF $B."]);
  });

  it("locates substituted words at the reference and keeps the columns of the text after it", () => {
    const { tree } = parse("$IP=192.168.1.1\nunicast_peer ${IP} $IP\tlast\n");
    expect(tree[0].argLocs).toEqual([at(2, 14), at(2, 20), at(2, 24)]);
  });

  it("requires '=' right after the name: `$A = 1` is not a definition", () => {
    const { tree } = parse("$A = 1\n");
    expect(lines(tree)).toEqual(["$A = 1"]);
  });

  it("substitutes recursively at use time (the man page's ADDRESS_BASE example)", () => {
    const text = "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n";
    expect(lines(parse(text).tree)).toEqual(["10.2.0.100/32", "10.2.10.100/32"]);
  });

  it("applies conditions in values and definitions ($IF_MAIN=@main, @main $PRIORITY=240)", () => {
    const text = "@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n$IF_MAIN=@main\n$IF_MAIN state MASTER\n";
    expect(lines(parse(text, "main").tree)).toEqual(["priority 240", "state MASTER"]);
    expect(lines(parse(text, "backup").tree)).toEqual(["priority 200"]);
  });

  it("expands multi-line definitions (the man page's $INSTANCE example) located at the definition lines", () => {
    const text = [
      "$INSTANCE= \\",
      "vrrp_instance VI_${NUM} { \\",
      "    interface eth0.${NUM} \\",
      "    @high priority 130 \\",
      "    @low priority 120 \\",
      "    virtual_ipaddress { \\",
      "        10.0.${NUM}.254/24 \\",
      "    } \\",
      "}",
      "",
      "$NUM=0",
      "$INSTANCE",
      "$NUM=1",
      "$INSTANCE",
    ].join("\n");
    const { tree, diag } = parse(text, "low");
    expect(diag.list).toEqual([]);
    expect(lines(tree)).toEqual([
      "vrrp_instance VI_0", "  interface eth0.0", "  priority 120", "  virtual_ipaddress", "    10.0.0.254/24",
      "vrrp_instance VI_1", "  interface eth0.1", "  priority 120", "  virtual_ipaddress", "    10.0.1.254/24",
    ]);
    // A reference that is the whole line becomes the definition's lines, located where they were written.
    const vi1 = tree[1];
    expect(vi1.loc).toEqual(at(2, 1));
    expect(vi1.argLocs).toEqual([at(2, 15)]);
    expect(vi1.children![0].loc).toEqual(at(3, 5));
    expect(vi1.endLoc).toEqual(at(9, 1));
  });

  it("nests multi-line definitions and runs definitions inside them in order ($VS / $RS)", () => {
    const text = [
      "$RS= \\",
      "real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\",
      "    weight 1 \\",
      "}",
      "$VS= \\",
      "virtual_server 10.0.${VS_NUM}.4 80 { \\",
      "    $RS_NUM=1 \\",
      "    $RS \\",
      "    $RS_NUM=2 \\",
      "    $RS \\",
      "}",
      "$VS_NUM=0",
      "$VS",
      "$VS_NUM=1",
      "$VS",
    ].join("\n");
    const { tree, diag } = parse(text);
    expect(diag.list).toEqual([]);
    expect(lines(tree)).toEqual([
      "virtual_server 10.0.0.4 80", "  real_server 192.168.0.1 80", "    weight 1", "  real_server 192.168.0.2 80", "    weight 1",
      "virtual_server 10.0.1.4 80", "  real_server 192.168.1.1 80", "    weight 1", "  real_server 192.168.1.2 80", "    weight 1",
    ]);
  });

  it("ends a multi-line definition at a blank line, as keepalived 2.2.7 does", () => {
    const text = "$M=\\\n  a 1 \\\n\n  b 2\nc\n$M\n";
    expect(lines(parse(text).tree)).toEqual(["b 2", "c", "a 1"]);
  });

  it("only expands a multi-line definition when its reference ends the line", () => {
    const { tree } = parse("$M=\\\nx 1\\\ny\n$M z\npre $M\n$N=a \\\nb\n$N\n");
    expect(lines(tree)).toEqual(["$M z", "pre x 1", "y", "a", "b"]);
    // The first value line is spliced into the using line and located at the reference.
    expect(tree[1].argLocs).toEqual([at(5, 5), at(5, 5)]);
  });

  it("leaves an undefined ${NAME} alone, so its braces split the line as in keepalived", () => {
    expect(lines(parse("state ${UNSET}\n").tree)).toEqual(["state $", "  UNSET"]);
  });

  it("provides ${_HASH}, ${_BANG}, ${_INSTANCE}, ${_PWD} and ${_RANDOM MIN MAX}", () => {
    const { tree } = parse(`a "x\${_HASH}y" "\${_BANG}" \${_INSTANCE} \${_PWD} \${_RANDOM 7 7}\nb c\${_HASH}d e\n`, "lb1");
    expect(tree[0].args).toEqual(["x#y", "!", "lb1", "/etc/keepalived", "7"]);
    // An unquoted '#' produced by substitution starts a comment, as in keepalived.
    expect(tree[1].args).toEqual(["c"]);
  });

  it("reports a recursive definition instead of hanging", () => {
    const { tree, diag } = parse("$A=$A x\nkey $A\nafter\n");
    expect(diag.hasErrors).toBe(true);
    expect(diag.list[0].message).toMatch(/does not terminate|longer than/);
    expect(diag.list[0].loc).toEqual(at(2, 5));
    expect(tree).toEqual([]);
  });

  it("reports a self-including multi-line definition instead of recursing forever", () => {
    const { diag } = parse("$M=\\\na\\\n$M\n$M\n");
    expect(diag.list.map((d) => d.message)).toEqual(["expansion nested more than 64 deep (recursive definition?)"]);
  });
});

describe("~SEQ and ~LST line expansion", () => {
  it("supports every ~SEQ form, negative steps and hexadecimal ~SEQx", () => {
    const { tree, diag } = parse([
      "~SEQ(i, 3) a$i",
      "~SEQ(i, 5, 6) b${i}",
      "~SEQ(i, 10, -5, 0) c$i",
      "~SEQ(i, -2) d$i",
      "~SEQx(h, 0x90, 0x10, 0xc0) fe80::20:${h}:1",
      "~SEQ(n, 3, 1) e$n",
    ].join("\n"));
    expect(diag.list).toEqual([]);
    expect(lines(tree)).toEqual([
      "a1", "a2", "a3", "b5", "b6", "c10", "c5", "c0", "d-1", "d-2",
      "fe80::20:90:1", "fe80::20:a0:1", "fe80::20:b0:1", "fe80::20:c0:1", "e3", "e2", "e1",
    ]);
  });

  it("nests several ~SEQ on one line, outer first, and locates the expanded statement", () => {
    const { tree } = parse("virtual_ipaddress {\n    ~SEQx(AD2, 0x90, 0x10, 0xa0) ~SEQx(AD1, 0x12, -1, 0x11) fe81::10:${AD2}:${AD1}\n}\n");
    expect(lines(tree[0].children!)).toEqual(["fe81::10:90:12", "fe81::10:90:11", "fe81::10:a0:12", "fe81::10:a0:11"]);
    expect(tree[0].children![3].loc).toEqual(at(2, 61));
  });

  it("takes ~SEQ parameters from definitions and drives multi-line definitions", () => {
    const text = "$N=3\n$VI=\\\nvrrp_instance v${ID} { \\\n  virtual_router_id ${ID} \\\n}\n~SEQ(ID, 1, $N) $VI\n";
    expect(lines(parse(text).tree)).toEqual([
      "vrrp_instance v1", "  virtual_router_id 1", "vrrp_instance v2", "  virtual_router_id 2", "vrrp_instance v3", "  virtual_router_id 3",
    ]);
  });

  it("rejects malformed ~SEQ with a located error", () => {
    for (const bad of ["~SEQ(i, 1, 0, 5) x", "~SEQ(i) x", "~SEQ i, 3) x", "~SEQ(i, 1, -1, 5) x", "~SEQx(i, -3) x", "~SEQ(i, 1, 2 x"]) {
      const { tree, diag } = parse(`a\n  ${bad}\n`);
      expect(lines(tree), bad).toEqual(["a"]);
      expect(diag.list, bad).toHaveLength(1);
      expect(diag.list[0].message, bad).toMatch(/^invalid ~SEQ specification/);
      expect(diag.list[0].loc, bad).toEqual(at(2, 3));
    }
  });

  it("supports ~LST with single and grouped variables, combined with ~SEQ", () => {
    const { tree, diag } = parse("~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}\n~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}\n");
    expect(diag.list).toEqual([]);
    expect(lines(tree)).toEqual([
      "192.169.1.5", "192.169.1.6", "192.169.2.5", "192.169.2.6",
      "192.168.10.1", "192.170.10.1", "192.168.20.4", "192.170.20.4",
    ]);
  });

  it("rejects malformed ~LST with a located error", () => {
    for (const bad of ["~LST(a) x", "~LST({a,b}, {1}) x", "~LST(a, 1 x", "~LST({a, 1) x", "~LST(a, p q, r) x"]) {
      const { diag } = parse(bad);
      expect(diag.list, bad).toHaveLength(1);
      expect(diag.list[0].message, bad).toMatch(/^invalid ~LST specification/);
      expect(diag.list[0].loc, bad).toEqual(at(1, 1));
    }
  });

  it("refuses a runaway expansion instead of hanging", () => {
    const { tree, diag } = parse("~SEQ(a, 1, 1000000000) x$a\n", undefined, { totalLines: 1000 });
    expect(tree).toEqual([]);
    expect(diag.list[0].message).toBe("~SEQ expands to 1000000000 lines, more than 1000");
    const nested = parse("~SEQ(a, 100) ~SEQ(b, 100) x$a\n", undefined, { totalLines: 1000 });
    expect(nested.tree.length).toBe(1000);
    expect(nested.diag.list.map((d) => d.message)).toEqual(["configuration expands to more than 1000 lines"]);
  });

  it("parses numbers like strtol(…, 0)", () => {
    expect(parseCLong(" 0x1F,", 0)).toEqual({ value: 31, end: 5 });
    expect(parseCLong("010", 0)).toEqual({ value: 8, end: 3 });
    expect(parseCLong("-12)", 0)).toEqual({ value: -12, end: 3 });
    expect(parseCLong(",", 0)).toEqual({ value: 0, end: 0 });
  });
});
