// keepalived's `net_namespace` and `instance`: daemons started from one namespace each move into
// the namespace their configuration names, and name their control socket and dump files after it,
// so several run side by side with no --socket and `lbctl status --namespace NS` reaches each.
// keepalived 2.2.7, run the same way here (from a namespace of its own, net_namespace another):
// it moved into the namespace, wrote /run/keepalived/NS/keepalived_INST.pid and vrrp_INST.pid, and
// with a namespace that does not exist logged "Unable to set network namespace" and exited with
// status 0; lbctl exits with status 1 and says which line and how to create it.
// Everything runs in test namespaces: the supervisors start in "parent", never in the root namespace.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SOCK_DGRAM, bind, close, recvfrom, setNonBlocking, socket } from "../../ffi/libc.ts";
import { sockaddrUn } from "../../src/daemon/sd-notify.ts";
import { inNetns } from "../../src/net/netns.ts";
import { createLab, processTree, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const lab = createLab("lbt-nsd-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-netns-test-"));
let parent = "", nsA = "", nsB = "";
const daemons: Record<string, SpawnedProcess> = {};
// No --socket anywhere: an inherited $LBCTL_SOCKET would name one socket for all of them.
const env = { LBCTL_SOCKET: "", TMPDIR: dir };

// Daemon a also checks two real servers on the LAN (b's address: one port answers, one does not);
// only a checker inside a's namespace can reach them. The kernel has no IPVS: the checks still run.
const VIRTUAL_SERVER = `virtual_server 10.61.0.100 80 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.61.0.2 8080 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.61.0.2 8081 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

function config(ns: string, vrid: number, vip: string, extra = "", tail = ""): string {
  return `net_namespace ${ns}
${extra}vrrp_instance VI_${vrid} {
  state MASTER
  interface eth0
  virtual_router_id ${vrid}
  priority 200
  advert_int 0.2
  version 3
  virtual_ipaddress {
    ${vip}/24 dev eth0
  }
}
${tail}`;
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  let v = await f();
  while (!ok(v)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await Bun.sleep(50);
    v = await f();
  }
  return v;
}

async function vips(ns: string): Promise<string[]> {
  const links = await lab.ipJson<{ addr_info: { local: string; family: string }[] }[]>(ns, ["addr", "show", "dev", "eth0"]);
  return links.flatMap((l) => l.addr_info.filter((a) => a.family === "inet" && /^10\.61\.0\.1\d\d$/.test(a.local)).map((a) => a.local)).sort();
}

/** An lbctl client command from the root namespace, as an operator on the host runs it. */
async function lbctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([...lbctlCommand(), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

async function instances(...select: string[]): Promise<[string, string][] | string> {
  const r = await lbctl("status", "--json", ...select);
  if (r.code !== 0) return `exit ${r.code}: ${r.stderr.trim()}`;
  return (JSON.parse(r.stdout) as { vrrp: { instances: { name: string; state: string }[] } }).vrrp.instances.map((i) => [i.name, i.state]);
}

function netnsOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

function namedNetns(name: string): string {
  return `net:[${statSync(`/run/netns/${name}`).ino}]`;
}

// systemd's notify socket in the namespace the daemons start from, abstract ("@name"), which is
// looked up in the sender socket's namespace: the daemon must make its socket before it moves.
const notifyName = `@lbt-nsd-notify-${process.pid}`;
let notifyFd = -1;

function notifications(): string[] {
  const out: string[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const r = recvfrom(notifyFd, buf);
    if (!r) return out;
    out.push(new TextDecoder().decode(buf.subarray(0, r.length)));
  }
}

function startDaemon(key: string, text: string, extraEnv: Record<string, string> = {}): SpawnedProcess {
  const file = join(dir, `${key}.conf`);
  writeFileSync(file, text);
  const p = lab.spawnIn(parent, [...lbctlCommand(), "daemon", "-f", file], { env: { ...env, ...extraEnv } });
  daemons[key] = p;
  return p;
}

beforeAll(async () => {
  [parent, nsA, nsB] = await lab.namespaces("parent", "a", "b");
  // One LAN for both: each must stay master of its own router id, and not see the other as a rival.
  await lab.lan("lan", [{ ns: nsA!, ifname: "eth0", address: "10.61.0.1/24" }, { ns: nsB!, ifname: "eth0", address: "10.61.0.2/24" }]);
  notifyFd = inNetns(parent!, () => socket(1, SOCK_DGRAM, 0));
  bind(notifyFd, sockaddrUn(notifyName));
  setNonBlocking(notifyFd);
  lab.spawnIn(nsB!, [...lbctlCommand(), "__demo-http", "--name", "rs", "--port", "8080"]);
  startDaemon("a", config(nsA!, 71, "10.61.0.100", "", VIRTUAL_SERVER), { NOTIFY_SOCKET: notifyName });
  startDaemon("b", config(nsB!, 72, "10.61.0.101"));
  // A second daemon in b's namespace, told apart by its instance name.
  startDaemon("b2", config(nsB!, 73, "10.61.0.102", "instance two\n"));
}, 60_000);

afterAll(async () => {
  await lab.cleanup();
  if (notifyFd >= 0) close(notifyFd);
  // Sockets of daemons that were SIGKILLed (a failed test) stay behind: remove them.
  for (const ns of [nsA, nsB]) if (ns) rmSync(`/run/lbctl/${ns}`, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("lbctl daemon with net_namespace", () => {
  it("runs each daemon, its VRRP child included, in the namespace its configuration names", async () => {
    await until("VIPs", async () => [await vips(nsA), await vips(nsB)], ([a, b]) => a!.length === 1 && b!.length === 2);
    expect(await vips(nsA)).toEqual(["10.61.0.100"]);
    expect(await vips(nsB)).toEqual(["10.61.0.101", "10.61.0.102"]);
    // Nothing in the namespace the supervisors were started from (it has only lo).
    const inParent = await lab.ipJson<{ addr_info: { local: string }[] }[]>(parent, ["-4", "addr"]);
    expect(inParent.flatMap((l) => l.addr_info.map((a) => a.local))).toEqual(["127.0.0.1"]);
    for (const [key, ns] of [["a", nsA], ["b", nsB], ["b2", nsB]] as const) {
      const tree = processTree(daemons[key]!.pid);
      // The supervisor and its VRRP child; a's checker too.
      expect(tree.length).toBeGreaterThanOrEqual(key === "a" ? 3 : 2);
      for (const pid of tree) expect(netnsOf(pid), `${key} pid ${pid}`).toBe(namedNetns(ns));
    }
    expect(namedNetns(nsA)).not.toBe(namedNetns(parent));
  });

  it("runs the health checks from the daemon's namespace: the real servers on its LAN are reached", async () => {
    const health = async () => {
      const r = await lbctl("status", "--json", "--namespace", nsA);
      if (r.code !== 0) return r.stderr;
      const s = JSON.parse(r.stdout) as { virtualServers: { realServers: { key: string; health: string }[] }[] };
      return s.virtualServers.flatMap((v) => v.realServers.map((rs) => `${rs.key} ${rs.health}`));
    };
    // Real servers start up (keepalived's default without alpha): the refused port must go down,
    // the answering one stay up.
    const want = ["10.61.0.2:8080 up", "10.61.0.2:8081 down"];
    expect(await until("health", health, (h) => JSON.stringify(h) === JSON.stringify(want))).toEqual(want);
  });

  it("tells systemd it is ready over an abstract NOTIFY_SOCKET of the namespace it started in", async () => {
    const msgs = await until("READY", async () => notifications(), (m) => m.some((x) => x.startsWith("READY=1")));
    expect(msgs.find((x) => x.startsWith("READY=1"))).toBe("READY=1\nSTATUS=running");
  });

  it("names each control socket after the namespace and instance, and `lbctl status --namespace` reaches each", async () => {
    expect(existsSync(`/run/lbctl/${nsA}/lbctl.sock`)).toBe(true);
    expect(existsSync(`/run/lbctl/${nsB}/lbctl.sock`)).toBe(true);
    expect(existsSync(`/run/lbctl/${nsB}/lbctl_two.sock`)).toBe(true);
    expect(await until("a", () => instances("--namespace", nsA), (v) => Array.isArray(v) && v[0]?.[1] === "MASTER")).toEqual([["VI_71", "MASTER"]]);
    expect(await until("b", () => instances("--namespace", nsB), (v) => Array.isArray(v) && v[0]?.[1] === "MASTER")).toEqual([["VI_72", "MASTER"]]);
    expect(await until("b2", () => instances("--namespace", nsB, "--instance", "two"), (v) => Array.isArray(v) && v[0]?.[1] === "MASTER")).toEqual([["VI_73", "MASTER"]]);
    // Nothing listens on the default socket for them.
    const plain = await lbctl("status", "--socket", join(dir, "none.sock"));
    expect(plain.code).toBe(69);
  });

  it("names the keepalived dump files after the namespace and instance", async () => {
    process.kill(daemons.b2!.pid, "SIGUSR1");
    const file = join(dir, `keepalived.${nsB}_two.data`);
    await until("dump", async () => existsSync(file), (v) => v);
    const text = readFileSync(file, "utf8");
    expect(text).toContain(` Network namespace = ${nsB}`);
    expect(text).toContain(" Instance name = two");
    expect(existsSync(join(dir, "keepalived.data"))).toBe(false);
  });

  it("checks the interfaces of the configured namespace in `lbctl check`, not those of the caller", async () => {
    // eth0 exists in a, not in parent, where the check runs.
    const ok = await lab.exec(parent, [...lbctlCommand(), "check", "-f", join(dir, "a.conf")]);
    expect(ok.stdout + ok.stderr).not.toMatch(/eth0/);
    expect(ok.code).toBe(0);
    writeFileSync(join(dir, "eth9.conf"), config(nsA, 74, "10.61.0.103").replace("interface eth0", "interface eth9"));
    const bad = await lab.exec(parent, [...lbctlCommand(), "check", "-f", join(dir, "eth9.conf")]);
    expect(bad.stdout + bad.stderr).toMatch(/eth9/);
    expect(bad.code).not.toBe(0);
  });

  it("refuses a reload that changes net_namespace, and keeps running", async () => {
    writeFileSync(join(dir, "a.conf"), config(nsB, 71, "10.61.0.100"));
    const r = await lbctl("reload", "--namespace", nsA);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/net_namespace cannot change at a reload/);
    writeFileSync(join(dir, "a.conf"), config(nsA, 71, "10.61.0.100"));
    expect(await vips(nsA)).toEqual(["10.61.0.100"]);
  });

  it("stops one daemon and leaves the others running", async () => {
    daemons.a!.kill("SIGTERM");
    expect(await daemons.a!.exited).toBe(0);
    expect(await vips(nsA)).toEqual([]);
    expect((await lbctl("status", "--namespace", nsA)).code).toBe(69);
    // Its socket directory goes with it, as keepalived's /run/keepalived/NS does.
    expect(existsSync(`/run/lbctl/${nsA}`)).toBe(false);
    expect(await instances("--namespace", nsB)).toEqual([["VI_72", "MASTER"]]);
    expect(await vips(nsB)).toEqual(["10.61.0.101", "10.61.0.102"]);
  });

  it("does not start when the namespace does not exist, and says where and how to make it", async () => {
    const missing = `${lab.tag}nope`;
    const p = startDaemon("missing", config(missing, 75, "10.61.0.104"));
    const code = await p.exited;
    expect(code).toBe(1);
    expect(p.output().stderr).toContain(`${join(dir, "missing.conf")}:1:1: network namespace '${missing}' does not exist (no /run/netns/${missing}; create it with 'ip netns add ${missing}')`);
    expect(existsSync(`/run/lbctl/${missing}`)).toBe(false);
  });

  it("says CAP_SYS_ADMIN is missing when it may not enter the namespace (a unit whose bounding set lacks it)", async () => {
    const file = join(dir, "nocap.conf");
    writeFileSync(file, config(nsA, 76, "10.61.0.105"));
    // systemd's CapabilityBoundingSet= without CAP_SYS_ADMIN, as rpm/lbctl.service has it.
    const r = await lab.exec(parent, ["setpriv", "--bounding-set", "-sys_admin", "env", "LBCTL_SOCKET=", ...lbctlCommand(), "daemon", "-f", file], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1:1: cannot enter network namespace /run/netns/${nsA}: setns needs CAP_SYS_ADMIN`);
    expect(await vips(nsA)).toEqual([]);
  });

  it("programs IPVS in net_namespace_ipvs: a missing one is named in the status, an existing one is entered", async () => {
    // This kernel has no IPVS: an entered namespace shows as "IPVS not available", a missing one as itself.
    const ipvsStatus = async (instance: string) => {
      const r = await lbctl("status", "--json", "--namespace", nsB, "--instance", instance);
      return r.code === 0 ? ((JSON.parse(r.stdout) as { ipvs: { error?: string } | null }).ipvs?.error ?? "") : `exit ${r.code}`;
    };
    const gone = `${lab.tag}gone`;
    const vs = VIRTUAL_SERVER.replace("10.61.0.100 80", "10.61.0.110 80");
    const missing = startDaemon("ipvs-missing", `net_namespace ${nsB}\ninstance ipvsgone\nnet_namespace_ipvs ${gone}\n${vs}`);
    const present = startDaemon("ipvs-present", `net_namespace ${nsB}\ninstance ipvsthere\nnet_namespace_ipvs ${parent}\n${vs}`);
    expect(await until("missing", () => ipvsStatus("ipvsgone"), (e) => e.includes("net_namespace_ipvs"))).toBe(
      `IPVS cannot be programmed (net_namespace_ipvs: network namespace /run/netns/${gone} does not exist): virtual servers are not programmed; VRRP keeps running`);
    expect(await until("present", () => ipvsStatus("ipvsthere"), (e) => e.startsWith("IPVS"))).toMatch(/^IPVS is not available in this kernel.*\(IPVS not available in this kernel/);
    for (const p of [missing, present]) { p.kill("SIGTERM"); expect(await p.exited).toBe(0); }
  });

  it("keepalived 2.2.7, the reference, started the same way: moves into net_namespace, pid files under /run/keepalived/NS", async () => {
    // a's daemon is stopped by now; keepalived takes another router id on a's side of the LAN.
    const file = join(dir, "keepalived.conf");
    writeFileSync(file, config(nsA, 79, "10.61.0.109", "instance ka\n"));
    const ka = lab.spawnIn(parent, ["keepalived", "-n", "-l", "-D", "-G", "-P", "-f", file]);
    const pidFile = `/run/keepalived/${nsA}/keepalived_ka.pid`;
    try {
      await until("keepalived pid files", async () => existsSync(pidFile) && existsSync(`/run/keepalived/${nsA}/vrrp_ka.pid`), (v) => v);
      expect(Number(readFileSync(pidFile, "utf8").trim())).toBe(ka.pid);
      for (const pid of processTree(ka.pid)) expect(netnsOf(pid)).toBe(namedNetns(nsA));
      await until("keepalived VIP", () => vips(nsA), (v) => v.includes("10.61.0.109"));
    } finally {
      ka.kill("SIGTERM");
      await ka.exited;
    }
    // It removes its directory at exit, as lbctl does its socket's.
    expect(existsSync(`/run/keepalived/${nsA}`)).toBe(false);
    // A namespace that does not exist: keepalived logs it and exits with status 0 (lbctl: 1).
    const missing = `${lab.tag}nope`;
    writeFileSync(file, config(missing, 79, "10.61.0.109"));
    const r = await lab.exec(parent, ["keepalived", "-n", "-l", "-D", "-G", "-P", "-f", file], { timeoutMs: 20_000 });
    expect(r.stdout + r.stderr).toContain(`Unable to set network namespace ${missing} - exiting`);
    expect(r.code).toBe(0);
  });
});
