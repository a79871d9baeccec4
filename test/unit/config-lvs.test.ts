import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { locOfKey } from "../../src/config/schema.ts";
import type { LvsConfig, RealServerConfig, VirtualServerConfig } from "../../src/config/spec/lvs.ts";
import { validateLvs } from "../../src/config/validate-lvs.ts";
import { at, only, parseConf } from "./config-lvs-conf.ts";

const env = { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "lb1" };
const lvsOf = (eff: unknown): LvsConfig => eff as LvsConfig;
const vs0 = (text: string): VirtualServerConfig => lvsOf(parseConf(text).eff).virtual_server![0]!;
const rs0 = (text: string): RealServerConfig => vs0(text).real_server![0]!;

describe("seed configuration (LVS part)", () => {
  const text = readFileSync(new URL("../fixtures/config-lvs-seed.conf", import.meta.url), "utf8");
  const { eff, diag } = parseConf(text, "seed.conf");
  const lvsDiags = diag.list.filter((d) => (d.loc?.line ?? 0) >= 57);

  it("warns about old spellings and nat_mask, with their positions", () => {
    expect(lvsDiags.slice(0, 5)).toEqual([
      { severity: "warning", message: "'lb_algo' is deprecated, use 'lvs_sched'", loc: at(61, 5, "seed.conf") },
      { severity: "warning", message: "'lb_kind' is deprecated, use 'lvs_method'", loc: at(63, 5, "seed.conf") },
      { severity: "warning", message: "'nat_mask' is obsolete and ignored", loc: at(65, 5, "seed.conf") },
      { severity: "warning", message: "'nb_get_retry' is deprecated, use 'retry'", loc: at(79, 13, "seed.conf") },
      { severity: "warning", message: "'nb_get_retry' is deprecated, use 'retry'", loc: at(90, 13, "seed.conf") },
    ]);
    expect(lvsDiags.filter((d) => d.severity === "error")).toEqual([]);
    expect(lvsDiags).toHaveLength(10);
  });

  it("reads `9999{` as port 9999 and honours nb_get_retry as retry", () => {
    const lvs = lvsOf(eff);
    expect(lvs.virtual_server!.map((v) => [v.ip, v.port, v.lvs_sched, v.lvs_method.method, v.persistence_timeout, v.protocol, v.delay_loop]))
      .toEqual([["192.168.26.34", 9999, "wrr", "DR", 1, "TCP", 6], ["192.168.26.34", 3306, "wrr", "DR", 1, "TCP", 6]]);
    const c = lvs.virtual_server![0]!.real_server![0]!.checker![0]!;
    expect(c).toEqual({
      type: "TCP_CHECK", connect_ip: "192.168.26.36", connect_port: 9999, connect_timeout: 10, retry: 3,
      delay_before_retry: 3, delay_loop: 6, warmup: 6, alpha: false,
    });
  });

  it("passes the cross-checks", () => {
    const before = diag.list.length;
    validateLvs(eff, env, diag);
    expect(diag.list.slice(before)).toEqual([]);
  });
});

describe("keyword families", () => {
  const FULL = `
virtual_server 10.0.0.100 80 {
  ip_family inet
  lvs_sched sh
  hashed
  flag-1
  flag-2
  flag-3
  sh-port
  sh-fallback
  ops
  lvs_method TUN type gue port 6080 csum
  persistence_engine sip
  persistence_timeout 30
  persistence_granularity 255.255.255.0
  protocol udp
  ha_suspend
  smtp_alert
  virtualhost www.example.com
  snmp_name web
  alpha
  omega
  quorum_up "/bin/up.sh now" nobody nogroup
  quorum_down /bin/down.sh
  quorum 2
  hysteresis 1
  weight 3
  sorry_server 10.0.0.9 80
  sorry_server_inhibit
  sorry_server_lvs_method DR
  retry 2
  delay_before_retry 2
  warmup 3
  connect_timeout 4
  delay_loop 6.5
  inhibit_on_failure
  real_server 10.0.0.5 80 {
    weight 2
    lvs_method NAT
    uthreshold 100
    lthreshold 10
    inhibit_on_failure no
    notify_up /bin/rs-up.sh
    notify_down "/bin/rs-down.sh x"
    alpha yes
    retry 3
    delay_before_retry 1
    warmup 0
    connect_timeout 3
    delay_loop 5
    smtp_alert off
    virtualhost rs.example.com
    snmp_name rs1
    TCP_CHECK {
      connect_ip 10.0.0.6
      connect_port 81
      bindto 10.0.0.100
      bind_port 1234
      bind_if eth0
      fwmark 5
      alpha off
      connect_timeout 2
      retry 0
      delay_before_retry 0.5
      warmup 1
      delay_loop 3
      log_all_failures
    }
    SSL_GET {
      virtualhost a.example.com
      http_protocol 1.0c
      enable_sni
      fast_recovery
      url {
        path /health?full=1
        digest 9B3A0C85A887A256D6939DA88AABD8CD
        status_code 200 300-399
        status_code 404
        virtualhost c.example.com
        regex "^OK"
        regex_no_match
        regex_options caseless multiline
        regex_stack 1000 2000
        regex_min_offset 1
        regex_max_offset 10
      }
      url {
        path /
      }
    }
    SMTP_CHECK {
      helo_name mail.example.com
      host {
        connect_ip 10.0.0.7
        connect_port 25
      }
    }
    DNS_CHECK {
      type AAAA
      name example.com
    }
    MISC_CHECK {
      misc_path "/bin/check.sh 10.0.0.5"
      misc_timeout 3
      misc_dynamic
      user nobody nogroup
    }
    UDP_CHECK {
      payload Ab12f 3 456 546443123
      require_reply 0a xX
      min_reply_length 1
      max_reply_length 100
    }
    UDP_CHECK {
      require_reply
    }
    PING_CHECK {
    }
    FILE_CHECK {
      track_file tf
      weight -2 reverse
    }
    BFD_CHECK {
      name bfd1
    }
  }
}
`;
  const parsed = parseConf(FULL);

  it("accepts every virtual_server, real_server and checker keyword of keepalived 2.2.7", () => {
    expect(parsed.diag.list).toEqual([]);
  });

  it("builds the typed effective model", () => {
    const expected: VirtualServerConfig = {
      ip: "10.0.0.100", port: 80, ip_family: "inet", lvs_sched: "sh", hashed: true,
      flag_1: true, flag_2: true, flag_3: true, sh_port: true, sh_fallback: true, mh_port: false, mh_fallback: false, ops: true,
      lvs_method: { method: "TUN", tunnel_type: "gue", tunnel_port: 6080, checksum: "csum" },
      persistence_engine: "sip", persistence_timeout: 30, persistence_granularity: "255.255.255.0", protocol: "UDP",
      ha_suspend: true, smtp_alert: true, virtualhost: "www.example.com", snmp_name: "web", alpha: true, omega: true,
      quorum_up: { command: "/bin/up.sh now", user: "nobody", group: "nogroup" }, quorum_down: { command: "/bin/down.sh" },
      quorum: 2, hysteresis: 1, weight: 3, sorry_server: { ip: "10.0.0.9", port: 80 }, sorry_server_inhibit: true,
      sorry_server_lvs_method: { method: "DR" }, retry: 2, delay_before_retry: 2, warmup: 3, connect_timeout: 4, delay_loop: 6.5,
      inhibit_on_failure: true,
      real_server: [{
        ip: "10.0.0.5", port: 80, weight: 2, lvs_method: { method: "NAT" }, uthreshold: 100, lthreshold: 10, inhibit_on_failure: false,
        notify_up: { command: "/bin/rs-up.sh" }, notify_down: { command: "/bin/rs-down.sh x" }, alpha: true, retry: 3,
        delay_before_retry: 1, warmup: 0, connect_timeout: 3, delay_loop: 5, smtp_alert: false, virtualhost: "rs.example.com", snmp_name: "rs1",
        checker: [
          { type: "TCP_CHECK", connect_ip: "10.0.0.6", connect_port: 81, bindto: "10.0.0.100", bind_port: 1234, bind_if: "eth0", fwmark: 5,
            alpha: false, connect_timeout: 2, retry: 0, delay_before_retry: 0.5, warmup: 1, delay_loop: 3, log_all_failures: true },
          { type: "SSL_GET", virtualhost: "a.example.com", http_protocol: "1.0C", enable_sni: true, fast_recovery: true,
            connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true,
            url: [
              { path: "/health?full=1", digest: "9b3a0c85a887a256d6939da88aabd8cd", status_code: [[200, 200], [300, 399], [404, 404]],
                virtualhost: "c.example.com", regex: "^OK", regex_no_match: true, regex_options: ["caseless", "multiline"],
                regex_stack: { start: 1000, max: 2000 }, regex_min_offset: 1, regex_max_offset: 10 },
              { path: "/", status_code: [[200, 299]], regex_no_match: false, regex_min_offset: 0 },
            ] },
          { type: "SMTP_CHECK", helo_name: "mail.example.com", host: [{ connect_ip: "10.0.0.7", connect_port: 25 }],
            connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "DNS_CHECK", query_type: "AAAA", name: "example.com",
            connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "MISC_CHECK", misc_path: "/bin/check.sh 10.0.0.5", misc_timeout: 3, misc_dynamic: true, user: { user: "nobody", group: "nogroup" },
            retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "UDP_CHECK", payload: "ab120f0345065464431203", require_reply: "0axx", min_reply_length: 1, max_reply_length: 100,
            connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "UDP_CHECK", require_reply: true, min_reply_length: 0, max_reply_length: 255,
            connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "PING_CHECK", connect_ip: "10.0.0.5", connect_port: 80, connect_timeout: 3, retry: 3, delay_before_retry: 1, warmup: 0, delay_loop: 5, alpha: true },
          { type: "FILE_CHECK", track_file: "tf", weight: { value: -2, reverse: true } },
          { type: "BFD_CHECK", name: "bfd1" },
        ],
      }],
    };
    expect(lvsOf(parsed.eff).virtual_server).toEqual([expected]);
  });

  it("keeps the position of every value for later checks", () => {
    const vs = lvsOf(parsed.eff).virtual_server![0]!;
    expect(locOfKey(vs, "ip")).toEqual(at(2, 16));
    expect(locOfKey(vs, "port")).toEqual(at(2, 27));
    expect(locOfKey(vs, "quorum")).toEqual(at(25, 3));
    const url = (vs.real_server![0]!.checker![1] as { url: object[] }).url[0]!;
    expect(locOfKey(url, "regex")).toEqual(at(80, 9));
  });

  it("reads virtual_server_group entries and the three header forms", () => {
    const { eff, diag } = parseConf(`
virtual_server_group G1 {
  10.0.0.1 80
  10.0.0.2-10 80
  10.0.0.250-10.0.1.10 443
  10.0.2.0/29
  2001:db8::1-ff 80
  fwmark 7
  fwmark 8 inet6
}
virtual_server group G1 {
  protocol TCP
}
virtual_server fwmark 7 {
}
virtual_server 2001:DB8::5 80 {
  protocol TCP
}
SSL {
  password secret
  ca /etc/ssl/ca.pem
  certificate /etc/ssl/c.pem
  key /etc/ssl/k.pem
}`);
    expect(diag.list).toEqual([]);
    const lvs = lvsOf(eff);
    expect(lvs.virtual_server_group).toEqual({ G1: { entries: [
      { ip: "10.0.0.1", port: 80 }, { ip: "10.0.0.2-10", port: 80 }, { ip: "10.0.0.250-10.0.1.10", port: 443 }, { ip: "10.0.2.0/29" },
      { ip: "2001:db8::1-ff", port: 80 }, { fwmark: 7 }, { fwmark: 8, family: "inet6" },
    ] } });
    expect(lvs.virtual_server!.map((v) => [v.group, v.fwmark, v.ip, v.port])).toEqual([
      ["G1", undefined, undefined, undefined], [undefined, 7, undefined, undefined], [undefined, undefined, "2001:db8::5", 80],
    ]);
    expect(lvs.ssl).toEqual({ password: "secret", ca: "/etc/ssl/ca.pem", certificate: "/etc/ssl/c.pem", key: "/etc/ssl/k.pem" });
  });
});

describe("defaults and inheritance", () => {
  it("fills keepalived's defaults at every level", () => {
    const vs = vs0(`
virtual_server 10.0.0.1 80 {
  real_server 10.0.0.2 {
    TCP_CHECK {
    }
    HTTP_GET {
      url {
        path /
      }
    }
    DNS_CHECK {
    }
    MISC_CHECK {
      misc_path /bin/true
    }
    MISC_CHECK {
      misc_path /bin/true
      misc_timeout 0
    }
  }
}`);
    expect(vs).toMatchObject({
      delay_loop: 60, connect_timeout: 5, lvs_sched: "wlc", lvs_method: { method: "NAT" }, protocol: "UDP", quorum: 1,
      hysteresis: 0, weight: 1, alpha: false, omega: false, inhibit_on_failure: false, ha_suspend: false, ops: false,
    });
    const rs = vs.real_server![0]!;
    expect(rs).toMatchObject({ port: 80, weight: 1, lvs_method: { method: "NAT" }, delay_loop: 60, connect_timeout: 5, alpha: false });
    expect(rs.retry).toBeUndefined();
    const [tcp, http, dns, misc, misc0] = rs.checker!;
    expect(tcp).toMatchObject({ connect_ip: "10.0.0.2", connect_port: 80, retry: 1, delay_before_retry: 1, warmup: 60, delay_loop: 60, connect_timeout: 5 });
    expect(http).toMatchObject({ retry: 1, delay_before_retry: 3, http_protocol: "1.0", enable_sni: false, fast_recovery: false });
    expect((http as { url: unknown[] }).url[0]).toMatchObject({ status_code: [[200, 299]] });
    expect(dns).toMatchObject({ retry: 3, delay_before_retry: 60, query_type: "SOA", name: "." });
    expect(misc).toMatchObject({ retry: 0, delay_before_retry: 1, misc_timeout: 60, misc_dynamic: false });
    expect(misc0).toMatchObject({ misc_timeout: 60 });
  });

  it("passes virtual server settings to real servers and real server settings to checkers", () => {
    const rs = rs0(`
virtual_server 10.0.0.1 80 {
  lvs_method DR
  retry 4
  delay_before_retry 7
  weight 5
  alpha
  virtualhost vs.example
  real_server 10.0.0.2 80 {
    delay_loop 10
    warmup 2
    HTTP_GET {
      retry 1
      url {
        path /
      }
    }
    DNS_CHECK {
    }
  }
}`);
    expect(rs).toMatchObject({ lvs_method: { method: "DR" }, retry: 4, delay_before_retry: 7, weight: 5, alpha: true, delay_loop: 10 });
    expect(rs.checker![0]).toMatchObject({ retry: 1, delay_before_retry: 7, delay_loop: 10, warmup: 2, alpha: true, virtualhost: "vs.example" });
    expect(rs.checker![1]).toMatchObject({ retry: 4, delay_before_retry: 7 });
  });

  it("persistence_timeout without a value is 360 s", () => {
    expect(vs0("virtual_server 10.0.0.1 80 {\n persistence_timeout\n}").persistence_timeout).toBe(360);
  });
});

describe("values and ranges", () => {
  const errs = (text: string) => only(parseConf(text).diag.list, "error");
  const vsWith = (line: string) => `virtual_server 10.0.0.1 80 {\n  ${line}\n}`;
  const rsWith = (block: string) => `virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  ${block}\n }\n}`;

  it("rejects out-of-range numbers and unknown words with the argument's position", () => {
    const { diag } = parseConf(vsWith("quorum 0"));
    expect(diag.list).toEqual([{ severity: "error", message: "'quorum' 0 is out of range 1..4294967295", loc: at(2, 10) }]);
    expect(errs(vsWith("lvs_sched foo"))).toEqual(["'lvs_sched' must be one of rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos, got 'foo'"]);
    expect(errs(vsWith("protocol ICMP"))).toEqual(["'protocol' must be one of TCP, UDP, SCTP, got 'ICMP'"]);
    expect(errs(rsWith("weight -1"))).toEqual(["'weight' -1 is out of range 0..2147483647"]);
    expect(errs(vsWith("delay_loop 0"))).toEqual(["'delay_loop' 0 is out of range >= 0.000001"]);
    expect(errs(rsWith("TCP_CHECK {\n connect_timeout 0\n }"))).toEqual(["'connect_timeout' 0 is out of range 0.000001..4294.967295"]);
  });

  it("checks lvs_method tunnel options as keepalived does", () => {
    expect(vs0(vsWith("lvs_method TUN type gre nocsum")).lvs_method).toEqual({ method: "TUN", tunnel_type: "gre", checksum: "nocsum" });
    expect(errs(vsWith("lvs_method TUN type gue"))).toEqual(["'lvs_method': gue tunnels require a port, other tunnel types cannot have one"]);
    expect(errs(vsWith("lvs_method TUN type ipip csum"))).toEqual(["'lvs_method': ipip tunnels do not support a checksum option"]);
    expect(errs(vsWith("lvs_method TUN type gre remcsum"))).toEqual(["'lvs_method': gre tunnels do not support the remote checksum option"]);
    expect(errs(vsWith("lvs_method DR port 80"))).toEqual(["'lvs_method': tunnel options need the TUN method, not DR"]);
    expect(errs(vsWith("lb_kind dr"))).toEqual(["'lb_kind' must be one of NAT, DR, TUN, got 'dr'"]);
    expect(errs(vsWith("lvs_method TUN type vxlan"))).toEqual(["'lvs_method': unknown tunnel type 'vxlan' (ipip, gue or gre)"]);
  });

  it("checks headers", () => {
    const { diag } = parseConf("virtual_server 10.0.0.300 80 {\n}\nvirtual_server fwmark x {\n}\nvirtual_server 10.0.0.1 99999 {\n}\nreal_server_x 1 {\n}");
    expect(diag.list.map((d) => [d.severity, d.message, d.loc?.line, d.loc?.col])).toEqual([
      ["error", "invalid virtual server address '10.0.0.300'", 1, 16],
      ["error", "virtual server fwmark 'x' must be in [0, 4294967295]", 3, 23],
      ["error", "invalid virtual server port '99999' (0..65535)", 5, 25],
      ["warning", "unknown keyword 'real_server_x' in configuration", 7, 1],
    ]);
  });

  it("checks virtual_server_group entries", () => {
    expect(errs("virtual_server_group G {\n 10.0.1.1/29 80\n 10.0.0.9-3 80\n 10.0.0.9-10.0.0.1\n fwmark 1 ipx\n 10.0.0.1 http\n}")).toEqual([
      "virtual_server_group: address mask bits not empty in '10.0.1.1/29'",
      "virtual_server_group: address range end is not greater than its start in '10.0.0.9-3'",
      "virtual_server_group: address range end is less than its start in '10.0.0.9-10.0.0.1'",
      "virtual_server_group: fwmark family must be inet or inet6, got 'ipx'",
      "virtual_server_group: invalid port 'http' (0..65535)",
    ]);
    expect(errs("virtual_server_group G {\n 10.0.0.1 80\n}\nvirtual_server_group G {\n 10.0.0.2 80\n}")).toEqual(["virtual_server_group 'G' is defined twice"]);
  });

  it("checks checker values", () => {
    expect(errs(rsWith("HTTP_GET {\n url {\n status_code 99 200-199 600\n digest abc\n regex_options caseless bogus\n }\n http_protocol 2\n }"))).toEqual([
      "'status_code': invalid HTTP status code '99' (100..599 or a range like 200-299)",
      "'status_code': invalid HTTP status code '200-199' (100..599 or a range like 200-299)",
      "'status_code': invalid HTTP status code '600' (100..599 or a range like 200-299)",
      "'digest' must be 32 hex digits, got 'abc'",
      "'regex_options': unknown option 'bogus'",
      "'http_protocol' must be one of 1.0, 1.0C, 1.1, got '2'",
    ]);
    expect(errs(rsWith("DNS_CHECK {\n type PTR\n name a..b\n }"))).toEqual([
      "'type' must be one of A, NS, CNAME, SOA, MX, TXT, AAAA, got 'PTR'",
      "'name': DNS name 'a..b' has an empty label",
    ]);
    expect(errs(rsWith("UDP_CHECK {\n payload 0g\n }"))).toEqual(["'payload' expects hex digits, got '0g'"]);
    expect(errs(rsWith("FILE_CHECK {\n track_file t\n weight 2 backwards\n }"))).toEqual(["'weight': unknown option 'backwards' (only 'reverse')"]);
    expect(errs(rsWith("TCP_CHECK {\n connect_port 0\n }"))).toEqual(["'connect_port' 0 is out of range 1..65535"]);
  });

  it("names the block of an unknown keyword and rejects keywords from other checkers", () => {
    const { diag } = parseConf(rsWith("TCP_CHECK {\n misc_path /bin/true\n }\n MISC_CHECK {\n misc_path /bin/true\n connect_port 80\n }"));
    expect(diag.list.map((d) => d.message)).toEqual([
      "unknown keyword 'misc_path' in real_server 10.0.0.2:80 TCP_CHECK",
      "unknown keyword 'connect_port' in real_server 10.0.0.2:80 MISC_CHECK",
    ]);
  });
});

describe("documentation of the specs", () => {
  it("gives every field a doc, a type description and a default or default prose where one applies", async () => {
    const { checkerSpecs, urlSpec, smtpHostSpec } = await import("../../src/config/spec/checkers.ts");
    const { virtualServerSpec, realServerSpec, virtualServerGroupSpec, sslSpec, lvsRootFields } = await import("../../src/config/spec/lvs.ts");
    const specs = [virtualServerSpec, realServerSpec, virtualServerGroupSpec, sslSpec, urlSpec, smtpHostSpec, ...Object.values(checkerSpecs)];
    const fields = [...lvsRootFields, ...specs.flatMap((s) => s.fields)];
    for (const f of fields) {
      expect(f.doc.length, f.key).toBeGreaterThan(10);
      expect(f.type.describe.length, f.key).toBeGreaterThan(2);
      if (f.default !== undefined) expect(f.defaultDoc === undefined || typeof f.defaultDoc === "string").toBe(true);
    }
    // Inherited settings carry prose, never a constant that would hide the inheritance.
    for (const key of ["retry", "delay_loop", "connect_timeout", "warmup", "delay_before_retry", "alpha"]) {
      expect(realServerSpec.fields.find((f) => f.key === key)?.default, key).toBeUndefined();
      expect(checkerSpecs.TCP_CHECK.fields.find((f) => f.key === key)?.defaultDoc, key).toMatch(/real server/);
    }
    expect(virtualServerSpec.fields.find((f) => f.key === "delay_loop")?.default).toBe(60);
    expect(virtualServerSpec.fields.find((f) => f.key === "connect_timeout")?.default).toBe(5);
  });
});
