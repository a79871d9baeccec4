// `lbctl demo`: a two-node VRRP cluster in network namespaces that a newcomer can watch fail
// over. Everything lives in namespaces the demo creates and removes: nothing is sent on the
// host's interfaces. node1 (priority 150) and node2 (priority 100) share the VIP 10.77.0.100
// on a bridged LAN; a client namespace pings the VIP throughout.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../daemon/child.ts";
import { createLab, type Lab, type SpawnedProcess } from "../lab/netns.ts";

export interface DemoOptions {
  /** Who runs node2: another lbctl, or keepalived 2.2.7 to show interoperation. */
  peer: "lbctl" | "keepalived";
  version: 2 | 3;
  /** Advert interval in seconds. */
  advertInt: number;
  /** Leave the cluster running until Ctrl-C instead of running the scripted failovers. */
  keep: boolean;
  out: (line: string) => void;
}

const VIP = "10.77.0.100";
const NODES = [
  { name: "node1", addr: "10.77.0.1", priority: 150 },
  { name: "node2", addr: "10.77.0.2", priority: 100 },
] as const;

export function demoConfig(node: (typeof NODES)[number], o: Pick<DemoOptions, "version" | "advertInt">): string {
  return `! lbctl demo: ${node.name}
global_defs {
  router_id ${node.name}
  vrrp_version ${o.version}
  vrrp_garp_master_delay 1
}

vrrp_instance DEMO {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority ${node.priority}
  advert_int ${o.advertInt}
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
}
`;
}

interface Node { name: string; ns: string; conf: string; proc: SpawnedProcess | null; kind: "lbctl" | "keepalived"; dir: string }

export async function runDemo(o: DemoOptions): Promise<number> {
  const lab = createLab("lbdemo-");
  const dir = mkdtempSync(join(tmpdir(), "lbctl-demo-"));
  const say = (s: string) => o.out(`[${new Date().toISOString().slice(11, 23)}] ${s}`);
  const stopAll = async () => { await lab.cleanup(); rmSync(dir, { recursive: true, force: true }); };
  process.on("SIGINT", () => { void stopAll().then(() => process.exit(130)); });
  try {
    say("building the lab: a bridged LAN, two load-balancer nodes and a client, each in its own network namespace");
    const [n1, n2, client] = await lab.namespaces("node1", "node2", "client");
    await lab.lan("lan", [
      { ns: n1!, ifname: "eth0", address: `${NODES[0].addr}/24` },
      { ns: n2!, ifname: "eth0", address: `${NODES[1].addr}/24` },
      { ns: client!, ifname: "eth0", address: "10.77.0.50/24" },
    ]);
    const nodes: Node[] = NODES.map((n, i) => {
      const conf = join(dir, `${n.name}.conf`);
      writeFileSync(conf, demoConfig(n, o));
      return { name: n.name, ns: i === 0 ? n1! : n2!, conf, proc: null, kind: i === 1 ? o.peer : "lbctl", dir };
    });
    for (const n of nodes) say(`${n.name}: ${n.kind === "lbctl" ? "lbctl daemon" : "keepalived 2.2.7"}, priority ${NODES.find((x) => x.name === n.name)!.priority}, config ${n.conf}`);

    const start = (n: Node) => { n.proc = startNode(lab, n); };
    // Who answers for the VIP: nodes holding it on a link that is up (a crashed node's link is down).
    const holder = async (): Promise<string | null> => {
      const holders: string[] = [];
      for (const n of nodes) {
        const links = await lab.ipJson<{ flags: string[]; addr_info: { local: string }[] }[]>(n.ns, ["addr", "show", "dev", "eth0"]);
        if (links.some((l) => l.flags.includes("UP") && l.addr_info.some((a) => a.local === VIP))) holders.push(n.name);
      }
      return holders.length === 1 ? holders[0]! : holders.length === 0 ? null : holders.join("+");
    };
    const waitFor = async (want: string | null, what: string, timeoutMs = 20_000): Promise<number> => {
      const t0 = performance.now();
      while (performance.now() - t0 < timeoutMs) {
        if ((await holder()) === want) {
          const ms = Math.round(performance.now() - t0);
          say(`${what}: ${want ?? "nobody"} holds ${VIP} after ${ms} ms`);
          return ms;
        }
        await Bun.sleep(20);
      }
      throw new Error(`${what}: ${want ?? "nobody"} did not get ${VIP} within ${timeoutMs} ms`);
    };

    for (const n of nodes) start(n);
    await waitFor("node1", "startup (node1 has the higher priority)");
    const ping = await lab.exec(client!, ["ping", "-c", "3", "-i", "0.2", "-W", "1", VIP]).catch(() => null);
    if (ping && ping.code === 0) say(`client: ${VIP} answers ping`);

    if (o.keep) {
      say(`the cluster keeps running; try: ip netns exec ${n1} ip addr; press Ctrl-C to stop and clean up`);
      await new Promise(() => { /* until Ctrl-C */ });
    }

    say("crash: node1's processes are killed and its network link goes down, as when a machine dies");
    crash(nodes[0]!);
    await lab.run(n1!, ["ip", "link", "set", "eth0", "down"]);
    await waitFor("node2", "failover after a crash");

    say("node1 comes back: it has the higher priority and preempts");
    await lab.run(n1!, ["ip", "link", "set", "eth0", "up"]);
    start(nodes[0]!);
    await waitFor("node1", "preemption");

    say("graceful stop: SIGTERM to node1 (it sends a priority-0 advert and releases the VIP)");
    nodes[0]!.proc!.kill("SIGTERM");
    await waitFor("node2", "failover after a graceful stop");
    const code = await nodes[0]!.proc!.exited;
    say(`node1 exited with code ${code}; its addresses: ${(await lab.run(n1!, ["ip", "-brief", "addr", "show", "dev", "eth0"])).trim()}`);

    say("done: cleaning up the namespaces and processes");
    return 0;
  } catch (e) {
    say(`demo failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await stopAll();
  }
}

function startNode(lab: Lab, n: Node): SpawnedProcess {
  if (n.kind === "keepalived") {
    const p = (s: string) => join(n.dir, `${n.name}.${s}.pid`);
    return lab.spawnIn(n.ns, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", n.conf, "-p", p("main"), "-r", p("vrrp"), "-c", p("check")]);
  }
  return lab.spawnIn(n.ns, [...selfCommand(), "daemon", "-f", n.conf, "--socket", join(n.dir, `${n.name}.sock`)]);
}

/** A real crash: the whole process group stops at once, no cleanup, no goodbye advert. */
function crash(n: Node): void {
  const pid = n.proc?.pid;
  if (!pid) return;
  // The daemon's children must die too, or they would release the VIP gracefully.
  const kids = Bun.spawnSync(["pgrep", "-P", String(pid)]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
  for (const k of [pid, ...kids]) { try { process.kill(k, "SIGSTOP"); } catch { /* gone */ } }
  for (const k of [pid, ...kids]) { try { process.kill(k, "SIGKILL"); } catch { /* gone */ } }
}
