// 52 real-world keepalived.conf files (read in place from /work/shared, never copied) and
// keepalived 2.2.7's verdicts on them (VERDICTS.tsv: exit code and messages, once in a
// namespace without the interfaces they name and once with them). lbctl check must never
// crash or hang, must flag every line keepalived flags (or the exception is listed below with
// its reason), and must load what keepalived accepts. convert -> TOML -> load must give the
// same effective configuration as the keepalived.conf.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelToToml } from "../../src/config/convert.ts";
import { loadConfig, loadConfigText } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { createNetns, deleteNetns, inNetns } from "../helpers/config-netns.ts";
import { lbctlCommand } from "../helpers/lbctl-run.ts";

const CORPUS = "/work/shared/corpus/real-world";
const NS_BARE = "lbt-cf-corpus0";
const NS_IFACES = "lbt-cf-corpus1";

interface Verdict { file: string; rc: number; messages: string[]; rcIfaces: number; messagesIfaces: string[] }

function readVerdicts(): Verdict[] {
  const rows = readFileSync(join(CORPUS, "VERDICTS.tsv"), "utf8").trimEnd().split("\n").slice(1);
  const msgs = (s: string | undefined) => (s ? s.split(" | ").filter(Boolean) : []);
  return rows.map((row) => {
    const [file, rc, messages, rcIfaces, messagesIfaces] = row.split("\t");
    return { file: file!, rc: Number(rc), messages: msgs(messages), rcIfaces: Number(rcIfaces), messagesIfaces: msgs(messagesIfaces) };
  });
}

/** "FILE:LINE" of every message keepalived tied to a line; "(Line N)" alone is the main file. */
export function flaggedLines(file: string, messages: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of messages) {
    const hit = /^\((?:(.+?): )?Line (\d+)\)/.exec(m);
    if (hit) out.add(`${hit[1] ?? file}:${hit[2]}`);
  }
  return [...out];
}

/** Interface names keepalived said were missing, to create in the second namespace. */
function namedInterfaces(verdicts: readonly Verdict[]): string[] {
  const names = new Set<string>();
  for (const v of verdicts) for (const m of v.messages) {
    const hit = /interface (\S+) for /.exec(m);
    if (hit) names.add(hit[1]!);
  }
  return [...names].sort();
}

/**
 * Lines keepalived flags that lbctl deliberately does not: "FILE:LINE" -> reason. Each reason
 * says why lbctl's silence is right, or which check is still to come.
 */
const NOT_FLAGGED: Record<string, string> = {};

const verdicts = readVerdicts();

function lbctlCheck(ns: string, file: string): { code: number | null; stdout: string; stderr: string } {
  return inNetns(ns, [...lbctlCommand(), "check", "-f", file], { cwd: CORPUS, timeoutMs: 15_000 });
}

describe("real-world corpus", () => {
  const runs = new Map<string, { bare: ReturnType<typeof lbctlCheck>; ifaces: ReturnType<typeof lbctlCheck> }>();

  beforeAll(() => {
    createNetns(NS_BARE, []);
    createNetns(NS_IFACES, namedInterfaces(verdicts));
    for (const v of verdicts) runs.set(v.file, { bare: lbctlCheck(NS_BARE, v.file), ifaces: lbctlCheck(NS_IFACES, v.file) });
  });
  afterAll(() => { deleteNetns(NS_BARE); deleteNetns(NS_IFACES); });

  it("has the 52 files and their verdicts", () => {
    const confs = readdirSync(CORPUS).filter((f) => f.endsWith(".conf"));
    expect(confs.length).toBe(52);
    expect(verdicts.map((v) => v.file).sort()).toEqual(confs.sort());
  });

  it("lbctl check never crashes or hangs, and ends with its summary line", () => {
    const bad: string[] = [];
    for (const [file, r] of runs) for (const run of [r.bare, r.ifaces]) {
      const last = run.stdout.trimEnd().split("\n").at(-1) ?? "";
      if (run.code === null || ![0, 1, 2].includes(run.code) || run.stderr !== "" || !last.startsWith("lbctl: "))
        bad.push(`${file}: exit ${run.code}, stderr ${JSON.stringify(run.stderr.slice(0, 200))}`);
    }
    expect(bad).toEqual([]);
  });

  it("flags every line keepalived flags (or the exception is documented)", () => {
    const missed: Record<string, string> = {};
    for (const v of verdicts) {
      const r = runs.get(v.file)!;
      for (const [messages, run] of [[v.messages, r.bare], [v.messagesIfaces, r.ifaces]] as const) {
        for (const fl of flaggedLines(v.file, messages)) {
          if (!run.stdout.includes(`${fl}:`)) missed[fl] = messages.find((m) => m.includes(`Line ${fl.split(":").at(-1)})`)) ?? "";
        }
      }
    }
    const undocumented = Object.keys(missed).filter((k) => !(k in NOT_FLAGGED)).map((k) => `${k}  keepalived: ${missed[k]}`);
    expect(undocumented).toEqual([]);
  });

  it("loads every configuration keepalived accepts", () => {
    const refused: string[] = [];
    for (const v of verdicts) {
      const r = runs.get(v.file)!;
      if (v.rc === 0 && r.bare.code === 1) refused.push(`${v.file} (no interfaces)\n${r.bare.stdout}`);
      if (v.rcIfaces === 0 && r.ifaces.code === 1) refused.push(`${v.file} (with interfaces)\n${r.ifaces.stdout}`);
    }
    expect(refused).toEqual([]);
  });

  it("convert -> TOML -> load gives the same effective configuration", () => {
    const env = machineEnv({ checkInterfaces: false });
    for (const v of verdicts) {
      const conf = loadConfig(join(CORPUS, v.file), { env });
      const toml = modelToToml(conf.model, v.file);
      const back = loadConfigText(toml, `${v.file}.toml`, { env });
      expect(back.diag.list.filter((d) => d.severity === "error"), v.file).toEqual([]);
      expect(back.effective, v.file).toEqual(conf.effective);
    }
  });
});
