// Test entry: runs the VRRP runtime from a JSON file inside the namespace it is started in, until
// `lbctl daemon -f` exists. Usage: bun test/helpers/vrrp-node.ts NODE.json
//   NODE.json = { "config": RuntimeConfig, "statusFile": PATH, "realtimePriority"?: N }
// - writes status() as JSON to statusFile (atomically) every 50 ms and after every transition;
// - SIGHUP re-reads NODE.json and calls reload();
// - SIGUSR1 / SIGUSR2: forceBackup / resume of every instance named in NODE.json's "control" list;
// - SIGTERM / SIGINT: stop() then exit 0. Logs go to stderr as "LEVEL message".
import { readFileSync, renameSync, writeFileSync } from "node:fs";

import { startVrrpRuntime, type RuntimeConfig, type VrrpRuntime } from "../../src/vrrp/runtime.ts";

interface NodeFile {
  config: RuntimeConfig;
  statusFile: string;
  realtimePriority?: number;
  control?: string[];
}

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: vrrp-node.ts NODE.json\n");
  process.exit(2);
}
const load = (): NodeFile => JSON.parse(readFileSync(path, "utf8")) as NodeFile;
const node = load();
const t0 = performance.now();
const log = (level: string, msg: string) => process.stderr.write(`${(performance.now() - t0).toFixed(1)} ${level} ${msg}\n`);

let rt: VrrpRuntime | null = null;
const writeStatus = () => {
  if (!rt) return;
  const tmp = `${node.statusFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, ...rt.status() }));
  renameSync(tmp, node.statusFile);
};

rt = await startVrrpRuntime({
  ...node.config,
  realtimePriority: node.realtimePriority,
  log,
  onEvent: (ev) => {
    if (ev.type === "transition") queueMicrotask(writeStatus);
  },
});
writeStatus();
const ticker = setInterval(writeStatus, 50);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  const started = performance.now();
  await rt!.stop();
  log("info", `stopped in ${(performance.now() - started).toFixed(1)} ms`);
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.on("SIGHUP", () => {
  void rt!.reload(load().config).then((r) => log("info", `reload: ${JSON.stringify(r)}`));
});
process.on("SIGUSR1", () => {
  for (const n of load().control ?? []) log("info", `forceBackup ${n}: ${JSON.stringify(rt!.forceBackup(n))}`);
});
process.on("SIGUSR2", () => {
  for (const n of load().control ?? []) log("info", `resume ${n}: ${JSON.stringify(rt!.resume(n))}`);
});
