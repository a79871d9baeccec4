// Keywords the daemon acts on that no other test set through a configuration file: each is set in a
// keepalived.conf and must change what the VRRP or checker mapping hands the runtime (the value the
// keyword gives, different from the one without it). The keyword support table
// (src/config/support.ts) names this file for them.
import { describe, expect, it } from "vitest";
import type { CheckEnv } from "../../src/config/env.ts";
import { loadConfigText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/schema.ts";
import { checkMapping, ipvsFlushAllOnStop, ipvsStartOptions } from "../../src/daemon/check-config.ts";
import { checkerSmtpAlert } from "../../src/daemon/keepalived-dump.ts";
import { lvsSyncDaemonOf, syncDaemonConfig } from "../../src/daemon/lvs-syncd.ts";
import { smtpSettings } from "../../src/daemon/smtp-alert.ts";
import { vrrpRuntimeConfig } from "../../src/daemon/vrrp-config.ts";
import { IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3 } from "../../src/ipvs/types.ts";

const env: CheckEnv = { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "lb1" };

function effective(text: string): Model {
  const loaded = loadConfigText(text, "k.conf", { env });
  expect(loaded.diag.list.filter((d) => d.severity === "error"), text).toEqual([]);
  return loaded.effective;
}

const vrrpLook = {
  primaryAddress: (_i: string, f: 4 | 6) => (f === 4 ? "10.0.0.1" : "fe80::1"),
  user: () => ({ uid: 0, gid: 0 }),
  insecure: () => undefined,
};
const vrrp = (text: string) => vrrpRuntimeConfig(effective(text), vrrpLook).config;
// The tracked objects instances may name (the resolved model drops a reference to a missing one).
const TRACKED = "vrrp_track_process P {\n  process foo\n}\ntrack_file TF {\n  file /run/tf\n}\n";
const instance = (body: string, globals = "") =>
  vrrp(`global_defs {\n${globals}\n}\n${TRACKED}vrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.100\n  }\n${body}\n}\n`).instances[0]!;

describe("VRRP keywords reach the runtime", () => {
  it("global vrrp_garp_* / vrrp_down_timer_adverts / prio advert settings are every instance's defaults", () => {
    const base = instance("");
    const g = instance("", [
      "vrrp_garp_master_repeat 7", "vrrp_garp_master_refresh 30", "vrrp_garp_master_refresh_repeat 3",
      "vrrp_garp_lower_prio_delay 9", "vrrp_garp_lower_prio_repeat 4", "vrrp_down_timer_adverts 5",
      "vrrp_garp_interval 0.01", "vrrp_gna_interval 0.02", "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert",
    ].join("\n"));
    expect(base).toMatchObject({ garpMasterRepeat: 5, garpMasterRefreshMs: 0, garpMasterRefreshRepeat: 1, garpLowerPrioDelayMs: 5000, garpLowerPrioRepeat: 5, downTimerAdverts: 3, garpIntervalMs: 0, gnaIntervalMs: 0, lowerPrioNoAdvert: false, higherPrioSendAdvert: false });
    expect(g).toMatchObject({ garpMasterRepeat: 7, garpMasterRefreshMs: 30000, garpMasterRefreshRepeat: 3, garpLowerPrioDelayMs: 9000, garpLowerPrioRepeat: 4, downTimerAdverts: 5, garpIntervalMs: 10, gnaIntervalMs: 20, lowerPrioNoAdvert: true, higherPrioSendAdvert: true });
  });

  it("an instance's garp_master_repeat / garp_master_refresh_repeat / garp_lower_prio_delay win over the globals", () => {
    const i = instance("  garp_master_repeat 2\n  garp_master_refresh_repeat 6\n  garp_lower_prio_delay 11", "vrrp_garp_master_repeat 7\nvrrp_garp_lower_prio_delay 9");
    expect(i).toMatchObject({ garpMasterRepeat: 2, garpMasterRefreshRepeat: 6, garpLowerPrioDelayMs: 11000 });
  });

  it("default_interface is the interface of an instance without one", () => {
    const c = vrrp("global_defs {\n  default_interface eth7\n}\nvrrp_instance VI {\n  virtual_router_id 1\n  unicast_peer {\n    10.0.0.2\n  }\n  virtual_ipaddress {\n    10.0.0.100\n  }\n}\n");
    expect(c.instances[0]!.interface).toBe("eth7");
  });

  it("mcast_src_ip is the adverts' source; native_ipv6 makes an IPv6 instance", () => {
    expect(instance("").primaryIp).toBe("10.0.0.1");
    expect(instance("  mcast_src_ip 10.0.0.50").primaryIp).toBe("10.0.0.50");
    const v6 = vrrp("vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 2\n  native_ipv6\n}\n").instances[0]!;
    expect(v6).toMatchObject({ family: 6, version: 3 });
  });

  it("dont_track_primary, track_process, virtual_ipaddress_excluded, virtual_routes, virtual_rules", () => {
    expect(instance("").dontTrackPrimary).toBe(false);
    const i = instance([
      "  dont_track_primary",
      "  track_process {\n    P weight 10\n  }",
      "  virtual_ipaddress_excluded {\n    10.0.9.9/24 dev eth0\n  }",
      "  virtual_routes {\n    10.8.0.0/16 via 10.0.0.254 dev eth0\n  }",
      "  virtual_rules {\n    from 10.8.0.0/16 table 100\n  }",
    ].join("\n"));
    expect(i.dontTrackPrimary).toBe(true);
    expect(i.trackProcesses).toEqual([{ name: "P", weight: 10, reverse: false }]);
    expect(i.excludedVips).toEqual([expect.objectContaining({ address: "10.0.9.9/24", dev: "eth0" })]);
    expect(i.virtualRoutes).toEqual([expect.objectContaining({ dst: "10.8.0.0/16", via: "10.0.0.254", dev: "eth0" })]);
    expect(i.virtualRules).toEqual([expect.objectContaining({ from: "10.8.0.0/16", table: 100 })]);
  });

  it("notify_fault and notify_stop, on an instance and on a vrrp_sync_group", () => {
    const c = vrrp(`vrrp_instance VI {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.100
  }
  notify_fault /bin/fault
  notify_stop /bin/stop
}
vrrp_instance VJ {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    10.0.0.101
  }
}
vrrp_sync_group G {
  group {
    VI
    VJ
  }
  notify_fault "/bin/gfault"
  notify_stop "/bin/gstop"
}
`);
    expect(c.instances[0]!.notify).toMatchObject({ fault: "/bin/fault", stop: "/bin/stop" });
    expect(c.syncGroups).toEqual([expect.objectContaining({ name: "G", members: ["VI", "VJ"], notify: expect.objectContaining({ fault: "/bin/gfault", stop: "/bin/gstop" }) })]);
  });

  it("vrrp_notify_fifo is the notify FIFO", () => {
    expect(vrrp("vrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n}\n").notifyFifo).toBeUndefined();
    expect(vrrp("global_defs {\n  vrrp_notify_fifo /run/vrrp.fifo\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n}\n").notifyFifo).toBe("/run/vrrp.fifo");
  });

  it("vrrp_track_process quorum_max bounds the matching processes", () => {
    const c = vrrp("vrrp_track_process P {\n  process nginx\n  quorum 2\n  quorum_max 4\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  track_process {\n    P\n  }\n}\n");
    expect(c.trackProcesses).toEqual([expect.objectContaining({ name: "P", process: "nginx", quorum: 2, quorumMax: 4 })]);
  });
});

describe("mail keywords", () => {
  const base = "global_defs {\n  notification_email {\n    ops@example.com\n  }\n  smtp_server 127.0.0.1\n@@\n}\n";
  it("smtp_helo_name is the HELO name (the host name without it)", () => {
    expect(smtpSettings(effective(base.replace("@@", "")), "lb1")!.helo).toBe("lb1");
    expect(smtpSettings(effective(base.replace("@@", "  smtp_helo_name mail.example.com")), "lb1")!.helo).toBe("mail.example.com");
  });

  it("smtp_alert_checker turns virtual-server checker mail on", () => {
    const g = (line: string) => effective(base.replace("@@", line)).global_defs as Model;
    expect(checkerSmtpAlert(undefined, g(""), false)).toBe(false);
    expect(checkerSmtpAlert(undefined, g("  smtp_alert_checker"), false)).toBe(true);
  });
});

describe("virtual server and checker keywords reach the checker child", () => {
  const look = { user: () => ({ uid: 0, gid: 0 }), hostname: "lb1" };
  const map = (text: string) => checkMapping(effective(text), look);
  const vs = (head: string, body: string, rs = "  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n    }\n  }") => `virtual_server ${head} {\n  protocol TCP\n${body}\n${rs}\n}\n`;

  it("flag-1, flag-2, flag-3 and mh-fallback set the scheduler flags", () => {
    const flags = (body: string) => map(vs("10.0.0.1 80", body)).virtualServers[0]!.services[0]!.flags;
    expect(flags("  lvs_sched mh")).toBe(0);
    expect(flags("  flag-1") & IP_VS_SVC_F_SCHED1).toBeTruthy();
    expect(flags("  flag-2") & IP_VS_SVC_F_SCHED2).toBeTruthy();
    expect(flags("  flag-3") & IP_VS_SVC_F_SCHED3).toBeTruthy();
    expect(flags("  lvs_sched mh\n  mh-fallback") & IP_VS_SVC_F_SCHED1).toBeTruthy();
  });

  it("ip_family decides a fwmark service's family", () => {
    const rs = "  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n    }\n  }";
    expect(map(vs("fwmark 5", "", rs)).virtualServers[0]!.services[0]!.key.family).toBe("ipv4");
    const v6 = "  real_server fd00::2 80 {\n    TCP_CHECK {\n    }\n  }";
    expect(map(vs("fwmark 5", "  ip_family inet6", v6)).virtualServers[0]!.services[0]!.key.family).toBe("ipv6");
  });

  it("ha_suspend: the checkers wait for the service address on this host", () => {
    expect(map(vs("10.0.0.1 80", "")).virtualServers[0]!.haSuspendOn).toBeNull();
    expect(map(vs("10.0.0.1 80", "  ha_suspend")).virtualServers[0]!.haSuspendOn).toEqual(["10.0.0.1"]);
  });

  it("quorum_up and quorum_down are the quorum scripts", () => {
    const h = map(vs("10.0.0.1 80", "  quorum_up \"/bin/true up\"\n  quorum_down \"/bin/true down\"")).virtualServers[0]!.health;
    expect(h).toMatchObject({ quorumUp: "/bin/true up", quorumDown: "/bin/true down" });
  });

  it("SMTP_CHECK helo_name, UDP_CHECK min_reply_length / max_reply_length", () => {
    const one = (checker: string) => map(vs("10.0.0.1 80", "", `  real_server 10.0.0.2 80 {\n${checker}\n  }`)).checkers[0]!.spec;
    expect(one("    SMTP_CHECK {\n    }")).toMatchObject({ params: { heloName: "lb1" } });
    expect(one("    SMTP_CHECK {\n      helo_name probe.example.com\n    }")).toMatchObject({ params: { heloName: "probe.example.com" } });
    expect(one("    UDP_CHECK {\n      require_reply\n      min_reply_length 4\n      max_reply_length 64\n    }")).toMatchObject({ params: { minReplyLength: 4, maxReplyLength: 64 } });
  });

  it("url regex_options / regex_min_offset / regex_max_offset", () => {
    const http = (lines: string) => map(vs("10.0.0.1 80", "", `  real_server 10.0.0.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        regex "ok"\n${lines}\n      }\n    }\n  }`)).checkers[0]!.spec;
    const plain = http("") as unknown as { params: { urls: Record<string, unknown>[] } };
    expect(plain.params.urls[0]!.regexOptions).toBeUndefined();
    const set = http("        regex_options caseless\n        regex_min_offset 3\n        regex_max_offset 100") as unknown as { params: { urls: Record<string, unknown>[] } };
    expect(set.params.urls[0]).toMatchObject({ regexOptions: ["caseless"], regexMinOffset: 3, regexMaxOffset: 100 });
  });
});

describe("IPVS start and stop keywords", () => {
  const g = (lines: string) => effective(`global_defs {\n${lines}\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n}\n`).global_defs as Model;
  it("lvs_flush and lvs_timeouts are what the checker child asks of IPVS before its first table", () => {
    expect(ipvsStartOptions(g(""))).toEqual({ flush: false, timeouts: undefined });
    expect(ipvsStartOptions(g("  lvs_flush\n  lvs_timeouts tcp 900 udp 60"))).toEqual({ flush: true, timeouts: { tcp: 900, tcpFin: 0, udp: 60 } });
  });

  it("lvs_flush_on_stop flushes the whole table at stop; with VS (or without it) only lbctl's own services go", () => {
    expect(ipvsFlushAllOnStop(g(""))).toBe(false);
    expect(ipvsFlushAllOnStop(g("  lvs_flush_on_stop"))).toBe(true);
    expect(ipvsFlushAllOnStop(g("  lvs_flush_on_stop VS"))).toBe(false);
  });
});

describe("SSL block, DNS_CHECK and vrrp_track_process settings", () => {
  const look = { user: () => ({ uid: 0, gid: 0 }), hostname: "lb1" };
  const checker = (text: string) => checkMapping(effective(text), look).checkers[0]!.spec as unknown as { params: Record<string, unknown> };
  const vs = (rs: string) => `virtual_server 10.0.0.1 443 {\n  protocol TCP\n  real_server 10.0.0.2 443 {\n${rs}\n  }\n}\n`;

  it("the SSL block's password, ca, certificate and key are the SSL_GET checkers' TLS context", () => {
    const get = "    SSL_GET {\n      url {\n        path /\n      }\n    }";
    expect(checker(vs(get)).params.tlsOptions).toBeUndefined();
    const ssl = "SSL {\n  password secret\n  ca /etc/ssl/ca.pem\n  certificate /etc/ssl/client.pem\n  key /etc/ssl/client.key\n}\n";
    expect(checker(ssl + vs(get)).params.tlsOptions).toEqual({ password: "secret", ca: "/etc/ssl/ca.pem", certificate: "/etc/ssl/client.pem", key: "/etc/ssl/client.key" });
  });

  it("DNS_CHECK type and name are the query", () => {
    expect(checker(vs("    DNS_CHECK {\n      type MX\n      name example.org\n    }")).params).toMatchObject({ type: "MX", name: "example.org" });
  });

  it("vrrp_track_process weight and quorum", () => {
    const c = vrrp("vrrp_track_process P {\n  process nginx\n  weight 5\n  quorum 3\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  track_process {\n    P\n  }\n}\n");
    expect(c.trackProcesses).toEqual([expect.objectContaining({ name: "P", process: "nginx", weight: 5, quorum: 3 })]);
  });

  it("vrrp_sync_group group lists the members that move together", () => {
    const c = vrrp("vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n}\nvrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n}\nvrrp_sync_group G {\n  group {\n    A\n    B\n  }\n}\n");
    expect((c.syncGroups ?? []).map((g) => [g.name, g.members])).toEqual([["G", ["A", "B"]]]);
  });

  it("global_tracking (sync_group_tracking_weight's old name): the members' tracking weights count", () => {
    const group = (extra: string) => vrrp(`vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n}\nvrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n}\nvrrp_sync_group G {\n  group {\n    A\n    B\n  }\n${extra}\n}\n`).syncGroups![0]!;
    expect(group("").trackingWeight).toBeFalsy();
    expect(group("  global_tracking").trackingWeight).toBe(true);
  });

  it("track_file file and weight are the tracked file and its weight", () => {
    const c = vrrp("track_file TF {\n  file /run/lb.state\n  weight 7\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  track_file {\n    TF\n  }\n}\n");
    expect(c.trackFiles).toEqual([expect.objectContaining({ name: "TF", path: "/run/lb.state", weight: 7 })]);
  });
});

// Keywords whose effect other tests show on the runtime (state machine, tracking, checkers) given
// its own parameters: here, that the keyword is what sets those parameters.
describe("keywords reach the parameters the runtime tests drive", () => {
  it("vrrp_script interval, timeout, weight, rise, fall, init_fail", () => {
    const c = vrrp("vrrp_script S {\n  script /bin/true\n  interval 3\n  timeout 2\n  weight -20\n  rise 4\n  fall 5\n  init_fail\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n  track_script {\n    S\n  }\n}\n");
    expect(c.scripts).toEqual([expect.objectContaining({ name: "S", intervalMs: 3000, timeoutMs: 2000, weight: -20, rise: 4, fall: 5, initFail: true })]);
  });

  it("notify_fifo is the notify FIFO when vrrp_notify_fifo is not set", () => {
    expect(vrrp("global_defs {\n  notify_fifo /run/all.fifo\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n}\n").notifyFifo).toBe("/run/all.fifo");
  });

  it("use_vmac, track_interface, track_file on an instance", () => {
    expect(instance("").useVmac).toBeUndefined();
    const i = instance("  use_vmac vrrp.77\n  track_interface {\n    eth1 weight -30\n  }\n  track_file {\n    TF weight 2\n  }");
    expect(i.useVmac).toBe("vrrp.77");
    expect(i.trackInterfaces).toEqual([{ name: "eth1", weight: -30, reverse: false }]);
    expect(i.trackFiles).toEqual([{ name: "TF", weight: 2, reverse: false }]);
  });

  it("an instance's old_unicast_checksum, garp_master_refresh, garp_lower_prio_repeat, down_timer_adverts, lower_prio_no_advert, higher_prio_send_advert", () => {
    expect(instance("").oldUnicastChecksum).toBe("auto");
    const i = instance("  unicast_peer {\n    10.0.0.2\n  }\n  old_unicast_checksum never\n  garp_master_refresh 60\n  garp_lower_prio_repeat 8\n  down_timer_adverts 7\n  lower_prio_no_advert\n  higher_prio_send_advert");
    expect(i).toMatchObject({ oldUnicastChecksum: "never", garpMasterRefreshMs: 60000, garpLowerPrioRepeat: 8, downTimerAdverts: 7, lowerPrioNoAdvert: true, higherPrioSendAdvert: true });
  });

  it("lvs_sync_daemon is the sync daemon's interface and sync id", () => {
    const g = effective("global_defs {\n  lvs_sync_daemon eth1 VI id 7\n}\n" + "vrrp_instance VI {\n  interface eth0\n  virtual_router_id 1\n}\n").global_defs as { lvs_sync_daemon: Parameters<typeof syncDaemonConfig>[0] };
    expect(syncDaemonConfig(g.lvs_sync_daemon, "master")).toMatchObject({ state: "master", interface: "eth1", syncId: 7 });
  });

  it("an instance's deprecated lvs_sync_daemon_interface runs the sync daemon following that instance, as in keepalived 2.2.7", () => {
    const inst = (name: string, extra: string) => `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${name.length}\n${extra}\n}\n`;
    expect(lvsSyncDaemonOf(effective(inst("VI", "")))).toBeUndefined();
    expect(lvsSyncDaemonOf(effective(inst("VI", "") + inst("VJJ", "  lvs_sync_daemon_interface eth2")))).toEqual({ interface: "eth2", instance: "VJJ" });
    // global_defs' lvs_sync_daemon comes first.
    const both = effective("global_defs {\n  lvs_sync_daemon eth1 VI\n}\n" + inst("VI", "") + inst("VJJ", "  lvs_sync_daemon_interface eth2"));
    expect(lvsSyncDaemonOf(both)).toMatchObject({ interface: "eth1", instance: "VI" });
  });

  const look = { user: () => ({ uid: 0, gid: 0 }), hostname: "lb1" };
  const map = (text: string) => checkMapping(effective(text), look);
  const vs = (body: string, rs: string) => `virtual_server 10.0.0.1 80 {\n  protocol TCP\n${body}\n  real_server 10.0.0.2 80 {\n${rs}\n  }\n}\n`;
  const params = (rs: string) => (map(vs("", rs)).checkers[0]!.spec as unknown as { params: Record<string, unknown> }).params;

  it("mh-port, omega and hysteresis", () => {
    const m = map(vs("  lvs_sched mh\n  mh-port\n  omega\n  hysteresis 2", "    TCP_CHECK {\n    }"));
    expect(m.virtualServers[0]!.services[0]!.flags & IP_VS_SVC_F_SCHED2).toBeTruthy();
    expect(m.virtualServers[0]!.health).toMatchObject({ omega: true, hysteresis: 2 });
  });

  it("bind_port on every checker that connects, and on an SMTP_CHECK host", () => {
    const url = "\n      url {\n        path /\n      }";
    for (const [type, extra] of [["TCP_CHECK", ""], ["HTTP_GET", url], ["SSL_GET", url], ["DNS_CHECK", ""], ["UDP_CHECK", ""], ["PING_CHECK", ""]] as const) {
      expect(params(`    ${type} {\n      bind_port 4000${extra}\n    }`), type).toMatchObject({ bindPort: 4000 });
    }
    expect(params("    SMTP_CHECK {\n      bind_port 4000\n    }")).toMatchObject({ hosts: [expect.objectContaining({ bindPort: 4000 })] });
    expect(params("    SMTP_CHECK {\n      host {\n        connect_ip 10.0.0.9\n        bind_port 4001\n      }\n    }")).toMatchObject({ hosts: [expect.objectContaining({ connectIp: "10.0.0.9", bindPort: 4001 })] });
  });

  it("fast_recovery, misc_timeout, regex_no_match", () => {
    const url = "\n      url {\n        path /\n        regex ok\n        regex_no_match\n      }";
    expect(params(`    HTTP_GET {\n      fast_recovery${url}\n    }`)).toMatchObject({ fastRecovery: true, urls: [expect.objectContaining({ regexNoMatch: true })] });
    expect(params(`    SSL_GET {\n      fast_recovery${url}\n    }`)).toMatchObject({ fastRecovery: true });
    expect(params("    MISC_CHECK {\n      misc_path /bin/true\n      misc_timeout 9\n    }")).toMatchObject({ timeoutMs: 9000 });
  });

  it("FILE_CHECK track_file is the tracked file", () => {
    const m = map("track_file TF {\n  file /run/rs.state\n}\n" + vs("", "    FILE_CHECK {\n      track_file TF\n    }"));
    expect(m.checkers[0]!.spec).toMatchObject({ kind: "FILE_CHECK", params: { file: "/run/rs.state" } });
  });
});
