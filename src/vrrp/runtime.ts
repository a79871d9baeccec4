// The VRRP runtime: the imperative shell around the pure state machine (state-machine.ts). It owns the
// raw sockets (one per interface, family and unicast source, shared by every instance there and
// dispatched by VRID), a single timer for all instances, VIPs/routes/rules (vips.ts), gratuitous ARP /
// unsolicited NA, tracking (tracking.ts) and notifications (notify.ts). Runs inside the VRRP child
// process; the daemon maps its configuration onto RuntimeOptions.
import { readFileSync } from "node:fs";

import * as libc from "../../ffi/libc.ts";
import { EthernetSender } from "../net/ethernet.ts";
import { parseMac } from "../net/inet.ts";
import { setRealtimePriority } from "../net/realtime.ts";
import { ReceivePathError, receiverReady } from "../net/receiver.ts";
import { openVrrpSocket, type ReceivedPacket, type VrrpSocketOptions } from "../net/vrrp-socket.ts";
import { NETLINK_ROUTE } from "../netlink/message.ts";
import { subscribeRtnlEvents } from "../netlink/events.ts";
import { RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, addressRequest, linkDeleteRequest, linkGetByNameRequest, linkSetUpRequest, macvlanCreateRequest, parseLinkMessage, vrrpVirtualMac } from "../netlink/rtnetlink.ts";
import { NetlinkError, NetlinkSocket } from "../netlink/socket.ts";
import { buildGratuitousArp, buildUnsolicitedNaFrame } from "./garp.ts";
import { Notifier, type NotifyScripts } from "./notify.ts";
import {
  buildIpv4Packet,
  decodeAdvert,
  decodeIpv4Advert,
  encodeInstanceAdvert,
  expectationsFor,
  nextIpId,
  parseIpv4Packet,
  peekVrid,
  type AdvertExpectations,
  type DropReason,
} from "./packet.ts";
import { validateParams, normalizeParams } from "./params.ts";
import type { ScriptUser } from "./scripts.ts";
import { DeadlineQueue } from "./deadline-queue.ts";
import { checksAdvertAddresses, createInstance, nextDeadline, step, type VrrpAction, type VrrpEvent, type VrrpInstance, type VrrpStateName } from "./state-machine.ts";
import { count, countActions, emptyStats, type VrrpStats } from "./stats.ts";
import { syncFaultSource, syncGroupFollowUps, syncGroupMayBecomeMaster, type SyncMember } from "./sync-group.ts";
import { startTracker, type TrackerConfig, type TrackerDeps, type TrackerSource, type TrackFileDef, type TrackProcessDef, type VrrpScriptDef } from "./tracking.ts";
import { trackingOutcome, type ScriptHealth, type TrackedObject } from "./tracking-state.ts";
import { VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, type VrrpInstanceParams } from "./types.ts";
import { firewallVips } from "./firewall-plan.ts";
import type { VipFirewall } from "./firewall.ts";
import { bareAddress, VipManager, type NetlinkRequester, type VipSpec, type VirtualRoute, type VirtualRule, type VirtualSet } from "./vips.ts";

export type LogLevel = "debug" | "info" | "warning" | "error";

/** An instance's reference to a tracked object, with its own weight (overrides the object's). */
export interface TrackRef {
  name: string;
  weight?: number;
  reverse?: boolean;
}

export interface RuntimeInstanceConfig extends VrrpInstanceParams {
  /** Details of the VIPs in `vips` (matched by address); a VIP without one is /32 or /128 on `interface`. */
  vipDetails?: VipSpec[];
  /** virtual_ipaddress_excluded: added and announced like VIPs, but not carried in adverts. */
  excludedVips?: VipSpec[];
  virtualRoutes?: VirtualRoute[];
  virtualRules?: VirtualRule[];
  trackInterfaces?: TrackRef[];
  trackScripts?: TrackRef[];
  trackFiles?: TrackRef[];
  trackProcesses?: TrackRef[];
  /** dont_track_primary: the instance's own interface going down is not a FAULT. */
  dontTrackPrimary?: boolean;
  notify?: NotifyScripts;
  /** notify_master_rx_lower_pri: run (no arguments) when, as master, a lower priority advert arrives. */
  notifyMasterRxLowerPri?: string;
  /** check_unicast_src / vrrp_check_unicast_src: drop unicast adverts from addresses that are not peers. */
  checkUnicastSrc?: boolean;
  /** skip_check_adv_addr / vrrp_skip_check_adv_addr: in BACKUP, skip the address list check for the known master. */
  skipCheckAdvAddr?: boolean;
  /** garp_interval / gna_interval: delay between gratuitous ARPs / NAs (default 0 = back to back). */
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
  /** use_vmac [NAME]: a macvlan with the VRRP virtual MAC carries the VIPs and sends the adverts. */
  useVmac?: boolean | string;
}

export interface SyncGroupConfig {
  name: string;
  members: string[];
  notify?: NotifyScripts;
  /**
   * sync_group_tracking_weight: keep weighted trackers of members. Without it keepalived 2.2.7 drops
   * them ("(VI_1) ignoring tracked script chk with weights due to SYNC group", checked with -t);
   * weight-0 trackers (failure = FAULT) always count.
   */
  trackingWeight?: boolean;
}

export interface Clock {
  now(): number;
}

export type RuntimeEvent =
  | { type: "transition"; instance: string; from: VrrpStateName; to: VrrpStateName; reason: string; at: number }
  /** A router of the same VRID whose adverts are dropped for a configuration mismatch (started, or over). */
  | { type: "peerMismatch"; instance: string; peer: string; reason: DropReason; detail: string; over: boolean }
  | { type: "drop"; instance: string | null; reason: DropReason | "unknownVrid" | "malformed"; detail: string };

/** The kernel-facing pieces; the defaults are the real ones, tests inject fakes. */
export interface RuntimeIo {
  netlink: NetlinkRequester;
  ifindex(name: string): number;
  openSocket(o: VrrpSocketOptions): RuntimeSocket;
  sendFrame(ifindex: number, frame: Uint8Array): void;
  /** The interface's MAC address (source of gratuitous ARPs / NAs); null when it has none. */
  linkMac(ifname: string): Uint8Array | null;
  startTracker(cfg: TrackerConfig, deps: TrackerDeps): TrackerSource;
  /** Resolves once received datagrams are being delivered; rejects with why they cannot be. */
  receiveReady(): Promise<void>;
  /** IPv6 forwarding on an interface (sets the Router flag of unsolicited NAs, as keepalived). */
  ipv6Forwarding(ifname: string): boolean;
  /** Calls back for every address deleted from the system (rtnetlink RTM_DELADDR notifications). */
  watchAddressDeletions(onDeleted: (a: DeletedAddress) => void): { close(): Promise<void> };
  close(): void;
}

export interface DeletedAddress {
  ifindex: number;
  address: string;
  prefixlen: number;
}

export interface RuntimeSocket {
  send(bytes: Uint8Array, dst?: string, opts?: { src?: string }): void;
  onPacket(cb: (pkt: ReceivedPacket) => void): void;
  onError(cb: (err: { code: string; message: string }) => void): void;
  close(): Promise<void>;
}

export interface RuntimeConfig {
  instances: RuntimeInstanceConfig[];
  syncGroups?: SyncGroupConfig[];
  scripts?: VrrpScriptDef[];
  trackFiles?: TrackFileDef[];
  trackProcesses?: TrackProcessDef[];
  /** global notify_fifo. */
  notifyFifo?: string;
  /** script_user for notify scripts (vrrp_script has its own `user`). */
  scriptUser?: ScriptUser;
  processScanIntervalMs?: number;
}

export interface RuntimeOptions extends RuntimeConfig {
  log: (level: LogLevel, msg: string) => void;
  onEvent?: (ev: RuntimeEvent) => void;
  clock?: Clock;
  /**
   * The receive path broke while running. The runtime has already stopped (priority-0 adverts,
   * addresses released): a node that cannot hear its peers must not hold or take a VIP.
   */
  onFatal?: (cause: string) => void;
  /** vrrp_rt_priority: SCHED_RR priority for this thread (the VRRP child's). */
  realtimePriority?: number;
  /**
   * This process replaces one that died (the supervisor restarted it). An instance whose addresses are
   * all still in place holds them for one advert interval instead of deleting them as stale: with no
   * better master on the wire by then it resumes as MASTER, so a crash of the VRRP process alone costs
   * the clients nothing (keepalived: about 3 s without the VIP).
   */
  resume?: boolean;
  io?: RuntimeIo;
  /** no_accept / strict: drops traffic to the VIPs an instance holds (nftables, as keepalived). */
  firewall?: VipFirewall;
}

export interface InstanceStatus {
  name: string;
  vrid: number;
  family: 4 | 6;
  version: 2 | 3;
  interface: string;
  state: VrrpStateName;
  basePriority: number;
  effectivePriority: number;
  masterAddress: string | null;
  masterPriority: number | null;
  /** `at` is the runtime clock (monotonic ms); `wallTime` is ms since the epoch, for people. */
  lastTransition: { at: number; wallTime: number; from: VrrpStateName; to: VrrpStateName; reason: string } | null;
  faults: string[];
  /** What the instance has in place on the system (addresses, routes, rules). */
  owned: string[];
  stats: VrrpStats;
  /**
   * A router of this VRID whose adverts are dropped because its configuration differs (VIP list,
   * password, interval): neither takes the other's adverts, so both may be MASTER. Null when none was
   * heard for three advert intervals.
   */
  peerMismatch: PeerMismatch | null;
}

export interface PeerMismatch {
  peer: string;
  reason: DropReason;
  detail: string;
  /** Wall-clock ms of the first dropped advert, and how many since. */
  since: number;
  adverts: number;
}

export interface RuntimeStatus {
  instances: InstanceStatus[];
  /** Packets no instance could take: unknown VRID on a socket, or not parseable as IP/VRRP at all. */
  unmatched: { unknownVrid: number; malformed: number };
}

export type ControlResult = { ok: true } | { ok: false; error: string };

/** What a reload did to each instance, by name. */
export interface ReloadResult {
  /** Unchanged. */
  kept: string[];
  /** Changed settings applied in place: state, timers and addresses kept. */
  reconfigured: string[];
  started: string[];
  removed: string[];
  /** Identity changed (interface, VRID, family, use_vmac): stopped and started again. */
  restarted: string[];
  errors: string[];
}

export interface VrrpRuntime {
  status(): RuntimeStatus;
  reload(config: RuntimeConfig): Promise<ReloadResult>;
  forceBackup(name: string): ControlResult;
  resume(name: string): ControlResult;
  stop(): Promise<void>;
}

interface RunningInstance {
  cfg: RuntimeInstanceConfig;
  /** JSON of cfg, to tell unchanged instances on reload (identity() tells the ones to restart). */
  key: string;
  vrrp: VrrpInstance;
  stats: VrrpStats;
  expect: AdvertExpectations;
  socket: SharedSocket;
  /** IPv4 identification, per instance, counting from 1 and skipping 0 like keepalived. */
  ipId: number;
  /** v3 unicast: send the pre-1.3.6 checksum (old_unicast_checksum, or "auto" after seeing an old peer). */
  legacyUnicastChecksum: boolean;
  /** Interface carrying VIPs and adverts: the vmac when use_vmac, else the configured one. */
  dev: string;
  vmac: { name: string; ifindex: number } | null;
  lastTransition: InstanceStatus["lastTransition"];
  lastTotalPriority: number;
  group: string | null;
  mismatch: (PeerMismatch & { lastSeen: number; loggedAt: number }) | null;
}

interface SharedSocket {
  key: string;
  family: 4 | 6;
  sock: RuntimeSocket;
  byVrid: Map<number, RunningInstance>;
}

function realIo(): RuntimeIo {
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  const eth = new EthernetSender();
  return {
    netlink: nl,
    ifindex: (name) => libc.ifNameToIndex(name),
    openSocket: (o) => openVrrpSocket(o),
    sendFrame: (ifindex, frame) => eth.send(ifindex, frame),
    linkMac: (ifname) => {
      const [m] = nl.requestSync(linkGetByNameRequest(ifname), { what: `get link ${ifname}` });
      const mac = m ? parseLinkMessage(m).mac : undefined;
      return mac ? parseMac(mac) : null;
    },
    startTracker,
    receiveReady: receiverReady,
    watchAddressDeletions: (onDeleted) =>
      subscribeRtnlEvents(
        (ev) => {
          if (ev.kind === "address" && ev.op === "del") onDeleted({ ifindex: ev.address.ifindex, address: ev.address.address, prefixlen: ev.address.prefixlen });
        },
        { groups: RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR },
      ),
    ipv6Forwarding: (ifname) => {
      try {
        return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, "utf8").trim() === "1";
      } catch {
        return false;
      }
    },
    close: () => {
      eth.close();
      nl.close();
    },
  };
}

/**
 * What makes an instance the same instance across a reload. Anything else changes in place; these
 * change the VRRP router itself (its interface or virtual MAC interface, VRID and family), so the old
 * one stops (priority 0, addresses released) and a new one starts.
 */
const identity = (c: RuntimeInstanceConfig) => JSON.stringify([c.interface, c.vrid, c.family, c.useVmac ?? false]);

const notifierKey = (c: RuntimeConfig) => JSON.stringify([c.notifyFifo ?? null, c.scriptUser ?? null]);

/**
 * Errors that no instance can escape by itself (privileges, protocol support, resources): the VRRP
 * process must fail loudly rather than run deaf. A missing interface stays one instance's problem.
 */
const SYSTEMIC_ERRNOS = new Set(["EPERM", "EACCES", "EAFNOSUPPORT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EMFILE", "ENFILE", "ENOMEM", "ENOBUFS"]);

function isSystemic(e: unknown): boolean {
  return e instanceof ReceivePathError || (e instanceof libc.SysError && SYSTEMIC_ERRNOS.has(e.code));
}

const monotonic: Clock = { now: () => performance.now() };

/** Adverts of a router of our VRID dropped because the two configurations differ (not because they are broken). */
const MISMATCH_REASONS: ReadonlySet<DropReason> = new Set<DropReason>([
  "addressCountMismatch", "addressListMismatch", "authTypeMismatch", "authFailure", "advertIntervalMismatch",
]);
const MISMATCH_LOG_EVERY_MS = 60_000;

/** One socket per interface, family and unicast source (multicast instances share one). */
function socketKey(cfg: RuntimeInstanceConfig, dev: string): string {
  return `${dev}|${cfg.family}|${cfg.unicastPeers.length > 0 ? cfg.primaryIp : "multicast"}`;
}

/** Everything an instance puts in place while MASTER. */
function virtualSet(cfg: RuntimeInstanceConfig): VirtualSet {
  return { addresses: announcedAddresses(cfg), routes: cfg.virtualRoutes ?? [], rules: cfg.virtualRules ?? [] };
}

/** The VIPs of an instance with their details, in configured order. */
export function instanceVipSpecs(cfg: RuntimeInstanceConfig): VipSpec[] {
  return cfg.vips.map((vip) => cfg.vipDetails?.find((d) => bareAddress(d.address) === vip) ?? { address: vip });
}

/** Every address an instance puts up while MASTER: its VIPs, then virtual_ipaddress_excluded. */
function announcedAddresses(cfg: RuntimeInstanceConfig): VipSpec[] {
  return [...instanceVipSpecs(cfg), ...(cfg.excludedVips ?? [])];
}

/** The tracker configuration all instances need together. */
function trackerConfig(c: RuntimeConfig): TrackerConfig {
  const interfaces = new Set<string>();
  for (const i of c.instances) {
    interfaces.add(i.interface);
    for (const t of i.trackInterfaces ?? []) interfaces.add(t.name);
  }
  return {
    // keepalived runs a vrrp_script without its own `user` as script_user, like notify scripts.
    scripts: (c.scripts ?? []).map((s) => (s.user || !c.scriptUser ? s : { ...s, user: c.scriptUser })),
    files: c.trackFiles ?? [],
    processes: c.trackProcesses ?? [],
    interfaces: [...interfaces],
    processScanIntervalMs: c.processScanIntervalMs,
  };
}

/** Problems with a runtime configuration that stop an instance from starting (keyed by instance). */
export function configErrors(c: RuntimeConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, msg: string) => out.set(name, [...(out.get(name) ?? []), msg]);
  const seen = new Map<string, string>();
  const names = new Set<string>();
  for (const i of c.instances) {
    for (const e of validateParams(i)) add(i.name, e);
    if (names.has(i.name)) add(i.name, `(${i.name}) duplicate instance name`);
    names.add(i.name);
    const slot = `${i.interface}/IPv${i.family}/VRID ${i.vrid}`;
    const other = seen.get(slot);
    if (other) add(i.name, `(${i.name}) ${slot} is already used by ${other}`);
    else seen.set(slot, i.name);
    for (const [kind, refs, defs] of [
      ["track_script", i.trackScripts, c.scripts],
      ["track_file", i.trackFiles, c.trackFiles],
      ["track_process", i.trackProcesses, c.trackProcesses],
    ] as const) {
      for (const r of refs ?? []) if (!(defs ?? []).some((d) => d.name === r.name)) add(i.name, `(${i.name}) ${kind} ${r.name} is not defined`);
    }
  }
  return out;
}

export async function startVrrpRuntime(opts: RuntimeOptions): Promise<VrrpRuntime> {
  const rt = new Runtime(opts);
  await rt.start(opts);
  return rt;
}

class Runtime implements VrrpRuntime {
  private readonly io: RuntimeIo;
  private readonly clock: Clock;
  private readonly log: RuntimeOptions["log"];
  private readonly vips: VipManager;
  private notifier: Notifier;
  private config: RuntimeConfig = { instances: [] };
  private readonly instances = new Map<string, RunningInstance>();
  private readonly sockets = new Map<string, SharedSocket>();
  private groups = new Map<string, SyncGroupConfig>();
  private readonly groupStates = new Map<string, VrrpStateName>();
  private tracker: TrackerSource | null = null;
  private trackerKey = "";
  private trackerCfg: TrackerConfig | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Every instance's next deadline; the one timer is armed at the earliest. */
  private readonly deadlines = new DeadlineQueue<RunningInstance>();
  private armedFor: number | null = null;
  private readonly pendingGarps = new Set<ReturnType<typeof setTimeout>>();
  private readonly unmatched = { unknownVrid: 0, malformed: 0 };
  private addressWatch: { close(): Promise<void> } | null = null;
  private resumeChecked = false;
  private stopped = false;

  constructor(private readonly opts: RuntimeOptions) {
    this.io = opts.io ?? realIo();
    this.clock = opts.clock ?? monotonic;
    this.log = opts.log;
    this.vips = new VipManager(this.io.netlink, (l, m) => this.log(l, m), (n) => this.io.ifindex(n));
    this.notifier = this.makeNotifier(opts);
  }

  private makeNotifier(c: RuntimeConfig): Notifier {
    return new Notifier({ fifo: c.notifyFifo, user: c.scriptUser, log: (l, m) => this.log(l, m) });
  }

  async start(c: RuntimeConfig): Promise<void> {
    if (this.opts.realtimePriority !== undefined) {
      try {
        const applied = setRealtimePriority(this.opts.realtimePriority);
        this.log("info", `VRRP thread runs SCHED_RR priority ${applied}`);
      } catch (e) {
        this.log("warning", `cannot set real-time priority: ${(e as Error).message}`);
      }
    }
    this.config = c;
    this.groups = new Map((c.syncGroups ?? []).map((g) => [g.name, g]));
    await this.restartTracker(c);
    const errors = configErrors(c);
    for (const errs of errors.values()) for (const e of errs) this.log("error", `${e} - instance not started`);
    try {
      await this.startInstances(c.instances.filter((cfg) => !errors.has(cfg.name)));
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.arm();
  }

  /**
   * Starts (or keeps) the tracker and waits for its first readings, so instances start on facts. On a
   * reload that changes what is tracked, the old tracker stays the source until the new one has read
   * everything, and scripts whose definition did not change keep their state (keepalived keeps them
   * too), so a reload never blips a priority.
   */
  private async restartTracker(c: RuntimeConfig): Promise<void> {
    const cfg = trackerConfig(c);
    const key = JSON.stringify({ ...cfg, interfaces: [] });
    if (this.tracker && key === this.trackerKey) {
      this.tracker.watchInterfaces(cfg.interfaces);
      return;
    }
    const old = this.tracker;
    const carried = new Map<string, ScriptHealth>();
    if (old && this.trackerCfg) {
      const before = old.state().scripts;
      for (const def of cfg.scripts) {
        const prev = this.trackerCfg.scripts.find((x) => x.name === def.name);
        const health = before.get(def.name);
        if (prev && health && JSON.stringify(prev) === JSON.stringify(def)) carried.set(def.name, health);
      }
    }
    let next: TrackerSource | null = null;
    next = this.io.startTracker(cfg, {
      netlink: this.io.netlink,
      log: (l, m) => this.log(l, m),
      onChange: () => {
        if (next !== null && this.tracker === next) this.applyTracking();
      },
      initialScripts: carried,
    });
    await next.ready;
    if (this.stopped) {
      void next.close();
      return;
    }
    this.tracker = next;
    this.trackerKey = key;
    this.trackerCfg = cfg;
    if (old) void old.close();
  }

  // ---------- instances ----------

  /** Everything an instance needs before it can run; null (and logged) when it cannot. */
  private prepareInstance(cfg: RuntimeInstanceConfig): RunningInstance | null {
    const now = this.clock.now();
    const { params, warnings } = normalizeParams(cfg);
    for (const w of warnings) this.log("warning", w);
    let dev = cfg.interface;
    let vmac: RunningInstance["vmac"] = null;
    if (cfg.useVmac) {
      try {
        vmac = this.createVmac(cfg);
        dev = vmac.name;
      } catch (e) {
        this.log("error", `(${cfg.name}) cannot create the virtual MAC interface: ${(e as Error).message} - instance not started`);
        return null;
      }
    }
    let socket: SharedSocket;
    try {
      socket = this.socketFor(cfg, dev);
    } catch (e) {
      if (vmac) this.deleteVmac(vmac);
      if (isSystemic(e)) throw new ReceivePathError(`cannot open the VRRP socket on ${dev}: ${(e as Error).message}`);
      this.log("error", `(${cfg.name}) cannot open the VRRP socket on ${dev}: ${(e as Error).message} - instance not started`);
      return null;
    }
    const inst: RunningInstance = {
      cfg,
      key: JSON.stringify(cfg),
      vrrp: createInstance(params, now),
      stats: emptyStats(),
      expect: expectationsFor(params, { checkUnicastSource: cfg.checkUnicastSrc ?? false }),
      socket,
      ipId: 0,
      legacyUnicastChecksum: params.oldUnicastChecksum === "always",
      dev,
      vmac,
      lastTransition: null,
      lastTotalPriority: cfg.priority,
      group: this.groupOf(cfg.name),
      mismatch: null,
    };
    socket.byVrid.set(cfg.vrid, inst);
    this.instances.set(cfg.name, inst);
    if (inst.group && !this.groups.get(inst.group)?.trackingWeight) {
      for (const [kind, refs] of [["script", cfg.trackScripts], ["file", cfg.trackFiles], ["process", cfg.trackProcesses], ["interface", cfg.trackInterfaces]] as const)
        for (const r of refs ?? []) if (this.trackedWeight(kind, r) !== 0) this.log("warning", `(${cfg.name}) ignoring tracked ${kind} ${r.name} with weights due to SYNC group`);
    }
    return inst;
  }

  /**
   * Starts instances: sockets (and vmacs) first, then keepalived's startup clean-up of stale VIP copies
   * (see vips.ts; one address dump for all), then tracking and the startup event. No instance starts
   * before the receive path works: deaf, it would see no master and take the VIP (split brain).
   */
  private async startInstances(cfgs: readonly RuntimeInstanceConfig[]): Promise<void> {
    const started = cfgs.map((c) => this.prepareInstance(c)).filter((i): i is RunningInstance => i !== null);
    try {
      await this.io.receiveReady();
    } catch (e) {
      throw e instanceof ReceivePathError ? e : new ReceivePathError((e as Error).message);
    }
    if (this.stopped) return;
    this.addressWatch ??= this.io.watchAddressDeletions((a) => this.onAddressDeleted(a));
    const sets = started.map((i) => ({ owner: i.cfg.name, addresses: announcedAddresses(i.cfg), defaultDev: i.dev }));
    // Only at the first start of a restarted process; a reload's new instances start as usual.
    const resuming = this.opts.resume && !this.resumeChecked ? this.vips.holding(sets) : new Set<string>();
    this.resumeChecked = true;
    this.vips.clearStale(sets.filter((s) => !resuming.has(s.owner)));
    for (const inst of started) {
      const holding = resuming.has(inst.cfg.name);
      if (holding) {
        this.vips.adopt(inst.cfg.name, announcedAddresses(inst.cfg), inst.dev);
        this.blockVips(inst); // no_accept: held addresses stay blocked (the dead process's table is replaced)
        this.log("info", `(${inst.cfg.name}) its addresses are still in place from the previous VRRP process: holding them while listening for a master`);
      }
      this.applyTrackingTo(inst);
      this.feed(inst, { type: "startup", holding });
    }
  }

  private groupOf(instance: string): string | null {
    return [...this.groups.values()].find((g) => g.members.includes(instance))?.name ?? null;
  }

  private createVmac(cfg: RuntimeInstanceConfig): { name: string; ifindex: number } {
    const name = typeof cfg.useVmac === "string" ? cfg.useVmac : `vrrp.${cfg.vrid}`;
    const parentIndex = this.io.ifindex(cfg.interface);
    const mac = vrrpVirtualMac(cfg.vrid, cfg.family);
    try {
      this.io.netlink.requestSync(macvlanCreateRequest({ name, parentIndex, mode: "private", mac }), { what: `create ${name}` });
      this.log("info", `(${cfg.name}) created virtual MAC interface ${name} ${mac} on ${cfg.interface}`);
    } catch (e) {
      // Left over from a run that was killed: take it over, as keepalived does with an existing vmac.
      if (!(e instanceof NetlinkError && e.code === "EEXIST")) throw e;
      this.log("info", `(${cfg.name}) reusing the existing interface ${name}`);
    }
    const ifindex = this.io.ifindex(name);
    if (cfg.family === 6) {
      // keepalived gives an IPv6 vmac the base interface's link-local address: adverts keep their
      // source, and the VMAC-derived one would be the same on every router of the VRID.
      try {
        this.io.netlink.requestSync(addressRequest("add", { ifindex, address: `${cfg.primaryIp}/64`, nodad: true }), { what: `add ${cfg.primaryIp} to ${name}` });
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === "EEXIST")) throw e;
      }
    }
    this.io.netlink.requestSync(linkSetUpRequest(ifindex, true), { what: `set ${name} up` });
    return { name, ifindex };
  }

  private deleteVmac(vmac: { name: string; ifindex: number }): void {
    try {
      this.io.netlink.requestSync(linkDeleteRequest(vmac.ifindex), { what: `delete ${vmac.name}` });
    } catch (e) {
      this.log("warning", `cannot delete ${vmac.name}: ${(e as Error).message}`);
    }
  }

  private socketFor(cfg: RuntimeInstanceConfig, dev: string): SharedSocket {
    const unicast = cfg.unicastPeers.length > 0 ? { src: cfg.primaryIp, peers: cfg.unicastPeers } : undefined;
    const key = socketKey(cfg, dev);
    const existing = this.sockets.get(key);
    if (existing) return existing;
    const sock = this.io.openSocket({ family: cfg.family, ifname: dev, unicast });
    const shared: SharedSocket = { key, family: cfg.family, sock, byVrid: new Map() };
    sock.onPacket((pkt) => this.receive(shared, pkt));
    sock.onError((err) => {
      if (err.code === "EWORKER" || err.code === "EBADF") {
        void this.fail(`receive path on ${dev}: ${err.message}`);
        return;
      }
      this.unmatched.malformed++;
      this.opts.onEvent?.({ type: "drop", instance: null, reason: "malformed", detail: err.message });
    });
    this.sockets.set(key, shared);
    return shared;
  }

  /** Removes an instance (shutdown semantics: priority 0 if MASTER, VIPs released, notify STOP). */
  private async removeInstance(inst: RunningInstance): Promise<void> {
    this.feed(inst, { type: "shutdown" });
    this.deadlines.set(inst, null);
    this.vips.release(inst.cfg.name); // anything left, e.g. after a failed removal
    this.instances.delete(inst.cfg.name);
    inst.socket.byVrid.delete(inst.cfg.vrid);
    if (inst.socket.byVrid.size === 0) {
      this.sockets.delete(inst.socket.key);
      await inst.socket.sock.close();
    }
    if (inst.vmac) this.deleteVmac(inst.vmac);
  }

  /**
   * A reload changed `inst`'s settings but not its identity: it keeps its state, timers and the addresses
   * it holds. The socket moves if the unicast source moved; as MASTER, addresses the new configuration
   * drops are removed and new ones added and announced (only those); then the state machine takes the
   * new parameters (a master advertises them at once).
   */
  private reconfigureInstance(inst: RunningInstance, cfg: RuntimeInstanceConfig): boolean {
    const name = cfg.name;
    const { params, warnings } = normalizeParams(cfg);
    for (const w of warnings) this.log("warning", w);
    const key = socketKey(cfg, inst.dev);
    if (key !== inst.socket.key) {
      let socket: SharedSocket;
      try {
        socket = this.socketFor(cfg, inst.dev);
      } catch (e) {
        if (isSystemic(e)) throw new ReceivePathError(`cannot open the VRRP socket on ${inst.dev}: ${(e as Error).message}`);
        this.log("error", `(${name}) cannot open the VRRP socket on ${inst.dev}: ${(e as Error).message} - keeping the previous configuration`);
        return false;
      }
      const old = inst.socket;
      old.byVrid.delete(cfg.vrid);
      socket.byVrid.set(cfg.vrid, inst);
      inst.socket = socket;
      if (old.byVrid.size === 0) {
        this.sockets.delete(old.key);
        void old.sock.close();
      }
    }
    inst.cfg = cfg;
    inst.key = JSON.stringify(cfg);
    inst.expect = expectationsFor(params);
    inst.group = this.groupOf(name);
    if (params.oldUnicastChecksum === "always") inst.legacyUnicastChecksum = true;
    else if (params.oldUnicastChecksum === "never") inst.legacyUnicastChecksum = false;
    if (inst.vrrp.vipsSet) {
      this.blockVips(inst); // no_accept: the new VIPs blocked, the gone ones (all, if it accepts now) unblocked
      const r = this.vips.update(name, virtualSet(cfg), inst.dev);
      for (const x of r.removed) this.log("info", `(${name}) reload: removed ${x}`);
      for (const x of r.added) this.log("info", `(${name}) reload: added address ${x}`);
      if (r.failures > 0) this.log("warning", `(${name}) ${r.failures} virtual address/route/rule(s) could not be set`);
      if (r.added.length > 0) this.sendGarps(inst, params.garpMasterRepeat, new Set(r.added));
    }
    const total = trackingOutcome(params.priority, this.trackedObjects(inst)).totalPriority;
    inst.lastTotalPriority = total;
    this.feed(inst, { type: "reconfigure", params, totalPriority: total });
    return true;
  }

  /**
   * An address was deleted from the system. If it is one a MASTER holds (an operator's `ip addr del`, or
   * the kernel dropping secondaries with their primary), it is put back and announced: the instance still
   * advertises itself as master, so no backup would ever take the address over. keepalived does the same.
   * Our own deletions are no longer in the VipManager's record when their notification arrives.
   */
  private onAddressDeleted(a: DeletedAddress): void {
    if (this.stopped) return;
    const owner = this.vips.ownerOf(a.ifindex, a.address, a.prefixlen);
    const inst = owner === null ? undefined : this.instances.get(owner);
    if (!inst || !inst.vrrp.vipsSet) return;
    const r = this.vips.restore(inst.cfg.name, a.ifindex, a.address, a.prefixlen);
    if (r === "present") return; // deleted and added again by us; the notification was late
    if (r === "restored") {
      this.log("warning", `(${inst.cfg.name}) virtual address ${a.address}/${a.prefixlen} was deleted outside lbctl while MASTER; added it back`);
      this.sendGarps(inst, inst.vrrp.params.garpMasterRepeat, new Set([a.address]));
    } else this.log("error", `(${inst.cfg.name}) virtual address ${a.address}/${a.prefixlen} was deleted outside lbctl and cannot be added back: ${r.error}`);
  }

  // ---------- the one loop ----------

  /** Feeds one event to an instance and carries out what it asks for, then lets its sync group follow. */
  private feed(inst: RunningInstance, event: VrrpEvent): void {
    if (!this.instances.has(inst.cfg.name)) return;
    const now = this.clock.now();
    const from = inst.vrrp.state;
    const ctx = { syncMayBecomeMaster: inst.group ? syncGroupMayBecomeMaster(this.groupMembers(inst.group), inst.cfg.name) : true };
    const r = step(inst.vrrp, event, now, ctx);
    inst.vrrp = r.state;
    this.deadlines.set(inst, nextDeadline(inst.vrrp));
    inst.stats = countActions(inst.stats, r.actions);
    for (const a of r.actions) this.execute(inst, a, now);
    if (inst.group && (from !== inst.vrrp.state || event.type === "faultSet" || event.type === "faultCleared")) this.followGroup(inst.group, inst.cfg.name, from);
  }

  private groupMembers(group: string): SyncMember[] {
    const g = this.groups.get(group);
    if (!g) return [];
    return g.members
      .map((n) => this.instances.get(n))
      .filter((i): i is RunningInstance => !!i)
      .map((i) => ({ name: i.cfg.name, state: i.vrrp.state, faults: i.vrrp.faults, wantMaster: i.vrrp.wantMaster }));
  }

  private followGroup(group: string, changed: string, from: VrrpStateName): void {
    const members = this.groupMembers(group);
    for (const f of syncGroupFollowUps(group, members, { name: changed, from })) {
      const m = this.instances.get(f.name);
      if (m) this.feed(m, f.event);
    }
    // A group notification once every member is in the same state (keepalived's GROUP notify).
    const now = this.groupMembers(group);
    const state = now.length > 0 && now.every((m) => m.state === now[0].state) ? now[0].state : null;
    if (state && state !== this.groupStates.get(group) && state !== "INIT") {
      this.groupStates.set(group, state);
      this.notifier.notify(this.groups.get(group)?.notify, "GROUP", group, state, 0);
    }
  }

  private execute(inst: RunningInstance, a: VrrpAction, now: number): void {
    const name = inst.cfg.name;
    switch (a.type) {
      case "sendAdvert":
        this.sendAdvert(inst, a.priority);
        return;
      case "addVips": {
        // no_accept: block before the addresses appear and unblock after they go, as keepalived does
        this.blockVips(inst);
        const failures = this.vips.apply(name, virtualSet(inst.cfg), inst.dev);
        if (failures > 0) this.log("warning", `(${name}) ${failures} virtual address/route/rule(s) could not be set`);
        return;
      }
      case "removeVips":
        this.vips.release(name);
        this.opts.firewall?.unblock(name);
        return;
      case "sendGarp":
        this.sendGarps(inst, a.repeat);
        return;
      case "notify":
        this.notifier.notify(inst.cfg.notify, "INSTANCE", name, a.state, inst.vrrp.effectivePriority);
        return;
      case "notifyMasterRxLowerPriority":
        this.log("info", `(${name}) received lower priority advert (${a.priority}) from ${a.from}`);
        this.notifier.event(inst.cfg.notifyMasterRxLowerPri, name, "MASTER_RX_LOWER_PRI", inst.vrrp.effectivePriority);
        return;
      case "transition":
        inst.lastTransition = { at: now, wallTime: Date.now(), from: a.from, to: a.to, reason: a.reason };
        this.opts.onEvent?.({ type: "transition", instance: name, from: a.from, to: a.to, reason: a.reason, at: now });
        return;
      case "log":
        this.log("info", a.message);
        return;
      case "setTimer":
      case "cancelTimer":
        return; // one runtime timer at the earliest nextDeadline(), re-armed after every event
      default: {
        const unhandled: never = a; // a new action in the core must be carried out here
        this.log("error", `(${name}) unknown action ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /** Blocks traffic to exactly the addresses `inst` puts up now, if it does not accept it (firewall.ts). */
  private blockVips(inst: RunningInstance): void {
    this.opts.firewall?.block(inst.cfg.name, firewallVips(inst.cfg, announcedAddresses(inst.cfg), inst.dev, (n) => this.io.ifindex(n)));
  }

  private sendAdvert(inst: RunningInstance, priority: number): void {
    const p = inst.vrrp.params;
    const destinations = p.unicastPeers.length > 0 ? p.unicastPeers : [p.family === 4 ? VRRP_MCAST_GROUP4 : VRRP_MCAST_GROUP6];
    for (const dst of destinations) {
      const payload = encodeInstanceAdvert(p, priority, dst, inst.legacyUnicastChecksum);
      if (!payload.ok) {
        this.log("error", `(${p.name}) cannot encode advert: ${payload.error}`);
        return;
      }
      try {
        if (p.family === 4) {
          inst.ipId = nextIpId(inst.ipId);
          const pkt = buildIpv4Packet({ source: p.primaryIp, destination: dst, id: inst.ipId, payload: payload.bytes });
          if (!pkt.ok) throw new Error(pkt.error);
          inst.socket.sock.send(pkt.bytes, dst);
        } else {
          inst.socket.sock.send(payload.bytes, dst, { src: p.primaryIp });
        }
      } catch (e) {
        this.log("warning", `(${p.name}) cannot send advert to ${dst}: ${(e as Error).message}`);
      }
    }
  }

  private macOf(dev: string): Uint8Array | null {
    try {
      return this.io.linkMac(dev);
    } catch (e) {
      this.log("warning", `cannot read the MAC address of ${dev}: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * `repeat` gratuitous ARPs / NAs per VIP (or per address in `only`), spaced by garp_interval /
   * gna_interval (0: back to back).
   */
  private sendGarps(inst: RunningInstance, repeat: number, only?: ReadonlySet<string>): void {
    const specs = announcedAddresses(inst.cfg).filter((s) => !only || only.has(bareAddress(s.address)));
    const frames: { ifindex: number; frame: Uint8Array; v6: boolean }[] = [];
    const macs = new Map<string, Uint8Array | null>();
    for (const s of specs) {
      const dev = s.dev ?? inst.dev;
      if (!macs.has(dev)) macs.set(dev, this.macOf(dev));
      const mac = macs.get(dev);
      if (!mac) continue;
      const vip = bareAddress(s.address);
      const v6 = vip.includes(":");
      const f = v6 ? buildUnsolicitedNaFrame({ target: vip, mac, router: this.io.ipv6Forwarding(dev) }) : buildGratuitousArp(mac, vip);
      if (!f.ok) {
        this.log("warning", `(${inst.cfg.name}) cannot build a gratuitous ${v6 ? "NA" : "ARP"} for ${vip}: ${f.error}`);
        continue;
      }
      try {
        frames.push({ ifindex: this.io.ifindex(dev), frame: f.bytes, v6 });
      } catch (e) {
        this.log("warning", `(${inst.cfg.name}) ${dev}: ${(e as Error).message}`);
      }
    }
    const queue: typeof frames = [];
    for (let r = 0; r < repeat; r++) queue.push(...frames);
    const sendOne = (x: (typeof frames)[number]) => {
      try {
        this.io.sendFrame(x.ifindex, x.frame);
      } catch (e) {
        this.log("warning", `(${inst.cfg.name}) cannot send a gratuitous ${x.v6 ? "NA" : "ARP"}: ${(e as Error).message}`);
      }
    };
    const garpGap = inst.cfg.garpIntervalMs ?? 0;
    const gnaGap = inst.cfg.gnaIntervalMs ?? 0;
    let delay = 0;
    for (const x of queue) {
      if (delay === 0) sendOne(x);
      else {
        const t = setTimeout(() => {
          this.pendingGarps.delete(t);
          // A burst is for the current mastership only; VIPs released means nothing to announce.
          if (!this.stopped && inst.vrrp.vipsSet) sendOne(x);
        }, delay);
        this.pendingGarps.add(t);
      }
      delay += x.v6 ? gnaGap : garpGap;
    }
  }

  private receive(shared: SharedSocket, pkt: ReceivedPacket): void {
    let payload: Uint8Array;
    const family = shared.family;
    if (family === 4) {
      const ip = parseIpv4Packet(pkt.data);
      if (!ip.ok) {
        this.dropUnmatched("malformed", ip.detail);
        return;
      }
      payload = ip.payload;
    } else payload = pkt.data;
    const vrid = peekVrid(payload);
    const inst = vrid === null ? undefined : shared.byVrid.get(vrid);
    if (!inst) {
      this.dropUnmatched(vrid === null ? "malformed" : "unknownVrid", `VRRP packet from ${pkt.src} for VRID ${vrid ?? "?"} on ${shared.key}`);
      return;
    }
    const expect = inst.cfg.skipCheckAdvAddr ? { ...inst.expect, checkAddresses: checksAdvertAddresses(inst.vrrp, pkt.src, true) } : inst.expect;
    const r =
      family === 4
        ? decodeIpv4Advert(pkt.data, expect)
        : decodeAdvert(payload, { family: 6, source: pkt.src, destination: pkt.dst, ttl: pkt.ttlOrHopLimit }, expect);
    if (!r.ok) {
      inst.stats = count(inst.stats, r.reason);
      this.opts.onEvent?.({ type: "drop", instance: inst.cfg.name, reason: r.reason, detail: r.detail });
      this.log("debug", `(${inst.cfg.name}) dropped packet from ${pkt.src}: ${r.detail}`);
      if (MISMATCH_REASONS.has(r.reason)) this.noteMismatch(inst, pkt.src, r.reason, r.detail);
      return;
    }
    inst.stats = count(inst.stats, { type: "received", priority: r.advert.priority });
    if (r.advert.legacyUnicastChecksum && !inst.legacyUnicastChecksum) {
      // old_unicast_checksum auto: the peer is an old keepalived, answer in its dialect (as keepalived does).
      inst.legacyUnicastChecksum = true;
      this.log("info", `(${inst.cfg.name}) Setting unicast VRRPv3 checksum to old version`);
    }
    this.feed(inst, { type: "advertReceived", advert: { priority: r.advert.priority, advertIntervalMs: r.advert.advertIntervalMs, source: r.advert.source } });
    this.arm();
  }

  /**
   * keepalived logs each such advert (every second) and nothing else; lbctl says it once when it starts,
   * again every minute while it lasts, and when it is over, with an event, and flags it in the status.
   */
  private noteMismatch(inst: RunningInstance, peer: string, reason: DropReason, detail: string): void {
    const now = this.clock.now();
    this.expireMismatch(inst, now);
    const m = inst.mismatch;
    if (m && m.peer === peer && m.reason === reason) {
      m.adverts++;
      m.lastSeen = now;
      m.detail = detail;
      if (now - m.loggedAt >= MISMATCH_LOG_EVERY_MS) {
        m.loggedAt = now;
        this.log("warning", `(${inst.cfg.name}) still dropping the adverts of ${peer} (${m.adverts} since ${new Date(m.since).toISOString()}): ${detail}`);
      }
      return;
    }
    inst.mismatch = { peer, reason, detail, since: Date.now(), adverts: 1, lastSeen: now, loggedAt: now };
    this.log("warning", `(${inst.cfg.name}) dropping the adverts of ${peer}, a router of VRID ${inst.cfg.vrid} configured differently: ${detail}; neither takes the other's adverts, so both can be MASTER`);
    this.opts.onEvent?.({ type: "peerMismatch", instance: inst.cfg.name, peer, reason, detail, over: false });
  }

  /** A mismatch not seen for three advert intervals is over (the peer stopped, or was fixed). */
  private expireMismatch(inst: RunningInstance, now: number): void {
    const m = inst.mismatch;
    if (!m || now - m.lastSeen <= 3 * Math.max(inst.vrrp.params.advertIntervalMs, inst.vrrp.masterAdvertIntervalMs)) return;
    inst.mismatch = null;
    this.log("info", `(${inst.cfg.name}) no more mismatched adverts from ${m.peer}`);
    this.opts.onEvent?.({ type: "peerMismatch", instance: inst.cfg.name, peer: m.peer, reason: m.reason, detail: m.detail, over: true });
  }

  private dropUnmatched(reason: "malformed" | "unknownVrid", detail: string): void {
    this.unmatched[reason]++;
    this.opts.onEvent?.({ type: "drop", instance: null, reason, detail });
  }

  /**
   * Arms the single runtime timer at the earliest deadline of all instances. A deadline that
   * moved later (every received advert pushes the master-down timer back) leaves the timer as
   * it is: it fires, finds nothing due and re-arms, which is cheaper than re-arming per packet.
   */
  private arm(): void {
    if (this.stopped) return;
    const next = this.deadlines.peek();
    if (this.timer && next !== null && this.armedFor !== null && this.armedFor <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = next;
    if (next === null) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - this.clock.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.armedFor = null;
    // Bun timers may fire ~0.3 ms early: only deadlines the clock has reached are due; arm() re-arms
    // for the rest (a sub-millisecond wait at worst).
    for (const inst of this.deadlines.popDue(this.clock.now())) {
      if (this.instances.get(inst.cfg.name) === inst) this.feed(inst, { type: "timer" });
    }
    this.arm();
  }

  // ---------- tracking ----------

  /** The weight an instance gives a tracked object: its own, else the object's, else keepalived's default. */
  private trackedWeight(kind: "script" | "file" | "process" | "interface", r: TrackRef): number {
    if (r.weight !== undefined) return r.weight;
    const c = this.config;
    switch (kind) {
      case "script":
        return c.scripts?.find((s) => s.name === r.name)?.weight ?? 0;
      case "file":
        return c.trackFiles?.find((f) => f.name === r.name)?.weight ?? 1;
      case "process":
        return c.trackProcesses?.find((p) => p.name === r.name)?.weight ?? 0;
      case "interface":
        return 0;
    }
  }

  private trackedObjects(inst: RunningInstance): TrackedObject[] {
    const state = this.tracker?.state();
    if (!state) return [];
    const c = this.config;
    const cfg = inst.cfg;
    const out: TrackedObject[] = [];
    const weightsIgnored = inst.group !== null && !this.groups.get(inst.group)?.trackingWeight;
    const push = (o: TrackedObject) => {
      if (!(weightsIgnored && o.weight !== 0)) out.push(o);
    };
    if (!cfg.dontTrackPrimary) push({ id: `interface ${cfg.interface}`, up: state.interfaces.get(cfg.interface) ?? true, weight: 0 });
    for (const t of cfg.trackInterfaces ?? [])
      push({ id: `interface ${t.name}`, up: state.interfaces.get(t.name) ?? false, weight: this.trackedWeight("interface", t), reverse: t.reverse });
    for (const t of cfg.trackScripts ?? []) {
      const def = c.scripts?.find((s) => s.name === t.name);
      const h = state.scripts.get(t.name);
      if (def && h) push({ id: `script ${t.name}`, up: h.up, weight: this.trackedWeight("script", t), reverse: t.reverse ?? def.weightReverse });
    }
    for (const t of cfg.trackFiles ?? []) {
      const def = c.trackFiles?.find((f) => f.name === t.name);
      if (def) push({ id: `file ${t.name}`, up: true, fileValue: state.files.get(t.name) ?? 0, weight: this.trackedWeight("file", t), reverse: t.reverse ?? def.weightReverse });
    }
    for (const t of cfg.trackProcesses ?? []) {
      const def = c.trackProcesses?.find((p) => p.name === t.name);
      if (def) push({ id: `process ${t.name}`, up: state.processes.get(t.name) ?? false, weight: this.trackedWeight("process", t), reverse: t.reverse ?? def.weightReverse });
    }
    return out;
  }

  private applyTrackingTo(inst: RunningInstance): void {
    const outcome = trackingOutcome(inst.vrrp.basePriority, this.trackedObjects(inst));
    if (outcome.totalPriority !== inst.lastTotalPriority) {
      inst.lastTotalPriority = outcome.totalPriority;
      this.feed(inst, { type: "priorityChanged", totalPriority: outcome.totalPriority });
    }
    const groupSource = inst.group ? syncFaultSource(inst.group) : null;
    const current = inst.vrrp.faults.filter((f) => f !== groupSource);
    for (const f of outcome.faults) if (!current.includes(f)) this.feed(inst, { type: "faultSet", source: f });
    for (const f of current) if (!outcome.faults.includes(f)) this.feed(inst, { type: "faultCleared", source: f });
  }

  private applyTracking(): void {
    if (this.stopped) return;
    for (const inst of [...this.instances.values()]) this.applyTrackingTo(inst);
    this.arm();
  }

  // ---------- public API ----------

  status(): RuntimeStatus {
    const now = this.clock.now();
    for (const i of this.instances.values()) this.expireMismatch(i, now);
    return {
      instances: [...this.instances.values()].map((i) => ({
        name: i.cfg.name,
        vrid: i.cfg.vrid,
        family: i.cfg.family,
        version: i.vrrp.params.version,
        interface: i.cfg.interface,
        state: i.vrrp.state,
        basePriority: i.vrrp.basePriority,
        effectivePriority: i.vrrp.effectivePriority,
        masterAddress: i.vrrp.masterAddress,
        masterPriority: i.vrrp.masterPriority,
        lastTransition: i.lastTransition,
        faults: [...i.vrrp.faults],
        owned: this.vips.owned(i.cfg.name),
        stats: { ...i.stats },
        peerMismatch: i.mismatch && { peer: i.mismatch.peer, reason: i.mismatch.reason, detail: i.mismatch.detail, since: i.mismatch.since, adverts: i.mismatch.adverts },
      })),
      unmatched: { ...this.unmatched },
    };
  }

  private control(name: string, event: VrrpEvent): ControlResult {
    if (this.stopped) return { ok: false, error: "the VRRP runtime is stopped" };
    const inst = this.instances.get(name);
    if (!inst) return { ok: false, error: `no VRRP instance named '${name}'` };
    this.feed(inst, event);
    this.arm();
    return { ok: true };
  }

  forceBackup(name: string): ControlResult {
    return this.control(name, { type: "forceBackup" });
  }

  resume(name: string): ControlResult {
    return this.control(name, { type: "resume" });
  }

  async reload(next: RuntimeConfig): Promise<ReloadResult> {
    const result: ReloadResult = { kept: [], reconfigured: [], started: [], removed: [], restarted: [], errors: [] };
    if (this.stopped) return { ...result, errors: ["the VRRP runtime is stopped"] };
    const errors = configErrors(next);
    const wanted = new Map(next.instances.filter((i) => !errors.has(i.name)).map((i) => [i.name, i]));
    for (const errs of errors.values()) result.errors.push(...errs);
    // Removed instances and new identities go first, so a VRID moving between instances is free again.
    const changed: [RunningInstance, RuntimeInstanceConfig][] = [];
    for (const inst of [...this.instances.values()]) {
      const w = wanted.get(inst.cfg.name);
      if (w && identity(w) === identity(inst.cfg)) {
        if (JSON.stringify(w) === inst.key) result.kept.push(inst.cfg.name);
        else changed.push([inst, w]);
        continue;
      }
      await this.removeInstance(inst);
      (w ? result.restarted : result.removed).push(inst.cfg.name);
    }
    const notifierChanged = notifierKey(next) !== notifierKey(this.config);
    this.config = next;
    this.groups = new Map((next.syncGroups ?? []).map((g) => [g.name, g]));
    for (const inst of this.instances.values()) inst.group = this.groupOf(inst.cfg.name);
    // A group that is gone or new has no notified state to keep.
    for (const g of [...this.groupStates.keys()]) if (!this.groups.has(g)) this.groupStates.delete(g);
    if (notifierChanged) {
      this.notifier.close();
      this.notifier = this.makeNotifier(next);
    }
    await this.restartTracker(next);
    if (this.stopped) return result;
    for (const [inst, cfg] of changed) {
      if (this.reconfigureInstance(inst, cfg)) result.reconfigured.push(cfg.name);
      else result.errors.push(`(${cfg.name}) not reconfigured: its VRRP socket could not be opened`);
    }
    const fresh: RuntimeInstanceConfig[] = [];
    for (const cfg of wanted.values()) {
      if (this.instances.has(cfg.name)) continue;
      fresh.push(cfg);
      if (!result.restarted.includes(cfg.name)) result.started.push(cfg.name);
    }
    await this.startInstances(fresh);
    this.applyTracking();
    return result;
  }

  /** The receive path broke: stop as on shutdown, then tell the owner, who must exit. */
  private async fail(cause: string): Promise<void> {
    if (this.stopped) return;
    this.log("error", `${cause}: stopping VRRP (a node that cannot hear its peers must not hold a VIP)`);
    await this.stop();
    this.opts.onFatal?.(cause);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const inst of [...this.instances.values()]) this.feed(inst, { type: "shutdown" });
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const t of this.pendingGarps) clearTimeout(t);
    this.pendingGarps.clear();
    await this.addressWatch?.close();
    this.addressWatch = null;
    for (const owner of this.vips.owners()) this.vips.release(owner);
    this.opts.firewall?.close();
    await Promise.all([...this.sockets.values()].map((s) => s.sock.close()));
    this.sockets.clear();
    for (const inst of this.instances.values()) if (inst.vmac) this.deleteVmac(inst.vmac);
    this.instances.clear();
    await this.tracker?.close();
    // STOP notifications are started; give them a moment but never hold shutdown past ~300 ms.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.notifier.idle(), new Promise((resolve) => (grace = setTimeout(resolve, 300)))]);
    clearTimeout(grace);
    this.notifier.close();
    this.io.close();
  }
}
