// `lbctl daemon`: the supervisor in the foreground, for systemd (Type=notify) or a terminal.
import { loadConfig, defaultConfigPath } from "../config/load.ts";
import type { Model } from "../config/schema.ts";
import type { Role } from "../daemon/child.ts";
import { hasRole } from "../daemon/role.ts";
import { SystemdNotifier } from "../daemon/sd-notify.ts";
import { Supervisor } from "../daemon/supervisor.ts";
import { Logger } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { startControlPlane, type ControlPlane } from "../daemon/control-api.ts";
import { resolveMetricsListen } from "../daemon/metrics.ts";
import type { Command } from "./command.ts";

interface DaemonArgs { file?: string; configId?: string; vrrpOnly: boolean; checkOnly: boolean; socket?: string; metricsListen?: string }

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
      else if (arg === "--metrics-listen") a.metricsListen = value();
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
    "SIGHUP reloads (a bad file keeps the running configuration), SIGTERM stops cleanly.",
  usage: "lbctl daemon [-f FILE] [--config-id ID] [--vrrp-only|-P] [--check-only|-C] [--socket PATH] [--metrics-listen ADDR:PORT]",
  async run(argv) {
    const a = parseArgs(argv);
    if (typeof a === "string") { process.stderr.write(`lbctl daemon: ${a}\n`); return 64; }
    const metrics = resolveMetricsListen(a.metricsListen, process.env);
    if (metrics && "error" in metrics) { process.stderr.write(`lbctl daemon: --metrics-listen: ${metrics.error}\n`); return 64; }
    const log = new Logger();
    const notifier = new SystemdNotifier();
    const configPath = a.file ?? defaultConfigPath();
    let plane: ControlPlane | null = null;
    const sup = new Supervisor({
      configPath,
      load: (p) => loadConfig(p, { configId: a.configId }),
      rolesFor: (eff) => rolesFor(eff, a),
      log, notifier,
      onEvent: (role, ev) => plane?.facade.childEvent(role, ev),
      onChild: (role, pid, change, detail) => plane?.facade.childChanged(role, pid, change, detail),
      onChildReady: (role) => { if (role === "check") void plane?.facade.reapplyDrains(); },
    });
    // The API comes up first so that no early transition is missing from the event stream.
    try {
      plane = await startControlPlane({ supervisor: sup, configPath, version: VERSION, socketPath: a.socket, metrics, log });
    } catch (e) {
      process.stderr.write(`lbctl daemon: ${(e as Error).message}\n`);
      return 1;
    }
    const started = sup.start();
    if (!started.ok) {
      process.stderr.write(`lbctl daemon: not starting, ${started.errors.length} error(s) in ${configPath}\n`);
      await plane.stop();
      return 1;
    }
    let stopping = false;
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.notice(`${sig}: stopping`);
      await sup.stop();
      await plane?.stop();
      notifier.close();
      process.exit(0);
    };
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
