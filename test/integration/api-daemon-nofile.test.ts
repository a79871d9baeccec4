// `lbctl daemon` with 1,024 open files and no way up (hard limit 1024 too: `ulimit -n 1024` in a
// shell sets both) and 1,500 idle API clients: `lbctl status` still gets its answer, because the
// longest-idle clients are closed to make room (issue 13; with Bun.serve it timed out). Its children
// get the daemon's limit. The daemon runs in a test namespace; the clients reach it by its socket's path.
// (The same with the server alone, which fails on the Bun.serve one: api-server.test.ts, "out of files".)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getrlimit, RLIMIT_NOFILE, setrlimit } from "../../ffi/libc.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";

const lab = createLab("lbt-nf-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-nofile-test-"));
const conf = join(dir, "keepalived.conf");
const apiSocket = join(dir, "lbctl.sock");
let daemon: SpawnedProcess;
const clients: Socket[] = [];

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([...lbctlCommand(), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/**
 * A connected idle client. A connect refused because the listen backlog is full (the daemon's
 * loop was busy for a moment, on a loaded machine) is retried, as a person would run it again.
 */
async function openClient(): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const c = connect(apiSocket);
        c.on("connect", () => resolve(c));
        c.on("data", () => {});
        c.on("end", () => {});
        c.on("error", reject);
      });
    } catch (e) {
      if (attempt >= 50 || !/ECONNREFUSED|EAGAIN/.test(String(e))) throw e;
      await Bun.sleep(20);
    }
  }
}

function softNoFile(pid: number): number {
  const limits = Bun.spawnSync(["cat", `/proc/${pid}/limits`]).stdout.toString();
  const m = /^Max open files +(\d+) +(\d+)/m.exec(limits);
  if (!m) throw new Error(`no open-file limit for pid ${pid}:\n${limits}`);
  return Number(m[1]);
}

beforeAll(async () => {
  const [ns, peer] = await lab.namespaces("node", "peer");
  await lab.veth(ns!, "eth0", peer!, "eth0");
  await lab.addr(ns!, "eth0", "10.71.0.1/24");
  writeFileSync(conf, `vrrp_instance VI_N {
  state MASTER
  interface eth0
  virtual_router_id 71
  priority 200
  advert_int 1
  virtual_ipaddress {
    10.71.0.100/24 dev eth0
  }
}
`);
  daemon = lab.spawnIn(ns!, ["prlimit", "--nofile=1024:1024", ...lbctlCommand(), "daemon", "-f", conf, "--socket", apiSocket]);
  const end = Date.now() + 20_000;
  while ((await run(["status", "--json", "--socket", apiSocket])).code !== 0) {
    if (Date.now() > end) throw new Error(`the daemon did not answer:\n${daemon.output().stdout}\n${daemon.output().stderr}`);
    await Bun.sleep(50);
  }
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("lbctl daemon and the open-file limit", () => {
  it("its children run with the daemon's limit", () => {
    expect(softNoFile(daemon.pid)).toBe(1024);
    const children = Bun.spawnSync(["pgrep", "-P", String(daemon.pid)]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    expect(children.length).toBeGreaterThanOrEqual(1);
    for (const pid of children) expect(softNoFile(pid)).toBe(1024);
  });

  it("answers `lbctl status` with 1,500 idle clients connected", async () => {
    // This process holds the 1,500 clients: it needs the files too.
    const own = getrlimit(RLIMIT_NOFILE);
    if (own.soft < 4096n) { const n = own.hard < 4096n ? 4096n : own.hard; setrlimit(RLIMIT_NOFILE, n, n); }
    for (let i = 0; i < 1500; i++) clients.push(await openClient());
    const r = await run(["status", "--json", "--socket", apiSocket]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).vrrp.instances.map((i: { name: string }) => i.name)).toEqual(["VI_N"]);
    // With 1,024 files the daemon cannot hold them all: the oldest idle ones were closed to make room.
    const end = Date.now() + 10_000;
    while (clients.filter((c) => c.closed || c.readableEnded).length < 1500 - 1024 && Date.now() < end) await Bun.sleep(20);
    expect(clients.filter((c) => c.closed || c.readableEnded).length).toBeGreaterThanOrEqual(1500 - 1024);
    expect(clients.slice(-50).some((c) => c.closed || c.readableEnded)).toBe(false);
  });
});
