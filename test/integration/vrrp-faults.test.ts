// Faults operators meet on a running master, driven as they happen: `lbctl daemon -f keepalived.conf`
// in a namespace, the fault made with the usual tools, addresses sampled every 20 ms.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { lbctlCommand } from "../helpers/lbctl-bin.ts";
import { createLab, type Lab, type SpawnedProcess } from "../helpers/netns.ts";
import { holds, keepalivedConf, killStarted, removeWorkDir, sleep, startAddressSampler, waitFor, workDir } from "./vrrp-lab.ts";

let lab: Lab;
let h1: string, h2: string;
const NET = "10.83.1";
const VIP = `${NET}.100`;

beforeAll(async () => {
  lab = createLab("lbt-fa-");
  [h1, h2] = await lab.namespaces("h1", "h2");
  await lab.lan("lan", [
    { ns: h1, ifname: "eth0", address: `${NET}.1/24` },
    { ns: h2, ifname: "eth0", address: `${NET}.2/24` },
  ]);
});

const daemons: SpawnedProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill("SIGKILL");
    await d.exited;
  }
  await killStarted();
});

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

describe("a VIP deleted by hand on the master", () => {
  it("is put back at once and announced (before: gone for good while lbctl kept advertising as MASTER; keepalived: 0.42 s)", async () => {
    const file = join(workDir, "h1.conf");
    writeFileSync(file, keepalivedConf({ name: "VI_1", interface: "eth0", vrid: 83, priority: 150, advertInt: 1, version: 2, vips: [`${VIP}/24`] }));
    const d = lab.spawnIn(h1, [...lbctlCommand(), "daemon", "-f", file, "--socket", join(workDir, "h1.sock")]);
    daemons.push(d);
    await waitFor("MASTER with the VIP", () => holds(lab, h1, VIP), 8000);
    const s = startAddressSampler(lab, h1, "eth0");
    await sleep(200);
    const t0 = Date.now();
    await lab.run(h1, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]);
    await sleep(1000);
    const samples = (await s.stop()).filter((x) => x.t >= t0);
    const absent = samples.filter((x) => !x.addrs.includes(VIP));
    // At most the sample taken right after the deletion may miss it.
    expect(absent.length).toBeLessThanOrEqual(1);
    expect(samples.at(-1)!.addrs).toContain(VIP);
    expect(d.output().stdout + d.output().stderr).toMatch(/\(VI_1\) virtual address 10\.83\.1\.100\/24 was deleted outside lbctl while MASTER; added it back/);
  }, 30_000);
});
