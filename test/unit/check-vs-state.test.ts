import { describe, expect, it } from "vitest";
import {
  desiredDests, initVirtualServer, onCheckerVerdict, onWeight, shutdownEvents,
  type RealServerConfig, type VirtualServerConfig, type VirtualServerState,
} from "../../src/check/vs-state.ts";

const rs = (n: number, over: Partial<RealServerConfig> = {}): RealServerConfig => ({
  addr: `10.0.0.${n}`, port: 80, weight: 1, inhibitOnFailure: false, smtpAlert: true,
  notifyUp: `/bin/up ${n}`, notifyDown: `/bin/down ${n}`,
  checkers: [{ id: `c${n}`, startsUp: true }], ...over,
});

const vs = (over: Partial<VirtualServerConfig> = {}): VirtualServerConfig => ({
  vsKey: "TCP 10.0.0.100:80", quorum: 1, hysteresis: 0, omega: false, smtpAlert: false,
  quorumUp: "/bin/qup", quorumDown: "/bin/qdown", realServers: [rs(1), rs(2)], ...over,
});

const weights = (cfg: VirtualServerConfig, s: VirtualServerState) =>
  Object.fromEntries(desiredDests(cfg, s).dests.map((d) => [`${d.addr}:${d.port}`, d.weight]));

describe("virtual server state", () => {
  it("starts with every real server alive and quorum up, no events", () => {
    const cfg = vs();
    const { state, events } = initVirtualServer(cfg);
    expect(events).toEqual([]);
    expect(state.quorumUp).toBe(true);
    expect(weights(cfg, state)).toEqual({ "10.0.0.1:80": 1, "10.0.0.2:80": 1 });
  });

  it("a real server is up only when all its checkers are up", () => {
    const cfg = vs({ realServers: [rs(1, { checkers: [{ id: "a", startsUp: true }, { id: "b", startsUp: true }] }), rs(2)] });
    let s = initVirtualServer(cfg).state;
    let t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "a", false, { reason: "connect refused" });
    expect(t.events.map((e) => e.type)).toEqual(["rs-down"]);
    expect(t.events[0]).toMatchObject({ notify: "/bin/down 1", smtpAlert: true });
    expect(t.events[0].reason).toContain("connect refused");
    s = t.state;
    t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "b", false, { reason: "x" });
    expect(t.events).toEqual([]); // already down
    s = t.state;
    t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "a", true, { reason: "ok" });
    expect(t.events).toEqual([]); // b still down
    s = t.state;
    expect(weights(cfg, s)).toEqual({ "10.0.0.2:80": 1 });
    t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "b", true, { reason: "ok" });
    expect(t.events.map((e) => e.type)).toEqual(["rs-up"]);
    expect(weights(cfg, t.state)).toEqual({ "10.0.0.1:80": 1, "10.0.0.2:80": 1 });
  });

  it("inhibit_on_failure keeps a failed server with weight 0", () => {
    const cfg = vs({ realServers: [rs(1, { inhibitOnFailure: true, weight: 5 }), rs(2)] });
    const s = initVirtualServer(cfg).state;
    const t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "c1", false, { reason: "down" });
    expect(t.events[0].reason).toMatch(/^Disabling service 10.0.0.1:80 of VS/);
    expect(weights(cfg, t.state)).toEqual({ "10.0.0.1:80": 0, "10.0.0.2:80": 1 });
  });

  it("alpha checkers start the real server down; quorum down without sorry server emits nothing at start", () => {
    const cfg = vs({ realServers: [rs(1, { checkers: [{ id: "c1", startsUp: false }] })] });
    const { state, events } = initVirtualServer(cfg);
    expect(state.quorumUp).toBe(false);
    expect(events).toEqual([]);
    expect(weights(cfg, state)).toEqual({});
    const t = onCheckerVerdict(cfg, state, "10.0.0.1:80", "c1", true, { reason: "ok", firstRun: true, alpha: true });
    expect(t.events.map((e) => e.type)).toEqual(["rs-up", "quorum-up"]);
    expect(t.events[1]).toMatchObject({ notify: "/bin/qup", weightSum: 1, threshold: 1 });
  });

  it("alpha first failure reports the initial down state once", () => {
    const cfg = vs({ realServers: [rs(1, { checkers: [{ id: "c1", startsUp: false }] })] });
    const s = initVirtualServer(cfg).state;
    const t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "c1", false, { reason: "refused", firstRun: true, alpha: true });
    expect(t.events).toMatchObject([{ type: "rs-down", initial: true, notify: "/bin/down 1" }]);
    expect(onCheckerVerdict(cfg, t.state, "10.0.0.1:80", "c1", false, { reason: "refused" }).events).toEqual([]);
  });

  it("quorum with hysteresis: lost below quorum-h, regained at quorum+h", () => {
    const cfg = vs({ quorum: 3, hysteresis: 1, realServers: [1, 2, 3, 4, 5].map((n) => rs(n)) });
    let s = initVirtualServer(cfg).state;
    expect(s.quorumUp).toBe(true); // 5 >= 3+1
    const down = (n: number) => { const t = onCheckerVerdict(cfg, s, `10.0.0.${n}:80`, `c${n}`, false, { reason: "x" }); s = t.state; return t.events.map((e) => e.type); };
    const up = (n: number) => { const t = onCheckerVerdict(cfg, s, `10.0.0.${n}:80`, `c${n}`, true, { reason: "x" }); s = t.state; return t.events.map((e) => e.type); };
    expect(down(1)).toEqual(["rs-down"]); // 4
    expect(down(2)).toEqual(["rs-down"]); // 3
    expect(down(3)).toEqual(["rs-down"]); // 2 >= 3-1: still up
    expect(down(4)).toEqual(["rs-down", "quorum-down"]); // 1 < 2
    expect(up(4)).toEqual(["rs-up"]); // 2 < 3+1
    expect(up(3)).toEqual(["rs-up"]); // 3 < 4
    expect(up(2)).toEqual(["rs-up", "quorum-up"]); // 4 >= 4
  });

  it("sorry server stands in when quorum is lost and leaves when it is regained", () => {
    const cfg = vs({ quorum: 2, sorryServer: { addr: "10.0.0.99", port: 80, weight: 1, inhibit: false } });
    let s = initVirtualServer(cfg).state;
    let t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "c1", false, { reason: "x" });
    expect(t.events.map((e) => e.type)).toEqual(["rs-down", "sorry-in", "quorum-down"]);
    expect(t.events[2].reason).toBe("Lost quorum 2-0=2 > 1");
    s = t.state;
    expect(weights(cfg, s)).toEqual({ "10.0.0.99:80": 1 }); // alive 10.0.0.2 taken out too
    t = onCheckerVerdict(cfg, s, "10.0.0.1:80", "c1", true, { reason: "x" });
    expect(t.events.map((e) => e.type)).toEqual(["rs-up", "sorry-out", "quorum-up"]);
    expect(weights(cfg, t.state)).toEqual({ "10.0.0.1:80": 1, "10.0.0.2:80": 1 });
  });

  it("sorry server is put in at start when quorum is down, and sorry_server_inhibit keeps it at weight 0 otherwise", () => {
    const cfg = vs({
      quorum: 1, sorryServer: { addr: "10.0.0.99", port: 80, weight: 1, inhibit: true },
      realServers: [rs(1, { checkers: [{ id: "c1", startsUp: false }] })],
    });
    const init = initVirtualServer(cfg);
    expect(init.events.map((e) => e.type)).toEqual(["sorry-in", "quorum-down"]);
    expect(init.events[1].reason).toMatch(/^Starting with quorum down/);
    expect(weights(cfg, init.state)).toEqual({ "10.0.0.99:80": 1 });
    const t = onCheckerVerdict(cfg, init.state, "10.0.0.1:80", "c1", true, { reason: "ok" });
    expect(weights(cfg, t.state)).toEqual({ "10.0.0.1:80": 1, "10.0.0.99:80": 0 });
  });

  it("misc_dynamic weight changes the IPVS weight and the quorum sum", () => {
    const cfg = vs({ quorum: 10, realServers: [rs(1, { weight: 10 })] });
    let s = initVirtualServer(cfg).state;
    expect(s.quorumUp).toBe(true);
    let t = onWeight(cfg, s, "10.0.0.1:80", "c1", "misc", 3);
    expect(t.events.map((e) => e.type)).toEqual(["weight", "quorum-down"]);
    expect(t.events[0].reason).toBe("Changing weight from 10 to 3 for active service 10.0.0.1:80 of VS TCP 10.0.0.100:80");
    s = t.state;
    expect(weights(cfg, s)).toEqual({ "10.0.0.1:80": 3 });
    t = onWeight(cfg, s, "10.0.0.1:80", "c1", "misc", 12);
    expect(t.events.map((e) => e.type)).toEqual(["weight", "quorum-up"]);
    expect(onWeight(cfg, t.state, "10.0.0.1:80", "c1", "misc", 12).events).toEqual([]);
  });

  it("FILE_CHECK dynamic adds to the configured weight; negative totals become weight 0", () => {
    const cfg = vs({ realServers: [rs(1, { weight: 10 })] });
    const s = initVirtualServer(cfg).state;
    expect(weights(cfg, onWeight(cfg, s, "10.0.0.1:80", "f", "file", 5).state)).toEqual({ "10.0.0.1:80": 15 });
    expect(weights(cfg, onWeight(cfg, s, "10.0.0.1:80", "f", "file", -20).state)).toEqual({ "10.0.0.1:80": 0 });
  });

  it("omega: shutdown runs the down notifiers of alive servers and of the quorum", () => {
    const cfg = vs({ omega: true });
    const s = initVirtualServer(cfg).state;
    expect(shutdownEvents(cfg, s).map((e) => [e.type, "notify" in e ? e.notify : ""])).toEqual([
      ["rs-down", "/bin/down 1"], ["rs-down", "/bin/down 2"], ["quorum-down", "/bin/qdown"],
    ]);
    expect(shutdownEvents(vs(), s)).toEqual([]);
  });

  it("unknown real server or checker ids leave the state unchanged", () => {
    const cfg = vs();
    const s = initVirtualServer(cfg).state;
    expect(onCheckerVerdict(cfg, s, "10.9.9.9:80", "c1", false, { reason: "x" })).toEqual({ state: s, events: [] });
    expect(onCheckerVerdict(cfg, s, "10.0.0.1:80", "nope", false, { reason: "x" })).toEqual({ state: s, events: [] });
  });
});
