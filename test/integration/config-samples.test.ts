// keepalived's own samples (/usr/share/doc/keepalived/samples): `keepalived -t` and
// `lbctl check` run side by side in one fresh namespace holding the interfaces the samples
// name, and must agree on which files are valid (keepalived: exit 0; lbctl: exit 0, or 2
// for warnings only). Where they disagree on purpose, DISAGREE says why.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelToToml } from "../../src/config/convert.ts";
import { loadConfig, loadConfigText } from "../../src/config/load.ts";
import { machineEnv } from "../../src/config/machine-env.ts";
import { createNetns, deleteNetns, inNetns } from "../helpers/config-netns.ts";
import { lbctlCommand } from "../helpers/lbctl-run.ts";

const SAMPLES = "/usr/share/doc/keepalived/samples";
const NS = "lbt-cf-samples";
const INTERFACES = ["eth0", "eth1", "eth2", "eth3", "eth0.1"];

/** Samples where the verdicts differ, with the reason lbctl's verdict is the intended one. */
const WARNING_ONLY = "keepalived -t exits non-zero for warnings too; lbctl reports the same problem as a warning and exits 2 (the file loads)";
const MISSING_CHECK_SCRIPT = "the script it runs (/usr/local/...) is not on this machine: lbctl's LVS validation makes that an error because the check could never pass; keepalived -t does not look at checker scripts";
const DISAGREE: Record<string, { lbctlExit: number; why: string }> = {
  "keepalived.conf.fwmark": { lbctlExit: 2, why: `${WARNING_ONLY}: 'protocol' is ignored for a fwmark service` },
  "keepalived.conf.vrrp.localcheck": { lbctlExit: 2, why: `${WARNING_ONLY}: scripts run as root without enable_script_security (keepalived exits 6)` },
  "keepalived.conf.vrrp.lvs_syncd": { lbctlExit: 2, why: `${WARNING_ONLY}: sync group members written on one line, lvs_sync_daemon_interface in an instance` },
  "keepalived.conf.misc_check": { lbctlExit: 1, why: `MISC_CHECK: ${MISSING_CHECK_SCRIPT}` },
  "keepalived.conf.misc_check_arg": { lbctlExit: 1, why: `MISC_CHECK: ${MISSING_CHECK_SCRIPT}` },
  "keepalived.conf.quorum": { lbctlExit: 1, why: `quorum_up/quorum_down: ${MISSING_CHECK_SCRIPT}` },
  "keepalived.conf.track_interface": { lbctlExit: 2, why: `${WARNING_ONLY}: a virtual route without an interface cannot be tracked` },
  "keepalived.conf.vrrp.routes": { lbctlExit: 2, why: `${WARNING_ONLY}: routes without an interface, deprecated 'or' and 'gw'` },
  "keepalived.conf.vrrp.static_ipaddress": { lbctlExit: 2, why: `${WARNING_ONLY}: a virtual route without an interface cannot be tracked` },
};

const samples = readdirSync(SAMPLES).filter((f) => f.startsWith("keepalived.conf.")).sort();

describe("keepalived samples: lbctl check agrees with keepalived -t", () => {
  const verdicts = new Map<string, { keepalived: number | null; lbctl: number | null; kaOut: string; lbOut: string }>();

  beforeAll(() => {
    const { refused } = createNetns(NS, INTERFACES);
    expect(refused).toEqual([]);
    for (const f of samples) {
      const path = join(SAMPLES, f);
      const ka = inNetns(NS, ["keepalived", "-t", "-f", path]);
      const lb = inNetns(NS, [...lbctlCommand(), "check", "-f", path]);
      verdicts.set(f, { keepalived: ka.code, lbctl: lb.code, kaOut: ka.stderr + ka.stdout, lbOut: lb.stdout + lb.stderr });
    }
  });
  afterAll(() => deleteNetns(NS));

  it("finds the samples", () => expect(samples.length).toBeGreaterThanOrEqual(20));

  it("lbctl exits 0, 1 or 2 on every sample, without a stack trace", () => {
    for (const [f, v] of verdicts) {
      expect([0, 1, 2], `${f}: ${v.lbOut}`).toContain(v.lbctl);
      expect(v.lbOut, f).not.toMatch(/^\s+at /m);
    }
  });

  for (const f of samples) {
    it(f, () => {
      const v = verdicts.get(f)!;
      const kaValid = v.keepalived === 0;
      const lbValid = v.lbctl === 0 || v.lbctl === 2;
      const detail = `keepalived -t exit ${v.keepalived}:\n${v.kaOut}\nlbctl check exit ${v.lbctl}:\n${v.lbOut}`;
      const listed = DISAGREE[f];
      if (listed) {
        expect(lbValid, `listed as a disagreement (${listed.why}) but they agree\n${detail}`).not.toBe(kaValid);
        expect(v.lbctl, detail).toBe(listed.lbctlExit);
      } else {
        expect(lbValid, detail).toBe(kaValid);
      }
    });
  }
});

describe("keepalived samples: convert -> TOML -> load gives the same effective configuration", () => {
  const env = machineEnv({ checkInterfaces: false });
  // conditional_conf is read once per config id it uses, and once with the default (the host name).
  const runs = samples.flatMap((f) => (f.endsWith("conditional_conf") ? ["high", "low", undefined].map((id) => ({ f, id })) : [{ f, id: undefined }]));
  for (const { f, id } of runs) {
    it(`${f}${id ? ` (config id ${id})` : ""}`, () => {
      const conf = loadConfig(join(SAMPLES, f), { env, configId: id });
      const back = loadConfigText(modelToToml(conf.model, f), `${f}.toml`, { env });
      if (!conf.diag.hasErrors) expect(back.diag.list.filter((d) => d.severity === "error")).toEqual([]);
      expect(back.effective).toEqual(conf.effective);
    });
  }
});
