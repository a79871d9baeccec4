// Boots the IPVS test VM once and runs test/vm/suite-daemon.ts there: the checker child of the compiled
// dist/lbctl (`lbctl daemon -C`) against keepalived 2.2.7 (`keepalived -C`) on the same configurations,
// in namespaces inside the VM. One `it` per in-VM case. Needs root, the VM packages (test/vm/README.md),
// keepalived, busybox-static and dist/lbctl (`make test` builds it first).
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { distBinary } from "../helpers/lbctl-bin.ts";
import { bundleForVm, buildVm, runInVm, vmCacheDir, type VmRunResult, caseResults } from "../vm/run-in-vm.ts";
import { DAEMON_RESULT_PREFIX, daemonCaseNames, type DaemonCaseResult } from "../vm/suite-daemon.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
let run: VmRunResult;
let results = new Map<string, DaemonCaseResult>();

describe("lbctl daemon's checker child against keepalived 2.2.7 on a real IPVS kernel (VM)", () => {
  beforeAll(async () => {
    const lbctl = distBinary();
    const cache = buildVm();
    const command = bundleForVm(join(repoRoot, "test/vm/suite-daemon.ts"), join(vmCacheDir(), "suite-daemon.js"));
    run = await runInVm({ command: `LBCTL_BIN='${lbctl}' ${command}`, cacheDir: cache, timeoutMs: 280_000, memoryMb: 1536 });
    results = caseResults<DaemonCaseResult>(run.stdout, DAEMON_RESULT_PREFIX);
  }, 600_000); // may first wait for another suite's VM (one VM at a time)

  it("the VM booted and the suite ran to the end", () => {
    const context = `exit ${run.exitCode}, ${Math.round(run.durationMs)} ms\nstderr:\n${run.stderr.slice(-3000)}\nconsole:\n${run.console.slice(-3000)}`;
    expect(run.timedOut, context).toBe(false);
    expect(results.size, context).toBe(daemonCaseNames.length);
  });

  for (const name of daemonCaseNames) {
    it(name, () => {
      const r = results.get(name);
      expect(r, "the case did not report (see the first test)").toBeDefined();
      // The whole error in the message: vitest shortens a long string in its diff, and CI keeps only the report.
      expect(r?.error ?? "", `in-VM case failed after ${r?.ms} ms:\n${r?.error}`).toBe("");
      expect(r?.ok).toBe(true);
    });
  }
});
