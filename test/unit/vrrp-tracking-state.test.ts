import { describe, expect, it } from "vitest";

import { countMatchingProcesses } from "../../src/vrrp/tracking.ts";
import { initialScriptHealth, nextScriptHealth, parseTrackFileValue, processQuorumMet, trackingOutcome } from "../../src/vrrp/tracking-state.ts";
import { splitCommand } from "../../src/vrrp/scripts.ts";
import { fifoLine, notifyCommands } from "../../src/vrrp/notify.ts";

describe("trackingOutcome (keepalived vrrp_track.c)", () => {
  it("negative weights count while down, positive while up; reverse swaps", () => {
    expect(trackingOutcome(100, [{ id: "s", up: false, weight: -30 }]).totalPriority).toBe(70);
    expect(trackingOutcome(100, [{ id: "s", up: true, weight: -30 }]).totalPriority).toBe(100);
    expect(trackingOutcome(100, [{ id: "s", up: true, weight: 20 }]).totalPriority).toBe(120);
    expect(trackingOutcome(100, [{ id: "s", up: false, weight: 20 }]).totalPriority).toBe(100);
    expect(trackingOutcome(100, [{ id: "s", up: true, weight: -30, reverse: true }]).totalPriority).toBe(70);
  });

  it("weight 0 and down is a FAULT, with the object's id", () => {
    expect(trackingOutcome(100, [{ id: "interface eth1", up: false, weight: 0 }, { id: "script ok", up: true, weight: 0 }])).toEqual({
      totalPriority: 100,
      faults: ["interface eth1"],
    });
  });

  it("track_file: value x weight; weight 0 with a non-zero value or a product <= -254 is a FAULT", () => {
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: 3, weight: -10 }]).totalPriority).toBe(70);
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: 3, weight: -10, reverse: true }]).totalPriority).toBe(130);
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: 1, weight: 0 }]).faults).toEqual(["f"]);
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: 0, weight: 0 }]).faults).toEqual([]);
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: -254, weight: 1 }]).faults).toEqual(["f"]);
    expect(trackingOutcome(100, [{ id: "f", up: true, fileValue: -253, weight: 1 }])).toEqual({ totalPriority: -153, faults: [] });
  });
});

describe("vrrp_script rise/fall", () => {
  it("goes down after `fall` consecutive failures and up after `rise` successes; a contrary result resets", () => {
    let h = initialScriptHealth(false);
    expect(h.up).toBe(true);
    h = nextScriptHealth(h, false, 2, 3);
    h = nextScriptHealth(h, false, 2, 3);
    expect(h.up).toBe(true);
    h = nextScriptHealth(h, true, 2, 3); // resets the streak
    h = nextScriptHealth(h, false, 2, 3);
    h = nextScriptHealth(h, false, 2, 3);
    expect(h.up).toBe(true);
    h = nextScriptHealth(h, false, 2, 3);
    expect(h.up).toBe(false);
    h = nextScriptHealth(h, true, 2, 3);
    expect(h.up).toBe(false);
    h = nextScriptHealth(h, true, 2, 3);
    expect(h.up).toBe(true);
  });

  it("init_fail starts down", () => {
    expect(initialScriptHealth(true).up).toBe(false);
  });
});

describe("small parsers", () => {
  it("track_file value: first integer, else 0", () => {
    expect(parseTrackFileValue(" -12 trailing")).toBe(-12);
    expect(parseTrackFileValue("+7\n")).toBe(7);
    expect(parseTrackFileValue("")).toBe(0);
    expect(parseTrackFileValue("abc")).toBe(0);
  });

  it("process quorum and matching by name, path and parameters", () => {
    const procs = [
      { comm: "nginx", argv: ["/usr/sbin/nginx", "-g", "daemon off;"] },
      { comm: "nginx", argv: ["nginx: worker process"] },
      { comm: "sleep", argv: ["/bin/sleep", "5"] },
    ];
    expect(countMatchingProcesses(procs, { name: "n", process: "nginx" })).toBe(2);
    expect(countMatchingProcesses(procs, { name: "n", process: "/usr/sbin/nginx" })).toBe(1);
    expect(countMatchingProcesses(procs, { name: "n", process: "sleep", params: "5" })).toBe(1);
    expect(countMatchingProcesses(procs, { name: "n", process: "sleep", params: "6" })).toBe(0);
    expect(processQuorumMet(2, 1)).toBe(true);
    expect(processQuorumMet(0, 1)).toBe(false);
    expect(processQuorumMet(3, 1, 2)).toBe(false);
  });

  it("script lines split like keepalived: words, quotes, escapes", () => {
    expect(splitCommand(`/bin/sh -c 'test -f "/x y"' arg\\ two`)).toEqual(["/bin/sh", "-c", 'test -f "/x y"', "arg two"]);
    expect(splitCommand(`  a   "" b `)).toEqual(["a", "", "b"]);
  });

  it("notify: the state's script, then the generic one with TYPE NAME STATE PRIORITY; fifo lines", () => {
    expect(notifyCommands({ master: "/m.sh x", generic: "/n.sh" }, "INSTANCE", "VI_1", "MASTER", 100)).toEqual([
      ["/m.sh", "x"],
      ["/n.sh", "INSTANCE", "VI_1", "MASTER", "100"],
    ]);
    expect(notifyCommands({ master: "/m.sh" }, "INSTANCE", "VI_1", "BACKUP", 100)).toEqual([]);
    expect(fifoLine("INSTANCE", "VI_1", "FAULT", 90)).toBe('INSTANCE "VI_1" FAULT 90\n');
    // Checked with keepalived 2.2.7: 'GROUP "G1" BACKUP 0', and the generic script gets "GROUP G1 BACKUP 0".
    expect(fifoLine("GROUP", "G", "MASTER", 0)).toBe('GROUP "G" MASTER 0\n');
    // keepalived 2.2.7 vrrp_notify.c notify_fifo: the event in the state's place, the effective priority.
    expect(fifoLine("INSTANCE", "VI_1", "MASTER_RX_LOWER_PRI", 150)).toBe('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150\n');
  });
});
