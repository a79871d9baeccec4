// The catalogue of mistakes: each case is a small file, and the exact lines `lbctl check`
// prints for it (FILE:LINE:COL: severity: message, then the summary), exit code included.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runInProcess } from "../helpers/lbctl-run.ts";

interface Case { what: string; file: string; text: string; expect: string[] }

// Valid surroundings, so each case shows only its own mistake (first line of the body: 7 / 5 / 5).
const VI = (body: string, close = "}\n") => `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1\n  }\n${body}${close}`;
const VS = (body: string) => `virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n${body}}\n`;
const TVI = (body: string) => `[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = [ "10.0.0.1" ]\n${body}`;
const NOTHING = (file: string) => `${file}:1:1: warning: nothing to run: no vrrp_instance, virtual_server or static address, route or rule is configured`;

const CASES: Case[] = [
  // Lexical
  { what: "unterminated quote", file: "quote.conf", text: 'global_defs {\n  router_id "abc\n}\n',
    expect: ["quote.conf:2:13: error: unterminated quoted string"] },
  { what: "block never closed", file: "unclosed.conf", text: VI("  priority 100\n", ""),
    expect: ["unclosed.conf:1:20: error: missing '}': the 'vrrp_instance' block opened here is never closed"] },
  { what: "extra closing brace", file: "close.conf", text: VI("", "}\n}\n"),
    expect: ["close.conf:8:1: error: unexpected '}' with no open block"] },
  { what: "brace with no statement", file: "brace.conf", text: "{\n}\n",
    expect: ["brace.conf:1:1: error: unexpected '{' with no statement before it"] },
  { what: "binary garbage", file: "nul.conf", text: "a\0b\n",
    expect: ["nul.conf:1:1: error: nul.conf is not a text file (it contains NUL bytes)"] },
  // Preprocessor and includes
  { what: "bad ~SEQ", file: "seq.conf", text: "~SEQ(i,1,x) vrrp_instance VI_$i {\n}\n",
    expect: ["seq.conf:1:1: error: invalid ~SEQ specification: expected '(NAME, [START, [STEP,]] END)'", "seq.conf:2:1: error: unexpected '}' with no open block"] },
  { what: "include matching nothing", file: "incmiss.conf", text: "include DIR/nope.conf\n",
    expect: ["incmiss.conf:1:1: warning: no configuration file matches 'DIR/nope.conf'", NOTHING("incmiss.conf")] },
  { what: "include loop", file: "loop.conf", text: "include DIR/loop.conf\n",
    expect: ["loop.conf:1:1: error: include loop: 'DIR/loop.conf' is already being read (DIR/loop.conf)"] },
  { what: "error inside an included file", file: "incerr.conf", text: "include DIR/range.conf\n",
    expect: ["range.conf:7:12: error: 'priority' 300 is out of range 1..255"] },
  // Structure
  { what: "named block defined twice", file: "twice.conf", text: VI("") + VI(""),
    expect: ["twice.conf:8:1: error: vrrp_instance 'VI_1' is defined twice"] },
  { what: "named block without a name", file: "noname.conf", text: "vrrp_instance {\n}\n",
    expect: ["noname.conf:1:1: error: 'vrrp_instance' needs a name"] },
  { what: "named block without braces", file: "noblock.conf", text: "vrrp_instance VI_1\n",
    expect: ["noblock.conf:1:1: error: 'vrrp_instance VI_1' must open a block with '{'"] },
  { what: "block keyword without braces", file: "gnoblock.conf", text: "global_defs\n",
    expect: ["gnoblock.conf:1:1: error: 'global_defs' must open a block with '{'"] },
  { what: "argument on a block that takes none", file: "blockarg.conf", text: "global_defs x {\n}\n",
    expect: [NOTHING("blockarg.conf"), "blockarg.conf:1:13: warning: 'global_defs': extra argument 'x' ignored"] },
  { what: "unknown keyword in a block", file: "unknown.conf", text: VI("  bogus 1\n"),
    expect: ["unknown.conf:7:3: warning: unknown keyword 'bogus' in vrrp_instance VI_1"] },
  { what: "unknown top-level block", file: "unktop.conf", text: "bogus_block {\n}\n",
    expect: ["unktop.conf:1:1: warning: unknown keyword 'bogus_block' in the top level", NOTHING("unktop.conf")] },
  // Values: missing, extra, type, range
  { what: "missing value", file: "needarg.conf", text: VI("  priority\n"),
    expect: ["needarg.conf:7:3: error: 'priority' needs an integer"] },
  { what: "extra value", file: "extra.conf", text: VI("  priority 100 200\n"),
    expect: ["extra.conf:7:16: warning: 'priority': extra argument '200' ignored"] },
  { what: "integer out of range", file: "range.conf", text: VI("  priority 300\n"),
    expect: ["range.conf:7:12: error: 'priority' 300 is out of range 1..255"] },
  { what: "not an integer", file: "notint.conf", text: VI("  garp_master_repeat abc\n"),
    expect: ["notint.conf:7:22: error: 'garp_master_repeat' expects an integer, got 'abc'"] },
  { what: "not a number", file: "advert.conf", text: VI("  advert_int fast\n"),
    expect: ["advert.conf:7:14: error: 'advert_int' expects a number, got 'fast'"] },
  { what: "unknown state falls back to BACKUP", file: "state.conf", text: VI("  state SLAVE\n"),
    expect: ["state.conf:7:9: warning: unknown state 'SLAVE' (must be MASTER or BACKUP, in capitals), defaulting to BACKUP"] },
  { what: "bad enumeration value", file: "auth.conf", text: VI("  authentication {\n    auth_type MD5\n    auth_pass secret\n  }\n"),
    expect: ["auth.conf:8:15: error: 'auth_type' must be one of PASS, AH, got 'MD5'"] },
  { what: "bad flag value", file: "flag.conf", text: "global_defs {\n  vrrp_strict maybe\n}\n",
    expect: ["flag.conf:2:15: error: 'vrrp_strict' takes no value or one of true/false/on/off/yes/no, got 'maybe'"] },
  { what: "value on a flag that takes none", file: "flagarg.conf", text: VI("  nopreempt maybe\n"),
    expect: ["flagarg.conf:7:13: warning: 'nopreempt': extra argument 'maybe' ignored"] },
  { what: "missing user name", file: "user.conf", text: "global_defs {\n  script_user\n}\n",
    expect: ["user.conf:2:3: error: 'script_user' needs a user name"] },
  { what: "timeout below minimum", file: "smtp.conf", text: "global_defs {\n  smtp_connect_timeout 0\n}\n",
    expect: ["smtp.conf:2:24: error: 'smtp_connect_timeout' 0 is out of range >= 1"] },
  { what: "global value out of range", file: "version.conf", text: "global_defs {\n  vrrp_version 4\n}\n",
    expect: ["version.conf:2:16: error: 'vrrp_version' 4 is out of range 2..3"] },
  { what: "invalid real server address", file: "rs.conf", text: VS("  real_server 10.0.0.999 80 {\n  }\n"),
    expect: ["rs.conf:5:15: error: invalid real server address '10.0.0.999'"] },
  { what: "bad protocol", file: "proto.conf", text: VS("  protocol ICMP\n"),
    expect: ["proto.conf:5:12: error: 'protocol' must be one of TCP, UDP, SCTP, got 'ICMP'"] },
  { what: "port out of range in a group", file: "group.conf", text: "virtual_server_group G {\n  10.0.0.2 80\n  10.0.0.1 70000\n}\n",
    expect: ["group.conf:3:12: error: virtual_server_group: invalid port '70000' (0..65535)"] },
  { what: "deprecated keyword", file: "depr.conf", text: VS("  lb_kind DR\n"),
    expect: ["depr.conf:5:3: warning: 'lb_kind' is deprecated, use 'lvs_method'"] },
  { what: "obsolete keyword", file: "obsolete.conf", text: VS("  nat_mask 255.255.255.0\n"),
    expect: ["obsolete.conf:5:3: warning: 'nat_mask' is obsolete and ignored"] },
  // Cross references and semantic rules
  { what: "track_script naming no vrrp_script", file: "track.conf", text: VI("  track_script {\n    chk_none\n  }\n"),
    expect: ["track.conf:8:5: warning: (VI_1) track script chk_none not found, ignoring..."] },
  { what: "VRID used twice on one interface", file: "vrid2.conf", text: VI("") + VI("").replace("VI_1", "VI_2").replace("10.0.0.1", "10.0.0.2"),
    expect: ["vrid2.conf:10:3: error: VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"] },
  // TOML syntax
  { what: "TOML: unclosed table header", file: "syntax.toml", text: "[vrrp_instance.VI_1\npriority = 1\n",
    expect: ["syntax.toml:1:20: error: TOML syntax: illegal character in key"] },
  { what: "TOML: key set twice", file: "dup.toml", text: '[global_defs]\nrouter_id = "a"\nrouter_id = "b"\n',
    expect: ["dup.toml:3:1: error: TOML syntax: trying to redefine an already defined table or value"] },
  { what: "TOML: missing value", file: "noval.toml", text: "[global_defs]\nrouter_id =\n",
    expect: ["noval.toml:2:12: error: TOML syntax: invalid value"] },
  // TOML types, ranges and keys
  { what: "TOML: string for an integer", file: "type.toml", text: TVI('priority = "high"\n'),
    expect: ["type.toml:5:1: error: 'priority' expects an integer"] },
  { what: "TOML: fraction for an integer", file: "float.toml", text: TVI("priority = 1.5\n"),
    expect: ["float.toml:5:1: error: 'priority' expects an integer"] },
  { what: "TOML: out of range", file: "range.toml", text: TVI("priority = 0\n"),
    expect: ["range.toml:5:1: error: 'priority' 0 is out of range 1..255"] },
  { what: "TOML: out of range inside an inline table", file: "inline.toml",
    text: 'vrrp_instance = { VI_1 = { interface = "eth0", virtual_router_id = 51, virtual_ipaddress = ["10.0.0.1"], priority = 1000 } }\n',
    expect: ["inline.toml:1:106: error: 'priority' 1000 is out of range 1..255"] },
  { what: "TOML: string for a flag", file: "flag.toml", text: TVI('nopreempt = "yes"\n'),
    expect: ["flag.toml:5:1: error: 'nopreempt' expects true or false"] },
  { what: "TOML: bad enumeration value", file: "enum.toml", text: TVI('state = "SLAVE"\n'),
    expect: ["enum.toml:5:1: error: 'state' must be one of MASTER, BACKUP"] },
  { what: "TOML: string for a list", file: "list.toml", text: '[global_defs]\nnotification_email = "a@b"\n',
    expect: ["list.toml:2:1: error: 'notification_email' expects a list"] },
  { what: "TOML: wrong item in a multi-line list", file: "item.toml", text: '[global_defs]\nnotification_email = [\n  "a@b",\n  5,\n]\n',
    expect: ["item.toml:4:3: error: 'notification_email' item 2: expected a string"] },
  { what: "TOML: value where a table of blocks belongs", file: "notable.toml", text: "vrrp_instance = 5\n",
    expect: ["notable.toml:1:1: error: 'vrrp_instance' expects a table of named blocks"] },
  { what: "TOML: unknown key in a block", file: "unknown.toml", text: TVI("prio = 1\n"),
    expect: ["unknown.toml:5:1: error: unknown setting 'prio' in vrrp_instance VI_1"] },
  { what: "TOML: keepalived spelling instead of the TOML key", file: "alias.toml", text: '[[virtual_server]]\nip = "10.0.0.1"\nport = 80\nprotocol = "TCP"\nlb_algo = "rr"\n[[virtual_server.real_server]]\nip = "10.0.0.2"\nport = 80\n',
    expect: ["alias.toml:5:1: error: unknown setting 'lb_algo' in virtual_server #1 (did you mean 'lvs_sched'?)"] },
  { what: "TOML: unknown top-level key", file: "unktop.toml", text: "bogus = 1\n",
    expect: ["unktop.toml:1:1: error: unknown setting 'bogus' in the top level"] },
];

const dir = mkdtempSync(join(tmpdir(), "lbt-cf-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(dir, { recursive: true });
// Written up front: some cases include others' files.
for (const c of CASES) writeFileSync(join(dir, c.file), c.text.replaceAll("DIR/", `${dir}/`));

function summary(lines: string[], file: string): string {
  const count = (sev: string) => lines.filter((l) => l.includes(`: ${sev}: `)).length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `lbctl: ${plural(count("error"), "error")}, ${plural(count("warning"), "warning")} in ${file}`;
}

describe("lbctl check: one message per mistake, at its file:line:col", () => {
  it("has at least 30 kinds of mistake", () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  for (const c of CASES) {
    it(c.what, async () => {
      const path = join(dir, c.file);
      const r = await runInProcess(["check", "--no-interfaces", "-f", path]);
      const got = r.stdout.replaceAll(`${dir}/`, "").trimEnd().split("\n");
      const want = c.expect.map((l) => l.replaceAll("DIR/", ""));
      expect(got).toEqual([...want, summary(want, c.file)]);
      expect(r.code).toBe(want.some((l) => l.includes(": error: ")) ? 1 : 2);
    });
  }
});
