// lbctl's keepalived-compatible dump files against what keepalived 2.2.7 itself wrote for the
// same configuration and state (test/fixtures/keepalived-dump/, captured with node-a.conf and
// node-b.conf running against each other in two network namespaces).
import { describe, expect, it } from "vitest";
import {
  formatKeepalivedCheckData, formatKeepalivedData, formatKeepalivedJson, formatKeepalivedStats,
  masterDownUs, syncGroupState, timeWithCtime, vipText, type DumpInput,
} from "../../src/daemon/keepalived-dump.ts";
import type { StatusV1, VrrpInstanceV1 } from "../../src/daemon/api-types.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { resolveVrrp } from "../../src/config/resolve-vrrp.ts";
import { fixture, fixtureConfig, fixtureIfindex, fixtureStatus, withoutUnknowable } from "./keepalived-dump-fixture.ts";

function input(node: "a" | "b"): DumpInput {
  return { status: fixtureStatus(node), config: fixtureConfig(node), hostname: "unused", ifindex: fixtureIfindex(node) };
}

/**
 * keepalived's Wantstate is the state an instance would take outside its sync group; lbctl
 * reports only the state it is in. Node b's VI_2 (priority 130) wants MASTER but is held in
 * BACKUP by SG_1: the one value that differs, and only in its value.
 */
function sameWantstateAsState(text: string): string {
  return text.replace(/(   State = (\w+)\n(?:(?:   |     ).*\n)*?   Wantstate = )\w+/g, "$1$2");
}

describe("keepalived.data (SIGUSR1)", () => {
  for (const node of ["a", "b"] as const) {
    it(`node ${node}: line for line what keepalived 2.2.7 wrote, less the values lbctl does not have`, () => {
      const ours = formatKeepalivedData(input(node));
      const theirs = sameWantstateAsState(withoutUnknowable(fixture(`node-${node}.keepalived.data`)));
      expect(withoutUnknowable(ours).split("\n")).toEqual(theirs.split("\n"));
    });
  }

  it("leaves out only the lines it cannot know, and says which in the normaliser", () => {
    const theirs = fixture("node-a.keepalived.data").split("\n");
    const kept = withoutUnknowable(fixture("node-a.keepalived.data")).split("\n");
    const dropped = theirs.filter((l) => !kept.includes(l));
    expect(dropped.some((l) => l.includes("Read timeout"))).toBe(true);
    expect(dropped.some((l) => l.startsWith("   fd_in"))).toBe(true);
    // The instance sections themselves are all kept: every exporter-read key is compared.
    for (const key of ["State", "Wantstate", "Interface", "Virtual Router ID", "Gratuitous ARP delay", "Last transition"]) {
      expect(kept.filter((l) => l.startsWith(`   ${key} = `)).length).toBe(3);
    }
  });

  it("an instance lbctl has no report for yet is INIT (keepalived has no UNKNOWN state)", () => {
    const i = input("a");
    i.status.vrrp.instances[0] = { ...i.status.vrrp.instances[0]!, state: "UNKNOWN" };
    const text = formatKeepalivedData(i);
    expect(text).toContain(" VRRP Instance = VI_1\n   VRRP Version = 2\n   Sync group = SG_1\n   State = INIT\n");
    expect(text).not.toContain("UNKNOWN");
  });

  it("a VRRPv2 backup names its master but has no master advert interval (v3 only)", () => {
    const text = formatKeepalivedData(input("b"));
    const vi1 = text.split(" VRRP Instance = ")[1]!;
    expect(vi1).toContain("   State = BACKUP\n   Master router = 192.0.2.1\n   Master priority = 150\n   Flags: none\n");
    expect(vi1).not.toContain("Master advert");
  });

  it("a sync group is FAULT when one member is, MASTER only when all are", () => {
    const m = (state: VrrpInstanceV1["state"]) => ({ ...fixtureStatus("a").vrrp.instances[0]!, state });
    expect(syncGroupState([m("MASTER"), m("MASTER")])).toBe("MASTER");
    expect(syncGroupState([m("MASTER"), m("BACKUP")])).toBe("BACKUP");
    expect(syncGroupState([m("MASTER"), m("FAULT")])).toBe("FAULT");
    expect(syncGroupState([m("UNKNOWN")])).toBe("INIT");
  });

  it("formats times and timers as keepalived does", () => {
    expect(timeWithCtime(1795667979062.820)).toBe("1795667979.062820 (Thu Nov 26 04:39:39.062820 2026)");
    expect(timeWithCtime(1795667979000)).toBe("1795667979.000000 (Thu Nov 26 04:39:39.000000 2026)");
    expect(masterDownUs(1_000_000, 150)).toBe(3414062);
    expect(masterDownUs(500_000, 120)).toBe(1765625);
  });

  it("lists tracking as keepalived keeps it: not the own interface, not weighted tracks of sync group members", () => {
    const config = loadConfigText(`track_file tf {
  file /tmp/x
  weight -20
}
vrrp_instance ALONE {
  interface eth0
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    10.0.0.9
  }
  track_interface {
    eth0
    eth1 weight -10
  }
  track_file {
    tf weight 5 reverse
  }
}
`, "t.conf").effective;
    const i = input("a");
    const inst = { ...i.status.vrrp.instances[0]!, name: "ALONE", interface: "eth0", vrid: 9, basePriority: 100, effectivePriority: 100 };
    const text = formatKeepalivedData({ ...i, config, status: { ...i.status, vrrp: { ...i.status.vrrp, instances: [inst] } } });
    // track_file.c dump_track_file_monitor prints the file's name; vrrp_track.c the interface's.
    expect(text).toContain("   Tracked interfaces :\n     eth1 weight -10\n   Tracked files :\n     tf, weight 5 reverse\n   Using smtp notification = no\n");
    // In node a's sync group, VI_1's own-interface and weighted file tracking are gone, as in keepalived's dump.
    expect(formatKeepalivedData(input("a"))).not.toContain("Tracked");
  });

  it("formats virtual addresses as format_ipaddress does", () => {
    const base = { home: false, nodad: false, mngtmpaddr: false, noprefixroute: false, autojoin: false, no_track: false, use_vmac: false };
    expect(vipText({ ...base, address: "10.0.0.1", family: 4, prefix: 32 }, "eth0", false)).toBe("10.0.0.1 dev eth0 scope global");
    expect(vipText({ ...base, address: "10.0.0.1", family: 4, prefix: 24, brd: "+", label: "eth0:1" }, "eth0", true))
      .toBe("10.0.0.1/24 brd 10.0.0.255 dev eth0 scope global label eth0:1 set");
    expect(vipText({ ...base, address: "2001:db8::1", family: 6, prefix: 128 }, "eth0", false)).toBe("2001:db8::1 dev eth0 scope global deprecated");
  });
});

describe("keepalived.stats (SIGUSR2)", () => {
  for (const node of ["a", "b"] as const) {
    it(`node ${node}: byte for byte what keepalived 2.2.7 wrote`, () => {
      expect(formatKeepalivedStats(input(node).status)).toBe(fixture(`node-${node}.keepalived.stats`));
    });
  }

  it("prints lbctl's counters under keepalived's names", () => {
    const s = input("a").status;
    s.vrrp.instances[0]!.counters = { ...s.vrrp.instances[0]!.counters, authTypeMismatch: 7, priorityZeroPktsSent: 2, ipTtlErrors: 3 };
    const text = formatKeepalivedStats(s);
    expect(text).toContain("  Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 7\n");
    expect(text).toContain("  Priority Zero:\n    Received: 0\n    Sent: 2\n");
    expect(text).toContain("    Length: 0\n    TTL: 3\n");
  });
});

describe("keepalived.json (keepalived --signum=JSON)", () => {
  for (const node of ["a", "b"] as const) {
    it(`node ${node}: byte for byte what keepalived 2.2.7 wrote (wantstate aside)`, () => {
      const ours = formatKeepalivedJson(input(node));
      const theirs = fixture(`node-${node}.keepalived.json`);
      const norm = (t: string) => (JSON.parse(t) as { data: Record<string, unknown> }[]).map((e) => ({ ...e, data: { ...e.data, wantstate: null } }));
      expect(norm(ours)).toEqual(norm(theirs));
      // Same text too (key order, number formats, "\/"), apart from that one value.
      expect(ours.replace(/"wantstate":\d+/g, "")).toBe(theirs.replace(/"wantstate":\d+/g, ""));
    });
  }
});

describe("keepalived_check.data (checker SIGUSR1)", () => {
  // keepalived's checker cannot run here (no IPVS in this kernel), so these lines follow the 2.2.7
  // source: check/check_data.c dump_vs, dump_rs, dump_forwarding_method; check_api.c dump_checker.
  const conf = `global_defs {
  router_id lb1
}
virtual_server 192.0.2.100 80 {
  delay_loop 6
  lvs_sched rr
  lvs_method DR
  protocol TCP
  quorum 1
  real_server 10.1.0.2 8080 {
    weight 3
    TCP_CHECK {
      connect_timeout 2
    }
  }
  real_server 10.1.0.3 8080 {
    lvs_method TUN
    weight 1
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`;
  const status: StatusV1 = {
    ...fixtureStatus("a"),
    virtualServers: [{
      key: "TCP 192.0.2.100:80", protocol: "TCP", address: "192.0.2.100", port: 80, fwmark: null, scheduler: "rr",
      quorumUp: true, sorryServerActive: false, stats: null,
      realServers: [
        { key: "10.1.0.2:8080", address: "10.1.0.2", port: 8080, health: "up", reason: null, weight: 3, effectiveWeight: 3, drained: false, activeConns: 0, inactiveConns: 0, stats: null,
          checkers: [{ id: "0", type: "TCP_CHECK", up: true, enabled: true, lastResult: { at: 1.8e12, ok: true, reason: "", latencyMs: 1 }, successes: 1, failures: 0, latency: null }] },
        { key: "10.1.0.3:8080", address: "10.1.0.3", port: 8080, health: "down", reason: "refused", weight: 1, effectiveWeight: 0, drained: false, activeConns: 0, inactiveConns: 0, stats: null,
          checkers: [{ id: "0", type: "TCP_CHECK", up: false, enabled: true, lastResult: null, successes: 0, failures: 3, latency: null }] },
      ],
    }],
  };

  it("has dump_vs / dump_rs / dump_checker's lines, values from the configuration and the checker's status", () => {
    const config = loadConfigText(conf, "lvs.conf").effective;
    const text = formatKeepalivedCheckData({ status, config, hostname: "h" });
    const lvs = text.slice(text.indexOf("------< LVS Topology >------"));
    expect(lvs.split("\n")).toEqual([
      "------< LVS Topology >------",
      " System is compiled with LVS v1.2.1",
      " ------< Virtual server >------",
      " VS VIP = 192.0.2.100, VPORT = 80",
      "   Address family = inet",
      "   connection timeout = 5.000000",
      "   delay_loop = 6.000000",
      "   lvs_sched = rr",
      "   Hashed = disabled",
      "   flag-1 = disabled",
      "   flag-2 = disabled",
      "   flag-3 = disabled",
      "   One packet scheduling = disabled",
      "   protocol = TCP",
      "   alpha is OFF",
      "   omega is OFF",
      "   Inhibit on failure is OFF",
      "   quorum = 1, hysteresis = 0",
      "   Using smtp notification = no",
      "   default forwarding method = DR",
      "   alive = 1",
      "   quorum_state_up = 1",
      "   reloaded = 0",
      "   ------< Real server >------",
      "   RIP = 10.1.0.2, RPORT = 8080, WEIGHT = 3 EFF WEIGHT = 3",
      "   forwarding method = DR",
      "   Alpha is OFF",
      "   connection timeout = 5.000000",
      "   connection limit range = 0 -> 0",
      "   Delay loop = 6.000000",
      "   Inhibit on failure is OFF",
      "   Using smtp notification = yes",
      "   initial weight = 3",
      "   effective weight = 3",
      "   previous effective_weight = 3",
      "   alive = 1",
      "   num failed checkers = 0",
      "   RS set = 1",
      "   reloaded = 0",
      "   ------< Real server >------",
      "   RIP = 10.1.0.3, RPORT = 8080, WEIGHT = 0 EFF WEIGHT = 0",
      "   forwarding method = TUN, type = IPIP",
      "   Alpha is OFF",
      "   connection timeout = 5.000000",
      "   connection limit range = 0 -> 0",
      "   Delay loop = 6.000000",
      "   Inhibit on failure is ON",
      "   Using smtp notification = yes",
      "   initial weight = 1",
      "   effective weight = 0",
      "   previous effective_weight = 0",
      "   alive = 0",
      "   num failed checkers = 1",
      "   RS set = 1",
      "   reloaded = 0",
      "------< Health checkers >------",
      " [192.0.2.100]:tcp:80 -> [10.1.0.2]:tcp:8080",
      "   Enabled = yes",
      "   Up = yes",
      "   Has run = yes",
      "   Keepalive method = TCP_CHECK",
      " [192.0.2.100]:tcp:80 -> [10.1.0.3]:tcp:8080",
      "   Enabled = yes",
      "   Up = no",
      "   Has run = no",
      "   Keepalive method = TCP_CHECK",
      "",
    ]);
    // The checker process's global section has no VRRP default interface line.
    expect(text.startsWith("------< Global definitions >------\n")).toBe(true);
    expect(text).not.toContain("Default interface");
  });
});

// node-strict.*: keepalived 2.2.7 (`-P`, in a namespace) with vrrp_strict, a track script whose file
// does not exist, and instance keywords strict mode resets (lower_prio_no_advert false, garp_lower_prio_repeat,
// accept on v2; PASS authentication), a unicast instance with check_unicast_src, a v3 instance with accept.
describe("vrrp_strict and a disabled track script, as keepalived 2.2.7 dumped them", () => {
  const missing = "/usr/local/bin/does-not-exist.sh";
  const strictInput = (): DumpInput => {
    const config = fixtureConfig("strict");
    const model = resolveVrrp(config, { fileExists: (p) => p !== missing, isExecutable: () => true, userExists: () => false });
    return { status: fixtureStatus("strict"), config, hostname: "unused", ifindex: fixtureIfindex("strict"), model };
  };
  // The nftables lines (global section, `nftable_set` on VIPs) are the firewall's, not this model's.
  const topology = (text: string) => text.slice(text.indexOf("------< VRRP Topology >------")).replace(/ nftable_set$/gm, "");

  it("keepalived.data: every instance line for line", () => {
    const ours = topology(withoutUnknowable(formatKeepalivedData(strictInput())));
    const theirs = topology(withoutUnknowable(fixture("node-strict.keepalived.data")));
    expect(ours.split("\n")).toEqual(theirs.split("\n"));
  });

  it("keepalived.json: the same values (nftable_set aside)", () => {
    const norm = (t: string) => JSON.parse(t.replace(/ nftable_set"/g, '"')) as unknown;
    expect(norm(formatKeepalivedJson(strictInput()))).toEqual(norm(fixture("node-strict.keepalived.json")));
  });
});
