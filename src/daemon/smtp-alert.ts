// SMTP alerts as keepalived 2.2.7 sends them (core/smtp.c, vrrp/vrrp_notify.c, check/ipwrapper.c):
// one plain message per state change to every notification_email address, through smtp_server,
// with keepalived's Subject/body texts and headers (Date, From, Subject, X-Mailer: Keepalived, To).
// The wire format was checked against a capture of keepalived 2.2.7 talking to a real SMTP server
// (test/fixtures/keepalived-dump/smtp-session-node-a.txt).
//
// `AlertPolicy` (pure) turns control-plane events into messages: which objects alert
// (smtp_alert on the instance / sync group / virtual or real server, else smtp_alert_vrrp /
// smtp_alert_checker, else smtp_alert), no_email_faults, one message per state change.
// `SmtpAlerter` (shell) queues them (bounded) and delivers them one by one in the background:
// a slow or dead relay delays only other mails, never VRRP; failures are logged, never thrown.
import { connect, type Socket } from "node:net";
import type { Model } from "../config/schema.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import type { RealServerConfig, VirtualServerConfig } from "../config/spec/lvs.ts";
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from "../config/spec/vrrp.ts";
import type { EventV1, VrrpState } from "./api-types.ts";
import { alertFrom, checkerSmtpAlert, vrrpSmtpAlert } from "./keepalived-dump.ts";

export interface Alert { subject: string; body: string }

export interface SmtpSettings {
  host: string;
  port: number;
  helo: string;
  from: string;
  to: string[];
  connectTimeoutMs: number;
}

/** The relay and addresses from global_defs; null when keepalived would send no mail (no server or no recipient). */
export function smtpSettings(config: Model, hostname: string): SmtpSettings | null {
  const g = (config.global_defs ?? {}) as Partial<GlobalDefsConfig>;
  const to = g.notification_email ?? [];
  if (!g.smtp_server || to.length === 0) return null;
  return {
    host: g.smtp_server.host,
    port: g.smtp_server.port ?? 25,
    helo: g.smtp_helo_name ?? hostname,
    from: alertFrom(g, hostname),
    to: [...to],
    connectTimeoutMs: (g.smtp_connect_timeout ?? 30) * 1000,
  };
}

// ---------------------------------------------------------------------------
// Which events alert, and with what text (pure)

const VRRP_TEXT: Partial<Record<VrrpState, Alert>> = {
  MASTER: { subject: "Entering MASTER state", body: "=> VRRP Instance is now owning VRRP VIPs <=" },
  BACKUP: { subject: "Entering BACKUP state", body: "=> VRRP Instance is no longer owning VRRP VIPs <=" },
  FAULT: { subject: "Entering FAULT state", body: "=> VRRP Instance is no longer owning VRRP VIPs <=" },
  STOP: { subject: "Stopping", body: "=> VRRP Instance stopping <=" },
};
const GROUP_TEXT: Partial<Record<VrrpState, Alert>> = {
  MASTER: { subject: "Entering MASTER state", body: "=> All VRRP group instances are now in MASTER state <=" },
  BACKUP: { subject: "Entering BACKUP state", body: "=> All VRRP group instances are now in BACKUP state <=" },
  FAULT: { subject: "Entering FAULT state", body: "=> All VRRP group instances are now in FAULT state <=" },
  STOP: { subject: "Stopping", body: "=> All VRRP group instances are now stopping <=" },
};

/** `TCP 10.0.0.1:80` / `UDP [2001:db8::1]:53` / `FWM 7` -> keepalived's FMT_VS (`[10.0.0.1]:tcp:80`, `FWM 7`). */
export function keepalivedVsName(vsKey: string): string {
  const [proto, endpoint] = vsKey.split(" ", 2);
  if (proto === "FWM" || endpoint === undefined) return vsKey;
  return trio(endpoint, proto.toLowerCase());
}

/** `10.0.0.2:8080` / `[2001:db8::2]:80` -> `[10.0.0.2]:tcp:8080` (inet_sockaddrtotrio). */
export function trio(endpoint: string, proto: string): string {
  const m = /^\[(.+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  return m ? `[${m[1]}]:${proto}:${m[2]}` : endpoint;
}

function protoOf(vsKey: string): string {
  const p = vsKey.split(" ", 1)[0]!;
  return p === "FWM" ? "none" : p.toLowerCase();
}

/**
 * Decides, event by event, which alerts to send. Keeps the last state mailed per instance and
 * per sync group (keepalived's last_email_state), so a repeated state is not mailed twice.
 */
export class AlertPolicy {
  private readonly g: Partial<GlobalDefsConfig>;
  private readonly routerId: string;
  private readonly instances: Record<string, VrrpInstanceConfig>;
  private readonly groups: Record<string, VrrpSyncGroupConfig>;
  private readonly servers: VirtualServerConfig[];
  private readonly states = new Map<string, VrrpState>();
  private readonly lastMailed = new Map<string, VrrpState>();

  constructor(config: Model, hostname: string) {
    this.g = (config.global_defs ?? {}) as Partial<GlobalDefsConfig>;
    this.routerId = this.g.router_id ?? hostname;
    this.instances = (config.vrrp_instance ?? {}) as Record<string, VrrpInstanceConfig>;
    this.groups = (config.vrrp_sync_group ?? {}) as Record<string, VrrpSyncGroupConfig>;
    this.servers = (config.virtual_server ?? []) as VirtualServerConfig[];
  }

  /** The alerts one event causes, in the order keepalived sends them. */
  alertsFor(e: EventV1): Alert[] {
    switch (e.type) {
      case "vrrp-transition": return this.vrrp(e.instance, e.to);
      case "real-server": {
        const { rs } = this.serverConfig(e.vs, e.rs);
        if (!checkerSmtpAlert(rs?.smtp_alert, this.g, true)) return [];
        const proto = protoOf(e.vs);
        return [{
          subject: `[${this.routerId}] Realserver ${trio(e.rs, proto)} of virtual server ${keepalivedVsName(e.vs)} - ${e.health === "up" ? "UP" : "DOWN"}`,
          body: e.health === "up" ? "=> CHECK succeed on service <=" : `=> CHECK failed on service${e.reason ? ` : ${e.reason}` : ""} <=`,
        }];
      }
      case "quorum": {
        const { vs } = this.serverConfig(e.vs, null);
        if (!checkerSmtpAlert(vs?.smtp_alert, this.g, false)) return [];
        return [{
          subject: `[${this.routerId}] Virtualserver ${keepalivedVsName(e.vs)} - ${e.up ? "UP" : "DOWN"}`,
          body: `=> ${e.up ? "Gained quorum" : "Lost quorum"} <=`,
        }];
      }
      default: return [];
    }
  }

  private vrrp(instance: string, to: VrrpState): Alert[] {
    this.states.set(instance, to);
    const out: Alert[] = [];
    const own = this.mailFor(`i:${instance}`, to, vrrpSmtpAlert(this.instances[instance]?.smtp_alert, this.g), VRRP_TEXT[to]);
    if (own) out.push({ subject: `[${this.routerId}] VRRP Instance ${instance} - ${own.subject}`, body: own.body });
    for (const [name, group] of Object.entries(this.groups)) {
      if (!group.group.includes(instance)) continue;
      const state = this.groupState(group);
      if (state === null) continue;
      const g = this.mailFor(`g:${name}`, state, vrrpSmtpAlert(group.smtp_alert, this.g), GROUP_TEXT[state]);
      if (g) out.push({ subject: `[${this.routerId}] VRRP Group ${name} - ${g.subject}`, body: g.body });
    }
    return out;
  }

  /** A group changes state when all its members have (FAULT as soon as one is); null while they differ. */
  private groupState(group: VrrpSyncGroupConfig): VrrpState | null {
    const states = group.group.map((m) => this.states.get(m));
    if (states.includes("FAULT")) return "FAULT";
    const first = states[0];
    return first !== undefined && states.every((s) => s === first) ? first : null;
  }

  private mailFor(key: string, state: VrrpState, enabled: boolean, text: Alert | undefined): Alert | null {
    if (!enabled || !text) return null;
    if (state === "FAULT" && this.g.no_email_faults) return null;
    if (this.lastMailed.get(key) === state) return null;
    this.lastMailed.set(key, state);
    return text;
  }

  private serverConfig(vsKey: string, rsKey: string | null): { vs?: VirtualServerConfig; rs?: RealServerConfig } {
    const [proto, endpoint] = vsKey.split(" ", 2);
    const vs = this.servers.find((s) => proto === "FWM"
      ? s.fwmark === Number(endpoint)
      : endpoint !== undefined && trio(endpoint, "x") === trio(`${s.ip?.includes(":") ? `[${s.ip}]` : s.ip}:${s.port ?? 0}`, "x"));
    const rs = rsKey === null ? undefined : vs?.real_server?.find((r) => trio(rsKey, "x") === trio(`${r.ip.includes(":") ? `[${r.ip}]` : r.ip}:${r.port ?? vs.port ?? 0}`, "x"));
    return { vs, rs };
  }
}

// ---------------------------------------------------------------------------
// The message and the dialogue (pure)

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 date as keepalived writes it (`%a, %d %b %Y %H:%M:%S %z`), in UTC. */
export function rfc822Date(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Keeps header values on one line (an instance name cannot inject headers). */
function headerValue(s: string): string { return s.replace(/[\r\n]+/g, " "); }

/** What follows DATA, through the terminating "." line: keepalived's headers and body, dot-stuffed. */
export function messageData(a: Alert, s: Pick<SmtpSettings, "from" | "to">, now: number): string {
  const body = a.body.split(/\r?\n/).map((l) => (l.startsWith(".") ? "." + l : l)).join("\r\n");
  return `Date: ${rfc822Date(now)}\r\nFrom: ${headerValue(s.from)}\r\nSubject: ${headerValue(a.subject)}\r\n` +
    `X-Mailer: Keepalived\r\nTo: ${s.to.map(headerValue).join(", ")}\r\n\r\n${body}\r\n\r\n.\r\n`;
}

export interface SmtpStep { send: string | null; expect: number }

/** The commands of one delivery and the reply class each needs (2 = 2xx, 3 = 3xx). */
export function smtpDialogue(a: Alert, s: SmtpSettings, now: number): SmtpStep[] {
  return [
    { send: null, expect: 2 },
    { send: `HELO ${s.helo}\r\n`, expect: 2 },
    { send: `MAIL FROM:<${s.from}>\r\n`, expect: 2 },
    ...s.to.map((t) => ({ send: `RCPT TO:<${t}>\r\n`, expect: 2 })),
    { send: "DATA\r\n", expect: 3 },
    { send: messageData(a, s, now), expect: 2 },
    { send: "QUIT\r\n", expect: 2 },
  ];
}

/** Splits complete SMTP replies off a buffer: a reply ends with a `NNN text` line (`NNN-` continues). */
export function takeReplies(buffer: string): { replies: { code: number; text: string }[]; rest: string } {
  const replies: { code: number; text: string }[] = [];
  let rest = buffer, lines: string[] = [];
  for (;;) {
    const nl = rest.indexOf("\n");
    if (nl < 0) break;
    const line = rest.slice(0, nl).replace(/\r$/, "");
    rest = rest.slice(nl + 1);
    lines.push(line);
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (!m) { replies.push({ code: 0, text: lines.join(" | ") }); lines = []; continue; }
    if (m[2] !== "-") { replies.push({ code: Number(m[1]), text: lines.join(" | ") }); lines = []; }
  }
  return { replies, rest: lines.length ? lines.join("\n") + "\n" + rest : rest };
}

// ---------------------------------------------------------------------------
// Delivery (shell)

export interface AlerterLog { warning(m: string, key?: string): void; info(m: string, key?: string): void }

export interface SmtpAlerterOptions {
  settings: SmtpSettings;
  log: AlerterLog;
  now?: () => number;
  /** Messages waiting at most; newer ones are dropped (and counted) when full. */
  maxQueue?: number;
}

/** Sends one message; resolves with null on success or the reason it failed. Never rejects. */
export function deliver(a: Alert, s: SmtpSettings, now: number): Promise<string | null> {
  const steps = smtpDialogue(a, s, now);
  return new Promise((resolve) => {
    let step = 0, buffer = "", done = false, connected = false;
    let socket: Socket | null = null;
    const finish = (error: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(error);
    };
    // smtp_connect_timeout bounds the connection and then each reply, as keepalived's timer does.
    let timer = setTimeout(() => finish(`${connected ? "no reply" : "no connection"} within ${s.connectTimeoutMs / 1000} s`), s.connectTimeoutMs);
    const rearm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`no reply to ${stepName(steps[step]?.send ?? null)} within ${s.connectTimeoutMs / 1000} s`), s.connectTimeoutMs);
    };
    try {
      socket = connect({ host: s.host, port: s.port });
    } catch (e) {
      finish(e instanceof Error ? e.message : String(e));
      return;
    }
    socket.setEncoding("utf8");
    socket.on("connect", () => { connected = true; rearm(); });
    socket.on("error", (e) => finish(e.message));
    socket.on("close", () => finish(step >= steps.length ? null : "connection closed by the server"));
    socket.on("data", (chunk: string) => {
      const r = takeReplies(buffer + chunk);
      buffer = r.rest;
      for (const reply of r.replies) {
        const want = steps[step]!;
        if (Math.floor(reply.code / 100) !== want.expect) {
          finish(`${stepName(want.send)} refused: ${reply.text}`);
          return;
        }
        step++;
        if (step >= steps.length) { finish(null); return; }
        socket!.write(steps[step]!.send!);
        rearm();
      }
    });
  });
}

function stepName(send: string | null): string {
  if (send === null) return "greeting";
  const verb = /^[A-Z]+/.exec(send)?.[0];
  return verb && ["HELO", "MAIL", "RCPT", "DATA", "QUIT"].includes(verb) ? verb : "message";
}

/** A bounded queue of alerts, delivered one at a time in the background. */
export class SmtpAlerter {
  private readonly queue: Alert[] = [];
  private running: Promise<void> | null = null;
  private dropped = 0;
  private readonly now: () => number;
  private readonly maxQueue: number;

  constructor(private readonly o: SmtpAlerterOptions) {
    this.now = o.now ?? Date.now;
    this.maxQueue = o.maxQueue ?? 100;
  }

  /** Queues an alert and returns at once. */
  enqueue(a: Alert): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      this.o.log.warning(`SMTP alert queue full (${this.maxQueue}): dropped "${a.subject}" (${this.dropped} dropped so far)`, "smtp-alert");
      return;
    }
    this.queue.push(a);
    if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
  }

  get pending(): number { return this.queue.length; }

  /** Waits until the queue is empty, or `timeoutMs` passed (for a clean stop). */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.running, new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
  }

  private async drain(): Promise<void> {
    for (let a = this.queue.shift(); a; a = this.queue.shift()) {
      const s = this.o.settings;
      const error = await deliver(a, s, this.now());
      if (error) this.o.log.warning(`SMTP alert "${a.subject}" not sent to ${s.host}:${s.port}: ${error}`, "smtp-alert");
      else this.o.log.info(`SMTP alert "${a.subject}" sent to ${s.to.join(", ")}`, "smtp-alert");
    }
  }
}

// ---------------------------------------------------------------------------
// The daemon's subscription: control-plane events in, alerts out.

export interface AlertSubscriptionOptions {
  /** The control plane's event stream (SupervisorFacade.subscribe). */
  subscribe(listener: (e: EventV1) => void): () => void;
  /** The running effective configuration (re-read after each successful reload). */
  config(): Model;
  hostname: string;
  log: AlerterLog;
  now?: () => number;
}

export interface AlertSubscription {
  /** Waits for queued alerts to go out, at most `timeoutMs` (used when the daemon stops). */
  flush(timeoutMs: number): Promise<void>;
  stop(): void;
}

/** Mails keepalived's alerts for the daemon's events; configuration changes apply after a reload. */
export function subscribeAlerts(o: AlertSubscriptionOptions): AlertSubscription {
  let policy = new AlertPolicy(o.config(), o.hostname);
  let settings = smtpSettings(o.config(), o.hostname);
  let alerter = settings ? new SmtpAlerter({ settings, log: o.log, now: o.now }) : null;
  const draining = new Set<SmtpAlerter>();
  const unsubscribe = o.subscribe((e) => {
    if (e.type === "reload" && e.ok) {
      policy = new AlertPolicy(o.config(), o.hostname);
      const next = smtpSettings(o.config(), o.hostname);
      if (JSON.stringify(next) !== JSON.stringify(settings)) {
        // The old alerter finishes what it has queued, to the old relay.
        if (alerter) draining.add(alerter);
        settings = next;
        alerter = settings ? new SmtpAlerter({ settings, log: o.log, now: o.now }) : null;
      }
      return;
    }
    const alerts = policy.alertsFor(e);
    if (alerter) for (const a of alerts) alerter.enqueue(a);
  });
  return {
    async flush(timeoutMs) {
      await Promise.all([...draining, ...(alerter ? [alerter] : [])].map((a) => a.flush(timeoutMs)));
    },
    stop: unsubscribe,
  };
}
