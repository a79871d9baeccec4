// Delivery to a real SMTP server (Python's smtpd on loopback): envelope, headers and body as
// keepalived sends them; a dead or silent relay is logged, never thrown, and never blocks enqueue.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { EventV1 } from "../../src/daemon/api-types.ts";
import { deliver, SmtpAlerter, subscribeAlerts, type SmtpSettings } from "../../src/daemon/smtp-alert.ts";
import { parseMessage, startSmtpSink, type SmtpSink } from "./smtp-alert-sink.ts";

let sink: SmtpSink;
beforeAll(async () => { sink = await startSmtpSink(); });
afterAll(() => sink?.stop());

function settings(port: number, over: Partial<SmtpSettings> = {}): SmtpSettings {
  return { host: "127.0.0.1", port, helo: "lb-a.example.com", from: "lb-a@example.com", to: ["ops@example.com", "oncall@example.com"], connectTimeoutMs: 2000, ...over };
}

function memoryLog() {
  const lines: string[] = [];
  return { lines, warning: (m: string) => lines.push(`warning: ${m}`), info: (m: string) => lines.push(`info: ${m}`) };
}

/** A TCP server that accepts and never says anything (a hung relay). */
function silentServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(() => { /* never greets */ });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r({ server, port: (server.address() as { port: number }).port })));
}

describe("SMTP delivery", () => {
  it("delivers one message per alert to every recipient, with keepalived's headers", async () => {
    const log = memoryLog();
    const now = Date.UTC(2026, 10, 26, 4, 39, 58);
    const alerter = new SmtpAlerter({ settings: settings(sink.port), log, now: () => now });
    alerter.enqueue({ subject: "[lbt_node_a] VRRP Instance VI_1 - Entering MASTER state", body: "=> VRRP Instance is now owning VRRP VIPs <=" });
    alerter.enqueue({ subject: "[lbt_node_a] VRRP Group SG_1 - Entering MASTER state", body: "=> All VRRP group instances are now in MASTER state <=" });
    const got = await sink.waitFor(2);
    expect(got.map((m) => [m.mailfrom, m.rcpttos])).toEqual([
      ["lb-a@example.com", ["ops@example.com", "oncall@example.com"]],
      ["lb-a@example.com", ["ops@example.com", "oncall@example.com"]],
    ]);
    const first = parseMessage(got[0]!.data);
    expect(first.headers).toEqual({
      "Date": "Thu, 26 Nov 2026 04:39:58 +0000",
      "From": "lb-a@example.com",
      "Subject": "[lbt_node_a] VRRP Instance VI_1 - Entering MASTER state",
      "X-Mailer": "Keepalived",
      "To": "ops@example.com, oncall@example.com",
    });
    expect(first.body.trim()).toBe("=> VRRP Instance is now owning VRRP VIPs <=");
    expect(parseMessage(got[1]!.data).headers.Subject).toBe("[lbt_node_a] VRRP Group SG_1 - Entering MASTER state");
    await alerter.flush(2000);
    expect(log.lines.filter((l) => l.startsWith("info: SMTP alert"))).toHaveLength(2);
    sink.messages.splice(0);
  });

  it("a refused connection is a logged warning, not an exception", async () => {
    const closed = await silentServer();
    const port = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    expect(await deliver({ subject: "s", body: "b" }, settings(port), 0)).toMatch(/ECONNREFUSED|refused/);
    const log = memoryLog();
    const alerter = new SmtpAlerter({ settings: settings(port), log });
    alerter.enqueue({ subject: "s", body: "b" });
    await alerter.flush(5000);
    expect(log.lines).toEqual([expect.stringMatching(/^warning: SMTP alert "s" not sent to 127\.0\.0\.1:\d+: .*/)]);
  });

  it("gives up on a relay that never answers after smtp_connect_timeout", async () => {
    const silent = await silentServer();
    try {
      expect(await deliver({ subject: "s", body: "b" }, settings(silent.port, { connectTimeoutMs: 300 }), 0)).toBe("no reply to greeting within 0.3 s");
    } finally {
      silent.server.close();
    }
  });

  it("enqueue never waits, and the queue is bounded", async () => {
    const silent = await silentServer();
    try {
      const log = memoryLog();
      const alerter = new SmtpAlerter({ settings: settings(silent.port, { connectTimeoutMs: 300 }), log, maxQueue: 2 });
      for (let i = 0; i < 5; i++) alerter.enqueue({ subject: `m${i}`, body: "b" });
      // One is being delivered (stuck on the silent relay), two wait, two were dropped.
      expect(alerter.pending).toBe(2);
      expect(log.lines.filter((l) => l.includes("queue full"))).toHaveLength(2);
      await alerter.flush(5000);
      expect(alerter.pending).toBe(0);
      expect(log.lines.filter((l) => l.includes("not sent"))).toHaveLength(3);
    } finally {
      silent.server.close();
    }
  });

  it("reports a relay that refuses a recipient", async () => {
    // smtpd refuses nothing; a one-line fake that answers 550 to RCPT stands in for a strict relay.
    const server = createServer((c) => {
      c.write("220 strict\r\n");
      c.on("data", (d) => {
        const cmd = String(d);
        c.write(cmd.startsWith("RCPT") ? "550 5.1.1 no such user\r\n" : "250 ok\r\n");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      expect(await deliver({ subject: "s", body: "b" }, settings(port), 0)).toBe("RCPT refused: 550 5.1.1 no such user");
    } finally {
      server.close();
    }
  });
});

describe("the daemon's subscription", () => {
  it("mails transitions from the event stream, and follows the configuration after a reload", async () => {
    sink.messages.splice(0);
    const conf = (extra: string) => loadConfigText(`global_defs {
  router_id r1
  ${extra}
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
  smtp_alert
}
`, "t.conf").effective;
    let config = conf(`notification_email {\n    a@example.com\n  }\n  smtp_server 127.0.0.1 ${sink.port}`);
    const listeners: ((e: EventV1) => void)[] = [];
    let seq = 0;
    const publish = (e: Record<string, unknown>) => { for (const l of listeners) l({ seq: ++seq, at: 0, message: "", ...e } as EventV1); };
    const sub = subscribeAlerts({ subscribe: (l) => { listeners.push(l); return () => listeners.splice(listeners.indexOf(l), 1); }, config: () => config, hostname: "h", log: memoryLog() });
    publish({ type: "vrrp-transition", instance: "VI_1", from: "BACKUP", to: "MASTER", reason: "" });
    const [m] = await sink.waitFor(1);
    expect(parseMessage(m!.data).headers.Subject).toBe("[r1] VRRP Instance VI_1 - Entering MASTER state");
    expect(m!.rcpttos).toEqual(["a@example.com"]);
    // A reload without a relay: no more mail.
    config = conf("");
    publish({ type: "reload", ok: true, errors: 0, warnings: 0 });
    publish({ type: "vrrp-transition", instance: "VI_1", from: "MASTER", to: "BACKUP", reason: "" });
    await sub.flush(2000);
    await Bun.sleep(200);
    expect(sink.messages).toHaveLength(1);
    sub.stop();
    expect(listeners).toHaveLength(0);
  });
});
