// `lbctl check` (the compiled dist/lbctl) against `keepalived -t` on the same generated
// configuration (gen.ts: 10,000 vrrp_instances + 2,000 virtual_servers x 20 real_servers),
// both inside one namespace holding the 40 interfaces the instances name, runs interleaved
// (K L K L ...) so machine noise hits both alike. Also times the lexer alone in-process.
//   make bench-config-parse          (builds dist/lbctl first)
//   bun bench/config-parse/run.ts [RUNS]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { parseKeepalivedConf } from "../../src/config/lexer.ts";
import { createNetns, deleteNetns } from "../../test/helpers/config-netns.ts";
import { FULL_SCALE, generatePlain, generateSeq } from "./gen.ts";

const ROOT = join(import.meta.dirname, "../..");
const LBCTL = join(ROOT, "dist/lbctl");
const NS = "lbt-cf-bench";
const runs = Number(process.argv[2] ?? 5);

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

function timed(cmd: string[]): { ms: number; code: number | null; out: string } {
  const t0 = performance.now();
  const r = Bun.spawnSync(["ip", "netns", "exec", NS, ...cmd], { stdout: "pipe", stderr: "pipe", timeout: 300_000 });
  return { ms: performance.now() - t0, code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

function lastLine(s: string): string { return s.trimEnd().split("\n").at(-1) ?? ""; }

if (!existsSync(LBCTL)) { console.error("dist/lbctl is missing: run `make build` (or `make bench-config-parse`)"); process.exit(1); }

const dir = mkdtempSync(join(tmpdir(), "lbt-cf-bench-"));
try {
  createNetns(NS, Array.from({ length: FULL_SCALE.interfaces }, (_, i) => `veth${i}`));
  for (const [name, text] of [["plain", generatePlain(FULL_SCALE)], ["seq", generateSeq(FULL_SCALE)]] as const) {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, text);
    const ka: number[] = [], lb: number[] = [], ratios: number[] = [];
    let kaLast = "", lbLast = "";
    for (let r = 0; r < runs; r++) {
      const k = timed(["keepalived", "-t", "-f", file]);
      const l = timed([LBCTL, "check", "-f", file]);
      ka.push(k.ms); lb.push(l.ms); ratios.push(l.ms / k.ms);
      kaLast = `exit ${k.code}, ${lastLine(k.out) || "(silent)"}`;
      lbLast = `exit ${l.code}, ${lastLine(l.out)}`;
    }
    const lex: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      parseKeepalivedConf(file, { diag: new Diagnostics(), configId: null });
      lex.push(performance.now() - t0);
    }
    console.log(`${name}.conf (${text.split("\n").length - 1} lines, ${(text.length / 1e6).toFixed(1)} MB), ${runs} interleaved runs:`);
    console.log(`  keepalived -t      median ${median(ka).toFixed(0)} ms  [${kaLast}]`);
    console.log(`  lbctl check        median ${median(lb).toFixed(0)} ms  [${lbLast}]`);
    console.log(`  lbctl / keepalived median of per-pair ratios ${median(ratios).toFixed(2)}`);
    console.log(`  lexer alone (in-process) median ${median(lex).toFixed(0)} ms`);
  }
} finally {
  deleteNetns(NS);
  rmSync(dir, { recursive: true, force: true });
}
