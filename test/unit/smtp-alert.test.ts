// SMTP alerts: which events alert and with which text (keepalived 2.2.7's, checked against the
// messages it sent in test/fixtures/keepalived-dump/), and the exact dialogue on the wire.
import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { EventV1, VrrpState } from "../../src/daemon/api-types.ts";
import { AlertPolicy, keepalivedVsName, messageData, rfc822Date, smtpDialogue, smtpSettings, takeReplies } from "../../src/daemon/smtp-alert.ts";
import { fixture, fixtureConfig } from "./keepalived-dump-fixture.ts";

let seq = 0;
function transition(instance: string, to: VrrpState, from: VrrpState = "INIT"): EventV1 {
  return { seq: ++seq, at: 0, message: "", type: "vrrp-transition", instance, from, to, reason: "" };
}

function config(text: string) {
  const l = loadConfigText(text, "t.conf");
  return l.effective;
}

/** The alerts keepalived sent (fixture), as [subject, body] in order. */
function keepalivedAlerts(): [string, string][] {
  const text = fixture("smtp-alerts-node-a.debuggingserver.txt");
  return [...text.matchAll(/b'Subject: (.*)'\n(?:b'.*'\n)*?b''\nb'(.*)'/g)].map((m) => [m[1]!, m[2]!]);
}

describe("AlertPolicy", () => {
  it("sends what keepalived 2.2.7 sent for the same transitions (instances and sync group)", () => {
    const p = new AlertPolicy(fixtureConfig("a"), "host");
    // The transitions node a went through in the capture: start as BACKUP, become MASTER,
    // FAULT when the link went down, BACKUP, MASTER again, and FAULT once more (VI_3, nopreempt,
    // stayed BACKUP in between).
    const seen: [string, string][] = [];
    const run = (steps: [string, VrrpState][]) => { for (const [i, s] of steps) for (const a of p.alertsFor(transition(i, s))) seen.push([a.subject, a.body]); };
    run([["VI_1", "BACKUP"], ["VI_2", "BACKUP"], ["VI_3", "BACKUP"]]);
    run([["VI_1", "MASTER"], ["VI_2", "MASTER"], ["VI_3", "MASTER"]]);
    run([["VI_1", "FAULT"], ["VI_2", "FAULT"], ["VI_3", "FAULT"]]);
    run([["VI_2", "BACKUP"], ["VI_1", "BACKUP"], ["VI_3", "BACKUP"]]);
    run([["VI_1", "MASTER"], ["VI_2", "MASTER"]]);
    run([["VI_1", "FAULT"], ["VI_2", "FAULT"], ["VI_3", "FAULT"]]);
    const theirs = keepalivedAlerts();
    expect(theirs.length).toBe(23);
    // Same set of messages; keepalived sometimes mails the group before its members.
    expect([...seen].sort()).toEqual([...theirs].sort());
  });

  it("mails a state once: a repeated state is not mailed again", () => {
    const p = new AlertPolicy(fixtureConfig("a"), "host");
    expect(p.alertsFor(transition("VI_3", "MASTER"))).toHaveLength(1);
    expect(p.alertsFor(transition("VI_3", "MASTER"))).toHaveLength(0);
    expect(p.alertsFor(transition("VI_3", "BACKUP"))[0]!.subject).toBe("[lbt_node_a] VRRP Instance VI_3 - Entering BACKUP state");
  });

  it("follows smtp_alert per instance, smtp_alert_vrrp, smtp_alert, and no_email_faults", () => {
    const base = "global_defs {\n router_id r1\n notification_email {\n a@x\n }\n smtp_server 127.0.0.1\n %G\n}\n" +
      "vrrp_instance ON {\n interface lo\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1\n }\n smtp_alert\n}\n" +
      "vrrp_instance DEFAULT {\n interface lo\n virtual_router_id 2\n priority 100\n virtual_ipaddress {\n 10.0.0.2\n }\n}\n";
    const off = new AlertPolicy(config(base.replace("%G", "")), "h");
    expect(off.alertsFor(transition("ON", "MASTER"))).toHaveLength(1);
    expect(off.alertsFor(transition("DEFAULT", "MASTER"))).toHaveLength(0);
    const vrrpOn = new AlertPolicy(config(base.replace("%G", "smtp_alert_vrrp")), "h");
    expect(vrrpOn.alertsFor(transition("DEFAULT", "MASTER"))).toHaveLength(1);
    const noFaults = new AlertPolicy(config(base.replace("%G", "smtp_alert\n no_email_faults")), "h");
    expect(noFaults.alertsFor(transition("DEFAULT", "FAULT"))).toHaveLength(0);
    expect(noFaults.alertsFor(transition("DEFAULT", "STOP"))).toEqual([{ subject: "[r1] VRRP Instance DEFAULT - Stopping", body: "=> VRRP Instance stopping <=" }]);
  });

  it("alerts real-server and quorum changes with keepalived's names", () => {
    const p = new AlertPolicy(config("global_defs {\n router_id lb1\n}\n"), "h");
    const rs: EventV1 = { seq: 1, at: 0, message: "", type: "real-server", vs: "TCP 192.0.2.10:80", rs: "10.1.0.2:8080", health: "down", reason: "connection refused" };
    expect(p.alertsFor(rs)).toEqual([{ subject: "[lb1] Realserver [10.1.0.2]:tcp:8080 of virtual server [192.0.2.10]:tcp:80 - DOWN", body: "=> CHECK failed on service : connection refused <=" }]);
    const q: EventV1 = { seq: 2, at: 0, message: "", type: "quorum", vs: "UDP [2001:db8::1]:53", up: true, reason: "" };
    // A virtual server alerts only when asked (keepalived's default for it is off, for real servers on).
    expect(p.alertsFor(q)).toEqual([]);
    expect(keepalivedVsName("UDP [2001:db8::1]:53")).toBe("[2001:db8::1]:udp:53");
    expect(keepalivedVsName("FWM 7")).toBe("FWM 7");
  });
});

describe("the message on the wire", () => {
  const session = fixture("smtp-session-node-a.txt").split("\n").filter((l) => l.startsWith("C ")).map((l) => l.slice(2).replace(/\\r\\n/g, "\r\n"));

  it("is keepalived's dialogue, command for command (the Date aside)", () => {
    const s = smtpSettings(fixtureConfig("a"), "host")!;
    expect(s).toEqual({ host: "127.0.0.1", port: 2525, helo: "lb-a.example.com", from: "lb-a@example.com", to: ["ops@example.com", "oncall@example.com"], connectTimeoutMs: 5000 });
    const ours = smtpDialogue({ subject: "[lbt_node_a] VRRP Instance VI_1 - Entering FAULT state", body: "=> VRRP Instance is no longer owning VRRP VIPs <=" }, s, Date.UTC(2026, 10, 26, 4, 40, 13));
    expect(ours.map((x) => x.send).filter((x) => x !== null)).toEqual(session);
  });

  it("dates as RFC 5322 and stuffs dots", () => {
    expect(rfc822Date(Date.UTC(2026, 0, 5, 7, 8, 9))).toBe("Mon, 05 Jan 2026 07:08:09 +0000");
    const data = messageData({ subject: "a\r\nBcc: evil@x", body: ".hidden\nline" }, { from: "f@x", to: ["t@x"] }, 0);
    expect(data).toContain("Subject: a Bcc: evil@x\r\n");
    expect(data).toContain("\r\n\r\n..hidden\r\nline\r\n\r\n.\r\n");
  });

  it("reads multi-line and split replies", () => {
    expect(takeReplies("250-first\r\n250 last\r\n220 x")).toEqual({ replies: [{ code: 250, text: "250-first | 250 last" }], rest: "220 x" });
    expect(takeReplies("garbage\r\n").replies).toEqual([{ code: 0, text: "garbage" }]);
  });

  it("sends no mail without a relay or recipients, as keepalived", () => {
    expect(smtpSettings(config("global_defs {\n notification_email {\n a@x\n }\n}\n"), "h")).toBeNull();
    expect(smtpSettings(config("global_defs {\n smtp_server 127.0.0.1\n}\n"), "h")).toBeNull();
    expect(smtpSettings(config("global_defs {\n smtp_server 127.0.0.1\n notification_email {\n a@x\n }\n}\n"), "myhost")).toMatchObject({ port: 25, helo: "myhost", from: "keepalived@myhost", connectTimeoutMs: 30_000 });
  });
});
