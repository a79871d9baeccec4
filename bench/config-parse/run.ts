// Times parseKeepalivedConf on the generated plain and ~SEQ configurations.
//   bun bench/config-parse/run.ts [RUNS]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { type LexedNode, parseKeepalivedConf } from "../../src/config/lexer.ts";
import { FULL_SCALE, generatePlain, generateSeq } from "./gen.ts";

function count(nodes: LexedNode[]): number {
  let n = 0;
  for (const x of nodes) n += 1 + (x.children ? count(x.children) : 0);
  return n;
}

const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-parse-"));
try {
  for (const [name, text] of [["plain", generatePlain(FULL_SCALE)], ["seq", generateSeq(FULL_SCALE)]] as const) {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, text);
    const times: number[] = [];
    let nodes = 0;
    for (let r = 0; r < runs; r++) {
      const diag = new Diagnostics();
      const t0 = performance.now();
      const tree = parseKeepalivedConf(file, { diag, configId: null });
      times.push(performance.now() - t0);
      nodes = count(tree);
      if (diag.list.length > 0) throw new Error(`${name}: ${diag.list.length} diagnostics, first: ${diag.list[0].message}`);
    }
    times.sort((a, b) => a - b);
    const lines = text.split("\n").length - 1;
    console.log(`${name}: ${lines} lines, ${nodes} nodes, median ${times[runs >> 1].toFixed(0)} ms, min ${times[0].toFixed(0)} ms over ${runs} runs`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
