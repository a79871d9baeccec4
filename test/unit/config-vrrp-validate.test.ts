import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { check, fakeEnv, inst } from "../helpers/config-vrrp.ts";

const GOOD = inst("VI_1", "");

describe("validateVrrp: a clean configuration", () => {
  it("says nothing about a minimal valid instance", () => {
    expect(check(GOOD).msgs).toEqual([]);
  });
});

describe("validateVrrp: each kind of mistake, with its message and position", () => {
  const cases: [string, string, string[]][] = [
    ["missing virtual_router_id", "vrrp_instance A {\n interface eth0\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
      ["1:1 error: (A) the virtual router id must be set (virtual_router_id 1..255)"]],
    ["missing interface without unicast peers", "vrrp_instance A {\n virtual_router_id 5\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
      ["1:1 error: (A) no interface: set 'interface' (only an instance with unicast peers may omit it)"]],
    ["interface that does not exist", inst("A", "", "interface ens192\n virtual_router_id 5\n virtual_ipaddress {\n  10.0.0.1\n }"),
      ["2:2 warning: WARNING - interface ens192 for vrrp_instance A doesn't exist"]],
    ["no VIP", inst("A", "", "interface eth0\n virtual_router_id 5"),
      ["1:1 warning: (A) No VIP specified; at least one is sensible"]],
    ["VIPs of mixed families", inst("A", " virtual_ipaddress {\n  fe80::1\n }"),
      ["8:3 error: (A): address family must match VRRP instance [fe80::1] - IPv4 expected"]],
    ["VIP on an interface that does not exist", inst("A", " virtual_ipaddress_excluded {\n  10.0.1.1/24 dev eth9\n }"),
      ["8:3 warning: WARNING - interface eth9 for ip address 10.0.1.1/24 doesn't exist"]],
    ["unicast peer of the other family", inst("A", " unicast_peer {\n  fe80::2\n }"),
      ["8:3 error: Configuration error: VRRP instance[A] and unicast peer address[fe80::2] MUST be of the same family (IPv4)"]],
    ["source address of the other family", inst("A", " mcast_src_ip 2001:db8::1"),
      ["7:2 error: Configuration error: VRRP instance[A] and src address[2001:db8::1] MUST be of the same family (IPv4)"]],
    ["mcast_dst_ip that is not multicast", inst("A", " mcast_dst_ip 10.1.1.1"),
      ["7:2 error: (A) mcast_dst_ip 10.1.1.1 not multicast"]],
    ["track_script naming no vrrp_script", inst("A", " track_script {\n  chk_gone weight 5\n }"),
      ["8:3 warning: (A) track script chk_gone not found, ignoring..."]],
    ["track_file / track_process / track_bfd naming nothing", inst("A", " track_file {\n  f\n }\n track_process {\n  p\n }\n track_bfd {\n  b\n }"),
      ["8:3 warning: (A) track file f not found, ignoring...", "11:3 warning: (A) track process p not found, ignoring...", "14:3 warning: (A) track bfd b not found, ignoring..."]],
    ["virtual route without an interface, and deprecated route words", inst("A", " virtual_routes {\n  10.9.0.0/16 gw 10.0.0.254\n  10.8.0.0/16 via 10.0.0.1 or 10.0.0.2 dev eth0\n  10.7.0.0/16 via 10.0.0.1 no_track\n }"),
      ["8:15 warning: \"gw\" for routes is deprecated. Please use \"via\"",
        "9:28 warning: \"or\" for routes is deprecated. Please use \"nexthop\"",
        "8:3 warning: Warning - cannot track route 10.9.0.0/16 with no interface specified, not tracking"]],
    ["tracked interface that does not exist", inst("A", " track_interface {\n  eth7 weight 10\n }"),
      ["8:3 warning: (A) tracked interface eth7 doesn't exist"]],
    ["nopreempt with state MASTER", inst("A", " state MASTER\n priority 150\n nopreempt"),
      ["9:2 warning: (A) Warning - nopreempt will not work with initial state MASTER - clearing"]],
    ["nopreempt with the owner priority a MASTER gets by default", inst("A", " state MASTER\n nopreempt"),
      ["8:2 warning: (A) nopreempt is incompatible with priority 255. resetting nopreempt"]],
    ["preempt_delay with state MASTER", inst("A", " state MASTER\n priority 150\n preempt_delay 10"),
      ["9:2 warning: (A) Warning - preempt delay will not work with initial state MASTER - clearing"]],
    ["authentication with VRRPv3", inst("A", " version 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }"),
      ["8:2 warning: (A) VRRP version 3 does not support authentication. Ignoring."]],
    ["fractional advert_int with VRRPv2", inst("A", " advert_int 0.5"),
      ["7:2 warning: (A) VRRPv2 advertisement interval 0.5s must be an integer. rounding to 1"]],
    ["authentication without a password", inst("A", " authentication {\n  auth_type PASS\n }"),
      ["7:2 warning: (A) Authentication specified but no password given. Ignoring"]],
    ["the same address twice, in one instance or in two", inst("A", " virtual_ipaddress_excluded {\n  10.0.0.1/32\n }") + inst("B", "", "interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.1/24\n }"),
      ["8:3 warning: (A) address 10.0.0.1 is listed twice", "15:3 warning: (B) address 10.0.0.1 is also managed by vrrp_instance A: the two instances will fight over it"]],
    ["VRRPv3 advert_int too long for its 12-bit field", inst("A", " version 3\n advert_int 50"),
      ["8:2 warning: (A) VRRPv3 advertisement interval 50s is out of range. Must be less than 40.96s. Setting to 40.95s"]],
    ["VRRPv3 advert_int finer than 10 ms", inst("A", " version 3\n advert_int 1.234"),
      ["8:2 warning: (A) VRRPv3 advertisement interval 1.234s must be in units of 10ms - rounding"]],
    ["unicast keyword without unicast peers", inst("A", " unicast_src_ip 10.0.0.7"),
      ["7:2 warning: (A) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."]],
    ["vmac_xmit_base without a VMAC", inst("A", " vmac_xmit_base"),
      ["7:2 warning: (A) vmac_xmit_base is only valid with a vmac"]],
    ["version 2 with IPv6 addresses", inst("A", " version 2", "interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n  fe80::10\n }"),
      ["7:2 error: (A) vrrp_version 2 conflicts with IPv6 addresses (IPv6 needs VRRPv3)"]],
    ["unicast_ttl without unicast peers", inst("A", " unicast_ttl 5"),
      ["7:2 warning: (A): Cannot use unicast_ttl without unicast peers - resetting"]],
    ["use_vmac with unicast but no vmac_xmit_base", inst("A", " use_vmac\n unicast_peer {\n  10.0.0.2\n }"),
      ["7:2 warning: (A) unicast with use_vmac requires vmac_xmit_base - setting"]],
    ["strict mode: MASTER not owner, authentication, preempt_delay",
      "global_defs {\n vrrp_strict\n}\n" + inst("A", " state MASTER\n priority 150\n preempt_delay 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }"),
      // The preempt_delay and authentication verdicts come from the resolved model, reported after the instance checks (check sorts by line).
      ["10:2 warning: (A) State MASTER must match being address owner (strict mode needs priority 255)", "12:2 warning: (A) preempt_delay is incompatible with strict mode - resetting", "13:2 warning: (A) Strict mode does not support authentication. Ignoring."]],
    ["policy rule without a preference", inst("A", " virtual_rules {\n  from 10.1.0.0/16 table 5\n  from 10.2.0.0/16 table 5 preference 100\n }"),
      ["8:3 warning: Rule has no preference specified - keepalived assigns one (16384 and down). This is probably not what you want."]],
    ["interface debounce delay as long as the backup's wait", "interface_up_down_delays {\n eth0 2\n eth1 0.5 0.5\n}\n" + GOOD,
      ["2:2 warning: VI_1: interface eth0 debounce timer(s) not less than 2 * advert_int - resetting"]],
    ["tracking weights on an address owner (own or inherited from the tracked object)",
      "vrrp_script s {\n script /usr/bin/c\n weight 5\n}\ntrack_file tf {\n file /run/tf\n}\nglobal_defs {\n enable_script_security\n}\n" +
      inst("A", " priority 255\n track_interface {\n  eth1 weight 10\n  eth0\n }\n track_script {\n  s\n }\n track_file {\n  tf\n  tf weight 0\n }"),
      ["19:3 warning: (A) ignoring eth1 tracked interface due to address owner", "23:3 warning: (A) ignoring tracked script s with weights due to address_owner",
        "26:3 warning: (A) ignoring weight from tracked file tf due to address_owner. specify weight 0"]],
  ];
  for (const [what, text, expected] of cases) {
    it(what, () => { expect(check(text).msgs).toEqual(expected); });
  }

  it("duplicate VRID on one interface and family; unicast instances with different peers may share one", () => {
    const dup = check(GOOD + inst("VI_2", "", "interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.2/24\n }"));
    expect(dup.msgs).toEqual(["11:2 error: VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"]);
    // Other family, other interface, or disjoint unicast peers: no clash.
    expect(check(GOOD + inst("V6", "", "interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  fe80::5\n }")).msgs).toEqual([]);
    expect(check(GOOD + inst("E1", "", "interface eth1\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.2\n }")).msgs).toEqual([]);
    const u = (n: string, peer: string, vip: string) => inst(n, ` unicast_peer {\n  ${peer}\n }`, `interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  ${vip}\n }`);
    expect(check(u("U1", "10.0.0.8", "10.0.0.1") + u("U2", "10.0.0.9", "10.0.0.2")).msgs).toEqual([]);
    expect(check(u("U1", "10.0.0.8", "10.0.0.1") + u("U2", "10.0.0.8", "10.0.0.2")).msgs).toEqual(["13:2 error: U1 and U2 both use VRID 51 with IPv4 on interface eth0"]);
  });

  it("sync groups: unknown member, instance in two groups, a group of one, an empty group", () => {
    const text = GOOD + inst("VI_2", "", "interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2\n }") +
      "vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n  VI_X\n }\n}\nvrrp_sync_group H {\n group {\n  VI_1\n }\n}\nvrrp_sync_group E {\n group {\n }\n}\n";
    expect(check(text).msgs).toEqual([
      "18:2 warning: Virtual router VI_X specified in sync group G doesn't exist - ignoring",
      "25:2 error: Virtual router VI_1 cannot exist in more than one sync group (G and H)",
      "29:1 warning: Sync group E has no members - removing",
    ]);
    const single = check(GOOD + "vrrp_sync_group S {\n group {\n  VI_1\n }\n}\n");
    expect(single.msgs).toEqual(["10:2 warning: Sync group S has only 1 virtual router(s) - this probably isn't what you want"]);
  });

  it("sync groups: members starting in different states", () => {
    const a = inst("A", " state MASTER\n priority 150");
    const b = inst("B", " state BACKUP", "interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2\n }");
    expect(check(a + b + "vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\n").msgs)
      .toEqual(["19:2 warning: Sync group G mixes initial states MASTER and BACKUP: members should all start in the same state"]);
  });

  it("sync groups: members' tracking weights are dropped unless sync_group_tracking_weight", () => {
    const a = inst("A", " track_interface {\n  eth1 weight 5\n }");
    const b = inst("B", "", "interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2\n }");
    const grp = (extra: string) => `vrrp_sync_group G {\n group {\n  A\n  B\n }\n${extra}}\n`;
    expect(check(a + b + grp("")).msgs).toEqual(["8:3 warning: (A) ignoring eth1 tracked interface weight due to SYNC group"]);
    expect(check(a + b + grp(" sync_group_tracking_weight\n")).msgs).toEqual([]);
  });

  it("a missing or non-executable script warns at its 'script' line (keepalived disables it)", () => {
    const text = 'vrrp_script chk_nginx {\n  script "/etc/keepalived/chk_nginx.sh"\n}\nvrrp_script chk_txt {\n  script "/etc/ok/run.txt --x"\n}\n' +
      inst("A", " track_script {\n  chk_nginx\n  chk_txt\n }\n notify_master /opt/missing.sh");
    const r = check("global_defs {\n enable_script_security\n}\n" + text);
    expect(r.msgs).toEqual([
      "20:2 warning: Disabling vrrp_instance A notify_master since '/opt/missing.sh' is not found",
      "5:3 warning: Disabling track script chk_nginx since '/etc/keepalived/chk_nginx.sh' is not found",
      "8:3 warning: Disabling track script chk_txt since '/etc/ok/run.txt' is not executable",
    ]);
  });

  it("an untracked vrrp_script is not run, so it is not checked", () => {
    expect(check('vrrp_script unused {\n  script "/nonexistent"\n}\n' + GOOD).msgs).toEqual([]);
  });

  it("script security: running scripts as root without enable_script_security", () => {
    const script = 'vrrp_script s {\n  script "/usr/bin/check"\n}\n' + inst("A", " track_script {\n  s\n }");
    expect(check(script).msgs).toEqual([
      "2:3 warning: SECURITY VIOLATION - scripts are being executed but script_security not enabled. Add 'enable_script_security' to global_defs, or run scripts as a non-root 'script_user' (keepalived -t exits 6 for this)",
    ]);
    expect(check("global_defs {\n enable_script_security\n}\n" + script).msgs).toEqual([]);
    expect(check("global_defs {\n script_user nobody\n}\n" + script).msgs).toEqual([]);
    // keepalived_script is the default user when it exists.
    expect(check(script, fakeEnv({ userExists: (u) => u === "keepalived_script" })).msgs).toEqual([]);
    // A notify script that runs as root counts too.
    expect(check(inst("A", " notify /usr/bin/n.sh")).msgs).toHaveLength(1);
  });

  it("users that do not exist", () => {
    const text = "global_defs {\n script_user gpadmin\n}\nvrrp_script s {\n  script /usr/bin/c\n  user ghost\n}\n" +
      inst("A", " track_script {\n  s\n }\n notify_backup /usr/bin/b.sh phantom");
    expect(check(text).msgs).toEqual([
      "2:2 error: Error setting global script uid/gid: user 'gpadmin' does not exist",
      "17:2 error: Unable to set uid/gid for vrrp_instance A notify_backup: user 'phantom' does not exist",
      "6:3 error: Unable to set uid/gid for vrrp_script s: user 'ghost' does not exist",
    ]);
  });

  it("tracked objects missing their required setting", () => {
    const text = "vrrp_script s {\n  interval 2\n}\ntrack_file f {\n  weight 2\n}\nvrrp_track_process p {\n  quorum 1\n}\nbfd_instance b {\n  min_rx 5\n}\n" + GOOD;
    expect(check(text).msgs).toEqual([
      "1:1 error: No script set for vrrp_script s - removing",
      "4:1 error: track_file f has no file set - removing",
      "7:1 error: track process 'p' process name not specified",
      "10:1 error: Configuration error: BFD instance b has no neighbor address set, disabling instance",
    ]);
  });

  it("a vrrp_script timeout longer than its interval", () => {
    expect(check("vrrp_script s {\n  script /usr/bin/c\n  interval 2\n  timeout 5\n}\n" + GOOD).msgs)
      .toEqual(["4:3 warning: vrrp_script s: timeout 5s is longer than interval 2s; runs will overlap"]);
  });

  it("garp_group without delays, on interfaces that do not exist", () => {
    expect(check("garp_group {\n  interfaces {\n    eth0\n    eth5\n  }\n}\n" + GOOD).msgs).toEqual([
      "1:1 warning: garp_group does not have any delay set - removing",
      "2:3 warning: WARNING - interface eth5 specified for garp_group doesn't exist",
    ]);
  });

  it("static items naming an unknown track_group, track groups naming unknown instances", () => {
    const text = "track_group TG {\n group {\n  VI_9\n }\n}\nstatic_ipaddress {\n 192.168.1.1/24 dev eth0 track_group NOPE\n}\nstatic_rules {\n from 10.9.0.0/16 table 9 pref 10 track_group TG\n}\n" + GOOD;
    expect(check(text).msgs).toEqual([
      "2:2 warning: track_group TG: vrrp_instance VI_9 doesn't exist",
      "7:2 warning: track_group NOPE not found, ignoring",
    ]);
  });

  it("linkbeat and up/down delays on unknown interfaces are fatal unless dynamic_interfaces", () => {
    const text = "linkbeat_interfaces {\n eth8\n}\ninterface_up_down_delays {\n eth9 1\n}\n" + GOOD;
    expect(check(text).msgs).toEqual([
      "2:2 error: unknown interface eth8 specified for linkbeat interface",
      "5:2 error: unknown interface eth9 specified for up/down delay",
    ]);
    expect(check("global_defs {\n dynamic_interfaces\n}\n" + text).msgs).toEqual([]);
  });

  it("lvs_sync_daemon following an instance that does not exist", () => {
    expect(check("global_defs {\n lvs_sync_daemon eth0 VI_404\n}\n" + GOOD).msgs).toEqual(["2:2 warning: lvs_sync_daemon: vrrp_instance VI_404 doesn't exist"]);
  });

  it("priority 255 claims address ownership: checked when the machine's addresses are known", () => {
    const env = fakeEnv({ interfaceAddresses: (n) => (n === "eth0" ? ["10.0.0.1"] : []) });
    const owner = inst("A", " priority 255", "interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.0.99/24\n }");
    expect(check(owner, env).msgs).toEqual(["6:3 warning: (A) priority 255 means address owner, but 10.0.0.99 is not an address of eth0"]);
  });

  it("skips interface checks when the environment cannot tell", () => {
    const { interfaceExists: _drop, ...rest } = fakeEnv();
    expect(check(inst("A", "", "interface ens999\n virtual_router_id 5\n virtual_ipaddress {\n  10.0.0.1\n }"), rest).msgs).toEqual([]);
  });
});

describe("the seed configuration's VRRP part", () => {
  it("reports what keepalived 2.2.7 reports, at the same lines", () => {
    const text = readFileSync(new URL("../fixtures/seed-keepalived.conf", import.meta.url), "utf8");
    // Lines 57 and on are the LVS part (virtual_server blocks), checked elsewhere.
    const msgs = check(text).msgs.filter((m) => Number(m.split(":")[0]) < 57);
    expect(msgs).toEqual([
      "31:5 warning: WARNING - interface ens192 for vrrp_instance VI_1 doesn't exist",
      "48:5 warning: (VI_1) Warning - nopreempt will not work with initial state MASTER - clearing",
      "50:5 warning: (VI_1) Warning - preempt delay will not work with initial state MASTER - clearing",
      "20:5 warning: Disabling track script chk_haproxy since '/etc/keepalived/chk_nginx.sh' is not found",
    ]);
  });
});

describe("keepalived's shipped samples", () => {
  const dir = "/usr/share/doc/keepalived/samples";
  const files = readdirSync(dir).filter((f) => f.startsWith("keepalived.conf"));

  it("are all read and checked without a crash, every message placed", () => {
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const r = check(readFileSync(join(dir, f), "utf8"));
      for (const d of r.diag.list) {
        // Only machine-wide findings (script security) may lack a position, and only when the script has none.
        if (!d.loc) expect(d.message, f).toMatch(/SECURITY VIOLATION/);
      }
    }
  });

  it("flag the old sync group syntax like keepalived 2.2.7 ('Unknown keyword')", () => {
    const r = check(readFileSync(join(dir, "keepalived.conf.vrrp.lvs_syncd"), "utf8"));
    expect(r.msgs.filter((m) => m.includes("VG1") || m.includes("lvs_sync_daemon_interface"))).toEqual([
      "4:3 warning: unknown keyword 'VI_2' in vrrp_sync_group VG1",
      "5:3 warning: unknown keyword 'VI_3' in vrrp_sync_group VG1",
      "11:5 warning: (VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon",
      "3:1 warning: Sync group VG1 has no members - removing",
    ]);
  });
});
