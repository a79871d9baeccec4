import { describe, expect, it } from "vitest";
import {
  emptyLatencyHistogram, endpointKey, eventFromChild, LATENCY_BUCKETS_S, observeLatency, virtualServersFromChild, vrrpFromChild,
} from "../../src/daemon/api-types.ts";
import { checkChildStatus, T0, vrrpChildStatus } from "./api-fixture.ts";

describe("vrrpFromChild", () => {
  it("maps the VRRP runtime's status field by field", () => {
    const v = vrrpFromChild(vrrpChildStatus());
    expect(v.unmatched).toEqual({ unknownVrid: 7, malformed: 1 });
    expect(v.instances[0]).toMatchObject({
      name: "VI_1", vrid: 51, family: 4, version: 2, interface: "eth0", state: "MASTER", basePriority: 150, effectivePriority: 150,
      masterAddress: "10.0.0.1", masterPriority: 150, transitions: 2, forcedBackup: false, faults: [],
      lastTransition: { at: T0 - 65_000, from: "BACKUP", to: "MASTER", reason: "master down timer expired" },
    });
    expect(v.instances[0].counters.advertisementsSent).toBe(20);
    expect(v.instances[0].counters.authFailures).toBe(3);
    // counters the child did not send are 0, and every VRRP-MIB counter is present
    expect(v.instances[0].counters.checksumErrors).toBe(0);
    expect(Object.keys(v.instances[0].counters)).toHaveLength(17);
    expect(v.instances[1].transitions).toBeNull();
  });
  it("keeps a transition whose time is a monotonic reading, without the time", () => {
    const v = vrrpFromChild({ instances: [{ name: "A", state: "MASTER", lastTransition: { at: 773.6, from: "BACKUP", to: "MASTER", reason: "r" } }] });
    expect(v.instances[0].lastTransition).toEqual({ at: null, from: "BACKUP", to: "MASTER", reason: "r" });
  });
  it("tolerates missing and mistyped fields without throwing", () => {
    expect(vrrpFromChild(undefined)).toEqual({ instances: [], unmatched: { unknownVrid: 0, malformed: 0 } });
    expect(vrrpFromChild({ instances: "x", unmatched: 3 })).toEqual({ instances: [], unmatched: { unknownVrid: 0, malformed: 0 } });
    const v = vrrpFromChild({ instances: [{ name: "A", state: "DANCING", family: 5, vrid: "51", lastTransition: { at: 1, from: "X", to: "MASTER" }, faults: ["f", 2], stats: { advertisementsSent: -4 } }, { state: "MASTER" }, null] });
    expect(v.instances).toHaveLength(1);
    expect(v.instances[0]).toMatchObject({ name: "A", state: "UNKNOWN", family: null, vrid: null, lastTransition: null, faults: ["f"] });
    expect(v.instances[0].counters.advertisementsSent).toBe(0);
  });
});

describe("virtualServersFromChild", () => {
  it("maps virtual servers, real servers with their keys and checkers", () => {
    const vs = virtualServersFromChild(checkChildStatus());
    expect(vs.map((v) => v.key)).toEqual(["TCP 10.0.0.100:80", "UDP [2001:db8::100]:53", "FWM 7"]);
    const [a, b] = vs[0].realServers;
    expect(a).toMatchObject({ key: "10.0.0.2:80", health: "up", weight: 3, effectiveWeight: 3, drained: false, activeConns: 4 });
    expect(a.stats?.conns).toBe(100);
    expect(a.checkers[0]).toMatchObject({ id: "http-0", type: "HTTP_GET", up: true, enabled: true, successes: 3, lastResult: { ok: true, latencyMs: 4 } });
    expect(a.checkers[0].latency?.count).toBe(3);
    expect(b).toMatchObject({ key: "10.0.0.3:80", health: "down", effectiveWeight: null, stats: null });
    expect(b.checkers[0].latency).toBeNull();
    expect(vs[1].realServers[0].key).toBe("[2001:db8::2]:53");
    expect(vs[2]).toMatchObject({ fwmark: 7, address: null, quorumUp: null, realServers: [] });
  });
  it("accepts the health-state spellings (addr, vsKey, alive, sorryActive) and drops unusable entries", () => {
    const vs = virtualServersFromChild({ virtualServers: [
      { vsKey: "TCP 1.2.3.4:80", sorryActive: true, realServers: [{ addr: "5.6.7.8", port: 80, alive: false }, { addr: "x" }, 7] },
      { realServers: [] },
    ] });
    expect(vs).toHaveLength(1);
    expect(vs[0].sorryServerActive).toBe(true);
    expect(vs[0].realServers).toEqual([expect.objectContaining({ key: "5.6.7.8:80", health: "down", checkers: [] })]);
  });
  it("leaves out a latency histogram with other buckets rather than mislabel it", () => {
    const vs = virtualServersFromChild({ virtualServers: [{ key: "FWM 1", realServers: [{ address: "1.1.1.1", port: 1, checkers: [{ id: "c", latency: { buckets: [1, 2], count: 2, sumSeconds: 1 } }] }] }] });
    expect(vs[0].realServers[0].checkers[0].latency).toBeNull();
    expect(vs[0].realServers[0].health).toBe("unknown");
  });
});

describe("latency histogram", () => {
  it("counts cumulatively per bucket bound", () => {
    const h = emptyLatencyHistogram();
    observeLatency(h, 0.001);
    observeLatency(h, 0.02);
    observeLatency(h, 60);
    expect(h.count).toBe(3);
    expect(h.sumSeconds).toBeCloseTo(60.021);
    expect(h.buckets[0]).toBe(1); // <= 1 ms
    expect(h.buckets[LATENCY_BUCKETS_S.indexOf(0.025)]).toBe(2);
    expect(h.buckets[h.buckets.length - 1]).toBe(2); // 60 s is only in +Inf
  });
});

describe("eventFromChild", () => {
  it("turns a VRRP transition into vrrp-transition", () => {
    expect(eventFromChild("vrrp", { type: "transition", instance: "VI_1", from: "BACKUP", to: "MASTER", reason: "higher\npriority", at: 5 })).toEqual({
      type: "vrrp-transition", instance: "VI_1", from: "BACKUP", to: "MASTER", reason: "higher\npriority", message: "VI_1: BACKUP -> MASTER (higher priority)",
    });
  });
  it("turns rs-up/rs-down and quorum changes into real-server and quorum events", () => {
    expect(eventFromChild("check", { type: "rs-down", vsKey: "TCP 1.1.1.1:80", rs: "2.2.2.2:80", reason: "timeout", smtpAlert: false })).toEqual({
      type: "real-server", vs: "TCP 1.1.1.1:80", rs: "2.2.2.2:80", health: "down", reason: "timeout", message: "TCP 1.1.1.1:80 real server 2.2.2.2:80 down (timeout)",
    });
    expect(eventFromChild("check", { type: "quorum-up", vsKey: "FWM 3", reason: "" })).toMatchObject({ type: "quorum", vs: "FWM 3", up: true, message: "FWM 3 quorum gained" });
  });
  it("passes anything else on as other, without throwing", () => {
    expect(eventFromChild("check", { type: "weight", vsKey: "x" })).toMatchObject({ type: "other", source: "check", data: { type: "weight", vsKey: "x" } });
    expect(eventFromChild("vrrp", { type: "transition", instance: "VI_1", from: "NOPE", to: "MASTER" }).type).toBe("other");
    expect(eventFromChild("vrrp", null)).toEqual({ type: "other", source: "vrrp", data: {}, message: "vrrp: event" });
  });
});

describe("endpointKey", () => {
  it("brackets IPv6 only", () => {
    expect(endpointKey("10.0.0.1", 80)).toBe("10.0.0.1:80");
    expect(endpointKey("2001:db8::1", 443)).toBe("[2001:db8::1]:443");
  });
});
