// `lbctl daemon` as systemd and an operator drive it: READY over NOTIFY_SOCKET, SIGHUP reloads
// (a bad file keeps the running config), a killed VRRP child comes back, SIGTERM releases
// everything within a second. One node on its own LAN, all inside test namespaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SOCK_DGRAM, bind, close, recvfrom, setNonBlocking, socket } from "../../ffi/libc.ts";
import { sockaddrUn } from "../../src/daemon/sd-notify.ts";
import { inNetns } from "../../src/net/netns.ts";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const lab = createLab("lbt-dm-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-daemon-test-"));
const conf = join(dir, "keepalived.conf");
const apiSocket = join(dir, "lbctl.sock");
let ns = "";
let daemon: SpawnedProcess;
let notifyFd = -1;

// lbctl's own global keyword; every config of this file keeps it (it is read at start-up).
const METRICS = "global_defs {\n  metrics_listen 127.0.0.1:9650\n}\n";

function instance(name: string, vrid: number, vip: string): string {
  return `vrrp_instance ${name} {
  state MASTER
  interface eth0
  virtual_router_id ${vrid}
  priority 255
  advert_int 0.2
  version 3
  virtual_ipaddress {
    ${vip}/24 dev eth0
  }
}
`;
}

/** The VIPs (x.y.0.1NN) on eth0 of `node` (the first daemon's namespace unless told). */
async function vips(node = ns, net = "10.60"): Promise<string[]> {
  const links = await lab.ipJson<{ addr_info: { local: string; family: string }[] }[]>(node, ["addr", "show", "dev", "eth0"]);
  const vip = new RegExp(`^${net.replaceAll(".", "\\.")}\\.0\\.1\\d\\d$`);
  return links.flatMap((l) => l.addr_info.filter((a) => a.family === "inet" && vip.test(a.local)).map((a) => a.local)).sort();
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  let v = await f();
  while (!ok(v)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await Bun.sleep(25);
    v = await f();
  }
  return v;
}

function notifications(): string[] {
  const out: string[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const r = recvfrom(notifyFd, buf);
    if (!r) return out;
    out.push(new TextDecoder().decode(buf.subarray(0, r.length)));
  }
}

function childPids(pid: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-P", String(pid)]);
  return r.stdout.toString().trim().split("\n").filter(Boolean).map(Number);
}

beforeAll(async () => {
  [ns] = await lab.namespaces("node");
  const [peer] = await lab.namespaces("peer");
  await lab.veth(ns!, "eth0", peer!, "eth0");
  await lab.addr(ns!, "eth0", "10.60.0.1/24");
  writeFileSync(conf, METRICS + instance("VI_A", 61, "10.60.0.100"));
  const notifyPath = join(dir, "notify.sock");
  // The listener lives in the daemon's namespace only because paths are namespace-independent.
  notifyFd = inNetns(ns!, () => socket(1, SOCK_DGRAM, 0));
  bind(notifyFd, sockaddrUn(notifyPath));
  setNonBlocking(notifyFd);
  daemon = lab.spawnIn(ns!, [...lbctlCommand(), "daemon", "-f", conf, "--socket", apiSocket], { env: { NOTIFY_SOCKET: notifyPath } });
}, 60_000);

afterAll(async () => {
  await lab.cleanup();
  if (notifyFd >= 0) close(notifyFd);
  rmSync(dir, { recursive: true, force: true });
});

describe("lbctl daemon", () => {
  it("becomes master, holds the VIP and tells systemd it is ready", async () => {
    await until("VIP", vips, (v) => v.includes("10.60.0.100"));
    const msgs = await until("READY", async () => notifications(), (m) => m.some((x) => x.startsWith("READY=1")));
    expect(msgs.find((x) => x.startsWith("READY=1"))).toBe("READY=1\nSTATUS=running");
  });

  it("answers `lbctl status` on its control socket with the instance's state", async () => {
    const p = Bun.spawn([...lbctlCommand(), "status", "--json", "--socket", apiSocket], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const status = JSON.parse(out) as { vrrp: { instances: { name: string; state: string; effectivePriority: number }[] } };
    expect(status.vrrp.instances.map((i) => [i.name, i.state, i.effectivePriority])).toEqual([["VI_A", "MASTER", 255]]);
  });

  it("serves Prometheus metrics where the configuration's metrics_listen says", async () => {
    const r = await lab.exec(ns, ["curl", "-sf", "http://127.0.0.1:9650/metrics"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lbctl_vrrp_state\{[^}]*instance="VI_A"[^}]*state="MASTER"[^}]*\} 1$/m);
  });

  it("keeps the running configuration when a reload finds errors", async () => {
    writeFileSync(conf, METRICS + instance("VI_A", 61, "10.60.0.100") + "vrrp_instance VI_B {\n  virtual_router_id 999\n}\n");
    daemon.kill("SIGHUP");
    await until("rejection logged", async () => daemon.output().stdout, (s) => s.includes("reload rejected"));
    expect(daemon.output().stdout).toMatch(/'virtual_router_id' 999 is out of range 1\.\.255/);
    expect(await vips()).toEqual(["10.60.0.100"]);
  });

  it("applies a good reload as a diff: the unchanged instance keeps its VIP throughout", async () => {
    writeFileSync(conf, METRICS + instance("VI_A", 61, "10.60.0.100") + instance("VI_B", 62, "10.60.0.101"));
    let lost = false;
    let polling = true;
    const watcher = (async () => { while (polling) { if (!(await vips()).includes("10.60.0.100")) lost = true; await Bun.sleep(10); } })();
    daemon.kill("SIGHUP");
    await until("second VIP", vips, (v) => v.includes("10.60.0.101"));
    polling = false;
    await watcher;
    expect(lost).toBe(false);
    expect(await vips()).toEqual(["10.60.0.100", "10.60.0.101"]);
  });

  it("restarts a VRRP child that was killed, and the VIPs come back", async () => {
    const [child] = childPids(daemon.pid);
    expect(child).toBeGreaterThan(0);
    process.kill(child!, "SIGKILL");
    await until("child restarted", async () => childPids(daemon.pid), (p) => p.length === 1 && p[0] !== child);
    expect(daemon.output().stdout).toMatch(new RegExp(`vrrp process ${child} exited`));
    await until("VIPs back", vips, (v) => v.length === 2);
  });

  it("stops within a second on SIGTERM and leaves no address behind", async () => {
    const t0 = performance.now();
    daemon.kill("SIGTERM");
    const code = await daemon.exited;
    const ms = performance.now() - t0;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(await vips()).toEqual([]);
    expect(notifications()).toContain("STOPPING=1");
  });
});

// The supervisor hands each child its configuration as a private file (child.ts putConfigFile); when no
// file can be written (a full or read-only /tmp), the configuration goes over IPC instead.
describe("lbctl daemon without a writable temporary directory", () => {
  let ns2 = "";
  let daemon2: SpawnedProcess;
  const notADirectory = join(dir, "not-a-directory");

  beforeAll(async () => {
    [ns2] = await lab.namespaces("node2");
    const [peer] = await lab.namespaces("peer2");
    await lab.veth(ns2!, "eth0", peer!, "eth0");
    await lab.addr(ns2!, "eth0", "10.61.0.1/24");
    writeFileSync(notADirectory, "");
    const conf2 = join(dir, "fallback.conf");
    writeFileSync(conf2, instance("VI_F", 71, "10.61.0.100"));
    daemon2 = lab.spawnIn(ns2!, [...lbctlCommand(), "daemon", "-f", conf2, "--socket", join(dir, "fallback.sock")], { env: { TMPDIR: notADirectory } });
  }, 60_000);

  it("sends the configuration over IPC, says so, and runs it", async () => {
    await until("VIP", () => vips(ns2, "10.61"), (v) => v.includes("10.61.0.100"));
    expect(daemon2.output().stdout).toMatch(/cannot write the vrrp process's configuration file .*; sending it over IPC/);
    daemon2.kill("SIGTERM");
    expect(await daemon2.exited).toBe(0);
    expect(await vips(ns2, "10.61")).toEqual([]);
  });
});
