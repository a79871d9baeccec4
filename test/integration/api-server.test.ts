// The control API over a real unix socket (Bun.serve) with a fake daemon behind it, the lbctl
// commands against it as separate processes, root-only access checked as `nobody`, and the
// metrics endpoint scraped over real HTTP on loopback.
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveControlApi, startControlPlane, type ControlServer } from "../../src/daemon/control-api.ts";
import { formatDrainFile } from "../../src/daemon/drain-store.ts";
import { serveMetrics } from "../../src/daemon/metrics.ts";
import { distBinary, lbctlCommand } from "../helpers/lbctl-bin.ts";
import { FakeSupervisor, sampleFacade, T0 } from "../unit/api-fixture.ts";
import { parseExposition, valueOf } from "../unit/metrics-parser.ts";

const ROOT = join(import.meta.dirname, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");

let tmp: string;
let socket: string;
let server: ControlServer;
const daemon = sampleFacade();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "lbt-ct-api-"));
  chmodSync(tmp, 0o755); // so that `nobody` gets as far as the socket's own directory
  socket = join(tmp, "run", "lbctl.sock");
  server = await serveControlApi({ socketPath: socket, facade: daemon.facade });
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Run { code: number; stdout: string; stderr: string }

async function lbctl(args: string[], o: { asNobody?: boolean; cmd?: string[] } = {}): Promise<Run> {
  const base = o.cmd ?? lbctlCommand();
  const cmd = o.asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", ...base, ...args] : [...base, ...args];
  const p = Bun.spawn({ cmd, stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", LBCTL_SOCKET: "" } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

function noStackTrace(r: Run): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("error: ");
}

describe("the socket", () => {
  it("is a 0600 socket in a 0700 directory it created, owned by root", () => {
    const st = lstatSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(0);
    expect(statSync(join(tmp, "run")).mode & 0o777).toBe(0o700);
  });
  it("refuses to take over a socket a live server listens on", async () => {
    await expect(serveControlApi({ socketPath: socket, facade: daemon.facade })).rejects.toThrow(/another lbctl daemon is listening/);
  });
  it("replaces a stale socket left by a killed daemon, and removes its socket when stopped", async () => {
    const path = join(tmp, "stale", "lbctl.sock");
    mkdirSync(join(tmp, "stale"));
    const child = Bun.spawn({ cmd: [BUN, "-e", `Bun.serve({ unix: ${JSON.stringify(path)}, fetch: () => new Response("") }); console.log("up"); setInterval(() => {}, 1000);`], stdout: "pipe" });
    try {
      const reader = child.stdout.getReader();
      await reader.read();
      reader.releaseLock();
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
    expect(lstatSync(path).isSocket()).toBe(true);
    const s = await serveControlApi({ socketPath: path, facade: daemon.facade });
    const r = await fetch("http://lbctl/v1/status", { unix: path });
    expect(r.status).toBe(200);
    await s.stop();
    expect(() => lstatSync(path)).toThrow();
  });
  it("does not replace a file that is not a socket", async () => {
    const path = join(tmp, "plain-file");
    await Bun.write(path, "x");
    await expect(serveControlApi({ socketPath: path, facade: daemon.facade })).rejects.toThrow(/not a socket/);
  });
});

describe("HTTP over the socket", () => {
  it("serves /v1/status as JSON", async () => {
    const r = await fetch("http://lbctl/v1/status", { unix: socket });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const s = await r.json() as { apiVersion: number; vrrp: { instances: { name: string }[] } };
    expect(s.apiVersion).toBe(1);
    expect(s.vrrp.instances.map((i) => i.name)).toEqual(["VI_1", "VI_6"]);
  });
  it("answers malformed requests with a JSON error and no effect", async () => {
    const before = daemon.sup.reloadCount;
    const bad = await fetch("http://lbctl/v1/reload", { unix: socket, method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: "bad_body", message: "the body must be empty or a JSON object" } });
    expect((await fetch("http://lbctl/nope", { unix: socket })).status).toBe(404);
    const m = await fetch("http://lbctl/v1/reload", { unix: socket });
    expect(m.status).toBe(405);
    expect(m.headers.get("allow")).toBe("POST");
    expect(daemon.sup.reloadCount).toBe(before);
  });
  it("streams server-sent events when asked for text/event-stream", async () => {
    const ac = new AbortController();
    const r = await fetch("http://lbctl/v1/events", { unix: socket, headers: { accept: "text/event-stream" }, signal: ac.signal });
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    expect(r.headers.get("lbctl-epoch")).toBe(String(daemon.facade.status().daemon.startedAt));
    const reader = r.body!.getReader();
    let text = "";
    daemon.facade.childEvent("check", { type: "rs-up", vsKey: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", reason: "sse" });
    while (!text.includes("(sse)")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text).toMatch(/id: \d+\nevent: real-server\ndata: \{.*"health":"up".*\}\n\n/);
  });
});

describe("lbctl commands against the daemon", () => {
  it("status prints the tables; --json the document", async () => {
    const r = await lbctl(["status", "--socket", socket]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VI_1 +MASTER +150 +150 +10\.0\.0\.1/m);
    expect(r.stdout).toMatch(/^ {2}10\.0\.0\.3:80 +down +1 .*connection refused$/m);
    const j = await lbctl(["status", "--json", "-s", socket]);
    expect(JSON.parse(j.stdout).virtualServers[0].key).toBe("TCP 10.0.0.100:80");
  });
  it("reload prints the diagnostics; exit 1 and the errors when rejected", async () => {
    daemon.sup.nextReload = { ok: true, errors: [], warnings: ["lbctl.toml:3:1: warning: something"] };
    const ok = await lbctl(["reload", "--socket", socket]);
    expect(ok).toMatchObject({ code: 0, stdout: "lbctl.toml:3:1: warning: something\nreloaded with 1 warning(s)\n" });
    daemon.sup.nextReload = { ok: false, errors: ["lbctl.toml:9:2: error: unknown keyword 'prioritty'"], warnings: [] };
    const bad = await lbctl(["reload", "--socket", socket]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("lbctl.toml:9:2: error: unknown keyword 'prioritty'\nreload rejected: 1 error(s); the daemon keeps running its previous configuration\n");
  });
  it("drain and undrain a real server; an unknown one is exit 1 with the reason", async () => {
    const d = await lbctl(["drain", "10.0.0.100:80", "10.0.0.3:80", "--socket", socket]);
    expect(d).toMatchObject({ code: 0, stdout: "TCP 10.0.0.100:80 real server 10.0.0.3:80 drained\n" });
    expect(daemon.drains.has("TCP 10.0.0.100:80", "10.0.0.3:80")).toBe(true);
    expect(daemon.sup.actions.at(-1)).toEqual({ role: "check", action: "drain", args: { vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80" } });
    const u = await lbctl(["undrain", "TCP 10.0.0.100:80", "10.0.0.3:80", "--socket", socket]);
    expect(u.code).toBe(0);
    expect(daemon.drains.has("TCP 10.0.0.100:80", "10.0.0.3:80")).toBe(false);
    const n = await lbctl(["drain", "10.0.0.100:80", "10.9.9.9:80", "--socket", socket]);
    expect(n).toMatchObject({ code: 1, stderr: "lbctl: virtual server TCP 10.0.0.100:80 has no real server '10.9.9.9:80'\n" });
    const usage = await lbctl(["drain", "10.0.0.100:80", "--socket", socket]);
    expect(usage.code).toBe(64);
  });
  it("events --no-follow prints the kept events; events follows live ones until interrupted", async () => {
    daemon.facade.childEvent("vrrp", { type: "transition", instance: "VI_6", from: "BACKUP", to: "FAULT", reason: "eth1 down" });
    const once = await lbctl(["events", "--no-follow", "--json", "--socket", socket]);
    expect(once.code).toBe(0);
    const events = once.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: "vrrp-transition", instance: "VI_6", to: "FAULT" });

    const p = Bun.spawn({ cmd: [...lbctlCommand(), "events", "--since", String(daemon.events.lastSeq), "--socket", socket], stdout: "pipe", stderr: "pipe" });
    try {
      // Publish until the follower shows it: it may not be connected yet when the first one goes out.
      const reader = p.stdout.getReader();
      let text = "";
      const ticker = setInterval(() => daemon.facade.childEvent("check", { type: "rs-down", vsKey: "TCP 10.0.0.100:80", rs: "10.0.0.2:80", reason: "live" }), 100);
      try {
        while (!text.includes("real server 10.0.0.2:80 down (live)")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally { clearInterval(ticker); reader.releaseLock(); }
      expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}real-server {6}TCP 10\.0\.0\.100:80 real server 10\.0\.0\.2:80 down \(live\)$/m);
      expect(text).not.toContain("VI_6");
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stderr).text()).toBe("");
    } finally { p.kill("SIGKILL"); }
  });
  it("events says so and exits 69 when the daemon goes away", async () => {
    const path = join(tmp, "going", "lbctl.sock");
    const s = await serveControlApi({ socketPath: path, facade: daemon.facade });
    const p = Bun.spawn({ cmd: [...lbctlCommand(), "events", "--socket", path], stdout: "pipe", stderr: "pipe" });
    try {
      // Stop the server once the follower is connected (it is then a subscriber of the event log).
      const subscribers = daemon.events.subscriberCount;
      const end = Date.now() + 10_000;
      while (daemon.events.subscriberCount === subscribers && Date.now() < end) await Bun.sleep(20);
      await s.stop();
      expect(await p.exited).toBe(69);
      expect(await new Response(p.stderr).text()).toBe("lbctl: the daemon closed the event stream (it stopped or restarted)\n");
    } finally { p.kill("SIGKILL"); await s.stop(); }
  });
  it("says the daemon is not running when there is no socket, with exit 69", async () => {
    const r = await lbctl(["status", "--socket", join(tmp, "none.sock")]);
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`lbctl: lbctl daemon is not running (no socket at ${join(tmp, "none.sock")})\n`);
    noStackTrace(r);
  });
  it("top refuses to run without a terminal", async () => {
    const r = await lbctl(["top", "--socket", socket]);
    expect(r).toMatchObject({ code: 1, stderr: "lbctl: top needs a terminal; use lbctl status or lbctl events in scripts\n" });
  });
});

describe("root only", () => {
  let bin: string;
  beforeAll(async () => {
    // A compiled lbctl in a directory `nobody` can read, whatever the checkout's permissions are.
    bin = join(tmp, "bin", "lbctl");
    mkdirSync(dirname(bin), { recursive: true });
    copyFileSync(distBinary(), bin);
    chmodSync(join(tmp, "bin"), 0o755);
  });

  it.each(["status", "reload", "events"])("`lbctl %s` as nobody is permission denied (socket directory 0700), with exit 77", async (cmd) => {
    const before = daemon.sup.reloadCount;
    const r = await lbctl([cmd, "--socket", socket], { asNobody: true, cmd: [bin] });
    expect(r.stderr).toBe(`lbctl: permission denied: the control socket is root only (${socket})\n`);
    expect(r.code).toBe(77);
    expect(daemon.sup.reloadCount).toBe(before);
  });
  it("the socket's own mode keeps nobody out even in an open directory", async () => {
    const open = join(tmp, "open");
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    const path = join(open, "lbctl.sock");
    const s = await serveControlApi({ socketPath: path, facade: daemon.facade });
    try {
      expect(statSync(open).mode & 0o777).toBe(0o755); // an existing directory is left as it is
      const r = await lbctl(["drain", "10.0.0.100:80", "10.0.0.2:80", "--socket", path], { asNobody: true, cmd: [bin] });
      expect(r.code).toBe(77);
      expect(r.stderr).toContain("permission denied: the control socket is root only");
      expect(daemon.drains.has("TCP 10.0.0.100:80", "10.0.0.2:80")).toBe(false);
      // and root, through the same compiled binary, gets in
      expect((await lbctl(["status", "--json", "--socket", path], { cmd: [bin] })).code).toBe(0);
    } finally { await s.stop(); }
  });
});

describe("metrics over HTTP", () => {
  it("GET /metrics on loopback parses strictly and matches the status", async () => {
    daemon.sup.lastReload = { at: T0, ok: true, message: "reloaded" };
    const m = serveMetrics({ hostname: "127.0.0.1", port: 0, status: () => daemon.facade.freshStatus() });
    try {
      const r = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const fams = parseExposition(await r.text());
      expect(valueOf(fams, "lbctl_vrrp_state", { instance: "VI_1", state: "MASTER" })).toBe(1);
      expect(valueOf(fams, "lbctl_last_reload_success")).toBe(1);
      expect(valueOf(fams, "lbctl_reloads_total")).toBe(daemon.sup.reloadCount);
      expect((await fetch(`http://127.0.0.1:${m.port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${m.port}/metrics`, { method: "POST" })).status).toBe(405);
    } finally { await m.stop(); }
  });
});

describe("startControlPlane", () => {
  it("serves the API and metrics with the kept drains, and takes both down on stop", async () => {
    const dir = join(tmp, "plane");
    mkdirSync(dir);
    const drainFile = join(dir, "drains.json");
    await Bun.write(drainFile, formatDrainFile([{ vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", at: 1 }]));
    const logged: string[] = [];
    const plane = await startControlPlane({
      supervisor: new FakeSupervisor(), configPath: "/etc/lbctl/lbctl.toml", configReason: "given with -f", version: "9.9.9",
      socketPath: join(dir, "lbctl.sock"), drainFile, metrics: { hostname: "127.0.0.1", port: 0 },
      log: { warning: (m) => logged.push(`warning: ${m}`), notice: (m) => logged.push(`notice: ${m}`) },
    });
    try {
      const s = await (await fetch("http://lbctl/v1/status", { unix: plane.socketPath })).json() as { daemon: { version: string }; virtualServers: { realServers: { key: string; drained: boolean }[] }[] };
      expect(s.daemon.version).toBe("9.9.9");
      expect(s.virtualServers[0].realServers.map((r) => [r.key, r.drained])).toEqual([["10.0.0.2:80", false], ["10.0.0.3:80", true]]);
      const fams = parseExposition(await (await fetch(`http://127.0.0.1:${plane.metricsPort}/metrics`)).text());
      expect(valueOf(fams, "lbctl_real_server_drained", { vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80" })).toBe(1);
      expect(logged).toEqual([`notice: control API on ${plane.socketPath}, metrics on 127.0.0.1:${plane.metricsPort}`]);
    } finally { await plane.stop(); }
    expect(() => lstatSync(plane.socketPath)).toThrow();
    await expect(fetch(`http://127.0.0.1:${plane.metricsPort}/metrics`)).rejects.toThrow();
  });
  it("warns about an unreadable drain file and still starts; a taken metrics port fails cleanly", async () => {
    const dir = join(tmp, "plane2");
    mkdirSync(dir);
    await Bun.write(join(dir, "drains.json"), "garbage");
    const logged: string[] = [];
    const log = { warning: (m: string) => logged.push(`warning: ${m}`), notice: () => {} };
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const o = { supervisor: new FakeSupervisor(), configPath: "c", configReason: "given with -f", version: "v", socketPath: join(dir, "lbctl.sock"), drainFile: join(dir, "drains.json"), log };
      await expect(startControlPlane({ ...o, metrics: { hostname: "127.0.0.1", port: blocker.port! } })).rejects.toThrow(/cannot serve metrics on 127\.0\.0\.1:\d+/);
      expect(() => lstatSync(join(dir, "lbctl.sock"))).toThrow();
      expect(logged[0]).toMatch(/^warning: ignoring the kept drains: .*drains\.json: not JSON/);
      const plane = await startControlPlane({ ...o, metrics: null });
      expect(plane.metricsPort).toBeNull();
      await plane.stop();
    } finally { await blocker.stop(true); }
  });
});
