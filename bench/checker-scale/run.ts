// Checker scale: many real servers (half HTTP_GET, half TCP_CHECK) at delay_loop 1, served by four local
// listeners (two HTTP ports, two TCP ports) answering on every address of a /16 routed to `lo`.
// keepalived 2.2.7's checker (`keepalived -C`) and `lbctl daemon -C` run one after the other on the
// same generated configuration in one IPVS test VM boot, inside one network namespace. For a fixed
// window after a warm-up: checks/s (connections accepted by the listeners), CPU of the daemon's process
// tree (utime+stime from /proc) per 1,000 checks, PSS of the tree; and the reload time of
// the set (SIGHUP -> the added / removed virtual server is in / out of the kernel table).
// Ratios are lbctl / keepalived (below 1.0: lbctl uses less, or for checks/s: fewer checks done).
//   ./node_modules/.bin/bun bench/checker-scale/run.ts [sizes=1000,10000] [warmupS=10] [windowS=20] [heartbeatS]
// heartbeatS, when given, is passed as lbctl's --heartbeat-timeout (the supervisor kills a check child
// whose event loop is blocked longer; under TCG a 10,000-server child can block past the default).
// Needs dist/lbctl (make build); LBCTL_BIN overrides it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { IpvsClient } from "../../src/ipvs/client.ts";
import { bundleForVm, buildVm, runInVm, vmCacheDir } from "../../test/vm/run-in-vm.ts";
import { median } from "../ipvs-table.ts";

const sizes = (process.argv[2] ?? "1000,10000").split(",").map(Number);
const warmupS = Number(process.argv[3] ?? 10);
const windowS = Number(process.argv[4] ?? 20);
const heartbeatS = process.argv[5];
const NS = "lbb-scale";
const WORK = "/tmp/lbb-scale";
const HTTP_PORTS = [8001, 8002];
const TCP_PORTS = [9001, 9002];
const RS_PER_VS = 10;
const RELOAD_TIMEOUT_MS = 60_000;
const CLK_TCK = 100;

// ---------- the configuration ----------

/** Real server i: an address of 10.200.0.0/16 (no .0/.255) on one of the four listener ports. */
function realServer(i: number): { addr: string; port: number; http: boolean } {
  const http = i % 2 === 0;
  const ports = http ? HTTP_PORTS : TCP_PORTS;
  return { addr: `10.200.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port: ports[(i >> 1) % ports.length], http };
}

const vip = (v: number) => `10.100.${Math.floor(v / 250)}.${1 + (v % 250)}`;

/** delay_loop of every virtual server: 1 s, or LBB_DELAY_LOOP (at 37,000 real servers a 2-core host
 *  cannot also serve 37,000 connections a second from its listeners). */
const DELAY_LOOP = Number(process.env.LBB_DELAY_LOOP ?? 1);

function virtualServer(v: number, rs: number[]): string {
  const lines = [`virtual_server ${vip(v)} 80 {`, `  delay_loop ${DELAY_LOOP}`, "  lvs_sched wrr", "  lvs_method NAT", "  protocol TCP"];
  for (const i of rs) {
    const r = realServer(i);
    const check = r.http
      ? "    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 5\n      retry 1\n    }"
      : "    TCP_CHECK {\n      connect_timeout 5\n      retry 1\n    }";
    lines.push(`  real_server ${r.addr} ${r.port} {`, "    weight 1", check, "  }");
  }
  lines.push("}");
  return lines.join("\n");
}

export function config(realServers: number, extraVs: boolean): string {
  const parts = ["global_defs {\n  router_id bench\n}"];
  const vsCount = Math.ceil(realServers / RS_PER_VS);
  for (let v = 0; v < vsCount; v++) {
    const rs = Array.from({ length: Math.min(RS_PER_VS, realServers - v * RS_PER_VS) }, (_, k) => v * RS_PER_VS + k);
    parts.push(virtualServer(v, rs));
  }
  // The reload's change: one more virtual server with one TCP real server.
  if (extraVs) parts.push(virtualServer(extraVsIndex, [1]));
  return parts.join("\n") + "\n";
}

const extraVsIndex = 60000;
const extraAddress = vip(extraVsIndex);

// ---------- the listeners ----------

let accepted = 0;
export const listenerStats = () => ({ accepted });
const HTTP_REPLY = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/** The listeners; stop them at the end, or they keep the process (and the VM) alive. */
export function startListeners(): { stop(closeActive?: boolean): void }[] {
  const listeners: { stop(closeActive?: boolean): void }[] = [];
  for (const port of HTTP_PORTS) {
    listeners.push(Bun.listen<{ answered: boolean }>({
      hostname: "0.0.0.0", port,
      socket: {
        open(s) { accepted++; s.data = { answered: false }; },
        data(s, chunk) {
          // A check's request arrives in one segment; answer once the headers are complete.
          if (!s.data.answered && chunk.includes("\r\n\r\n")) { s.data.answered = true; s.end(HTTP_REPLY); }
        },
        error() {},
      },
    }));
  }
  for (const port of TCP_PORTS) {
    listeners.push(Bun.listen({ hostname: "0.0.0.0", port, socket: { open() { accepted++; }, data() {}, error() {} } }));
  }
  return listeners;
}

/**
 * The host-side benches (host.ts, profile.ts): runs `script` again as `bun [bunFlags] script args`
 * inside a fresh namespace `ns` whose lo carries the real servers' /16, with LBB_IN_NS=1 and `env`;
 * removes the namespace afterwards and exits with the script's status.
 */
export function rerunInNamespace(ns: string, script: string, args: string[], env: Record<string, string> = {}, bunFlags: string[] = []): never {
  const vars = Object.entries({ LBB_IN_NS: "1", ...env }).map(([k, v]) => `${k}=${v}`).join(" ");
  const flags = bunFlags.map((a) => `'${a}'`).join(" ");
  const inner = `ip link set lo up && ip addr add 10.200.0.1/16 dev lo && ulimit -n $(ulimit -Hn) && ${vars} ${process.execPath} ${flags} ${script} ${args.join(" ")}`;
  spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  if (spawnSync("ip", ["netns", "add", ns], { stdio: "inherit" }).status !== 0) process.exit(1);
  const r = spawnSync("ip", ["netns", "exec", ns, "sh", "-c", inner], { stdio: "inherit" });
  spawnSync("ip", ["netns", "del", ns], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

// ---------- /proc ----------

function childrenOf(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
    } catch { /* exited meanwhile */ }
  }
  return kids;
}

export function tree(root: number): number[] {
  const kids = childrenOf();
  const out: number[] = [];
  const walk = (p: number) => { out.push(p); for (const c of kids.get(p) ?? []) walk(c); };
  walk(root);
  return out;
}

/**
 * utime + stime + cutime + cstime of the tree's live processes, in seconds: a child that was killed and
 * reaped (a restarted check child) still counts, through its parent's cutime/cstime.
 */
export function cpuSeconds(root: number): number {
  const t = cpuTimes(root);
  return t.user + t.system;
}

/** The same, split into user and system time (children's included in each). */
export function cpuTimes(root: number): { user: number; system: number } {
  let user = 0, system = 0;
  for (const p of tree(root)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      user += Number(f[11]) + Number(f[13]);
      system += Number(f[12]) + Number(f[14]);
    } catch { /* exited */ }
  }
  return { user: user / CLK_TCK, system: system / CLK_TCK };
}

export function pssMb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch { /* exited */ }
  }
  return kb / 1024;
}

// ---------- the two daemons ----------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures { startS: number; checksPerS: number; cpuMsPer1000: number; userMsPer1000: number; systemMsPer1000: number; cpuPct: number; pssMb: number; procs: number; reloadMs?: number[]; restarts?: number }

async function waitServices(client: IpvsClient, want: (n: number, hasExtra: boolean) => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await client.listServices();
    if (s.ok) {
      const hasExtra = s.value.some((x) => x.key.kind === "addr" && x.key.address === extraAddress);
      if (want(s.value.length, hasExtra)) return;
    }
    if (performance.now() > deadline) throw new Error(`IPVS table not as expected after ${timeoutMs} ms (${s.ok ? s.value.length : s.error})`);
    await sleep(20);
  }
}

async function runTool(tool: "keepalived" | "lbctl", size: number, client: IpvsClient): Promise<Figures> {
  const conf = `${WORK}/${tool}-${size}.conf`;
  writeFileSync(conf, config(size, false));
  const lbctl = process.env.LBCTL_BIN ?? resolve(import.meta.dirname, "../../dist/lbctl");
  const argv = tool === "lbctl"
    ? [lbctl, "daemon", "-C", "-f", conf, "--socket", `${WORK}/lbctl.sock`, ...(heartbeatS ? ["--heartbeat-timeout", heartbeatS] : [])]
    : ["keepalived", "-n", "-l", "-G", "-C", "-f", conf, "-p", `${WORK}/k.pid`, "-c", `${WORK}/k-check.pid`, "-r", `${WORK}/k-vrrp.pid`];
  const logPath = `${WORK}/${tool}-${size}.log`;
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: Bun.file(logPath), stderr: Bun.file(`${logPath}.err`) });
  try {
    const vsCount = Math.ceil(size / RS_PER_VS);
    await waitServices(client, (n) => n >= vsCount, 300_000);
    const startS = (performance.now() - t0) / 1000;
    await sleep(warmupS * 1000);
    const pids = tree(proc.pid);
    const t0c = cpuTimes(proc.pid), a0 = accepted, w0 = performance.now();
    await sleep(windowS * 1000);
    const t1c = cpuTimes(proc.pid), a1 = accepted, secs = (performance.now() - w0) / 1000;
    const c0 = t0c.user + t0c.system, c1 = t1c.user + t1c.system;
    const checks = a1 - a0;
    const figures: Figures = {
      startS, checksPerS: checks / secs, cpuMsPer1000: ((c1 - c0) * 1000) / (checks / 1000), cpuPct: ((c1 - c0) / secs) * 100,
      userMsPer1000: ((t1c.user - t0c.user) * 1000) / (checks / 1000), systemMsPer1000: ((t1c.system - t0c.system) * 1000) / (checks / 1000),
      pssMb: pssMb(tree(proc.pid)), procs: pids.length,
    };
    {
      // Reload (both daemons, SIGHUP to the parent): add one virtual server, then remove it again; time
      // until the kernel shows it. A reload that never shows is reported (with lbctl's checker restarts
      // seen in the log), not fatal.
      figures.reloadMs = [];
      for (const extra of [true, false, true, false]) {
        writeFileSync(conf, config(size, extra));
        const r0 = performance.now();
        proc.kill("SIGHUP");
        try {
          await waitServices(client, (_n, has) => has === extra, RELOAD_TIMEOUT_MS);
        } catch {
          figures.reloadMs.push(Number.POSITIVE_INFINITY);
          break;
        }
        figures.reloadMs.push(performance.now() - r0);
        await sleep(2000);
      }
      if (tool === "lbctl") figures.restarts = (readFileSync(logPath, "utf8").match(/check process \d+ exited/g) ?? []).length;
    }
    return figures;
  } catch (e) {
    const tail = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").slice(-2000) : "");
    throw new Error(`${tool} at ${size}: ${(e as Error).message}\n${tail(logPath)}\n${tail(`${logPath}.err`)}`);
  } finally {
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    await proc.exited;
    clearTimeout(killer);
    await client.flush();
  }
}

async function inVm(): Promise<void> {
  Bun.spawnSync(["mkdir", "-p", WORK]);
  const listeners = startListeners();
  const opened = await IpvsClient.open();
  if (!opened.ok) throw new Error(opened.error);
  const client = opened.value;
  console.log(`checker scale: warm-up ${warmupS} s, window ${windowS} s, ${RS_PER_VS} real servers per virtual server, half HTTP_GET half TCP_CHECK, delay_loop 1`);
  for (const size of sizes) {
    // Each daemon's figures are printed as soon as they exist, so a failure later keeps them.
    const k = await runTool("keepalived", size, client);
    console.log(`${size} real servers, keepalived: ${JSON.stringify(k)}`);
    const l = await runTool("lbctl", size, client);
    console.log(`${size} real servers, lbctl: ${JSON.stringify(l)}`);
    const row = (name: string, kv: number, lv: number, digits = 1) =>
      console.log(`  ${name.padEnd(24)} keepalived ${kv.toFixed(digits).padStart(9)}  lbctl ${lv.toFixed(digits).padStart(9)}  ratio ${(lv / kv).toFixed(2)}`);
    console.log(`${size} real servers (${Math.ceil(size / RS_PER_VS)} virtual servers; demand ${size} checks/s):`);
    row("start to full table (s)", k.startS, l.startS);
    row("checks/s", k.checksPerS, l.checksPerS);
    row("CPU ms per 1,000 checks", k.cpuMsPer1000, l.cpuMsPer1000);
    row("  of which user", k.userMsPer1000, l.userMsPer1000);
    row("  of which system", k.systemMsPer1000, l.systemMsPer1000);
    row("CPU (% of one core)", k.cpuPct, l.cpuPct);
    row("PSS (MB)", k.pssMb, l.pssMb);
    console.log(`  processes: keepalived ${k.procs}, lbctl ${l.procs}`);
    const shown = (r: number[]) => r.map((x) => (Number.isFinite(x) ? x.toFixed(0) : `not within ${RELOAD_TIMEOUT_MS / 1000} s`)).join(", ");
    row("reload, median (ms)", median(k.reloadMs ?? []), median(l.reloadMs ?? []), 0);
    console.log(`  reload (SIGHUP -> kernel table changed), ms: keepalived ${shown(k.reloadMs ?? [])}; lbctl ${shown(l.reloadMs ?? [])}; lbctl check child restarts: ${l.restarts ?? 0}`);
  }
  client.close();
  for (const l of listeners) l.stop(true);
}

if (!import.meta.main) {
  // imported for its configuration generator
} else if (process.env.LBCTL_IN_VM) {
  await inVm();
} else {
  const repoRoot = resolve(import.meta.dirname, "../..");
  const lbctl = process.env.LBCTL_BIN ?? join(repoRoot, "dist/lbctl");
  if (!existsSync(lbctl)) throw new Error(`${lbctl} is missing: make build`);
  const cache = buildVm();
  const bundle = bundleForVm(join(repoRoot, "bench/checker-scale/run.ts"), join(vmCacheDir(), "bench-checker-scale.js"));
  // Everything (listeners, daemons, this bench) runs in one namespace of the guest; the /16 on lo
  // makes every address of it local, so four listeners serve all the real servers.
  const inner = `ip link set lo up && ip addr add 10.200.0.1/16 dev lo && ulimit -n 65536 && LBCTL_BIN=${lbctl} ${bundle} ${sizes.join(",")} ${warmupS} ${windowS} ${heartbeatS ?? ""}`;
  const command = `ip netns add ${NS} && ip netns exec ${NS} sh -c '${inner.replaceAll("'", `'\\''`)}'; rc=$?; ip netns del ${NS}; exit $rc`;
  const r = await runInVm({ command, cacheDir: cache, timeoutMs: 900_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.exitCode === null) process.stderr.write(r.console.slice(-3000));
  process.exit(r.exitCode ?? 1);
}
