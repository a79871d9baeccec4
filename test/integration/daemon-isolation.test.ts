// Fault isolation: the checker child crashing (SIGKILL) or hanging (SIGSTOP) must not disturb
// VRRP — no transition, adverts on time on the wire — and the supervisor brings it back.
// (This host kernel has no IPVS: the checker child reports that and keeps running its checks,
// which is all this test needs from it.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const lab = createLab("lbt-is-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-isolation-"));
const sock = join(dir, "lbctl.sock");
let ns = "", nsLan = "";
let daemon: SpawnedProcess, capture: SpawnedProcess;

const CONF = `vrrp_instance VI {
  state MASTER
  interface eth0
  virtual_router_id 71
  priority 255
  advert_int 0.1
  version 3
  virtual_ipaddress {
    10.62.0.100/24 dev eth0
  }
}
virtual_server 10.62.0.100 80 {
  delay_loop 1
  lvs_sched rr
  protocol TCP
  real_server 10.62.0.1 8080 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

interface Status { children: { role: string; pid: number | null; ready: boolean }[]; vrrp: { instances: { state: string; lastTransition: unknown }[] } }

async function status(): Promise<Status> {
  const p = Bun.spawn([...lbctlCommand(), "status", "--json", "--socket", sock], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  if (code !== 0) throw new Error(`lbctl status exited ${code}`);
  return JSON.parse(out) as Status;
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not reached in ${timeoutMs} ms (last ${JSON.stringify(v)})`);
    await Bun.sleep(100);
  }
}

const checkPid = (s: Status) => s.children.find((c) => c.role === "check" && c.ready)?.pid ?? null;

/** Advert arrival times (ms) of VRID 71 from the capture so far. */
function advertTimes(): number[] {
  return capture.output().stdout.split("\n")
    .map((l) => /^(\d+\.\d+) IP 10\.62\.0\.1 > 224\.0\.0\.18: VRRPv3, Advertisement, vrid 71,/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]) * 1000);
}

function worstGap(from: number, to: number): number {
  const t = advertTimes().filter((x) => x >= from && x <= to);
  let worst = 0;
  for (let i = 1; i < t.length; i++) worst = Math.max(worst, t[i]! - t[i - 1]!);
  return worst;
}

beforeAll(async () => {
  [ns] = await lab.namespaces("node");
  const [peer] = await lab.namespaces("peer");
  nsLan = await lab.lan("lan", [{ ns: ns!, ifname: "eth0", address: "10.62.0.1/24" }, { ns: peer!, ifname: "eth0", address: "10.62.0.2/24" }]);
  writeFileSync(join(dir, "lb.conf"), CONF);
  capture = lab.spawnIn(nsLan, ["tcpdump", "-i", "br0", "-n", "-l", "-tt", "ip proto 112"]);
  daemon = lab.spawnIn(ns!, [...lbctlCommand(), "daemon", "-f", join(dir, "lb.conf"), "--socket", sock, "--heartbeat-timeout", "2"]);
  await until("both children ready and VRRP master", status, (s) => checkPid(s) !== null && s.vrrp.instances[0]?.state === "MASTER");
}, 60_000);

afterAll(async () => {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("fault isolation between the checker and VRRP", () => {
  it("a crashed checker child is restarted; VRRP does not notice", async () => {
    const before = await status();
    const pid = checkPid(before)!;
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    const after = await until("checker restarted", status, (s) => checkPid(s) !== null && checkPid(s) !== pid);
    expect(after.vrrp.instances[0]!.state).toBe("MASTER");
    expect(after.vrrp.instances[0]!.lastTransition).toEqual(before.vrrp.instances[0]!.lastTransition);
    expect(daemon.output().stdout).toMatch(new RegExp(`check process ${pid} exited`));
    await Bun.sleep(300);
    // 0.1 s adverts: a gap of 3 intervals would let a backup take over.
    expect(worstGap(t0, Date.now())).toBeLessThan(250);
  });

  it("a hung checker child is killed after the heartbeat timeout and restarted; VRRP does not notice", async () => {
    const before = await status();
    const pid = checkPid(before)!;
    const t0 = Date.now();
    process.kill(pid, "SIGSTOP");
    const after = await until("hung checker replaced", status, (s) => checkPid(s) !== null && checkPid(s) !== pid);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(daemon.output().stdout).toMatch(new RegExp(`check process ${pid} sent no heartbeat`));
    expect(after.vrrp.instances[0]!.state).toBe("MASTER");
    expect(after.vrrp.instances[0]!.lastTransition).toEqual(before.vrrp.instances[0]!.lastTransition);
    await Bun.sleep(300);
    expect(worstGap(t0, Date.now())).toBeLessThan(250);
  });

  it("a stopped supervisor (5 s, past the 2 s heartbeat timeout) does not kill its healthy children when it resumes", async () => {
    // A VM or cgroup freeze, or a stalled disk, stops the supervisor alone; before, it woke up to find
    // no heartbeat for 5 s and killed both children (the VIP went with the VRRP child). keepalived's
    // parent does not do that either.
    const before = await status();
    const pids = before.children.map((c) => c.pid);
    const t0 = Date.now();
    process.kill(daemon.pid, "SIGSTOP");
    await Bun.sleep(5000);
    process.kill(daemon.pid, "SIGCONT");
    await Bun.sleep(2500); // past another heartbeat timeout, now running
    const after = await status();
    expect(after.children.map((c) => c.pid)).toEqual(pids);
    expect(after.vrrp.instances[0]!.lastTransition).toEqual(before.vrrp.instances[0]!.lastTransition);
    expect(daemon.output().stdout).toMatch(/the supervisor did not run for \d+ ms/);
    expect(daemon.output().stdout).not.toMatch(/sent no heartbeat for [3-9]\d{3} ms/);
    expect(worstGap(t0, Date.now())).toBeLessThan(250);
  }, 20_000);
});
