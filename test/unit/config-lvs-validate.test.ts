import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/config/diagnostics.ts";
import type { CheckEnv } from "../../src/config/env.ts";
import { validateLvs } from "../../src/config/validate-lvs.ts";
import { at, parseConf } from "./config-lvs-conf.ts";

interface FakeMachine { files?: string[]; executables?: string[]; users?: string[] }
function fakeEnv(m: FakeMachine = {}): CheckEnv {
  const files = new Set([...(m.files ?? []), ...(m.executables ?? [])]);
  return {
    fileExists: (p) => files.has(p),
    isExecutable: (p) => (m.executables ?? []).includes(p),
    userExists: (u) => (m.users ?? ["root"]).includes(u),
    hostname: "lb1",
  };
}

/** Parses (which must be clean) and returns only what validateLvs adds. */
function check(text: string, machine?: FakeMachine): Diagnostic[] {
  const { eff, diag } = parseConf(text);
  expect(diag.list.filter((d) => !d.message.startsWith("unknown keyword"))).toEqual([]);
  const before = diag.list.length;
  validateLvs(eff, fakeEnv(machine), diag);
  return diag.list.slice(before);
}
const messages = (text: string, machine?: FakeMachine) => check(text, machine).map((d) => `${d.severity}: ${d.message}`);

/** A clean TCP service around `body` (real servers, extra settings). */
const tcp = (body: string, head = "10.0.0.1 80") => `virtual_server ${head} {\n  protocol TCP\n${body}\n}\n`;
const rs = (head = "10.0.0.2 80", inner = "") => `  real_server ${head} {\n${inner}\n  }\n`;

describe("validateLvs", () => {
  it("accepts a correct configuration", () => {
    expect(messages(tcp(rs() + rs("10.0.0.3 80", "TCP_CHECK {\n}")))).toEqual([]);
  });

  it("1. a group that no virtual_server_group defines", () => {
    const d = check(tcp(rs("10.0.0.2 80"), "group WEB"));
    expect(d).toEqual([{ severity: "error", message: "virtual_server group WEB: no virtual_server_group named 'WEB'", loc: at(1, 22) }]);
  });

  it("2. the same service twice", () => {
    const d = check(tcp(rs()) + tcp(rs()) + `virtual_server 10.0.0.1 80 {\n protocol UDP\n${rs()}}\n`);
    expect(d).toEqual([{ severity: "error", message: "virtual_server 10.0.0.1:80 (TCP) is defined twice; first at t.conf:1", loc: at(8, 1) }]);
  });

  it("3. the same real server twice", () => {
    expect(messages(tcp(rs() + rs("10.0.0.2")))).toEqual(["error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80 is defined twice"]);
  });

  it("4. real or sorry server of the other address family (unless tunnelled)", () => {
    expect(messages(tcp("  sorry_server 2001:db8::9 80\n" + rs("2001:db8::2 80") + rs("2001:db8::3 80", "lvs_method TUN")))).toEqual([
      "error: virtual_server 10.0.0.1:80: sorry_server 2001:db8::9 is IPv6 but the service is IPv4; only TUN servers may differ",
      "error: virtual_server 10.0.0.1:80: real_server [2001:db8::2]:80 is IPv6 but the service is IPv4; only TUN servers may differ",
    ]);
  });

  it("5. DR/TUN real server on another port, and a port on a DR fwmark service", () => {
    const d = check(tcp("  lvs_method DR\n" + rs("10.0.0.2 8080")) + `virtual_server fwmark 3 {\n lvs_method TUN\n${rs("10.0.0.5 80")}}\n`);
    expect(d).toEqual([
      { severity: "warning", message: "virtual_server 10.0.0.1:80: real_server 10.0.0.2:8080 port 8080 differs from the service port 80; DR cannot change ports, keepalived resets it to 80", loc: at(4, 24) },
      { severity: "warning", message: "virtual_server fwmark 3: real_server 10.0.0.5:80 has port 80, which a TUN fwmark service ignores", loc: at(11, 24) },
    ]);
  });

  it("6. persistence_granularity without persistence_timeout, and of the wrong form", () => {
    expect(messages(tcp("  persistence_granularity 64\n" + rs()))).toEqual([
      "warning: virtual_server 10.0.0.1:80: 'persistence_granularity' without 'persistence_timeout' makes the service persistent for 360 seconds",
      "error: virtual_server 10.0.0.1:80: persistence_granularity '64' must be a netmask for an IPv4 service",
    ]);
  });

  it("7. ha_suspend without a VRRP instance holding the address, or on a fwmark service", () => {
    const d = check(tcp("  ha_suspend\n" + rs()) + `virtual_server fwmark 9 {\n ha_suspend\n${rs("10.0.0.5")}}\n`);
    expect(d).toEqual([
      { severity: "warning", message: "virtual_server 10.0.0.1:80: ha_suspend, but no vrrp_instance holds 10.0.0.1; its checkers stay suspended unless the address is configured here by other means", loc: at(3, 3) },
      { severity: "warning", message: "virtual_server fwmark 9: ha_suspend cannot be used with fwmarks and is ignored", loc: at(10, 2) },
    ]);
  });

  it("8. MISC_CHECK and notify scripts that are missing or not executable, and unknown users", () => {
    const conf = tcp("  quorum_up /usr/bin/up.sh\n" + rs("10.0.0.2 80", `notify_up "/usr/bin/notify.sh up" ghost
MISC_CHECK {
  misc_path "/usr/bin/check.sh 10.0.0.2"
  user nobody
}
MISC_CHECK {
  misc_path "check-in-path arg"
}`));
    expect(check(conf, { files: ["/usr/bin/up.sh"], executables: ["/usr/bin/notify.sh"] }).map((d) => [d.message, d.loc?.line])).toEqual([
      ["virtual_server 10.0.0.1:80: quorum_up: script '/usr/bin/up.sh' is not executable", 3],
      ["virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: notify_up user 'ghost' does not exist", 5],
      ["virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: MISC_CHECK: script '/usr/bin/check.sh' does not exist", 7],
      ["virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: MISC_CHECK: user 'nobody' does not exist", 8],
    ]);
  });

  it("9. quorum above the total weight, and hysteresis not below quorum", () => {
    expect(messages(tcp("  quorum 5\n  hysteresis 5\n" + rs("10.0.0.2 80", "weight 2") + rs("10.0.0.3 80")))).toEqual([
      "warning: virtual_server 10.0.0.1:80: quorum 5 exceeds the total weight 3 of its real servers and can never be reached",
      "warning: virtual_server 10.0.0.1:80: hysteresis 5 must be below quorum 5",
    ]);
  });

  it("10. a checker with no port to connect to on a fwmark service", () => {
    const d = check(`virtual_server fwmark 1 {\n${rs("10.0.0.2", "TCP_CHECK {\n}\nHTTP_GET {\nconnect_port 80\nurl {\npath /\n}\n}\nPING_CHECK {\n}\nDNS_CHECK {\n}")}}\n`);
    expect(d).toEqual([
      { severity: "error", message: "virtual_server fwmark 1: real_server 10.0.0.2: TCP_CHECK: no port to connect to (the fwmark service has none); set connect_port", loc: at(3, 1) },
      { severity: "error", message: "virtual_server fwmark 1: real_server 10.0.0.2: DNS_CHECK: no port to connect to (the fwmark service has none); set connect_port", loc: at(13, 1) },
    ]);
  });

  it("11. scheduler flags for another scheduler", () => {
    expect(messages(tcp("  lvs_sched rr\n  sh-port\n  mh-fallback\n" + rs()))).toEqual([
      "warning: virtual_server 10.0.0.1:80: 'sh-port' only applies to the sh scheduler; ignored with rr",
      "warning: virtual_server 10.0.0.1:80: 'mh-fallback' only applies to the mh scheduler; ignored with rr",
    ]);
  });

  it("12. one-packet scheduling on TCP, protocol on fwmark, no protocol, no port", () => {
    const text = tcp("  ops\n" + rs()) + `virtual_server fwmark 2 {\n protocol TCP\n${rs("10.0.0.2")}}\nvirtual_server 10.0.0.9 {\n${rs("10.0.0.2")}}\n`;
    expect(messages(text)).toEqual([
      "warning: virtual_server 10.0.0.1:80: 'ops' (one-packet scheduling) requires UDP; ignored for TCP",
      "warning: virtual_server fwmark 2: 'protocol' is ignored for fwmark services",
      "warning: virtual_server 10.0.0.9: no protocol set; keepalived 2.2.7 defaults to UDP, set 'protocol TCP' if that is meant",
      "warning: virtual_server 10.0.0.9: a service without a port must be persistent; keepalived makes it persistent for 360 seconds",
    ]);
  });

  it("13. a virtual server without real servers, and an empty or ambiguous group", () => {
    const text = "virtual_server_group EMPTY {\n}\nvirtual_server_group MIX {\n 10.0.0.1 80\n 2001:db8::1 80\n fwmark 4\n}\n" + tcp("");
    expect(messages(text)).toEqual([
      "warning: virtual_server_group EMPTY has no entries and is ignored",
      "error: virtual_server_group MIX mixes IPv4 and IPv6 addresses, so each fwmark needs a family (inet or inet6)",
      "warning: virtual_server 10.0.0.1:80 has no real servers and is ignored",
    ]);
  });

  it("14. HTTP checkers without urls or paths, regex settings without regex, enable_sni on HTTP", () => {
    const text = tcp(rs("10.0.0.2 80", `HTTP_GET {
  enable_sni
}
SSL_GET {
  url {
    status_code 200
  }
  url {
    path /a
    regex_no_match
  }
  url {
    path /b
    regex ok
    regex_min_offset 9
    regex_max_offset 3
  }
}`));
    expect(messages(text)).toEqual([
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: HTTP_GET: 'enable_sni' has no effect on HTTP_GET (TLS only)",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: HTTP_GET: no url; the checker is ignored",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: SSL_GET: url has no path and is ignored",
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: SSL_GET: url '/a': 'regex_no_match' without 'regex' is ignored",
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: SSL_GET: url '/b': regex_min_offset 9 is beyond regex_max_offset 3; both are ignored",
    ]);
  });

  it("15. FILE_CHECK and BFD_CHECK naming nothing that exists, MISC_CHECK without a path", () => {
    const text = tcp(rs("10.0.0.2 80", "FILE_CHECK {\n track_file nope\n}\nFILE_CHECK {\n}\nBFD_CHECK {\n name b1\n}\nMISC_CHECK {\n}"));
    expect(messages(text)).toEqual([
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: FILE_CHECK: no track_file named 'nope'",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: FILE_CHECK: no track_file; the checker is ignored",
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: BFD_CHECK: no bfd_instance named 'b1'",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: MISC_CHECK: no misc_path; the checker is ignored",
    ]);
  });

  it("16. sorry server settings without a sorry server, and a sorry server that is a real server with another inhibit", () => {
    expect(messages(tcp("  sorry_server_inhibit\n  sorry_server_lvs_method DR\n" + rs()))).toEqual([
      "warning: virtual_server 10.0.0.1:80: 'sorry_server_inhibit' without a sorry_server is ignored",
      "warning: virtual_server 10.0.0.1:80: 'sorry_server_lvs_method' without a sorry_server is ignored",
    ]);
    expect(messages(tcp("  sorry_server 10.0.0.2 80\n  sorry_server_inhibit\n" + rs()))).toEqual([
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80 is also the sorry server but their inhibit_on_failure settings differ; keepalived uses the real server's",
    ]);
  });

  it("17. checker addresses: families of bindto and connect_ip, link-local without bind_if", () => {
    expect(messages(tcp(rs("10.0.0.2 80", "TCP_CHECK {\n bindto 2001:db8::1\n}\nTCP_CHECK {\n connect_ip fe80::1\n bindto fe80::2\n}")))).toEqual([
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: TCP_CHECK: bindto 2001:db8::1 and the connect address 10.0.0.2 are of different families",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: TCP_CHECK: link-local address fe80::1 needs bind_if",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: TCP_CHECK: link-local address fe80::2 needs bind_if",
    ]);
  });

  it("18. UDP reply lengths, thresholds, two dynamic MISC_CHECKs", () => {
    const text = tcp(rs("10.0.0.2 80", `uthreshold 10
lthreshold 20
UDP_CHECK {
  require_reply
  min_reply_length 9
  max_reply_length 3
}
UDP_CHECK {
  min_reply_length 2
}
MISC_CHECK {
  misc_path /bin/a
  misc_dynamic
}
MISC_CHECK {
  misc_path /bin/b
  misc_dynamic
}`));
    expect(messages(text, { executables: ["/bin/a", "/bin/b"] })).toEqual([
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: lthreshold 20 is above uthreshold 10",
      "error: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: UDP_CHECK: min_reply_length 9 exceeds max_reply_length 3",
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: UDP_CHECK: reply lengths are only checked with require_reply",
      "warning: virtual_server 10.0.0.1:80: real_server 10.0.0.2:80: MISC_CHECK: more than one dynamic MISC_CHECK on a real server makes their weights fight",
    ]);
  });

  it("19. SSL files that do not exist, ip_family against the address, unknown persistence engine", () => {
    const text = "SSL {\n ca /etc/ssl/ca.pem\n key /etc/ssl/k.pem\n}\n" + tcp("  ip_family inet6\n  persistence_engine rtsp\n  persistence_timeout 60\n" + rs());
    expect(messages(text, { files: ["/etc/ssl/k.pem"] })).toEqual([
      "error: SSL ca file '/etc/ssl/ca.pem' does not exist",
      "error: virtual_server 10.0.0.1:80: ip_family inet6 conflicts with the service address",
      "warning: virtual_server 10.0.0.1:80: unknown persistence_engine 'rtsp' (the kernel has only sip)",
    ]);
  });

  it("finds the VIPs of VRRP instances for ha_suspend", () => {
    const vrrp = (list: string) => `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n ${list} {\n  10.0.0.1/24 dev eth0\n }\n}\n`;
    for (const list of ["virtual_ipaddress", "virtual_ipaddress_excluded"]) {
      expect(check(vrrp(list) + tcp("  ha_suspend\n" + rs()))).toEqual([]);
    }
  });
});
