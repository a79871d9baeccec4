// The man pages and the bash completion are generated from the specs and the command table:
// check they say everything those hold, render without groff warnings, and complete as bash does.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateCommandMan, generateCompletion, loadCommands, parseUsage } from "../../src/cli/man.ts";
import { commands } from "../../src/cli/commands.ts";
import { knownSpecs } from "../../src/config/docs.ts";
import { generateConfigMan, manDate, roffInline, roffText } from "../../src/config/man.ts";
import { kwOf } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";

const dir = mkdtempSync(join(tmpdir(), "lbt-man-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** groff's plain-text rendering (no bold, no SGR) and its warnings, for a page's source. */
function render(name: string, source: string): { text: string; warnings: string } {
  const file = join(dir, name);
  writeFileSync(file, source);
  const r = Bun.spawnSync(["groff", "-ww", "-man", "-Tutf8", "-P", "-cbou", file]);
  expect(r.exitCode).toBe(0);
  return { text: r.stdout.toString(), warnings: r.stderr.toString() };
}

describe("roff helpers", () => {
  it("escapes what roff would read as requests or escapes", () => {
    expect(roffText(".hidden")).toBe("\\&.hidden");
    expect(roffText("'quote")).toBe("\\&'quote");
    expect(roffText("a\\b --x")).toBe("a\\eb \\-\\-x");
    expect(roffInline("use `lbctl check` or **that**")).toBe("use \\fBlbctl check\\fR or \\fBthat\\fR");
  });

  it("dates the page from SOURCE_DATE_EPOCH only", () => {
    expect(manDate({ SOURCE_DATE_EPOCH: "1765000000" })).toBe("2025-12-06");
    expect(manDate({})).toBe("");
  });
});

describe("lbctl.toml(5)", () => {
  it("lists every TOML key and every keepalived keyword of every block the schema has", async () => {
    const { text, warnings } = render("lbctl.toml.5", await generateConfigMan("9.9.9"));
    expect(warnings).toBe("");
    const specs = [rootSpec, ...(await knownSpecs())];
    let checked = 0;
    for (const spec of specs) {
      if (spec !== rootSpec) expect(text, spec.name).toMatch(new RegExp(`^   ${spec.name.replace(/[^\w]/g, "\\$&")}$`, "m"));
      for (const f of spec.fields) {
        expect(text, `${spec.name}.${f.key}`).toMatch(new RegExp(`^ {7}${f.key.replace(/[^\w]/g, "\\$&")}( |$)`, "m"));
        if (!f.headerOnly) for (const kw of [kwOf(f), ...(f.aliases ?? []).map((a) => a.kw)]) expect(text, `${spec.name} ${kw}`).toContain(kw);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
    expect(text).toContain("LBCTL.TOML(5)");
    expect(text).toContain("lbctl 9.9.9");
  });

  it("states the configuration selection rule", async () => {
    const { text } = render("sel.5", await generateConfigMan("1"));
    const flat = text.replace(/\s+/g, " ");
    expect(flat).toContain("/etc/lbctl/lbctl.toml if it exists and sets anything");
    expect(flat).toContain("Else /etc/keepalived/keepalived.conf, unchanged");
  });
});

describe("lbctl(8)", () => {
  it("documents every command with its usage line and summary, and the sections an admin looks for", async () => {
    const { text, warnings } = render("lbctl.8", await generateCommandMan("9.9.9", { SOURCE_DATE_EPOCH: "1765000000" }));
    expect(warnings).toBe("");
    const flat = text.replace(/\s+/g, " ");
    for (const [name, load] of Object.entries(commands)) {
      const c = await load();
      expect(text, name).toMatch(new RegExp(`^   ${name}$`, "m"));
      expect(flat, name).toContain(c.usage.replace(/\s+/g, " "));
      // Each summary's first sentence, in the words `lbctl help` prints.
      expect(flat, name).toContain(c.summary.split("\n")[0]!.replace(/`/g, "").replace(/\s+/g, " "));
    }
    for (const section of ["SYNOPSIS", "COMMANDS", "CONFIGURATION", "FILES", "SIGNALS", "ENVIRONMENT", "EXIT STATUS", "SEE ALSO"]) expect(text).toMatch(new RegExp(`^${section}$`, "m"));
    for (const s of ["SIGHUP", "SIGTERM", "SIGUSR1", "SIGUSR2", "/etc/sysconfig/lbctl", "/run/lbctl/lbctl.sock", "LBCTL_SOCKET"]) expect(flat).toContain(s);
    expect(flat).toContain("/etc/lbctl/lbctl.toml if it exists and sets anything");
    expect(text).toMatch(/lbctl 9\.9\.9 +2025-12-06 +LBCTL\(8\)/);
  });
});

describe("bash completion", () => {
  it("reads options and positionals off usage lines", () => {
    expect(parseUsage("daemon", "lbctl daemon [-f FILE] [--vrrp-only|-P] [--pid|-p FILE]")).toEqual({
      name: "daemon", positionals: [],
      options: [{ names: ["-f"], value: "FILE" }, { names: ["--vrrp-only", "-P"] }, { names: ["--pid", "-p"], value: "FILE" }],
    });
    expect(parseUsage("demo", "lbctl demo [--version 2|3] [--no-ipvs | --ipvs-only]").options).toEqual([
      { names: ["--version"], value: "2|3" }, { names: ["--no-ipvs"] }, { names: ["--ipvs-only"] },
    ]);
    expect(parseUsage("config", "lbctl config show [--json]")).toEqual({ name: "config", positionals: ["show"], options: [{ names: ["--json"] }] });
    expect(parseUsage("drain", "lbctl drain VIRTUAL_SERVER REAL_SERVER [--socket PATH]").positionals).toEqual(["VIRTUAL_SERVER", "REAL_SERVER"]);
  });

  const script = join(dir, "lbctl.bash");
  /** COMPREPLY for a command line whose last word is being completed, from bash itself. */
  function complete(...words: string[]): string[] {
    const probe = `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _lbctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = Bun.spawnSync(["bash", "--norc", "--noprofile", "-c", probe]);
    expect(r.stderr.toString()).toBe("");
    return r.stdout.toString().split("\n").filter(Boolean).sort();
  }

  it("completes every command, and every option its usage names", async () => {
    writeFileSync(script, await generateCompletion());
    expect(complete("lbctl", "")).toEqual([...Object.keys(commands), "help", "--help", "--version"].sort());
    expect(complete("lbctl", "un")).toEqual(["undrain"]);
    expect(complete("lbctl", "help", "co")).toEqual(["config", "convert"]);
    for (const { name, usage } of await loadCommands()) {
      const opts = usage.options.flatMap((o) => o.names);
      expect(complete("lbctl", name, "-").filter((o) => o !== "--help"), name).toEqual([...opts].sort());
    }
    expect(complete("lbctl", "config", "")).toEqual(["show"]);
    expect(complete("lbctl", "demo", "--peer", "")).toEqual(["keepalived", "lbctl"]);
    expect(complete("lbctl", "check", "--config-id", "")).toEqual([]);
  });

  it("completes file names where a file is taken", () => {
    writeFileSync(join(dir, "keepalived.conf"), "");
    expect(complete("lbctl", "check", "-f", join(dir, "keep"))).toEqual([join(dir, "keepalived.conf")]);
    expect(complete("lbctl", "convert", join(dir, "keep"))).toEqual([join(dir, "keepalived.conf")]);
    expect(complete("lbctl", "status", "--socket", join(dir, "keep"))).toEqual([join(dir, "keepalived.conf")]);
    // Not where the argument is a server name.
    expect(complete("lbctl", "drain", join(dir, "keep"))).toEqual([]);
  });
});
