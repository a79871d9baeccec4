// The resolved VRRP model (src/config/resolve-vrrp.ts): each instance's settings and keepalived's
// verdicts for a table of configurations, checked against what keepalived 2.2.7 did with the same
// keywords in a namespace; then one configuration through every view (the VRRP child's runtime
// config, `lbctl check`, keepalived.data / keepalived.json, `lbctl config show --json`), which must
// all print the model.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { CheckEnv } from "../../src/config/env.ts";
import { instanceVerdicts, resolveVrrp, resolvedView, type ResolveEnv, type ResolvedInstance } from "../../src/config/resolve-vrrp.ts";
import { vrrpRuntimeConfig } from "../../src/daemon/vrrp-config.ts";
import { formatKeepalivedData, formatKeepalivedJson } from "../../src/daemon/keepalived-dump.ts";
import { API_VERSION, vrrpFromChild, type StatusV1, type VrrpInstanceV1 } from "../../src/daemon/api-types.ts";
import { formatStatus } from "../../src/console/format.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";

const MISSING = "/usr/local/bin/does-not-exist.sh";
const env: CheckEnv = { fileExists: (p) => p !== MISSING, isExecutable: (p) => p !== MISSING && !p.endsWith(".txt"), userExists: (u) => u !== "ghost", hostname: "lb1" };

function load(text: string, errors: string[] = []) {
  const loaded = loadConfigText(text, "t.conf", { env });
  expect(loaded.diag.list.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual(errors);
  return loaded;
}
function resolve(text: string, more: ResolveEnv = {}, errors: string[] = []) {
  return resolveVrrp(load(text, errors).effective, { ...env, primaryAddress: () => "10.0.0.1", ...more });
}
const one = (text: string, name = "VI_1"): ResolvedInstance => resolve(text).instances.find((i) => i.name === name)!;

const instance = (name: string, body: string, vrid = 51) => `vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${vrid}
${body}
  virtual_ipaddress {
    10.0.0.${vrid}
  }
}
`;

describe("resolveVrrp: settings", () => {
  it("keepalived's defaults, and the global vrrp_* settings as each instance's defaults", () => {
    const r = one(`global_defs {
  vrrp_garp_master_delay 7
  vrrp_garp_master_repeat 2
  vrrp_lower_prio_no_advert
  vrrp_higher_prio_send_advert
  vrrp_check_unicast_src
  vrrp_skip_check_adv_addr
  vrrp_down_timer_adverts 5
}
${instance("VI_1", "  priority 120")}`);
    expect(r).toMatchObject({
      version: 2, family: 4, priority: 120, strict: false, accept: true, auth: { type: "none" },
      garpMasterDelay: 7, garpMasterRepeat: 2, garpLowerPrioDelay: 7, garpLowerPrioRepeat: 2, downTimerAdverts: 5,
      lowerPrioNoAdvert: true, higherPrioSendAdvert: true, checkUnicastSrc: true, skipCheckAdvAddr: true,
      sourceIp: "10.0.0.1", sourceConfigured: false, mcastGroup: "224.0.0.18", syncGroup: null, weightsIgnored: null,
    });
    expect(r.notStarted).toBeUndefined();
    // The instance's own keyword wins over the global one.
    const own = one(`global_defs {
  vrrp_garp_master_delay 7
  vrrp_skip_check_adv_addr
}
${instance("VI_1", "  garp_master_delay 3\n  skip_check_adv_addr false\n  check_unicast_src")}`);
    expect(own).toMatchObject({ garpMasterDelay: 3, garpLowerPrioDelay: 3, skipCheckAdvAddr: false, checkUnicastSrc: true });
  });

  it("version: the instance's, else vrrp_version; IPv6 is always 3; PASS authentication only on v2", () => {
    const auth = "  authentication {\n    auth_type PASS\n    auth_pass 123456789\n  }";
    expect(one(instance("VI_1", auth))).toMatchObject({ version: 2, auth: { type: "pass", pass: "12345678" } });
    expect(one(`global_defs {\n  vrrp_version 3\n}\n${instance("VI_1", auth)}`)).toMatchObject({ version: 3, auth: { type: "none" } });
    expect(one(`global_defs {\n  vrrp_version 3\n}\n${instance("VI_1", "  version 2")}`).version).toBe(2);
    const v6 = one(`vrrp_instance V6 {
  interface eth0
  virtual_router_id 9
  advert_int 0.1
  virtual_ipaddress {
    fd00::100/64
  }
}`, "V6");
    expect(v6).toMatchObject({ version: 3, family: 6, advertInt: 0.1, mcastGroup: "ff02::12" });
  });

  // keepalived 2.2.7, vrrp_strict in global_defs, `keepalived -P` in a namespace, SIGUSR1 and JSON dumps:
  // "Send advert after receive lower priority advert = false", "Gratuitous ARP lower priority delay = 0",
  // "... repeat = 0", "Accept = disabled", "Authentication type = none" (and it logged "Strict mode does
  // not support authentication. Ignoring."), and a unicast instance still "Using unicast".
  it("vrrp_strict: no advert or GARPs for a lower priority, no accept, no authentication; unicast stays", () => {
    const strict = `global_defs {\n  vrrp_strict\n}\n`;
    const r = one(strict + instance("VI_1", "  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n  unicast_peer {\n    10.0.0.2\n  }"));
    expect(r).toMatchObject({
      strict: true, lowerPrioNoAdvert: true, garpLowerPrioDelay: 0, garpLowerPrioRepeat: 0, accept: false,
      auth: { type: "none" }, unicastPeers: ["10.0.0.2"], garpMasterRepeat: 5,
    });
    // strict_mode on the instance does the same.
    expect(one(instance("VI_1", "  strict_mode")).lowerPrioNoAdvert).toBe(true);
  });

  it("vrrp_strict resets what the instance asks for against it, with keepalived's words", () => {
    const m = resolve(`global_defs {\n  vrrp_strict\n}\n${instance("VI_1", "  lower_prio_no_advert false\n  garp_lower_prio_repeat 3\n  accept")}${instance("VI_3", "  version 3\n  accept", 53)}`);
    const [v1, v3] = m.instances;
    expect(v1).toMatchObject({ lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0, accept: false });
    // VRRPv3 has accept mode (RFC 5798): keepalived keeps it.
    expect(v3).toMatchObject({ version: 3, accept: true });
    expect(m.verdicts.map((v) => v.message)).toEqual([
      "(VI_1) Strict mode requires no lower priority advert. resetting",
      "(VI_1) Strict mode requires no repeat garps. resetting",
      "(VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting",
    ]);
  });

  it("preemption fix-ups: no nopreempt for the owner or an initial MASTER; no preempt_delay with strict", () => {
    expect(one(instance("VI_1", "  priority 255\n  nopreempt")).nopreempt).toBe(false);
    expect(one(instance("VI_1", "  state MASTER\n  priority 100\n  nopreempt")).nopreempt).toBe(false);
    expect(one(instance("VI_1", "  nopreempt")).nopreempt).toBe(true);
    expect(one(instance("VI_1", "  preempt_delay 10")).preemptDelay).toBe(10);
    expect(one(`global_defs {\n  vrrp_strict\n}\n${instance("VI_1", "  preempt_delay 10")}`).preemptDelay).toBe(0);
    expect(resolve(instance("VI_1", "  state MASTER\n  priority 100\n  nopreempt\n  preempt_delay 5")).verdicts.map((v) => v.message)).toEqual([
      "(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing",
      "(VI_1) Warning - preempt delay will not work with initial state MASTER - clearing",
    ]);
  });

  it("an instance that cannot run says why", () => {
    const m = resolve(instance("VI_1", ""), { primaryAddress: () => undefined });
    expect(m.instances[0]!.notStarted).toBe("interface eth0 has no IPv4 address to send adverts from");
    expect(m.verdicts).toMatchObject([{ type: "notStarted", instance: "VI_1", severity: "error" }]);
    // A configured source needs no look-up.
    expect(resolve(instance("VI_1", "  mcast_src_ip 10.0.0.5"), { primaryAddress: () => undefined }).instances[0]).toMatchObject({ sourceIp: "10.0.0.5", sourceConfigured: true, notStarted: undefined });
  });
});

describe("resolveVrrp: verdicts on tracked objects and scripts", () => {
  const scripts = `vrrp_script chk_haproxy {
  script "${MISSING}"
  interval 1
  weight -20
}
vrrp_script chk_ok {
  script "/usr/bin/true"
  weight -10
}
vrrp_script chk_zero {
  script "/usr/bin/true"
}
`;
  const tracking = "  track_script {\n    chk_haproxy\n    chk_ok\n    chk_zero\n  }\n  track_interface {\n    eth1 weight -5\n  }";

  it("a script that is not found is disabled: not tracked by any instance, not run", () => {
    const m = resolve(scripts + instance("VI_1", tracking));
    expect(m.scripts.chk_haproxy!.disabled).toMatchObject({ reason: "not found", message: `Disabling track script chk_haproxy since '${MISSING}' is not found` });
    expect(m.instances[0]!.track.scripts.map((t) => [t.name, t.weight])).toEqual([["chk_ok", -10], ["chk_zero", 0]]);
    expect(resolvedView(m).disabledScripts).toEqual([{ name: "chk_haproxy", reason: "not found" }]);
  });

  it("not executable, insecure under enable_script_security, or run by a user that does not exist: disabled too", () => {
    const m = resolve(`global_defs {
  enable_script_security
  script_user root
}
vrrp_script txt {
  script "/etc/ok/run.txt"
}
vrrp_script unsafe {
  script "/opt/unsafe/chk.sh"
}
vrrp_script nobody_has_it {
  script "/usr/bin/true"
  user ghost
}
${instance("VI_1", "  track_script {\n    txt\n    unsafe\n    nobody_has_it\n  }\n  notify_master /opt/unsafe/n.sh")}`, { insecure: (p) => (p.startsWith("/opt/unsafe/") ? `${p} is writable by a non-root user` : undefined) },
    ["t.conf:13:3: error: Unable to set uid/gid for vrrp_script nobody_has_it: user 'ghost' does not exist"]);
    expect(Object.values(m.scripts).map((s) => [s.name, s.disabled?.reason])).toEqual([["txt", "not executable"], ["unsafe", "insecure"], ["nobody_has_it", "unknown user"]]);
    expect(m.instances[0]!.track.scripts).toEqual([]);
    expect(m.instances[0]!.notify.master).toBeUndefined();
  });

  it("sync group members lose weighted trackers unless sync_group_tracking_weight; weight 0 always counts", () => {
    const group = (extra: string) => `vrrp_sync_group SG {
  group {
    VI_1
    VI_2
  }
${extra}}
`;
    const without = resolve(scripts + group("") + instance("VI_1", tracking) + instance("VI_2", "", 52));
    const r = without.instances[0]!;
    expect(r).toMatchObject({ syncGroup: "SG", weightsIgnored: "SYNC group" });
    expect(r.track.scripts.map((t) => t.name)).toEqual(["chk_zero"]);
    expect(r.track.interfaces).toEqual([]);
    expect(without.verdicts.filter((v) => v.type === "weightIgnored").map((v) => v.message)).toEqual([
      "(VI_1) ignoring eth1 tracked interface weight due to SYNC group",
      "(VI_1) ignoring tracked script chk_ok with weights due to SYNC group",
    ]);
    const withWeights = resolve(scripts + group("  sync_group_tracking_weight\n") + instance("VI_1", tracking) + instance("VI_2", "", 52));
    expect(withWeights.instances[0]!.weightsIgnored).toBeNull();
    expect(withWeights.instances[0]!.track.scripts.map((t) => t.name)).toEqual(["chk_ok", "chk_zero"]);
    expect(withWeights.syncGroups[0]).toMatchObject({ name: "SG", members: ["VI_1", "VI_2"], trackingWeight: true });
  });

  it("the address owner (priority 255) ignores tracking weights", () => {
    const m = resolve(scripts + instance("VI_1", `  priority 255\n${tracking}`));
    expect(m.instances[0]).toMatchObject({ weightsIgnored: "address owner" });
    expect(m.instances[0]!.track.scripts.map((t) => t.name)).toEqual(["chk_zero"]);
    expect(m.verdicts.filter((v) => v.type === "weightIgnored").map((v) => v.message)).toEqual([
      "(VI_1) ignoring eth1 tracked interface due to address owner",
      "(VI_1) ignoring tracked script chk_ok with weights due to address_owner",
    ]);
  });

  it("notify scripts: disabled ones are dropped, notify_master_rx_lower_pri is kept for the runtime", () => {
    const r = one(instance("VI_1", `  notify_master ${MISSING}\n  notify_backup "/usr/bin/logger backup"\n  notify_master_rx_lower_pri "/usr/bin/logger rx lower"`));
    expect(r.notify).toEqual({ master: undefined, backup: "/usr/bin/logger backup", fault: undefined, stop: undefined, generic: undefined, masterRxLowerPri: "/usr/bin/logger rx lower" });
  });
});

// ---------------------------------------------------------------------------

const AGREE = `global_defs {
  vrrp_strict
  vrrp_garp_master_delay 3
  vrrp_check_unicast_src
}
vrrp_script chk_haproxy {
  script "${MISSING}"
  interval 1
  weight -20
}
vrrp_script chk_ok {
  script "/usr/bin/true"
  weight -10
}
vrrp_sync_group SG {
  group {
    VI_2
    VI_3
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  authentication {
    auth_type PASS
    auth_pass secret
  }
  track_script {
    chk_haproxy
    chk_ok
  }
  notify_master_rx_lower_pri /usr/bin/true
  virtual_ipaddress {
    10.0.0.51
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 150
  unicast_peer {
    10.0.0.2
  }
  track_script {
    chk_ok
  }
  virtual_ipaddress {
    10.0.0.52
  }
}
vrrp_instance VI_3 {
  interface eth0
  virtual_router_id 53
  version 3
  accept
  advert_int 0.5
  notify_master ${MISSING}
  notify_backup /usr/bin/true
  virtual_ipaddress {
    10.0.0.53
  }
}
vrrp_instance V6 {
  interface eth0
  virtual_router_id 54
  virtual_ipaddress {
    fd00::54
  }
}
`;

describe("one model, printed by every view", () => {
  const loaded = load(AGREE);
  const look = { ...env, primaryAddress: (_i: string, f: 4 | 6) => (f === 4 ? "10.0.0.1" : "fe80::1"), user: () => undefined };
  const model = resolveVrrp(loaded.effective, look);

  it("the VRRP child's runtime config is the model", () => {
    const { config } = vrrpRuntimeConfig(loaded.effective, look);
    expect(config.instances.map((i) => i.name)).toEqual(model.instances.map((r) => r.name));
    for (const r of model.instances) {
      const i = config.instances.find((x) => x.name === r.name)!;
      expect({
        version: i.version, family: i.family, priority: i.priority, accept: i.accept, authType: i.authType,
        lowerPrioNoAdvert: i.lowerPrioNoAdvert, garpLowerPrioRepeat: i.garpLowerPrioRepeat, garpLowerPrioDelayMs: i.garpLowerPrioDelayMs,
        garpMasterDelayMs: i.garpMasterDelayMs, advertIntervalMs: i.advertIntervalMs, checkUnicastSrc: i.checkUnicastSrc,
        skipCheckAdvAddr: i.skipCheckAdvAddr, notifyMasterRxLowerPri: i.notifyMasterRxLowerPri, primaryIp: i.primaryIp,
        trackScripts: i.trackScripts?.map((t) => t.name),
      }).toEqual({
        version: r.version, family: r.family, priority: r.priority, accept: r.accept, authType: r.auth.type,
        lowerPrioNoAdvert: r.lowerPrioNoAdvert, garpLowerPrioRepeat: r.garpLowerPrioRepeat, garpLowerPrioDelayMs: r.garpLowerPrioDelay * 1000,
        garpMasterDelayMs: r.garpMasterDelay * 1000, advertIntervalMs: r.advertInt * 1000, checkUnicastSrc: r.checkUnicastSrc,
        skipCheckAdvAddr: r.skipCheckAdvAddr, notifyMasterRxLowerPri: r.notify.masterRxLowerPri, primaryIp: r.sourceIp,
        trackScripts: r.track.scripts.map((t) => t.name),
      });
    }
    // The disabled script is neither run nor tracked; weights in the sync group are not passed on.
    expect(config.scripts?.map((s) => s.name)).toEqual(["chk_ok"]);
    expect(config.instances.find((i) => i.name === "VI_1")!.trackScripts).toEqual([{ name: "chk_ok", weight: undefined, reverse: false }]);
    expect(config.instances.find((i) => i.name === "VI_2")!.trackScripts).toEqual([]);
    // What it means, checked against keepalived: strict and the disabled script.
    expect(config.instances.find((i) => i.name === "VI_1")).toMatchObject({ lowerPrioNoAdvert: true, accept: false, authType: "none", checkUnicastSrc: true });
    expect(config.instances.find((i) => i.name === "VI_3")).toMatchObject({ version: 3, accept: true });
    // A notify script check disables is not run either.
    expect(config.instances.find((i) => i.name === "VI_3")!.notify).toEqual({ master: undefined, backup: "/usr/bin/true", fault: undefined, stop: undefined, generic: undefined });
  });

  it("lbctl check prints the model's verdicts, at file:line", () => {
    const printed = loaded.diag.list.map(formatDiagnostic);
    for (const v of model.verdicts.filter((x) => x.type !== "notStarted")) {
      expect(printed).toContain(`t.conf:${v.loc!.line}:${v.loc!.col}: ${v.severity}: ${v.message}`);
    }
    expect(printed).toContain(`t.conf:7:3: warning: Disabling track script chk_haproxy since '${MISSING}' is not found`);
    expect(printed).toContain("t.conf:46:5: warning: (VI_2) ignoring tracked script chk_ok with weights due to SYNC group");
    expect(printed).toContain(`t.conf:58:3: warning: Disabling vrrp_instance VI_3 notify_master since '${MISSING}' is not found`);
  });

  function status(): StatusV1 {
    const { config } = vrrpRuntimeConfig(loaded.effective, look);
    const instances = config.instances.map((i): VrrpInstanceV1 => ({
      name: i.name, vrid: i.vrid, family: i.family, version: i.version, interface: i.interface, state: "BACKUP",
      basePriority: i.priority, effectivePriority: i.priority, masterAddress: null, masterPriority: null, lastTransition: null,
      transitions: 0, forcedBackup: false, faults: [], counters: {
        advertisementsReceived: 0, advertisementsSent: 0, becomeMaster: 0, releaseMaster: 0, priorityZeroPktsRcvd: 0, priorityZeroPktsSent: 0,
        authFailures: 0, invalidAuthType: 0, authTypeMismatch: 0, ipTtlErrors: 0, packetLengthErrors: 0, invalidTypePktsRcvd: 0,
        addressListErrors: 0, advertIntervalErrors: 0, checksumErrors: 0, versionErrors: 0, vridErrors: 0,
      },
    }));
    return {
      apiVersion: API_VERSION,
      daemon: { version: "t", pid: 1, startedAt: 0, configPath: "t.conf", configReason: "given with -f", reloadCount: 0, lastReload: null },
      children: [], vrrp: { instances, unmatched: { unknownVrid: 0, malformed: 0 } }, virtualServers: [], ipvs: null,
    };
  }

  it("keepalived.json and keepalived.data print the model", () => {
    const input = { status: status(), config: loaded.effective, hostname: "lb1", model };
    const json = JSON.parse(formatKeepalivedJson(input)) as { data: Record<string, unknown> }[];
    for (const r of model.instances) {
      const d = json.find((x) => x.data.iname === r.name)!.data;
      expect({
        version: d.version, strict_mode: d.strict_mode, accept: d.accept, lower_prio_no_advert: d.lower_prio_no_advert,
        garp_lower_prio_rep: d.garp_lower_prio_rep, garp_lower_prio_delay: d.garp_lower_prio_delay, garp_delay: d.garp_delay,
        adver_int: d.adver_int, auth_type: d.auth_type, skip_check_adv_addr: d.skip_check_adv_addr,
      }).toEqual({
        version: r.version, strict_mode: r.strict ? 1 : 0, accept: r.accept ? 1 : 0, lower_prio_no_advert: r.lowerPrioNoAdvert ? 1 : 0,
        garp_lower_prio_rep: r.garpLowerPrioRepeat, garp_lower_prio_delay: r.garpLowerPrioDelay, garp_delay: r.garpMasterDelay,
        adver_int: r.advertInt, auth_type: r.auth.type === "pass" ? 1 : 0, skip_check_adv_addr: r.skipCheckAdvAddr ? 1 : 0,
      });
    }
    const data = formatKeepalivedData(input);
    for (const r of model.instances) {
      const block = data.split(" VRRP Instance = ").find((b) => b.startsWith(`${r.name}\n`))!;
      expect(block).toContain(`   VRRP Version = ${r.version}\n`);
      expect(block).toContain(`   Send advert after receive lower priority advert = ${r.lowerPrioNoAdvert ? "false" : "true"}\n`);
      expect(block).toContain(`   Gratuitous ARP lower priority repeat = ${r.garpLowerPrioRepeat}\n`);
      expect(block).toContain(`   Accept = ${r.accept ? "enabled" : "disabled"}\n`);
      if (r.unicastPeers.length > 0) expect(block).toContain(`   Check unicast src : ${r.checkUnicastSrc ? "yes" : "no"}\n`);
    }
    // keepalived 2.2.7 with vrrp_strict ignores the PASS authentication: "Authentication type = none".
    expect(data.split(" VRRP Instance = ")[1]).toContain("   Authentication type = none\n");
  });

  it("lbctl config show --json prints the model as vrrp_resolved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-resolved-"));
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const file = join(dir, "t.conf");
      writeFileSync(file, AGREE);
      const cmd = (await import("../../src/cli/cmd-config.ts")).default;
      expect(await cmd.run(["show", "-f", file, "--json", "--no-interfaces"])).toBe(0);
    } finally {
      spy.mockRestore();
      err.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    const shown = JSON.parse(out.join("")) as { vrrp_resolved: ReturnType<typeof resolvedView> };
    // Resolved on the machine running the test: the missing script is missing here too; the source
    // address is the daemon's to find (not looked up by config show).
    const expected = resolvedView(resolveVrrp(loaded.effective, env));
    const strip = (v: ReturnType<typeof resolvedView>) => ({ ...v, verdicts: v.verdicts.map(({ at: _at, ...rest }) => rest) });
    expect(strip(shown.vrrp_resolved)).toEqual(strip(expected));
    expect(shown.vrrp_resolved.instances.map((i) => [i.name, i.version, i.accept, i.lowerPrioNoAdvert])).toEqual(
      model.instances.map((r) => [r.name, r.version, r.accept, r.lowerPrioNoAdvert]));
    expect(shown.vrrp_resolved.disabledScripts).toEqual([{ name: "chk_haproxy", reason: "not found" }]);
  });
});

describe("lbctl status shows the model's verdicts", () => {
  const loaded = load(AGREE);
  const model = resolveVrrp(loaded.effective, { ...env, primaryAddress: (i: string, f: 4 | 6) => (f === 4 && i === "eth0" ? "10.0.0.1" : undefined) });

  it("each instance carries the verdicts on itself and on the scripts it tracks; instances that do not run say why", () => {
    expect(instanceVerdicts(model, "VI_1")).toEqual([
      "(VI_1) Strict mode does not support authentication. Ignoring.",
      `Disabling track script chk_haproxy since '${MISSING}' is not found`,
    ]);
    expect(instanceVerdicts(model, "VI_2")).toEqual(["(VI_2) ignoring tracked script chk_ok with weights due to SYNC group"]);
    expect(instanceVerdicts(model, "VI_3")).toEqual([`Disabling vrrp_instance VI_3 notify_master since '${MISSING}' is not found`]);
    // What the VRRP child sends (role-vrrp.ts) and the supervisor reads.
    const vrrp = vrrpFromChild({
      instances: [{ name: "VI_1", state: "MASTER", basePriority: 100, effectivePriority: 100, verdicts: instanceVerdicts(model, "VI_1") }],
      notStarted: model.instances.filter((r) => r.notStarted).map((r) => ({ name: r.name, reason: r.notStarted })),
      unmatched: { unknownVrid: 0, malformed: 0 },
    });
    expect(vrrp.notStarted).toEqual([{ name: "V6", reason: "interface eth0 has no IPv6 address to send adverts from" }]);
    const text = formatStatus({
      apiVersion: API_VERSION,
      daemon: { version: "t", pid: 1, startedAt: 0, configPath: "t.conf", configReason: "given with -f", reloadCount: 0, lastReload: null },
      children: [], vrrp, virtualServers: [], ipvs: null,
    }, 0);
    expect(text).toContain("V6: not started: interface eth0 has no IPv6 address to send adverts from\n");
    expect(text).toContain(`VI_1: Disabling track script chk_haproxy since '${MISSING}' is not found\n`);
  });
});
