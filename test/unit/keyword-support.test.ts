// The keyword support table (src/config/support.ts) against the specs: every field of every block
// reachable from the root and every obsolete keyword has a status; an `applied` one names test files
// that exist and mention it; an `unsupported` one, set in a configuration, gives
// "'KW' is not supported by lbctl: WHY" at its own line, in keepalived.conf and in TOML alike (an
// applied one with a note: "'KW' is only partly supported by lbctl: NOTE").
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelToToml } from "../../src/config/convert.ts";
import type { CheckEnv } from "../../src/config/env.ts";
import { configSections, type ConfigSection } from "../../src/config/docs.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { ITEM_OPTION_SUPPORT, KEYWORD_SUPPORT, keywordSupport, supportWarning } from "../../src/config/support.ts";
import { summarize } from "../../src/daemon/supervisor.ts";

const ROOT = join(import.meta.dirname, "../..");

const sections = await configSections();
const env: CheckEnv = { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "lb1", interfaceExists: () => true };

interface Entry { block: string; key: string; keywords: string[]; section: ConfigSection }

const fieldEntries: Entry[] = sections.flatMap((section) => section.fields.map(({ field, keywords }) => ({
  block: section.spec.name,
  key: field.key,
  // A checker's `type` is written as its block keyword, a header value (`real_server IP PORT`) with the
  // block's; the real server's `checker` as any checker keyword.
  keywords: field.key === "type" ? [section.spec.name]
    : [field.key, ...keywords.map((k) => k.replace(/ \(deprecated\)$/, "")), ...(field.headerOnly ? [section.spec.name] : [])],
  section,
})));
const obsoleteEntries = sections.flatMap((s) => s.obsolete.map((kw) => ({ block: s.spec.name, key: kw })));

const mentions = (text: string, kw: string): boolean => new RegExp(`(^|[^\\w-])${kw.replace(/[-]/g, "\\-")}([^\\w-]|$)`).test(text);

describe("keyword support table", () => {
  it("has a status for every field of every block and every obsolete keyword", () => {
    const missing = [...fieldEntries, ...obsoleteEntries].filter((e) => keywordSupport(e.block, e.key) === undefined).map((e) => `${e.block} ${e.key}`);
    expect(missing).toEqual([]);
    expect(fieldEntries.length).toBeGreaterThanOrEqual(473);
  });

  it("has no entry for a keyword that no longer exists", () => {
    const known = new Set([...fieldEntries, ...obsoleteEntries].map((e) => `${e.block} ${e.key}`));
    const stale = Object.entries(KEYWORD_SUPPORT).flatMap(([b, rows]) => Object.keys(rows).map((k) => `${b} ${k}`)).filter((k) => !known.has(k));
    expect(stale).toEqual([]);
  });

  it("says why for everything that is not applied", () => {
    const bare = Object.entries(KEYWORD_SUPPORT).flatMap(([b, rows]) => Object.entries(rows).filter(([, s]) => s.status !== "applied" && !s.why?.trim()).map(([k]) => `${b} ${k}`));
    expect(bare).toEqual([]);
  });

  it("names, for every applied keyword, test files that exist and mention it", () => {
    const bad: string[] = [];
    for (const e of fieldEntries) {
      const s = keywordSupport(e.block, e.key);
      if (s?.status !== "applied") continue;
      if (!s.tests?.length) { bad.push(`${e.block} ${e.key}: no test named`); continue; }
      for (const t of s.tests) {
        const path = join(ROOT, t);
        if (!existsSync(path)) { bad.push(`${e.block} ${e.key}: ${t} does not exist`); continue; }
        const text = readFileSync(path, "utf8");
        if (!e.keywords.some((k) => mentions(text, k))) bad.push(`${e.block} ${e.key}: ${t} does not mention ${e.keywords.join(" / ")}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Each unsupported keyword set in a small configuration.

/** A configuration with `@@` where the keyword's line(s) go; the block holding it. */
const VRRP = "vrrp_instance VI {\n  interface lo\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.1\n  }\n@@\n}\n";
const RS = (body: string) => `virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n${body}\n  }\n}\n`;
const WRAP: Record<string, string> = {
  configuration: "@@\n",
  global_defs: "global_defs {\n@@\n}\n",
  track_group: "@@\n",
  track_file: "track_file TF {\n  file /tmp/tf\n@@\n}\n",
  vrrp_track_process: "vrrp_track_process P {\n  process foo\n@@\n}\n",
  bfd_instance: "bfd_instance B {\n  neighbor_ip 10.0.0.2\n@@\n}\n",
  garp_group: "garp_group {\n  interface lo\n@@\n}\n",
  vrrp_sync_group: VRRP.replace("@@\n", "") + "vrrp_sync_group G {\n  group {\n    VI\n  }\n@@\n}\n",
  vrrp_instance: VRRP,
  virtual_server: "virtual_server 10.0.0.1 80 {\n  protocol TCP\n@@\n}\n",
  real_server: RS("@@"),
  BFD_CHECK: RS("@@"),
  url: RS("    HTTP_GET {\n      url {\n        path /\n@@\n      }\n    }"),
};

/**
 * The line(s) that set a keyword, where its type's description does not say enough. Fields of a
 * block that is unsupported as a whole are set inside that block, whose header gets the warning.
 */
const SET: Record<string, string> = {
  "configuration linkbeat_interfaces": "linkbeat_interfaces {\n  lo\n}",
  "configuration interface_up_down_delays": "interface_up_down_delays {\n  lo 5\n}",
  "configuration track_group": "track_group TG {\n  group {\n    VI\n  }\n}",
  "configuration static_ipaddress": "static_ipaddress {\n  10.1.1.1/24 dev lo\n}",
  "configuration static_routes": "static_routes {\n  10.2.0.0/16 dev lo\n}",
  "configuration static_rules": "static_rules {\n  from 10.3.0.0/16 table 100\n}",
  "configuration bfd_instance": "bfd_instance B {\n  neighbor_ip 10.0.0.2\n}",
  "configuration garp_group": "garp_group {\n  interface lo\n}",
  "global_defs vrrp_mcast_group4": "vrrp_mcast_group4 224.0.0.19",
  "global_defs vrrp_mcast_group6": "vrrp_mcast_group6 ff02::13",
  "global_defs umask": "umask 0022",
  "global_defs include_check": "include_check readable",
  "global_defs vrrp_rx_bufs_policy": "vrrp_rx_bufs_policy MTU",
  "track_group group": "track_group TG {\n  group {\n    VI\n  }\n}",
  "track_file init_file": "init_file 0",
  "vrrp_track_process param_match": "param_match initial",
  "garp_group interfaces": "interfaces {\n  lo\n}",
  "vrrp_sync_group track_interface": "track_interface {\n  lo\n}",
  "vrrp_sync_group track_script": "track_script {\n  S\n}",
  "vrrp_sync_group track_file": "track_file {\n  TF\n}",
  "vrrp_sync_group track_process": "track_process {\n  P\n}",
  "vrrp_sync_group track_bfd": "track_bfd {\n  B\n}",
  "vrrp_instance track_bfd": "track_bfd {\n  B\n}",
  "vrrp_instance mcast_dst_ip": "mcast_dst_ip 224.0.0.19",
  "vrrp_instance vrf": "vrf lo",
  "vrrp_instance lvs_sync_daemon_interface": "lvs_sync_daemon_interface lo",
  "BFD_CHECK type": "    BFD_CHECK {\n      name B\n    }",
  "BFD_CHECK name": "    BFD_CHECK {\n      name B\n    }",
  "url regex_stack": "regex_stack 1024 2048",
};

/** Fields of these blocks are warned once, at the header of the block (its own field is unsupported). */
const WHOLE_BLOCK = new Set(["track_group", "bfd_instance", "garp_group", "BFD_CHECK"]);

function valueFor(describe: string): string {
  if (/^flag/.test(describe)) return "";
  const range = /^integer (-?\d+)\.\.|^integer >= (\d+)/.exec(describe);
  if (range) return range[1] ?? range[2]!;
  if (/^number/.test(describe)) return "1";
  if (/IPv4 or IPv6 address/.test(describe)) return "10.0.0.9";
  if (/^interface name/.test(describe)) return "lo";
  if (/script \[user/.test(describe)) return "/bin/true";
  if (/FIFO path/.test(describe)) return "/tmp/fifo";
  if (/seconds/.test(describe)) return "5";
  if (/weight/.test(describe)) return "10";
  return "x";
}

/** Unsupported keywords, and applied ones with a note (partly supported): both are warned. */
const unsupported = fieldEntries.filter((e) => supportWarning(e.block, e.key) !== undefined);

function configFor(e: Entry): { text: string; line: number } {
  const field = e.section.fields.find((f) => f.field.key === e.key)!.field;
  const kw = field.kw ?? field.key;
  const given = SET[`${e.block} ${e.key}`];
  const set = given ?? `${kw} ${valueFor(field.type.describe)}`.trimEnd();
  const wrap = WRAP[e.block];
  if (wrap === undefined) throw new Error(`no wrapper for block ${e.block}`);
  const indent = wrap === "@@\n" || set.startsWith("  ") ? "" : "  ";
  const lines = set.split("\n").map((l) => indent + l).join("\n");
  const at = wrap.indexOf("@@");
  const text = wrap.slice(0, at) + lines + wrap.slice(at + 2);
  // Inside a block unsupported as a whole, the warning is at the block's header (the wrapper's first line).
  return { text, line: WHOLE_BLOCK.has(e.block) && wrap.startsWith(e.block) ? 1 : text.slice(0, at).split("\n").length };
}

describe("an unsupported (or partly supported) keyword, set, is warned at its line", () => {
  it("covers every unsupported keyword", () => expect(unsupported.length).toBeGreaterThan(100));

  for (const e of unsupported) {
    it(`${e.block} ${e.key}`, () => {
      const { text, line } = configFor(e);
      const conf = loadConfigText(text, "k.conf", { env, format: "keepalived" });
      const expected = supportWarning(e.block, e.key)!;
      const own = conf.diag.list.filter((d) => d.severity === "warning" && d.message.endsWith(` ${expected}`));
      expect(own.map((d) => `${d.loc?.file}:${d.loc?.line}`), `${text}\n${conf.diag.list.map((d) => `${d.loc?.line}: ${d.message}`).join("\n")}`).toContain(`k.conf:${line}`);
      for (const d of own) expect(d.message).toMatch(/^'[\w-]+' is (not|only partly) supported by lbctl: /);

      // The same configuration in TOML warns the same keyword at a line that names it.
      const tomlText = modelToToml(conf.model);
      const toml = loadConfigText(tomlText, "k.toml", { env, format: "toml" });
      const tomlOwn = toml.diag.list.filter((d) => d.severity === "warning" && d.message.endsWith(` ${expected}`));
      expect(tomlOwn.length, tomlText).toBeGreaterThan(0);
      const tomlLines = tomlText.split("\n");
      for (const d of tomlOwn) {
        const name = /^'([\w-]+)'/.exec(d.message)![1]!;
        expect(tomlLines[d.loc!.line - 1], `${d.message}\n${tomlText}`).toContain(name === "BFD_CHECK" ? "BFD_CHECK" : name);
      }
    });
  }

  it("warns a block unsupported as a whole once per block (not its contents), a list once", () => {
    const text = "bfd_instance A {\n  neighbor_ip 10.0.0.1\n  min_rx 10\n}\nbfd_instance B {\n  neighbor_ip 10.0.0.2\n}\nstatic_ipaddress {\n  10.1.1.1 dev lo\n  10.1.1.2 dev lo\n}\n";
    const warned = loadConfigText(text, "k.conf", { env }).diag.list.filter((d) => d.message.includes("supported by lbctl"));
    expect(warned.map((d) => `${d.loc?.line} ${d.message.split(" ")[0]}`).sort()).toEqual(["1 'bfd_instance'", "5 'bfd_instance'", "8 'static_ipaddress'"]);
  });

  it("the daemon's load (same pipeline) logs the same warning with its place", () => {
    const text = VRRP.replace("@@", "  track_bfd {\n    B\n  }");
    expect(summarize(loadConfigText(text, "k.conf", { env })).warnings).toContain("k.conf:7:3: warning: 'track_bfd' is not supported by lbctl: lbctl has no BFD");
  });

  it("says nothing of the kind for a configuration of keywords lbctl acts on", () => {
    // debug and hashed: keepalived 2.2.7 ignores them too (parsed-only), so lbctl says nothing either.
    const text = `global_defs {\n  router_id lb1\n  vrrp_garp_master_delay 3\n}\n${VRRP.replace("@@", "  priority 150\n  advert_int 1\n  debug 2")}${RS("    weight 2\n    TCP_CHECK {\n      connect_timeout 3\n    }").replace("  protocol TCP", "  protocol TCP\n  hashed")}`;
    expect(text).toMatch(/debug 2[\s\S]*hashed/);
    const conf = loadConfigText(text, "k.conf", { env });
    expect(conf.diag.list.filter((d) => d.message.includes("supported by lbctl"))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Options inside the items of applied lists (address, route, rule and peer lines).

/** A line using each option: value options need a value. */
const OPTION_LINE: Record<string, string> = {
  peer: "10.0.0.5 peer 10.0.0.6", "preferred_lft": "10.0.0.5 preferred_lft 30", use_vmac: "10.0.0.5 dev lo use_vmac",
  min_ttl: "10.0.0.2 min_ttl 10", max_ttl: "10.0.0.2 max_ttl 200",
};
const itemLine = (opt: string): string => OPTION_LINE[opt] ?? `10.0.0.5 ${opt}`;

describe("an unsupported option inside a list item is warned at the item's line", () => {
  const inList = (key: string, line: string) => {
    const text = VRRP.replace("@@", `  ${key} {\n    ${line}\n  }`);
    return { text, line: 8, conf: loadConfigText(text, "k.conf", { env }) };
  };

  it("names applied fields of known blocks", () => {
    for (const [block, rows] of Object.entries(ITEM_OPTION_SUPPORT)) for (const key of Object.keys(rows)) {
      expect(keywordSupport(block, key)?.status, `${block} ${key}`).toBe("applied");
    }
  });

  for (const [key, opts] of Object.entries(ITEM_OPTION_SUPPORT.vrrp_instance!)) {
    const samples: [string, string][] = opts.unsupported
      ? opts.unsupported.map((o) => [o, itemLine(o)])
      : opts.words === "route" ? [["metric", "10.8.0.0/16 via 10.0.0.254 dev lo metric 50"], ["onlink", "10.8.0.0/16 via 10.0.0.254 dev lo onlink"]]
      : [["fwmark", "from 10.8.0.0/16 table 100 fwmark 5"], ["iif", "to 10.8.0.0/16 table 100 iif lo"]];
    for (const [opt, line] of samples) {
      it(`${key}: ${opt}`, () => {
        const r = inList(key, line);
        const warned = r.conf.diag.list.filter((d) => d.severity === "warning" && d.message === `'${opt}' in ${key} is not supported by lbctl: ${opts.why}`);
        expect(warned.map((d) => d.loc?.line), `${r.text}\n${r.conf.diag.list.map((d) => d.message).join("\n")}`).toEqual([r.line]);
      });
    }
  }

  it("says nothing for items that use only what lbctl applies", () => {
    const text = VRRP.replace("@@", [
      "  unicast_peer {\n    10.0.0.2\n  }",
      "  virtual_ipaddress_excluded {\n    10.0.9.9/24 brd + dev lo scope global label lo:9 no_track\n  }",
      "  virtual_routes {\n    10.8.0.0/16 via 10.0.0.254 dev lo table 100\n    blackhole 10.9.0.0/16\n    src 10.0.0.1 to 10.7.0.0/16 dev lo\n  }",
      "  virtual_rules {\n    from 10.8.0.0/16 table 100 preference 100\n    to 10.6.0.0/16 lookup 100 pref 101\n  }",
    ].join("\n"));
    const conf = loadConfigText(text, "k.conf", { env });
    expect(conf.diag.list.filter((d) => d.message.includes("supported by lbctl")).map((d) => d.message)).toEqual([]);
  });
});
