// `lbctl demo`'s IPVS part, which the host kernel (no IPVS) cannot run: the compiled dist/lbctl runs
// `demo --ipvs-only` (startup, then the virtual server with two real servers, one of which fails and
// comes back) inside the IPVS test VM (test/vm/README.md). Needs root, the VM packages and dist/lbctl
// (`make test` builds it first). One VM at a time (run-in-vm.ts holds a lock).
import { beforeAll, describe, expect, it } from "vitest";
import { distBinary } from "../helpers/lbctl-bin.ts";
import { buildVm, runInVm, type VmRunResult } from "../vm/run-in-vm.ts";

let run: VmRunResult;

describe("lbctl demo's IPVS part on a kernel with IPVS (VM)", () => {
  beforeAll(async () => {
    const lbctl = distBinary();
    const cache = buildVm();
    run = await runInVm({ command: `'${lbctl}' demo --ipvs-only; echo "demo exit $?"; ls /run/netns | grep -c lbdemo-`, cacheDir: cache, timeoutMs: 180_000, memoryMb: 1536 });
  }, 600_000); // may first wait for another suite's VM

  it("balances over both real servers, takes the failed one out with the checker's reason, and takes it back", () => {
    const out = run.stdout;
    const context = `exit ${run.exitCode}, ${Math.round(run.durationMs)} ms\nstdout:\n${out}\nstderr:\n${run.stderr.slice(-3000)}\nconsole:\n${run.console.slice(-2000)}`;
    expect(run.timedOut, context).toBe(false);
    expect(out, context).toMatch(/^demo exit 0$/m);
    expect(out, context).toMatch(/startup: nobody → node1/);
    expect(out, context).toMatch(/IPVS: both real servers passed their TCP check/);
    // The table before: the virtual server with both real servers (lbctl ipvs, like ipvsadm -Ln).
    const [before, after] = out.split(/IPVS: the checker took/);
    expect(before, context).toMatch(/10\.77\.0\.100:8080/);
    expect(before, context).toMatch(/10\.77\.0\.11:8080/);
    expect(before, context).toMatch(/10\.77\.0\.12:8080/);
    expect(before, context).toMatch(/answered by (rs1 ×\d, rs2 ×\d|rs2 ×\d, rs1 ×\d)$/m);
    // Then rs2 leaves the table, with a reason, and every request goes to rs1.
    expect(after, context).toMatch(/^ 10\.77\.0\.12 out of the table \(.+\):/);
    const table2 = after!.split("\n").slice(1).filter((l) => l.startsWith("    ")).join("\n");
    expect(table2, context).toMatch(/10\.77\.0\.11:8080/);
    expect(table2, context).not.toMatch(/10\.77\.0\.12:8080/);
    expect(after, context).toMatch(/6 requests were answered by rs1 ×6$/m);
    expect(after, context).toMatch(/rs2's web server is back and 10\.77\.0\.12 is in the table again/);
    // Nothing left behind in the guest.
    expect(out.trim().split("\n").at(-1), context).toBe("0");
  });
});
