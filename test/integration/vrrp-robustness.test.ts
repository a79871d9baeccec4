// Bad packets injected into the LAN are counted (status()) and never crash or confuse a node; two
// instances share one socket (dispatch by VRID); a partition makes two masters, healing leaves one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";

import { createLab, type Lab } from "../helpers/netns.ts";
import { instance, removeWorkDir, sleep, startLbNode, waitFor, waitHolders, type LbNode } from "./vrrp-lab.ts";
import type { VrrpStats } from "../../src/vrrp/stats.ts";

const INJECT = resolve(import.meta.dirname, "vrrp-inject.ts");
const VIP3 = "10.79.1.100", VIP2 = "10.79.1.101";
let lab: Lab;
let a: string, b: string, x: string;
let na: LbNode, nb: LbNode;

const config = (primaryIp: string, priority: number) => ({
  instances: [
    instance({ name: "VI_3", vrid: 81, interface: "eth0", primaryIp, vips: [VIP3], priority, advertIntervalMs: 200 }),
    instance({ name: "VI_2", version: 2, vrid: 82, interface: "eth0", primaryIp, vips: [VIP2], priority, advertIntervalMs: 1000, authType: "pass", authPass: "goodpass" }),
  ],
});

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [a, b, x] = await lab.namespaces("a", "b", "x");
  await lab.lan("lan", [
    { ns: a, ifname: "eth0", address: "10.79.1.1/24" },
    { ns: b, ifname: "eth0", address: "10.79.1.2/24" },
    { ns: x, ifname: "eth0", address: "10.79.1.9/24" },
  ]);
  await lab.run(x, ["ip", "route", "add", "224.0.0.0/4", "dev", "eth0"]);
  na = startLbNode(lab, a, config("10.79.1.1", 150));
  await na.waitState("VI_3", "MASTER", 3000);
  await na.waitState("VI_2", "MASTER", 5000);
  nb = startLbNode(lab, b, config("10.79.1.2", 100));
  await nb.waitState("VI_3", "BACKUP");
  await nb.waitState("VI_2", "BACKUP");
});

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

async function inject(kind: string, count: number, vrid: number, extra: Record<string, unknown> = {}): Promise<void> {
  await lab.run(x, [process.execPath, INJECT, JSON.stringify({ src: "10.79.1.9", kind, count, vrid, vips: [VIP3], ...extra })]);
}

const stats = (n: LbNode, inst: string): VrrpStats => n.status()!.instances.find((i) => i.name === inst)!.stats;
const errorSum = (s: VrrpStats) =>
  s.packetLengthErrors + s.ipTtlErrors + s.checksumErrors + s.versionErrors + s.authFailures + s.authTypeMismatch + s.invalidAuthType + s.invalidTypePktsRcvd + s.addressListErrors + s.advertIntervalErrors;

describe("bad packets", () => {
  it("each kind lands in its VRRP-MIB counter on both nodes, and nothing moves", async () => {
    const before = { a: stats(na, "VI_3"), b: stats(nb, "VI_3") };
    await inject("badChecksum", 20, 81);
    await inject("badTtl", 15, 81);
    await inject("truncated", 12, 81);
    for (const [n, b0] of [[na, before.a], [nb, before.b]] as const) {
      // The status file is rewritten every 50 ms: wait for the last kind sent, then compare all.
      await waitFor("counters", () => stats(n, "VI_3").packetLengthErrors - b0.packetLengthErrors >= 12, 2000);
      const s = stats(n, "VI_3");
      expect(s.checksumErrors - b0.checksumErrors).toBe(20);
      expect(s.ipTtlErrors - b0.ipTtlErrors).toBe(15);
      expect(s.packetLengthErrors - b0.packetLengthErrors).toBe(12);
    }
    // A priority-254 advert with a bad checksum must not have made anyone yield.
    expect(na.state("VI_3")).toBe("MASTER");
    expect(nb.state("VI_3")).toBe("BACKUP");
  });

  it("a v2 advert with the wrong password is an authFailure for the VRID it names, not for the other instance", async () => {
    const before2 = stats(nb, "VI_2");
    const before3 = stats(nb, "VI_3");
    await inject("badAuth", 10, 82, { authPass: "badpass!", vips: [VIP2] });
    await waitFor("auth failures", () => stats(nb, "VI_2").authFailures - before2.authFailures >= 10, 2000);
    await sleep(100);
    expect(stats(nb, "VI_2").authFailures - before2.authFailures).toBe(10);
    expect(errorSum(stats(nb, "VI_3"))).toBe(errorSum(before3));
    expect(nb.state("VI_2")).toBe("BACKUP");
    expect(na.state("VI_2")).toBe("MASTER");
  });

  it("unknown VRIDs and random garbage are counted; both nodes keep running and keep their roles", async () => {
    const u0 = nb.status()!.unmatched.unknownVrid;
    await inject("unknownVrid", 7, 99);
    await waitFor("unknown VRIDs", () => nb.status()!.unmatched.unknownVrid - u0 === 7, 2000);
    const e0 = errorSum(stats(nb, "VI_3"));
    await inject("random", 50, 81, { seed: 7 });
    await waitFor("random packets counted", () => errorSum(stats(nb, "VI_3")) - e0 >= 50, 2000);
    await inject("fuzz", 500, 0, { seed: 99 });
    await sleep(500);
    for (const n of [na, nb]) {
      const st = n.status()!;
      expect(() => process.kill(n.proc.pid, 0)).not.toThrow();
      expect(n.logs()).not.toMatch(/TypeError|RangeError|Uncaught|panic/);
      expect(st.instances.map((i) => i.state)).toEqual(n === na ? ["MASTER", "MASTER"] : ["BACKUP", "BACKUP"]);
    }
    await waitHolders(lab, [a, b], VIP3, [a]);
    // Adverts still flow: the backup keeps counting the master's.
    const r0 = stats(nb, "VI_3").advertisementsReceived;
    await sleep(500);
    expect(stats(nb, "VI_3").advertisementsReceived - r0).toBeGreaterThanOrEqual(2);
  });
});

describe("partition", () => {
  it("dropping VRRP inside the backup makes two masters; healed, exactly one remains within three advert intervals", async () => {
    await lab.run(b, ["nft", "-f", "-"], { stdin: "table inet lbtvr {\n chain input {\n  type filter hook input priority 0;\n  ip protocol vrrp drop\n }\n}\n" });
    await nb.waitState("VI_3", "MASTER", 2000);
    expect(na.state("VI_3")).toBe("MASTER");
    await waitHolders(lab, [a, b], VIP3, [a, b]);
    await lab.run(b, ["nft", "delete", "table", "inet", "lbtvr"]);
    const healed = performance.now();
    await waitFor("one master", () => [na.state("VI_3"), nb.state("VI_3")].filter((s) => s === "MASTER").length === 1, 2000, 5);
    const took = performance.now() - healed;
    expect(took).toBeLessThan(3 * 200);
    expect(na.state("VI_3")).toBe("MASTER");
    await waitHolders(lab, [a, b], VIP3, [a], 1000);
  });
});
