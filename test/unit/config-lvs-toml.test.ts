import { parse as parseTomlText, stringify } from "smol-toml";
import { describe, expect, it } from "vitest";
import { blockToToml, withDefaults } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";
import { parseConf, parseToml } from "./config-lvs-conf.ts";

const CONF = `
SSL {
  ca /etc/ssl/ca.pem
}
virtual_server_group WEB {
  10.0.0.1 80
  10.0.0.2-10 80
  fwmark 7 inet
}
virtual_server group WEB {
  protocol TCP
  lvs_sched mh
  mh-port
  real_server 10.0.1.1 80 {
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.100 443 {
  protocol TCP
  delay_loop 2.5
  lvs_method TUN type gue port 6080 csum
  persistence_timeout
  quorum_up "/bin/up.sh x" nobody
  sorry_server 10.0.0.9 443
  real_server 10.0.0.5 443 {
    weight 2
    notify_down /bin/down.sh
    HTTP_GET {
      url {
        path /
        status_code 200 300-399
      }
      url {
        path /ready
        regex "^ok$"
        regex_stack 100 200
      }
    }
    HTTP_GET {
      url {
        path /second
      }
    }
    UDP_CHECK {
      payload 0a0b
      require_reply
    }
    DNS_CHECK {
      type MX
    }
    SMTP_CHECK {
      host {
        connect_port 25
      }
    }
    FILE_CHECK {
      track_file t
      weight 3 reverse
    }
  }
}
virtual_server fwmark 12 {
  ip_family inet6
  real_server 2001:db8::5 {
    MISC_CHECK {
      misc_path "/bin/check x"
      user nobody
    }
  }
}
`;

describe("TOML shape of the LVS blocks", () => {
  const conf = parseConf(CONF);

  it("round-trips through blockToToml, TOML text and parseTomlBlock", () => {
    expect(conf.diag.list).toEqual([]);
    const text = stringify(blockToToml(conf.model, rootSpec));
    const back = parseToml(parseTomlText(text) as Record<string, unknown>);
    expect(back.diag.list).toEqual([]);
    expect(back.model).toEqual(conf.model);
    expect(withDefaults(back.model, rootSpec)).toEqual(conf.eff);
  });

  it("writes virtual servers as arrays of tables with header keys and a typed checker list", () => {
    const text = stringify(blockToToml(conf.model, rootSpec));
    expect(text).toContain('[[virtual_server]]\ngroup = "WEB"');
    expect(text).toContain('[[virtual_server.real_server.checker]]\ntype = "HTTP_GET"');
    expect(text).toContain('[virtual_server_group.WEB]\nentries = [ "10.0.0.1 80", "10.0.0.2-10 80", "fwmark 7 inet" ]');
    expect(text).toContain('[virtual_server.lvs_method]\nmethod = "TUN"\ntunnel_type = "gue"\ntunnel_port = 6080\nchecksum = "csum"');
    expect(text).toContain('[[virtual_server.real_server.checker.url]]\npath = "/ready"');
    expect(text).toContain('status_code = [ 200, "300-399" ]');
  });

  it("reads the documented hand-written form", () => {
    const hand = `
[virtual_server_group.WEB]
entries = ["10.0.0.1 80", { ip = "10.0.0.2-10", port = 80 }, { fwmark = 7, family = "inet" }]

[[virtual_server]]
ip = "10.0.0.100"
port = 443
protocol = "TCP"
lvs_method = "DR"
quorum_up = { command = "/bin/up.sh x", user = "nobody" }
sorry_server = { ip = "10.0.0.9", port = 443 }

[[virtual_server.real_server]]
ip = "10.0.0.5"
port = 443

[[virtual_server.real_server.checker]]
type = "TCP_CHECK"
connect_timeout = 3
nb_get_retry = 2

[[virtual_server.real_server.checker]]
type = "HTTP_GET"
url = [{ path = "/", status_code = [200, "300-399"] }]

[[virtual_server.real_server.checker]]
type = "DNS_CHECK"
query_type = "MX"
`;
    const { model, diag } = parseToml(parseTomlText(hand) as Record<string, unknown>);
    expect(diag.list.map((d) => d.message)).toEqual([
      "unknown setting 'nb_get_retry' in real_server #1 TCP_CHECK (did you mean 'retry'?)",
    ]);
    const eff = withDefaults(model, rootSpec) as { virtual_server: { real_server: { checker: Record<string, unknown>[] }[] }[]; virtual_server_group: unknown };
    expect(eff.virtual_server_group).toEqual({ WEB: { entries: [{ ip: "10.0.0.1", port: 80 }, { ip: "10.0.0.2-10", port: 80 }, { fwmark: 7, family: "inet" }] } });
    const [tcp, http, dns] = eff.virtual_server[0]!.real_server[0]!.checker;
    expect(tcp).toMatchObject({ type: "TCP_CHECK", connect_timeout: 3, connect_ip: "10.0.0.5", connect_port: 443, retry: 1 });
    expect(http).toMatchObject({ type: "HTTP_GET", delay_before_retry: 3, url: [{ path: "/", status_code: [[200, 200], [300, 399]] }] });
    expect(dns).toMatchObject({ type: "DNS_CHECK", query_type: "MX", retry: 3 });
  });

  it("says what is wrong with a checker table", () => {
    const bad = {
      virtual_server: [{
        ip: "10.0.0.1", port: 80,
        real_server: [{ ip: "10.0.0.2", TCP_CHECK: {}, checker: [{ connect_port: 80 }, { type: "FOO_CHECK" }, { type: "PING_CHECK", url: [] }] }],
      }],
    };
    expect(parseToml(bad).diag.list.map((d) => d.message)).toEqual([
      "unknown setting 'TCP_CHECK' in real_server #1 (did you mean 'checker'?)",
      "real_server #1 checker #1: needs type = one of TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK",
      "real_server #1 checker #2: needs type = one of TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK",
      "unknown setting 'url' in real_server #1 PING_CHECK",
    ]);
  });

  it("requires exactly one header form", () => {
    const bad = { virtual_server: [{ ip: "10.0.0.1", fwmark: 3 }, { port: 80 }, { group: "G", port: 80 }], };
    expect(parseToml(bad).diag.list.map((d) => d.message)).toEqual([
      "virtual_server #1: needs exactly one of 'ip', 'fwmark' or 'group', got ip and fwmark",
      "virtual_server #2: needs exactly one of 'ip', 'fwmark' or 'group'",
      "virtual_server #3: 'port' goes with 'ip', not with 'group'",
    ]);
    expect(parseToml({ virtual_server: [{ ip: "10.0.0.1", real_server: [{ port: 80 }] }] }).diag.list.map((d) => d.message))
      .toEqual(["real_server #1: 'ip' is required"]);
  });

  it("rejects malformed compound values", () => {
    const bad = {
      virtual_server: [{
        ip: "10.0.0.1", port: 80, lvs_method: { method: "TUN", tunnel_type: "gue" }, sorry_server: "10.0.0.9 80 x",
        quorum_up: 7, persistence_granularity: "abc",
      }],
    };
    expect(parseToml(bad).diag.list.map((d) => d.message)).toEqual([
      "'lvs_method': gue tunnels require a port, other tunnel types cannot have one",
      "'sorry_server' expects \"IP [PORT]\"",
      "'quorum_up' expects a string or a table with 'command', 'user', 'group'",
      "'persistence_granularity': 'abc' is neither an IPv4 netmask nor an IPv6 prefix length 1..128",
    ]);
  });
});
