import { describe, expect, it } from "vitest";
import type { VirtualServerV1 } from "../../src/daemon/api-types.ts";
import type { IpvsTable } from "../../src/ipvs/client.ts";
import { formatIpvsTable, serviceName } from "../../src/ipvs/format.ts";
import { IP_VS_SVC_F_PERSISTENT, type DestStatus, type ServiceStatus } from "../../src/ipvs/types.ts";

const zero = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
const svc = (over: Partial<ServiceStatus>): ServiceStatus => ({
  key: { kind: "addr", family: "ipv4", protocol: "tcp", address: "192.168.26.34", port: 9999 },
  scheduler: "wrr", flags: 0, timeout: 0, netmask: 32, peName: "", stats: zero, ...over,
} as ServiceStatus);
const dest = (address: string, weight: number, over: Partial<DestStatus> = {}): DestStatus => ({
  family: "ipv4", address, port: 9999, method: "droute", weight, upperThreshold: 0, lowerThreshold: 0,
  activeConns: 2, inactiveConns: 1, persistentConns: 0, stats: zero, ...over,
} as DestStatus);

const table: IpvsTable = [
  { service: svc({ flags: IP_VS_SVC_F_PERSISTENT, timeout: 1 }), dests: [dest("192.168.26.54", 1), dest("192.168.26.36", 0)] },
  { service: svc({ key: { kind: "fwmark", family: "ipv4", fwmark: 7 }, scheduler: "rr" }), dests: [] },
];

const owned = [{
  key: "TCP 192.168.26.34:9999",
  realServers: [
    { key: "192.168.26.36:9999", health: "down", reason: "connect to 192.168.26.36:9999 failed: ECONNREFUSED (Connection refused)", drained: false },
    { key: "192.168.26.54:9999", health: "up", reason: null, drained: true },
  ],
}] as unknown as VirtualServerV1[];

describe("lbctl ipvs formatting", () => {
  it("names services as keepalived and the control API do", () => {
    expect(serviceName(table[0]!.service)).toBe("TCP 192.168.26.34:9999");
    expect(serviceName(table[1]!.service)).toBe("FWM 7");
    expect(serviceName(svc({ key: { kind: "addr", family: "ipv6", protocol: "udp", address: "2001:db8::1", port: 53 } }))).toBe("UDP [2001:db8::1]:53");
  });

  it("prints ipvsadm's layout with owner and health, sorted", () => {
    const text = formatIpvsTable({ version: 0x10201, versionText: "1.2.1", connTableSize: 4096 }, table, owned);
    expect(text.split("\n")).toEqual([
      "IP Virtual Server version 1.2.1 (size=4096)",
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn  Owner  Health",
      `${"FWM  7 rr".padEnd(67)} other`,
      `${"TCP  192.168.26.34:9999 wrr persistent 1".padEnd(67)} lbctl`,
      "  -> 192.168.26.36:9999           Route   0      2          1          lbctl  down (connect to 192.168.26.36:9999 failed: ECONNREFUSED (Connection refused))",
      "  -> 192.168.26.54:9999           Route   1      2          1          lbctl  drained, up",
      "",
    ]);
  });

  it("marks the owner unknown when the daemon could not be asked", () => {
    expect(formatIpvsTable(null, table, null)).toMatch(/TCP  192\.168\.26\.34:9999 wrr persistent 1 +\?/);
  });
});
