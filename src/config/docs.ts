// docs/config.md, generated from the specs (`make docs`, i.e. `bun src/config/docs.ts > docs/config.md`):
// every block, every setting with its TOML key, keepalived keyword, type, default and meaning.
// A unit test keeps the committed file equal to this output.
import { modelToToml } from "./convert.ts";
import { Diagnostics } from "./diagnostics.ts";
import { parseKeepalivedText } from "./lexer.ts";
import type { BlockSpec, Field } from "./schema.ts";
import { kwOf, parseConfBlock } from "./schema.ts";
import { rootSpec } from "./spec/root.ts";
import { collectSpecs, nestedSpecs } from "./spec-graph.ts";
import { ITEM_OPTION_SUPPORT, keywordSupport, type ItemOptionSupport, type KeywordSupport } from "./support.ts";

/**
 * Which file is read without -f (chooseConfig in load.ts), in the words docs/config.md and
 * lbctl(8) both print. Markdown code spans only, so man.ts can turn them into bold.
 */
export const CONFIG_SELECTION: readonly string[] = [
  "`lbctl daemon`, `lbctl check` and `lbctl config show` read the file given with `-f FILE`. Without it:",
  "",
  "1. `/etc/lbctl/lbctl.toml` if it exists and sets anything. A file of nothing but comments and blank lines, as the RPM installs it, does not count.",
  "2. Else `/etc/keepalived/keepalived.conf`, unchanged.",
  "3. Else an error that names both paths.",
  "",
  "So installing the RPM beside an existing keepalived.conf changes nothing until `/etc/lbctl/lbctl.toml` is written. " +
    "The daemon logs the file it reads and why at start (`configuration: /etc/keepalived/keepalived.conf (/etc/lbctl/lbctl.toml sets nothing)`), " +
    "`lbctl status` shows the same line (`daemon.configPath` and `daemon.configReason` in `--json`), and `lbctl check` says it on standard error. " +
    "The choice is made when the daemon starts: a reload re-reads the same file (with a warning when the rule would now choose the other one), a restart chooses again.",
];

/** Shown converted in the reference, so the mapping between the two formats is read off an example. */
export const EXAMPLE = `global_defs {
    router_id lb1
}
vrrp_script chk_nginx {
    script "/usr/local/bin/chk_nginx.sh"
    interval 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.168.1.10/24 dev eth0
    }
    track_script {
        chk_nginx
    }
}
virtual_server 192.168.1.10 80 {
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        weight 2
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
        }
    }
}
`;

/** The example converted by the real converter; generation fails rather than show a wrong example. */
export function exampleToml(): string {
  const diag = new Diagnostics();
  const model = parseConfBlock(parseKeepalivedText(EXAMPLE, "keepalived.conf", { diag }), rootSpec, { diag, where: "the top level" });
  if (diag.list.length) throw new Error(`docs example: ${diag.list.map((d) => d.message).join("; ")}`);
  return modelToToml(model).split("\n").filter((l) => !l.startsWith("#")).join("\n").trim();
}

/** Block specs reachable from the root (the spec modules' exports, see spec-graph.ts). */
export async function knownSpecs(): Promise<BlockSpec[]> {
  const mods: Record<string, unknown>[] = [];
  const glob = new Bun.Glob("*.ts");
  for (const f of [...glob.scanSync({ cwd: `${import.meta.dirname}/spec` })].sort()) mods.push(await import(`./spec/${f}`));
  return collectSpecs(mods, rootSpec);
}

const anchor = (s: BlockSpec): string => `[\`${s.name}\`](#${s.name.toLowerCase().replace(/[^\w-]/g, "")})`;

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\n/g, " ");

export interface ConfigSection {
  spec: BlockSpec;
  /** Where the block is written, in Markdown: "the top level" or "`vrrp_instance`". */
  foundIn: string;
  fields: { field: Field; keywords: string[]; nested: BlockSpec[]; support?: KeywordSupport; options?: ItemOptionSupport }[];
  obsolete: string[];
}

/**
 * What lbctl does with a keyword, in the words docs/config.md and lbctl.toml(5) print (Markdown code
 * spans and bold only, so man.ts can render it): "yes", "yes, but: what is missing",
 * "**not supported**: why", "ignored, as by keepalived: why".
 */
export function supportText(s: KeywordSupport | undefined, options?: ItemOptionSupport): string {
  const code = (l: readonly string[]) => l.map((o) => "`" + o + "`").join(", ");
  switch (s?.status) {
    case "applied":
      if (s.note) return `yes, but: ${s.note}`;
      if (options?.unsupported) return `yes, but not the options ${code(options.unsupported)}: ${options.why}`;
      if (options?.applied) return `yes, but no option other than ${code(options.applied)}: ${options.why}`;
      return "yes";
    case "unsupported": return `**not supported**: ${s.why}`;
    case "parsed-only": return `ignored, as by keepalived: ${s.why}`;
    case "obsolete": return `obsolete: ${s.why}`;
    default: return "not audited";
  }
}

/**
 * Every block reachable from the root, breadth first, with each field's keepalived keywords
 * (deprecated aliases marked) and the blocks it holds: what docs/config.md and lbctl.toml(5) print.
 */
export async function configSections(): Promise<ConfigSection[]> {
  const specs = await knownSpecs();
  const sections: ConfigSection[] = [];
  const seen = new Set<BlockSpec>();
  const queue: { spec: BlockSpec; foundIn: string }[] = [{ spec: rootSpec, foundIn: "" }];
  while (queue.length) {
    const { spec, foundIn } = queue.shift()!;
    if (seen.has(spec)) continue;
    seen.add(spec);
    const fields = spec.fields.map((f) => {
      const keywords = [kwOf(f), ...(f.aliases ?? []).map((a) => a.kw + (a.deprecated ? " (deprecated)" : ""))];
      const nested = nestedSpecs(f, specs).filter((n) => n !== spec);
      for (const n of nested) if (!seen.has(n)) queue.push({ spec: n, foundIn: spec === rootSpec ? "the top level" : `\`${spec.name}\`` });
      return { field: f, keywords, nested, support: keywordSupport(spec.name, f.key), options: ITEM_OPTION_SUPPORT[spec.name]?.[f.key] };
    });
    sections.push({ spec, foundIn, fields, obsolete: Object.keys(spec.obsolete ?? {}) });
  }
  return sections;
}

export function defaultText(f: Field): string {
  if (f.default !== undefined) return "`" + JSON.stringify(f.default) + "`";
  return f.defaultDoc ?? "";
}

export async function generateDocs(): Promise<string> {
  const out: string[] = [
    "# lbctl configuration reference",
    "",
    "<!-- Generated by `make docs` (src/config/docs.ts) from the specs in src/config/spec/. Do not edit. -->",
    "",
    "lbctl reads keepalived.conf as it is, or its own TOML format (`lbctl convert` turns one into the other).",
    "Both are read through the same specs, so every setting below has the same meaning, default and checks in both.",
    "In TOML a setting is written under its **TOML key**; in keepalived.conf under its **keyword**.",
    "",
    "The last column says whether lbctl acts on the setting. Every setting marked **not supported** (or supported only in part) is accepted, so a",
    "keepalived.conf still loads, but `lbctl check` and the daemon warn at each place one is set",
    "(`FILE:LINE:COL: warning: 'track_bfd' is not supported by lbctl: ...`); nothing is ignored silently.",
    "",
    "Named blocks (`vrrp_instance NAME { }`) become tables keyed by name, blocks whose header carries values",
    "(`virtual_server IP PORT { }`) become arrays of tables with those values as keys, one-item-per-line blocks",
    "(`virtual_ipaddress { }`) become arrays of strings, and health checkers become `checker` tables with a `type`:",
    "",
    "```",
    EXAMPLE.trim(),
    "```",
    "",
    "is, in TOML (`lbctl convert`):",
    "",
    "```toml",
    exampleToml(),
    "```",
    "",
    "## Which file is read",
    "",
    ...CONFIG_SELECTION,
    "",
  ];
  for (const sec of await configSections()) {
    const spec = sec.spec;
    out.push(`## ${spec === rootSpec ? "Top level" : "`" + spec.name + "`"}`, "");
    if (spec !== rootSpec) out.push(`Found in: ${sec.foundIn}.`, "");
    if (spec.doc) out.push(spec.doc, "");
    out.push("| TOML key | keepalived keyword | type | default | description | lbctl acts on it |", "|---|---|---|---|---|---|");
    for (const { field: f, keywords, nested, support, options } of sec.fields) {
      const type = nested.length ? `${f.type.describe}, see ${nested.map(anchor).join(", ")}` : f.type.describe;
      out.push(`| \`${f.key}\` | ${f.headerOnly ? "(block header)" : keywords.map((k) => "`" + k + "`").join(", ")} | ${cell(type)} | ${cell(defaultText(f))} | ${cell(f.doc)} | ${cell(supportText(support, options))} |`);
    }
    if (sec.obsolete.length) out.push("", `Obsolete keywords, accepted with a warning: ${sec.obsolete.map((k) => "`" + k + "`").join(", ")}.`);
    out.push("");
  }
  return out.join("\n");
}

if (import.meta.main) process.stdout.write(await generateDocs());
