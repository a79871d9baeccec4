// A track script whose file does not exist, in a mixed lbctl/keepalived pair: `lbctl check` says
// keepalived's "Disabling track script ... since ... is not found", and the running daemon does what
// that says (as keepalived 2.2.7 does: checked in a namespace, the script is removed and the
// priority stays the configured one). Before, the daemon ran the script anyway, logged the failure
// every interval and lowered its priority by the script's weight (100 -> 80): the keepalived peer
// at 90, which had disabled the same script, then disagreed with it about who is master.
// Also notify_master_rx_lower_pri, lbctl and keepalived 2.2.7 each as the master that hears a
// lower priority: the script runs with its own arguments only; and check_unicast_src, each
// implementation as the node that drops adverts from an address that is not its peer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import { holds, keepalivedConf, killStarted, removeWorkDir, sleep, startKeepalived, waitFor, waitHolders, workDir } from "./vrrp-lab.ts";

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

describe("notify_master_rx_lower_pri (lbctl daemon and keepalived 2.2.7 side by side)", () => {
  const RX_VIP = "10.83.1.101";
  // The master's unicast adverts go to an address nobody has, so the lower node never hears it,
  // becomes master too and sends its lower priority to the master: what the script is for.
  const conf = (priority: number, peer: string, script?: string) => keepalivedConf({
    name: "VI_RX", interface: "eth0", vrid: 84, priority, advertInt: 0.2, vips: [`${RX_VIP}/24`], unicastPeers: [peer],
    extra: script ? `  notify_master_rx_lower_pri "${script} one two"` : undefined,
  });
  const script = join(workDir, "rx.sh");
  const out = join(workDir, "rx.out");

  for (const master of ["keepalived", "lbctl"] as const) {
    it(`${master} as the master runs it as 'SCRIPT one two' (no TYPE NAME STATE PRIORITY appended)`, async () => {
      rmSync(out, { force: true });
      writeFileSync(script, `#!/bin/sh\necho "$#:$*" >> ${out}\n`, { mode: 0o755 });
      const high = conf(150, "10.83.1.9", script);
      const low = conf(100, master === "keepalived" ? "10.83.1.2" : "10.83.1.1");
      const file = join(workDir, "rx-lbctl.conf");
      let d: SpawnedProcess | null = null;
      try {
        if (master === "keepalived") {
          startKeepalived(lab, ka, high);
          writeFileSync(file, low);
          d = lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "rx.sock")]);
        } else {
          writeFileSync(file, high);
          d = lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "rx.sock")]);
          startKeepalived(lab, ka, low);
        }
        await waitFor("the script's output", () => existsSync(out) && readFileSync(out, "utf8").includes("\n"), 10_000);
        const lines = readFileSync(out, "utf8").trim().split("\n");
        expect(new Set(lines)).toEqual(new Set(["2:one two"]));
      } finally {
        d?.kill("SIGTERM");
        await d?.exited;
      }
    });
  }
});

describe("check_unicast_src (lbctl daemon and keepalived 2.2.7 side by side)", () => {
  const CU_VIP = "10.83.1.102";
  // The master (150) sends to the lower node, which lists only 10.83.1.9 as its peer.
  const master = (to: string) => keepalivedConf({ name: "VI_CU", interface: "eth0", vrid: 85, priority: 150, advertInt: 0.2, vips: [`${CU_VIP}/24`], unicastPeers: [to] });
  const lower = (check: boolean) => keepalivedConf({
    name: "VI_CU", interface: "eth0", vrid: 85, priority: 100, advertInt: 0.2, vips: [`${CU_VIP}/24`], unicastPeers: ["10.83.1.9"],
    extra: check ? "  check_unicast_src" : undefined,
  });

  for (const [checker, check] of [["keepalived", true], ["lbctl", true], ["lbctl", false]] as const) {
    it(`${checker} ${check ? "with" : "without"} check_unicast_src ${check ? "drops the master's adverts (not a peer) and takes the VIP too" : "follows the master"}`, async () => {
      const file = join(workDir, "cu-lbctl.conf");
      let d: SpawnedProcess | null = null;
      try {
        if (checker === "keepalived") {
          writeFileSync(file, master("10.83.1.2"));
          d = lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "cu.sock")]);
          await waitFor("lbctl MASTER", () => holds(lab, lb, CU_VIP), 5000);
          startKeepalived(lab, ka, lower(check));
        } else {
          startKeepalived(lab, ka, master("10.83.1.1"));
          await waitFor("keepalived MASTER", () => holds(lab, ka, CU_VIP), 5000);
          writeFileSync(file, lower(check));
          d = lab.spawnIn(lb, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "cu.sock")]);
        }
        const high = checker === "keepalived" ? lb : ka;
        if (check) await waitHolders(lab, [lb, ka], CU_VIP, [lb, ka], 5000);
        else {
          // Ten master down intervals: the lower node has heard the master all along.
          await sleep(2500);
          await waitHolders(lab, [lb, ka], CU_VIP, [high], 100);
        }
      } finally {
        d?.kill("SIGTERM");
        await d?.exited;
      }
    });
  }
});
