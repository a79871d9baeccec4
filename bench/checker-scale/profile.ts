// Host-side profile of the checker child alone: the checker role (src/daemon/role-check.ts) runs in this
// process with a stand-in for the supervisor channel, on bench/checker-scale's generated configuration,
// against listeners in a second process; no IPVS (the host kernel has none), so the figures are the
// checks, the state and the status, not the netlink. Prints checks/s, CPU per 1,000 checks, RSS, the
// bytes sent to the supervisor, and the time a reload (one virtual server added, then removed) takes.
// Run it under `--cpu-prof-md` to see where the time goes:
//   make bench-checker-profile BENCH_ARGS="10000 10 20"        (size, warm-up s, window s; profile in /tmp/lbctl-checker-profile)
// Needs root: it makes (and removes) its own namespace with 10.200.0.0/16 on lo.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { config, listenerStats, rerunInNamespace, startListeners } from "./run.ts";

const NS = "lbb-prof";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listenersMode(): Promise<void> {
  startListeners();
  // Report accepted connections on demand (one line per request on stdin).
  process.stdin.on("data", () => process.stdout.write(`${listenerStats().accepted}\n`));
  process.stdout.write("ready\n");
}

async function profileMode(size: number, warmupS: number, windowS: number): Promise<void> {
  const { loadConfigText } = await import("../../src/config/load.ts");
  const checkRole = (await import("../../src/daemon/role-check.ts")).default;
  const here = resolve(import.meta.dirname);
  const listeners = spawn(process.execPath, [resolve(here, "profile.ts"), "--listeners"], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  listeners.stdout.setEncoding("utf8").on("data", (d: string) => { lines.push(...d.trim().split("\n")); wake?.(); });
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((r) => { wake = r; });
    return lines.shift() as string;
  };
  await nextLine();
  const accepted = async () => { listeners.stdin.write("?\n"); return Number(await nextLine()); };

  let sentBytes = 0, sentMessages = 0, statusMessages = 0;
  const role = checkRole({
    send: (m) => { sentMessages++; if (m.type === "status") statusMessages++; sentBytes += JSON.stringify(m).length; },
    log: () => {},
    fatal: (cause) => { throw new Error(cause); },
  }, []);
  const load = (extra: boolean) => loadConfigText(config(size, extra), "bench.conf").effective;
  const t0 = performance.now();
  await role.configure(load(false), false);
  const startMs = performance.now() - t0;
  await sleep(warmupS * 1000);
  const cpu0 = process.cpuUsage(), a0 = await accepted(), b0 = sentBytes, w0 = performance.now();
  await sleep(windowS * 1000);
  const cpu = process.cpuUsage(cpu0), a1 = await accepted(), secs = (performance.now() - w0) / 1000;
  const checks = a1 - a0;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const reloads: number[] = [];
  for (const extra of [true, false, true, false]) {
    const eff = load(extra);
    const r0 = performance.now();
    await role.configure(eff, true);
    reloads.push(performance.now() - r0);
    await sleep(1000);
  }
  console.log(JSON.stringify({
    size, startMs: Math.round(startMs), checksPerS: Math.round(checks / secs), cpuMsPer1000: +((cpuS * 1e6) / checks).toFixed(1),
    userMsPer1000: +((cpu.user / 1e3) / (checks / 1000)).toFixed(1), systemMsPer1000: +((cpu.system / 1e3) / (checks / 1000)).toFixed(1),
    cpuPct: +((cpuS / secs) * 100).toFixed(1), rssMb: +(process.memoryUsage().rss / 2 ** 20).toFixed(1),
    sentKBperS: Math.round((sentBytes - b0) / secs / 1024), sentMessages, statusMessages,
    reloadMs: reloads.map((x) => Math.round(x)),
  }));
  await role.stop();
  listeners.kill();
  process.exit(0);
}

if (process.argv[2] === "--listeners") {
  await listenersMode();
} else if (process.env.LBB_IN_NS) {
  await profileMode(Number(process.argv[2] ?? 10000), Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 20));
} else {
  // Again inside a fresh namespace, forwarding bun's own flags (e.g. --cpu-prof-md).
  rerunInNamespace(NS, resolve(import.meta.dirname, "profile.ts"), process.argv.slice(2), {}, process.execArgv);
}
