// Reload storm: 200 reloads in a row with unrelated changes while a client keeps requesting a
// service on the VIP. Expected: zero VIP flaps (no transition in the event stream, no
// priority-0 advert and no gratuitous ARP on the wire after the start) and zero failed requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLab, type SpawnedProcess } from "../helpers/netns.ts";
import { lbctlCommand } from "../helpers/lbctl-bin.ts";

const RELOADS = 200;
const VIP = "10.61.0.100";
const lab = createLab("lbt-rs-");
const dir = mkdtempSync(join(tmpdir(), "lbctl-reload-storm-"));
const BUN = join(import.meta.dirname, "../../node_modules/.bin/bun");
let nsA = "", nsB = "", nsClient = "", nsLan = "";
let master: SpawnedProcess, backup: SpawnedProcess, capture: SpawnedProcess;

/** node config; `variant` changes something unrelated to the VIP's instance on every reload. */
function config(prio: number, variant: number): string {
  return `global_defs {
  router_id node${prio}
}
vrrp_script unrelated {
  script "/bin/true"
  interval ${1 + (variant % 5)}
}
vrrp_instance VIP {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority ${prio}
  advert_int 0.2
  version 3
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
}
vrrp_instance OTHER {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority ${variant % 2 === 0 ? 50 : 60}
  advert_int 1
  version 3
  virtual_ipaddress {
    10.61.0.200/24 dev eth0
  }
}
`;
}

const CLIENT = `
const stop = Bun.file(process.argv[2]);
let ok = 0, failed = 0;
const errors = new Map();
while (!(await stop.exists())) {
  try {
    const r = await fetch("http://${VIP}:8080/", { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    if (r.ok) ok++; else { failed++; errors.set("HTTP " + r.status, (errors.get("HTTP " + r.status) ?? 0) + 1); }
  } catch (e) { failed++; errors.set(String(e), (errors.get(String(e)) ?? 0) + 1); }
  await Bun.sleep(5);
}
console.log(JSON.stringify({ ok, failed, errors: [...errors] }));
`;

async function holds(ns: string): Promise<boolean> {
  const links = await lab.ipJson<{ addr_info: { local: string }[] }[]>(ns, ["addr", "show", "dev", "eth0"]);
  return links.some((l) => l.addr_info.some((a) => a.local === VIP));
}

beforeAll(async () => {
  [nsA, nsB, nsClient] = await lab.namespaces("a", "b", "client");
  nsLan = await lab.lan("lan", [
    { ns: nsA, ifname: "eth0", address: "10.61.0.1/24" },
    { ns: nsB, ifname: "eth0", address: "10.61.0.2/24" },
    { ns: nsClient, ifname: "eth0", address: "10.61.0.50/24" },
  ]);
  writeFileSync(join(dir, "a.conf"), config(150, 0));
  writeFileSync(join(dir, "b.conf"), config(100, 0));
  writeFileSync(join(dir, "client.ts"), CLIENT);
  master = lab.spawnIn(nsA, [...lbctlCommand(), "daemon", "-f", join(dir, "a.conf"), "--socket", join(dir, "a.sock")]);
  backup = lab.spawnIn(nsB, [...lbctlCommand(), "daemon", "-f", join(dir, "b.conf"), "--socket", join(dir, "b.sock")]);
  lab.spawnIn(nsA, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "8080", "--directory", dir]);
  const t0 = Date.now();
  while (!(await holds(nsA))) {
    if (Date.now() - t0 > 15_000) throw new Error("master never took the VIP");
    await Bun.sleep(50);
  }
  await Bun.sleep(1500); // initial GARP bursts are over (garp_master_delay 5 s is not: see below)
}, 60_000);

afterAll(async () => {
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("reload storm", () => {
  it(`survives ${RELOADS} reloads with zero flaps and zero failed requests`, async () => {
    // From here on, the wire must show no priority-0 advert and no ARP announcing the VIP,
    // except keepalived's second GARP burst (garp_master_delay, 5 s after becoming master).
    capture = lab.spawnIn(nsLan, ["tcpdump", "-i", "br0", "-n", "-l", "-e", "arp or ip proto 112"]);
    const client = lab.spawnIn(nsClient, [BUN, join(dir, "client.ts"), join(dir, "stop")]);
    await Bun.sleep(6000);
    const captureStart = capture.output().stdout.length;
    for (let i = 1; i <= RELOADS; i++) {
      writeFileSync(join(dir, "a.conf"), config(150, i));
      master.kill("SIGHUP");
      await Bun.sleep(25);
    }
    await Bun.sleep(1000);
    writeFileSync(join(dir, "stop"), "");
    expect(await client.exited).toBe(0);
    const result = JSON.parse(client.output().stdout.trim().split("\n").at(-1)!) as { ok: number; failed: number; errors: unknown };
    expect(result.failed, JSON.stringify(result.errors)).toBe(0);
    expect(result.ok).toBeGreaterThan(100);

    const wire = capture.output().stdout.slice(captureStart);
    expect(wire.split("\n").filter((l) => / vrid 61, prio 0,/.test(l))).toEqual([]);
    expect(wire).not.toMatch(new RegExp(`Request who-has ${VIP.replaceAll(".", "\\.")} .*tell ${VIP.replaceAll(".", "\\.")}`));
    expect(wire).not.toMatch(/10\.61\.0\.2 > 224\.0\.0\.18: VRRPv3, Advertisement, vrid 61/);

    const ev = Bun.spawn([...lbctlCommand(), "events", "--json", "--no-follow", "--socket", join(dir, "a.sock")], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(ev.stdout).text(), ev.exited]);
    expect(code).toBe(0);
    const events = out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; instance?: string; ok?: boolean });
    const transitions = events.filter((e) => e.type === "vrrp-transition" && e.instance === "VIP");
    expect(transitions.length).toBe(2); // INIT->BACKUP and BACKUP->MASTER at start, nothing during the storm
    expect(events.filter((e) => e.type === "reload").length).toBeGreaterThanOrEqual(RELOADS * 0.5);
    expect(events.filter((e) => e.type === "reload" && e.ok === false)).toEqual([]);
    expect(await holds(nsA)).toBe(true);
    expect(await holds(nsB)).toBe(false);
    expect(master.output().stdout).not.toMatch(/reload rejected/);
    void backup;
  }, 120_000);
});
