// A sample daemon for the control API tests: child status objects shaped as the VRRP runtime and
// the checker process report them, and a fake DaemonFacade that records what it was asked to do.
import { emptyLatencyHistogram, observeLatency, type ActionResultV1, type EventV1, type ReloadResultV1, type StatusV1 } from "../../src/daemon/api-types.ts";
import type { ControlAction, DaemonFacade } from "../../src/daemon/control-api.ts";
import { SupervisorFacade, type SupervisorLike } from "../../src/daemon/control-api.ts";
import { DrainStore } from "../../src/daemon/drain-store.ts";
import { EventLog } from "../../src/daemon/events.ts";

export const T0 = Date.UTC(2026, 10, 26, 4, 0, 0);

const stats = (n: number) => ({ advertisementsReceived: n, advertisementsSent: 2 * n, becomeMaster: 1, releaseMaster: 0, authFailures: 3 });

/** What the VRRP process sends as {type:"status"} (src/vrrp/runtime.ts RuntimeStatus). */
export function vrrpChildStatus(): Record<string, unknown> {
  return {
    instances: [
      {
        name: "VI_1", vrid: 51, family: 4, version: 2, interface: "eth0", state: "MASTER",
        basePriority: 150, effectivePriority: 150, masterAddress: "10.0.0.1", masterPriority: 150,
        lastTransition: { at: T0 - 65_000, from: "BACKUP", to: "MASTER", reason: "master down timer expired" },
        transitions: 2, faults: [], owned: ["10.0.0.100/32 dev eth0"], stats: stats(10),
      },
      {
        name: "VI_6", vrid: 52, family: 6, version: 3, interface: "eth1", state: "BACKUP",
        basePriority: 100, effectivePriority: 90, masterAddress: "fe80::1", masterPriority: 200,
        lastTransition: null, faults: [], stats: stats(4),
      },
    ],
    unmatched: { unknownVrid: 7, malformed: 1 },
  };
}

/** What the checker process sends as {type:"status"}. */
export function checkChildStatus(): Record<string, unknown> {
  const latency = emptyLatencyHistogram();
  for (const s of [0.002, 0.004, 0.3]) observeLatency(latency, s);
  const ipvs = { conns: 100, inPkts: 1000, outPkts: 900, inBytes: 64000, outBytes: 128000, cps: 5, inPps: 50, outPps: 45, inBps: 3200, outBps: 6400 };
  return {
    virtualServers: [
      {
        key: "TCP 10.0.0.100:80", protocol: "tcp", address: "10.0.0.100", port: 80, scheduler: "wrr", quorumUp: true, stats: ipvs,
        realServers: [
          {
            address: "10.0.0.2", port: 80, health: "up", reason: "HTTP_GET status 200", weight: 3, effectiveWeight: 3,
            activeConns: 4, inactiveConns: 1, stats: ipvs,
            checkers: [{ id: "http-0", type: "HTTP_GET", up: true, enabled: true, lastResult: { at: T0 - 1000, ok: true, reason: "status 200", latencyMs: 4 }, successes: 3, failures: 0, latency }],
          },
          {
            address: "10.0.0.3", port: 80, health: "down", reason: "connection refused", weight: 1, effectiveWeight: null,
            checkers: [{ id: "tcp-0", type: "TCP_CHECK", up: false, enabled: true, successes: 0, failures: 5 }],
          },
        ],
      },
      {
        key: "UDP [2001:db8::100]:53", protocol: "udp", address: "2001:db8::100", port: 53, scheduler: "rr", quorumUp: false,
        realServers: [{ address: "2001:db8::2", port: 53, health: "down", reason: "timeout", weight: 1, checkers: [] }],
      },
      { key: "FWM 7", fwmark: 7, scheduler: "sh", realServers: [] },
    ],
  };
}

/** A fake Supervisor: fixed child statuses, actions answered by a function the test controls. */
export class FakeSupervisor implements SupervisorLike {
  startedAt = T0 - 3_600_000;
  lastReload: { at: number; ok: boolean; message: string } | null = null;
  reloadCount = 0;
  actions: { role: string; action: string; args: Record<string, string> }[] = [];
  nextReload = { ok: true, errors: [] as string[], warnings: ["lbctl.toml:3:1: warning: something"] };
  answer: (action: string) => { ok: boolean; message: string } = () => ({ ok: true, message: "" });
  children: Record<string, Record<string, unknown>> = { vrrp: vrrpChildStatus(), check: checkChildStatus() };

  reload() {
    this.reloadCount++;
    this.lastReload = { at: T0, ok: this.nextReload.ok, message: this.nextReload.ok ? "reloaded" : this.nextReload.errors.join("; ") };
    return this.nextReload;
  }
  async action(role: "vrrp" | "check", action: string, args: Record<string, string>) {
    this.actions.push({ role, action, args });
    return this.answer(action);
  }
  statusOf(role: "vrrp" | "check") { return this.children[role]; }
  /** Status requests seen; `onRefresh` stands for the children answering (it may change `children`). */
  refreshes = 0;
  onRefresh: () => void = () => {};
  async refreshStatus() { this.refreshes++; this.onRefresh(); }
  childInfo() {
    return [
      { role: "vrrp" as const, pid: 1001, ready: true, restarts: 0 },
      { role: "check" as const, pid: 1002, ready: true, restarts: 2 },
    ];
  }
}

export function sampleFacade(o: { drainFile?: string | null } = {}): { facade: SupervisorFacade; sup: FakeSupervisor; events: EventLog; drains: DrainStore } {
  const sup = new FakeSupervisor();
  const events = new EventLog(100);
  const drains = new DrainStore(o.drainFile ?? null);
  const facade = new SupervisorFacade({ supervisor: sup, events, drains, configPath: "/etc/lbctl/lbctl.toml", configReason: "it sets something, so it comes before /etc/keepalived/keepalived.conf", version: "0.1.0", pid: 1000, now: () => T0 });
  return { facade, sup, events, drains };
}

/** A facade that records calls and answers from fixed data, for the router tests. */
export class RecordingFacade implements DaemonFacade {
  calls: string[] = [];
  reloadResult: ReloadResultV1 = { ok: true, errors: [], warnings: [] };
  actionResult: ActionResultV1 = { ok: true, message: "done" };
  readonly log = new EventLog(10);
  constructor(private readonly snapshot: StatusV1) {}
  status(): StatusV1 { return this.snapshot; }
  freshStatusCalls = 0;
  async freshStatus(): Promise<StatusV1> { this.freshStatusCalls++; return this.snapshot; }
  async reload(): Promise<ReloadResultV1> { this.calls.push("reload"); return this.reloadResult; }
  async action(a: ControlAction): Promise<ActionResultV1> { this.calls.push(JSON.stringify(a)); return this.actionResult; }
  eventsSince(since: number): EventV1[] { return this.log.since(since); }
  subscribe(l: (e: EventV1) => void): () => void { return this.log.subscribe(l); }
}
