// vrrp_sync_group semantics (keepalived vrrp_sync.c): the members move together. One in FAULT puts
// all in FAULT; one becoming MASTER takes the others to MASTER; one dropping to BACKUP takes the
// masters to BACKUP; a member may only become MASTER when every other member wants to as well.
// Pure helpers: the shell asks them after each step and feeds the returned events to the members.

import type { VrrpEvent, VrrpStateName } from "./state-machine.ts";

export interface SyncMember {
  name: string;
  state: VrrpStateName;
  faults: readonly string[];
  wantMaster: boolean;
}

export interface SyncFollowUp {
  name: string;
  event: VrrpEvent;
}

/** The fault source a group puts on members that are in FAULT only because another member is. */
export function syncFaultSource(group: string): string {
  return `sync group ${group}`;
}

function ownFault(m: SyncMember, group: string): boolean {
  return m.faults.some((f) => f !== syncFaultSource(group));
}

/**
 * vrrp_sync_can_goto_master: true only if no member is in FAULT and every other member is MASTER
 * or also waiting to become MASTER (prefers BACKUP to avoid thrashing).
 */
export function syncGroupMayBecomeMaster(members: readonly SyncMember[], name: string): boolean {
  return members.every((m) => m.name === name || m.state === "MASTER" || (m.state === "BACKUP" && m.wantMaster));
}

/**
 * Given the group after `changed` moved from `from` to its current state, the events that bring the
 * other members along. Idempotent: members already where they should be get nothing.
 */
export function syncGroupFollowUps(group: string, members: readonly SyncMember[], changed: { name: string; from: VrrpStateName }): SyncFollowUp[] {
  const source = syncFaultSource(group);
  const out: SyncFollowUp[] = [];
  const groupFaulted = members.some((m) => ownFault(m, group));
  for (const m of members) {
    const hasSyncFault = m.faults.includes(source);
    if (groupFaulted && !hasSyncFault && m.state !== "STOP" && !ownFault(m, group)) out.push({ name: m.name, event: { type: "faultSet", source } });
    if (!groupFaulted && hasSyncFault) out.push({ name: m.name, event: { type: "faultCleared", source } });
  }
  if (groupFaulted) return out;
  const mover = members.find((m) => m.name === changed.name);
  if (!mover) return out;
  for (const m of members) {
    if (m.name === mover.name) continue;
    if (mover.state === "MASTER" && changed.from !== "MASTER" && m.state === "BACKUP")
      out.push({ name: m.name, event: { type: "syncForce", state: "MASTER" } });
    if (mover.state === "BACKUP" && changed.from === "MASTER" && m.state === "MASTER")
      out.push({ name: m.name, event: { type: "syncForce", state: "BACKUP" } });
  }
  return out;
}
