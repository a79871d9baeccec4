// lvs_sync_daemon: IPVS connection synchronisation that follows one VRRP instance, as keepalived
// runs it (ipvswrapper.c ipvs_syncd_master/_backup, called from the VRRP process): the master sync
// daemon while the instance is MASTER, the backup sync daemon otherwise, neither after stop.
// Pure: the instance's state in, the start/stop commands out.
import type { Model } from "../config/schema.ts";
import type { GlobalDefsConfig, LvsSyncDaemonConfig } from "../config/spec/global.ts";
import type { SyncDaemonConfig, SyncDaemonState } from "../ipvs/types.ts";

/**
 * The sync daemon a configuration asks for: global_defs' lvs_sync_daemon, else the deprecated
 * `lvs_sync_daemon_interface IF` of the first vrrp_instance that has one, which keepalived 2.2.7
 * still honours as `lvs_sync_daemon IF inst THAT_INSTANCE` (after its deprecation warning).
 */
export function lvsSyncDaemonOf(effective: Model): LvsSyncDaemonConfig | undefined {
  const global = ((effective.global_defs ?? {}) as Partial<GlobalDefsConfig>).lvs_sync_daemon;
  if (global) return global;
  for (const [name, inst] of Object.entries((effective.vrrp_instance ?? {}) as Record<string, { lvs_sync_daemon_interface?: string }>)) {
    if (inst.lvs_sync_daemon_interface !== undefined) return { interface: inst.lvs_sync_daemon_interface, instance: name };
  }
  return undefined;
}

export type SyncdCommand = { op: "start"; daemon: SyncDaemonConfig } | { op: "stop"; state: SyncDaemonState };

export function syncDaemonConfig(c: LvsSyncDaemonConfig, state: SyncDaemonState): SyncDaemonConfig {
  return {
    state, interface: c.interface, syncId: c.id ?? 0,
    maxLength: c.maxlen, mcastGroup: c.group, mcastPort: c.port, mcastTtl: c.ttl,
  };
}

/** The daemon that should run for an instance state; null once stopped. */
export function wantedSyncDaemon(instanceState: string | null): SyncDaemonState | null {
  if (instanceState === null || instanceState === "STOP") return null;
  return instanceState === "MASTER" ? "master" : "backup";
}

/** Commands to go from the daemon running now to the wanted one (stop first: one role at a time). */
export function syncDaemonCommands(c: LvsSyncDaemonConfig, running: SyncDaemonState | null, wanted: SyncDaemonState | null): SyncdCommand[] {
  if (running === wanted) return [];
  const out: SyncdCommand[] = [];
  if (running !== null) out.push({ op: "stop", state: running });
  if (wanted !== null) out.push({ op: "start", daemon: syncDaemonConfig(c, wanted) });
  return out;
}
