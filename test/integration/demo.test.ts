// The README's first command: `lbctl demo` (the built binary) runs its scripted phases, reports what
// the client saw in each, and leaves no namespace or process behind, also when interrupted.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const demoNamespaces = () => readdirSync("/run/netns").filter((n) => n.startsWith("lbdemo-"));
/** Running, not a zombie (this machine's PID 1 reaps orphans late). */
function alive(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; }
}

interface Phase { before: string; after: string; requests: number; failed: number; gapS: number; gapFailed: number; vipS: number }

/** `[..] crash failover: node1 → node2; 23 requests, 17 failed; client-visible gap 1.70 s (17 requests failed in a row); node2 held 10.77.0.100 after 1.80 s` */
function phases(out: string): Map<string, Phase> {
  const m = new Map<string, Phase>();
  const re = /^\[[\d:.]+\] (startup|crash failover|preemption|graceful stop): (?:(\S+) → (\S+)|(\S+) throughout); (\d+) requests, (\d+) failed; (?:client-visible gap ([\d.]+) s \((\d+) requests failed in a row\)|no request failed); node[12] held 10\.77\.0\.100 after ([\d.]+) s$/gm;
  for (const x of out.matchAll(re)) {
    m.set(x[1]!, {
      before: x[2] ?? x[4]!, after: x[3] ?? x[4]!, requests: Number(x[5]), failed: Number(x[6]),
      gapS: Number(x[7] ?? 0), gapFailed: Number(x[8] ?? 0), vipS: Number(x[9]),
    });
  }
  return m;
}

/** Every process inside the demo's namespaces now. */
function namespacePids(): number[] {
  return demoNamespaces().flatMap((ns) => Bun.spawnSync(["ip", "netns", "pids", ns]).stdout.toString().split("\n").filter(Boolean).map(Number));
}

describe("lbctl demo", () => {
  // The last is bench-demo-failover's reference run: keepalived on both nodes, no IPVS part.
  for (const args of [["--peer", "lbctl"], ["--peer", "keepalived"], ["--node1", "keepalived", "--peer", "keepalived", "--no-ipvs"]]) {
    it(`fails over and back (${args.join(" ")}), reports what the client saw, then cleans up`, async () => {
      const p = Bun.spawn([...lbctlCommand(), "demo", ...args], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      const context = `stdout:\n${out}\nstderr:\n${err}`;
      expect(err, context).toBe("");
      expect(code, context).toBe(0);
      // Each node runs what the options asked for.
      const kind = (opt: string) => (args.includes(opt) && args[args.indexOf(opt) + 1] === "keepalived" ? "keepalived 2\\.2\\.7" : "lbctl daemon");
      expect(out).toMatch(new RegExp(`\\] node1: ${kind("--node1")}, priority 150,`));
      expect(out).toMatch(new RegExp(`\\] node2: ${kind("--peer")}, priority 100,`));
      const ph = phases(out);
      expect([...ph.keys()], context).toEqual(["startup", "crash failover", "preemption", "graceful stop"]);
      // Who answered the client: node1, then node2, node1 again, and node2.
      expect(ph.get("startup")).toMatchObject({ before: "nobody", after: "node1" });
      expect(ph.get("crash failover")).toMatchObject({ before: "node1", after: "node2" });
      expect(ph.get("preemption")).toMatchObject({ before: "node2", after: "node1" });
      expect(ph.get("graceful stop")).toMatchObject({ before: "node1", after: "node2" });
      for (const [name, x] of ph) {
        // Generous sanity bounds: a request every 100 ms, phases end within 20 s.
        expect(x.requests, name).toBeGreaterThan(3);
        expect(x.requests, name).toBeLessThan(250);
        expect(x.failed, name).toBeGreaterThanOrEqual(x.gapFailed);
        expect(x.gapS, name).toBeLessThan(20);
        expect(x.vipS, name).toBeLessThan(20);
      }
      // A crash is noticed only after the master-down interval (3 adverts of 0.5 s): requests fail meanwhile.
      const crash = ph.get("crash failover")!;
      expect(crash.gapFailed).toBeGreaterThan(3);
      expect(crash.gapS).toBeGreaterThan(0.5);
      // The closing table and the IPVS part (run, or said to be unavailable).
      expect(out).toMatch(/crash failover\s+node1 → node2\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+/);
      if (args.includes("--no-ipvs")) expect(out).not.toMatch(/IPVS:/);
      else expect(out).toMatch(/IPVS: (unavailable in this kernel|the checker took 10\.77\.0\.12 out of the table)/);
      // node1 released the VIP when it stopped gracefully.
      expect(out).toMatch(/node1's daemon exited with code 0; node1's IPv4 addresses now: 10\.77\.0\.1\/24$/m);
      expect(demoNamespaces()).toEqual([]);
    }, 60_000);
  }

  for (const [signal, exitCode] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`leaves no namespace or process behind when stopped by ${signal} mid-way`, async () => {
      expect(demoNamespaces()).toEqual([]);
      const p = Bun.spawn([...lbctlCommand(), "demo"], { stdout: "pipe", stderr: "pipe" });
      let out = "";
      const reader = (async () => { for await (const c of p.stdout) out += new TextDecoder().decode(c); })();
      const t0 = Date.now();
      // Mid-way: the daemons, web servers and client are running.
      while (!/startup: .* requests/.test(out) && Date.now() - t0 < 30_000) await Bun.sleep(50);
      expect(out).toMatch(/startup: /);
      const pids = namespacePids();
      expect(pids.length).toBeGreaterThanOrEqual(3); // daemons, web servers, the client
      p.kill(signal);
      const code = await p.exited;
      await reader;
      const context = `stdout:\n${out}\nstderr:\n${await new Response(p.stderr).text()}`;
      expect(code, context).toBe(exitCode);
      expect(out).toMatch(new RegExp(`${signal}: stopping`));
      expect(demoNamespaces(), context).toEqual([]);
      expect(pids.filter(alive)).toEqual([]);
    }, 40_000);
  }

  it("leaves no namespace behind when interrupted while it builds the lab", async () => {
    for (const ms of [30, 100, 200, 400]) {
      const p = Bun.spawn([...lbctlCommand(), "demo"], { stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(ms);
      p.kill("SIGINT");
      // (Before the demo's handler is installed, the runtime's default ends it: no code to check then.)
      await p.exited;
      expect(demoNamespaces(), `after ${ms} ms`).toEqual([]);
    }
  }, 30_000);

  it("--watch shows lbctl top on the master, narrates above its key line, and q stops the demo and cleans up", async () => {
    // A tmux server of its own, so this test never touches anyone's sessions.
    const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-L", `lbt-demo-${process.pid}`, ...args], { stdout: "pipe", stderr: "pipe" });
    const screen = () => tmux("capture-pane", "-p", "-t", "demo").stdout.toString();
    const until = async (re: RegExp, ms: number) => {
      const t0 = Date.now();
      while (!re.test(screen()) && Date.now() - t0 < ms) await Bun.sleep(100);
      return screen();
    };
    const cmd = [...lbctlCommand(), "demo", "--watch"].map((a) => `'${a}'`).join(" ");
    tmux("new-session", "-d", "-s", "demo", "-x", "120", "-y", "40", `${cmd}; echo DEMO-EXIT=$?; sleep 60`);
    try {
      // top's title on node1's socket, node1 MASTER, and the narration above the key line.
      const s = await until(/DEMO\s+MASTER\s+150/, 30_000);
      expect(s, s).toMatch(/^lbctl top {2}\S*node1\.sock/m);
      expect(s, s).toMatch(/\[[\d:.]+\] .*\n.*q quit {2}r refresh/);
      // After the crash, top follows the new master, node2.
      const s2 = await until(/node2\.sock[\s\S]*DEMO\s+MASTER\s+100/, 30_000);
      expect(s2, s2).toMatch(/^lbctl top {2}\S*node2\.sock/m);
      const pids = namespacePids();
      tmux("send-keys", "-t", "demo", "q");
      const end = await until(/DEMO-EXIT=\d+/, 20_000);
      expect(end, end).toMatch(/DEMO-EXIT=130/);
      // The terminal is back (no alternate screen): the narration is printed there.
      expect(end).toMatch(/crash: node1.s processes are stopped/);
      expect(demoNamespaces()).toEqual([]);
      expect(pids.filter(alive)).toEqual([]);
      expect(Bun.spawnSync(["pgrep", "-f", "lbctl top --socket /tmp/lbctl-demo-"]).stdout.toString()).toBe("");
    } finally {
      tmux("kill-server");
    }
  }, 60_000);

  it("refuses --watch without a terminal", async () => {
    const p = Bun.spawn([...lbctlCommand(), "demo", "--watch"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(64);
    expect(err).toMatch(/--watch .*needs a terminal/);
    expect(demoNamespaces()).toEqual([]);
  });
});
