// The checker child's pure mapping: effective config -> health model, checkers, IPVS table.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { desiredDests, initVirtualServer, onCheckerVerdict, type VirtualServerConfig } from "../../src/check/vs-state.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { checkMapping, expandRange, ipvsServices, newMappingCache, type CheckMapping, type MappedVirtualServer } from "../../src/daemon/check-config.ts";
import { insecureScript } from "../../src/util/script-security.ts";
import { IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2 } from "../../src/ipvs/types.ts";

const look = { user: (u: string) => (u === "nobody" ? { uid: 65534, gid: 65534 } : undefined), hostname: "lbt-host" };

function mapText(text: string): CheckMapping {
  const loaded = loadConfigText(text, "test.conf");
  expect(loaded.diag.hasErrors, JSON.stringify(loaded.diag)).toBe(false);
  return checkMapping(loaded.effective, look);
}

/** The scheduler fills the real servers' checker lists from the checkers; do the same for initial state. */
function withCheckers(m: CheckMapping, vs: MappedVirtualServer): VirtualServerConfig {
  return {
    ...vs.health,
    realServers: vs.health.realServers.map((rs) => ({
      ...rs, checkers: m.checkers.filter((c) => c.vsKey === vs.key && c.rs === `${rs.addr}:${rs.port}`).map((c) => ({ id: c.id, startsUp: !c.policy.alpha })),
    })),
  };
}

function initialTable(m: CheckMapping, vs: MappedVirtualServer, drained?: Set<string>) {
  const cfg = withCheckers(m, vs);
  return ipvsServices(vs, desiredDests(cfg, initVirtualServer(cfg).state), drained);
}

describe("the seed configuration", () => {
  const m = mapText(readFileSync("test/fixtures/seed-keepalived.conf", "utf8"));

  it("maps both DR services with wrr and persistence 1", () => {
    expect(m.problems).toEqual([]);
    expect(m.virtualServers.map((v) => v.key)).toEqual(["TCP 192.168.26.34:9999", "TCP 192.168.26.34:3306"]);
    for (const [i, port] of [9999, 3306].entries()) {
      const table = initialTable(m, m.virtualServers[i]!);
      expect(table).toEqual([{
        service: {
          key: { kind: "addr", family: "ipv4", protocol: "tcp", address: "192.168.26.34", port },
          scheduler: "wrr", flags: IP_VS_SVC_F_PERSISTENT, timeout: 1, netmask: 32, peName: "",
        },
        dests: ["192.168.26.36", "192.168.26.54"].map((address) => ({
          family: "ipv4", address, port, method: "droute", weight: 1, upperThreshold: 0, lowerThreshold: 0,
        })),
      }]);
    }
  });

  it("maps every TCP_CHECK with nb_get_retry 3 -> retry 3, connect_timeout 10, delay_before_retry 3, delay_loop 6", () => {
    expect(m.checkers).toHaveLength(4);
    for (const c of m.checkers) {
      expect(c.spec.kind).toBe("TCP_CHECK");
      expect(c.policy).toEqual({ retry: 3, delayLoopMs: 6000, delayBeforeRetryMs: 3000, warmupMs: 6000, alpha: false, logAllFailures: false });
      if (c.spec.kind !== "TCP_CHECK") continue;
      expect(c.spec.params.connectTimeoutMs).toBe(10_000);
      expect(c.spec.params.connectIp).toBe(c.rs.split(":")[0]);
      expect(String(c.spec.params.connectPort)).toBe(c.rs.split(":")[1]);
    }
  });
});

describe("virtual server settings", () => {
  it("sets scheduler flags, one-packet scheduling (UDP only), granularity and the persistence engine", () => {
    const m = mapText(`
virtual_server 10.0.0.1 5060 {
  protocol UDP
  lvs_sched sh
  sh-port
  sh-fallback
  ops
  persistence_timeout
  persistence_granularity 255.255.255.0
  persistence_engine sip
  real_server 10.0.1.1 5060 { }
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  ops
  real_server 10.0.1.1 80 { }
}`);
    const [udp, tcp] = m.virtualServers.map((v) => initialTable(m, v)[0]!.service);
    expect(udp).toEqual({
      key: { kind: "addr", family: "ipv4", protocol: "udp", address: "10.0.0.1", port: 5060 },
      scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2,
      timeout: 360, netmask: 24, peName: "sip",
    });
    expect(tcp!.flags).toBe(0);
    expect(tcp!.scheduler).toBe("wlc");
  });

  it("maps NAT, DR and TUN (gue with checksum) destinations with thresholds", () => {
    const m = mapText(`
virtual_server fwmark 7 {
  lvs_method DR
  real_server 10.0.1.1 80 {
    weight 3
    uthreshold 100
    lthreshold 10
  }
  real_server 10.0.1.2 80 { lvs_method NAT }
  real_server 10.0.1.3 80 { lvs_method TUN type gue port 6080 csum }
}`);
    const vs = m.virtualServers[0]!;
    expect(vs.key).toBe("FWM 7");
    const [svc] = initialTable(m, vs);
    expect(svc!.service.key).toEqual({ kind: "fwmark", family: "ipv4", fwmark: 7 });
    expect(svc!.dests.map((d) => [d.address, d.method, d.weight, d.upperThreshold, d.lowerThreshold, d.tunnel])).toEqual([
      ["10.0.1.1", "droute", 3, 100, 10, undefined],
      ["10.0.1.2", "masq", 1, 0, 0, undefined],
      ["10.0.1.3", "tunnel", 1, 0, 0, { type: "gue", port: 6080, flags: 1 }],
    ]);
  });
});

describe("virtual_server_group", () => {
  it("expands addresses, ranges and fwmarks into one service each, all with the same destinations", () => {
    const m = mapText(`
virtual_server_group G {
  10.0.0.1 8080
  192.168.200.3-5 80
  fwmark 2
}
virtual_server group G {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 192.168.201.1 80 { weight 2 }
}`);
    const vs = m.virtualServers[0]!;
    expect(vs.key).toBe("TCP group G");
    const table = initialTable(m, vs);
    expect(table.map((s) => s.service.key)).toEqual([
      { kind: "addr", family: "ipv4", protocol: "tcp", address: "10.0.0.1", port: 8080 },
      { kind: "addr", family: "ipv4", protocol: "tcp", address: "192.168.200.3", port: 80 },
      { kind: "addr", family: "ipv4", protocol: "tcp", address: "192.168.200.4", port: 80 },
      { kind: "addr", family: "ipv4", protocol: "tcp", address: "192.168.200.5", port: 80 },
      { kind: "fwmark", family: "ipv4", fwmark: 2 },
    ]);
    for (const s of table) expect(s.dests.map((d) => `${d.address}:${d.port} w${d.weight}`)).toEqual(["192.168.201.1:80 w2"]);
  });

  it("expands IPv6 ranges on the last group", () => {
    expect(expandRange("2001:db8::a-c")).toEqual(["2001:db8::a", "2001:db8::b", "2001:db8::c"]);
    expect(expandRange("10.0.0.254-10.0.1.1")).toEqual(["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
  });

  it("reports a group that does not exist instead of programming anything", () => {
    const loaded = loadConfigText("virtual_server group NOPE {\n real_server 10.0.0.1 80 { }\n}\n", "t.conf");
    const m = checkMapping(loaded.effective, look);
    expect(m.virtualServers[0]!.services).toEqual([]);
    expect(m.problems.join("\n")).toContain("unknown virtual_server_group 'NOPE'");
  });
});

describe("health -> destinations", () => {
  const text = (extra: string) => `
virtual_server 10.0.0.1 80 {
  lvs_method NAT
  protocol TCP
  ${extra}
  real_server 10.0.1.1 80 {
    TCP_CHECK { connect_timeout 1 }
  }
  real_server 10.0.1.2 80 {
    weight 2
    TCP_CHECK { connect_timeout 1 }
  }
}`;

  function afterDown(m: CheckMapping, vs: MappedVirtualServer, rs: string[]) {
    const cfg = withCheckers(m, vs);
    let st = initVirtualServer(cfg).state;
    for (const key of rs) {
      const id = m.checkers.find((c) => c.rs === key)!.id;
      st = onCheckerVerdict(cfg, st, key, id, false, { reason: "test" }).state;
    }
    return ipvsServices(vs, desiredDests(cfg, st))[0]!.dests.map((d) => `${d.address}:${d.port} w${d.weight}`);
  }

  it("removes a failed real server", () => {
    const m = mapText(text(""));
    expect(afterDown(m, m.virtualServers[0]!, ["10.0.1.1:80"])).toEqual(["10.0.1.2:80 w2"]);
  });

  it("keeps a failed real server at weight 0 with inhibit_on_failure", () => {
    const m = mapText(text("inhibit_on_failure"));
    expect(afterDown(m, m.virtualServers[0]!, ["10.0.1.1:80"])).toEqual(["10.0.1.1:80 w0", "10.0.1.2:80 w2"]);
  });

  it("puts the sorry server (its own forwarding method, the service's port) in when the quorum is lost, and only then", () => {
    const m = mapText(text("sorry_server 10.0.9.9\n  sorry_server_lvs_method DR"));
    const vs = m.virtualServers[0]!;
    expect(vs.dests["10.0.9.9:80"]).toMatchObject({ method: "droute", port: 80 });
    expect(afterDown(m, vs, ["10.0.1.1:80"])).toEqual(["10.0.1.2:80 w2"]);
    expect(afterDown(m, vs, ["10.0.1.1:80", "10.0.1.2:80"])).toEqual(["10.0.9.9:80 w1"]);
  });

  it("keeps an unneeded sorry server at weight 0 with sorry_server_inhibit", () => {
    const m = mapText(text("sorry_server 10.0.9.9 8080\n  sorry_server_inhibit"));
    expect(initialTable(m, m.virtualServers[0]!)[0]!.dests.map((d) => `${d.address}:${d.port} w${d.weight}`))
      .toEqual(["10.0.1.1:80 w1", "10.0.1.2:80 w2", "10.0.9.9:8080 w0"]);
  });

  it("gives a drained real server weight 0 and leaves the others alone", () => {
    const m = mapText(text(""));
    const table = initialTable(m, m.virtualServers[0]!, new Set(["10.0.1.2:80"]));
    expect(table[0]!.dests.map((d) => `${d.address}:${d.port} w${d.weight}`)).toEqual(["10.0.1.1:80 w1", "10.0.1.2:80 w0"]);
  });

  it("starts alpha real servers out of the table", () => {
    const m = mapText(text("alpha"));
    expect(initialTable(m, m.virtualServers[0]!)[0]!.dests).toEqual([]);
  });
});

describe("checker parameters", () => {
  it("inherits connect_ip/port, falls back url -> real server -> virtual server for virtualhost, and maps MISC_CHECK users", () => {
    const m = mapText(`
SSL {
  ca /etc/ssl/certs/ca-certificates.crt
}
virtual_server 10.0.0.1 443 {
  virtualhost vs.example
  delay_loop 2
  real_server 10.0.1.1 8443 {
    SSL_GET {
      url { path /a }
      url {
        path /b
        virtualhost url.example
        status_code 200 301-302
      }
      enable_sni
    }
  }
  real_server 10.0.1.2 8443 {
    virtualhost rs.example
    HTTP_GET {
      url {
        path /c
        digest 640205b7b0fc66c1ea91c463fac6334d
      }
      connect_port 80
      retry 2
    }
    MISC_CHECK {
      misc_path "/bin/true x"
      user nobody
      misc_dynamic
    }
  }
}`);
    const [ssl, http, misc] = m.checkers;
    expect(ssl!.spec).toMatchObject({
      kind: "SSL_GET",
      params: {
        connectIp: "10.0.1.1", connectPort: 8443, tls: true, enableSni: true, tlsOptions: { ca: "/etc/ssl/certs/ca-certificates.crt" },
        urls: [{ path: "/a", virtualhost: "vs.example" }, { path: "/b", virtualhost: "url.example", statusCodes: [{ from: 200, to: 200 }, { from: 301, to: 302 }] }],
      },
    });
    expect(ssl!.policy).toMatchObject({ retry: 1, delayLoopMs: 2000, delayBeforeRetryMs: 3000 });
    expect(http!.spec).toMatchObject({ kind: "HTTP_GET", params: { connectIp: "10.0.1.2", connectPort: 80, tls: false, urls: [{ path: "/c", virtualhost: "rs.example", digest: "640205b7b0fc66c1ea91c463fac6334d" }] } });
    expect(http!.policy.retry).toBe(2);
    expect(misc!.spec).toEqual({ kind: "MISC_CHECK", params: { path: "/bin/true x", timeoutMs: 2000, dynamic: true, uid: 65534, gid: 65534 } });
    expect(misc!.policy.retry).toBe(0);
    expect(new Set(m.checkers.map((c) => c.id)).size).toBe(3);
  });

  it("reports a checker of a portless fwmark service without connect_port instead of running it", () => {
    // The config layer reports it too; the mapping must not run it whatever reaches it.
    const m = checkMapping(loadConfigText("virtual_server fwmark 3 {\n real_server 10.0.1.1 { TCP_CHECK { } }\n}\n", "t.conf").effective, look);
    expect(m.checkers).toEqual([]);
    expect(m.problems.join("\n")).toContain("no connect_port");
  });

  it("maps UDP_CHECK payload and require_reply with don't-care digits", () => {
    const m = mapText("virtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.1.1 53 {\n  UDP_CHECK {\n   payload 0a0b\n   require_reply 1x2x\n  }\n }\n}\n");
    const spec = m.checkers[0]!.spec;
    expect(spec.kind).toBe("UDP_CHECK");
    if (spec.kind !== "UDP_CHECK") return;
    expect([...spec.params.payload!]).toEqual([0x0a, 0x0b]);
    expect(spec.params.requireReply).toBe(true);
    expect([...spec.params.replyData!]).toEqual([0x10, 0x20]);
    expect([...spec.params.replyMask!]).toEqual([0x0f, 0x0f]);
  });
});

describe("enable_script_security for notify scripts run as root", () => {
  const root = (mode: number, gid = 0) => ({ uid: 0, gid, mode });
  const tree: Record<string, { uid: number; gid: number; mode: number }> = {
    "/": root(0o40755), "/usr": root(0o40755), "/usr/bin": root(0o40755),
    "/usr/bin/ok.sh": root(0o100755), "/usr/bin/rootgroup.sh": root(0o100775), "/usr/bin/mine.sh": { uid: 1000, gid: 1000, mode: 0o100755 },
    "/tmp": root(0o41777), "/tmp/x.sh": root(0o100755), "/usr/bin/gw.sh": root(0o100775, 50),
  };
  const stat = (p: string) => tree[p];

  it("accepts a script whose whole path only root can change", () => {
    expect(insecureScript("/usr/bin/ok.sh", stat)).toBeUndefined();
    expect(insecureScript("/usr/bin/rootgroup.sh", stat)).toBeUndefined();
  });

  it("refuses a script another user owns, one writable by a non-root group, one in a world-writable directory, a relative or missing one", () => {
    expect(insecureScript("/usr/bin/mine.sh", stat)).toContain("/usr/bin/mine.sh");
    expect(insecureScript("/usr/bin/gw.sh", stat)).toContain("/usr/bin/gw.sh");
    expect(insecureScript("/tmp/x.sh", stat)).toContain("/tmp is writable");
    expect(insecureScript("x.sh", stat)).toContain("not an absolute path");
    expect(insecureScript("/usr/bin/none.sh", stat)).toContain("not found");
  });
});

describe("checkMapping reuse across reloads", () => {
  const vsBlock = (vip: string, port: number, extra = "") => `virtual_server ${vip} 80 {
  delay_loop 3
  protocol TCP
  real_server 10.0.0.1 ${port} {
    TCP_CHECK {
      connect_timeout 2
    }
  }${extra}
}
`;
  const effective = (text: string) => loadConfigText(text, "k.conf").effective;

  it("maps an unchanged virtual server to the very same objects; a changed one, or any change around them, anew", () => {
    const cache = newMappingCache();
    const first = checkMapping(effective(vsBlock("10.1.0.1", 80) + vsBlock("10.1.0.2", 80)), look, cache);
    // A reload parses anew: new objects, one block changed.
    const second = checkMapping(effective(vsBlock("10.1.0.1", 80) + vsBlock("10.1.0.2", 81)), look, cache);
    expect(second.virtualServers[0]).toBe(first.virtualServers[0]);
    expect(second.checkers[0]).toBe(first.checkers[0]);
    expect(second.virtualServers[1]).not.toBe(first.virtualServers[1]);
    expect(second.checkers[1]!.spec).toMatchObject({ kind: "TCP_CHECK", params: { connectPort: 81 } });
    // Reused or not, the result is what a mapping from scratch gives.
    expect(JSON.stringify(second)).toEqual(JSON.stringify(checkMapping(effective(vsBlock("10.1.0.1", 80) + vsBlock("10.1.0.2", 81)), look)));
    // global_defs (read by every checker's mapping) changed: nothing is reused.
    const third = checkMapping(effective(`global_defs {\n  checker_log_all_failures\n}\n${vsBlock("10.1.0.1", 80)}`), look, cache);
    expect(third.virtualServers[0]).not.toBe(second.virtualServers[0]);
    expect(third.checkers[0]!.policy.logAllFailures).toBe(true);
  });

  it("never reuses a virtual server whose checkers read the system (MISC_CHECK's user)", () => {
    const misc = vsBlock("10.1.0.3", 80).replace("TCP_CHECK {\n      connect_timeout 2\n    }", "MISC_CHECK {\n      misc_path /bin/true\n      user nobody\n    }");
    const cache = newMappingCache();
    const first = checkMapping(effective(misc), look, cache);
    const second = checkMapping(effective(misc), look, cache);
    expect(second.virtualServers[0]).not.toBe(first.virtualServers[0]);
    expect(second.checkers[0]!.spec).toMatchObject({ kind: "MISC_CHECK", params: { uid: 65534 } });
  });
});
