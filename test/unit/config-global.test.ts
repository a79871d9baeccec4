import { describe, expect, it } from "vitest";
import { globalDefsOf, globalDefsSpec, globalRootSettings, type GlobalDefsConfig, type GlobalRootConfig } from "../../src/config/spec/global.ts";
import { parse } from "../helpers/config-vrrp.ts";

const g = (body: string) => {
  const r = parse(`global_defs {\n${body}\n}\n`);
  return { ...r, gd: r.eff.global_defs as unknown as GlobalDefsConfig, raw: r.model.global_defs as Record<string, unknown> };
};

describe("global_defs: defaults", () => {
  it("fills the documented defaults of keepalived 2.2.7", () => {
    const { gd, msgs } = g("");
    expect(msgs).toEqual([]);
    expect(gd).toMatchObject({
      smtp_connect_timeout: 30, vrrp_garp_master_delay: 5, vrrp_garp_master_repeat: 5, vrrp_garp_master_refresh: 0,
      vrrp_garp_master_refresh_repeat: 1, vrrp_down_timer_adverts: 3, vrrp_garp_interval: 0, vrrp_gna_interval: 0,
      vrrp_version: 2, vrrp_mcast_group4: "224.0.0.18", vrrp_mcast_group6: "ff02::12", default_interface: "eth0",
      startup_script_timeout: 10, shutdown_script_timeout: 10, max_auto_priority: 0, min_auto_priority_delay: 1000000,
      vrrp_rlimit_rttime: 10000, vrrp_priority: 0, vmac_prefix: "vrrp", nftables_priority: -1, nftables_ipvs_start_fwmark: 1000,
      vrrp_rx_bufs_multiplier: 3, enable_script_security: false, vrrp_strict: false, notification_email: [],
      dbus_service_name: "org.keepalived.Vrrp1",
    });
    expect(globalDefsOf(parse("").eff)).toEqual(gd);
    // Derived defaults stay unset so the daemon can derive them (router_id = host name, ...).
    expect(gd.router_id).toBeUndefined();
    expect(gd.vrrp_garp_lower_prio_delay).toBeUndefined();
  });

  it("every field has a doc and either a default or a defaultDoc or is a plain optional setting", () => {
    for (const f of globalDefsSpec.fields) {
      expect(f.doc.length, f.key).toBeGreaterThan(10);
      expect(f.type.describe.length, f.key).toBeGreaterThan(0);
    }
  });

  it("the GlobalDefsConfig interface lists exactly the spec's keys", () => {
    const keys: Record<keyof GlobalDefsConfig, true> = {
      process_names: true, process_name: true, vrrp_process_name: true, checker_process_name: true, bfd_process_name: true,
      router_id: true, notification_email: true, notification_email_from: true, smtp_server: true, smtp_helo_name: true,
      smtp_connect_timeout: true, smtp_alert: true, smtp_alert_vrrp: true, smtp_alert_checker: true, checker_log_all_failures: true,
      no_email_faults: true, startup_script: true, startup_script_timeout: true, shutdown_script: true, shutdown_script_timeout: true,
      max_auto_priority: true, min_auto_priority_delay: true, dynamic_interfaces: true, default_interface: true, disable_local_igmp: true,
      lvs_timeouts: true, lvs_flush: true, lvs_flush_on_stop: true, lvs_sync_daemon: true, vrrp_mcast_group4: true, vrrp_mcast_group6: true,
      vrrp_garp_master_delay: true, vrrp_garp_master_repeat: true, vrrp_garp_master_refresh: true, vrrp_garp_master_refresh_repeat: true,
      vrrp_garp_lower_prio_delay: true, vrrp_garp_lower_prio_repeat: true, vrrp_down_timer_adverts: true, vrrp_garp_interval: true,
      vrrp_gna_interval: true, vrrp_min_garp: true, vrrp_garp_extra_if: true, vrrp_lower_prio_no_advert: true,
      vrrp_higher_prio_send_advert: true, vrrp_version: true, vrrp_iptables: true, nftables: true, nftables_priority: true,
      nftables_ifindex: true, nftables_counters: true, nftables_ipvs: true, nftables_ipvs_priority: true, nftables_ipvs_start_fwmark: true,
      vrrp_check_unicast_src: true, vrrp_skip_check_adv_addr: true, vrrp_strict: true, vrrp_priority: true, vrrp_no_swap: true,
      vrrp_rt_priority: true, vrrp_cpu_affinity: true, vrrp_rlimit_rttime: true, checker_priority: true, checker_no_swap: true,
      checker_rt_priority: true, checker_cpu_affinity: true, checker_rlimit_rttime: true, bfd_priority: true, bfd_no_swap: true,
      bfd_rt_priority: true, bfd_cpu_affinity: true, bfd_rlimit_rttime: true, notify_fifo: true, notify_fifo_script: true,
      vrrp_notify_fifo: true, vrrp_notify_fifo_script: true, vrrp_notify_priority_changes: true, lvs_notify_fifo: true,
      lvs_notify_fifo_script: true, fifo_write_vrrp_states_on_reload: true, metrics_listen: true, snmp_socket: true, enable_traps: true, enable_snmp_vrrp: true,
      enable_snmp_rfc: true, enable_snmp_rfcv2: true, enable_snmp_rfcv3: true, enable_snmp_checker: true, enable_dbus: true,
      dbus_service_name: true, script_user: true, enable_script_security: true, vrrp_netlink_cmd_rcv_bufs: true,
      vrrp_netlink_cmd_rcv_bufs_force: true, vrrp_netlink_monitor_rcv_bufs: true, vrrp_netlink_monitor_rcv_bufs_force: true,
      process_monitor_rcv_bufs: true, process_monitor_rcv_bufs_force: true, lvs_netlink_cmd_rcv_bufs: true,
      lvs_netlink_cmd_rcv_bufs_force: true, lvs_netlink_monitor_rcv_bufs: true, lvs_netlink_monitor_rcv_bufs_force: true,
      rs_init_notifies: true, no_checker_emails: true, vrrp_rx_bufs_policy: true, vrrp_rx_bufs_multiplier: true, vrrp_startup_delay: true,
      log_unknown_vrids: true, vmac_prefix: true, vmac_addr_prefix: true, umask: true, random_seed: true, reload_check_config: true,
      reload_time_file: true, reload_repeat: true, reload_file: true, include_check: true, config_save_dir: true,
      tmp_config_directory: true, data_use_instance: true,
    };
    expect(globalDefsSpec.fields.map((f) => f.key).sort()).toEqual(Object.keys(keys).sort());
    const rootKeys: Record<keyof GlobalRootConfig, true> = {
      net_namespace: true, net_namespace_ipvs: true, namespace_with_ipsets: true, use_pid_dir: true, instance: true, child_wait_time: true, linkbeat_use_polling: true,
    };
    expect(globalRootSettings.map((f) => f.key).sort()).toEqual(Object.keys(rootKeys).sort());
  });
});

describe("global_defs: keyword families", () => {
  it("reads identity and mail settings", () => {
    const { gd, msgs } = g(`router_id LVS_DEVEL
notification_email {
  a@example.com
  b@example.com
}
notification_email_from root@localhost
smtp_server 127.0.0.1 2525
smtp_helo_name lb1.example.com
smtp_connect_timeout 10
smtp_alert
no_email_faults`);
    expect(msgs).toEqual([]);
    expect(gd).toMatchObject({
      router_id: "LVS_DEVEL", notification_email: ["a@example.com", "b@example.com"], notification_email_from: "root@localhost",
      smtp_server: { host: "127.0.0.1", port: 2525 }, smtp_helo_name: "lb1.example.com", smtp_connect_timeout: 10, smtp_alert: true, no_email_faults: true,
    });
  });

  it("smtp_server defaults its port to 25 and rejects what keepalived calls an invalid server", () => {
    expect(g("smtp_server mail.example.com").gd.smtp_server).toEqual({ host: "mail.example.com", port: 25 });
    expect(g("smtp_server ** 25").msgs).toEqual(["2:13 error: invalid smtp server '** 25'"]);
    expect(g("smtp_server 10.0.0.1 70000").msgs).toEqual(["2:22 error: 'smtp_server': port '70000' must be 1..65535"]);
  });

  it("reads the VRRP globals with their ranges", () => {
    const { gd, msgs } = g(`vrrp_garp_master_delay 10
vrrp_garp_master_repeat 1
vrrp_garp_lower_prio_delay 7
vrrp_garp_lower_prio_repeat 0
vrrp_garp_master_refresh 60
vrrp_garp_master_refresh_repeat 2
vrrp_garp_interval 0.001
vrrp_gna_interval 0.000001
vrrp_min_garp true
vrrp_garp_extra_if all 100
vrrp_lower_prio_no_advert false
vrrp_higher_prio_send_advert
vrrp_version 3
vrrp_check_unicast_src
vrrp_skip_check_adv_addr
vrrp_strict
vrrp_mcast_group4 224.0.0.19
vrrp_down_timer_adverts 5
vrrp_startup_delay 5.5
vrrp_notify_priority_changes yes`);
    expect(msgs).toEqual([]);
    expect(gd).toMatchObject({
      vrrp_garp_master_delay: 10, vrrp_garp_master_repeat: 1, vrrp_garp_lower_prio_delay: 7, vrrp_garp_lower_prio_repeat: 0,
      vrrp_garp_master_refresh: 60, vrrp_garp_master_refresh_repeat: 2, vrrp_garp_interval: 0.001, vrrp_gna_interval: 0.000001,
      vrrp_min_garp: true, vrrp_garp_extra_if: { all: true, interval: 100 }, vrrp_lower_prio_no_advert: false,
      vrrp_higher_prio_send_advert: true, vrrp_version: 3, vrrp_check_unicast_src: true, vrrp_skip_check_adv_addr: true,
      vrrp_strict: true, vrrp_mcast_group4: "224.0.0.19", vrrp_down_timer_adverts: 5, vrrp_startup_delay: 5.5, vrrp_notify_priority_changes: true,
    });
  });

  it("refuses out-of-range values as keepalived 2.2.7 does", () => {
    const { msgs, gd } = g(`vrrp_garp_interval 0
vrrp_version 4
vrrp_priority -30
vrrp_rt_priority 120
smtp_connect_timeout 0
vrrp_down_timer_adverts 101
vrrp_garp_master_repeat 0
startup_script_timeout 1001
max_auto_priority 100`);
    expect(msgs).toEqual([
      "2:20 error: 'vrrp_garp_interval' 0 is out of range [0.000001, 4294.967295]",
      "3:14 error: 'vrrp_version' 4 is out of range 2..3",
      "4:15 error: 'vrrp_priority' -30 is out of range -20..19",
      "5:18 error: 'vrrp_rt_priority' 120 is out of range 1..99",
      "6:22 error: 'smtp_connect_timeout' 0 is out of range >= 1",
      "7:25 error: 'vrrp_down_timer_adverts' 101 is out of range 1..100",
      "8:25 error: 'vrrp_garp_master_repeat' 0 is out of range >= 1",
      "9:24 error: 'startup_script_timeout' 1001 is out of range 1..1000",
      "10:19 error: 'max_auto_priority' 100 is out of range -1..99",
    ]);
    // A rejected value leaves the default in force.
    expect(gd.vrrp_version).toBe(2);
  });

  it("reads process tuning, LVS globals, FIFOs and scripts with users", () => {
    const { gd, msgs } = g(`vrrp_priority -10
vrrp_rt_priority 50
vrrp_no_swap
vrrp_cpu_affinity 0 1
checker_rlimit_rttime 20000
max_auto_priority
lvs_flush
lvs_flush_on_stop VS
lvs_timeouts tcp 900 tcpfin 120 udp 300
lvs_sync_daemon eth1 VI_1 id 10 maxlen 1400 port 8848 ttl 2 group 224.0.0.81
notify_fifo /run/ka.fifo nobody
vrrp_notify_fifo_script "/usr/bin/handler --fast" www www
startup_script /usr/bin/setup.sh
script_user nobody nogroup
enable_script_security
dynamic_interfaces allow_if_changes
nftables keepalived_t
vrrp_rx_bufs_policy MTU`);
    expect(msgs).toEqual([]);
    expect(gd).toMatchObject({
      vrrp_priority: -10, vrrp_rt_priority: 50, vrrp_no_swap: true, vrrp_cpu_affinity: ["0", "1"], checker_rlimit_rttime: 20000,
      max_auto_priority: 99, lvs_flush: true, lvs_flush_on_stop: ["VS"], lvs_timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
      lvs_sync_daemon: { interface: "eth1", instance: "VI_1", id: 10, maxlen: 1400, port: 8848, ttl: 2, group: "224.0.0.81" },
      notify_fifo: { path: "/run/ka.fifo", user: "nobody" },
      vrrp_notify_fifo_script: { command: "/usr/bin/handler --fast", user: "www", group: "www" },
      startup_script: { command: "/usr/bin/setup.sh" }, script_user: { user: "nobody", group: "nogroup" },
      enable_script_security: true, dynamic_interfaces: ["allow_if_changes"], nftables: ["keepalived_t"], vrrp_rx_bufs_policy: "MTU",
    });
  });

  it("checks lvs_sync_daemon and lvs_timeouts options", () => {
    expect(g("lvs_sync_daemon eth0 inst VI_1 id 300").msgs).toEqual(["2:35 error: 'lvs_sync_daemon': id must be 0..255"]);
    expect(g("lvs_timeouts tcp 10 fin 5").msgs).toEqual(["2:21 error: 'lvs_timeouts': unknown timeout 'fin' (tcp, tcpfin, udp)"]);
  });
});

describe("global_defs: deprecated and obsolete keywords", () => {
  it("maps deprecated spellings to the new keyword with a warning at the keyword", () => {
    const { gd, msgs } = g(`lvs_flush_onstop
vrrp_rlimit_rtime 5000
enable_snmp_keepalived
lvs_process_name checker
vrrp_vmac_garp_intvl 30`);
    expect(msgs).toEqual([
      "2:1 warning: 'lvs_flush_onstop' is deprecated, use 'lvs_flush_on_stop'",
      "3:1 warning: 'vrrp_rlimit_rtime' is deprecated, use 'vrrp_rlimit_rttime'",
      "4:1 warning: 'enable_snmp_keepalived' is deprecated, use 'enable_snmp_vrrp'",
      "5:1 warning: 'lvs_process_name' is deprecated, use 'checker_process_name'",
      "6:1 warning: 'vrrp_vmac_garp_intvl' is deprecated, use 'vrrp_garp_extra_if'",
    ]);
    expect(gd).toMatchObject({ lvs_flush_on_stop: [], vrrp_rlimit_rttime: 5000, enable_snmp_vrrp: true, checker_process_name: "checker", vrrp_garp_extra_if: { all: false, interval: 30 } });
  });

  it("keeps keywords 2.2.7 rejects out of the model, saying what to do", () => {
    const { raw, msgs } = g("  lvs_id LVS_01\n  garp_master_delay 3\n  vrrp_ipsets a b\n  instance foo");
    expect(msgs).toEqual([
      "2:3 warning: 'lvs_id' is not a keyword in keepalived 2.2.7 (it says \"Unknown keyword 'lvs_id'\"): remove it; use 'router_id' to name the node",
      "3:3 warning: 'garp_master_delay' is not a global_defs keyword (keepalived 2.2.7 says \"Unknown keyword 'garp_master_delay'\"): ignored; use 'vrrp_garp_master_delay' here or 'garp_master_delay' in a vrrp_instance",
      "4:3 warning: 'vrrp_ipsets' is ignored: lbctl (like Debian's keepalived 2.2.7) has no ipset support; remove it and use 'nftables'",
      "5:3 warning: 'instance' must be written at the top level, outside global_defs: ignored here",
    ]);
    expect(raw).toEqual({});
  });

  it("warns that vrrp_iptables is replaced by nftables, as keepalived 2.2.7 does", () => {
    expect(g("vrrp_iptables KA_IN KA_OUT").msgs).toEqual([
      "2:1 warning: iptables not supported, using nftables instead. Please replace 'vrrp_iptables' with the 'nftables' option",
    ]);
  });

  it("nftables takes a table name the kernel accepts (up to 255 bytes), as keepalived", () => {
    expect(g(`nftables ${"t".repeat(255)}`).gd.nftables).toEqual(["t".repeat(255)]);
    expect(g("nftables").gd.nftables).toEqual([]);
    const long = g(`nftables ${"t".repeat(256)}`);
    expect(long.msgs).toEqual(["2:10 error: nftables table name too long (256 bytes, at most 255) - ignoring"]);
    expect(long.gd.nftables).toBeUndefined();
  });

  it("reads top-level daemon settings and points out global_defs keywords written at the top level", () => {
    const r = parse("net_namespace blue\nuse_pid_dir\nchild_wait_time 9\nenable_script_security\n");
    expect(r.msgs).toEqual([
      "4:1 warning: 'enable_script_security' must be inside global_defs: ignored at the top level (keepalived 2.2.7 says \"Unknown keyword 'enable_script_security'\")",
    ]);
    expect(r.eff).toMatchObject({ net_namespace: "blue", use_pid_dir: true, child_wait_time: 9, linkbeat_use_polling: false });
  });

  it("merges two global_defs blocks like keepalived", () => {
    const r = parse("global_defs {\n router_id A\n}\nglobal_defs {\n vrrp_strict\n}\n");
    expect(r.msgs).toEqual([]);
    expect(r.eff.global_defs).toMatchObject({ router_id: "A", vrrp_strict: true });
  });
});
