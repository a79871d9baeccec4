import { describe, expect, it } from "vitest";
import {
  checksAdvertAddresses,
  createInstance,
  masterDownIntervalMs,
  nextDeadline,
  skewTimeMs,
  step,
  type AdvertInfo,
  type StepContext,
  type VrrpAction,
  type VrrpEvent,
  type VrrpInstance,
} from "../../src/vrrp/state-machine.ts";
import { normalizeParams, validateParams } from "../../src/vrrp/params.ts";
import type { VrrpInstanceParams } from "../../src/vrrp/types.ts";
import { vrrpParams } from "../helpers/vrrp-params.ts";

const params = vrrpParams;

/** A virtual clock driving one instance the way the shell will: one timer at nextDeadline(). */
class Sim {
  inst: VrrpInstance;
  now: number;
  log: { at: number; action: VrrpAction }[] = [];
  ctx: StepContext = {};

  constructor(p: VrrpInstanceParams, start = 0) {
    this.now = start;
    this.inst = createInstance(normalizeParams(p).params, start);
  }

  send(event: VrrpEvent): VrrpAction[] {
    const r = step(this.inst, event, this.now, this.ctx);
    this.inst = r.state;
    for (const action of r.actions) this.log.push({ at: this.now, action });
    return r.actions;
  }

  /** Advances the clock to `t`, firing the armed timer exactly at its deadline each time. */
  advanceTo(t: number): void {
    for (;;) {
      const d = nextDeadline(this.inst);
      if (d === null || d > t) break;
      this.now = d;
      this.send({ type: "timer" });
    }
    this.now = t;
  }

  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  advert(a: Partial<AdvertInfo> & { priority: number }): VrrpAction[] {
    return this.send({ type: "advertReceived", advert: { advertIntervalMs: this.inst.params.advertIntervalMs, source: "10.77.1.9", ...a } });
  }

  /** The time the instance entered `state` (last transition), or undefined. */
  enteredAt(state: string): number | undefined {
    const hits = this.log.filter((l) => l.action.type === "transition" && l.action.to === state);
    return hits.at(-1)?.at;
  }

  of<T extends VrrpAction["type"]>(type: T, since = -Infinity): Extract<VrrpAction, { type: T }>[] {
    return this.log.filter((l) => l.at >= since && l.action.type === type).map((l) => l.action as Extract<VrrpAction, { type: T }>);
  }
}

describe("timer arithmetic, exactly per RFC", () => {
  it("v2 skew is (256-prio)/256 s and master down 3*advert + skew", () => {
    expect(skewTimeMs(2, 100, 1000)).toBe(609.375);
    expect(masterDownIntervalMs(2, 100, 1000)).toBe(3609.375);
    expect(masterDownIntervalMs(2, 150, 1000)).toBe(3414.0625);
    expect(masterDownIntervalMs(2, 254, 1000)).toBe(3007.8125);
    // v2 skew does not scale with the advert interval (RFC 3768 §6.1).
    expect(masterDownIntervalMs(2, 100, 3000)).toBe(9609.375);
  });
  it("v3 skew scales with Master_Adver_Interval in centiseconds", () => {
    // (256-150)*100 ms/256 = 41.40625 ms.
    expect(skewTimeMs(3, 150, 100)).toBe(41.40625);
    expect(masterDownIntervalMs(3, 100, 1000)).toBe(3609.375);
    expect(masterDownIntervalMs(3, 100, 1000, 5)).toBe(5609.375);
  });
});

describe("INIT", () => {
  it("INIT -> BACKUP at startup, arming the master down timer", () => {
    const sim = new Sim(params());
    const actions = sim.send({ type: "startup" });
    expect(sim.inst.state).toBe("BACKUP");
    expect(actions).toContainEqual({ type: "notify", state: "BACKUP" });
    expect(actions).toContainEqual({ type: "setTimer", name: "masterDown", deadline: 3609.375 });
    expect(nextDeadline(sim.inst)).toBe(3609.375);
  });
  it("INIT -> MASTER at once for the address owner with state MASTER", () => {
    const sim = new Sim(params({ priority: 255, initialState: "MASTER" }));
    const actions = sim.send({ type: "startup" });
    expect(sim.inst.state).toBe("MASTER");
    const types = actions.map((a) => a.type);
    // keepalived order: advert first, then VIPs, then GARPs, then notify.
    expect(types.indexOf("sendAdvert")).toBeLessThan(types.indexOf("addVips"));
    expect(types.indexOf("addVips")).toBeLessThan(types.indexOf("sendGarp"));
    expect(actions).toContainEqual({ type: "sendAdvert", priority: 255 });
    expect(actions).toContainEqual({ type: "sendGarp", repeat: 5, reason: "becomeMaster" });
    expect(nextDeadline(sim.inst)).toBe(1000);
  });
  it("state MASTER below 255 still starts in BACKUP and waits the full master down interval (keepalived 2.2.7)", () => {
    const sim = new Sim(params({ priority: 100, initialState: "MASTER" }));
    sim.send({ type: "startup" });
    expect(sim.inst.state).toBe("BACKUP");
    sim.advanceTo(3609.374);
    expect(sim.inst.state).toBe("BACKUP");
    sim.advanceTo(3609.375);
    expect(sim.inst.state).toBe("MASTER");
    expect(sim.enteredAt("MASTER")).toBe(3609.375);
  });
  it("priority 255 with state BACKUP waits the master down timer too", () => {
    const sim = new Sim(params({ priority: 255, initialState: "BACKUP" }));
    sim.send({ type: "startup" });
    sim.advanceTo(10_000);
    expect(sim.enteredAt("MASTER")).toBe(3003.90625);
  });
  it("INIT -> FAULT when a fault is already known", () => {
    const sim = new Sim(params());
    sim.send({ type: "faultSet", source: "interface veth0 down" });
    expect(sim.inst.state).toBe("INIT");
    sim.send({ type: "startup" });
    expect(sim.inst.state).toBe("FAULT");
    expect(nextDeadline(sim.inst)).toBeNull();
  });
});

describe("BACKUP", () => {
  it("BACKUP -> MASTER when no advert arrives; adverts every interval then", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    sim.advanceTo(3609.375 + 2500);
    expect(sim.enteredAt("MASTER")).toBe(3609.375);
    expect(sim.of("sendAdvert").length).toBe(3); // at 3609.375, 4609.375, 5609.375
    expect(sim.log.filter((l) => l.action.type === "sendAdvert").map((l) => l.at)).toEqual([3609.375, 4609.375, 5609.375]);
  });
  it("adverts of a higher priority master keep resetting the down timer", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    for (let t = 1000; t <= 20_000; t += 1000) {
      sim.advanceTo(t);
      sim.advert({ priority: 150 });
    }
    sim.advanceTo(20_000 + 3609.374);
    expect(sim.inst.state).toBe("BACKUP");
    expect(sim.inst.masterAddress).toBe("10.77.1.9");
    sim.advanceTo(20_000 + 3609.375);
    expect(sim.inst.state).toBe("MASTER");
  });
  it("a priority-0 advert cuts the wait to Skew_Time", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    sim.advanceTo(1000);
    sim.advert({ priority: 150 });
    sim.advanceTo(1500);
    sim.advert({ priority: 0 });
    expect(nextDeadline(sim.inst)).toBe(1500 + 609.375);
    sim.advance(1000);
    expect(sim.enteredAt("MASTER")).toBe(2109.375);
  });
  it("preemption: a lower-priority master is ignored, so the backup takes over when its timer runs out", () => {
    const sim = new Sim(params({ priority: 150 }));
    sim.send({ type: "startup" });
    for (let t = 500; t <= 3000; t += 1000) {
      sim.advanceTo(t);
      sim.advert({ priority: 100 });
    }
    sim.advance(2000);
    expect(sim.enteredAt("MASTER")).toBe(3414.0625);
  });
  it("nopreempt: a lower-priority master is honoured forever", () => {
    const sim = new Sim(params({ priority: 150, nopreempt: true }));
    sim.send({ type: "startup" });
    for (let t = 500; t <= 30_000; t += 1000) {
      sim.advanceTo(t);
      sim.advert({ priority: 100 });
    }
    expect(sim.inst.state).toBe("BACKUP");
  });
  it("preempt_delay: the lower-priority master is honoured for the delay, then ignored", () => {
    const sim = new Sim(params({ priority: 150, preemptDelayMs: 10_000 }));
    sim.send({ type: "startup" });
    for (let t = 1000; t <= 30_000; t += 1000) {
      sim.advanceTo(t);
      sim.advert({ priority: 100 });
    }
    // The first lower advert (1000) starts the delay, preempting from 11000; adverts before that reset
    // the down timer, the last honoured one at 10000 -> master at 10000 + 3414.0625.
    expect(sim.enteredAt("MASTER")).toBe(13_414.0625);
  });
  it("preempt_delay is cleared when the higher-priority master is back", () => {
    const sim = new Sim(params({ priority: 150, preemptDelayMs: 10_000 }));
    sim.send({ type: "startup" });
    sim.advanceTo(1000);
    sim.advert({ priority: 100 });
    expect(sim.inst.preemptAt).toBe(11_000);
    sim.advert({ priority: 200 });
    expect(sim.inst.preemptAt).toBeNull();
  });
  it("an equal-priority advert keeps a backup in BACKUP whatever the address (tiebreak is the master's job)", () => {
    const sim = new Sim(params({ priority: 100 }));
    sim.send({ type: "startup" });
    for (let t = 1000; t <= 10_000; t += 1000) {
      sim.advanceTo(t);
      sim.advert({ priority: 100, source: "10.77.1.1" });
    }
    expect(sim.inst.state).toBe("BACKUP");
  });
  it("v3: the backup learns the master's advert interval and scales skew with it", () => {
    const sim = new Sim(params({ version: 3, priority: 100, advertIntervalMs: 1000 }));
    sim.send({ type: "startup" });
    sim.advanceTo(100);
    sim.advert({ priority: 200, advertIntervalMs: 200 });
    expect(sim.inst.masterAdvertIntervalMs).toBe(200);
    // 3*200 + (156*200)/256 = 600 + 121.875
    expect(sim.inst.masterDownIntervalMs).toBe(721.875);
    expect(nextDeadline(sim.inst)).toBe(821.875);
    sim.advance(1000);
    expect(sim.enteredAt("MASTER")).toBe(821.875);
    // Once master, it advertises its own configured interval again.
    expect(sim.inst.masterAdvertIntervalMs).toBe(1000);
  });
  it("v2 never learns an interval (mismatches are dropped by the codec)", () => {
    const sim = new Sim(params({ version: 2 }));
    sim.send({ type: "startup" });
    sim.advert({ priority: 200, advertIntervalMs: 2000 });
    expect(sim.inst.masterAdvertIntervalMs).toBe(1000);
  });
  it("down_timer_adverts changes the multiplier", () => {
    const sim = new Sim(params({ downTimerAdverts: 5 }));
    sim.send({ type: "startup" });
    expect(nextDeadline(sim.inst)).toBe(5609.375);
  });
});

describe("MASTER", () => {
  const master = (over: Partial<VrrpInstanceParams> = {}) => {
    const sim = new Sim(params({ priority: 150, ...over }));
    sim.send({ type: "startup" });
    sim.advanceTo(3414.0625);
    expect(sim.inst.state).toBe("MASTER");
    return sim;
  };
  it("sends 5 GARPs on becoming master and 5 more after garp_master_delay", () => {
    const sim = master();
    const t0 = 3414.0625;
    expect(sim.log.filter((l) => l.action.type === "sendGarp").map((l) => [l.at, l.action])).toEqual([
      [t0, { type: "sendGarp", repeat: 5, reason: "becomeMaster" }],
    ]);
    sim.advance(6000);
    expect(sim.log.filter((l) => l.action.type === "sendGarp").map((l) => l.at)).toEqual([t0, t0 + 5000]);
    expect(sim.of("sendGarp")[1]).toEqual({ type: "sendGarp", repeat: 5, reason: "masterDelay" });
  });
  it("garp_master_refresh re-sends GARPs from the advert timer once the refresh time has passed", () => {
    const sim = master({ garpMasterRefreshMs: 2000, garpMasterRefreshRepeat: 2, garpMasterDelayMs: 0 });
    const t0 = 3414.0625;
    sim.advance(6500);
    const refresh = sim.log.filter((l) => l.action.type === "sendGarp" && l.action.reason === "refresh").map((l) => l.at);
    // Checked at each advert (every 1000 ms): first advert strictly after t0+2000 is t0+3000, then +3000.
    expect(refresh).toEqual([t0 + 3000, t0 + 6000]);
  });
  it("MASTER -> BACKUP on a higher-priority advert, removing VIPs and re-arming the down timer", () => {
    const sim = master();
    sim.advance(100);
    const actions = sim.advert({ priority: 200 });
    expect(sim.inst.state).toBe("BACKUP");
    expect(actions).toContainEqual({ type: "removeVips" });
    expect(actions).toContainEqual({ type: "notify", state: "BACKUP" });
    expect(actions.some((a) => a.type === "sendAdvert")).toBe(false);
    expect(actions).toContainEqual({ type: "cancelTimer", name: "advert" });
    expect(actions).toContainEqual({ type: "cancelTimer", name: "garpMasterDelay" });
    expect(nextDeadline(sim.inst)).toBe(sim.now + 3414.0625);
  });
  it("higher_prio_send_advert sends one more advert before yielding", () => {
    const sim = master({ higherPrioSendAdvert: true });
    const actions = sim.advert({ priority: 200 });
    expect(actions[0]).toEqual({ type: "sendAdvert", priority: 150 });
    expect(sim.inst.state).toBe("BACKUP");
  });
  it("equal priority: the higher primary address wins", () => {
    const lower = master({ primaryIp: "10.77.1.5" });
    lower.advert({ priority: 150, source: "10.77.1.9" });
    expect(lower.inst.state).toBe("BACKUP");
    expect(lower.of("transition").at(-1)?.reason).toMatch(/higher IP address/);
    const higher = master({ primaryIp: "10.77.1.50" });
    const actions = higher.advert({ priority: 150, source: "10.77.1.9" });
    expect(higher.inst.state).toBe("MASTER");
    expect(actions).toContainEqual({ type: "sendAdvert", priority: 150 });
  });
  it("a lower-priority advert is answered at once with an advert (keepalived), restarting the advert timer", () => {
    const sim = master();
    sim.advance(300);
    const actions = sim.advert({ priority: 100 });
    expect(actions).toContainEqual({ type: "sendAdvert", priority: 150 });
    expect(actions).toContainEqual({ type: "notifyMasterRxLowerPriority", from: "10.77.1.9", priority: 100 });
    expect(actions).toContainEqual({ type: "sendGarp", repeat: 5, reason: "lowerPriority" });
    expect(nextDeadline(sim.inst)).toBe(sim.now + 1000);
    expect(sim.inst.state).toBe("MASTER");
  });
  it("lower_prio_no_advert keeps quiet and leaves the advert timer alone", () => {
    const sim = master({ lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0 });
    sim.advance(300);
    const deadline = sim.inst.timers.advert;
    const actions = sim.advert({ priority: 100 });
    expect(actions.filter((a) => a.type === "sendAdvert" || a.type === "sendGarp")).toEqual([]);
    expect(sim.inst.timers.advert).toBe(deadline);
  });
  it("a priority-0 advert makes the master advertise at once and stay master", () => {
    const sim = master();
    const actions = sim.advert({ priority: 0 });
    expect(actions).toContainEqual({ type: "sendAdvert", priority: 150 });
    expect(sim.inst.state).toBe("MASTER");
  });
  it("two address owners: the local one drops to 254 and yields", () => {
    const sim = new Sim(params({ priority: 255, initialState: "MASTER", primaryIp: "10.77.1.2" }));
    sim.send({ type: "startup" });
    sim.advert({ priority: 255, source: "10.77.1.9" });
    expect(sim.inst.effectivePriority).toBe(254);
    expect(sim.inst.state).toBe("BACKUP");
  });
});

describe("FAULT, shutdown, tracking, control", () => {
  const master = () => {
    const sim = new Sim(params({ priority: 255, initialState: "MASTER" }));
    sim.send({ type: "startup" });
    return sim;
  };
  it("MASTER -> FAULT sends priority 0 and removes the VIPs; recovery goes BACKUP, not MASTER", () => {
    const sim = master();
    sim.advance(500);
    const down = sim.send({ type: "faultSet", source: "interface veth0 down" });
    expect(sim.inst.state).toBe("FAULT");
    expect(down.filter((a) => a.type === "sendAdvert")).toEqual([
      { type: "sendAdvert", priority: 0 },
      { type: "sendAdvert", priority: 0 },
    ]);
    expect(down).toContainEqual({ type: "removeVips" });
    expect(down).toContainEqual({ type: "notify", state: "FAULT" });
    expect(nextDeadline(sim.inst)).toBeNull();
    sim.advert({ priority: 100 }); // ignored in FAULT
    expect(sim.inst.state).toBe("FAULT");
    sim.send({ type: "faultSet", source: "script chk down" });
    sim.send({ type: "faultCleared", source: "interface veth0 down" });
    expect(sim.inst.state).toBe("FAULT");
    sim.advance(500);
    sim.send({ type: "faultCleared", source: "script chk down" });
    expect(sim.inst.state).toBe("BACKUP");
    // try_up_instance: even the owner waits the master down interval (3 s + 1/256 s).
    sim.advance(10_000);
    expect(sim.enteredAt("MASTER")).toBe(1000 + 3003.90625);
  });
  it("BACKUP -> FAULT silently", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    const actions = sim.send({ type: "faultSet", source: "x" });
    expect(sim.inst.state).toBe("FAULT");
    expect(actions.some((a) => a.type === "sendAdvert")).toBe(false);
    expect(actions).toContainEqual({ type: "cancelTimer", name: "masterDown" });
  });
  it("shutdown as MASTER sends a priority-0 advert and removes the VIPs", () => {
    const sim = master();
    const actions = sim.send({ type: "shutdown" });
    expect(actions[0]).toEqual({ type: "sendAdvert", priority: 0 });
    expect(actions).toContainEqual({ type: "removeVips" });
    expect(actions).toContainEqual({ type: "notify", state: "STOP" });
    expect(sim.inst.state).toBe("STOP");
    expect(nextDeadline(sim.inst)).toBeNull();
  });
  it("shutdown as BACKUP sends nothing", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    const actions = sim.send({ type: "shutdown" });
    expect(actions.filter((a) => a.type === "sendAdvert" || a.type === "removeVips")).toEqual([]);
  });
  it("tracking lowers and raises the effective priority, clamped to 1..254, moving a backup's timer by the skew change", () => {
    const sim = new Sim(params({ priority: 100 }));
    sim.send({ type: "startup" });
    sim.send({ type: "priorityChanged", totalPriority: 150 });
    expect(sim.inst.effectivePriority).toBe(150);
    expect(nextDeadline(sim.inst)).toBe(3414.0625);
    sim.send({ type: "priorityChanged", totalPriority: 400 });
    expect(sim.inst.effectivePriority).toBe(254);
    sim.send({ type: "priorityChanged", totalPriority: -20 });
    expect(sim.inst.effectivePriority).toBe(1);
    sim.advanceTo(10_000);
    expect(sim.of("sendAdvert")[0]).toEqual({ type: "sendAdvert", priority: 1 });
    const owner = master();
    owner.send({ type: "priorityChanged", totalPriority: 10 });
    expect(owner.inst.effectivePriority).toBe(255);
  });
  it("force-backup leaves MASTER (priority 0) and never times out; resume re-arms", () => {
    const sim = master();
    const actions = sim.send({ type: "forceBackup" });
    expect(sim.inst.state).toBe("BACKUP");
    expect(actions).toContainEqual({ type: "sendAdvert", priority: 0 });
    sim.advance(60_000);
    expect(sim.inst.state).toBe("BACKUP");
    expect(nextDeadline(sim.inst)).toBeNull();
    sim.advert({ priority: 100 });
    expect(nextDeadline(sim.inst)).toBeNull();
    sim.send({ type: "resume" });
    expect(nextDeadline(sim.inst)).toBe(sim.now + 3003.90625);
  });
  it("emits a setTimer/cancelTimer diff matching nextDeadline after every step", () => {
    const sim = new Sim(params({ priority: 150 }));
    const armed = new Map<string, number>();
    const apply = (actions: VrrpAction[]) => {
      for (const a of actions) {
        if (a.type === "setTimer") armed.set(a.name, a.deadline);
        if (a.type === "cancelTimer") armed.delete(a.name);
      }
      const min = armed.size ? Math.min(...armed.values()) : null;
      expect(min).toBe(nextDeadline(sim.inst));
    };
    apply(sim.send({ type: "startup" }));
    for (let t = 500; t < 20_000; t += 700) {
      while ((nextDeadline(sim.inst) ?? Infinity) <= t) {
        sim.now = nextDeadline(sim.inst)!;
        apply(sim.send({ type: "timer" }));
      }
      sim.now = t;
      apply(sim.advert({ priority: t % 3 === 0 ? 200 : 100 }));
    }
  });
});

describe("vrrp_skip_check_adv_addr", () => {
  it("a backup skips the address check only for the master it already follows", () => {
    const sim = new Sim(params());
    sim.send({ type: "startup" });
    expect(checksAdvertAddresses(sim.inst, "10.77.1.9", true)).toBe(true); // no master known yet
    sim.advert({ priority: 200, source: "10.77.1.9" });
    expect(checksAdvertAddresses(sim.inst, "10.77.1.9", true)).toBe(false);
    expect(checksAdvertAddresses(sim.inst, "10.77.1.8", true)).toBe(true);
    expect(checksAdvertAddresses(sim.inst, "10.77.1.9", false)).toBe(true);
    sim.advance(10_000); // master now: always checks
    expect(sim.inst.state).toBe("MASTER");
    expect(checksAdvertAddresses(sim.inst, "10.77.1.9", true)).toBe(true);
  });
});

describe("params", () => {
  it("keepalived's fix-ups: nopreempt and preempt_delay cleared by state MASTER", () => {
    const { params: p, warnings } = normalizeParams(params({ initialState: "MASTER", nopreempt: true, preemptDelayMs: 5000 }));
    expect(p.nopreempt).toBe(false);
    expect(p.preemptDelayMs).toBe(0);
    expect(warnings.join("\n")).toMatch(/nopreempt will not work with initial state MASTER - clearing/);
    expect(normalizeParams(params({ priority: 255, nopreempt: true })).params.nopreempt).toBe(false);
    expect(normalizeParams(params({ nopreempt: true, preemptDelayMs: 1000 })).params.preemptDelayMs).toBe(0);
    expect(normalizeParams(params({ authType: "pass", authPass: "123456789" })).params.authPass).toBe("12345678");
  });
  it("createInstance applies the fix-ups itself: state MASTER with nopreempt still preempts", () => {
    const inst = createInstance(params({ initialState: "MASTER", nopreempt: true, priority: 150 }), 0);
    expect(inst.params.nopreempt).toBe(false);
    let r = step(inst, { type: "startup" }, 0);
    r = step(r.state, { type: "advertReceived", advert: { priority: 100, advertIntervalMs: 1000, source: "10.77.1.9" } }, 10);
    expect(r.state.timers.masterDown).toBe(3414.0625); // the lower-priority advert did not reset it
  });
  it("refuses AH, bad ranges and addresses with clear messages", () => {
    expect(validateParams(params())).toEqual([]);
    const ah = validateParams(params({ authType: "ah" as unknown as "pass", authPass: "x" }));
    expect(ah.join("\n")).toMatch(/AH.*not supported/);
    expect(validateParams(params({ vrid: 0 })).join()).toMatch(/VRID/);
    expect(validateParams(params({ advertIntervalMs: 1500 })).join()).toMatch(/whole seconds/);
    expect(validateParams(params({ version: 3, advertIntervalMs: 1505 })).join()).toMatch(/centiseconds/);
    expect(validateParams(params({ preemptDelayMs: 2_000_000 })).join()).toMatch(/preempt_delay/);
    expect(validateParams(params({ vips: ["fe80::1"] })).join()).toMatch(/not an IPv4/);
    expect(validateParams(params({ family: 6, vips: ["fe80::1"], primaryIp: "fe80::2" })).join()).toMatch(/version 3/);
    expect(validateParams(params({ downTimerAdverts: 0 })).join()).toMatch(/down_timer_adverts/);
  });
});

describe("reconfigure (a reload that keeps the instance's identity)", () => {
  const reconfigure = (sim: Sim, over: Partial<VrrpInstanceParams>, total?: number) => {
    const p = { ...sim.inst.params, ...over };
    return sim.send({ type: "reconfigure", params: p, totalPriority: total ?? p.priority });
  };

  it("a master keeps its state and VIPs and advertises new values at once", () => {
    const sim = new Sim(params({ priority: 150 }));
    sim.send({ type: "startup" });
    sim.advance(4000);
    expect(sim.inst.state).toBe("MASTER");
    sim.advance(300); // mid-interval
    const acts = reconfigure(sim, { priority: 140, vips: ["10.77.1.100", "10.77.1.101"] });
    expect(acts.filter((a) => a.type === "transition" || a.type === "removeVips" || a.type === "addVips")).toEqual([]);
    expect(acts.find((a) => a.type === "sendAdvert")).toEqual({ type: "sendAdvert", priority: 140 });
    expect(sim.inst).toMatchObject({ state: "MASTER", vipsSet: true, basePriority: 140, effectivePriority: 140, masterPriority: 140 });
    expect(sim.inst.timers.advert).toBe(sim.now + 1000);
  });

  it("a master whose advert contents did not change sends nothing extra", () => {
    const sim = new Sim(params({ priority: 150 }));
    sim.send({ type: "startup" });
    sim.advance(4000);
    const acts = reconfigure(sim, { garpMasterDelayMs: 2000 });
    expect(acts.filter((a) => a.type === "sendAdvert")).toEqual([]);
    expect(sim.inst.params.garpMasterDelayMs).toBe(2000);
  });

  it("a backup's master down timer keeps the time already waited; v2 follows its own new interval", () => {
    const sim = new Sim(params({ priority: 100 }));
    sim.send({ type: "startup" });
    sim.advert({ priority: 200 });
    const lastAdvert = sim.now;
    sim.advance(1000);
    reconfigure(sim, { priority: 100, advertIntervalMs: 2000 });
    expect(sim.inst.state).toBe("BACKUP");
    // Down interval at 2 s adverts, priority 100: 6 s + 0.609 s, counted from the last advert.
    expect(sim.inst.timers.masterDown).toBeCloseTo(lastAdvert + masterDownIntervalMs(2, 100, 2000), 6);
  });

  it("a v3 backup keeps the interval learned from the master", () => {
    const sim = new Sim(params({ version: 3, advertIntervalMs: 100, priority: 100 }));
    sim.send({ type: "startup" });
    sim.advert({ priority: 200, advertIntervalMs: 500 });
    reconfigure(sim, { advertIntervalMs: 200 });
    expect(sim.inst.masterAdvertIntervalMs).toBe(500);
  });

  it("tracking weights and the owner's fixed priority apply to the new base", () => {
    const sim = new Sim(params({ priority: 100 }));
    sim.send({ type: "startup" });
    reconfigure(sim, { priority: 120 }, 90);
    expect(sim.inst).toMatchObject({ basePriority: 120, effectivePriority: 90 });
    reconfigure(sim, { priority: 255 }, 235);
    expect(sim.inst).toMatchObject({ basePriority: 255, effectivePriority: 255 });
    reconfigure(sim, { priority: 200 }, 300);
    expect(sim.inst.effectivePriority).toBe(254);
  });

  it("a FAULT instance stays in FAULT with the new values", () => {
    const sim = new Sim(params());
    sim.send({ type: "faultSet", source: "interface veth0" });
    sim.send({ type: "startup" });
    expect(sim.inst.state).toBe("FAULT");
    reconfigure(sim, { priority: 90 });
    expect(sim.inst).toMatchObject({ state: "FAULT", effectivePriority: 90 });
    expect(nextDeadline(sim.inst)).toBeNull();
  });
});
