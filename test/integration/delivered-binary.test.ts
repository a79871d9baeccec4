// dist/lbctl as users get it: copied to another directory, with the checkout it was built from
// hidden (a tmpfs over it, in a private mount namespace), as on a machine that never had the
// sources. Two nodes: one master, crash failover, preemption back. And the fail-safe: a VRRP
// process whose receive path or sockets cannot work never takes a VIP; it exits naming the cause,
// is restarted with back-off, and the daemon gives up with a non-zero status for systemd to see.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crashProcessTree, createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { distBinary } from "../helpers/lbctl-bin.ts";

const repo = resolve(import.meta.dirname, "../..");
const lab = createLab("lbt-db-");
const scratch = mkdtempSync(join(tmpdir(), "lbctl-delivered-"));
const bin = join(scratch, "bin/lbctl");
const VIP = "10.81.0.100";

function config(name: string, priority: number): string {
  return `global_defs {
  router_id ${name}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 81
  priority ${priority}
  version 3
  advert_int 0.3
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
}
`;
}

/** A command run with the checkout hidden under a tmpfs (its own mount namespace). */
function hidden(cmd: string[]): string[] {
  const quoted = cmd.map((c) => `'${c.replaceAll("'", `'\\''`)}'`).join(" ");
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs lbctl-hidden '${repo}' && exec ${quoted}`];
}

async function holds(ns: string): Promise<boolean> {
  const links = await lab.ipJson<{ flags: string[]; addr_info: { local: string }[] }[]>(ns, ["addr", "show", "dev", "eth0"]);
  return links.some((l) => l.addr_info.some((a) => a.local === VIP));
}

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}

let node1 = "", node2 = "";
beforeAll(async () => {
  Bun.spawnSync(["mkdir", "-p", join(scratch, "bin")]);
  copyFileSync(distBinary(), bin);
  [node1, node2] = await lab.namespaces("node1", "node2");
  await lab.lan("lan", [
    { ns: node1!, ifname: "eth0", address: "10.81.0.1/24" },
    { ns: node2!, ifname: "eth0", address: "10.81.0.2/24" },
  ]);
  writeFileSync(join(scratch, "node1.conf"), config("node1", 150));
  writeFileSync(join(scratch, "node2.conf"), config("node2", 100));
}, 60_000);

afterAll(async () => {
  await lab.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const daemon = (ns: string, name: string, binary = bin) =>
  lab.spawnIn(ns, hidden([binary, "daemon", "-f", join(scratch, `${name}.conf`), "--socket", join(scratch, `${name}.sock`)]));
/** As /etc/sysconfig/lbctl can move the socket for the service and `systemctl reload` alike. */
const daemonOnEnvSocket = (ns: string, name: string) =>
  lab.spawnIn(ns, hidden([bin, "daemon", "-f", join(scratch, `${name}.conf`)]), { env: { LBCTL_SOCKET: join(scratch, `${name}.sock`) } });

describe("the binary away from its checkout", () => {
  it("cannot see the checkout, and says which revision it was built from", async () => {
    const r = await lab.exec(node1, hidden(["sh", "-c", `ls -A '${repo}' | wc -l; '${bin}' --version`]));
    expect(r.stderr).toBe("");
    const [entries, version] = r.stdout.trim().split("\n");
    expect(entries).toBe("0");
    expect(version).toMatch(/^lbctl \d+\.\d+\.\d+ \(revision [0-9a-f]{7,}(-dirty)?, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
  });

  it("runs a two-node cluster: one master, crash failover, preemption back", async () => {
    const p1 = daemon(node1, "node1");
    const p2 = daemonOnEnvSocket(node2, "node2");
    await until("node1 master", () => holds(node1));
    // No split brain: node2 hears node1 and stays backup over several master-down intervals.
    for (let i = 0; i < 20; i++) {
      expect(await holds(node2), `node2 holds ${VIP} beside node1 (${i})`).toBe(false);
      await Bun.sleep(100);
    }
    const status = await lab.exec(node2, hidden(["env", `LBCTL_SOCKET=${join(scratch, "node2.sock")}`, bin, "status", "--json"]));
    expect(status.code, status.stderr).toBe(0);
    const inst = (JSON.parse(status.stdout) as { vrrp: { instances: { name: string; state: string; masterAddress?: string }[] } }).vrrp.instances[0]!;
    expect([inst.state, inst.masterAddress]).toEqual(["BACKUP", "10.81.0.1"]);

    crashProcessTree(p1.pid);
    await lab.run(node1, ["ip", "link", "set", "eth0", "down"]);
    await until("failover to node2", () => holds(node2));

    await lab.run(node1, ["ip", "link", "set", "eth0", "up"]);
    const p1again = daemon(node1, "node1");
    await until("preemption back to node1", async () => (await holds(node1)) && !(await holds(node2)));

    for (const p of [p1again, p2]) {
      const out = p.output().stdout + p.output().stderr;
      expect(out).not.toMatch(/receive worker failed|ModuleNotFound/);
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
    expect(await holds(node1)).toBe(false);
  }, 60_000);
});

describe("fail safe: VRRP that cannot hear never takes a VIP", () => {
  /** Runs a daemon whose VRRP cannot work; checks it never holds the VIP until it exits. */
  async function neverMaster(p: SpawnedProcess, ns: string): Promise<{ code: number; out: string }> {
    let exited: number | null = null;
    void p.exited.then((c) => { exited = c; });
    const t0 = Date.now();
    while (exited === null) {
      expect(await holds(ns), "a deaf node took the VIP").toBe(false);
      if (Date.now() - t0 > 40_000) { p.kill("SIGKILL"); throw new Error(`still running after 40 s:\n${p.output().stdout}`); }
      await Bun.sleep(50);
    }
    return { code: exited, out: p.output().stdout + p.output().stderr };
  }

  it("without its receive worker (the relocation bug): exits naming the cause, restarted with back-off, then the daemon fails", async () => {
    // Built like the product but without the worker's entry point: the worker cannot be loaded.
    const broken = join(scratch, "bin/lbctl-no-rx-worker");
    const build = Bun.spawnSync([join(repo, "node_modules/.bin/bun"), "build", "--compile", "--outfile", broken, "src/cli/main.ts"], { cwd: repo, env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" } });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    // Alone on its LAN with priority 150: a node that believed it was working would be master in ~1 s.
    const { code, out } = await neverMaster(daemon(node1, "node1", broken), node1);
    expect(code).toBe(1);
    const fatal = out.match(/^<3>.*vrrp: cannot run: VRRP: receive worker failed: .*not embedded.*; exiting$/gm) ?? [];
    expect(fatal.length, out).toBe(5);
    expect(out).toMatch(/^<3>vrrp process \d+ exited \(code 70\); restarting in 200 ms$/m);
    expect(out).toMatch(/^<3>vrrp process \d+ exited \(code 70\); restarting in 1600 ms$/m);
    expect(out).toMatch(/^<2>vrrp process could not run 5 times in a row \(last: pid \d+, code 70\); giving up$/m);
    expect(out).toMatch(/^<2>vrrp cannot run: stopping, exit status 1$/m);
    expect(out).not.toMatch(/Entering MASTER|-> MASTER/);
  }, 60_000);

  it("without CAP_NET_RAW (no raw sockets): exits naming EPERM, and the daemon fails", async () => {
    const { code, out } = await neverMaster(lab.spawnIn(node2, ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", bin, "daemon", "-f", join(scratch, "node2.conf"), "--socket", join(scratch, "node2.sock")]), node2);
    expect(code).toBe(1);
    expect(out).toMatch(/vrrp: cannot run: VRRP: .*EPERM.*; exiting$/m);
    expect(out).toMatch(/giving up$/m);
  }, 60_000);
});
