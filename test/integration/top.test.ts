// `lbctl top` in a real terminal (tmux), against a fake daemon on a temp unix socket: under
// `bun run` and as a compiled binary built here. Reads the screen with capture-pane.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveControlApi, type ControlServer } from "../../src/daemon/control-api.ts";
import { sampleFacade } from "../unit/api-fixture.ts";
import { distBinary } from "../helpers/lbctl-bin.ts";

const ROOT = join(import.meta.dirname, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const TMUX_SERVER = `lbt-ct-${process.pid}`;

let tmp: string;
let socket: string;
let server: ControlServer | null = null;
let daemon = sampleFacade();
let compiled: string;

async function tmux(...args: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn({ cmd: ["tmux", "-L", TMUX_SERVER, ...args], stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, out };
}

async function screen(session: string): Promise<string> {
  return (await tmux("capture-pane", "-p", "-t", session)).out;
}

/** Polls the screen until `test` holds; fails with the last screen after `ms`. */
async function waitForScreen(session: string, test: (s: string) => boolean, what: string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let s = "";
  while (Date.now() < end) {
    s = await screen(session);
    if (test(s)) return s;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; screen was:\n${s}`);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "lbt-ct-top-"));
  socket = join(tmp, "run", "lbctl.sock");
  server = await serveControlApi({ socketPath: socket, facade: daemon.facade });
  compiled = join(tmp, "lbctl");
  copyFileSync(distBinary(), compiled);
  chmodSync(compiled, 0o755);
});

afterAll(async () => {
  await tmux("kill-server");
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const variants: [string, () => string[]][] = [
  ["bun run", () => [BUN, join(ROOT, "src/cli/main.ts")]],
  ["the compiled binary", () => [compiled]],
];

describe.each(variants)("lbctl top under %s", (name, command) => {
  it("shows every instance and server, follows events, survives the daemon restarting, resizes, quits on q", async () => {
    const session = `top-${name.replace(/\W+/g, "-")}`;
    const exitFile = join(tmp, `${session}.exit`);
    const cmd = [...command(), "top", "--socket", socket, "--interval", "0.5"].map((a) => `'${a}'`).join(" ");
    // The wrapper records the exit status and stderr so the test can check them after the pane closes.
    const started = await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", `${cmd} 2>${exitFile}.err; echo $? > ${exitFile}`);
    expect(started.code).toBe(0);
    try {
      const first = await waitForScreen(session, (s) => s.includes("VIRTUAL SERVERS (3)"), "the first screen");
      const lines = first.split("\n");
      expect(lines[0]).toMatch(/^lbctl top {2}.*lbctl\.sock {2}\d\d:\d\d:\d\dZ/);
      expect(first).toMatch(/^VI_1 +MASTER +150 +150 +10\.0\.0\.1 +51 +eth0/m);
      expect(first).toMatch(/^VI_6 +BACKUP +90 +100 +fe80::1/m);
      expect(first).toContain("TCP 10.0.0.100:80  wrr  quorum up  1/2 real servers up");
      expect(first).toMatch(/^ {2}10\.0\.0\.3:80 +down +1 .*connection refused/m);
      expect(first).toMatch(/^ {2}\[2001:db8::2\]:53 +down/m);
      expect(first).toContain("FWM 7  sh");
      expect(first).toContain("q quit  r refresh");

      // A transition: the child's status changes and its event arrives; the screen shows both.
      const vrrp = daemon.sup.children.vrrp as { instances: Record<string, unknown>[] };
      vrrp.instances[0].state = "FAULT";
      daemon.facade.childEvent("vrrp", { type: "transition", instance: "VI_1", from: "MASTER", to: "FAULT", reason: `eth0 down (${name})` });
      const after = await waitForScreen(session, (s) => /^VI_1 +FAULT/m.test(s) && s.includes(`VI_1: MASTER -> FAULT (eth0 down (${name}))`), "the transition");
      expect(after).toMatch(/vrrp-transition {2}VI_1: MASTER -> FAULT/);

      // The daemon goes away: the console says so and keeps running; when it is back, it recovers.
      await server!.stop();
      server = null;
      await waitForScreen(session, (s) => s.includes("stale (") || s.includes("not connected"), "the disconnection notice");
      server = await serveControlApi({ socketPath: socket, facade: daemon.facade });
      daemon.facade.childEvent("check", { type: "rs-up", vsKey: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", reason: `back (${name})` });
      await waitForScreen(session, (s) => !s.includes("stale (") && s.includes(`real server 10.0.0.3:80 up (back (${name}))`), "the reconnection");

      // A smaller terminal: every line fits, the body is cut with a note.
      expect((await tmux("resize-window", "-t", session, "-x", "60", "-y", "14")).code).toBe(0);
      const small = await waitForScreen(session, (s) => s.includes("more line(s)"), "the small layout");
      expect(small.split("\n").every((l) => l.length <= 60)).toBe(true);

      vrrp.instances[0].state = "MASTER";
      await tmux("send-keys", "-t", session, "q");
      const end = Date.now() + 10_000;
      while (!existsSync(exitFile) && Date.now() < end) await Bun.sleep(50);
      expect(readFileSync(exitFile, "utf8").trim()).toBe("0");
      expect(readFileSync(`${exitFile}.err`, "utf8")).toBe("");
    } finally {
      await tmux("kill-session", "-t", session);
    }
  });
});
