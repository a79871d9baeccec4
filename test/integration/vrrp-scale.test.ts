// 200 instances per node on one interface, 0.1 s adverts (4,000 adverts/s on the LAN): one socket
// and one timer per node keep every backup quiet, and a graceful stop moves all 200 at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createLab, type Lab } from "../helpers/netns.ts";
import { addresses, instance, removeWorkDir, sleep, startLbNode, waitFor, type LbNode } from "./vrrp-lab.ts";

const COUNT = 200;
let lab: Lab;
let a: string, b: string;

beforeAll(async () => {
  lab = createLab("lbt-vr-");
  [a, b] = await lab.namespaces("a", "b");
  await lab.lan("lan", [
    { ns: a, ifname: "eth0", address: "10.82.0.1/16" },
    { ns: b, ifname: "eth0", address: "10.82.0.2/16" },
  ]);
});

afterAll(async () => {
  await lab.cleanup();
  removeWorkDir();
});

const config = (primaryIp: string, priority: number) => ({
  instances: Array.from({ length: COUNT }, (_, i) =>
    instance({ name: `VI_${i}`, vrid: i + 1, interface: "eth0", primaryIp, vips: [`10.82.${1 + (i >> 7)}.${i & 127}`], priority, advertIntervalMs: 100, garpMasterDelayMs: 0 }),
  ),
});

const states = (n: LbNode) => {
  const st = n.status();
  return st ? st.instances.reduce<Record<string, number>>((acc, i) => ((acc[i.state] = (acc[i.state] ?? 0) + 1), acc), {}) : {};
};

describe(`${COUNT} instances per node`, () => {
  it("all MASTER on one node, all BACKUP on the other, steady for 2 s; SIGTERM moves all of them", async () => {
    const na = startLbNode(lab, a, config("10.82.0.1", 150));
    await waitFor("all MASTER on a", () => states(na).MASTER === COUNT, 5000);
    const nb = startLbNode(lab, b, config("10.82.0.2", 100));
    await waitFor("all BACKUP on b", () => states(nb).BACKUP === COUNT, 5000);
    const before = nb.status()!.instances.reduce((s, i) => s + i.stats.advertisementsReceived, 0);
    await sleep(2000);
    expect(states(na)).toEqual({ MASTER: COUNT });
    expect(states(nb)).toEqual({ BACKUP: COUNT });
    // About 20 adverts per instance in 2 s reached the backup; none was lost to a slow loop.
    const received = nb.status()!.instances.reduce((s, i) => s + i.stats.advertisementsReceived, 0) - before;
    expect(received).toBeGreaterThan(COUNT * 17);
    expect(nb.status()!.instances.every((i) => i.stats.becomeMaster === 0)).toBe(true);
    expect((await addresses(lab, a)).filter((x) => x.startsWith("eth0 10.82.") && !x.includes("10.82.0.")).length).toBe(COUNT);

    na.proc.kill("SIGTERM");
    expect(await na.proc.exited).toBe(0);
    await waitFor("all MASTER on b", () => states(nb).MASTER === COUNT, 2000);
    expect((await addresses(lab, a)).filter((x) => x.startsWith("eth0 10.82.") && !x.includes("10.82.0.")).length).toBe(0);
    nb.proc.kill("SIGTERM");
    expect(await nb.proc.exited).toBe(0);
  });
});
