// A track script whose file does not exist, in a mixed lbctl/keepalived pair: `lbctl check` says
// keepalived's "Disabling track script ... since ... is not found", and the running daemon does what
// that says (as keepalived 2.2.7 does: checked in a namespace, the script is removed and the
// priority stays the configured one). Before, the daemon ran the script anyway, logged the failure
// every interval and lowered its priority by the script's weight (100 -> 80): the keepalived peer
// at 90, which had disabled the same script, then disagreed with it about who is master.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import { holds, killStarted, removeWorkDir, sleep, startKeepalived, waitFor, waitHolders, workDir } from "./vrrp-lab.ts";

const MISSING = "/usr/local/bin/does-not-exist.sh";
const VIP = "10.83.1.100";

let lab: Lab;
let lb: string, ka: string;

beforeAll(async () => {
  lab = createLab("lbt-ds-");
  [lb, ka] = await lab.namespaces("lb", "ka");
  await lab.lan("lan", [
    { ns: lb, ifname: "eth0", address: "10.83.1.1/24" },
    { ns: ka, ifname: "eth0", address: "10.83.1.2/24" },
  ]);
});

afterEach(killStarted);

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

/** The same keepalived.conf for both nodes but the priority. */
const conf = (priority: number) => `global_defs {
  vrrp_version 3
}
vrrp_script chk_haproxy {
  script "${MISSING}"
  interval 1
  weight -20
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 83
  priority ${priority}
  advert_int 0.2
  track_script {
    chk_haproxy
  }
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

async function run(ns: string, argv: string[]): Promise<{ code: number; out: string }> {
  const p = lab.spawnIn(ns, [...lbctlCommand(), ...argv]);
  const code = await p.exited;
  const o = p.output();
  return { code, out: o.stdout + o.stderr };
}

interface Status { vrrp: { instances: { name: string; state: string; basePriority: number; effectivePriority: number; verdicts?: string[] }[] } }

describe("a track script that is not found (lbctl daemon and keepalived 2.2.7)", () => {
  it("check says Disabling...; the daemon keeps priority 100, never runs it, and keepalived (90) agrees it is master", async () => {
    expect(existsSync(MISSING)).toBe(false);
    const file = join(workDir, "lbctl.conf");
    writeFileSync(file, conf(100));

    const check = await run(lb, ["check", "-f", file]);
    expect(check.out).toContain(`${file}:5:3: warning: Disabling track script chk_haproxy since '${MISSING}' is not found`);

    const k = startKeepalived(lab, ka, conf(90));
    await waitFor("keepalived MASTER", () => holds(lab, ka, VIP), 4000);
    const socket = join(workDir, "lbctl.sock");
    const d: SpawnedProcess = lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", file, "--socket", socket]);
    try {
      // 100 beats keepalived's 90: the daemon preempts it and keepalived stays BACKUP.
      await waitHolders(lab, [lb, ka], VIP, [lb], 8000);
      const status = async (): Promise<Status> => JSON.parse((await run(lb, ["status", "--json", "--socket", socket])).out) as Status;
      // Three intervals of the script: had it run, the priority would be 80 and keepalived master.
      await sleep(3500);
      const vi1 = (await status()).vrrp.instances.find((i) => i.name === "VI_1")!;
      expect([vi1.state, vi1.basePriority, vi1.effectivePriority]).toEqual(["MASTER", 100, 100]);
      // status says why, in check's words.
      expect(vi1.verdicts).toEqual([`Disabling track script chk_haproxy since '${MISSING}' is not found`]);
      expect(await holds(lab, ka, VIP)).toBe(false);
      expect(k.logs()).toContain("Disabling track script chk_haproxy since not found/accessible");
      expect(k.logs()).toMatch(/\(VI_1\) Entering BACKUP STATE/);
      const logs = d.output().stdout + d.output().stderr;
      expect(logs).toContain(`Disabling track script chk_haproxy since '${MISSING}' is not found`);
      // Never run: no failure, no result, no priority change for it.
      expect(logs).not.toContain("vrrp_script chk_haproxy:");
      expect(logs).not.toContain("VRRP_Script(chk_haproxy)");
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
  });
});
