import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { blockToToml, parseTomlBlock, type TomlCtx } from "../../src/config/schema.ts";
import { itemLoc, type TrackRef, type VirtualIpConfig } from "../../src/config/spec/common.ts";
import {
  authenticationSpec, trackGroupSpec, type AuthenticationConfig, type TrackGroupConfig,
  bfdInstanceSpec, garpGroupSpec, instancePriority, trackFileSpec, vrrpInstanceSpec, vrrpRootFields, vrrpScriptSpec,
  vrrpSyncGroupSpec, vrrpTrackProcessSpec,
  type BfdInstanceConfig, type GarpGroupConfig, type TrackFileConfig, type VrrpInstanceConfig, type VrrpRootConfig,
  type VrrpScriptConfig, type VrrpSyncGroupConfig, type VrrpTrackProcessConfig,
} from "../../src/config/spec/vrrp.ts";
import { inst, parse } from "../helpers/config-vrrp.ts";

const one = (body: string, head?: string) => {
  const r = parse(inst("VI", body, head));
  const v = r.eff as unknown as VrrpRootConfig;
  return { ...r, i: v.vrrp_instance.VI!, v };
};

describe("vrrp_instance: defaults and the effective model", () => {
  it("fills defaults from keepalived.conf(5)", () => {
    const { i, msgs } = one("");
    expect(msgs).toEqual([]);
    expect(i).toMatchObject({
      state: "BACKUP", interface: "eth0", virtual_router_id: 51, advert_int: 1, nopreempt: false, preempt_delay: 0, debug: 0,
      track_script: [], unicast_peer: [], virtual_routes: [], virtual_rules: [], dont_track_primary: false,
    });
    expect(i.priority).toBeUndefined();
    expect(instancePriority(i)).toBe(100);
    // keepalived makes a MASTER with no priority the address owner.
    expect(instancePriority({ state: "MASTER" })).toBe(255);
    expect(instancePriority({ state: "MASTER", priority: 150 })).toBe(150);
  });

  it("the exported interfaces list exactly the spec keys", () => {
    const keysOf = (fields: { key: string }[]) => fields.map((f) => f.key).sort();
    const inst: Record<keyof VrrpInstanceConfig, true> = {
      state: true, interface: true, vrf: true, use_vmac: true, use_vmac_addr: true, vmac_xmit_base: true, use_ipvlan: true, native_ipv6: true,
      dont_track_primary: true, track_interface: true, track_script: true, track_file: true, track_process: true, track_bfd: true,
      mcast_src_ip: true, unicast_src_ip: true, mcast_dst_ip: true, track_src_ip: true, version: true, check_unicast_src: true,
      unicast_peer: true, unicast_fault_no_peer: true, unicast_ttl: true, old_unicast_checksum: true, garp_master_delay: true,
      garp_master_repeat: true, garp_master_refresh: true, garp_master_refresh_repeat: true, garp_lower_prio_delay: true,
      garp_lower_prio_repeat: true, garp_extra_if: true, down_timer_adverts: true, lower_prio_no_advert: true,
      higher_prio_send_advert: true, virtual_router_id: true, priority: true, advert_int: true, authentication: true,
      virtual_ipaddress: true, virtual_ipaddress_excluded: true, promote_secondaries: true, linkbeat_use_polling: true,
      virtual_routes: true, virtual_rules: true, accept: true, skip_check_adv_addr: true, strict_mode: true, nopreempt: true,
      preempt_delay: true, debug: true, notify_master: true, notify_backup: true, notify_fault: true, notify_stop: true, notify: true,
      notify_deleted: true, notify_master_rx_lower_pri: true, notify_priority_changes: true, smtp_alert: true, kernel_rx_buf_size: true,
      lvs_sync_daemon_interface: true,
    };
    expect(keysOf(vrrpInstanceSpec.fields)).toEqual(Object.keys(inst).sort());
    const script: Record<keyof VrrpScriptConfig, true> = { script: true, interval: true, timeout: true, weight: true, rise: true, fall: true, user: true, init_fail: true };
    expect(keysOf(vrrpScriptSpec.fields)).toEqual(Object.keys(script).sort());
    const proc: Record<keyof VrrpTrackProcessConfig, true> = { process: true, param_match: true, weight: true, quorum: true, quorum_max: true, fork_delay: true, terminate_delay: true, delay: true, full_command: true };
    expect(keysOf(vrrpTrackProcessSpec.fields)).toEqual(Object.keys(proc).sort());
    const file: Record<keyof TrackFileConfig, true> = { file: true, weight: true, init_file: true };
    expect(keysOf(trackFileSpec.fields)).toEqual(Object.keys(file).sort());
    const sg: Record<keyof VrrpSyncGroupConfig, true> = {
      group: true, track_interface: true, track_script: true, track_file: true, track_process: true, track_bfd: true, notify_master: true,
      notify_backup: true, notify_fault: true, notify_stop: true, notify: true, notify_priority_changes: true, smtp_alert: true,
      global_tracking: true, sync_group_tracking_weight: true,
    };
    expect(keysOf(vrrpSyncGroupSpec.fields)).toEqual(Object.keys(sg).sort());
    const gg: Record<keyof GarpGroupConfig, true> = { garp_interval: true, gna_interval: true, interface: true, interfaces: true };
    expect(keysOf(garpGroupSpec.fields)).toEqual(Object.keys(gg).sort());
    const bfd: Record<keyof BfdInstanceConfig, true> = {
      neighbor_ip: true, source_ip: true, min_rx: true, min_tx: true, idle_tx: true, multiplier: true, passive: true, ttl: true,
      hoplimit: true, max_hops: true, weight: true, vrrp: true, checker: true,
    };
    expect(keysOf(bfdInstanceSpec.fields)).toEqual(Object.keys(bfd).sort());
    const auth: Record<keyof AuthenticationConfig, true> = { auth_type: true, auth_pass: true };
    expect(keysOf(authenticationSpec.fields)).toEqual(Object.keys(auth).sort());
    const tg: Record<keyof TrackGroupConfig, true> = { group: true };
    expect(keysOf(trackGroupSpec.fields)).toEqual(Object.keys(tg).sort());
    const root: Record<keyof VrrpRootConfig, true> = {
      linkbeat_interfaces: true, interface_up_down_delays: true, track_group: true, static_ipaddress: true, static_routes: true,
      static_rules: true, track_file: true, vrrp_script: true, vrrp_track_process: true, bfd_instance: true, garp_group: true,
      vrrp_sync_group: true, vrrp_instance: true,
    };
    expect(keysOf(vrrpRootFields)).toEqual(Object.keys(root).sort());
  });

  it("every field is documented with a default or a defaultDoc where keepalived has one", () => {
    for (const spec of [vrrpInstanceSpec, vrrpScriptSpec, vrrpTrackProcessSpec, trackFileSpec, vrrpSyncGroupSpec, garpGroupSpec, bfdInstanceSpec]) {
      for (const f of spec.fields) expect(f.doc.length, `${spec.name}.${f.key}`).toBeGreaterThan(10);
    }
  });
});

describe("vrrp_instance: keyword families", () => {
  it("reads identity, timers and election settings", () => {
    const { i, msgs } = one(` state MASTER
 priority 150
 advert_int 0.5
 version 3
 preempt_delay 4.12
 debug 2
 down_timer_adverts 4
 strict_mode off
 skip_check_adv_addr
 lower_prio_no_advert
 higher_prio_send_advert false
 kernel_rx_buf_size 65536
 no_accept
 smtp_alert
 notify_priority_changes`);
    expect(msgs).toEqual([]);
    expect(i).toMatchObject({
      state: "MASTER", priority: 150, advert_int: 0.5, version: 3, preempt_delay: 4.12, debug: 2, down_timer_adverts: 4, strict_mode: false,
      skip_check_adv_addr: true, lower_prio_no_advert: true, higher_prio_send_advert: false, kernel_rx_buf_size: 65536, accept: false,
      smtp_alert: true, notify_priority_changes: true,
    });
  });

  it("accept/no_accept and nopreempt/preempt are one setting each; the last one wins", () => {
    expect(one(" no_accept\n accept").i.accept).toBe(true);
    expect(one(" nopreempt\n preempt").i.nopreempt).toBe(false);
    expect(one(" preempt\n nopreempt").i.nopreempt).toBe(true);
  });

  it("checks ranges with keepalived's limits", () => {
    const { msgs } = one(" virtual_router_id 0\n priority 256\n advert_int 0\n preempt_delay 1001\n unicast_ttl 256\n debug 5\n down_timer_adverts 0");
    expect(msgs).toEqual([
      "7:20 error: 'virtual_router_id' 0 is out of range 1..255",
      "8:11 error: 'priority' 256 is out of range 1..255",
      "9:13 error: 'advert_int' 0 is out of range 0.01..255",
      "10:16 error: 'preempt_delay' 1001 is out of range 0..1000",
      "11:14 error: 'unicast_ttl' 256 is out of range 0..255",
      "12:8 error: 'debug' 5 is out of range 0..4",
      "13:21 error: 'down_timer_adverts' 0 is out of range 1..100",
    ]);
  });

  it("treats an unknown state like keepalived: warning, BACKUP", () => {
    const { i, msgs } = one(" state master");
    expect(msgs).toEqual(["7:8 warning: unknown state 'master' (must be MASTER or BACKUP, in capitals), defaulting to BACKUP"]);
    expect(i.state).toBe("BACKUP");
  });

  it("reads virtual_ipaddress lines with every ip-address option", () => {
    const { i, msgs } = one(` virtual_ipaddress {
  192.168.200.17/24 dev eth1 brd + scope global label eth1:vip home -nodad noprefixroute autojoin no_track
  192.168.200.18 broadcast 192.168.200.255 peer 192.168.200.1 use_vmac mngtmpaddr preferred_lft forever
 }
 virtual_ipaddress_excluded {
  2001:db8::1/64 dev eth0 preferred_lft 0
 }`, "interface eth0\n virtual_router_id 51");
    expect(msgs).toEqual([]);
    expect(i.virtual_ipaddress).toEqual<VirtualIpConfig[]>([
      { address: "192.168.200.17", family: 4, prefix: 24, dev: "eth1", brd: "+", scope: "global", label: "eth1:vip", home: true, nodad: true,
        mngtmpaddr: false, noprefixroute: true, autojoin: true, no_track: true, use_vmac: false },
      { address: "192.168.200.18", family: 4, prefix: 32, brd: "192.168.200.255", peer: "192.168.200.1", home: false, nodad: false,
        mngtmpaddr: true, noprefixroute: false, autojoin: false, no_track: false, use_vmac: true, preferred_lft: "forever" },
    ]);
    expect(i.virtual_ipaddress_excluded[0]).toMatchObject({ address: "2001:db8::1", family: 6, prefix: 64, preferred_lft: 0 });
    expect(itemLoc(i.virtual_ipaddress[1]!)).toEqual({ file: "k.conf", line: 6, col: 3 });
  });

  it("rejects bad address lines and clamps a long prefix like keepalived", () => {
    const { i, msgs } = one(" virtual_ipaddress {\n  10.0.0.1/33\n  XX.XX.1.1\n  10.0.0.2 scope planet\n  10.0.0.3 dev\n  10.0.0.4 frobnicate\n }", "interface eth0\n virtual_router_id 51");
    expect(msgs).toEqual([
      "5:3 warning: invalid address prefix len 33 for address 10.0.0.1/33 - using 32",
      "6:3 error: 'XX.XX.1.1' is not a valid IP address",
      "7:18 error: '10.0.0.2': unknown scope 'planet' (site, link, host, nowhere, global)",
      "8:12 error: '10.0.0.3': 'dev' needs a value",
      "9:12 error: '10.0.0.4': unknown address option 'frobnicate'",
    ]);
    expect(i.virtual_ipaddress.map((v) => `${v.address}/${v.prefix}`)).toEqual(["10.0.0.1/32"]);
  });

  it("reads routes and rules in ip-route / ip-rule syntax", () => {
    const { i, msgs } = one(` virtual_routes {
  src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
  192.168.111.0/24 dev eth2 no_track
  blackhole 192.168.114.0/24
  0.0.0.0/0 gw 192.168.0.1 table 100
  2001:db8:1::/64 via 2001:db8::1 metric 5
  192.168.201.0/24 via 10.0.0.1 ssthresh lock 107 onlink
 }
 virtual_rules {
  from 192.168.2.0/24 table 1
  to 192.168.2.0/24 table 1 no_track
  from 2001:db8::/64 lookup 7 preference 100
 }`);
    expect(msgs).toEqual(['11:13 warning: "gw" for routes is deprecated. Please use "via"']);
    expect(i.virtual_routes.map((r) => [r.to, r.family, r.via, r.dev, r.table, r.type, r.src, r.no_track])).toEqual([
      ["192.168.109.0/24", 4, "192.168.200.254", "eth1", undefined, undefined, "192.168.100.1", false],
      ["192.168.111.0/24", 4, undefined, "eth2", undefined, undefined, undefined, true],
      ["192.168.114.0/24", 4, undefined, undefined, undefined, "blackhole", undefined, false],
      ["0.0.0.0/0", 4, "192.168.0.1", undefined, "100", undefined, undefined, false],
      ["2001:db8:1::/64", 6, "2001:db8::1", undefined, undefined, undefined, undefined, false],
      ["192.168.201.0/24", 4, "10.0.0.1", undefined, undefined, undefined, undefined, false],
    ]);
    expect(i.virtual_routes[1]!.words).toEqual(["192.168.111.0/24", "dev", "eth2", "no_track"]);
    expect(i.virtual_rules.map((r) => [r.from, r.to, r.table, r.family, r.preference, r.no_track])).toEqual([
      ["192.168.2.0/24", undefined, "1", 4, undefined, false],
      [undefined, "192.168.2.0/24", "1", 4, undefined, true],
      ["2001:db8::/64", undefined, "7", 6, 100, false],
    ]);
  });

  it("rejects routes without a destination and bad gateways", () => {
    const { msgs } = one(" virtual_routes {\n  dev eth0\n  10.1.0.0/16 via nowhere\n }");
    expect(msgs).toEqual([
      "8:3 error: route 'dev eth0': no destination address",
      "9:19 error: route '10.1.0.0/16 via nowhere': 'nowhere' is not a valid gateway address",
    ]);
  });

  it("reads tracking with weights and reverse, in block and one-line forms", () => {
    const { i, msgs } = one(` track_interface {
  eth0
  eth1 weight -20 reverse
 }
 track_script {
  chk_a
  chk_b weight 10 noreverse
 }
 track_file {
  f1 weight -254
 }
 track_process {
  p1 weight 254 reverse
 }
 track_bfd {
  b1 weight 3
 }`);
    expect(msgs).toEqual([]);
    expect(i.track_interface).toEqual<TrackRef[]>([{ name: "eth0", reverse: false }, { name: "eth1", weight: -20, reverse: true }]);
    expect(i.track_script).toEqual<TrackRef[]>([{ name: "chk_a", reverse: false }, { name: "chk_b", weight: 10, reverse: false }]);
    expect(i.track_file).toEqual([{ name: "f1", weight: -254, reverse: false }]);
    expect(i.track_process).toEqual([{ name: "p1", weight: 254, reverse: true }]);
    expect(i.track_bfd).toEqual([{ name: "b1", weight: 3, reverse: false }]);
  });

  it("checks tracking weight ranges per kind (-253..253 scripts, -254..254 files)", () => {
    const { msgs } = one(" track_script {\n  s weight 254\n }\n track_file {\n  f weight 255\n }\n track_interface {\n  eth0 weight 5 sideways\n }");
    expect(msgs).toEqual([
      "8:12 error: 's': weight 254 is out of range -253..253",
      "11:12 error: 'f': weight 255 is out of range -254..254",
      "14:17 error: 'eth0': unknown option 'sideways'",
    ]);
  });

  it("reads unicast peers with TTL bounds", () => {
    const { i, msgs } = one(" unicast_src_ip 10.0.0.2\n unicast_ttl 3\n unicast_peer {\n  10.0.0.3 min_ttl 250 max_ttl 255\n  10.0.0.4\n }\n unicast_fault_no_peer\n check_unicast_src");
    expect(msgs).toEqual([]);
    expect(i).toMatchObject({ unicast_src_ip: "10.0.0.2", unicast_ttl: 3, unicast_fault_no_peer: true, check_unicast_src: true });
    expect(i.unicast_peer).toEqual([{ address: "10.0.0.3", family: 4, min_ttl: 250, max_ttl: 255 }, { address: "10.0.0.4", family: 4 }]);
    expect(one(" unicast_peer {\n  10.0.0.3 min_ttl 9 max_ttl 2\n  <peer-ip>\n }").msgs).toEqual([
      "8:3 error: unicast peer 10.0.0.3: min_ttl 9 is greater than max_ttl 2",
      "9:3 error: malformed unicast peer address '<peer-ip>'",
    ]);
  });

  it("reads notify scripts with user and group, and notify_deleted with or without a script", () => {
    const { i, msgs } = one(` notify_master "/usr/bin/to_master.sh VI" www www
 notify_backup /usr/bin/to_backup.sh
 notify /usr/bin/notify.sh nobody
 notify_deleted
 notify_master_rx_lower_pri /usr/bin/lower.sh`);
    expect(msgs).toEqual([]);
    expect(i.notify_master).toEqual({ command: "/usr/bin/to_master.sh VI", user: "www", group: "www" });
    expect(i.notify_backup).toEqual({ command: "/usr/bin/to_backup.sh" });
    expect(i.notify).toEqual({ command: "/usr/bin/notify.sh", user: "nobody" });
    expect(i.notify_deleted).toEqual({});
    expect(i.notify_master_rx_lower_pri).toEqual({ command: "/usr/bin/lower.sh" });
    expect(one(" notify_deleted /usr/bin/del.sh").i.notify_deleted).toEqual({ command: "/usr/bin/del.sh" });
  });

  it("reads VMAC, ipvlan and GARP settings", () => {
    const { i, msgs } = one(` use_vmac vrrp.51 02:00:5e:00:01
 vmac_xmit_base
 use_vmac_addr
 garp_master_delay 10
 garp_master_repeat 1
 garp_master_refresh 60
 garp_master_refresh_repeat 2
 garp_lower_prio_delay 3
 garp_lower_prio_repeat 0
 garp_extra_if all 100
 promote_secondaries
 dont_track_primary
 track_src_ip
 mcast_dst_ip 224.0.0.100`);
    expect(msgs).toEqual([]);
    expect(i).toMatchObject({
      use_vmac: { name: "vrrp.51", mac: "02:00:5e:00:01" }, vmac_xmit_base: true, use_vmac_addr: true, garp_master_delay: 10,
      garp_master_repeat: 1, garp_master_refresh: 60, garp_master_refresh_repeat: 2, garp_lower_prio_delay: 3, garp_lower_prio_repeat: 0,
      garp_extra_if: { all: true, interval: 100 }, promote_secondaries: true, dont_track_primary: true, track_src_ip: true, mcast_dst_ip: "224.0.0.100",
    });
    expect(one(" use_vmac").i.use_vmac).toEqual({});
    expect(one(" use_ipvlan ipv1 10.0.0.9/24 private").i.use_ipvlan).toEqual({ name: "ipv1", address: "10.0.0.9/24", mode: "private" });
    expect(one(" use_vmac 01:00:5e:00:01:02").msgs).toEqual(["7:11 error: VMAC MAC address is multicast 01:00:5e:00:01:02"]);
    expect(one(" garp_master_repeat 0").msgs).toEqual(["7:21 error: 'garp_master_repeat' 0 is out of range >= 1"]);
  });

  it("reads authentication, truncates auth_pass to 8 characters and refuses AH", () => {
    const pass = one(" authentication {\n  auth_type PASS\n  auth_pass 123456789abc\n }");
    expect(pass.msgs).toEqual(["9:3 warning: Truncating auth_pass to 8 characters"]);
    expect(pass.i.authentication).toEqual({ auth_type: "PASS", auth_pass: "12345678" });
    const ah = one(" authentication {\n  auth_type AH\n  auth_pass x\n }");
    expect(ah.msgs).toEqual(["8:3 error: auth_type AH (IPsec authentication header) is not supported by lbctl: use PASS or remove the authentication block"]);
    expect(one(" authentication {\n  auth_type NONE\n }").msgs).toEqual(["8:13 error: 'auth_type' must be one of PASS, AH, got 'NONE'"]);
  });

  it("warns at deprecated keywords naming what replaces them", () => {
    const { i, msgs } = one(" vmac_garp_intvl 30\n lvs_sync_daemon_interface eth1\n linkbeat_use_polling\n native_ipv6");
    expect(msgs).toEqual([
      "7:2 warning: 'vmac_garp_intvl' is deprecated, use 'garp_extra_if'",
      "8:2 warning: (VI) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon",
      "9:2 warning: (VI) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block",
      "10:2 warning: (VI) 'native_ipv6' is deprecated: the virtual addresses decide the address family",
    ]);
    expect(i.garp_extra_if).toEqual({ all: false, interval: 30 });
  });

  it("keeps keywords of older versions out of the model, saying what replaces them", () => {
    const { i, msgs } = one(" ha_suspend\n vrrp_unicast_bind 10.0.0.5\n vrrp_unicast_peer 10.0.0.6");
    expect(msgs).toEqual([
      "7:2 warning: 'ha_suspend' was removed in keepalived 2.0 (2.2.7 says \"Unknown keyword 'ha_suspend'\"): ignored; remove it",
      "8:2 warning: 'vrrp_unicast_bind' is not a keepalived 2.2.7 keyword: ignored; use 'unicast_src_ip ADDRESS'",
      "9:2 warning: 'vrrp_unicast_peer' is not a keepalived 2.2.7 keyword: ignored; use a 'unicast_peer { ADDRESS }' block",
    ]);
    expect(i.unicast_src_ip).toBeUndefined();
  });

  it("names keywords keepalived 2.2.7 does not know", () => {
    expect(one(" no_virtual_ipaddress").msgs).toEqual(["7:2 warning: unknown keyword 'no_virtual_ipaddress' in vrrp_instance VI"]);
  });
});

describe("other VRRP blocks", () => {
  it("vrrp_script: defaults, weight with reverse, user, ranges", () => {
    const r = parse(`vrrp_script chk {
  script "/usr/bin/check --quick"
  interval 2
  timeout 1
  weight -20 reverse
  rise 2
  fall 3
  user nobody nogroup
  init_fail
}
vrrp_script plain {
  script /usr/bin/true
}
vrrp_script bad {
  script /usr/bin/x
  weight 254
  interval 0
  rise 0
}`);
    const v = r.eff as unknown as VrrpRootConfig;
    expect(v.vrrp_script.chk).toEqual({ script: "/usr/bin/check --quick", interval: 2, timeout: 1, weight: { value: -20, reverse: true }, rise: 2, fall: 3, user: { user: "nobody", group: "nogroup" }, init_fail: true });
    expect(v.vrrp_script.plain).toEqual({ script: "/usr/bin/true", interval: 1, weight: { value: 0, reverse: false }, rise: 1, fall: 1, init_fail: false });
    expect(r.msgs).toEqual([
      "16:10 error: 'weight' 254 is out of range -253..253",
      "17:12 error: 'interval' 0 is out of range >= 1",
      "18:8 error: 'rise' 0 is out of range >= 1",
    ]);
  });

  it("track_file and its deprecated spelling vrrp_track_file", () => {
    const r = parse("vrrp_track_file tf {\n  file /run/prio\n  weight -2 reverse\n  init_file 5 overwrite\n}\ntrack_file t2 {\n  file /run/p2\n}\n");
    expect(r.msgs).toEqual(["1:1 warning: 'vrrp_track_file' is deprecated, use 'track_file'"]);
    const v = r.eff as unknown as VrrpRootConfig;
    expect(v.track_file.tf).toEqual({ file: "/run/prio", weight: { value: -2, reverse: true }, init_file: { value: 5, overwrite: true } });
    expect(v.track_file.t2).toEqual({ file: "/run/p2", weight: { value: 1, reverse: false } });
  });

  it("vrrp_track_process", () => {
    const r = parse("vrrp_track_process nginx {\n  process nginx -g daemon\n  param_match partial\n  weight 10 reverse\n  quorum 2\n  quorum_max 4\n  delay 0.5\n  full_command\n}\nvrrp_track_process q {\n  process x\n  quorum 3\n  quorum_max 2\n}\n");
    expect(r.msgs).toEqual(["13:3 error: quorum_max is less than quorum"]);
    const v = r.eff as unknown as VrrpRootConfig;
    // 2.2.7 tracks a process with weight 0 by default (its man page says 1; --dump-conf shows 0).
    expect(v.vrrp_track_process.q).toMatchObject({ weight: { value: 0, reverse: false }, full_command: false });
    expect(v.vrrp_track_process.nginx).toEqual({ process: ["nginx", "-g", "daemon"], param_match: "partial", weight: { value: 10, reverse: true }, quorum: 2, quorum_max: 4, delay: 0.5, full_command: true });
  });

  it("vrrp_sync_group with tracking, notify and the deprecated global_tracking", () => {
    const r = parse("vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  track_script {\n    s weight 5\n  }\n  notify_master /usr/bin/m.sh\n  smtp_alert\n  global_tracking\n  sync_group_tracking_weight\n  notify_priority_changes true\n}\n");
    expect(r.msgs).toEqual(["11:3 warning: (G) global_tracking is deprecated. Use track_interface/script/file on the sync group"]);
    const v = r.eff as unknown as VrrpRootConfig;
    expect(v.vrrp_sync_group.G).toMatchObject({ group: ["VI_1", "VI_2"], track_script: [{ name: "s", weight: 5, reverse: false }], notify_master: { command: "/usr/bin/m.sh" }, smtp_alert: true, global_tracking: true, sync_group_tracking_weight: true, notify_priority_changes: true });
  });

  it("garp_group (repeatable), track_group, linkbeat_interfaces, interface_up_down_delays, static blocks", () => {
    const r = parse(`garp_group {
  garp_interval 0.001
  gna_interval 0.002
  interface eth0
}
garp_group {
  garp_interval 0.5
  interfaces {
    eth1
    eth2
  }
}
track_group TG {
  group {
    VI_1
  }
}
linkbeat_interfaces {
  eth2
  enp2s0 ETHTOOL
}
interface_up_down_delays {
  eth0 2 1.5
  eth1 3
}
static_ipaddress {
  192.168.1.1/24 dev eth0 scope global track_group TG
}
static_routes {
  192.168.2.0/24 via 192.168.1.100 dev eth0 track_group TG
}
static_rules {
  from 192.168.2.0/24 table 1 track_group TG
}`);
    expect(r.msgs).toEqual([]);
    const v = r.eff as unknown as VrrpRootConfig;
    expect(v.garp_group).toEqual([{ garp_interval: 0.001, gna_interval: 0.002, interface: "eth0", interfaces: [] }, { garp_interval: 0.5, interfaces: ["eth1", "eth2"] }]);
    expect(v.track_group.TG).toEqual({ group: ["VI_1"] });
    expect(v.linkbeat_interfaces).toEqual([{ interface: "eth2" }, { interface: "enp2s0", method: "ETHTOOL" }]);
    expect(v.interface_up_down_delays).toEqual([{ interface: "eth0", down_delay: 2, up_delay: 1.5 }, { interface: "eth1", down_delay: 3, up_delay: 0 }]);
    expect(v.static_ipaddress[0]).toMatchObject({ address: "192.168.1.1", prefix: 24, dev: "eth0", scope: "global", track_group: "TG" });
    expect(v.static_routes[0]).toMatchObject({ to: "192.168.2.0/24", via: "192.168.1.100", track_group: "TG" });
    expect(v.static_rules[0]).toMatchObject({ from: "192.168.2.0/24", table: "1", track_group: "TG" });
  });

  it("track_group on a VIP is ignored with a warning (static items only)", () => {
    expect(one(" virtual_ipaddress {\n  10.0.0.5 track_group TG\n }", "interface eth0\n virtual_router_id 51").msgs)
      .toEqual(["5:12 warning: '10.0.0.5': track_group only applies to static addresses - ignored"]);
  });

  it("bfd_instance with the neighbour_ip spelling and defaults", () => {
    const r = parse("bfd_instance b1 {\n  neighbour_ip 10.0.0.2\n  source_ip 10.0.0.1\n  min_rx 3.312\n  weight -10 reverse\n  passive\n}\n");
    expect(r.msgs).toEqual([]);
    expect((r.eff as unknown as VrrpRootConfig).bfd_instance.b1).toEqual({
      neighbor_ip: "10.0.0.2", source_ip: "10.0.0.1", min_rx: 3.312, min_tx: 10, idle_tx: 1000, multiplier: 5, passive: true, ttl: 255,
      hoplimit: 64, max_hops: 0, weight: { value: -10, reverse: true }, vrrp: false, checker: false,
    });
  });
});

describe("TOML front end through the same specs", () => {
  const toml = (table: unknown) => {
    const diag = new Diagnostics();
    const locate = (path: readonly (string | number)[]) => ({ file: "c.toml", line: path.length, col: 1 });
    const ctx: TomlCtx = { diag, where: "vrrp_instance VI", locate, path: ["vrrp_instance", "VI"] };
    const obj = parseTomlBlock(table, vrrpInstanceSpec, ctx);
    return { obj, msgs: diag.list.map((d) => `${d.severity}: ${d.message}`) };
  };

  it("reads strings in keepalived syntax and tables, and writes back what it read", () => {
    const { obj, msgs } = toml({
      interface: "eth0", virtual_router_id: 7, priority: 120, nopreempt: true, accept: false,
      virtual_ipaddress: ["10.0.0.1/24 dev eth0 label eth0:1", "10.0.0.2"],
      track_script: ["chk", { name: "chk2", weight: -5, reverse: true }],
      unicast_peer: ["10.0.0.3 min_ttl 254"],
      notify_master: { command: "/usr/bin/m.sh", user: "www" },
      authentication: { auth_type: "PASS", auth_pass: "secret" },
    });
    expect(msgs).toEqual([]);
    expect(obj).toMatchObject({ track_script: [{ name: "chk", reverse: false }, { name: "chk2", weight: -5, reverse: true }], notify_master: { command: "/usr/bin/m.sh", user: "www" } });
    const back = blockToToml(obj, vrrpInstanceSpec);
    expect(back).toEqual({
      interface: "eth0", virtual_router_id: 7, priority: 120, nopreempt: true, accept: false,
      virtual_ipaddress: ["10.0.0.1/24 dev eth0 label eth0:1", "10.0.0.2"],
      track_script: ["chk", { name: "chk2", weight: -5, reverse: true }],
      unicast_peer: ["10.0.0.3 min_ttl 254"],
      notify_master: { command: "/usr/bin/m.sh", user: "www" },
      authentication: { auth_type: "PASS", auth_pass: "secret" },
    });
  });

  it("accepts address and peer items as tables too", () => {
    const { obj, msgs } = toml({
      virtual_ipaddress: [{ address: "10.0.0.1/24", dev: "eth0", nodad: true, no_track: false, preferred_lft: "forever" }],
      unicast_peer: [{ address: "10.0.0.3", max_ttl: 200 }],
    });
    expect(msgs).toEqual([]);
    expect((obj.virtual_ipaddress as VirtualIpConfig[])[0]).toMatchObject({ address: "10.0.0.1", prefix: 24, dev: "eth0", nodad: true, no_track: false, preferred_lft: "forever" });
    expect(obj.unicast_peer).toEqual([{ address: "10.0.0.3", family: 4, max_ttl: 200 }]);
    expect(toml({ virtual_ipaddress: [{ address: "10.0.0.1", colour: "red" }] }).msgs).toEqual(["error: 'virtual_ipaddress' item: unknown setting 'colour'"]);
  });

  it("reports TOML type mistakes", () => {
    expect(toml({ track_script: [{ weight: 2 }], notify: 5, priority: "high" }).msgs).toEqual([
      "error: 'track_script' item needs 'name'",
      "error: 'notify' expects a string or a table with 'command', 'user', 'group'",
      "error: 'priority' expects an integer",
    ]);
  });
});
