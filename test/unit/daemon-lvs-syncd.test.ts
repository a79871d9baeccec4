import { describe, expect, it } from "vitest";
import { syncDaemonCommands, wantedSyncDaemon } from "../../src/daemon/lvs-syncd.ts";

const cfg = { interface: "eth1", instance: "VI_1", id: 7, port: 8848 };

describe("lvs_sync_daemon follows its VRRP instance", () => {
  it("runs the backup daemon until the instance is MASTER, then the master daemon", () => {
    expect(wantedSyncDaemon("INIT")).toBe("backup");
    expect(wantedSyncDaemon("BACKUP")).toBe("backup");
    expect(wantedSyncDaemon("FAULT")).toBe("backup");
    expect(wantedSyncDaemon("MASTER")).toBe("master");
    expect(wantedSyncDaemon("STOP")).toBeNull();
    expect(wantedSyncDaemon(null)).toBeNull();
  });

  it("stops the old role before starting the new one, and does nothing when unchanged", () => {
    expect(syncDaemonCommands(cfg, null, "backup")).toEqual([
      { op: "start", daemon: { state: "backup", interface: "eth1", syncId: 7, maxLength: undefined, mcastGroup: undefined, mcastPort: 8848, mcastTtl: undefined } },
    ]);
    expect(syncDaemonCommands(cfg, "backup", "master").map((c) => (c.op === "stop" ? `stop ${c.state}` : `start ${c.daemon.state}`))).toEqual(["stop backup", "start master"]);
    expect(syncDaemonCommands(cfg, "master", null)).toEqual([{ op: "stop", state: "master" }]);
    expect(syncDaemonCommands(cfg, "master", "master")).toEqual([]);
  });
});
