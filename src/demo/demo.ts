// `lbctl demo`: a two-node VRRP cluster in network namespaces that a newcomer can watch fail
// over. Everything lives in namespaces the demo creates and removes: nothing is sent on the
// host's interfaces. node1 (priority 150) and node2 (priority 100) share the VIP 10.77.0.100
// on a bridged LAN; each node serves a page naming itself (the lbctl binary's `__demo-http`)
// and a client namespace requests http://VIP/ every 100 ms (`__demo-client`), so each phase
// reports what a user would have seen: failed requests and the longest gap.
// Where the kernel has IPVS, node1 also runs a virtual server with two real servers, and one of
// them fails and comes back.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../cli/api-client.ts";
import { selfCommand } from "../daemon/child.ts";
import { crashProcessTree, createLab, type Lab, type SpawnedProcess } from "../lab/netns.ts";
import { DEMO_CLIENT_COMMAND, DEMO_HTTP_COMMAND, type ClientSample } from "./agents.ts";
import { TopWatch } from "./watch.ts";
import {
  DEMO_VS_PORT, NODES, REAL_SERVERS, VIP, demoConfig, parseSamples, phaseLine, phaseStats, seconds, summaryTable,
  type DemoNode, type PhaseStats,
} from "./report.ts";

export type Impl = "lbctl" | "keepalived";

export interface DemoOptions {
  /** Who runs node1 (keepalived only for the benchmark's reference run). */
  node1: Impl;
  /** Who runs node2: another lbctl, or keepalived 2.2.7 to show interoperation. */
  peer: Impl;
  version: 2 | 3;
  /** Advert interval in seconds. */
  advertInt: number;
  /** Leave the cluster running until Ctrl-C instead of running the scripted failovers. */
  keep: boolean;
  /** Skip the IPVS part even where the kernel has IPVS (the benchmark). */
  noIpvs?: boolean;
  /** Startup and the IPVS part only, no failovers (the IPVS VM test, where everything runs slowly). */
  ipvsOnly?: boolean;
  out: (line: string) => void;
  /** How to run lbctl (default: this program). */
  lbctl?: string[];
  /** Called whenever a node becomes master, with its control socket when it runs lbctl. */
  onMaster?: (node: string, socket: string | null) => void;
  /** Show `lbctl top` on the master meanwhile (needs a terminal); the narration goes to a log file. */
  watch?: boolean;
  /** Namespace prefix (default "lbdemo-"; the benchmark's differ, so a demo test never sees them). */
  labPrefix?: string;
}

export interface DemoPhase { phase: string; stats: PhaseStats; /** Action to the VIP on the expected node. */ vipMs: number | null }
export interface DemoResult { phases: DemoPhase[]; ipvs: "ran" | "unavailable" | "skipped" }

const CLIENT_INTERVAL_MS = 100;
const CLIENT_TIMEOUT_MS = 300;
/** A phase is over when the expected node holds the VIP and answered this many requests in a row. */
const SETTLED_ANSWERS = 5;
const WATCH_PAUSE_MS = 4000;

interface Node {
  spec: DemoNode; ns: string; conf: string; socket: string; kind: Impl;
  daemon: SpawnedProcess | null; http: SpawnedProcess | null;
}

/** Raised when the demo is being stopped (Ctrl-C): the scripted steps end quietly. */
class Stopped extends Error { constructor() { super("stopped"); } }

/**
 * The demo's lab and scenario. `stop()` may be called at any time (a signal): it kills
 * everything the demo started, removes its namespaces, and makes every later step throw Stopped.
 */
export class Demo {
  readonly lab: Lab;
  private readonly dir = mkdtempSync(join(tmpdir(), "lbctl-demo-"));
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Ends --keep's wait. */
  private wake: (() => void) | null = null;
  private client: SpawnedProcess | null = null;
  private readonly lbctl: string[];

  constructor(private readonly o: DemoOptions) {
    this.lab = createLab(o.labPrefix ?? "lbdemo-");
    this.lbctl = o.lbctl ?? selfCommand();
  }

  /** A node's control socket (known before the node runs, for --watch). */
  socketPath(node: string): string { return join(this.dir, `${node}.sock`); }

  get command(): string[] { return this.lbctl; }

  private say(s: string): void { this.o.out(`[${new Date().toISOString().slice(11, 23)}] ${s}`); }

  private check(): void { if (this.stopping) throw new Stopped(); }

  get isStopping(): boolean { return this.stopping; }

  /** Idempotent; safe to call from a signal handler while the scenario runs. */
  stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.stopped ??= this.lab.cleanup().finally(() => rmSync(this.dir, { recursive: true, force: true }));
    return this.stopped;
  }

  private spawn(ns: string, cmd: string[]): SpawnedProcess {
    this.check();
    return this.lab.spawnIn(ns, cmd);
  }

  private startDaemon(n: Node): void {
    if (n.kind === "keepalived") {
      const p = (s: string) => join(this.dir, `${n.spec.name}.${s}.pid`);
      // -P: VRRP only (keepalived's checker takes the daemon down on a kernel without IPVS).
      n.daemon = this.spawn(n.ns, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", n.conf, "-p", p("main"), "-r", p("vrrp"), "-c", p("check")]);
    } else {
      n.daemon = this.spawn(n.ns, [...this.lbctl, "daemon", "-f", n.conf, "--socket", n.socket]);
    }
  }

  private startHttp(ns: string, name: string, port = 80): SpawnedProcess {
    return this.spawn(ns, [...this.lbctl, DEMO_HTTP_COMMAND, "--name", name, "--port", String(port)]);
  }

  private samples(): ClientSample[] { return parseSamples(this.client?.output().stdout ?? ""); }

  async run(): Promise<DemoResult> {
    const o = this.o, lab = this.lab;
    const phases: DemoPhase[] = [];
    try {
      this.say("building the lab: a bridged LAN, two load-balancer nodes and a client, each in its own network namespace");
      const [n1, n2, clientNs] = await lab.namespaces("node1", "node2", "client");
      this.check();
      const brNs = await lab.lan("lan", [
        { ns: n1!, ifname: "eth0", address: `${NODES[0].addr}/24` },
        { ns: n2!, ifname: "eth0", address: `${NODES[1].addr}/24` },
        { ns: clientNs!, ifname: "eth0", address: "10.77.0.50/24" },
      ]);
      this.check();
      const ipvs: DemoResult["ipvs"] = o.noIpvs || o.node1 !== "lbctl" ? "skipped" : (await this.hasIpvs(n1!)) ? "ran" : "unavailable";
      const nodes: Node[] = NODES.map((spec, i) => {
        const conf = join(this.dir, `${spec.name}.conf`);
        writeFileSync(conf, demoConfig(spec, { ...o, ipvs: ipvs === "ran" }));
        return { spec, ns: i === 0 ? n1! : n2!, conf, socket: this.socketPath(spec.name), kind: i === 0 ? o.node1 : o.peer, daemon: null, http: null };
      });
      const [node1, node2] = nodes as [Node, Node];
      for (const n of nodes) {
        this.say(`${n.spec.name}: ${n.kind === "lbctl" ? "lbctl daemon" : "keepalived 2.2.7"}, priority ${n.spec.priority}, config ${n.conf}; ` +
          `its web page on port 80 says "served by ${n.spec.name}"`);
      }
      for (const n of nodes) n.http = this.startHttp(n.ns, n.spec.name);
      const url = `http://${VIP}/`;
      this.client = this.spawn(clientNs!, [...this.lbctl, DEMO_CLIENT_COMMAND, url, "--interval", String(CLIENT_INTERVAL_MS), "--timeout", String(CLIENT_TIMEOUT_MS)]);
      this.say(`client: requests ${url} every ${CLIENT_INTERVAL_MS} ms (a request unanswered within ${CLIENT_TIMEOUT_MS} ms counts as failed)`);

      // One phase: an action, then wait until `want` holds the VIP and the client sees it answer.
      const phase = async (name: string, want: Node, action: () => Promise<void>): Promise<DemoPhase> => {
        const from = Date.now();
        await action();
        const vipMs = await this.waitHolder(nodes, want.spec.name, from);
        o.onMaster?.(want.spec.name, want.kind === "lbctl" ? want.socket : null);
        await this.waitAnswers(want.spec.name, from);
        const to = Date.now();
        await Bun.sleep(CLIENT_TIMEOUT_MS + 50); // every request started before `to` has ended
        const p: DemoPhase = { phase: name, stats: phaseStats(this.samples(), from, to), vipMs };
        phases.push(p);
        this.say(`${phaseLine(name, p.stats)}; ${want.spec.name} held ${VIP} after ${seconds(vipMs)}`);
        // Under --watch, time to look at top before the next step.
        if (o.watch) await Bun.sleep(WATCH_PAUSE_MS);
        this.check();
        return p;
      };

      await phase("startup", node1, async () => {
        this.say("startup: both nodes start as BACKUP; node1 has the higher priority and becomes master");
        for (const n of nodes) this.startDaemon(n);
      });

      if (o.keep) {
        const status = node1.kind === "lbctl" ? `lbctl status --socket ${node1.socket}; ` : "";
        this.say(`the cluster keeps running; try: ${status}ip netns exec ${n1} ip addr show eth0; press Ctrl-C to stop and clean up`);
        await new Promise<void>((resolve) => { this.wake = resolve; }); // until stop() (Ctrl-C)
        this.check();
      }

      if (ipvs === "ran") await this.ipvsPhase(node1, brNs, clientNs!);
      else if (ipvs === "unavailable") this.say("IPVS: unavailable in this kernel (no IPVS generic netlink family); the virtual-server part is skipped");
      if (o.ipvsOnly) {
        this.say("done (--ipvs-only): removing the namespaces and processes");
        return { phases, ipvs };
      }

      await phase("crash failover", node2, async () => {
        this.say("crash: node1's processes are stopped and killed and its network link goes down, as when a machine dies");
        crashProcessTree(node1.daemon!.pid);
        node1.http!.kill("SIGKILL");
        await lab.run(n1!, ["ip", "link", "set", "eth0", "down"]);
      });

      await phase("preemption", node1, async () => {
        this.say("node1 comes back (link up, web page and daemon started): it has the higher priority and preempts");
        await lab.run(n1!, ["ip", "link", "set", "eth0", "up"]);
        node1.http = this.startHttp(n1!, "node1");
        this.startDaemon(node1);
      });

      await phase("graceful stop", node2, async () => {
        this.say("graceful stop: SIGTERM to node1's daemon (it sends a priority-0 advert and releases the VIP)");
        node1.daemon!.kill("SIGTERM");
      });
      const code = await Promise.race([node1.daemon!.exited, Bun.sleep(10_000).then(() => null)]);
      const addrs = (await lab.run(n1!, ["ip", "-brief", "-4", "addr", "show", "dev", "eth0"])).trim().split(/\s+/).slice(2).join(" ");
      this.say(`node1's daemon ${code === null ? "was still running 10 s after SIGTERM" : `exited with code ${code}`}; node1's IPv4 addresses now: ${addrs}`);

      this.client.kill("SIGTERM");
      await Promise.race([this.client.exited, Bun.sleep(2000)]);
      this.say(`what the client saw (${url}, a request every ${CLIENT_INTERVAL_MS} ms):`);
      for (const l of summaryTable(phases)) o.out(`  ${l}`);
      this.say("done: removing the namespaces and processes");
      return { phases, ipvs };
    } finally {
      await this.stop();
    }
  }

  /** IPVS answers inside the namespace (`lbctl ipvs` resolves the generic netlink family, which loads the module if it can). */
  private async hasIpvs(ns: string): Promise<boolean> {
    const r = await this.lab.exec(ns, [...this.lbctl, "ipvs", "--socket", join(this.dir, "none.sock")], { timeoutMs: 10_000 });
    return r.code === 0;
  }

  /** Polls every node's eth0 until `want` alone holds the VIP on a link that is up; ms since `from`. */
  private async waitHolder(nodes: Node[], want: string, from: number, timeoutMs = 20_000): Promise<number> {
    for (;;) {
      this.check();
      const holders: string[] = [];
      for (const n of nodes) {
        const links = await this.lab.ipJson<{ flags: string[]; addr_info: { local: string }[] }[]>(n.ns, ["addr", "show", "dev", "eth0"]);
        if (links.some((l) => l.flags.includes("UP") && l.addr_info.some((a) => a.local === VIP))) holders.push(n.spec.name);
      }
      if (holders.length === 1 && holders[0] === want) return Date.now() - from;
      if (Date.now() - from > timeoutMs) throw new Error(`${want} did not get ${VIP} within ${timeoutMs / 1000} s (holders: ${holders.join(", ") || "none"})`);
      await Bun.sleep(50);
    }
  }

  /** Waits until the client's last SETTLED_ANSWERS requests since `from` were all answered by `want`. */
  private async waitAnswers(want: string, from: number, timeoutMs = 20_000): Promise<void> {
    for (;;) {
      this.check();
      const recent = this.samples().filter((s) => s.t >= from).sort((a, b) => a.t - b.t).slice(-SETTLED_ANSWERS);
      if (recent.length === SETTLED_ANSWERS && recent.every((s) => s.ok && s.node === want)) return;
      if (Date.now() - from > timeoutMs) {
        const last = recent.at(-1);
        throw new Error(`the client did not get answers from ${want} within ${timeoutMs / 1000} s (last: ${last ? (last.ok ? `answered by ${last.node}` : last.err) : "no request"})`);
      }
      await Bun.sleep(50);
    }
  }

  /**
   * node1's virtual server VIP:8080 balances two real servers (DR); rs2's web server stops, the
   * checker takes it out of the table, and it comes back.
   */
  private async ipvsPhase(node1: Node, brNs: string, clientNs: string): Promise<void> {
    const lab = this.lab;
    this.say(`IPVS: virtual server ${VIP}:${DEMO_VS_PORT} (round robin, direct routing) with real servers ${REAL_SERVERS.map((r) => r.addr).join(" and ")}`);
    const rsNs = await lab.namespaces(...REAL_SERVERS.map((r) => r.name));
    const https: SpawnedProcess[] = [];
    for (const [i, rs] of REAL_SERVERS.entries()) {
      const ns = rsNs[i]!;
      await lab.veth(ns, "eth0", brNs, `prs${i}`);
      await lab.run(brNs, ["ip", "link", "set", `prs${i}`, "master", "br0"]);
      await lab.addr(ns, "eth0", `${rs.addr}/24`);
      // Direct routing: the real server accepts the VIP's packets but never answers ARP for it.
      await lab.run(ns, ["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"]);
      await lab.addr(ns, "lo", `${VIP}/32`);
      https.push(this.startHttp(ns, rs.name, DEMO_VS_PORT));
    }
    const api = new ApiClient(node1.socket);
    const waitHealth = async (addr: string, want: "up" | "down"): Promise<string> => {
      const t0 = Date.now();
      for (;;) {
        this.check();
        const st = await api.status().catch(() => null);
        const rs = st?.virtualServers.flatMap((v) => v.realServers).find((r) => r.address === addr);
        if (rs?.health === want) return rs.reason ?? "";
        if (Date.now() - t0 > 20_000) throw new Error(`real server ${addr} was not ${want} within 20 s`);
        await Bun.sleep(200);
      }
    };
    const table = async (): Promise<void> => {
      const out = await lab.exec(node1.ns, [...this.lbctl, "ipvs", "--socket", node1.socket]);
      for (const l of out.stdout.trimEnd().split("\n")) this.o.out(`    ${l}`);
    };
    const requests = async (): Promise<string> => {
      const r = await lab.exec(clientNs, [...this.lbctl, DEMO_CLIENT_COMMAND, `http://${VIP}:${DEMO_VS_PORT}/`, "--count", "6", "--interval", "100", "--timeout", "1000"]);
      const by: Record<string, number> = {};
      for (const s of parseSamples(r.stdout)) { const k = s.ok ? s.node ?? "?" : "failed"; by[k] = (by[k] ?? 0) + 1; }
      return Object.entries(by).map(([k, v]) => `${k} ×${v}`).join(", ");
    };
    for (const rs of REAL_SERVERS) await waitHealth(rs.addr, "up");
    this.say("IPVS: both real servers passed their TCP check; the kernel's table on node1:");
    await table();
    this.say(`IPVS: 6 requests to ${VIP}:${DEMO_VS_PORT} were answered by ${await requests()}`);
    const failed = REAL_SERVERS[1];
    this.say(`IPVS: ${failed.name}'s web server stops`);
    https[1]!.kill("SIGKILL");
    const reason = await waitHealth(failed.addr, "down");
    this.say(`IPVS: the checker took ${failed.addr} out of the table (${reason}):`);
    await table();
    this.say(`IPVS: 6 requests were answered by ${await requests()}`);
    https[1] = this.startHttp(rsNs[1]!, failed.name, DEMO_VS_PORT);
    await waitHealth(failed.addr, "up");
    this.say(`IPVS: ${failed.name}'s web server is back and ${failed.addr} is in the table again`);
  }
}

/** `lbctl demo`: runs the scenario, cleaning up on every way out (end, error, SIGINT, SIGTERM, SIGHUP). */
export async function runDemo(options: DemoOptions): Promise<number> {
  let o = options;
  let watch: TopWatch | null = null;
  const log = join(tmpdir(), `lbctl-demo-${process.pid}.log`);
  if (o.watch) {
    writeFileSync(log, "");
    o = {
      ...o,
      out: (l) => appendFileSync(log, l + "\n"),
      onMaster: (_node, socket) => { if (socket) void watch?.show(socket); },
    };
  }
  const demo = new Demo(o);
  if (o.watch) {
    watch = new TopWatch(demo.command, log, () => { void demo.stop(); });
    if (o.node1 === "lbctl") void watch.show(demo.socketPath("node1"));
  }
  let r: { code: number; error?: string };
  try {
    r = await runScenario(demo, o, async () => { await watch?.close(); });
  } finally {
    if (watch) {
      await watch.close();
      options.out(readFileSync(log, "utf8").trimEnd());
      options.out(`(this narration is also in ${log})`);
    }
  }
  // After top has given the terminal back, so that the reason is not drawn over.
  if (r.error) process.stderr.write(`lbctl demo: ${r.error}\n`);
  return r.code;
}

/**
 * Runs the scenario with the signal handlers in place. Exit 130 only for a stop asked for (a signal, or
 * top's q under --watch): a step that fails also stops the demo (run()'s clean-up), and must still exit 1
 * with its reason.
 */
export async function runScenario(
  demo: Pick<Demo, "run" | "stop">, o: Pick<DemoOptions, "out">, beforeExit: () => Promise<void>,
): Promise<{ code: number; error?: string }> {
  let running: Promise<unknown> = Promise.resolve();
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.on(sig, () => {
      signalled = true;
      o.out(`[${new Date().toISOString().slice(11, 23)}] ${sig}: stopping, removing the namespaces and processes`);
      // The scenario ends at its next step; waiting for it lets a step in flight (a namespace being
      // made) finish and be removed too, instead of completing after this process is gone.
      void Promise.all([demo.stop(), beforeExit()])
        .then(() => Promise.race([running.catch(() => {}), Bun.sleep(5000)]))
        .then(() => demo.stop())
        .then(() => process.exit(code));
    });
  };
  onSignal("SIGINT", 130);
  onSignal("SIGTERM", 143);
  onSignal("SIGHUP", 129);
  try {
    running = demo.run();
    await running;
    return { code: 0 };
  } catch (e) {
    if (e instanceof Stopped || signalled) return { code: 130 };
    return { code: 1, error: `failed: ${(e as Error).message}` };
  }
}
