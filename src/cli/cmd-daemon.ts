// `lbctl daemon`: the supervisor in the foreground, for systemd (Type=notify) or a terminal.
import { loadConfig, defaultConfig } from "../config/load.ts";
import type { Model } from "../config/schema.ts";
import type { Role } from "../daemon/child.ts";
import { hasRole } from "../daemon/role.ts";
import { SystemdNotifier } from "../daemon/sd-notify.ts";
import { Supervisor } from "../daemon/supervisor.ts";
import { Logger } from "../util/log.ts";
import { parseFacility, SyslogSink } from "../util/syslog.ts";
import { VERSION } from "../version.ts";
import { startControlPlane, type ControlPlane } from "../daemon/control-api.ts";
import { parseListen, resolveMetricsListen, serveMetrics } from "../daemon/metrics.ts";
import { dumpDir, installKeepalivedSignals } from "../daemon/keepalived-signals.ts";
import { subscribeAlerts } from "../daemon/smtp-alert.ts";
import { hostname } from "node:os";
import { rmSync, writeFileSync } from "node:fs";
import type { LoadedConfig } from "../config/load.ts";
import { locOfKey } from "../config/schema.ts";
import { drainFilePath, dumpFileName, identityChange, identityLabel, identityOf, ipvsNamespaceName, resolveSocketPath } from "../daemon/instance-names.ts";
import { enterNetns } from "../net/netns.ts";
import type { Command } from "./command.ts";

interface DaemonArgs {
  file?: string; configId?: string; vrrpOnly: boolean; checkOnly: boolean; socket?: string; metricsListen?: string;
  /** A child silent for this long is taken as hung, killed and restarted. */
  heartbeatTimeoutMs?: number;
  /** Log to syslog (this facility) instead of stdout. */
  syslogFacility?: number;
  pidFile?: string;
  /** keepalived's -s/--namespace: run in this network namespace, whatever net_namespace says. */
  namespace?: string;
}

function parseArgs(argv: string[]): DaemonArgs | string {
  const a: DaemonArgs = { vrrpOnly: false, checkOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${arg} needs a value`); return v; };
    try {
      if (arg === "-f" || arg === "--use-file" || arg === "--file") a.file = value();
      else if (arg === "-i" || arg === "--config-id") a.configId = value();
      else if (arg === "-P" || arg === "--vrrp" || arg === "--vrrp-only") a.vrrpOnly = true;
      else if (arg === "-C" || arg === "--check" || arg === "--check-only") a.checkOnly = true;
      else if (arg === "--socket") a.socket = value();
      else if (arg === "-s" || arg === "--namespace") a.namespace = value();
      else if (arg === "--metrics-listen") a.metricsListen = value();
      else if (arg === "--syslog" || arg === "-S" || arg === "--log-facility") {
        const f = parseFacility(value());
        if (f === undefined) return `${arg} takes a facility: 0..7 (local0..local7) or a name such as daemon`;
        a.syslogFacility = f;
      }
      else if (arg === "--heartbeat-timeout") {
        const v = Number(value());
        if (!(v >= 0.5 && v <= 3600)) return "--heartbeat-timeout takes seconds, 0.5..3600";
        a.heartbeatTimeoutMs = v * 1000;
      }
      // keepalived's main pid file, which exporters read to know whom to signal.
      else if (arg === "-p" || arg === "--pid") a.pidFile = value();
      else if (arg === "-n" || arg === "--dont-fork" || arg === "-l" || arg === "--log-console" || arg === "-D" || arg === "--log-detail") {
        // keepalived's flags for the same behaviour: lbctl always runs in the foreground and logs to stdout.
      } else return `unknown option '${arg}'`;
    } catch (e) { return (e as Error).message; }
  }
  if (a.vrrpOnly && a.checkOnly) return "--vrrp-only and --check-only exclude each other";
  return a;
}

/** keepalived starts the checker only with virtual servers, and VRRP only with instances. */
export function rolesFor(effective: Model, a: Pick<DaemonArgs, "vrrpOnly" | "checkOnly">): Role[] {
  const roles: Role[] = [];
  const instances = effective.vrrp_instance as Record<string, unknown> | undefined;
  const servers = effective.virtual_server as unknown[] | undefined;
  if (!a.checkOnly && instances && Object.keys(instances).length > 0) roles.push("vrrp");
  if (!a.vrrpOnly && servers && servers.length > 0) roles.push("check");
  return roles.filter(hasRole);
}

const cmd: Command = {
  summary: "Run lbctl in the foreground: VRRP, IPVS and health checks from the configuration.\n" +
    "SIGHUP reloads (a bad file keeps the running configuration), SIGTERM stops cleanly.\n" +
    "As keepalived: SIGUSR1 writes $TMPDIR/keepalived.data, SIGUSR2 keepalived.stats, signal 36 keepalived.json.\n" +
    "Without -f: /etc/lbctl/lbctl.toml if it sets anything (comments alone do not count), else\n" +
    "/etc/keepalived/keepalived.conf; the file and the reason are logged at start and shown by `lbctl status`.\n" +
    "With net_namespace NS (or --namespace NS, keepalived's -s) the daemon enters /run/netns/NS before it starts\n" +
    "anything and listens on /run/lbctl/NS/lbctl.sock; `instance NAME` gives lbctl_NAME.sock; the dump files are\n" +
    "named keepalived.NS_NAME.data and so on. --socket, else $LBCTL_SOCKET, still wins over these names.",
  usage: "lbctl daemon [-f FILE] [--config-id ID] [--namespace|-s NS] [--vrrp-only|-P] [--check-only|-C] [--socket PATH] [--metrics-listen ADDR:PORT] [--heartbeat-timeout S] [--pid|-p FILE] [--syslog FACILITY]",
  async run(argv) {
    const a = parseArgs(argv);
    if (typeof a === "string") { process.stderr.write(`lbctl daemon: ${a}\n`); return 64; }
    const metrics = resolveMetricsListen(a.metricsListen, process.env);
    if (metrics && "error" in metrics) { process.stderr.write(`lbctl daemon: --metrics-listen: ${metrics.error}\n`); return 64; }
    // stdout with priority prefixes suits journald; --syslog (keepalived's -S) sends to /dev/log.
    const log = a.syslogFacility === undefined ? new Logger() : new Logger(new SyslogSink(a.syslogFacility));
    const notifier = new SystemdNotifier();
    const choice = defaultConfig(a.file);
    if ("error" in choice) { log.err(choice.error); process.stderr.write(`lbctl daemon: ${choice.error}\n`); return 1; }
    const { path: configPath, reason: configReason } = choice;
    log.notice(`configuration: ${configPath} (${configReason})`);
    // The file is read once here, before anything starts, for the namespace and instance that name
    // this daemon; the same result is the supervisor's first load (interfaces are checked in the
    // configured namespace, see validate-netns.ts).
    let firstLoad: LoadedConfig | undefined = loadConfig(configPath, { configId: a.configId, namespace: a.namespace });
    const identity = identityOf(firstLoad.effective, a.namespace);
    const ipvsNs = ipvsNamespaceName(firstLoad.effective);
    if (identity.namespace !== undefined) {
      notifier.open();
      try {
        // Before the control socket, the children and every other socket: they all live there.
        enterNetns(identity.namespace);
      } catch (e) {
        const loc = a.namespace === undefined ? locOfKey(firstLoad.effective, "net_namespace") : undefined;
        const where = a.namespace !== undefined ? "--namespace: " : loc ? `${loc.file}:${loc.line}:${loc.col}: ` : `${configPath}: `;
        const msg = `${where}${(e as Error).message}; not starting`;
        log.err(msg);
        process.stderr.write(`lbctl daemon: ${msg}\n`);
        return 1;
      }
      log.notice(`running in network namespace ${identity.namespace}`);
    }
    if (identity.namespace !== undefined || identity.instance !== undefined) log.notice(`this daemon is ${identityLabel(identity)}`);
    let plane: ControlPlane | null = null;
    const sup = new Supervisor({
      configPath,
      load: (p) => {
        if (firstLoad) { const f = firstLoad; firstLoad = undefined; return f; }
        // A reload re-reads the file chosen at start; say so if the rule would now choose another.
        if (a.file === undefined) {
          const now = defaultConfig();
          if (!("error" in now) && now.path !== p) log.warning(`${now.path} now applies (${now.reason}), but a reload re-reads ${p}: restart lbctl to switch`);
        }
        const loaded = loadConfig(p, { configId: a.configId, namespace: a.namespace, enteredNamespace: identity.namespace });
        // keepalived refuses these at a reload too ("please restart"): the daemon already runs there.
        for (const m of identityChange(identity, identityOf(loaded.effective, a.namespace), { before: ipvsNs, after: ipvsNamespaceName(loaded.effective) })) {
          loaded.diag.error(m, locOfKey(loaded.effective, m.split(" ")[0]!) ?? { file: p, line: 1, col: 1 });
        }
        return loaded;
      },
      rolesFor: (eff) => rolesFor(eff, a),
      log, notifier,
      heartbeatTimeoutMs: a.heartbeatTimeoutMs,
      onEvent: (role, ev) => plane?.facade.childEvent(role, ev),
      onChild: (role, pid, change, detail) => plane?.facade.childChanged(role, pid, change, detail),
      onChildReady: (role) => { if (role === "check") void plane?.facade.reapplyDrains(); },
      // A part that cannot work fails the whole daemon, loudly: systemd sees the exit status.
      onGiveUp: (role) => void stop(`${role} cannot run`, 1),
    });
    // The API comes up first so that no early transition is missing from the event stream.
    try {
      const socketPath = resolveSocketPath({ socket: a.socket, env: process.env.LBCTL_SOCKET, identity });
      plane = await startControlPlane({ supervisor: sup, configPath, configReason, version: VERSION, socketPath, drainFile: drainFilePath(identity, socketPath), metrics, log });
    } catch (e) {
      process.stderr.write(`lbctl daemon: ${(e as Error).message}\n`);
      return 1;
    }
    const controlPlane = plane;
    // keepalived's dump signals (SIGUSR1/SIGUSR2/36 -> /tmp/keepalived.*), installed before the
    // children start so that an early signal finds a handler instead of killing the daemon.
    installKeepalivedSignals({ dir: dumpDir(process.env), fileName: (base) => dumpFileName(base, identity), status: () => controlPlane.facade.status(), refresh: () => controlPlane.facade.freshStatus().then(() => {}), config: () => sup.config, hostname: hostname(), log });
    const started = sup.start();
    if (!started.ok) {
      process.stderr.write(`lbctl daemon: not starting, ${started.errors.length} error(s) in ${configPath}\n`);
      await plane.stop();
      return 1;
    }
    // metrics_listen in the configuration, unless the command line already chose.
    let configMetrics: { stop(): Promise<void> } | null = null;
    const fromConfig = (sup.config.global_defs as { metrics_listen?: string } | undefined)?.metrics_listen;
    if (!metrics && fromConfig) {
      const listen = parseListen(fromConfig);
      if ("error" in listen) log.err(`metrics_listen: ${listen.error}; metrics are off`);
      else {
        try {
          configMetrics = serveMetrics({ ...listen, status: () => controlPlane.facade.freshStatus() });
          log.notice(`metrics on ${listen.hostname}:${listen.port}`);
        } catch (e) { log.err(`cannot serve metrics on ${fromConfig}: ${(e as Error).message}`); }
      }
    }
    if (a.pidFile) {
      try { writeFileSync(a.pidFile, `${process.pid}\n`, { mode: 0o644 }); } catch (e) { log.warning(`cannot write pid file ${a.pidFile}: ${(e as Error).message}`); }
    }
    // SMTP alerts from the event stream; subscribed in the same tick as start(), before any child event.
    const alerts = subscribeAlerts({ subscribe: (l) => controlPlane.facade.subscribe(l), config: () => sup.config, hostname: hostname(), log });
    const pidFile = a.pidFile;
    let stopping = false;
    async function stop(why: string, code = 0): Promise<void> {
      if (stopping) return;
      stopping = true;
      if (code === 0) log.notice(`${why}: stopping`);
      else log.crit(`${why}: stopping, exit status ${code}`);
      await sup.stop();
      // The children's last transitions (STOP) are alerts too: give them a moment to go out.
      await alerts.flush(2000);
      alerts.stop();
      if (pidFile) rmSync(pidFile, { force: true });
      await plane?.stop();
      await configMetrics?.stop();
      notifier.close();
      process.exit(code);
    }
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    // Through the facade, so the reload shows in the event stream and drains are re-sent.
    process.on("SIGHUP", () => { if (!stopping) void plane?.facade.reload(); });
    await sup.whenReady();
    log.notice(`lbctl running with ${configPath} (${sup.childInfo().map((c) => `${c.role} pid ${c.pid}`).join(", ") || "nothing to run"})`);
    notifier.ready("running");
    return await new Promise<number>(() => { /* runs until a signal */ });
  },
};
export default cmd;
