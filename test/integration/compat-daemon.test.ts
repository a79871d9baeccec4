// keepalived compatibility of a real `lbctl daemon` in a test namespace: the SMTP alert when an
// instance becomes MASTER (to a real smtpd inside the namespace), and keepalived's dump signals
// SIGUSR1 / SIGUSR2 / 36 writing keepalived.data / .stats / .json into $TMPDIR, which exporters
// parse as they parse keepalived's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { parseMessage, startSmtpSink, type SmtpSink } from "../unit/smtp-alert-sink.ts";

const lab = createLab("lbt-cp-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-compat-test-"));
const conf = join(dir, "keepalived.conf");
const pidFile = join(dir, "keepalived.pid");
let ns = "";
let daemon: SpawnedProcess;
let sink: SmtpSink;

async function until<T>(what: string, f: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  let v = await f();
  while (!ok(v)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not there after ${timeoutMs} ms; daemon said:\n${daemon?.output().stdout}\n${daemon?.output().stderr}`);
    await Bun.sleep(25);
    v = await f();
  }
  return v;
}

/** Sends `signal` to the pid in the pid file, as exporters do, and waits for `file` to be (re)written. */
async function signalAndRead(signal: NodeJS.Signals | number, file: string): Promise<string> {
  const path = join(dir, file);
  const before = existsSync(path) ? statSync(path).mtimeMs : -1;
  process.kill(Number(readFileSync(pidFile, "utf8").trim()), signal);
  await until(file, () => (existsSync(path) ? statSync(path).mtimeMs : -1), (m) => m > before && m > 0);
  return readFileSync(path, "utf8");
}

beforeAll(async () => {
  [ns] = await lab.namespaces("node");
  const [peer] = await lab.namespaces("peer");
  await lab.veth(ns!, "eth0", peer!, "eth0");
  await lab.addr(ns!, "eth0", "10.61.0.1/24");
  sink = await startSmtpSink("127.0.0.1", ["ip", "netns", "exec", ns!, "python3"]);
  writeFileSync(conf, `global_defs {
  router_id lbt-cp-node
  notification_email {
    ops@example.com
    oncall@example.com
  }
  notification_email_from lb@example.com
  smtp_server 127.0.0.1 ${sink.port}
  smtp_connect_timeout 5
  smtp_alert
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 71
  priority 200
  advert_int 0.2
  version 3
  virtual_ipaddress {
    10.61.0.100/24
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 72
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass pw
  }
  virtual_ipaddress {
    10.61.0.101/24
  }
}
virtual_server 10.61.0.100 80 {
  delay_loop 1
  lvs_sched rr
  protocol TCP
  real_server 10.61.0.1 9 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`);
  daemon = lab.spawnIn(ns!, [...lbctlCommand(), "daemon", "-f", conf, "-p", pidFile, "--socket", join(dir, "lbctl.sock")], { env: { TMPDIR: dir } });
}, 60_000);

afterAll(async () => {
  sink?.stop();
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("lbctl daemon, keepalived-compatible", () => {
  it("mails keepalived's alert when an instance becomes MASTER", async () => {
    const subject = "[lbt-cp-node] VRRP Instance VI_1 - Entering MASTER state";
    const m = await until("MASTER alert", () => sink.messages.find((x) => parseMessage(x.data).headers.Subject === subject), (x) => x !== undefined);
    expect(m!.mailfrom).toBe("lb@example.com");
    expect(m!.rcpttos).toEqual(["ops@example.com", "oncall@example.com"]);
    const { headers, body } = parseMessage(m!.data);
    expect(headers["X-Mailer"]).toBe("Keepalived");
    expect(headers.To).toBe("ops@example.com, oncall@example.com");
    expect(headers.Date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(body.trim()).toBe("=> VRRP Instance is now owning VRRP VIPs <=");
    // One message per transition: no duplicate of this one.
    expect(sink.messages.filter((x) => parseMessage(x.data).headers.Subject === subject)).toHaveLength(1);
  });

  it("mails keepalived's alert when a real server's check fails (the checker child, no IPVS needed)", async () => {
    const subject = "[lbt-cp-node] Realserver [10.61.0.1]:tcp:9 of virtual server [10.61.0.100]:tcp:80 - DOWN";
    const m = await until("real server DOWN alert", () => sink.messages.find((x) => parseMessage(x.data).headers.Subject === subject), (x) => x !== undefined, 20_000);
    expect(m!.rcpttos).toEqual(["ops@example.com", "oncall@example.com"]);
    expect(parseMessage(m!.data).body).toMatch(/ECONNREFUSED/);
    await Bun.sleep(2500); // more failed checks: still one mail for the one transition
    expect(sink.messages.filter((x) => parseMessage(x.data).headers.Subject === subject)).toHaveLength(1);
  });

  it("SIGUSR1 writes keepalived.data with the instances as keepalived prints them", async () => {
    await until("VI_1 master in status", async () => {
      const p = Bun.spawn([...lbctlCommand(), "status", "--json", "--socket", join(dir, "lbctl.sock")], { stdout: "pipe", stderr: "ignore" });
      return await new Response(p.stdout).text();
    }, (s) => s.includes('"MASTER"'));
    const text = await signalAndRead("SIGUSR1", "keepalived.data");
    expect(text.startsWith("------< Global definitions >------\n")).toBe(true);
    expect(text).toContain(" Router ID = lbt-cp-node\n");
    expect(text).toMatch(/ VRRP Instance = VI_1\n   VRRP Version = 3\n   State = MASTER\n/);
    expect(text).toContain("   Virtual Router ID = 71\n");
    expect(text).toContain("     10.61.0.100/24 dev eth0 scope global set\n");
    expect(text).toMatch(/ VRRP Instance = VI_2\n   VRRP Version = 2\n   State = (BACKUP|MASTER)\n/);
    expect(statSync(join(dir, "keepalived.data")).mode & 0o777).toBe(0o600);
  });

  it("SIGUSR2 writes keepalived.stats with the counters", async () => {
    const text = await signalAndRead("SIGUSR2", "keepalived.stats");
    const sent = Number(/VRRP Instance: VI_1\n  Advertisements:\n    Received: \d+\n    Sent: (\d+)\n/.exec(text)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(text).toContain("VRRP Instance: VI_2\n");
  });

  it("signal 36 (keepalived --signum=JSON) writes keepalived.json and does not kill the daemon", async () => {
    const text = await signalAndRead(36, "keepalived.json");
    const json = JSON.parse(text) as { data: { iname: string; state: number; vrid: number }; stats: { advert_sent: number } }[];
    expect(json.map((e) => [e.data.iname, e.data.vrid])).toEqual([["VI_1", 71], ["VI_2", 72]]);
    expect(json[0]!.data.state).toBe(2);
    await Bun.sleep(100);
    expect(() => process.kill(daemon.pid, 0)).not.toThrow();
    // And again: the handler stays installed.
    const again = await signalAndRead(36, "keepalived.json");
    expect(JSON.parse(again)).toHaveLength(2);
  });

  it("writes its pid where exporters look for it, and removes it when it stops", async () => {
    expect(Number(readFileSync(pidFile, "utf8"))).toBe(daemon.pid);
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });
});
