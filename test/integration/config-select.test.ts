// Which configuration lbctl reads without -f, on the real default paths: each case runs in a
// private mount namespace whose /etc is an overlay of the host's (so /etc/lbctl and
// /etc/keepalived can be written, or emptied, without touching the host's), and the daemon in
// a network namespace of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-run.ts";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "lbctl-config-select-"));
const shippedToml = readFileSync(join(root, "rpm/lbctl.toml"), "utf8");
const lab = createLab("lbt-cs-");
let runs = 0;

const KEEPALIVED_CONF = `vrrp_instance VI_K {
  state MASTER
  interface eth0
  virtual_router_id 71
  priority 200
  advert_int 0.5
  version 3
  virtual_ipaddress {
    10.71.0.100/24 dev eth0
  }
}
`;
const TOML = `[vrrp_instance.VI_T]\ninterface = "eth0"\nvirtual_router_id = 72\npriority = 100\nvirtual_ipaddress = [ "10.72.0.100/24" ]\n`;

/**
 * The command line that runs CMD with /etc/lbctl/lbctl.toml and /etc/keepalived/keepalived.conf
 * as given (null: absent) in a private overlay of /etc. `unshare` and `sh` exec, so the pid is CMD's.
 */
function withEtc(files: { toml: string | null; keepalived: string | null }, cmd: string[]): string[] {
  const dir = join(tmp, `etc-${++runs}`);
  const stage = join(dir, "stage");
  for (const d of ["upper", "work", "stage"]) mkdirSync(join(dir, d), { recursive: true });
  const put = (rel: string, text: string | null) => {
    if (text === null) return;
    mkdirSync(dirname(join(stage, rel)), { recursive: true });
    writeFileSync(join(stage, rel), text);
  };
  put("lbctl/lbctl.toml", files.toml);
  put("keepalived/keepalived.conf", files.keepalived);
  const script = [
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/upper,workdir=${dir}/work /etc || exit 90`,
    "rm -f /etc/lbctl/lbctl.toml /etc/keepalived/keepalived.conf",
    `cp -R ${stage}/. /etc/`,
    'exec "$@"',
  ].join(" && ");
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ...cmd];
}

function run(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const check = (files: { toml: string | null; keepalived: string | null }, ...args: string[]) =>
  run(withEtc(files, [...lbctlCommand(), "check", "--no-interfaces", ...args]));

afterAll(async () => {
  await lab.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe("lbctl check without -f, on the default paths", () => {
  it("reads an unchanged keepalived.conf beside the RPM's comments-only lbctl.toml", () => {
    const r = check({ toml: shippedToml, keepalived: KEEPALIVED_CONF });
    expect(r.stderr).toBe("lbctl: checking /etc/keepalived/keepalived.conf (/etc/lbctl/lbctl.toml sets nothing)\n");
    expect(r.stdout).toBe("lbctl: no problems in /etc/keepalived/keepalived.conf\n");
    expect(r.code).toBe(0);
  });

  it("reads keepalived.conf when there is no lbctl.toml", () => {
    const r = check({ toml: null, keepalived: KEEPALIVED_CONF });
    expect(r.stderr).toBe("lbctl: checking /etc/keepalived/keepalived.conf (/etc/lbctl/lbctl.toml does not exist)\n");
    expect(r.code).toBe(0);
  });

  it("reads lbctl.toml once it sets something, and reports its errors at FILE:LINE:COL", () => {
    const ok = check({ toml: TOML, keepalived: KEEPALIVED_CONF });
    expect(ok.stderr).toBe("lbctl: checking /etc/lbctl/lbctl.toml (it sets something, so it comes before /etc/keepalived/keepalived.conf)\n");
    expect(ok.stdout).toBe("lbctl: no problems in /etc/lbctl/lbctl.toml\n");
    const bad = check({ toml: "# mine\n[vrrp_instance.VI_T]\npriority = 900\n", keepalived: KEEPALIVED_CONF });
    expect(bad.stdout).toMatch(/^\/etc\/lbctl\/lbctl\.toml:3:\d+: error: .*900/m);
    expect(bad.code).toBe(1);
  });

  it("fails naming both paths when neither has a configuration", () => {
    const r = check({ toml: shippedToml, keepalived: null });
    expect(r.stderr).toBe("lbctl: no configuration: /etc/lbctl/lbctl.toml sets nothing (only comments count as nothing) and /etc/keepalived/keepalived.conf does not exist; write one of them or give a file with -f FILE\n");
    expect(r.stdout).toBe("");
    expect(r.code).toBe(1);
  });

  it("takes -f FILE over both, and config show follows the same rule", () => {
    const own = join(tmp, "own.conf");
    writeFileSync(own, KEEPALIVED_CONF.replace("VI_K", "VI_OWN"));
    const r = check({ toml: TOML, keepalived: KEEPALIVED_CONF }, "-f", own);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`lbctl: no problems in ${own}\n`);
    const shown = run(withEtc({ toml: shippedToml, keepalived: KEEPALIVED_CONF }, [...lbctlCommand(), "config", "show", "--json", "--no-interfaces"]));
    expect(shown.code).toBe(0);
    expect(Object.keys(JSON.parse(shown.stdout).vrrp_instance)).toEqual(["VI_K"]);
  });
});

describe("lbctl daemon without -f", () => {
  let ns = "";
  let daemon: SpawnedProcess;
  const socket = join(tmp, "lbctl.sock");

  beforeAll(async () => {
    [ns] = await lab.namespaces("node");
    const [peer] = await lab.namespaces("peer");
    await lab.veth(ns!, "eth0", peer!, "eth0");
    await lab.addr(ns!, "eth0", "10.71.0.1/24");
    daemon = lab.spawnIn(ns!, withEtc({ toml: shippedToml, keepalived: KEEPALIVED_CONF }, [...lbctlCommand(), "daemon", "--socket", socket]));
  }, 60_000);

  afterAll(async () => {
    if (daemon) { daemon.kill("SIGTERM"); await Promise.race([daemon.exited, Bun.sleep(5000)]); }
  });

  async function status(...args: string[]): Promise<{ code: number; stdout: string }> {
    const p = Bun.spawn([...lbctlCommand(), "status", "--socket", socket, ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return { code, stdout };
  }

  it("logs at start which file it reads and why", async () => {
    const deadline = Date.now() + 15_000;
    while (!daemon.output().stdout.includes("lbctl running") && Date.now() < deadline) await Bun.sleep(50);
    const out = daemon.output().stdout;
    expect(out).toMatch(/^.*configuration: \/etc\/keepalived\/keepalived\.conf \(\/etc\/lbctl\/lbctl\.toml sets nothing\)$/m);
    expect(out).toContain("lbctl running with /etc/keepalived/keepalived.conf");
  }, 20_000);

  it("shows the file and the reason in `lbctl status`, as text and as JSON", async () => {
    const text = await status();
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[1]).toBe("configuration: /etc/keepalived/keepalived.conf (/etc/lbctl/lbctl.toml sets nothing)");
    expect(text.stdout).toMatch(/^VI_K +/m);
    const json = await status("--json");
    const s = JSON.parse(json.stdout) as { daemon: { configPath: string; configReason: string } };
    expect(s.daemon).toMatchObject({ configPath: "/etc/keepalived/keepalived.conf", configReason: "/etc/lbctl/lbctl.toml sets nothing" });
  }, 20_000);

  it("re-reads the same file on reload, and warns when lbctl.toml has started to set something", async () => {
    // Written in the daemon's own view of /etc (its private overlay), not the host's.
    const w = run(["nsenter", "-t", String(daemon.pid), "-m", "sh", "-c", `printf '%s' '${TOML}' > /etc/lbctl/lbctl.toml`]);
    expect(w.code).toBe(0);
    daemon.kill("SIGHUP");
    const deadline = Date.now() + 10_000;
    while (!daemon.output().stdout.includes("reloaded /etc/keepalived/keepalived.conf") && Date.now() < deadline) await Bun.sleep(50);
    const out = daemon.output().stdout;
    expect(out).toContain("/etc/lbctl/lbctl.toml now applies (it sets something, so it comes before /etc/keepalived/keepalived.conf), but a reload re-reads /etc/keepalived/keepalived.conf: restart lbctl to switch");
    expect(out).toContain("reloaded /etc/keepalived/keepalived.conf");
    const s = JSON.parse((await status("--json")).stdout) as { daemon: { configPath: string }; vrrp: { instances: { name: string }[] } };
    expect(s.daemon.configPath).toBe("/etc/keepalived/keepalived.conf");
    expect(s.vrrp.instances.map((i) => i.name)).toEqual(["VI_K"]);
  }, 20_000);
});
