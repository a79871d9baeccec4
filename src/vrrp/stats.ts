// Per-instance counters named after VRRP-MIB (RFC 2787 vrrpRouterStatsTable, RFC 6527 for v3), as
// keepalived keeps them (vrrp_data.h vrrp_stats; printed by SIGUSR2 into keepalived.stats).

import type { DropReason } from "./packet.ts";
import type { VrrpAction } from "./state-machine.ts";

export interface VrrpStats {
  advertisementsReceived: number;
  advertisementsSent: number;
  becomeMaster: number;
  releaseMaster: number;
  priorityZeroPktsRcvd: number;
  /** Priority-0 adverts put on the wire (keepalived counts the pair it sends on MASTER -> FAULT as one). */
  priorityZeroPktsSent: number;
  authFailures: number;
  invalidAuthType: number;
  authTypeMismatch: number;
  ipTtlErrors: number;
  packetLengthErrors: number;
  invalidTypePktsRcvd: number;
  addressListErrors: number;
  advertIntervalErrors: number;
  checksumErrors: number;
  versionErrors: number;
  /** Packets for a VRID that is not this instance's (RFC 6527 vrrpv3StatisticsRouterVrIdErrors). */
  vridErrors: number;
}

export type StatsCounter = keyof VrrpStats;

export function emptyStats(): VrrpStats {
  return {
    advertisementsReceived: 0,
    advertisementsSent: 0,
    becomeMaster: 0,
    releaseMaster: 0,
    priorityZeroPktsRcvd: 0,
    priorityZeroPktsSent: 0,
    authFailures: 0,
    invalidAuthType: 0,
    authTypeMismatch: 0,
    ipTtlErrors: 0,
    packetLengthErrors: 0,
    invalidTypePktsRcvd: 0,
    addressListErrors: 0,
    advertIntervalErrors: 0,
    checksumErrors: 0,
    versionErrors: 0,
    vridErrors: 0,
  };
}

/**
 * The counters a drop reason increments. keepalived counts an advert as received once type, version,
 * length, TTL, auth and checksum are fine, so the checks after that point also bump advertisementsReceived.
 */
export const DROP_COUNTERS: Record<DropReason, readonly StatsCounter[]> = {
  malformedIpHeader: ["packetLengthErrors"],
  packetTooShort: ["packetLengthErrors"],
  lengthMismatch: ["packetLengthErrors"],
  ttlError: ["ipTtlErrors"],
  versionMismatch: ["versionErrors"],
  vridMismatch: ["vridErrors"],
  invalidAuthType: ["invalidAuthType"],
  authTypeMismatch: ["authTypeMismatch"],
  authFailure: ["authFailures"],
  advertIntervalMismatch: ["advertIntervalErrors"],
  invalidType: ["invalidTypePktsRcvd"],
  addressCountMismatch: ["addressListErrors"],
  checksumError: ["checksumErrors"],
  castMismatch: ["addressListErrors"],
  addressListMismatch: ["advertisementsReceived", "addressListErrors"],
  unicastSourceNotPeer: ["advertisementsReceived"],
};

/** What can be counted: a drop, an accepted advert (with its priority), or an action the machine emitted. */
export type Countable = DropReason | { type: "received"; priority: number } | VrrpAction;

function bump(stats: VrrpStats, counters: readonly StatsCounter[]): VrrpStats {
  if (counters.length === 0) return stats;
  const next = { ...stats };
  for (const c of counters) next[c] += 1;
  return next;
}

function countersFor(what: Countable): readonly StatsCounter[] {
  if (typeof what === "string") return DROP_COUNTERS[what] ?? [];
  switch (what.type) {
    case "received":
      return what.priority === 0 ? ["advertisementsReceived", "priorityZeroPktsRcvd"] : ["advertisementsReceived"];
    case "sendAdvert":
      return what.priority === 0 ? ["advertisementsSent", "priorityZeroPktsSent"] : ["advertisementsSent"];
    case "transition":
      if (what.to === "MASTER") return ["becomeMaster"];
      // release_master counts vrrp_state_leave_master, i.e. MASTER -> BACKUP or FAULT, not shutdown.
      if (what.from === "MASTER" && (what.to === "BACKUP" || what.to === "FAULT")) return ["releaseMaster"];
      return [];
    default:
      return [];
  }
}

/** Pure: a new stats object with the counters for `what` incremented. */
export function count(stats: VrrpStats, what: Countable): VrrpStats {
  return bump(stats, countersFor(what));
}

/** Folds a step's actions into the stats (adverts sent, mastership gained and released). */
export function countActions(stats: VrrpStats, actions: readonly VrrpAction[]): VrrpStats {
  return actions.reduce(count, stats);
}
