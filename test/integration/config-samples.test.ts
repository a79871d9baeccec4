// keepalived's own samples (/usr/share/doc/keepalived/samples): `keepalived -t` and
// `lbctl check` run side by side in one fresh namespace holding the interfaces the samples
// name, and must agree on which files are valid (keepalived: exit 0; lbctl: exit 0, or 2
// for warnings only). Where they disagree on purpose, DISAGREE says why.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetns, deleteNetns, inNetns } from "../helpers/config-netns.ts";
import { lbctlCommand } from "../helpers/lbctl-run.ts";

const SAMPLES = "/usr/share/doc/keepalived/samples";
const NS = "lbt-cf-samples";
const INTERFACES = ["eth0", "eth1", "eth2", "eth3", "eth0.1"];

/** Samples where the verdicts differ, with the reason lbctl's verdict is the intended one. */
const DISAGREE: Record<string, string> = {};

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
      if (f in DISAGREE) expect(lbValid, `listed as a disagreement (${DISAGREE[f]}) but they agree\n${detail}`).not.toBe(kaValid);
      else expect(lbValid, detail).toBe(kaValid);
    });
  }
});
