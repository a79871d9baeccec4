// The checker child under `lbctl daemon -C` on this host, whose kernel has no IPVS: the child says so
// once and keeps checking; status (through the control API) shows health, reasons and checker
// history; a failing real server runs notify_down; drain and disable-checker act on the child.
// Real servers are HTTP/TCP listeners on 127.0.0.1 inside the test namespace.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IPVS_MISSING } from "../../src/daemon/role-check.ts";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const lab = createLab("lbt-cr-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-check-role-"));
const conf = join(dir, "keepalived.conf");
const apiSocket = join(dir, "lbctl.sock");
const notifyFile = join(dir, "notify.log");
const bun = join(import.meta.dirname, "../../node_modules/.bin/bun");
let ns = "";
let daemon: SpawnedProcess;
const servers = new Map<number, SpawnedProcess>();

const VS = "TCP 10.9.0.1:80";
const RS_HTTP = "127.0.0.1:18081", RS_TCP = "127.0.0.1:18082";

function serve(port: number): void {
  servers.set(port, lab.spawnIn(ns, [bun, "-e", `Bun.serve({ hostname: "127.0.0.1", port: ${port}, fetch: () => new Response("ok") })`]));
}

interface Rs { key: string; health: string; reason: string | null; drained: boolean; checkers: { id: string; enabled: boolean; up: boolean | null; successes: number; failures: number; lastResult: { ok: boolean } | null }[] }
interface Status { children: { role: string; ready: boolean; restarts: number }[]; virtualServers: { key: string; quorumUp: boolean | null; realServers: Rs[] }[] }

async function api<T>(method: string, path: string): Promise<T> {
  const r = await fetch(`http://lbctl${path}`, { method, unix: apiSocket } as RequestInit);
  return (await r.json()) as T;
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  let v: T | undefined;
  let err: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try { v = await f(); if (ok(v)) return v; } catch (e) { err = e; }
    await Bun.sleep(50);
  }
  throw new Error(`${what}: still ${JSON.stringify(v) ?? String(err)} after ${timeoutMs} ms`);
}

const rsOf = (s: Status, key: string): Rs | undefined => s.virtualServers.find((v) => v.key === VS)?.realServers.find((r) => r.key === key);

beforeAll(async () => {
  [ns] = await lab.namespaces("d");
  serve(18081);
  serve(18082);
  writeFileSync(conf, `global_defs {
  enable_script_security
}
virtual_server 10.9.0.1 80 {
  protocol TCP
  lvs_method NAT
  delay_loop 0.3
  connect_timeout 0.5
  retry 1
  delay_before_retry 0.1
  warmup 0
  real_server 127.0.0.1 18081 {
    notify_down "/bin/sh -c 'echo down >> ${notifyFile}'"
    notify_up "/bin/sh -c 'echo up >> ${notifyFile}'"
    HTTP_GET {
      url {
        path /
      }
    }
  }
  real_server 127.0.0.1 18082 {
    TCP_CHECK {
    }
  }
}
`);
  daemon = lab.spawnIn(ns, [...lbctlCommand(), "daemon", "-C", "-f", conf, "--socket", apiSocket]);
}, 60_000);

afterAll(async () => {
  daemon?.kill("SIGTERM");
  await Promise.race([daemon?.exited, Bun.sleep(5000)]);
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("checker child without IPVS in the kernel", () => {
  it("reports healthy real servers with their checkers' history", async () => {
    const s = await until("both real servers up and checked", () => api<Status>("GET", "/v1/status"),
      (s) => [RS_HTTP, RS_TCP].every((k) => rsOf(s, k)?.health === "up" && (rsOf(s, k)?.checkers[0]?.successes ?? 0) > 0));
    expect(s.virtualServers.map((v) => v.key)).toEqual([VS]);
    expect(s.virtualServers[0]!.quorumUp).toBe(true);
    expect(rsOf(s, RS_HTTP)!.checkers.map((c) => c.id)).toEqual(["HTTP_GET#0"]);
    expect(rsOf(s, RS_TCP)!.checkers[0]!.lastResult?.ok).toBe(true);
  });

  it("counts the steady checks the native engine runs without reporting them, with their latency and time", async () => {
    type Checker = Rs["checkers"][number] & { latency: { count: number }; lastResult: { ok: boolean; at: number; reason: string } };
    const checkerOf = (s: Status, k: string) => rsOf(s, k)!.checkers[0]! as Checker;
    const before = await api<Status>("GET", "/v1/status");
    const after = await until("two more checks of each counted", () => api<Status>("GET", "/v1/status"),
      (s) => [RS_HTTP, RS_TCP].every((k) => checkerOf(s, k).successes >= checkerOf(before, k).successes + 2));
    for (const k of [RS_HTTP, RS_TCP]) {
      const c = checkerOf(after, k);
      expect(c.latency.count).toBe(c.successes + c.failures);
      expect(c.lastResult.at).toBeGreaterThan(checkerOf(before, k).lastResult.at); // steady successes move it
      expect(c.lastResult.reason).toBe(k === RS_TCP ? `connected to ${RS_TCP}` : "GET /: HTTP 200");
    }
    const out = daemon.output();
    expect(out.stdout + out.stderr).not.toContain("native check engine unavailable");
  });

  it("says once that IPVS is missing and keeps the child running, and status says so too", async () => {
    const out = daemon.output();
    const text = out.stdout + out.stderr;
    expect(text.split(IPVS_MISSING).length - 1).toBe(1);
    const s = await api<{ ipvs: { available: boolean; error: string | null } | null }>("GET", "/v1/status");
    expect(s.ipvs?.available).toBe(false);
    expect(s.ipvs?.error).toContain(IPVS_MISSING);
  });

  it("takes a real server down with the checker's reason and runs notify_down", async () => {
    servers.get(18081)!.kill("SIGKILL");
    await servers.get(18081)!.exited;
    const s = await until("18081 down", () => api<Status>("GET", "/v1/status"), (s) => rsOf(s, RS_HTTP)?.health === "down");
    expect(rsOf(s, RS_HTTP)!.reason).toMatch(/ECONNREFUSED/);
    expect(rsOf(s, RS_HTTP)!.checkers[0]!.failures).toBeGreaterThan(0);
    await until("notify_down ran", async () => (existsSync(notifyFile) ? readFileSync(notifyFile, "utf8") : ""), (t) => t.includes("down"));
  });

  it("disabling the failing checker brings the real server back; enabling it takes it down again", async () => {
    const path = `/v1/virtual-servers/${encodeURIComponent(VS)}/real-servers/${encodeURIComponent(RS_HTTP)}/checkers/${encodeURIComponent("HTTP_GET#0")}`;
    expect(await api<{ ok: boolean }>("POST", `${path}/disable`)).toMatchObject({ ok: true });
    let s = await until("18081 up with its checker disabled", () => api<Status>("GET", "/v1/status"), (s) => rsOf(s, RS_HTTP)?.health === "up");
    expect(rsOf(s, RS_HTTP)!.checkers[0]!.enabled).toBe(false);
    expect(await api<{ ok: boolean }>("POST", `${path}/enable`)).toMatchObject({ ok: true });
    s = await until("18081 down again", () => api<Status>("GET", "/v1/status"), (s) => rsOf(s, RS_HTTP)?.health === "down");
    expect(rsOf(s, RS_HTTP)!.checkers[0]!.enabled).toBe(true);
  });

  it("drains and undrains a real server", async () => {
    const path = `/v1/virtual-servers/${encodeURIComponent(VS)}/real-servers/${encodeURIComponent(RS_TCP)}`;
    const shared = "/run/lbctl/drains.json";
    const sharedBefore = existsSync(shared) ? readFileSync(shared, "utf8") : null;
    expect(await api<{ ok: boolean }>("POST", `${path}/drain`)).toMatchObject({ ok: true });
    await until("drained", () => api<Status>("GET", "/v1/status"), (s) => rsOf(s, RS_TCP)?.drained === true);
    // Kept beside this daemon's own socket, not in the host-wide file every other daemon reads.
    expect(readFileSync(join(dir, "lbctl.drains.json"), "utf8")).toContain(RS_TCP);
    expect(existsSync(shared) ? readFileSync(shared, "utf8") : null).toBe(sharedBefore);
    expect(await api<{ ok: boolean }>("POST", `${path}/undrain`)).toMatchObject({ ok: true });
    const s = await until("undrained", () => api<Status>("GET", "/v1/status"), (s) => rsOf(s, RS_TCP)?.drained === false);
    expect(s.children.find((c) => c.role === "check")).toMatchObject({ ready: true, restarts: 0 });
  });
});
