// The VRRP instance state machine (RFC 3768 §6.4, RFC 5798 §6.4) as keepalived 2.2.7 runs it
// (vrrp.c: vrrp_state_backup, vrrp_state_master_rx/tx, vrrp_state_leave_master/fault;
// vrrp_scheduler.c: vrrp_init_state, vrrp_dispatcher_read/_read_timeout, try_up_instance).
// Pure and deterministic: time comes in as `now` (ms), effects go out as actions; the shell arms one
// timer at nextDeadline() and feeds { type: "timer" } back.

import { compareAddressBytes, parseIp } from "./inet.ts";
import { normalizeParams } from "./params.ts";
import { VRRP_PRIORITY_OWNER, type VrrpInstanceParams } from "./types.ts";

export type VrrpStateName = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";
export type TimerName = "masterDown" | "advert" | "garpMasterDelay" | "garpLowerPrio";
export type NotifyState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

export interface VrrpInstance {
  readonly params: VrrpInstanceParams;
  readonly state: VrrpStateName;
  /** Configured priority; keepalived lowers it to 254 when two address owners meet. */
  readonly basePriority: number;
  /** Priority in our adverts and elections (base plus tracking weights, clamped 1..254 unless owner). */
  readonly effectivePriority: number;
  /** Master_Adver_Interval: ours, or (v3, BACKUP) the one learned from the master's adverts. */
  readonly masterAdvertIntervalMs: number;
  /** keepalived's ms_down_timer: the master down interval in force. */
  readonly masterDownIntervalMs: number;
  /** Source address of the current master as last seen (ours while MASTER). */
  readonly masterAddress: string | null;
  readonly masterPriority: number | null;
  /** preempt_delay: lower-priority adverts are honoured until this time (keepalived's preempt_time). */
  readonly preemptAt: number | null;
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  readonly garpRefreshAt: number | null;
  /** Active fault sources (interface down, failing weight-0 script, sync group ...). */
  readonly faults: readonly string[];
  readonly vipsSet: boolean;
  /** Held in BACKUP by the control API. */
  readonly forcedBackup: boolean;
  /** The master down timer fired but the sync group did not let us become MASTER yet. */
  readonly wantMaster: boolean;
  readonly lastTransition: number;
}

/** What the state machine needs from a received, already validated advert. */
export interface AdvertInfo {
  priority: number;
  advertIntervalMs: number;
  source: string;
}

export type VrrpEvent =
  /**
   * `holding`: the addresses are still in place from a VRRP process that died (runtime `resume`): hold
   * them in BACKUP for one advert interval; with no better master heard by then, become MASTER again.
   */
  | { type: "startup"; holding?: boolean }
  | { type: "advertReceived"; advert: AdvertInfo }
  /** Fires every timer whose deadline is <= now, earliest first. */
  | { type: "timer" }
  /** Base priority plus tracking weights; clamped here as keepalived does. */
  | { type: "priorityChanged"; totalPriority: number }
  | { type: "faultSet"; source: string }
  | { type: "faultCleared"; source: string }
  | { type: "shutdown" }
  | { type: "forceBackup" }
  | { type: "resume" }
  /** A sync group member moved and drags this one along (see sync-group.ts). */
  | { type: "syncForce"; state: "MASTER" | "BACKUP" }
  /**
   * A reload changed the instance's settings but not its identity (name, interface, VRID, family): the
   * state and timers stay, the new values apply from now on. `totalPriority` is the new base priority
   * plus tracking weights, as for priorityChanged.
   */
  | { type: "reconfigure"; params: VrrpInstanceParams; totalPriority: number };

export type GarpReason = "becomeMaster" | "masterDelay" | "lowerPriority" | "refresh";

export type VrrpAction =
  | { type: "sendAdvert"; priority: number }
  | { type: "addVips" }
  | { type: "removeVips" }
  /** Send `repeat` gratuitous ARPs / unsolicited NAs for every VIP (spacing is the shell's garp_interval). */
  | { type: "sendGarp"; repeat: number; reason: GarpReason }
  | { type: "notify"; state: NotifyState }
  /** keepalived's notify_master_rx_lower_pri event. */
  | { type: "notifyMasterRxLowerPriority"; from: string; priority: number }
  | { type: "setTimer"; name: TimerName; deadline: number }
  | { type: "cancelTimer"; name: TimerName }
  | { type: "transition"; from: VrrpStateName; to: VrrpStateName; reason: string }
  | { type: "log"; message: string };

export interface StepResult {
  state: VrrpInstance;
  actions: VrrpAction[];
}

export interface StepContext {
  /** Sync group gate (vrrp_sync_can_goto_master); true when not in a group. */
  syncMayBecomeMaster?: boolean;
}

/**
 * Skew_Time. v2 (RFC 3768 §6.1): (256 - Priority) / 256 s. v3 (RFC 5798 §6.1):
 * ((256 - Priority) * Master_Adver_Interval) / 256. Kept exact in ms; keepalived's VRRP_TIMER_SKEW
 * truncates to whole microseconds, less than 1 µs away.
 */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdvertIntervalMs: number): number {
  return version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * masterAdvertIntervalMs) / 256;
}

/** Master_Down_Interval = down_timer_adverts (3 in the RFCs) * Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: 2 | 3, priority: number, masterAdvertIntervalMs: number, downTimerAdverts = 3): number {
  return downTimerAdverts * masterAdvertIntervalMs + skewTimeMs(version, priority, masterAdvertIntervalMs);
}

/**
 * A new instance in INIT. Applies keepalived's fix-ups (normalizeParams, idempotent) so they cannot be
 * skipped; call validateParams first and log normalizeParams' warnings.
 */
export function createInstance(configured: VrrpInstanceParams, now: number): VrrpInstance {
  const params = normalizeParams(configured).params;
  return {
    params,
    state: "INIT",
    basePriority: params.priority,
    effectivePriority: params.priority,
    masterAdvertIntervalMs: params.advertIntervalMs,
    masterDownIntervalMs: masterDownIntervalMs(params.version, params.priority, params.advertIntervalMs, params.downTimerAdverts),
    masterAddress: null,
    masterPriority: null,
    preemptAt: null,
    timers: {},
    garpRefreshAt: null,
    faults: [],
    vipsSet: false,
    forcedBackup: false,
    wantMaster: false,
    lastTransition: now,
  };
}

/** The earliest armed deadline, or null when no timer is needed. */
export function nextDeadline(inst: VrrpInstance): number | null {
  let next: number | null = null;
  for (const deadline of Object.values(inst.timers)) {
    if (deadline !== undefined && (next === null || deadline < next)) next = deadline;
  }
  return next;
}

/**
 * Whether the address list of an advert from `source` must be checked (AdvertExpectations.checkAddresses).
 * keepalived (vrrp_state_backup): always, except in BACKUP with vrrp_skip_check_adv_addr when the advert
 * comes from the master already known.
 */
export function checksAdvertAddresses(inst: VrrpInstance, source: string, skipCheckAdvAddr: boolean): boolean {
  if (!skipCheckAdvAddr || inst.state !== "BACKUP" || inst.masterAddress === null) return true;
  const a = parseIp(source, inst.params.family);
  const b = parseIp(inst.masterAddress, inst.params.family);
  return !a || !b || compareAddressBytes(a, b) !== 0;
}

type Draft = { -readonly [K in keyof VrrpInstance]: VrrpInstance[K] } & {
  timers: Partial<Record<TimerName, number>>;
  faults: string[];
};

/** Mutable working copy for one step; `emit` collects actions in order. */
class Stepper {
  readonly d: Draft;
  readonly actions: VrrpAction[] = [];

  constructor(
    readonly before: VrrpInstance,
    readonly now: number,
    readonly ctx: StepContext,
  ) {
    this.d = { ...before, timers: { ...before.timers }, faults: [...before.faults] };
  }

  get p(): VrrpInstanceParams {
    return this.d.params;
  }

  emit(a: VrrpAction): void {
    this.actions.push(a);
  }

  log(message: string): void {
    this.emit({ type: "log", message: `(${this.p.name}) ${message}` });
  }

  skew(): number {
    return skewTimeMs(this.p.version, this.d.effectivePriority, this.d.masterAdvertIntervalMs);
  }

  downInterval(): number {
    return masterDownIntervalMs(this.p.version, this.d.effectivePriority, this.d.masterAdvertIntervalMs, this.p.downTimerAdverts);
  }

  transition(to: VrrpStateName, reason: string): void {
    const from = this.d.state;
    this.d.state = to;
    this.d.lastTransition = this.now;
    this.emit({ type: "transition", from, to, reason });
    this.log(`Entering ${to} STATE (${reason})`);
  }

  /** BACKUP's only timer; never armed while the control API holds us in BACKUP. */
  armMasterDown(): void {
    if (this.d.forcedBackup) delete this.d.timers.masterDown;
    else this.d.timers.masterDown = this.now + this.d.masterDownIntervalMs;
  }

  sendGarp(repeat: number, reason: GarpReason): void {
    if (repeat > 0 && this.p.vips.length > 0) this.emit({ type: "sendGarp", repeat, reason });
  }

  /** vrrp_state_goto_master + vrrp_state_master_tx + vrrp_state_become_master. */
  becomeMaster(reason: string): void {
    const d = this.d;
    d.masterAdvertIntervalMs = this.p.advertIntervalMs;
    d.wantMaster = false;
    d.preemptAt = null;
    // keepalived sends the advert before adding VIPs so the old master drops them before our GARPs.
    this.emit({ type: "sendAdvert", priority: d.effectivePriority });
    this.transition("MASTER", reason);
    this.emit({ type: "addVips" });
    d.vipsSet = true;
    this.sendGarp(this.p.garpMasterRepeat, "becomeMaster");
    d.garpRefreshAt = this.p.garpMasterRefreshMs > 0 ? this.now + this.p.garpMasterRefreshMs : null;
    this.emit({ type: "notify", state: "MASTER" });
    if (this.p.garpMasterDelayMs > 0 && this.p.garpMasterRepeat > 0) d.timers.garpMasterDelay = this.now + this.p.garpMasterDelayMs;
    d.masterAddress = this.p.primaryIp;
    d.masterPriority = d.effectivePriority;
    delete d.timers.masterDown;
    d.timers.advert = this.now + this.p.advertIntervalMs;
  }

  /** vrrp_restore_interface: the VIPs go, with any GARP still pending for them. */
  releaseVips(): void {
    if (this.d.vipsSet) this.emit({ type: "removeVips" });
    this.d.vipsSet = false;
    this.d.garpRefreshAt = null;
    delete this.d.timers.garpMasterDelay;
    delete this.d.timers.garpLowerPrio;
    delete this.d.timers.advert;
  }

  /** vrrp_state_leave_master: to BACKUP (outbid) or FAULT (with a priority-0 advert). */
  leaveMaster(to: "BACKUP" | "FAULT", reason: string, sendPriorityZero: boolean): void {
    if (sendPriorityZero) this.emit({ type: "sendAdvert", priority: 0 });
    this.releaseVips();
    this.transition(to, reason);
    this.emit({ type: "notify", state: to });
    if (to === "BACKUP") {
      this.d.preemptAt = null;
      this.d.masterDownIntervalMs = this.downInterval();
      this.armMasterDown();
    } else {
      this.d.timers = {};
    }
  }

  /** vrrp_state_leave_fault / init: BACKUP with our own interval and a full master down timer. */
  enterBackup(reason: string): void {
    this.d.masterAdvertIntervalMs = this.p.advertIntervalMs;
    this.d.masterDownIntervalMs = this.downInterval();
    this.d.preemptAt = null;
    this.transition("BACKUP", reason);
    this.emit({ type: "notify", state: "BACKUP" });
    this.armMasterDown();
  }

  enterFault(reason: string): void {
    if (this.d.state === "MASTER") {
      // keepalived 2.2.7 sends two priority-0 adverts here (vrrp_state_leave_master and then
      // vrrp_restore_interface each send one; seen on the wire with a weight-0 track_file).
      this.emit({ type: "sendAdvert", priority: 0 });
      this.leaveMaster("FAULT", reason, true);
      return;
    }
    this.transition("FAULT", reason);
    this.emit({ type: "notify", state: "FAULT" });
    this.d.timers = {};
  }

  finish(): StepResult {
    const before = this.before.timers;
    const after = this.d.timers;
    const names = new Set<TimerName>([...(Object.keys(before) as TimerName[]), ...(Object.keys(after) as TimerName[])]);
    for (const name of names) {
      const deadline = after[name];
      if (deadline === undefined) this.emit({ type: "cancelTimer", name });
      else if (deadline !== before[name]) this.emit({ type: "setTimer", name, deadline });
    }
    return { state: this.d, actions: this.actions };
  }
}

function compareWithOurs(source: string, ours: string, family: 4 | 6): number {
  const a = parseIp(source, family);
  const b = parseIp(ours, family);
  return a && b ? compareAddressBytes(a, b) : 0;
}

function onStartup(s: Stepper, holding: boolean): void {
  const { d, p } = s;
  if (d.state !== "INIT") return;
  if (holding) d.vipsSet = true;
  if (d.faults.length > 0) {
    s.releaseVips();
    s.enterFault(`init: ${d.faults.join(", ")}`);
    return;
  }
  if (p.initialState === "MASTER" && d.basePriority === VRRP_PRIORITY_OWNER) {
    // keepalived arms a 1 µs master down timer for the address owner; we go straight there.
    s.becomeMaster("address owner with state MASTER");
    return;
  }
  if (holding) {
    // Not keepalived's: its restarted VRRP process deletes the addresses and waits a whole master down
    // interval. One advert interval is enough to hear a master that took over meanwhile (the backups'
    // own timers have not run out: the restart took a fraction of theirs); then the addresses stay.
    d.masterAdvertIntervalMs = p.advertIntervalMs;
    d.masterDownIntervalMs = p.advertIntervalMs;
    s.transition("BACKUP", "resume: holding the addresses left in place, listening for one advert interval");
    s.armMasterDown();
    return;
  }
  // keepalived 2.2.7 deviates from a naive reading of "state MASTER": a non-owner starts in BACKUP and
  // waits the whole Master_Down_Interval (measured here: prio 100, 1 s adverts -> MASTER after 3.6 s).
  s.enterBackup("init");
}

function onBackupAdvert(s: Stepper, adv: AdvertInfo): void {
  const { d, p } = s;
  if (adv.priority === 0) {
    // RFC 3768/5798 §6.4.2: the master is leaving; take over after Skew_Time only.
    s.log("Backup received priority 0 advertisement");
    d.masterDownIntervalMs = s.skew();
    s.armMasterDown();
    return;
  }
  const honoured =
    p.nopreempt ||
    adv.priority >= d.effectivePriority ||
    (p.preemptDelayMs > 0 && (d.preemptAt === null || d.preemptAt > s.now));
  if (!honoured && d.vipsSet) {
    // Holding the addresses after a restart, and a lower-priority router took over meanwhile: both hold
    // the VIP now, so end it at once, as a master answers a lower priority (not at the end of the interval).
    s.becomeMaster(`resume: ${adv.source} took over with lower priority ${adv.priority}, ours ${d.effectivePriority}`);
    return;
  }
  if (!honoured) {
    // Preempting: ignore the lower-priority master and let the down timer run out.
    s.log(`received lower priority (${adv.priority}) advert from ${adv.source} - discarding`);
    d.masterAddress = adv.source;
    return;
  }
  if (d.vipsSet) {
    s.log(`a master is on the wire (${adv.source}, priority ${adv.priority}): releasing the addresses held since the restart`);
    s.releaseVips();
  }
  if (p.version === 3) d.masterAdvertIntervalMs = adv.advertIntervalMs; // RFC 5798 §6.4.2: learn the master's
  d.masterDownIntervalMs = s.downInterval();
  d.masterAddress = adv.source;
  d.masterPriority = adv.priority;
  if (p.preemptDelayMs > 0) {
    if (adv.priority >= d.effectivePriority) d.preemptAt = null;
    else if (d.preemptAt === null) {
      d.preemptAt = s.now + p.preemptDelayMs;
      s.log(`start preempt delay (${p.preemptDelayMs / 1000} s)`);
    }
  }
  d.wantMaster = false;
  s.armMasterDown();
}

function onMasterAdvert(s: Stepper, adv: AdvertInfo): void {
  const { d, p } = s;
  const addrCmp = compareWithOurs(adv.source, p.primaryIp, p.family);
  const theyWin = (prio: number) => prio > d.effectivePriority || (prio === d.effectivePriority && addrCmp > 0);
  // keepalived resets the advert timer after every received packet unless lower_prio_no_advert is set
  // (vrrp_scheduler.c vrrp_dispatcher_read: "If we have sent an advert, reset the timer").
  const resetAdvertTimer = () => {
    if (!p.lowerPrioNoAdvert) d.timers.advert = s.now + p.advertIntervalMs;
  };

  if (adv.priority === 0 || (p.higherPrioSendAdvert && theyWin(adv.priority))) {
    s.emit({ type: "sendAdvert", priority: d.effectivePriority });
    if (adv.priority === 0) {
      s.log(`Master received priority 0 message from ${adv.source}`);
      resetAdvertTimer();
      return;
    }
  }

  if (adv.priority === d.effectivePriority) {
    if (addrCmp === 0) s.log("WARNING - equal priority advert received from remote host with our IP address.");
    else if (d.effectivePriority === VRRP_PRIORITY_OWNER) {
      s.log("CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority");
      d.effectivePriority = VRRP_PRIORITY_OWNER - 1;
      d.basePriority = VRRP_PRIORITY_OWNER - 1;
    }
  }

  if (adv.priority < d.effectivePriority || (adv.priority === d.effectivePriority && addrCmp < 0)) {
    // keepalived answers a lower priority with an advert of its own at once (forcing a new election)
    // plus garp_lower_prio_repeat GARPs, an addition to the RFC that lower_prio_no_advert turns off
    // (checked with 2.2.7: advert within 3 ms of the lower one, then 5 GARPs).
    s.log(
      `Received advert from ${adv.source} with lower priority ${adv.priority}, ours ${d.effectivePriority}${p.lowerPrioNoAdvert ? "" : ", forcing new election"}`,
    );
    if (!p.lowerPrioNoAdvert) s.emit({ type: "sendAdvert", priority: d.effectivePriority });
    if (p.garpLowerPrioRepeat > 0) {
      s.sendGarp(p.garpLowerPrioRepeat, "lowerPriority");
      if (p.garpLowerPrioDelayMs > 0) d.timers.garpLowerPrio = s.now + p.garpLowerPrioDelayMs;
    }
    s.emit({ type: "notifyMasterRxLowerPriority", from: adv.source, priority: adv.priority });
    resetAdvertTimer();
    return;
  }

  if (theyWin(adv.priority)) {
    if (p.version === 3) d.masterAdvertIntervalMs = adv.advertIntervalMs;
    d.masterAddress = adv.source;
    d.masterPriority = adv.priority;
    const why =
      adv.priority > d.effectivePriority
        ? `master received advert from ${adv.source} with higher priority ${adv.priority}, ours ${d.effectivePriority}`
        : `master received advert from ${adv.source} with same priority ${adv.priority} but higher IP address than ours`;
    s.leaveMaster("BACKUP", why, false);
    return;
  }
  resetAdvertTimer(); // equal priority from our own address: stay
}

function onTimers(s: Stepper): void {
  // Fire due timers one at a time, earliest first; a handler may re-arm or cancel the others.
  for (let guard = 0; guard < 16; guard++) {
    const due = (Object.entries(s.d.timers) as [TimerName, number][])
      .filter(([, deadline]) => deadline <= s.now)
      .sort((a, b) => a[1] - b[1])[0];
    if (!due) return;
    const [name] = due;
    delete s.d.timers[name];
    fireTimer(s, name);
  }
}

function fireTimer(s: Stepper, name: TimerName): void {
  const { d, p } = s;
  switch (name) {
    case "masterDown":
      if (d.state !== "BACKUP" || d.forcedBackup) return;
      if (s.ctx.syncMayBecomeMaster === false) {
        // vrrp_sync_can_goto_master: wait for the rest of the group, re-arming a full interval.
        d.wantMaster = true;
        d.masterDownIntervalMs = s.downInterval();
        s.armMasterDown();
        s.log("master down timer expired, waiting for the sync group to agree to MASTER");
        return;
      }
      s.becomeMaster(`master down timer expired after ${d.masterDownIntervalMs} ms`);
      return;
    case "advert":
      if (d.state !== "MASTER") return;
      s.emit({ type: "sendAdvert", priority: d.effectivePriority });
      if (d.garpRefreshAt !== null && s.now > d.garpRefreshAt) {
        s.sendGarp(p.garpMasterRefreshRepeat, "refresh");
        d.garpRefreshAt = s.now + p.garpMasterRefreshMs;
      }
      d.timers.advert = s.now + p.advertIntervalMs;
      return;
    case "garpMasterDelay":
      if (d.state === "MASTER") s.sendGarp(p.garpMasterRepeat, "masterDelay");
      return;
    case "garpLowerPrio":
      if (d.state === "MASTER") s.sendGarp(p.garpLowerPrioRepeat, "lowerPriority");
      return;
  }
}

/** Base priority plus tracking weights, kept in 1..254 as keepalived does (only an owner has 255). */
function clampPriority(total: number): number {
  return Math.max(1, Math.min(VRRP_PRIORITY_OWNER - 1, Math.trunc(total)));
}

function onPriorityChanged(s: Stepper, total: number): void {
  const { d } = s;
  // vrrp_track.c vrrp_set_effective_priority: the address owner's priority never moves.
  if (d.basePriority === VRRP_PRIORITY_OWNER) return;
  const next = clampPriority(total);
  if (!Number.isFinite(next) || next === d.effectivePriority) return;
  s.log(`Changing effective priority from ${d.effectivePriority} to ${next}`);
  d.effectivePriority = next;
  const old = d.masterDownIntervalMs;
  d.masterDownIntervalMs = s.downInterval();
  // A backup keeps its running timer but moves it by the change in skew.
  if (d.state === "BACKUP" && d.timers.masterDown !== undefined) d.timers.masterDown += d.masterDownIntervalMs - old;
}

function onFaultSet(s: Stepper, source: string): void {
  const { d } = s;
  if (d.faults.includes(source)) return;
  d.faults.push(source);
  if (d.faults.length > 1 || d.state === "INIT" || d.state === "STOP" || d.state === "FAULT") return;
  s.enterFault(source);
}

function onFaultCleared(s: Stepper, source: string): void {
  const { d } = s;
  const i = d.faults.indexOf(source);
  if (i < 0) return;
  d.faults.splice(i, 1);
  // try_up_instance: back to BACKUP, even the address owner (its wantstate was overwritten by FAULT).
  if (d.faults.length === 0 && d.state === "FAULT") s.enterBackup(`${source} recovered`);
}

function onShutdown(s: Stepper): void {
  const { d } = s;
  if (d.state === "STOP") return;
  // restore_vrrp_interfaces: a master says goodbye with priority 0 so a backup takes over after Skew_Time.
  if (d.state === "MASTER") s.emit({ type: "sendAdvert", priority: 0 });
  s.releaseVips();
  s.transition("STOP", "shutdown");
  s.emit({ type: "notify", state: "STOP" });
  d.timers = {};
}

function onForceBackup(s: Stepper): void {
  const { d } = s;
  if (d.forcedBackup) return;
  d.forcedBackup = true;
  if (d.state === "MASTER") s.leaveMaster("BACKUP", "forced to BACKUP", true);
  else {
    s.releaseVips();
    delete d.timers.masterDown;
  }
}

function onResume(s: Stepper): void {
  const { d } = s;
  if (!d.forcedBackup) return;
  d.forcedBackup = false;
  if (d.state === "BACKUP") {
    d.masterDownIntervalMs = s.downInterval();
    s.armMasterDown();
    s.log("resumed: master down timer armed");
  }
}

function onSyncForce(s: Stepper, state: "MASTER" | "BACKUP"): void {
  const { d } = s;
  if (state === "MASTER" && d.state === "BACKUP" && !d.forcedBackup) s.becomeMaster("sync group member became MASTER");
  else if (state === "BACKUP" && d.state === "MASTER") s.leaveMaster("BACKUP", "sync group member became BACKUP", false);
  else if (state === "BACKUP") s.releaseVips();
}

/** What of the advert's contents a reload changed (a master announces it at once). */
function advertChanged(a: VrrpInstanceParams, b: VrrpInstanceParams): boolean {
  return (
    a.version !== b.version ||
    a.advertIntervalMs !== b.advertIntervalMs ||
    a.authType !== b.authType ||
    a.authPass !== b.authPass ||
    a.primaryIp !== b.primaryIp ||
    a.vips.join(" ") !== b.vips.join(" ") ||
    a.unicastPeers.join(" ") !== b.unicastPeers.join(" ")
  );
}

/**
 * keepalived's clear_diff_vrrp keeps an unchanged instance's state across a reload; lbctl keeps the state
 * of a changed one too, and lets the protocol act on the new values (RFC 5798 §6.4) instead of restarting:
 * a master announces its new priority, interval or addresses with an advert at once, and a peer that now
 * outranks it takes over by its own master down timer, as it would from any lower-priority master. A
 * backup's running master down timer moves by the change in Master_Down_Interval, so a reload neither
 * fires it early nor forgets the time already waited.
 */
function onReconfigure(s: Stepper, params: VrrpInstanceParams, totalPriority: number): void {
  const { d } = s;
  const before = d.params;
  const oldEffective = d.effectivePriority;
  d.params = normalizeParams(params).params;
  const p = d.params;
  d.basePriority = p.priority;
  d.effectivePriority =
    p.priority === VRRP_PRIORITY_OWNER ? VRRP_PRIORITY_OWNER : clampPriority(Number.isFinite(totalPriority) ? totalPriority : p.priority);
  const changes: string[] = [];
  if (d.effectivePriority !== oldEffective) changes.push(`priority ${oldEffective} -> ${d.effectivePriority}`);
  if (p.advertIntervalMs !== before.advertIntervalMs) changes.push(`advert_int ${before.advertIntervalMs / 1000} -> ${p.advertIntervalMs / 1000} s`);
  if (p.preemptDelayMs === 0 || p.nopreempt) d.preemptAt = null;
  if (d.state === "MASTER") {
    d.masterAdvertIntervalMs = p.advertIntervalMs;
    d.masterAddress = p.primaryIp;
    d.masterPriority = d.effectivePriority;
    d.masterDownIntervalMs = s.downInterval();
    if (d.effectivePriority !== oldEffective || advertChanged(before, p)) {
      s.emit({ type: "sendAdvert", priority: d.effectivePriority });
      d.timers.advert = s.now + p.advertIntervalMs;
    }
    if (p.garpMasterRefreshMs !== before.garpMasterRefreshMs) d.garpRefreshAt = p.garpMasterRefreshMs > 0 ? s.now + p.garpMasterRefreshMs : null;
  } else if (d.state === "BACKUP") {
    // v2 adverts must carry our own interval; v3 keeps the one learned from the master, if any.
    if (p.version === 2 || d.masterPriority === null) d.masterAdvertIntervalMs = p.advertIntervalMs;
    const old = d.masterDownIntervalMs;
    d.masterDownIntervalMs = s.downInterval();
    if (d.timers.masterDown !== undefined) d.timers.masterDown += d.masterDownIntervalMs - old;
  } else {
    d.masterAdvertIntervalMs = p.advertIntervalMs;
    d.masterDownIntervalMs = s.downInterval();
  }
  s.log(`reconfigured in ${d.state} state${changes.length ? ` (${changes.join(", ")})` : ""}`);
}

/** One deterministic step: the new instance state and the effects to carry out, in order. */
export function step(inst: VrrpInstance, event: VrrpEvent, now: number, ctx: StepContext = {}): StepResult {
  const s = new Stepper(inst, now, ctx);
  switch (event.type) {
    case "startup":
      onStartup(s, event.holding ?? false);
      break;
    case "advertReceived":
      if (s.d.state === "BACKUP") onBackupAdvert(s, event.advert);
      else if (s.d.state === "MASTER") onMasterAdvert(s, event.advert);
      // INIT, FAULT and STOP ignore adverts, as keepalived's dispatcher does.
      break;
    case "timer":
      onTimers(s);
      break;
    case "priorityChanged":
      onPriorityChanged(s, event.totalPriority);
      break;
    case "faultSet":
      onFaultSet(s, event.source);
      break;
    case "faultCleared":
      onFaultCleared(s, event.source);
      break;
    case "shutdown":
      onShutdown(s);
      break;
    case "forceBackup":
      onForceBackup(s);
      break;
    case "resume":
      onResume(s);
      break;
    case "syncForce":
      onSyncForce(s, event.state);
      break;
    case "reconfigure":
      onReconfigure(s, event.params, event.totalPriority);
      break;
  }
  return s.finish();
}
