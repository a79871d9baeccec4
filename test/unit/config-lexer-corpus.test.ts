// Real configurations: the seed fixture, the 52-file real-world corpus (read in place from
// shared/, with keepalived 2.2.7's recorded verdicts), and a side-by-side run of
// `keepalived -t` on a file that exercises the whole preprocessor.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedConf } from "../../src/config/lexer.ts";

const repo = join(import.meta.dirname, "../..");
const seed = join(repo, "test/fixtures/seed-keepalived.conf");

/** shared/ sits beside the checkout in CI and at /work/shared on development machines. */
function sharedDir(): string {
  const found = [join(repo, "../shared"), "/work/shared"].find((d) => existsSync(join(d, "corpus/real-world")));
  if (!found) throw new Error("shared/corpus/real-world not found beside the checkout or at /work/shared");
  return found;
}

// keepalived 2.2.7's top-level keywords (those the corpus can use).
const TOP_LEVEL = new Set([
  "global_defs", "vrrp_script", "vrrp_instance", "vrrp_sync_group", "vrrp_track_process", "track_file",
  "vrrp_track_file", "virtual_server", "virtual_server_group", "bfd_instance", "static_ipaddress",
  "static_routes", "static_rules", "linkbeat_interfaces", "garp_group", "net_namespace", "use_pid_dir",
  "instance", "include",
]);

const BRACE_COMPLAINTS = /Unexpected '\{'|Extra '\}'|missing '\}'|Missing '\{'/;

describe("seed configuration", () => {
  it("parses the seed (glued '9999{', '!'/'#' and Chinese comments) cleanly", () => {
    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(seed, { diag, configId: null });
    expect(diag.list).toEqual([]);
    expect(tree.map((n) => [n.keyword, ...n.args].join(" "))).toEqual([
      "global_defs", "vrrp_script chk_haproxy", "vrrp_instance VI_1",
      "virtual_server 192.168.26.34 9999", "virtual_server 192.168.26.34 3306",
    ]);
    const vs = tree[3];
    expect(vs.loc).toEqual({ file: seed, line: 57, col: 1 });
    expect(vs.argLocs[1]).toEqual({ file: seed, line: 57, col: 30 });
    expect(vs.endLoc).toEqual({ file: seed, line: 95, col: 1 });
    expect(vs.children!.filter((c) => c.keyword === "real_server").map((c) => c.args)).toEqual([
      ["192.168.26.36", "9999"], ["192.168.26.54", "9999"],
    ]);
    const email = tree[0].children!.find((c) => c.keyword === "notification_email")!;
    expect(email.children!.map((c) => c.keyword)).toEqual(["541223550@qq.com"]);
    const script = tree[1].children!.find((c) => c.keyword === "script")!;
    expect(script.args).toEqual(["/etc/keepalived/chk_nginx.sh"]);
  });
});

describe("real-world corpus", () => {
  const corpus = join(sharedDir(), "corpus/real-world");
  const files = readdirSync(corpus).filter((f) => f.endsWith(".conf")).sort();
  const verdicts = new Map(readFileSync(join(corpus, "VERDICTS.tsv"), "utf8").split("\n").slice(1)
    .filter((l) => l.length > 0).map((l) => { const [file, , messages] = l.split("\t"); return [file, messages ?? ""] as const; }));

  it("has the 52 configurations", () => {
    expect(files.length).toBe(52);
  });

  it("parses every file without throwing, and agrees with keepalived's verdicts on structure", () => {
    for (const f of files) {
      const diag = new Diagnostics();
      let tree: LexedNode[] = [];
      expect(() => { tree = parseKeepalivedConf(join(corpus, f), { diag, configId: null }); }, f).not.toThrow();
      expect(tree.length, f).toBeGreaterThan(0);
      const verdict = verdicts.get(f);
      expect(verdict, `${f} has a keepalived verdict`).toBeDefined();
      const keepalivedComplains = BRACE_COMPLAINTS.test(verdict!);
      // Brace errors only where keepalived also found brace trouble.
      if (!keepalivedComplains) expect(diag.list.filter((d) => d.severity === "error"), f).toEqual([]);
      // Top-level statements are keepalived's root keywords, or ones keepalived itself rejected.
      for (const n of tree) {
        if (TOP_LEVEL.has(n.keyword) || keepalivedComplains) continue;
        expect(verdict, `${f}: top-level '${n.keyword}'`).toContain(`Unknown keyword '${n.keyword}'`);
      }
    }
  });
});

describe("keepalived's own samples (apt keepalived)", () => {
  it("parses all 25 shipped samples without a diagnostic, as keepalived -t finds no structural fault in them", () => {
    const samples = "/usr/share/doc/keepalived/samples";
    const files = readdirSync(samples).filter((f) => f.startsWith("keepalived.conf."));
    expect(files.length).toBe(25);
    for (const f of files) {
      const diag = new Diagnostics();
      const tree = parseKeepalivedConf(join(samples, f), { diag, configId: "high" });
      expect(diag.list, f).toEqual([]);
      expect(tree.length, f).toBeGreaterThan(0);
    }
  });
});

describe("side by side with keepalived -t", () => {
  let dir = "";
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "lbctl-lexer-ka-")); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it("produces the same statements as keepalived 2.2.7 for every preprocessor feature", () => {
    // Every statement is an unknown keyword inside global_defs, so keepalived names each one, in order.
    const main = join(dir, "keepalived.conf");
    mkdirSync(join(dir, "conf.d/nested"), { recursive: true });
    writeFileSync(join(dir, "conf.d/10-a.conf"), "inc_a1\ninclude nested/*.conf\n");
    writeFileSync(join(dir, "conf.d/20-b.conf"), "inc_b1 ! comment\n");
    writeFileSync(join(dir, "conf.d/nested/n.conf"), "inc_nested $PFX\n");
    writeFileSync(main, [
      "$PFX=pre",
      "$BASE=x_${SUB}",
      "$SUB=0",
      "$ML=\\",
      "  ml_one \\",
      "  ml_two",
      "$EMPTYEND=\\",
      "  ee_one \\",
      "",
      "  ee_after",
      "global_defs {",
      "  plain_kw arg # comment",
      "  hash#inword",
      "  bang!inword",
      "  \"quoted kw\" x",
      "  esc\\#aped",
      "  @main cond_main",
      "  @^main cond_not_main",
      "  @other cond_other",
      "  @^other cond_not_other",
      "  ${PFX}_braced",
      "  $PFX",
      "  ${BASE}",
      "  $SUB = not_a_definition",
      "  $UNDEFINED_X",
      "  $ML",
      "  ~SEQ(i, 3) seq_$i",
      "  ~SEQ(i, 10, -4, 2) down_$i",
      "  ~SEQx(h, 9, 3, 15) hex_$h",
      "  ~SEQ(a, 2) ~SEQ(b, 2) pair_${a}_${b}",
      "  ~LST(l, p, q) lst_$l",
      "  ~LST({x, y}, {1, 2}, {3, 4}) xy_${x}_$y",
      "  hash${_HASH}cut",
      "  inst_${_INSTANCE}",
      "  include conf.d/*.conf",
      "  last_kw",
      "}",
      "",
    ].join("\n"));
    const run = spawnSync("keepalived", ["-t", "-i", "main", "-f", main], { encoding: "utf8", timeout: 30_000 });
    expect(run.error, "keepalived must be installed (apt keepalived)").toBeUndefined();
    const theirs = [...run.stderr.matchAll(/Unknown keyword '([^']*)'/g)].map((m) => m[1]);

    const diag = new Diagnostics();
    const tree = parseKeepalivedConf(main, { diag, configId: "main" });
    const ours = [...tree.filter((n) => n.keyword !== "global_defs").map((n) => n.keyword),
      ...tree.find((n) => n.keyword === "global_defs")!.children!.map((n) => n.keyword)];
    // keepalived reports top-level unknown keywords once per process (three times); keep the first pass.
    const firstPass = theirs.slice(0, ours.length);
    expect(firstPass).toEqual(ours);
    expect(ours).toContain("ee_after");
    expect(ours).toContain("inc_nested");
    expect(diag.hasErrors).toBe(false);
  });
});
