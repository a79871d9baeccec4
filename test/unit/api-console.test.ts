import { describe, expect, it } from "vitest";
import { formatDuration, formatEvent, formatStatus, table } from "../../src/console/format.ts";
import { paint, renderTop, type TopModel } from "../../src/console/top.ts";
import { sampleFacade, T0 } from "./api-fixture.ts";

function model(over: Partial<TopModel> = {}): TopModel {
  const { facade } = sampleFacade();
  for (let i = 0; i < 12; i++) facade.childEvent("vrrp", { type: "transition", instance: `VI_${i}`, from: "BACKUP", to: "MASTER", reason: "" });
  return { socket: "/run/lbctl/lbctl.sock", status: facade.status(), events: facade.eventsSince(0), error: null, fetchedAt: T0, ...over };
}

describe("formatStatus", () => {
  it("shows the daemon, instances, virtual servers and real servers as tables", async () => {
    const { facade, sup } = sampleFacade();
    sup.lastReload = { at: T0 - 1000, ok: false, message: "a.conf:1:1: error: x" };
    await facade.action({ kind: "drain", vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80" });
    const text = formatStatus(facade.status(), T0);
    const lines = text.split("\n");
    expect(lines[0]).toBe("lbctl 0.1.0, pid 1000, up 1h00m");
    expect(lines.splice(1, 1)).toEqual(["configuration: /etc/lbctl/lbctl.toml (it sets something, so it comes before /etc/keepalived/keepalived.conf)"]);
    expect(lines[1]).toBe("last reload: REJECTED at 2026-11-26 03:59:59Z: a.conf:1:1: error: x (0 reload(s))");
    expect(lines[2]).toBe("processes: vrrp pid 1001; check pid 1002, 2 restart(s)");
    expect(text).toMatch(/^VI_1 +MASTER +150 +150 +10\.0\.0\.1 +51 +eth0 +BACKUP->MASTER 1m05s ago \(master down timer expired\)$/m);
    expect(text).toMatch(/^VI_6 +BACKUP +90 +100 +fe80::1 +52 +eth1 +-$/m);
    expect(text).toContain("TCP 10.0.0.100:80  wrr  quorum up  1/2 real servers up");
    expect(text).toMatch(/^ {2}10\.0\.0\.2:80 +up +3 +drained +4 +HTTP_GET status 200$/m);
    expect(text).toMatch(/^ {2}10\.0\.0\.3:80 +down +1 +- +- +connection refused$/m);
    expect(text).toContain("UDP [2001:db8::100]:53  rr  QUORUM DOWN  0/1 real servers up");
    expect(text.endsWith("0/0 real servers up\n")).toBe(true);
  });
  it("a transition without a wall-clock time has no age", () => {
    const { facade, sup } = sampleFacade();
    (sup.children.vrrp as { instances: { lastTransition: unknown }[] }).instances[0].lastTransition = { at: 12.5, from: "BACKUP", to: "MASTER", reason: "x" };
    expect(formatStatus(facade.status(), T0)).toMatch(/^VI_1 .* BACKUP->MASTER \(x\)$/m);
  });
  it("says so when there is nothing configured", () => {
    const { facade, sup } = sampleFacade();
    sup.children = {};
    expect(formatStatus(facade.status(), T0)).toContain("no VRRP instances\n\nno virtual servers\n");
  });
});

describe("table and durations", () => {
  it("pads every column but the last", () => {
    expect(table(["A", "BB", "C"], [["xxx", "y", "zzzz"]])).toEqual(["A    BB  C", "xxx  y   zzzz"]);
  });
  it.each([[0, "0s"], [59_999, "59s"], [61_000, "1m01s"], [3_600_000 * 2 + 60_000 * 3, "2h03m"], [86_400_000 * 3 + 3_600_000, "3d1h"], [-5, "0s"]])("%d ms is %s", (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });
  it("an event line is UTC time, type, message", () => {
    expect(formatEvent({ seq: 1, at: T0, type: "reload", ok: true, errors: 0, warnings: 0, message: "configuration reloaded" }))
      .toBe("2026-11-26 04:00:00Z  reload           configuration reloaded");
  });
});

describe("renderTop", () => {
  it("fills exactly the terminal: title, body, recent events at the bottom, key line", () => {
    const lines = renderTop(model(), { columns: 120, rows: 40 }, T0);
    expect(lines).toHaveLength(40);
    expect(lines[0]).toEqual({ text: "lbctl top  /run/lbctl/lbctl.sock  04:00:00Z", style: "inverse" });
    expect(lines[39].text).toBe("q quit  r refresh");
    const texts = lines.map((l) => l.text);
    expect(texts.indexOf("VRRP INSTANCES (2)")).toBeGreaterThan(0);
    expect(lines.find((l) => l.text.startsWith("VI_1 "))?.style).toBe("good");
    expect(lines.find((l) => l.text.startsWith("  10.0.0.3:80"))?.style).toBe("bad");
    // the newest 8 events, oldest first, right above the key line
    expect(texts.slice(30, 39)).toEqual(["RECENT EVENTS", ...Array.from({ length: 8 }, (_, i) => `2026-11-26 04:00:00Z  vrrp-transition  VI_${i + 4}: BACKUP -> MASTER`)]);
  });
  it("cuts the body with a note on a small terminal but keeps a few events; never wider than the terminal", () => {
    const lines = renderTop(model(), { columns: 40, rows: 16 }, T0);
    expect(lines).toHaveLength(16);
    expect(lines.every((l) => l.text.length <= 40)).toBe(true);
    const texts = lines.map((l) => l.text);
    expect(texts.some((t) => t.startsWith("... ") && t.includes("more line(s)"))).toBe(true);
    expect(texts.filter((t) => t.includes("vrrp-transition"))).toHaveLength(3);
    expect(texts).toContain("RECENT EVENTS");
  });
  it("shows why it is not connected, and marks data stale after an error", () => {
    const down = renderTop(model({ status: null, error: "lbctl daemon is not running (no socket at /x)" }), { columns: 80, rows: 10 }, T0);
    expect(down[1]).toEqual({ text: "not connected: lbctl daemon is not running (no socket at /x)", style: "bad" });
    const stale = renderTop(model({ error: "the daemon closed the event stream" }), { columns: 80, rows: 50 }, T0);
    expect(stale.find((l) => l.text.startsWith("stale"))).toEqual({ text: "stale (the daemon closed the event stream)", style: "bad" });
  });
  it("a note (lbctl demo --watch's narration) sits right above the key line, the screen still exactly full", () => {
    const lines = renderTop(model({ note: "[04:00:01.000] crash: node1's processes are stopped" }), { columns: 120, rows: 40 }, T0);
    expect(lines).toHaveLength(40);
    expect(lines[38]).toEqual({ text: "[04:00:01.000] crash: node1's processes are stopped", style: "warn" });
    expect(lines[39].text).toBe("q quit  r refresh");
    expect(lines[37].text).toMatch(/vrrp-transition/);
  });
  it("a tiny terminal gets no event block rather than a broken one", () => {
    const lines = renderTop(model(), { columns: 30, rows: 5 }, T0);
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.text)).not.toContain("RECENT EVENTS");
  });
});

describe("paint", () => {
  it("homes the cursor, clears each line's tail and the rest of the screen, resets styles", () => {
    expect(paint([{ text: "T", style: "inverse" }, { text: "x", style: "plain" }, { text: "bad", style: "bad" }], 4))
      .toBe("\x1b[H\x1b[7mT   \x1b[0m\x1b[K\r\nx\x1b[K\r\n\x1b[31;1mbad\x1b[0m\x1b[K\x1b[J");
  });
});
