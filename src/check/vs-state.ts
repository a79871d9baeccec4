// Pure real-server / virtual-server health state, after keepalived 2.2.7's check/ipwrapper.c:
//  - a real server is alive only when ALL its checkers are up (num_failed_checkers == 0);
//  - quorum: the sum of the alive real servers' weights. Starting state: up iff sum >= quorum + hysteresis.
//    Gained when down and sum >= quorum + hysteresis; lost when up and (sum == 0 or sum < quorum - hysteresis)
//    (update_quorum_state). Losing it with a sorry_server puts the sorry server in and takes the alive real
//    servers out; gaining it does the reverse. At start, quorum down with a sorry server puts it in too.
//  - inhibit_on_failure keeps a failed real server in IPVS with weight 0 instead of removing it;
//    sorry_server_inhibit does the same for the sorry server while it is not needed.
//  - misc_dynamic sets the weight to exit code - 2; FILE_CHECK dynamic adds value*weight.
// Nothing here does I/O: the caller runs notify scripts / SMTP from the events and programs IPVS from
// desiredDests().

export interface Dest { addr: string; port: number; weight: number }
export interface DesiredVirtualServer { vsKey: string; dests: Dest[] }

export interface RealServerConfig {
  addr: string;
  port: number;
  /** `weight`: default 1. */
  weight: number;
  /** `inhibit_on_failure`: default off. */
  inhibitOnFailure: boolean;
  /** `notify_up` / `notify_down` command lines. */
  notifyUp?: string;
  notifyDown?: string;
  /** `smtp_alert`: default on unless the global smtp_alert / smtp_alert_checker says otherwise. */
  smtpAlert: boolean;
  /** Ids of this real server's checkers, with whether each starts up (false for alpha checkers). */
  checkers: { id: string; startsUp: boolean }[];
}

export interface SorryServerConfig {
  addr: string;
  port: number;
  /** Weight given to the sorry server in IPVS. keepalived uses 1. */
  weight: number;
  /** `sorry_server_inhibit`. */
  inhibit: boolean;
}

export interface VirtualServerConfig {
  /** Identity for the IPVS reconciler, e.g. "TCP 10.0.0.1:80" or "FWM 7". */
  vsKey: string;
  /** `quorum`: default 1. */
  quorum: number;
  /** `hysteresis`: default 0. */
  hysteresis: number;
  /** `quorum_up` / `quorum_down` command lines. */
  quorumUp?: string;
  quorumDown?: string;
  sorryServer?: SorryServerConfig;
  /** `omega`: run the down notifiers on shutdown. Default off. */
  omega: boolean;
  /** `smtp_alert` for quorum changes. Default off. */
  smtpAlert: boolean;
  realServers: RealServerConfig[];
}

interface RealServerState {
  checkerUp: Record<string, boolean>;
  alive: boolean;
  /** misc_dynamic weight (exit code - 2), replacing the configured weight when set. */
  dynamicWeight?: number;
  /** FILE_CHECK dynamic contributions, by checker id. */
  fileWeights: Record<string, number>;
}

export interface VirtualServerState {
  quorumUp: boolean;
  sorryActive: boolean;
  rs: Record<string, RealServerState>;
}

export type HealthEvent =
  | {
    type: "rs-up" | "rs-down"; vsKey: string; rs: string; reason: string;
    notify?: string; smtpAlert: boolean; initial?: boolean;
  }
  | {
    type: "quorum-up" | "quorum-down"; vsKey: string; reason: string;
    notify?: string; smtpAlert: boolean; weightSum: number; threshold: number;
  }
  | { type: "sorry-in" | "sorry-out"; vsKey: string; sorry: string; reason: string }
  | { type: "weight"; vsKey: string; rs: string; from: number; to: number; reason: string };

export interface Transition { state: VirtualServerState; events: HealthEvent[] }

const IPVS_WEIGHT_MAX = 2_147_483_647;

export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function rsKey(rs: { addr: string; port: number }): string {
  return formatEndpoint(rs.addr, rs.port);
}

/** keepalived's real_weight(): what IPVS can hold. */
function ipvsWeight(w: number): number {
  return w <= 0 ? 0 : Math.min(w, IPVS_WEIGHT_MAX);
}

function effectiveWeight(rs: RealServerConfig, st: RealServerState): number {
  const base = st.dynamicWeight ?? rs.weight;
  return Object.values(st.fileWeights).reduce((a, b) => a + b, base);
}

function weightSum(cfg: VirtualServerConfig, state: VirtualServerState): number {
  let sum = 0;
  for (const rs of cfg.realServers) {
    const st = state.rs[rsKey(rs)];
    if (st?.alive) sum += ipvsWeight(effectiveWeight(rs, st));
  }
  return sum;
}

function cloneState(s: VirtualServerState): VirtualServerState {
  const rs: Record<string, RealServerState> = {};
  for (const [k, v] of Object.entries(s.rs)) rs[k] = { ...v, checkerUp: { ...v.checkerUp }, fileWeights: { ...v.fileWeights } };
  return { quorumUp: s.quorumUp, sorryActive: s.sorryActive, rs };
}

function findRs(cfg: VirtualServerConfig, key: string): RealServerConfig | undefined {
  return cfg.realServers.find((r) => rsKey(r) === key);
}

/** keepalived's update_quorum_state(), mutating `state`, appending events. */
function updateQuorum(cfg: VirtualServerConfig, state: VirtualServerState, init: boolean, events: HealthEvent[]): void {
  const sum = weightSum(cfg, state);
  const threshold = cfg.quorum + (state.quorumUp ? -1 : 1) * cfg.hysteresis;
  const sorry = cfg.sorryServer;
  if (!state.quorumUp && sum >= threshold) {
    state.quorumUp = true;
    const reason = `${init ? "Starting with quorum up" : "Gained quorum"} ${cfg.quorum}+${cfg.hysteresis}=${threshold} <= ${sum}`;
    if (sorry && state.sorryActive) {
      state.sorryActive = false;
      events.push({ type: "sorry-out", vsKey: cfg.vsKey, sorry: rsKey(sorry), reason: `${sorry.inhibit ? "Disabling" : "Removing"} sorry server: ${reason}` });
    }
    events.push({ type: "quorum-up", vsKey: cfg.vsKey, reason, notify: cfg.quorumUp, smtpAlert: cfg.smtpAlert, weightSum: sum, threshold });
    return;
  }
  const lost = state.quorumUp && (sum === 0 || sum < threshold);
  const startDownWithSorry = init && !state.quorumUp && sorry !== undefined && !state.sorryActive;
  if (lost || startDownWithSorry) {
    state.quorumUp = false;
    const reason = `${init ? "Starting with quorum down" : "Lost quorum"} ${cfg.quorum}-${cfg.hysteresis}=${threshold} > ${sum}`;
    if (sorry && !state.sorryActive) {
      state.sorryActive = true;
      events.push({ type: "sorry-in", vsKey: cfg.vsKey, sorry: rsKey(sorry), reason: `${sorry.inhibit ? "Enabling" : "Adding"} sorry server: ${reason}` });
    }
    events.push({ type: "quorum-down", vsKey: cfg.vsKey, reason, notify: cfg.quorumDown, smtpAlert: cfg.smtpAlert, weightSum: sum, threshold });
  }
}

/** State at start-up (keepalived's init_service_vs): real servers with no failed checker are alive. */
export function initVirtualServer(cfg: VirtualServerConfig): Transition {
  const rs: Record<string, RealServerState> = {};
  for (const r of cfg.realServers) {
    const checkerUp: Record<string, boolean> = {};
    for (const c of r.checkers) checkerUp[c.id] = c.startsUp;
    rs[rsKey(r)] = { checkerUp, alive: Object.values(checkerUp).every(Boolean), fileWeights: {} };
  }
  const state: VirtualServerState = { quorumUp: false, sorryActive: false, rs };
  state.quorumUp = weightSum(cfg, state) >= cfg.quorum + cfg.hysteresis;
  const events: HealthEvent[] = [];
  updateQuorum(cfg, state, true, events);
  return { state, events };
}

export interface VerdictInfo {
  /** Why (the checker's result reason and its retry summary). */
  reason: string;
  /** This verdict is the checker's first one (keepalived reports alpha / failed starts once). */
  firstRun?: boolean;
  alpha?: boolean;
}

/** A checker of real server `key` went up or down (keepalived's update_svr_checker_state). */
export function onCheckerVerdict(cfg: VirtualServerConfig, prev: VirtualServerState, key: string, checkerId: string,
  up: boolean, info: VerdictInfo): Transition {
  const rs = findRs(cfg, key);
  const prevRs = prev.rs[key];
  if (!rs || !prevRs || !(checkerId in prevRs.checkerUp)) return { state: prev, events: [] };
  const state = cloneState(prev);
  const st = state.rs[key];
  const events: HealthEvent[] = [];
  if (st.checkerUp[checkerId] === up) {
    // Unchanged; keepalived still reports the initial state of an alpha or failed checker once.
    if (info.firstRun && (info.alpha || !up)) events.push(rsEvent(cfg, rs, st.alive, info.reason, true));
    return { state, events };
  }
  st.checkerUp[checkerId] = up;
  const alive = Object.values(st.checkerUp).every(Boolean);
  if (alive !== st.alive) {
    st.alive = alive;
    events.push(rsEvent(cfg, rs, alive, info.reason, false));
    updateQuorum(cfg, state, false, events);
  }
  return { state, events };
}

function rsEvent(cfg: VirtualServerConfig, rs: RealServerConfig, alive: boolean, reason: string, initial: boolean): HealthEvent {
  const action = alive ? (rs.inhibitOnFailure ? "Enabling" : "Adding") : (rs.inhibitOnFailure ? "Disabling" : "Removing");
  return {
    type: alive ? "rs-up" : "rs-down", vsKey: cfg.vsKey, rs: rsKey(rs),
    reason: `${action} service ${rsKey(rs)} ${rs.inhibitOnFailure ? "of" : alive ? "to" : "from"} VS ${cfg.vsKey}: ${reason}`,
    notify: alive ? rs.notifyUp : rs.notifyDown, smtpAlert: rs.smtpAlert, ...(initial ? { initial } : {}),
  };
}

/** A dynamic weight changed: misc_dynamic (kind "misc", weight = exit code - 2, undefined to keep) or
 *  FILE_CHECK dynamic (kind "file", weight = value * multiplier). keepalived's update_svr_wgt. */
export function onWeight(cfg: VirtualServerConfig, prev: VirtualServerState, key: string, checkerId: string,
  kind: "misc" | "file", weight: number): Transition {
  const rs = findRs(cfg, key);
  const prevRs = prev.rs[key];
  if (!rs || !prevRs) return { state: prev, events: [] };
  const state = cloneState(prev);
  const st = state.rs[key];
  const before = ipvsWeight(effectiveWeight(rs, st));
  if (kind === "misc") st.dynamicWeight = weight;
  else st.fileWeights[checkerId] = weight;
  const after = ipvsWeight(effectiveWeight(rs, st));
  const events: HealthEvent[] = [];
  if (before !== after) {
    events.push({
      type: "weight", vsKey: cfg.vsKey, rs: key, from: before, to: after,
      reason: `Changing weight from ${before} to ${after} for ${st.alive ? "" : "in"}active service ${key} of VS ${cfg.vsKey}`,
    });
    updateQuorum(cfg, state, false, events);
  }
  return { state, events };
}

/** Events on daemon shutdown: with omega, the down notifiers of alive real servers and of the quorum. */
export function shutdownEvents(cfg: VirtualServerConfig, state: VirtualServerState): HealthEvent[] {
  if (!cfg.omega) return [];
  const events: HealthEvent[] = [];
  for (const rs of cfg.realServers) {
    if (state.rs[rsKey(rs)]?.alive) {
      events.push({
        type: "rs-down", vsKey: cfg.vsKey, rs: rsKey(rs), reason: `Shutting down service ${rsKey(rs)} from VS ${cfg.vsKey}`,
        notify: rs.notifyDown, smtpAlert: rs.smtpAlert,
      });
    }
  }
  const threshold = cfg.quorum - cfg.hysteresis;
  events.push({
    type: "quorum-down", vsKey: cfg.vsKey, reason: "Shutting down", notify: cfg.quorumDown, smtpAlert: cfg.smtpAlert,
    weightSum: weightSum(cfg, state), threshold,
  });
  return events;
}

/** The (real server, weight) set IPVS should hold for this virtual server. */
export function desiredDests(cfg: VirtualServerConfig, state: VirtualServerState): DesiredVirtualServer {
  const dests = new Map<string, Dest>();
  for (const rs of cfg.realServers) {
    const st = state.rs[rsKey(rs)];
    if (!st) continue;
    // While the sorry server stands in, alive real servers are taken out like failed ones.
    const serving = st.alive && !state.sorryActive;
    if (serving) dests.set(rsKey(rs), { addr: rs.addr, port: rs.port, weight: ipvsWeight(effectiveWeight(rs, st)) });
    else if (rs.inhibitOnFailure) dests.set(rsKey(rs), { addr: rs.addr, port: rs.port, weight: 0 });
  }
  const sorry = cfg.sorryServer;
  if (sorry) {
    // A sorry server that is also a real server keeps its real-server entry unless it is standing in.
    if (state.sorryActive) dests.set(rsKey(sorry), { addr: sorry.addr, port: sorry.port, weight: sorry.weight });
    else if (sorry.inhibit && !dests.has(rsKey(sorry))) dests.set(rsKey(sorry), { addr: sorry.addr, port: sorry.port, weight: 0 });
  }
  return { vsKey: cfg.vsKey, dests: [...dests.values()] };
}
