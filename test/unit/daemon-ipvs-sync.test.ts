// IpvsSync against an in-memory kernel (applyOps has the kernel's rules): one virtual server's change
// costs that virtual server's ops only, whatever the table size; foreign services are left alone;
// stop removes what we own (or flushes with lvs_flush_onstop).
import { describe, expect, it } from "vitest";
import type { ApplyReport, IpvsResult, IpvsTable } from "../../src/ipvs/client.ts";
import { applyOps, type IpvsOp } from "../../src/ipvs/reconcile.ts";
import { serviceKeyId, type DestConfig, type IpvsStats, type ServiceConfig, type ServiceWithDests } from "../../src/ipvs/types.ts";
import { IpvsSync, type IpvsPort } from "../../src/daemon/ipvs-sync.ts";

const ZERO: IpvsStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

class FakeKernel implements IpvsPort {
  table: ServiceWithDests[] = [];
  applied: IpvsOp[][] = [];
  tableReads = 0;
  refuse?: (op: IpvsOp) => boolean;
  async apply(ops: readonly IpvsOp[]): Promise<ApplyReport> {
    this.applied.push([...ops]);
    const report: ApplyReport = { applied: 0, failures: [] };
    ops.forEach((op, index) => {
      if (this.refuse?.(op)) { report.failures.push({ index, op, error: "refused", code: "EINVAL" }); return; }
      const r = applyOps(this.table, [op]);
      if (r.ok) { this.table = r.table; report.applied++; } else report.failures.push({ index, op, error: r.error });
    });
    return report;
  }
  async getTable(): Promise<IpvsResult<IpvsTable>> {
    this.tableReads++;
    return { ok: true, value: this.table.map((s) => ({ service: { ...s.service, stats: ZERO }, dests: s.dests.map((d) => ({ ...d, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: ZERO })) })) };
  }
  async flush(): Promise<IpvsResult<void>> { this.table = []; return { ok: true, value: undefined }; }
  async setTimeouts(): Promise<IpvsResult<void>> { return { ok: true, value: undefined }; }
  close(): void {}
}

function service(n: number): ServiceConfig {
  return { key: { kind: "addr", family: "ipv4", protocol: "tcp", address: `10.${(n >> 8) & 255}.${n & 255}.1`, port: 80 }, scheduler: "wlc", flags: 0, timeout: 0, netmask: 32, peName: "" };
}
function dest(host: number, weight = 1): DestConfig {
  return { family: "ipv4", address: `192.168.0.${host}`, port: 80, method: "masq", weight, upperThreshold: 0, lowerThreshold: 0 };
}
const vs = (n: number, dests: DestConfig[]): ServiceWithDests[] => [{ service: service(n), dests }];
const ids = (t: ServiceWithDests[]) => t.map((s) => serviceKeyId(s.service.key));

describe("IpvsSync", () => {
  it("programs one virtual server's change with that virtual server's ops only, without reading the table", async () => {
    const k = new FakeKernel();
    const sync = new IpvsSync(k);
    expect(await sync.start({ flush: false })).toEqual([]);
    for (let n = 0; n < 3000; n++) expect((await sync.apply(vs(n, [dest(1), dest(2)]))).errors).toEqual([]);
    expect(k.table).toHaveLength(3000);
    const reads = k.tableReads;
    const r = await sync.apply(vs(1234, [dest(1), dest(2, 0)]), ids(vs(1234, [])));
    expect(r).toEqual({ ops: [{ op: "edit-dest", service: service(1234).key, dest: dest(2, 0) }], errors: [] });
    expect(k.tableReads).toBe(reads);
    expect(k.table.find((s) => serviceKeyId(s.service.key) === serviceKeyId(service(1234).key))!.dests[1]!.weight).toBe(0);
  });

  it("adopts a service already in the kernel, leaves foreign ones alone, and removes a dropped virtual server", async () => {
    const k = new FakeKernel();
    k.table = [...vs(1, [dest(9)]), ...vs(2, [dest(5)])];
    const sync = new IpvsSync(k);
    await sync.start({ flush: false });
    const r = await sync.apply(vs(1, [dest(1)]));
    expect(r.ops.map((o) => o.op).sort()).toEqual(["add-dest", "delete-dest"]);
    expect((await sync.apply([], ids(vs(1, [])))).ops).toEqual([{ op: "delete-service", service: service(1).key }]);
    expect(k.table).toEqual(vs(2, [dest(5)]));
  });

  it("flushes at start with lvs_flush", async () => {
    const k = new FakeKernel();
    k.table = vs(7, [dest(1)]);
    await new IpvsSync(k).start({ flush: true });
    expect(k.table).toEqual([]);
  });

  it("re-reads what the kernel holds when it refuses an op, and says why", async () => {
    const k = new FakeKernel();
    const sync = new IpvsSync(k);
    await sync.start({ flush: false });
    k.refuse = (op) => op.op === "add-dest" && op.dest.address === "192.168.0.2";
    const r = await sync.apply(vs(3, [dest(1), dest(2)]));
    expect(r.errors).toEqual(["refused"]);
    k.refuse = undefined;
    // The model now matches the kernel (one dest), so the retry adds only the missing one.
    expect((await sync.apply(vs(3, [dest(1), dest(2)]), ids(vs(3, [])))).ops).toEqual([{ op: "add-dest", service: service(3).key, dest: dest(2) }]);
  });

  it("at stop removes only its own services, or flushes everything with lvs_flush_onstop", async () => {
    const k = new FakeKernel();
    k.table = vs(50, [dest(1)]);
    const sync = new IpvsSync(k);
    await sync.start({ flush: false });
    await sync.apply(vs(1, [dest(1)]));
    expect(await sync.stop(false)).toEqual([]);
    expect(k.table).toEqual(vs(50, [dest(1)]));

    const sync2 = new IpvsSync(k);
    await sync2.start({ flush: false });
    await sync2.apply(vs(1, [dest(1)]));
    await sync2.stop(true);
    expect(k.table).toEqual([]);
  });
});
