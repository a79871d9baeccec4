// The mapping on every IPVS sample shipped with keepalived, against the table keepalived 2.2.7 itself
// programmed for the same file (captured in the IPVS VM by test/vm/suite-daemon.ts, checkers removed so
// every real server is up; `ipvsadm -Ln --exact` without connection counts, sorted).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { desiredDests, initVirtualServer } from "../../src/check/vs-state.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { checkMapping, ipvsServices } from "../../src/daemon/check-config.ts";
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3,
  formatHostPort, type ServiceWithDests,
} from "../../src/ipvs/types.ts";
import { IPVS_SAMPLES, strippedSample } from "../vm/suite-daemon.ts";

const golden = JSON.parse(readFileSync("test/fixtures/check-role/keepalived-sample-tables.json", "utf8")) as Record<string, string[]>;

const METHOD = { masq: "Masq", local: "Local", tunnel: "Tunnel", droute: "Route", bypass: "Bypass" } as const;

function mask(bits: number): string {
  const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** One service the way `ipvsadm -Ln --exact` prints it (print_service_entry), as the VM suite normalises it. */
function ipvsadmText({ service: s, dests }: ServiceWithDests): string {
  const k = s.key;
  let head = k.kind === "fwmark" ? `FWM ${k.fwmark}${k.family === "ipv6" ? " IPv6" : ""}` : `${k.protocol.toUpperCase()} ${formatHostPort(k.address, k.port)}`;
  head += ` ${s.scheduler}`;
  const sched = s.flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
  if (sched) {
    const names = s.scheduler === "sh" || s.scheduler === "mh"
      ? [[IP_VS_SVC_F_SCHED1, `${s.scheduler}-fallback`], [IP_VS_SVC_F_SCHED2, `${s.scheduler}-port`]] as const
      : [[IP_VS_SVC_F_SCHED1, "flag-1"], [IP_VS_SVC_F_SCHED2, "flag-2"], [IP_VS_SVC_F_SCHED3, "flag-3"]] as const;
    head += ` (${names.filter(([f]) => sched & f).map(([, n]) => n).join(",")})`;
  }
  if (s.flags & IP_VS_SVC_F_PERSISTENT) {
    head += ` persistent ${s.timeout}`;
    if (k.family === "ipv4" ? s.netmask !== 32 : s.netmask !== 128) head += ` mask ${k.family === "ipv4" ? mask(s.netmask) : s.netmask}`;
    if (s.peName) head += ` pe ${s.peName}`;
  }
  if (s.flags & IP_VS_SVC_F_ONEPACKET) head += " ops";
  const lines = dests.map((d) => `  -> ${formatHostPort(d.address, d.port)} ${METHOD[d.method]} ${d.weight}`).sort();
  return [head, ...lines].join("\n");
}

describe("keepalived's samples: the desired IPVS table is what keepalived 2.2.7 programs", () => {
  it("has a captured table for every sample", () => {
    expect(Object.keys(golden).sort()).toEqual([...IPVS_SAMPLES].sort());
  });

  for (const sample of IPVS_SAMPLES) {
    it(sample, () => {
      const loaded = loadConfigText(strippedSample(sample), `keepalived.conf.${sample}`);
      // lbctl refuses notify scripts that do not exist (quorum-up.sh ...); the VM suite stubs them. Nothing else may fail.
      expect(loaded.diag.list.filter((d) => d.severity === "error" && !/script '.*' does not exist/.test(d.message))).toEqual([]);
      const m = checkMapping(loaded.effective, { user: () => undefined, hostname: "h" });
      const table = m.virtualServers.flatMap((vs) => ipvsServices(vs, desiredDests(vs.health, initVirtualServer(vs.health).state)));
      expect(table.map(ipvsadmText).sort()).toEqual(golden[sample]);
    });
  }
});
