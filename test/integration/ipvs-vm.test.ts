// Boots the IPVS test VM once (QEMU/TCG, kernel from Debian's linux-image package, cached in .cache/vm),
// runs the whole in-VM suite (test/vm/suite-ipvs.ts) there, and turns each in-VM case into one `it`.
// Needs root and the Debian packages qemu-system-x86 xz-utils busybox-static cpio kmod ipvsadm.
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleForVm, buildVm, runInVm, vmCacheDir, type VmRunResult, caseResults } from "../vm/run-in-vm.ts";
import { RESULT_PREFIX, ipvsVmCases, type VmCaseResult } from "../vm/suite-ipvs.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
let run: VmRunResult;
let results = new Map<string, VmCaseResult>();

describe("IPVS against a real kernel (VM)", () => {
  beforeAll(async () => {
    const cache = buildVm();
    const command = bundleForVm(join(repoRoot, "test/vm/suite-ipvs.ts"), join(vmCacheDir(), "suite-ipvs.js"));
    run = await runInVm({ command, cacheDir: cache, timeoutMs: 200_000 });
    results = caseResults<VmCaseResult>(run.stdout, RESULT_PREFIX);
  }, 600_000); // may first wait for another suite's VM (one VM at a time)

  it("the VM booted and the suite ran to the end", () => {
    const context = `exit ${run.exitCode}, ${Math.round(run.durationMs)} ms\nstderr:\n${run.stderr.slice(-3000)}\nconsole:\n${run.console.slice(-3000)}`;
    expect(run.timedOut, context).toBe(false);
    expect(results.size, context).toBe(ipvsVmCases.length);
  });

  for (const c of ipvsVmCases) {
    it(c.name, () => {
      const r = results.get(c.name);
      expect(r, "the case did not report (see the first test)").toBeDefined();
      // The whole error in the message: vitest shortens a long string in its diff, and CI keeps only the report.
      expect(r?.error ?? "", `in-VM case failed after ${r?.ms} ms:\n${r?.error}`).toBe("");
      expect(r?.ok).toBe(true);
    });
  }
});
