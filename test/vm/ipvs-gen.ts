// Seeded random IPVS tables for property tests (unit, against applyOps) and the VM suite (against
// the kernel). Small key universes so successive tables overlap and every op kind shows up.
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, fullNetmask,
  type DestConfig, type Family, type ForwardMethod, type ServiceConfig, type ServiceKey, type ServiceWithDests,
} from "../../src/ipvs/types.ts";

export type Rng = () => number;

/** mulberry32: tiny, deterministic, good enough for test data. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const chance = (rng: Rng, p: number) => rng() < p;

export function makeService(key: ServiceKey, over: Partial<ServiceConfig> = {}): ServiceConfig {
  return { key, scheduler: "wlc", flags: 0, timeout: 0, netmask: fullNetmask(key.family), peName: "", ...over };
}

export function makeDest(family: Family, address: string, port: number, over: Partial<DestConfig> = {}): DestConfig {
  return { family, address, port, method: "masq", weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over };
}

const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sh", "mh", "sed", "nq"] as const;
const METHODS: readonly ForwardMethod[] = ["masq", "droute", "tunnel"];

function randomKey(rng: Rng, index: number): ServiceKey {
  const family: Family = chance(rng, 0.3) ? "ipv6" : "ipv4";
  if (chance(rng, 0.2)) return { kind: "fwmark", family, fwmark: 1 + (index % 4) };
  const protocol = pick(rng, ["tcp", "udp", "sctp"] as const);
  const address = family === "ipv4" ? `10.77.0.${1 + (index % 6)}` : `2001:db8:77::${1 + (index % 6)}`;
  return { kind: "addr", family, protocol, address, port: pick(rng, [80, 443]) };
}

function randomService(rng: Rng, key: ServiceKey): ServiceConfig {
  const scheduler = pick(rng, SCHEDULERS);
  let flags = 0;
  if (chance(rng, 0.3)) flags |= IP_VS_SVC_F_PERSISTENT;
  if (key.kind === "addr" && key.protocol === "udp" && chance(rng, 0.3)) flags |= IP_VS_SVC_F_ONEPACKET;
  if ((scheduler === "sh" || scheduler === "mh") && chance(rng, 0.5)) flags |= pick(rng, [IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2]);
  const persistent = (flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  return makeService(key, {
    scheduler,
    flags,
    timeout: persistent ? pick(rng, [60, 300]) : 0,
    netmask: persistent ? pick(rng, key.family === "ipv4" ? [24, 32] : [64, 128]) : fullNetmask(key.family),
  });
}

function randomDests(rng: Rng, service: ServiceConfig): DestConfig[] {
  const family = service.key.family;
  const count = Math.floor(rng() * 4);
  const dests: DestConfig[] = [];
  for (let i = 0; i < count; i++) {
    const host = 1 + Math.floor(rng() * 5);
    const address = family === "ipv4" ? `10.78.0.${host}` : `2001:db8:78::${host}`;
    if (dests.some((d) => d.address === address)) continue;
    const method = pick(rng, METHODS);
    const port = service.key.kind === "addr" ? service.key.port : 0;
    const upper = pick(rng, [0, 0, 100]);
    dests.push(makeDest(family, address, method === "masq" ? 8000 + host : port, {
      method,
      weight: Math.floor(rng() * 5),
      upperThreshold: upper,
      lowerThreshold: upper ? pick(rng, [0, 50]) : 0,
    }));
  }
  return dests;
}

/** A random valid desired table of up to `maxServices` services (no duplicate keys). */
export function randomTable(rng: Rng, maxServices = 5): ServiceWithDests[] {
  const byId = new Map<string, ServiceWithDests>();
  const n = Math.floor(rng() * (maxServices + 1));
  for (let i = 0; i < n; i++) {
    const key = randomKey(rng, Math.floor(rng() * 12));
    const id = JSON.stringify(key);
    if (byId.has(id)) continue;
    const service = randomService(rng, key);
    byId.set(id, { service, dests: randomDests(rng, service) });
  }
  return [...byId.values()];
}
