import { describe, expect, it } from "vitest";
import { buildIpv4Packet, decodeIpv4Advert, encodeInstanceAdvert, expectationsFor, nextIpId, type DropReason } from "../../src/vrrp/packet.ts";
import { createInstance, nextDeadline, step, type VrrpAction, type VrrpInstance, type StepResult } from "../../src/vrrp/state-machine.ts";
import { count, countActions, DROP_COUNTERS, emptyStats, type VrrpStats } from "../../src/vrrp/stats.ts";
import { syncFaultSource, syncGroupFollowUps, syncGroupMayBecomeMaster, type SyncMember } from "../../src/vrrp/sync-group.ts";
import type { VrrpInstanceParams } from "../../src/vrrp/types.ts";
import { vrrpParams } from "../helpers/vrrp-params.ts";

const params = vrrpParams;

describe("stats", () => {
  it("every drop reason lands in its MIB counter", () => {
    const expected: Record<DropReason, string> = {
      malformedIpHeader: "packetLengthErrors",
      packetTooShort: "packetLengthErrors",
      lengthMismatch: "packetLengthErrors",
      ttlError: "ipTtlErrors",
      versionMismatch: "versionErrors",
      vridMismatch: "vridErrors",
      invalidAuthType: "invalidAuthType",
      authTypeMismatch: "authTypeMismatch",
      authFailure: "authFailures",
      advertIntervalMismatch: "advertIntervalErrors",
      invalidType: "invalidTypePktsRcvd",
      addressCountMismatch: "addressListErrors",
      checksumError: "checksumErrors",
      castMismatch: "addressListErrors",
      addressListMismatch: "addressListErrors",
      unicastSourceNotPeer: "advertisementsReceived",
    };
    for (const [reason, counter] of Object.entries(expected) as [DropReason, keyof VrrpStats][]) {
      const after = count(emptyStats(), reason);
      expect(after[counter], reason).toBe(1);
      const bumped = Object.values(after).reduce((a, b) => a + b, 0);
      expect(bumped, reason).toBe(DROP_COUNTERS[reason].length);
    }
    // keepalived counts the advert as received before it compares the address list.
    expect(count(emptyStats(), "addressListMismatch").advertisementsReceived).toBe(1);
  });
  it("received adverts, priority 0 and the machine's actions are counted; the input is not mutated", () => {
    const s0 = emptyStats();
    const s1 = count(count(s0, { type: "received", priority: 100 }), { type: "received", priority: 0 });
    expect(s0.advertisementsReceived).toBe(0);
    expect(s1.advertisementsReceived).toBe(2);
    expect(s1.priorityZeroPktsRcvd).toBe(1);
    const actions: VrrpAction[] = [
      { type: "sendAdvert", priority: 150 },
      { type: "transition", from: "BACKUP", to: "MASTER", reason: "x" },
      { type: "sendAdvert", priority: 0 },
      { type: "transition", from: "MASTER", to: "FAULT", reason: "y" },
      { type: "transition", from: "FAULT", to: "BACKUP", reason: "z" },
      { type: "transition", from: "BACKUP", to: "STOP", reason: "w" },
    ];
    const s2 = countActions(s1, actions);
    expect(s2).toMatchObject({ advertisementsSent: 2, priorityZeroPktsSent: 1, becomeMaster: 1, releaseMaster: 1 });
  });
});

describe("sync groups", () => {
  const member = (name: string, state: SyncMember["state"], faults: string[] = [], wantMaster = false): SyncMember => ({ name, state, faults, wantMaster });

  it("one member in FAULT puts the others in FAULT, and its recovery brings them back", () => {
    const down = [member("a", "FAULT", ["interface eth0 down"]), member("b", "MASTER"), member("c", "BACKUP")];
    expect(syncGroupFollowUps("G", down, { name: "a", from: "MASTER" })).toEqual([
      { name: "b", event: { type: "faultSet", source: syncFaultSource("G") } },
      { name: "c", event: { type: "faultSet", source: syncFaultSource("G") } },
    ]);
    const up = [member("a", "BACKUP"), member("b", "FAULT", [syncFaultSource("G")]), member("c", "FAULT", [syncFaultSource("G")])];
    expect(syncGroupFollowUps("G", up, { name: "a", from: "FAULT" })).toEqual([
      { name: "b", event: { type: "faultCleared", source: syncFaultSource("G") } },
      { name: "c", event: { type: "faultCleared", source: syncFaultSource("G") } },
    ]);
    // While another member still has its own fault, nobody is released.
    const partly = [member("a", "BACKUP"), member("b", "FAULT", ["script chk"]), member("c", "FAULT", [syncFaultSource("G")])];
    expect(syncGroupFollowUps("G", partly, { name: "a", from: "FAULT" })).toEqual([
      { name: "a", event: { type: "faultSet", source: syncFaultSource("G") } },
    ]);
  });
  it("one member becoming MASTER takes the backups to MASTER; one dropping to BACKUP takes the masters down", () => {
    const up = [member("a", "MASTER"), member("b", "BACKUP"), member("c", "MASTER")];
    expect(syncGroupFollowUps("G", up, { name: "a", from: "BACKUP" })).toEqual([{ name: "b", event: { type: "syncForce", state: "MASTER" } }]);
    const down = [member("a", "BACKUP"), member("b", "MASTER"), member("c", "BACKUP")];
    expect(syncGroupFollowUps("G", down, { name: "a", from: "MASTER" })).toEqual([{ name: "b", event: { type: "syncForce", state: "BACKUP" } }]);
    expect(syncGroupFollowUps("G", down, { name: "a", from: "BACKUP" })).toEqual([]);
  });
  it("a member may become MASTER only when all others are MASTER or want to be", () => {
    expect(syncGroupMayBecomeMaster([member("a", "BACKUP"), member("b", "BACKUP")], "a")).toBe(false);
    expect(syncGroupMayBecomeMaster([member("a", "BACKUP"), member("b", "BACKUP", [], true)], "a")).toBe(true);
    expect(syncGroupMayBecomeMaster([member("a", "BACKUP"), member("b", "MASTER")], "a")).toBe(true);
    expect(syncGroupMayBecomeMaster([member("a", "BACKUP"), member("b", "FAULT")], "a")).toBe(false);
  });
  it("drives two instances to MASTER together through the state machine", () => {
    let insts: Record<string, VrrpInstance> = {
      a: createInstance(params({ name: "a", vrid: 1 }), 0),
      b: createInstance(params({ name: "b", vrid: 2, priority: 90 }), 0),
    };
    const view = (): SyncMember[] => Object.values(insts).map((i) => ({ name: i.params.name, state: i.state, faults: i.faults, wantMaster: i.wantMaster }));
    const apply = (name: string, r: StepResult) => {
      const from = insts[name].state;
      insts = { ...insts, [name]: r.state };
      for (const f of syncGroupFollowUps("G", view(), { name, from })) insts = { ...insts, [f.name]: step(insts[f.name], f.event, now).state };
    };
    let now = 0;
    for (const n of ["a", "b"]) apply(n, step(insts[n], { type: "startup" }, now));
    // a's timer (3609.375) fires first: b does not want MASTER yet, so a waits.
    now = nextDeadline(insts.a)!;
    apply("a", step(insts.a, { type: "timer" }, now, { syncMayBecomeMaster: syncGroupMayBecomeMaster(view(), "a") }));
    expect(insts.a.state).toBe("BACKUP");
    expect(insts.a.wantMaster).toBe(true);
    // b's timer fires next: a wants MASTER, so b goes, and drags a along.
    now = nextDeadline(insts.b)!;
    expect(now).toBeLessThan(nextDeadline(insts.a)!);
    apply("b", step(insts.b, { type: "timer" }, now, { syncMayBecomeMaster: syncGroupMayBecomeMaster(view(), "b") }));
    expect([insts.a.state, insts.b.state]).toEqual(["MASTER", "MASTER"]);
    // A fault on b takes a to FAULT with a priority-0 advert; clearing it brings both back to BACKUP.
    apply("b", step(insts.b, { type: "faultSet", source: "interface down" }, now));
    expect([insts.a.state, insts.b.state]).toEqual(["FAULT", "FAULT"]);
    apply("b", step(insts.b, { type: "faultCleared", source: "interface down" }, now));
    expect([insts.a.state, insts.b.state]).toEqual(["BACKUP", "BACKUP"]);
  });
});

describe("two routers on a simulated wire (codec + state machine)", () => {
  // Each router encodes its adverts with the real codec; the other decodes and validates them.
  type Router = { p: VrrpInstanceParams; inst: VrrpInstance; stats: VrrpStats; ipId: number; up: boolean };
  const mk = (name: string, ip: string, priority: number): Router => {
    const p = params({ name, primaryIp: ip, priority, authType: "pass", authPass: "secret" });
    return { p, inst: createInstance(p, 0), stats: emptyStats(), ipId: 0, up: true };
  };

  type Control = { inject: (r: Router, e: Parameters<typeof step>[1]) => void };
  function run(routers: Router[], until: number, onTick?: (now: number, control: Control) => void) {
    let now = 0;
    const wire: { at: number; from: Router; bytes: Uint8Array }[] = [];
    const handle = (r: Router, res: StepResult) => {
      r.inst = res.state;
      r.stats = countActions(r.stats, res.actions);
      for (const a of res.actions) {
        if (a.type !== "sendAdvert") continue;
        const vrrp = encodeInstanceAdvert(r.p, a.priority, "224.0.0.18");
        if (!vrrp.ok) throw new Error(vrrp.error);
        r.ipId = nextIpId(r.ipId);
        const ip = buildIpv4Packet({ source: r.p.primaryIp, destination: "224.0.0.18", id: r.ipId, payload: vrrp.bytes });
        if (!ip.ok) throw new Error(ip.error);
        wire.push({ at: now, from: r, bytes: ip.bytes });
      }
    };
    for (const r of routers) handle(r, step(r.inst, { type: "startup" }, now));
    while (now < until) {
      const deadlines = routers.filter((r) => r.up).map((r) => nextDeadline(r.inst) ?? Infinity);
      const pending = wire.length ? wire[0].at : Infinity;
      const next = Math.min(pending, ...deadlines, until);
      now = next;
      onTick?.(now, { inject: (r, e) => handle(r, step(r.inst, e, now)) });
      if (wire.length && wire[0].at === now) {
        const pkt = wire.shift()!;
        for (const r of routers) {
          if (r === pkt.from || !r.up) continue;
          const d = decodeIpv4Advert(pkt.bytes, expectationsFor(r.p));
          if (!d.ok) {
            r.stats = count(r.stats, d.reason);
            continue;
          }
          r.stats = count(r.stats, { type: "received", priority: d.advert.priority });
          handle(r, step(r.inst, { type: "advertReceived", advert: d.advert }, now));
        }
        continue;
      }
      for (const r of routers) if (r.up && (nextDeadline(r.inst) ?? Infinity) <= now) handle(r, step(r.inst, { type: "timer" }, now));
    }
  }

  it("the higher priority wins the election; the backup stays quiet", () => {
    const a = mk("a", "10.77.1.1", 150);
    const b = mk("b", "10.77.1.2", 100);
    run([a, b], 10_000);
    expect([a.inst.state, b.inst.state]).toEqual(["MASTER", "BACKUP"]);
    expect(a.stats.becomeMaster).toBe(1);
    expect(b.stats.becomeMaster).toBe(0);
    expect(b.stats.advertisementsReceived).toBeGreaterThan(5);
    expect(b.stats.authFailures).toBe(0);
  });

  it("a wrong password is counted and leads to two masters, as in keepalived", () => {
    const a = mk("a", "10.77.1.1", 150);
    const b = mk("b", "10.77.1.2", 100);
    b.p = { ...b.p, authPass: "other" };
    b.inst = createInstance(b.p, 0);
    run([a, b], 10_000);
    expect([a.inst.state, b.inst.state]).toEqual(["MASTER", "MASTER"]);
    expect(b.stats.authFailures).toBeGreaterThan(3);
  });

  it("a graceful stop of the master hands over after the backup's Skew_Time", () => {
    const a = mk("a", "10.77.1.1", 150);
    const b = mk("b", "10.77.1.2", 100);
    let stoppedAt = -1;
    run([a, b], 20_000, (now, control) => {
      if (stoppedAt < 0 && now >= 8000) {
        stoppedAt = now;
        control.inject(a, { type: "shutdown" });
        a.up = false;
      }
    });
    expect(a.stats.priorityZeroPktsSent).toBe(1);
    expect(b.stats.priorityZeroPktsRcvd).toBe(1);
    expect(b.inst.state).toBe("MASTER");
    expect(b.stats.becomeMaster).toBe(1);
    expect(b.inst.lastTransition - stoppedAt).toBe(609.375);
  });
});
