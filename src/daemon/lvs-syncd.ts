// lvs_sync_daemon: IPVS connection synchronisation that follows one VRRP instance, as keepalived
// runs it (ipvswrapper.c ipvs_syncd_master/_backup, called from the VRRP process): the master sync
// daemon while the instance is MASTER, the backup sync daemon otherwise, neither after stop.
// Pure: the instance's state in, the start/stop commands out.
import type { LvsSyncDaemonConfig } from "../config/spec/global.ts";
import type { SyncDaemonConfig, SyncDaemonState } from "../ipvs/types.ts";

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
