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

function missingInterfaces(messages: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const m of messages) {
    const hit = /interface (\S+) for |tracked interface (\S+) doesn't exist/.exec(m);
    if (hit) names.add((hit[1] ?? hit[2])!);
  }
  return names;
}

/**
 * The interfaces the verdicts' second run had: those keepalived missed without them and no
 * longer missed with them (some names, e.g. "<interface>", could not be created there).
 */
function createdInterfaces(v: Verdict): string[] {
  const still = missingInterfaces(v.messagesIfaces);
  return [...missingInterfaces(v.messages)].filter((n) => !still.has(n)).sort();
}

/**
 * Lines keepalived flags that lbctl deliberately does not: "FILE:LINE" -> reason. Each reason
 * says why lbctl's silence is right, or which check is still to come.
 */
const SCRIPT_USER_CONSEQUENCE = "consequence of the unknown script_user, which lbctl reports as an error on the script_user line; keepalived repeats it at the closing brace of every vrrp_script that would run as that user";
const NOT_FLAGGED: Record<string, string> = {
  "019-iqiyi_dpvs.conf:7": "inside local_address_group (a DPVS fork keyword keepalived 2.2.7 lacks): lbctl warns once at the unknown block's line 6, keepalived at every line inside it",
  "028-paul-kwangrag-son_whpg_coordinator_ha.conf:26": SCRIPT_USER_CONSEQUENCE,
  "028-paul-kwangrag-son_whpg_coordinator_ha.conf:57": "keepalived dropped the vrrp_script because of the script_user error, so track_script no longer finds it; lbctl keeps the script and reports the root cause (script_user, line 5) and the missing script file (line 20)",
  "034-elyesbenamor_IP-failover-keepalived-vrrp.conf:11": SCRIPT_USER_CONSEQUENCE,
  "044-pqarmitage_keepalived-devel-tools.conf:22": SCRIPT_USER_CONSEQUENCE,
  "036-Tgentimc_keepalived_conf.conf:14": "smtp_server smtp.163.com: keepalived resolves the name with DNS while parsing and the verdict machine had no DNS; lbctl check does no network look-ups and accepts a host name",
  "048-pqarmitage_keepalived-devel-tools.conf:21": "same problem (bfd_instance without neighbor_ip for this config id): lbctl reports it at the bfd_instance line 11, keepalived at the block's closing brace",
};

const verdicts = readVerdicts();

function lbctlCheck(ns: string, file: string): { code: number | null; stdout: string; stderr: string } {
  return inNetns(ns, [...lbctlCommand(), "check", "-f", file], { cwd: CORPUS, timeoutMs: 15_000 });
}

describe("real-world corpus", () => {
  const runs = new Map<string, { bare: ReturnType<typeof lbctlCheck>; ifaces: ReturnType<typeof lbctlCheck> }>();

  beforeAll(() => {
    createNetns(NS_BARE, []);
    for (const v of verdicts) {
      const ifaces = createdInterfaces(v);
      let withIfaces = undefined;
      if (ifaces.length > 0) {
        createNetns(NS_IFACES, ifaces);
        withIfaces = lbctlCheck(NS_IFACES, v.file);
        deleteNetns(NS_IFACES);
      }
      const bare = lbctlCheck(NS_BARE, v.file);
      runs.set(v.file, { bare, ifaces: withIfaces ?? bare });
    }
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
      // A file with errors converts to a TOML with the same gaps; a clean one must stay clean.
      if (!conf.diag.hasErrors) expect(back.diag.list.filter((d) => d.severity === "error"), v.file).toEqual([]);
      expect(back.effective, v.file).toEqual(conf.effective);
    }
  });
});
