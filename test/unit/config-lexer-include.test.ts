// include: globs relative to the including file, nesting, loops, missing files, and
// locations that point into the included files. Uses a temporary directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandBraces, fsGlob, segmentRegExp } from "../../src/config/conf-files.ts";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedConf, parseKeepalivedText } from "../../src/config/lexer.ts";

let dir = "";

function write(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function keywords(nodes: LexedNode[]): string[] {
  return nodes.flatMap((n) => [n.keyword, ...(n.children ? keywords(n.children).map((k) => "  " + k) : [])]);
}

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "lbctl-lexer-")); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("include", () => {
  it("reads glob matches in sorted order, relative to the including file, nested, with real locations", () => {
    const main = write("etc/keepalived.conf", "global_defs {\n  include conf.d/*.conf\n}\ninclude vs/{b,a}.conf\nlast\n");
    write("etc/conf.d/20-second.conf", "second 2\n");
    write("etc/conf.d/10-first.conf", "first 1\ninclude ../inner/x.conf\n");
    write("etc/conf.d/.hidden.conf", "hidden\n");
    write("etc/conf.d/skip.txt", "skip\n");
    mkdirSync(join(dir, "etc/conf.d/dir.conf"));
    write("etc/inner/x.conf", "  inner_kw\n");
    write("etc/vs/a.conf", "vs_a\n");
    write("etc/vs/b.conf", "vs_b {\n  x\n");
    write("etc/vs/c.conf", "}\n");
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(main, { diag, configId: null });
    expect(keywords(tree)).toEqual(["global_defs", "  first", "  inner_kw", "  second", "vs_b", "  x", "  vs_a", "  last"]);
    const g = tree[0].children!;
    expect(g[0].loc).toEqual({ file: join(dir, "etc/conf.d/10-first.conf"), line: 1, col: 1 });
    expect(g[0].argLocs).toEqual([{ file: join(dir, "etc/conf.d/10-first.conf"), line: 1, col: 7 }]);
    expect(g[1].loc).toEqual({ file: join(dir, "etc/inner/x.conf"), line: 1, col: 3 });
    expect(tree[0].endLoc).toEqual({ file: main, line: 3, col: 1 });
    // vs/b.conf opens a block it never closes: the block runs on into the next statements.
    expect(tree[1].loc.file).toBe(join(dir, "etc/vs/b.conf"));
    expect(diag.list).toEqual([{
      severity: "error", message: "missing '}': the 'vs_b' block opened here is never closed",
      loc: { file: join(dir, "etc/vs/b.conf"), line: 1, col: 6 },
    }]);
  });

  it("lets braces span files, like keepalived's line stream", () => {
    const main = write("span/main.conf", "vrrp_instance VI {\ninclude body.conf\n}\n");
    write("span/body.conf", "  state MASTER\n");
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(main, { diag, configId: null });
    expect(diag.list).toEqual([]);
    expect(keywords(tree)).toEqual(["vrrp_instance", "  state"]);
  });

  it("points errors inside an included file at that file", () => {
    const main = write("err/main.conf", "a {\n}\ninclude sub/bad.conf\nafter\n");
    write("err/sub/bad.conf", "ok\n}\nx \"open\n");
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(main, { diag, configId: null });
    const bad = join(dir, "err/sub/bad.conf");
    expect(diag.list).toEqual([
      { severity: "error", message: "unexpected '}' with no open block", loc: { file: bad, line: 2, col: 1 } },
      { severity: "error", message: "unterminated quoted string", loc: { file: bad, line: 3, col: 3 } },
    ]);
    expect(keywords(tree)).toEqual(["a", "ok", "x", "after"]);
  });

  it("warns about a plain include that matches nothing, and errors for the checking variants", () => {
    const main = write("missing/main.conf", "include nothing/*.conf\nincludea none.conf\nkept\n");
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(main, { diag, configId: null });
    expect(keywords(tree)).toEqual(["kept"]);
    expect(diag.list).toEqual([
      { severity: "warning", message: "no configuration file matches 'nothing/*.conf'", loc: { file: main, line: 1, col: 1 } },
      { severity: "error", message: "no configuration file matches 'none.conf'", loc: { file: main, line: 2, col: 1 } },
    ]);
  });

  it("detects include loops with a clear error instead of recursing", () => {
    const a = write("loop/a.conf", "in_a\ninclude b.conf\n");
    write("loop/b.conf", "in_b\ninclude ./a.conf\n");
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(a, { diag, configId: null });
    expect(keywords(tree)).toEqual(["in_a", "in_b"]);
    expect(diag.list).toHaveLength(1);
    expect(diag.list[0].severity).toBe("error");
    expect(diag.list[0].message).toMatch(/^include loop: '.*loop\/a\.conf' is already being read/);
    expect(diag.list[0].loc).toEqual({ file: join(dir, "loop/b.conf"), line: 2, col: 1 });
  });

  it("includes after conditions and parameter substitution, as keepalived 2.2.7 does", () => {
    const main = write("cond/main.conf", "$F=part.conf\n@lb1 include $F\n@lb2 include other.conf\n");
    write("cond/part.conf", "from_part\n");
    const diag = new Diagnostics();
    expect(keywords(parseKeepalivedConf(main, { diag, configId: "lb1" }))).toEqual(["from_part"]);
    expect(diag.list).toEqual([]);
  });

  it("reports an unreadable top-level file as an error", () => {
    const diag = new Diagnostics();
    expect(parseKeepalivedConf(join(dir, "does-not-exist.conf"), { diag, configId: null })).toEqual([]);
    expect(diag.list[0].severity).toBe("error");
    expect(diag.list[0].message).toMatch(/^cannot read configuration file/);
  });

  it("uses injected file access, so text parsing stays pure", () => {
    const files: Record<string, string> = { "/v/inc.conf": "from_inc $X\n" };
    const diag = new Diagnostics();
    const tree = parseKeepalivedText("$X=1\ninclude inc.conf\n", "/v/main.conf", {
      diag,
      readFile: (p) => { const t = files[p]; if (t === undefined) throw new Error("ENOENT"); return t; },
      glob: (pattern, base) => [join(base, pattern)].filter((p) => p in files),
    });
    expect(diag.list).toEqual([]);
    expect(tree.map((n) => [n.keyword, n.args, n.loc.file])).toEqual([["from_inc", ["1"], "/v/inc.conf"]]);
  });
});

describe("glob helpers", () => {
  it("expands csh-style braces, nested, left to right", () => {
    expect(expandBraces("a{b,c{d,e}}f")).toEqual(["abf", "acdf", "acef"]);
    expect(expandBraces("{x}y")).toEqual(["{x}y"]);
    expect(expandBraces("{,cat,dog}s")).toEqual(["s", "cats", "dogs"]);
  });

  it("matches * ? [..] [!..] within one path component", () => {
    expect(segmentRegExp("*.conf").test("a.conf")).toBe(true);
    expect(segmentRegExp("*.conf").test("a.conf.bak")).toBe(false);
    expect(segmentRegExp("vs?.conf").test("vs1.conf")).toBe(true);
    expect(segmentRegExp("[0-4]*").test("3x")).toBe(true);
    expect(segmentRegExp("[!0-4]*").test("3x")).toBe(false);
    expect(segmentRegExp("a.b").test("axb")).toBe(false);
  });

  it("returns only regular files, relative to the base directory", () => {
    write("g/one.conf", "");
    mkdirSync(join(dir, "g/two.conf"), { recursive: true });
    expect(fsGlob("*.conf", join(dir, "g"))).toEqual([join(dir, "g/one.conf")]);
    expect(fsGlob(join(dir, "g/one.conf"), "/nowhere")).toEqual([join(dir, "g/one.conf")]);
    expect(fsGlob("absent.conf", join(dir, "g"))).toEqual([]);
  });
});

describe("include fan-out", () => {
  it("files that each include the next several times stop at a total count with a clear error", () => {
    // f0 includes f1 eight times, f1 includes f2 eight times, ...: 8^11 reads without the bound, and no
    // loop for the loop check to find.
    for (let i = 0; i < 12; i++) write(`fan/f${i}.conf`, `kw${i}\n` + (i < 11 ? `include f${i + 1}.conf\n`.repeat(8) : ""));
    const diag = new Diagnostics();
    parseKeepalivedConf(join(dir, "fan/f0.conf"), { diag, configId: null });
    expect(diag.list.map((d) => d.message)).toContain("more than 10000 files included in all (includes that include each other fan out)");
  });
});
