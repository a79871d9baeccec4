// Boots the test VM with a real systemd as PID 1 (test/vm/init-systemd.sh) once and runs
// test/vm/suite-systemd.ts there: the RPM from `make rpm` installed with rpm -i, lbctl.service driven with
// systemctl from an unchanged keepalived.conf. One `it` per in-VM case. Needs root, the VM packages
// (test/vm/README.md) and rpm/rpmbuild; builds dist/lbctl and the RPM (`make rpm`).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleForVm, buildVm, runInVm, vmCacheDir, type VmRunResult, caseResults } from "../vm/run-in-vm.ts";
import { SYSTEMD_RESULT_PREFIX, SYSTEMD_SECURITY_PREFIX, systemdCaseNames, type SystemdCaseResult } from "../vm/suite-systemd.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version as string;
// Its own output directory: rpm.test.ts runs `make rpm` in parallel.
const out = join(repoRoot, ".cache/rpm-systemd-vm");
const rpmFile = join(out, `lbctl-${version}-1.x86_64.rpm`);

/** The package users get: `make rpm`, into a directory of this test's own. */
function buildRpm(): void {
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync("make", ["-C", repoRoot, "rpm", `RPM_OUT=${out}`], { encoding: "utf8" });
  if (r.status !== 0 || !existsSync(rpmFile)) throw new Error(`make rpm failed:\n${r.stdout}\n${r.stderr}`);
}
let run: VmRunResult;
let results = new Map<string, SystemdCaseResult>();

describe("lbctl.service under a real systemd (VM, systemd as PID 1, RPM installed)", () => {
  beforeAll(async () => {
    buildRpm();
    const cache = buildVm();
    const command = bundleForVm(join(repoRoot, "test/vm/suite-systemd.ts"), join(vmCacheDir(), "suite-systemd.js"));
    run = await runInVm({ command: `LBCTL_RPM='${rpmFile}' ${command}`, cacheDir: cache, systemd: true, timeoutMs: 300_000, memoryMb: 1536 });
    results = caseResults<SystemdCaseResult>(run.stdout, SYSTEMD_RESULT_PREFIX);
    const security = run.stdout.split("\n").filter((l) => l.startsWith(SYSTEMD_SECURITY_PREFIX)).map((l) => l.slice(SYSTEMD_SECURITY_PREFIX.length));
    if (process.env.LBCTL_VM_VERBOSE) {
      console.log(security.join("\n"));
      console.log([...results.values()].map((r) => `${r.ms} ms ${r.ok ? "ok" : "FAILED"} ${r.name}${r.detail ? ` (${r.detail})` : ""}`).join("\n"));
      console.log(`VM run ${Math.round(run.durationMs)} ms\nstderr:\n${run.stderr}`);
    }
  }, 900_000); // may first wait for another suite's VM (one VM at a time)

  it("the VM booted systemd and the suite ran to the end", () => {
    const context = `exit ${run.exitCode}, ${Math.round(run.durationMs)} ms\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}\nconsole:\n${run.console.slice(-3000)}`;
    expect(run.timedOut, context).toBe(false);
    expect(results.size, context).toBe(systemdCaseNames.length);
  });

  for (const name of systemdCaseNames) {
    it(name, () => {
      const r = results.get(name);
      expect(r, "the case did not report (see the first test)").toBeDefined();
      expect(r?.error ?? "", `in-VM case failed after ${r?.ms} ms:\n${r?.error}`).toBe("");
      expect(r?.ok).toBe(true);
    });
  }
});
