// The VM suite's independent readers (test/vm/readers.ts) on real ipvsadm 1.31 / Linux 6.1 output.
import { describe, expect, it } from "vitest";
import {
  parseIpvsadmDaemons, parseIpvsadmSave, parseIpvsadmThresholds, parseIpvsadmTimeouts, parseProcIpVs, project,
} from "../vm/readers.ts";
import { IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT } from "../../src/ipvs/types.ts";
import { makeDest, makeService } from "../vm/ipvs-gen.ts";

const SAVE = `-A -t 10.0.0.1:80 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -u [2001:db8::1]:53 -s mh -p 60 -M 64 --pe sip -b mh-port
-A -f -1 -s rr
-A -f 7 -6 -s wrr
`;

describe("VM suite readers", () => {
  it("ipvsadm -Sn matches the projection of the same configuration", () => {
    const table = [
      {
        service: makeService({ kind: "addr", family: "ipv4", protocol: "tcp", address: "10.0.0.1", port: 80 }, {
          scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_FALLBACK | IP_VS_SVC_F_SCHED_SH_PORT, timeout: 300, netmask: 24,
        }),
        dests: [makeDest("ipv4", "10.1.0.3", 80, { method: "tunnel", tunnel: { type: "gue", port: 6080, flags: 1 } }), makeDest("ipv4", "10.1.0.1", 8080, { weight: 3 })],
      },
      {
        service: makeService({ kind: "addr", family: "ipv6", protocol: "udp", address: "2001:db8::1", port: 53 }, {
          scheduler: "mh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT, timeout: 60, netmask: 64, peName: "sip",
        }),
        dests: [],
      },
      { service: makeService({ kind: "fwmark", family: "ipv4", fwmark: 4294967295 }, { scheduler: "rr" }), dests: [] },
      { service: makeService({ kind: "fwmark", family: "ipv6", fwmark: 7 }, { scheduler: "wrr" }), dests: [] },
    ];
    expect(parseIpvsadmSave(SAVE)).toEqual(project(table));
    expect(project(table)[1].dests.map((d) => d.tunnel)).toEqual([undefined, "gue:6080:1"]);
  });

  it("thresholds, /proc/net/ip_vs, daemons and timeouts", () => {
    const thresholds = parseIpvsadmThresholds(`IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
  -> RemoteAddress:Port
UDP  [2001:db8::1]:53 mh (mh-port) persistent 60 mask 64 pe sip
  -> [2001:db8::2]:53             0          0          0          0
FWM  5 IPv6 rr
  -> [2001:db8::9]:0              100        50         0          0
`);
    expect([...thresholds]).toEqual([
      ["ipv6/udp/[2001:db8::1]:53 -> ipv6/[2001:db8::2]:53", "0/0"],
      ["ipv6/fwmark/5 -> ipv6/[2001:db8::9]:0", "100/50"],
    ]);
    expect(parseProcIpVs(`IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 mh persistent 15000 40000000
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0035      Masq    2      0          0
FWM  00000005 rr
  -> 0A020001:0000      Route   1      0          0
`)).toEqual([
      { id: "fwmark/5", scheduler: "rr", dests: [{ id: "ipv4/10.2.0.1:0", method: "droute", weight: 1 }] },
      { id: "ipv6/udp/[2001:db8::1]:53", scheduler: "mh", dests: [{ id: "ipv6/[2001:db8::2]:53", method: "masq", weight: 2 }] },
    ]);
    expect(parseIpvsadmDaemons("master sync daemon (mcast=lo, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"))
      .toEqual([{ state: "master", interface: "lo", syncId: 0 }]);
    expect(parseIpvsadmTimeouts("Timeout (tcp tcpfin udp): 900 120 300\n")).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });
});
