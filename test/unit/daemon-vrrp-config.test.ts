import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { CheckEnv } from "../../src/config/env.ts";
import { vrrpInstances, vrrpRuntimeConfig } from "../../src/daemon/vrrp-config.ts";

const env: CheckEnv = { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "lb1" };
const primary = (ifname: string, family: 4 | 6) => (family === 4 ? `10.0.0.1` : `fe80::1`) + (ifname === "none" ? "x" : "");

function map(text: string) {
  const loaded = loadConfigText(text, "t.conf", { env });
  expect(loaded.diag.list.filter((d) => d.severity === "error")).toEqual([]);
  return vrrpInstances(loaded.effective, (i, f) => (i === "nowhere" ? undefined : primary(i, f)));
}

describe("config to VRRP parameters", () => {
  it("maps a v2 instance with keepalived's defaults and inherited globals", () => {
    const { instances, problems } = map(`
global_defs { vrrp_garp_master_delay 7 }
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  advert_int 2
  authentication {
    auth_type PASS
    auth_pass 123456789
  }
  virtual_ipaddress { 192.168.1.10/24 dev eth0 }
}`);
    expect(problems).toEqual([]);
    const p = instances[0]!.params;
    expect(p).toMatchObject({
      name: "VI_1", vrid: 51, version: 2, family: 4, interface: "eth0", priority: 100, advertIntervalMs: 2000,
      initialState: "BACKUP", authType: "pass", authPass: "12345678", vips: ["192.168.1.10"], primaryIp: "10.0.0.1",
      garpMasterDelayMs: 7000, garpMasterRepeat: 5, garpLowerPrioDelayMs: 7000, downTimerAdverts: 3,
    });
  });

  it("uses VRRPv3 for IPv6, drops auth for v3, honours unicast source and peers", () => {
    const { instances } = map(`
global_defs { vrrp_version 3 }
vrrp_instance V6 {
  interface eth0
  virtual_router_id 9
  advert_int 0.1
  priority 150
  unicast_src_ip fd00::1
  unicast_peer { fd00::2 }
  virtual_ipaddress { fd00::100/64 }
}`);
    expect(instances[0]!.params).toMatchObject({ version: 3, family: 6, advertIntervalMs: 100, priority: 150, primaryIp: "fd00::1", unicastPeers: ["fd00::2"], authType: "none" });
  });

  it("gives state MASTER without a priority the owner priority, as keepalived does", () => {
    const { instances } = map(`vrrp_instance M {
  state MASTER
  interface eth0
  virtual_router_id 1
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(instances[0]!.params.priority).toBe(255);
  });

  it("reports an instance it cannot run instead of guessing", () => {
    const { instances, problems } = map(`vrrp_instance X {
  interface nowhere
  virtual_router_id 3
  virtual_ipaddress { 10.1.1.1 }
}`);
    expect(instances).toEqual([]);
    expect(problems).toEqual([{ instance: "X", message: "interface nowhere has no IPv4 address to send adverts from" }]);
  });
});

describe("enable_script_security on the VRRP side", () => {
  const conf = (globals: string) => `global_defs {
${globals}
}
vrrp_script chk {
  script "/opt/unsafe/chk.sh"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  notify_master "/usr/local/bin/safe.sh master"
  notify_backup "/opt/unsafe/notify.sh"
  track_script {
    chk
  }
  virtual_ipaddress {
    192.168.1.10/24
  }
}`;
  const look = (uid: number) => ({
    primaryAddress: () => "10.0.0.1",
    user: () => ({ uid, gid: uid }),
    insecure: (p: string) => (p.startsWith("/opt/unsafe/") ? `${p} is writable by a non-root user` : undefined),
  });

  it("drops scripts that would run as root from a path another user can change, and says why", () => {
    const loaded = loadConfigText(conf("  enable_script_security"), "t.conf", { env });
    const { config, problems } = vrrpRuntimeConfig(loaded.effective, look(0));
    expect(config.instances[0]!.notify).toEqual({ master: "/usr/local/bin/safe.sh master", backup: undefined, fault: undefined, stop: undefined, generic: undefined });
    expect(config.scripts).toEqual([]);
    expect(problems).toEqual([
      { instance: "VI_1", message: "not running '/opt/unsafe/notify.sh': /opt/unsafe/notify.sh is writable by a non-root user (enable_script_security)" },
      { instance: "vrrp_script chk", message: "not running '/opt/unsafe/chk.sh': /opt/unsafe/chk.sh is writable by a non-root user (enable_script_security)" },
    ]);
  });

  it("keeps them without enable_script_security, or when they run as another user", () => {
    for (const [globals, uid] of [["  router_id x", 0], ["  enable_script_security\n  script_user nobody", 65534]] as const) {
      const loaded = loadConfigText(conf(globals), "t.conf", { env });
      const { config, problems } = vrrpRuntimeConfig(loaded.effective, look(uid));
      expect(problems).toEqual([]);
      expect(config.scripts?.map((s) => s.script)).toEqual(["/opt/unsafe/chk.sh"]);
      expect(config.instances[0]!.notify?.backup).toBe("/opt/unsafe/notify.sh");
    }
  });
});

describe("sync groups reach the runtime as resolved", () => {
  const conf = (extra: string) => `vrrp_script chk {
  script /usr/bin/true
  weight -10
}
vrrp_sync_group SG {
  group {
    A
    B
  }
${extra}}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  track_script {
    chk
  }
  virtual_ipaddress {
    10.1.1.1
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    10.1.1.2
  }
}`;
  const look = { primaryAddress: () => "10.0.0.1", user: () => undefined };

  it("without sync_group_tracking_weight a member's weighted script is not passed on; with it, it is (it never was before)", () => {
    const without = vrrpRuntimeConfig(loadConfigText(conf(""), "t.conf", { env }).effective, look).config;
    expect(without.syncGroups).toEqual([{ name: "SG", members: ["A", "B"], notify: undefined, trackingWeight: false }]);
    expect(without.instances[0]!.trackScripts).toEqual([]);
    const withWeights = vrrpRuntimeConfig(loadConfigText(conf("  sync_group_tracking_weight\n"), "t.conf", { env }).effective, look).config;
    expect(withWeights.syncGroups?.[0]?.trackingWeight).toBe(true);
    expect(withWeights.instances[0]!.trackScripts?.map((t) => t.name)).toEqual(["chk"]);
  });
});
