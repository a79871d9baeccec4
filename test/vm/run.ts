// Developer entry: run one shell command in the IPVS test VM and relay its output and exit status.
//   bun test/vm/run.ts 'ipvsadm -Ln; cat /proc/net/ip_vs'
//   bun test/vm/run.ts --suite [name-filter]     (bundle and run test/vm/suite-ipvs.ts)
import { join, resolve } from "node:path";
import { bundleForVm, buildVm, runInVm, vmCacheDir } from "./run-in-vm.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: bun test/vm/run.ts 'COMMAND' | --suite [FILTER]");
  process.exit(2);
}
const cache = buildVm();
let command = args.join(" ");
if (args[0] === "--suite") {
  command = bundleForVm(join(repoRoot, "test/vm/suite-ipvs.ts"), join(vmCacheDir(), "suite-ipvs.js"));
  if (args[1]) command = `LBCTL_VM_ONLY='${args[1].replaceAll("'", "")}' ${command}`;
}
const result = await runInVm({ command, cacheDir: cache, timeoutMs: 600_000 });
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
if (result.exitCode === null) process.stderr.write(`\n[vm] no exit status (timed out: ${result.timedOut}); console:\n${result.console.slice(-4000)}\n`);
process.stderr.write(`[vm] ${Math.round(result.durationMs)} ms\n`);
process.exit(result.exitCode ?? 1);
