// The checker-child suite that runs INSIDE the IPVS test VM (bundled, one boot): `lbctl daemon -C`
// (the compiled dist/lbctl) against keepalived 2.2.7 `keepalived -C` on the same configurations, one
// after the other, in a director namespace with two real-server namespaces and a client namespace.
// Each case prints "LBCTL-DAEMON-VM-RESULT {json}"; test/integration/ipvs-daemon-vm.test.ts makes one
// `it` per case. The same bundle doubles as the HTTP client, echo server and long-lived client.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isDeepStrictEqual } from "node:util";

export const DAEMON_RESULT_PREFIX = "LBCTL-DAEMON-VM-RESULT ";
export const DAEMON_TABLE_PREFIX = "LBCTL-DAEMON-VM-TABLE ";
export interface DaemonCaseResult { name: string; ok: boolean; error?: string; ms: number }

const SAMPLES_DIR = "/usr/share/doc/keepalived/samples";
/** The samples with virtual servers (SSL_GET too: its VRRP part is stripped like everyone's). */
export const IPVS_SAMPLES = [
  "HTTP_GET.port", "IPv6", "PING_CHECK", "SMTP_CHECK", "SSL_GET", "UDP_CHECK", "fwmark", "inhibit", "misc_check",
  "misc_check_arg", "quorum", "sample", "status_code", "virtual_server_group", "virtualhost", "vrrp.lvs_syncd",
];

export const CASE_SEED = "seed config (TCP_CHECK, DR, wrr, persistence 1): lbctl programs the same IPVS table as keepalived";
export const CASE_HEALTH = "health: a stopped real server leaves the table (NAT), gets weight 0 (inhibit_on_failure, DR), loses the quorum to the sorry server, like keepalived; traffic keeps flowing; drain and IPVS counters through the control API";
export const CASE_RELOAD = "reload: added/removed/reweighted real servers and services give keepalived's table; an unchanged service's connection survives";
export const sampleCase = (s: string): string => `sample keepalived.conf.${s}: same IPVS table as keepalived (all real servers up)`;
export const CASE_HA_SUSPEND = "ha_suspend: checkers run only while the service address is on the director; the service stays programmed, like keepalived";
export const CASE_SYNCD = "lvs_sync_daemon: the master sync daemon runs while its VRRP instance is MASTER and stops with the daemon, like keepalived";
export const daemonCaseNames = [CASE_SEED, ...IPVS_SAMPLES.map(sampleCase), CASE_HEALTH, CASE_RELOAD, CASE_HA_SUSPEND, CASE_SYNCD];

const D = "lbt-cr-d", C = "lbt-cr-c", R1 = "lbt-cr-r1", R2 = "lbt-cr-r2";
const NAMESPACES = [D, C, R1, R2];
const RS1 = "192.168.26.36", RS2 = "192.168.26.54", DR_VIP = "192.168.26.34", NAT_VIP = "10.210.9.1";
/** The client's source addresses: DR replies come straight back, NAT replies are routed via the director. */
const CLIENT_DR = "192.168.26.2", CLIENT_NAT = "192.168.26.3";
const WORK = "/tmp/lbt-cr";
const SORRY = RS2;

// ---------- helpers ----------

function sh(cmd: string): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}
function shOk(cmd: string): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`'${cmd}' exited ${r.code}: ${r.err.trim()}`);
  return r.out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function check(cond: boolean, what: string): void { if (!cond) throw new Error(what); }
function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what} differs\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`);
}

/**
 * `ipvsadm -Ln --exact` of the director, without connection counts, services and destinations sorted:
 * the configuration the kernel holds, comparable between two daemons.
 */
function kernelTable(ns = D): string[] {
  const out = shOk(`ip netns exec ${ns} ipvsadm -Ln --exact`);
  const services: string[][] = [];
  for (const line of out.split("\n").slice(3)) {
    if (!line.trim()) continue;
    if (line.startsWith("  ->")) {
      const [, addr, method, weight] = line.trim().split(/\s+/);
      services.at(-1)?.push(`  -> ${addr} ${method} ${weight}`);
    } else services.push([line.trim().replace(/\s+/g, " ")]);
  }
  return services.map(([head, ...dests]) => [head, ...dests.sort()].join("\n")).sort();
}

/** Polls the table until it satisfies `ok` and stays the same for `stablePolls` reads. */
async function waitTable(what: string, ok: (t: string[]) => boolean, timeoutMs = 15_000, ns = D, stablePolls = 4): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  let last = "", same = 0, table: string[] = [];
  while (performance.now() < deadline) {
    table = kernelTable(ns);
    const text = table.join("\n");
    same = text === last ? same + 1 : 0;
    last = text;
    if (ok(table) && same >= stablePolls - 1) return table;
    await sleep(150);
  }
  throw new Error(`${what}: timed out; last table:\n${table.join("\n")}`);
}

const destCount = (t: string[]) => t.reduce((n, s) => n + s.split("\n").length - 1, 0);

// ---------- the two daemons ----------

interface Daemon { name: string; proc: ChildProcess; log: () => string; stop(): Promise<void>; reload(): void }

/** `part`: -C runs the checker side only, -P the VRRP side only (both daemons take the same flag). */
function startDaemon(tool: "lbctl" | "keepalived", conf: string, ns: string, part: "-C" | "-P" = "-C"): Daemon {
  const lbctl = process.env.LBCTL_BIN ?? "dist/lbctl";
  const argv = tool === "lbctl"
    // One control socket per daemon: several run at once, in different namespaces.
    ? [lbctl, "daemon", part, "-f", conf, "--socket", `${WORK}/${ns}.sock`]
    : ["keepalived", "-n", "-l", "-D", "-G", part, "-f", conf, "-p", `${WORK}/${ns}.pid`, "-c", `${WORK}/${ns}-check.pid`, "-r", `${WORK}/${ns}-vrrp.pid`];
  const proc = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((res) => proc.on("exit", () => res()));
  return {
    name: tool, proc, log: () => log,
    reload: () => { proc.kill("SIGHUP"); },
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs `tool` on `conf`, lets `body` observe, stops it and checks it removed what it programmed. */
async function withDaemon<T>(tool: "lbctl" | "keepalived", conf: string, body: (d: Daemon) => Promise<T>, ns = D): Promise<T> {
  const t0 = performance.now();
  const d = startDaemon(tool, conf, ns);
  try {
    const r = await body(d);
    const t1 = performance.now();
    await d.stop();
    if (process.env.LBCTL_VM_TIMING) console.error(`[timing] ${tool} ${conf}: run ${Math.round(t1 - t0)} ms, stop ${Math.round(performance.now() - t1)} ms`);
    const left = kernelTable(ns);
    // keepalived removes its virtual servers at shutdown (clear_services); lbctl must do the same.
    expectEqual(left, [], `${tool}: the table after stop`);
    return r;
  } catch (e) {
    await d.stop();
    throw new Error(`${(e as Error).message}\n--- ${tool} log (tail) ---\n${d.log().slice(-2500)}`);
  }
}

// ---------- namespaces, servers and clients ----------

const servers: ChildProcess[] = [];
const serverByKey = new Map<string, ChildProcess>();

function self(): string[] { return [process.execPath, process.argv[1]!]; }

function startServer(ns: string, kind: "http" | "echo", port: number): void {
  const name = ns === R1 ? "r1" : "r2";
  const key = `${ns}:${port}`;
  if (serverByKey.has(key)) return;
  let p: ChildProcess;
  if (kind === "http") {
    mkdirSync(`${WORK}/${name}`, { recursive: true });
    writeFileSync(`${WORK}/${name}/index.html`, `${name}\n`);
    p = spawn("ip", ["netns", "exec", ns, "busybox", "httpd", "-f", "-p", String(port), "-h", `${WORK}/${name}`], { stdio: "ignore" });
  } else {
    p = spawn("ip", ["netns", "exec", ns, ...self(), ECHO_FLAG, String(port)], { stdio: "ignore" });
  }
  servers.push(p);
  serverByKey.set(key, p);
}

async function stopServer(ns: string, port: number): Promise<void> {
  const key = `${ns}:${port}`;
  const p = serverByKey.get(key);
  if (!p) return;
  serverByKey.delete(key);
  const gone = new Promise((r) => p.on("exit", r));
  // `ip netns exec` execs the server: the PID is the server's own.
  p.kill("SIGKILL");
  await gone;
}

async function waitListening(ns: string, port: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (sh(`ip netns exec ${ns} ss -Hltn 'sport = :${port}' | grep -q .`).code === 0) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${ns} port ${port}`);
}

function cleanup(): void {
  for (const p of servers) p.kill("SIGKILL");
  servers.length = 0;
  serverByKey.clear();
  for (const ns of NAMESPACES) {
    sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill -9`);
    sh(`ip netns del ${ns}`);
  }
}

function setupNetwork(): void {
  cleanup();
  const cmds = [
    ...NAMESPACES.map((ns) => `ip netns add ${ns} && ip -n ${ns} link set lo up`),
    `ip -n ${D} link add br0 type bridge && ip -n ${D} link set br0 up && ip -n ${D} addr add 192.168.26.1/24 dev br0`,
    `ip -n ${D} addr add ${DR_VIP}/32 dev lo && ip -n ${D} addr add ${NAT_VIP}/32 dev lo`,
    `ip netns exec ${D} sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.br0.send_redirects=0`,
    ...[[C, "c"], [R1, "r1"], [R2, "r2"]].map(([ns, n]) =>
      `ip link add lbt-cr-${n} type veth peer name eth0 netns ${ns} && ip link set lbt-cr-${n} netns ${D} && ip -n ${D} link set lbt-cr-${n} master br0 up && ip -n ${ns} link set eth0 up`),
    `ip -n ${C} addr add ${CLIENT_DR}/24 dev eth0 && ip -n ${C} addr add ${CLIENT_NAT}/24 dev eth0 && ip -n ${C} route add ${NAT_VIP}/32 via 192.168.26.1`,
    ...[[R1, RS1], [R2, RS2]].map(([ns, ip]) => [
      `ip -n ${ns} addr add ${ip}/24 dev eth0 && ip -n ${ns} addr add ${DR_VIP}/32 dev lo`,
      `ip netns exec ${ns} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.accept_redirects=0`,
      // NAT replies must go back through the director; DR replies go straight to the client.
      `ip -n ${ns} route add ${CLIENT_NAT}/32 via 192.168.26.1 && ip -n ${ns} route add ${NAT_VIP}/32 via 192.168.26.1`,
    ].join(" && ")),
  ];
  shOk(cmds.join(" && "));
  mkdirSync(WORK, { recursive: true });
}

/** `count` HTTP GETs from the client namespace (new connection each); answers per real server. */
function requestMany(host: string, port: number, from: string, count: number): Record<string, number> {
  const out = shOk(`ip netns exec ${C} ${self().join(" ")} ${HTTP_GET_FLAG} ${host} ${port} ${from} ${count}`);
  const counts: Record<string, number> = {};
  for (const line of out.split("\n").filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

/** A long-lived connection from the client: pings every 100 ms for `seconds`; "HOLD ok N" or "HOLD error ...". */
function holdConnection(host: string, port: number, from: string, seconds: number): Promise<string> {
  const p = spawn("ip", ["netns", "exec", C, ...self(), HOLD_FLAG, host, String(port), from, String(seconds)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((res) => p.on("exit", () => res(out.trim())));
}

// ---------- configurations ----------

/** Removes blocks whose keyword matches (brace counting, keepalived comments ignored). */
export function stripBlocks(text: string, keyword: RegExp): string {
  const out: string[] = [];
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#!].*$/, "");
    if (depth === 0) {
      const first = line.trim().split(/\s+/)[0] ?? "";
      if (keyword.test(first) && line.includes("{")) {
        depth = (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
        continue;
      }
      out.push(raw);
      continue;
    }
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
  }
  return out.join("\n");
}

const CHECKER_BLOCK = /^(TCP_CHECK|HTTP_GET|SSL_GET|SMTP_CHECK|DNS_CHECK|MISC_CHECK|UDP_CHECK|PING_CHECK|FILE_CHECK|BFD_CHECK)$/;
const VRRP_BLOCK = /^(vrrp_instance|vrrp_sync_group|vrrp_script|static_ipaddress|static_routes|static_rules)$/;

/** A sample without its checkers (every real server stays up) and without its VRRP part (not the checker's). */
export function strippedSample(sample: string): string {
  return stripBlocks(stripBlocks(readFileSync(`${SAMPLES_DIR}/keepalived.conf.${sample}`, "utf8"), CHECKER_BLOCK), VRRP_BLOCK);
}

const LAB_TIMING = "delay_loop 1\n  connect_timeout 1\n  retry 1\n  delay_before_retry 1";
function labConfig(version: 1 | 2): string {
  const http = "HTTP_GET { url { path / } }";
  const tcp = "TCP_CHECK { }";
  const vs = (head: string, body: string) => `virtual_server ${head} {\n  ${LAB_TIMING}\n  protocol TCP\n${body}\n}\n`;
  const rs = (ip: string, port: number, weight: number, checker: string) => `  real_server ${ip} ${port} {\n    weight ${weight}\n    ${checker}\n  }`;
  const parts = [
    "global_defs {\n  router_id lbt-cr\n}\n",
    vs(`${NAT_VIP} 80`, ["  lvs_sched rr\n  lvs_method NAT", rs(RS1, 80, version === 1 ? 1 : 3, http), rs(RS2, 80, 1, http)].join("\n")),
    vs(`${NAT_VIP} 7000`, ["  lvs_sched wlc\n  lvs_method NAT", rs(RS1, 7000, 1, tcp), rs(RS2, 7000, 1, tcp)].join("\n")),
    // Quorum 2 of 2 with a sorry server: one real server down puts the sorry server in their place.
    vs(`${NAT_VIP} 83`, [`  lvs_sched rr\n  lvs_method NAT\n  quorum 2\n  sorry_server ${SORRY} 8080`, rs(RS1, 80, 1, http), rs(RS2, 80, 1, http)].join("\n")),
    vs(`${DR_VIP} 9999`, ["  lvs_sched wrr\n  lvs_method DR\n  inhibit_on_failure", rs(RS1, 9999, 2, tcp), ...(version === 1 ? [rs(RS2, 9999, 1, tcp)] : [])].join("\n")),
    version === 1
      ? vs(`${NAT_VIP} 81`, ["  lvs_sched rr\n  lvs_method NAT\n  persistence_timeout 30", rs(RS1, 80, 1, http)].join("\n"))
      : vs(`${NAT_VIP} 82`, ["  lvs_sched lc\n  lvs_method NAT", rs(RS2, 80, 5, http), rs(RS1, 80, 1, http)].join("\n")),
  ];
  return parts.join("\n");
}

// ---------- cases ----------

/** The kernel's sync daemons, as `ipvsadm -L --daemon` lists them. */
const syncDaemons = (): string => shOk(`ip netns exec ${D} ipvsadm -L --daemon`).trim();

/**
 * keepalived 2.2.7 itself sometimes never starts its master sync daemon: it logs "Entering MASTER STATE",
 * stops its backup daemon, then its VRRP process sleeps in recvmsg on the IPVS netlink socket
 * (wchan skb_wait_for_more_packets) and the master daemon never appears. Measured in the VM with
 * keepalived alone, no lbctl run: 2 hangs in 25 starts with the host's 2 cores busy, as on CI. The
 * reference side is therefore given three starts; lbctl gets one.
 */
const KEEPALIVED_SYNCD_STARTS = 3;

/** lvs_sync_daemon is run by the VRRP side (keepalived's VRRP process; lbctl's VRRP child). */
async function syncdCase(): Promise<void> {
  const conf = `${WORK}/syncd.conf`;
  writeFileSync(conf, "global_defs {\n  lvs_sync_daemon br0 VI_S id 7\n}\nvrrp_instance VI_S {\n  state MASTER\n  interface br0\n" +
    "  virtual_router_id 99\n  priority 255\n  advert_int 1\n  virtual_ipaddress {\n    192.168.26.99/32\n  }\n}\n");
  const seen: Record<string, string> = {};
  /** The sync daemons listed while `tool` runs as MASTER, or the reason there were none. */
  async function whileMaster(tool: "lbctl" | "keepalived"): Promise<{ daemons: string } | { error: string }> {
    const d = startDaemon(tool, conf, D, "-P");
    try {
      const t0 = Date.now();
      while (!/master sync daemon/.test(syncDaemons())) {
        if (Date.now() - t0 > 20_000) {
          // Where the daemon's processes are (a VRRP child stuck in the kernel shows in wchan) and what the kernel said.
          const where = sh(`ps -eo pid,ppid,stat,wchan:32,args | grep -E '[k]eepalived|[l]bctl|[i]pvs'; dmesg | tail -n 20`).out;
          return { error: `${tool}: no master sync daemon: '${syncDaemons()}'\n${where}\n${d.log().slice(-2000)}` };
        }
        await sleep(200);
      }
      return { daemons: syncDaemons() };
    } finally {
      await d.stop();
      expectEqual(syncDaemons(), "", `${tool}: sync daemons after stop`);
    }
  }
  for (const tool of ["lbctl", "keepalived"] as const) {
    const errors: string[] = [];
    for (let start = 0; start < (tool === "keepalived" ? KEEPALIVED_SYNCD_STARTS : 1) && seen[tool] === undefined; start++) {
      const r = await whileMaster(tool);
      if ("daemons" in r) seen[tool] = r.daemons;
      else errors.push(r.error);
    }
    if (seen[tool] === undefined) throw new Error(errors.join("\n----- next start -----\n"));
  }
  expectEqual(seen.lbctl, seen.keepalived, "lbctl's sync daemons vs keepalived's while MASTER");
}

/**
 * keepalived.conf(5): "If VS IP address is not set, suspend healthchecker's activity". keepalived
 * 2.2.7 still programs the service; only the checkers stop. Observable: a real server that dies
 * while the address is absent stays in the table until the address comes and the checks resume.
 */
async function haSuspendCase(): Promise<void> {
  const vip = "10.210.9.77";
  const conf = `${WORK}/ha-suspend.conf`;
  writeFileSync(conf, `virtual_server ${vip} 7700 {\n  ${LAB_TIMING}\n  protocol TCP\n  lvs_sched rr\n  lvs_method NAT\n  ha_suspend\n` +
    `  real_server ${RS1} 7700 {\n    TCP_CHECK { }\n  }\n}\n`);
  const tables: Record<string, string[][]> = {};
  for (const tool of ["lbctl", "keepalived"] as const) {
    startServer(R1, "http", 7700);
    await waitListening(R1, 7700);
    try {
      await withDaemon(tool, conf, async () => {
        const steps: string[][] = [];
        steps.push(await waitTable(`${tool}: programmed without the address`, (t) => t.length === 1 && destCount(t) === 1));
        await stopServer(R1, 7700);
        await sleep(3000); // three delay_loops: a running checker would have removed it
        steps.push(kernelTable());
        shOk(`ip -n ${D} addr add ${vip}/32 dev lo`);
        steps.push(await waitTable(`${tool}: checks resume with the address`, (t) => t.length === 1 && destCount(t) === 0));
        shOk(`ip -n ${D} addr del ${vip}/32 dev lo`);
        tables[tool] = steps;
      });
    } finally {
      await stopServer(R1, 7700);
    }
  }
  expectEqual(tables.lbctl, tables.keepalived, "lbctl's tables vs keepalived's (start, server dead while suspended, address added)");
  check(tables.lbctl![1]![0]!.includes(`${RS1}:7700 Masq 1`), `a suspended checker must not remove the server:\n${tables.lbctl![1]!.join("\n")}`);
}

type Run = () => Promise<void>;

async function seedCase(): Promise<void> {
  for (const ns of [R1, R2]) for (const port of [9999, 3306]) startServer(ns, "http", port);
  for (const ns of [R1, R2]) for (const port of [9999, 3306]) await waitListening(ns, port);
  const conf = "test/fixtures/seed-keepalived.conf";
  const full = (t: string[]) => t.length === 2 && destCount(t) === 4;
  const mine = await withDaemon("lbctl", conf, () => waitTable("lbctl seed", full));
  const theirs = await withDaemon("keepalived", conf, () => waitTable("keepalived seed", full));
  expectEqual(mine, theirs, "lbctl's table vs keepalived's");
  check(mine[0]!.includes("wrr persistent 1") && mine.join("\n").includes(`${RS1}:9999 Route 1`), `unexpected table:\n${mine.join("\n")}`);
  for (const ns of [R1, R2]) for (const port of [9999, 3306]) await stopServer(ns, port);
}

/** Samples run this many at a time, each in its own director namespace (the VM has 2 CPUs). */
const SAMPLE_BATCH = 4;
let sampleOutcomes: Promise<Map<string, string | null>> | null = null;

/** Compares lbctl with keepalived on one sample in namespace `ns`; the error message or null. */
/**
 * Notify scripts a sample names but nobody ships (quorum-up.sh ...): created as `exit 0` stubs so both
 * daemons accept the file. Only inside the VM, whose / is a throw-away overlay.
 */
function stubScripts(text: string): void {
  if (!existsSync("/proc/net/ip_vs")) throw new Error("refusing to create script stubs outside the IPVS VM");
  for (const m of text.matchAll(/^\s*(?:quorum_up|quorum_down|notify_up|notify_down)\s+"?(\/[^\s"]+)/gm)) {
    const path = m[1]!;
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  }
}

async function compareSample(sample: string, ns: string): Promise<string | null> {
  try {
    const text = strippedSample(sample);
    stubScripts(text);
    const conf = `${WORK}/sample-${sample}.conf`;
    writeFileSync(conf, text);
    const theirs = await withDaemon("keepalived", conf, () => waitTable(`keepalived ${sample}`, (t) => t.length > 0, 15_000, ns), ns);
    // keepalived's table, for test/fixtures/check-role/keepalived-sample-tables.json (unit test of the mapping).
    console.log(DAEMON_TABLE_PREFIX + JSON.stringify({ sample, table: theirs }));
    // Waiting for keepalived's table; when it never comes, the comparison below shows the difference.
    const mine = await withDaemon("lbctl", conf, () => waitTable(`lbctl ${sample}`, (t) => isDeepStrictEqual(t, theirs), 8000, ns).catch(() => kernelTable(ns)), ns);
    expectEqual(mine, theirs, "lbctl's table vs keepalived's");
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

async function compareAllSamples(): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const spaces = Array.from({ length: SAMPLE_BATCH }, (_, i) => `lbt-cr-s${i}`);
  shOk(spaces.map((ns) => `ip netns add ${ns} && ip -n ${ns} link set lo up`).join(" && "));
  try {
    for (let i = 0; i < IPVS_SAMPLES.length; i += SAMPLE_BATCH) {
      const batch = IPVS_SAMPLES.slice(i, i + SAMPLE_BATCH);
      const errors = await Promise.all(batch.map((s, j) => compareSample(s, spaces[j]!)));
      batch.forEach((s, j) => out.set(s, errors[j]!));
    }
  } finally {
    for (const ns of spaces) { sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill -9`); sh(`ip netns del ${ns}`); }
  }
  return out;
}

function sampleRun(sample: string): Run {
  return async () => {
    sampleOutcomes ??= compareAllSamples();
    const error = (await sampleOutcomes).get(sample);
    if (error) throw new Error(error);
  };
}

interface HealthSnapshots { up: string[]; down: string[]; natDown: Record<string, number>; drDown: Record<string, number> }

async function healthRun(tool: "lbctl" | "keepalived"): Promise<HealthSnapshots> {
  const conf = `${WORK}/lab-${tool}.conf`;
  writeFileSync(conf, labConfig(1));
  const allUp = (t: string[]) => t.length === 5 && destCount(t) === 9 && !t.some((s) => / 0$/m.test(s));
  return withDaemon(tool, conf, async () => {
    const up = await waitTable(`${tool}: all up`, allUp);
    const before = requestMany(NAT_VIP, 80, CLIENT_NAT, 6);
    expectEqual(before, { r1: 3, r2: 3 }, `${tool}: NAT answers with both up`);
    if (tool === "lbctl") await operatorChecks();
    await stopServer(R1, 80);
    await stopServer(R1, 9999);
    const down = await waitTable(`${tool}: r1 down`, (t) => t.length === 5 && t.join("\n").includes(`${RS1}:9999 Route 0`) && !t.join("\n").includes(`${RS1}:80 Masq`) && t.join("\n").includes(`${SORRY}:8080 Masq 1`));
    const natDown = requestMany(NAT_VIP, 80, CLIENT_NAT, 6);
    const drDown = requestMany(DR_VIP, 9999, CLIENT_DR, 6);
    startServer(R1, "http", 80);
    startServer(R1, "http", 9999);
    await waitTable(`${tool}: r1 back`, allUp);
    return { up, down, natDown, drDown };
  });
}

interface ApiRs { key: string; health: string; drained: boolean; effectiveWeight: number | null; stats: { conns: number; inBytes: number } | null }
interface ApiStatus { virtualServers: { key: string; stats: { conns: number } | null; realServers: ApiRs[] }[] }

async function api<T>(method: string, path: string): Promise<T> {
  const r = await fetch(`http://lbctl${path}`, { method, unix: `${WORK}/${D}.sock` } as RequestInit);
  return (await r.json()) as T;
}

/** Through lbctl's control API: IPVS counters read from the kernel, and drain/undrain reaching the kernel. */
async function operatorChecks(): Promise<void> {
  const vs = `TCP ${NAT_VIP}:80`;
  // The child reads counters every few seconds, and the kernel's estimator folds its per-CPU counters
  // into a service's and into each destination's at different moments: wait for both.
  const deadline = performance.now() + 10_000;
  let st: ApiStatus | undefined;
  while (performance.now() < deadline) {
    st = await api<ApiStatus>("GET", "/v1/status");
    const v = st.virtualServers.find((x) => x.key === vs);
    const rs = v?.realServers ?? [];
    if (rs.reduce((n, r) => n + (r.stats?.conns ?? 0), 0) >= 6 && (v?.stats?.conns ?? 0) >= 6) break;
    await sleep(300);
  }
  const v = st?.virtualServers.find((x) => x.key === vs);
  check((v?.stats?.conns ?? 0) >= 6, `status shows ${v?.stats?.conns} connections for ${vs}, expected at least 6: ${JSON.stringify(v)}`);
  check(v!.realServers.every((r) => r.health === "up" && (r.stats?.inBytes ?? 0) > 0 && r.effectiveWeight === 1), `real server status: ${JSON.stringify(v!.realServers)}`);
  const path = `/v1/virtual-servers/${encodeURIComponent(vs)}/real-servers/${encodeURIComponent(`${RS2}:80`)}`;
  check((await api<{ ok: boolean }>("POST", `${path}/drain`)).ok, "drain refused");
  await waitTable("lbctl: drained", (t) => t.join("\n").includes(`${RS2}:80 Masq 0`) && t.join("\n").includes(`${RS1}:80 Masq 1`));
  expectEqual(requestMany(NAT_VIP, 80, CLIENT_NAT, 4), { r1: 4 }, "answers with r2 drained");
  check((await api<{ ok: boolean }>("POST", `${path}/undrain`)).ok, "undrain refused");
  await waitTable("lbctl: undrained", (t) => !t.join("\n").includes(`${RS2}:80 Masq 0`));
}

async function healthCase(): Promise<void> {
  for (const ns of [R1, R2]) { startServer(ns, "http", 80); startServer(ns, "http", 9999); startServer(ns, "echo", 7000); }
  for (const ns of [R1, R2]) for (const port of [80, 9999, 7000]) await waitListening(ns, port);
  const mine = await healthRun("lbctl");
  const theirs = await healthRun("keepalived");
  expectEqual(mine.up, theirs.up, "all-up table, lbctl vs keepalived");
  expectEqual(mine.down, theirs.down, "table with r1 down, lbctl vs keepalived");
  expectEqual(mine.natDown, { r2: 6 }, "NAT answers with r1 down");
  expectEqual(mine.drDown, { r2: 6 }, "DR answers with r1 at weight 0");
}

async function reloadRun(tool: "lbctl" | "keepalived"): Promise<{ after: string[]; hold: string }> {
  const conf = `${WORK}/reload-${tool}.conf`;
  writeFileSync(conf, labConfig(1));
  const v1 = (t: string[]) => t.length === 5 && destCount(t) === 9;
  return withDaemon(tool, conf, async (d) => {
    await waitTable(`${tool}: v1`, v1);
    const held = holdConnection(NAT_VIP, 7000, CLIENT_NAT, 5);
    await sleep(1500);
    writeFileSync(conf, labConfig(2));
    d.reload();
    const after = await waitTable(`${tool}: v2`, (t) => t.some((s) => s.includes(`${NAT_VIP}:82`)) && !t.some((s) => s.includes(`${NAT_VIP}:81`)) && t.join("\n").includes(`${RS1}:80 Masq 3`));
    return { after, hold: await held };
  });
}

async function reloadCase(): Promise<void> {
  for (const ns of [R1, R2]) for (const port of [80, 9999, 7000]) await waitListening(ns, port);
  const mine = await reloadRun("lbctl");
  const theirs = await reloadRun("keepalived");
  expectEqual(mine.after, theirs.after, "table after reload, lbctl vs keepalived");
  check(/^HOLD ok \d+/.test(mine.hold), `the connection through the unchanged service did not survive lbctl's reload: ${mine.hold}`);
  // And what a fresh keepalived programs for the new file is what the reload gave.
  const conf = `${WORK}/fresh-v2.conf`;
  writeFileSync(conf, labConfig(2));
  const fresh = await withDaemon("keepalived", conf, () => waitTable("keepalived fresh v2", (t) => t.length === 5));
  expectEqual(mine.after, fresh, "lbctl after reload vs a fresh keepalived on the new file");
}

// ---------- runner and helper modes ----------

const HTTP_GET_FLAG = "--http-get", ECHO_FLAG = "--echo", HOLD_FLAG = "--hold";

async function httpGetBodies(host: string, port: number, from: string, count: number): Promise<void> {
  const { connect } = await import("node:net");
  for (let i = 0; i < count; i++) {
    const body = await new Promise<string>((resolve) => {
      let data = "";
      const sock = connect({ host, port, localAddress: from }, () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
      sock.setTimeout(5000, () => sock.destroy());
      sock.on("data", (d) => (data += d.toString()));
      sock.on("error", () => resolve("FAIL"));
      sock.on("close", () => {
        const split = data.indexOf("\r\n\r\n");
        resolve(split < 0 ? "FAIL" : data.slice(split + 4).trim());
      });
    });
    console.log(body);
  }
}

async function hold(host: string, port: number, from: string, seconds: number): Promise<void> {
  const { connect } = await import("node:net");
  let echoed = 0;
  const result = await new Promise<string>((resolve) => {
    const sock = connect({ host, port, localAddress: from });
    let timer: ReturnType<typeof setInterval> | undefined;
    sock.on("connect", () => { timer = setInterval(() => sock.write("ping\n"), 100); });
    sock.on("data", (d) => { echoed += d.toString().split("ping").length - 1; });
    sock.on("error", (e) => { clearInterval(timer); resolve(`HOLD error ${e.message} after ${echoed}`); });
    sock.on("close", () => { clearInterval(timer); resolve(`HOLD error closed after ${echoed}`); });
    setTimeout(() => { clearInterval(timer); sock.removeAllListeners("close"); sock.destroy(); resolve(echoed > 0 ? `HOLD ok ${echoed}` : "HOLD error nothing echoed"); }, seconds * 1000);
  });
  console.log(result);
}

function echoServer(port: number): void {
  Bun.listen({ hostname: "0.0.0.0", port, socket: { data(s, d) { s.write(d); } } });
}

export async function runDaemonSuite(only?: (name: string) => boolean): Promise<DaemonCaseResult[]> {
  const cases: [string, Run][] = [
    [CASE_SEED, seedCase],
    ...IPVS_SAMPLES.map((s): [string, Run] => [sampleCase(s), sampleRun(s)]),
    [CASE_HEALTH, healthCase],
    [CASE_RELOAD, reloadCase],
    [CASE_HA_SUSPEND, haSuspendCase],
    [CASE_SYNCD, syncdCase],
  ];
  const results: DaemonCaseResult[] = [];
  setupNetwork();
  try {
    for (const [name, run] of cases) {
      if (only && !only(name)) continue;
      const started = performance.now();
      let r: DaemonCaseResult;
      try {
        await run();
        r = { name, ok: true, ms: Math.round(performance.now() - started) };
      } catch (e) {
        r = { name, ok: false, error: e instanceof Error ? e.message : String(e), ms: Math.round(performance.now() - started) };
      }
      results.push(r);
      console.log(DAEMON_RESULT_PREFIX + JSON.stringify(r));
    }
  } finally {
    cleanup();
  }
  return results;
}

if (import.meta.main) {
  const [flag, a, b, c, d] = process.argv.slice(2);
  if (flag === HTTP_GET_FLAG) await httpGetBodies(a!, Number(b), c!, Number(d));
  else if (flag === HOLD_FLAG) await hold(a!, Number(b), c!, Number(d));
  else if (flag === ECHO_FLAG) echoServer(Number(a));
  else {
    const filter = process.env.LBCTL_VM_ONLY;
    const results = await runDaemonSuite(filter ? (name) => name.includes(filter) : undefined);
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  }
}
