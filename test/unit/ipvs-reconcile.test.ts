import { describe, expect, it } from "vitest";
import { applyOps, describeOp, reconcile, type IpvsOp } from "../../src/ipvs/reconcile.ts";
import { IP_VS_SVC_F_PERSISTENT, serviceKeyId, type ServiceKey, type ServiceWithDests } from "../../src/ipvs/types.ts";
import { makeDest, makeService, randomTable, seededRng, type Rng } from "../vm/ipvs-gen.ts";

const key = (address: string, port = 80): ServiceKey => ({ kind: "addr", family: "ipv4", protocol: "tcp", address, port });
const web = key("10.0.0.1");
const api = key("10.0.0.2", 443);
const foreign = key("192.0.2.1", 25);

const base: ServiceWithDests[] = [
  { service: makeService(web, { scheduler: "wrr" }), dests: [makeDest("ipv4", "10.1.0.1", 80, { weight: 2 }), makeDest("ipv4", "10.1.0.2", 80)] },
  { service: makeService(api), dests: [makeDest("ipv4", "10.1.0.3", 443)] },
];
const withForeign: ServiceWithDests[] = [...base, { service: makeService(foreign, { scheduler: "lc" }), dests: [makeDest("ipv4", "192.0.2.2", 25)] }];
const ownedBase = new Set(base.map((s) => serviceKeyId(s.service.key)));

function plan(desired: ServiceWithDests[], current: ServiceWithDests[], owned: ReadonlySet<string>, flush = false): IpvsOp[] {
  const r = reconcile(desired, current, { owned, flush });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.ops;
}

function canonical(table: readonly ServiceWithDests[]): string[] {
  return table.map((s) => JSON.stringify({
    ...s,
    dests: [...s.dests].sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`)),
  })).sort();
}

describe("reconcile", () => {
  it("an empty kernel gets services first, then their destinations", () => {
    expect(plan(base, [], new Set()).map(describeOp)).toEqual([
      "add service TCP 10.0.0.1:80 wrr",
      "add service TCP 10.0.0.2:443 wlc",
      "add ipv4/10.1.0.1:80 to TCP 10.0.0.1:80 (masq w2)",
      "add ipv4/10.1.0.2:80 to TCP 10.0.0.1:80 (masq w1)",
      "add ipv4/10.1.0.3:443 to TCP 10.0.0.2:443 (masq w1)",
    ]);
  });

  it("the same desired state twice gives zero ops", () => {
    expect(plan(base, withForeign, ownedBase)).toEqual([]);
  });

  it("mutable attributes are edited in place", () => {
    const desired = structuredClone(base);
    desired[0].service = makeService(web, { scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT, timeout: 300, netmask: 24 });
    desired[0].dests[0] = makeDest("ipv4", "10.1.0.1", 80, { weight: 7, method: "droute", upperThreshold: 10, lowerThreshold: 5 });
    desired[1].dests[0] = makeDest("ipv4", "10.1.0.3", 443, { method: "tunnel", tunnel: { type: "gue", port: 6080, flags: 0 } });
    expect(plan(desired, withForeign, ownedBase).map((o) => o.op)).toEqual(["edit-service", "edit-dest", "edit-dest"]);
  });

  it("removed destinations are deleted before anything is added", () => {
    const desired = structuredClone(base);
    desired[0].dests = [makeDest("ipv4", "10.1.0.2", 80), makeDest("ipv4", "10.1.0.9", 80)];
    expect(plan(desired, withForeign, ownedBase).map(describeOp)).toEqual([
      "delete ipv4/10.1.0.1:80 from TCP 10.0.0.1:80",
      "add ipv4/10.1.0.9:80 to TCP 10.0.0.1:80 (masq w1)",
    ]);
  });

  it("a changed service key is a delete of the old service (its destinations go with it) and an add", () => {
    const desired = structuredClone(base);
    desired[1].service = makeService(key("10.0.0.2", 8443));
    expect(plan(desired, withForeign, ownedBase).map(describeOp)).toEqual([
      "delete service TCP 10.0.0.2:443",
      "add service TCP 10.0.0.2:8443 wlc",
      "add ipv4/10.1.0.3:443 to TCP 10.0.0.2:8443 (masq w1)",
    ]);
  });

  it("services lbctl does not own are left alone; with flush they are removed", () => {
    expect(plan([], withForeign, ownedBase).map(describeOp)).toEqual(["delete service TCP 10.0.0.1:80", "delete service TCP 10.0.0.2:443"]);
    expect(plan([base[0]], withForeign, ownedBase, true).map(describeOp)).toEqual(["delete service TCP 10.0.0.2:443", "delete service TCP 192.0.2.1:25"]);
    expect(plan([], withForeign, new Set(), true)).toEqual([{ op: "flush" }]);
  });

  it("a desired service that already exists but was not ours is adopted and edited, not re-added", () => {
    const desired = [{ service: makeService(foreign, { scheduler: "rr" }), dests: [makeDest("ipv4", "192.0.2.2", 25)] }];
    const r = reconcile(desired, withForeign, { owned: new Set() });
    expect(r.ok && r.ops.map((o) => o.op)).toEqual(["edit-service"]);
    expect(r.ok && [...r.owned]).toEqual(["ipv4/tcp/192.0.2.1:25"]);
  });

  it("invalid desired tables are refused with every problem named", () => {
    const r = reconcile([
      { service: makeService(web), dests: [makeDest("ipv4", "10.1.0.1", 80), makeDest("ipv4", "10.1.0.1", 80, { weight: -1 })] },
      { service: makeService(web, { scheduler: "" }), dests: [] },
    ], [], { owned: new Set() });
    expect(r).toEqual({
      ok: false,
      errors: [
        "TCP 10.0.0.1:80 -> 10.1.0.1:80: weight -1 must be 0..2147483647",
        "TCP 10.0.0.1:80: destination ipv4/10.1.0.1:80 listed twice",
        "TCP 10.0.0.1:80: scheduler name '' is not valid",
        "TCP 10.0.0.1:80: listed twice",
      ],
    });
  });

  it("applyOps follows the kernel's rules and names the op it cannot apply", () => {
    expect(applyOps(base, [{ op: "delete-service", service: api }, { op: "add-service", service: base[0].service }]))
      .toEqual({ ok: false, index: 1, error: "TCP 10.0.0.1:80: service exists" });
    expect(applyOps([], [{ op: "delete-service", service: web }])).toEqual({ ok: false, index: 0, error: "TCP 10.0.0.1:80: no such service" });
    expect(applyOps(base, [{ op: "edit-dest", service: web, dest: makeDest("ipv4", "10.9.9.9", 80) }]))
      .toEqual({ ok: false, index: 0, error: "ipv4/10.9.9.9:80: no such destination" });
    expect(applyOps(base, [{ op: "add-dest", service: web, dest: makeDest("ipv4", "10.1.0.2", 80) }]))
      .toEqual({ ok: false, index: 0, error: "ipv4/10.1.0.2:80: destination exists" });
    const done = applyOps(base, [{ op: "delete-dest", service: web, dest: base[0].dests[0] }, { op: "flush" }, { op: "add-service", service: base[1].service }]);
    expect(done).toEqual({ ok: true, table: [{ service: base[1].service, dests: [] }] });
  });
});

describe("reconcile, randomised (property: owned part == desired, foreign untouched, idempotent)", () => {
  function foreignTable(rng: Rng): ServiceWithDests[] {
    // Foreign services live in their own address range so they never collide with desired keys.
    return randomTable(rng, 3).map((s, i) => ({
      ...s,
      service: { ...s.service, key: { kind: "addr", family: "ipv4", protocol: "udp", address: `192.0.2.${i + 1}`, port: 9 } },
      dests: s.dests.map((d) => ({ ...d, family: "ipv4" as const, address: `192.0.2.${100 + i}`, tunnel: undefined })),
    }));
  }

  it("holds for 500 random (desired, current, owned) triples", () => {
    const rng = seededRng(42);
    let opsSeen = 0;
    const kinds = new Set<string>();
    for (let round = 0; round < 500; round++) {
      const previous = randomTable(rng, 6);
      const others = foreignTable(rng);
      const current = [...previous, ...others];
      const owned = new Set(previous.map((s) => serviceKeyId(s.service.key)));
      const desired = randomTable(rng, 6);
      const flush = rng() < 0.1;
      const r = reconcile(desired, current, { owned, flush });
      if (!r.ok) throw new Error(r.errors.join("; "));
      const applied = applyOps(current, r.ops);
      if (!applied.ok) throw new Error(`round ${round}: op ${applied.index}: ${applied.error}`);
      const after = applied.table;
      const mine = after.filter((s) => r.owned.has(serviceKeyId(s.service.key)));
      expect(canonical(mine)).toEqual(canonical(desired));
      const expectedForeign = flush ? [] : others;
      expect(canonical(after.filter((s) => !r.owned.has(serviceKeyId(s.service.key))))).toEqual(canonical(expectedForeign));
      expect(plan(desired, after, r.owned, flush)).toEqual([]);
      // Minimal: no op touches a service or destination that is already as desired.
      const currentById = new Map(current.map((s) => [serviceKeyId(s.service.key), s]));
      for (const op of r.ops) {
        kinds.add(op.op);
        if (op.op === "edit-service") expect(currentById.get(serviceKeyId(op.service.key))?.service).not.toEqual(op.service);
        if (op.op === "edit-dest") {
          const old = currentById.get(serviceKeyId(op.service))?.dests.find((d) => d.address === op.dest.address && d.port === op.dest.port);
          expect(old).not.toEqual(op.dest);
        }
      }
      opsSeen += r.ops.length;
    }
    expect(opsSeen).toBeGreaterThan(1000);
    expect([...kinds].sort()).toEqual(["add-dest", "add-service", "delete-dest", "delete-service", "edit-dest", "edit-service", "flush"]);
  });
});
