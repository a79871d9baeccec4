// The VRRP child: maps each configuration onto the VRRP runtime and reports its state.
// It runs nothing else, so its heap stays small and its timers precise (see architecture.md).
import { ipvsNamespacePath } from "./instance-names.ts";
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import type { Model } from "../config/schema.ts";
import { setRealtimePriorityAllThreads } from "../net/realtime.ts";
import { IFA_F_SECONDARY, Rtnl, type AddressInfo } from "../netlink/rtnetlink.ts";
import { lookupUser } from "../util/users.ts";
import { machineEnv } from "../config/machine-env.ts";
import { instanceVerdicts, type ResolvedVrrp } from "../config/resolve-vrrp.ts";
import { ReceivePathError } from "../net/receiver.ts";
import { startVrrpRuntime, type RuntimeStatus, type VrrpRuntime } from "../vrrp/runtime.ts";
import { RESUME_ARG } from "./protocol.ts";
import { DEFAULT_NFT_SETTINGS, type NftSettings } from "../vrrp/firewall-plan.ts";
import { NftVipFirewall } from "../vrrp/firewall.ts";
import type { RoleContext, RoleFactory, RoleWorker } from "./role.ts";
import type { LvsSyncDaemonConfig } from "../config/spec/global.ts";
import { IpvsClient } from "../ipvs/client.ts";
import type { SyncDaemonState } from "../ipvs/types.ts";
import { lvsSyncDaemonOf, syncDaemonCommands, wantedSyncDaemon } from "./lvs-syncd.ts";
import { vrrpRuntimeConfig, type PrimaryAddressLookup } from "./vrrp-config.ts";

const STATUS_EVERY_MS = 2000;

/**
 * keepalived runs VRRP at normal priority unless vrrp_rt_priority is set; lbctl defaults to a
 * low real-time priority instead, because a JavaScript runtime on a busy machine misses 100 ms
 * adverts without it (bench/vrrp-load: spurious takeovers with both cores loaded). Threads the
 * child creates afterwards (the receive worker) inherit it. vrrp_rt_priority overrides it.
 */
export const DEFAULT_VRRP_RT_PRIORITY = 5;

/**
 * keepalived sends from the interface's primary IPv4 address and, for IPv6, its link-local
 * address. Addresses that are some instance's VIP are never chosen.
 */
export function primaryAddressFrom(links: Map<string, number>, addrs: AddressInfo[], vips: Set<string>): PrimaryAddressLookup {
  return (ifname, family) => {
    const index = links.get(ifname);
    if (index === undefined) return undefined;
    const mine = addrs.filter((a) => a.ifindex === index && a.family === family && !vips.has(a.address));
    if (family === 4) return (mine.find((a) => (a.flags & IFA_F_SECONDARY) === 0) ?? mine[0])?.address;
    return mine.find((a) => a.address.toLowerCase().startsWith("fe80:"))?.address ?? mine[0]?.address;
  };
}

function configuredVips(effective: Model): Set<string> {
  const out = new Set<string>();
  for (const inst of Object.values((effective.vrrp_instance ?? {}) as Record<string, { virtual_ipaddress?: { address: string }[] }>))
    for (const v of inst.virtual_ipaddress ?? []) out.add(v.address);
  return out;
}

async function primaryLookup(effective: Model): Promise<PrimaryAddressLookup> {
  const rtnl = Rtnl.open();
  try {
    const links = new Map((await rtnl.links()).map((l) => [l.name, l.index] as [string, number]));
    return primaryAddressFrom(links, await rtnl.addresses(), configuredVips(effective));
  } finally {
    rtnl.close();
  }
}

/** The runtime keeps time on the monotonic clock; the API speaks wall-clock milliseconds. */
function wallClockStatus(s: RuntimeStatus, model: ResolvedVrrp | null): RuntimeStatus {
  const withVerdicts = <T extends { name: string }>(i: T) => (model ? { ...i, verdicts: instanceVerdicts(model, i.name) } : i);
  const notStarted = (model?.instances ?? []).filter((r) => r.notStarted !== undefined).map((r) => ({ name: r.name, reason: r.notStarted! }));
  return {
    ...s,
    instances: s.instances.map((i) => withVerdicts(i.lastTransition ? { ...i, lastTransition: { ...i.lastTransition, at: i.lastTransition.wallTime } } : i)),
    ...(notStarted.length > 0 ? { notStarted } : {}),
  };
}

/** The sync daemon of lvs_sync_daemon, driven by its instance's transitions (see lvs-syncd.ts). */
class SyncDaemonDriver {
  private running: SyncDaemonState | null = null;
  private client: IpvsClient | null = null;
  private unavailable = false;
  private queue: Promise<void> = Promise.resolve();

  /** netnsPath: net_namespace_ipvs, where keepalived also runs the sync daemon (it is IPVS's). */
  constructor(private readonly ctx: RoleContext, private cfg: LvsSyncDaemonConfig, private readonly netnsPath?: string) {}

  reconfigure(cfg: LvsSyncDaemonConfig, state: string | null): void {
    const changed = JSON.stringify(cfg) !== JSON.stringify(this.cfg);
    if (changed) this.set(null); // restart with the new settings
    this.cfg = cfg;
    this.set(state);
  }

  get instance(): string | undefined { return this.cfg.instance; }

  /** `state` is the instance's VRRP state (null: stop everything). */
  set(state: string | null): Promise<void> {
    this.queue = this.queue.then(async () => {
      const wanted = wantedSyncDaemon(state);
      const commands = syncDaemonCommands(this.cfg, this.running, wanted);
      if (commands.length === 0) return;
      if (!this.client && !this.unavailable) {
        const opened = await IpvsClient.open({ netnsPath: this.netnsPath });
        if (opened.ok) this.client = opened.value;
        else {
          this.unavailable = true;
          this.ctx.log("err", `lvs_sync_daemon not started: ${opened.error}`);
        }
      }
      if (!this.client) return;
      for (const c of commands) {
        const r = c.op === "stop" ? await this.client.stopDaemon(c.state) : await this.client.startDaemon(c.daemon);
        if (!r.ok) this.ctx.log("err", `lvs_sync_daemon: ${c.op} ${c.op === "stop" ? c.state : c.daemon.state} sync daemon on ${this.cfg.interface}: ${r.error}`);
        else this.ctx.log("info", `lvs_sync_daemon: ${c.op === "stop" ? "stopped" : "started"} the ${c.op === "stop" ? c.state : c.daemon.state} sync daemon on ${this.cfg.interface}`);
      }
      this.running = wanted;
      if (wanted === null) { this.client.close(); this.client = null; }
    });
    return this.queue;
  }
}

/** keepalived's nftables globals (`vrrp_iptables` also means nftables with the default table). */
export function nftSettings(global: Partial<GlobalDefsConfig>): NftSettings {
  return {
    table: global.nftables?.[0] ?? DEFAULT_NFT_SETTINGS.table,
    priority: global.nftables_priority ?? DEFAULT_NFT_SETTINGS.priority,
    counters: global.nftables_counters ?? false,
    ifindex: global.nftables_ifindex ?? false,
  };
}

const vrrpRole: RoleFactory = (ctx, argv): RoleWorker => {
  const resume = argv.includes(RESUME_ARG);
  let runtime: VrrpRuntime | null = null;
  let firewall: NftVipFirewall | null = null;
  let syncd: SyncDaemonDriver | null = null;
  const instanceState = (name: string | undefined): string =>
    (name && runtime?.status().instances.find((i) => i.name === name)?.state) || "BACKUP";
  const followSyncd = (effective: Model) => {
    const cfg = lvsSyncDaemonOf(effective);
    if (!cfg) { void syncd?.set(null); syncd = null; return; }
    // net_namespace_ipvs cannot change at a reload (the supervisor refuses it), so the first one holds.
    syncd ??= new SyncDaemonDriver(ctx, cfg, ipvsNamespacePath(effective));
    syncd.reconfigure(cfg, instanceState(cfg.instance));
  };
  let statusTimer: ReturnType<typeof setInterval> | null = null;
  /** The resolved configuration in force: its verdicts go with each status. */
  let model: ResolvedVrrp | null = null;
  const publish = () => { if (runtime) ctx.send({ type: "status", status: wallClockStatus(runtime.status(), model) as unknown as Record<string, unknown> }); };

  return {
    async configure(effective, reload) {
      try {
        await apply(effective, reload);
      } catch (e) {
        // Without sockets or a receive path VRRP cannot work at all: exit (the supervisor restarts
        // this process with back-off) rather than run deaf or not at all while looking alive.
        if (e instanceof ReceivePathError || !runtime) ctx.fatal(`VRRP: ${(e as Error).message}`);
        else throw e;
      }
    },
    async status() {
      return runtime ? wallClockStatus(runtime.status(), model) as unknown as Record<string, unknown> : undefined;
    },
    async stop() {
      if (statusTimer) clearInterval(statusTimer);
      await runtime?.stop();
      runtime = null;
      await syncd?.set(null);
    },
    async action(action, args) {
      if (!runtime) return { ok: false, message: "VRRP is not running" };
      const name = args.instance ?? "";
      const r = action === "force-backup" ? runtime.forceBackup(name) : action === "resume" ? runtime.resume(name) : { ok: false as const, error: `unknown action '${action}'` };
      publish();
      return r.ok ? { ok: true, message: `${action} ${name}` } : { ok: false, message: r.error };
    },
  };

  async function apply(effective: Model, reload: boolean): Promise<void> {
    // The same look-ups as `lbctl check` (machineEnv), so both reach the same verdicts.
    const { config, model: resolved } = vrrpRuntimeConfig(effective, {
      ...machineEnv({ checkInterfaces: false }),
      primaryAddress: await primaryLookup(effective),
      user: (u, g) => lookupUser(u, g),
    });
    // The model's verdicts, in the words `lbctl check` prints: what is disabled is not run.
    model = resolved;
    for (const v of model.verdicts) ctx.log(v.severity === "error" ? "err" : "warning", v.message, v.type === "notStarted" ? v.instance : undefined);
    const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
    if (!runtime) {
      // no_accept / strict instances: traffic to their VIPs dropped by nftables while they hold them
      firewall = new NftVipFirewall(nftSettings(global), (level, message) => ctx.log(level === "error" ? "err" : level, message));
      runtime = await startVrrpRuntime({
        ...config,
        firewall,
        realtimePriority: global.vrrp_rt_priority ?? DEFAULT_VRRP_RT_PRIORITY,
        resume,
        log: (level, message) => ctx.log(level === "error" ? "err" : level, message),
        onFatal: (cause) => ctx.fatal(`VRRP: ${cause}`),
        onEvent: (event) => {
          if (event.type === "transition") {
            if (syncd && event.instance === syncd.instance) void syncd.set(event.to);
            ctx.send({ type: "event", event: { ...event, at: Math.round(Date.now() - (performance.now() - event.at)) } });
            publish();
          } else if (event.type === "peerMismatch") {
            ctx.send({ type: "event", event: { ...event } });
            publish();
          }
        },
      });
      // A table of ours left by a crash goes now, not at the first MASTER as in keepalived: until then it
      // would drop traffic to VIPs a BACKUP may take, or forever if the new config accepts it. After the
      // start, so that addresses a resumed process still holds were blocked again first (that batch
      // replaced the old table at once, keeping them blocked throughout).
      if (config.instances.length > 0) firewall.removeStale();
      // Every thread of this process real-time, the engine's helpers included (see realtime.ts);
      // again with each status round, for threads the engine starts later.
      const rt = global.vrrp_rt_priority ?? DEFAULT_VRRP_RT_PRIORITY;
      const allThreadsRealtime = () => { try { setRealtimePriorityAllThreads(rt); } catch (e) { ctx.log("warning", `real-time priority: ${(e as Error).message}`); } };
      allThreadsRealtime();
      statusTimer = setInterval(() => { allThreadsRealtime(); publish(); }, STATUS_EVERY_MS);
    } else if (reload) {
      // As keepalived ("Cannot change nftables table name at a reload"): the tables in place stay as they are.
      if (firewall && JSON.stringify(nftSettings(global)) !== JSON.stringify(firewall.settings)) {
        ctx.log("warning", "nftables settings changed: they apply after a restart of lbctl");
      }
      const r = await runtime.reload(config);
      for (const e of r.errors) ctx.log("err", e);
      ctx.log("info", `reload: ${r.kept.length} kept, ${r.reconfigured.length} reconfigured in place, ${r.started.length} started, ${r.restarted.length} restarted, ${r.removed.length} removed`);
    }
    followSyncd(effective);
    publish();
  }
};
export default vrrpRole;
