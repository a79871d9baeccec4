// The synthetic IPVS table the IPVS benchmarks program: `services` TCP services, `dests` masq destinations each.
import type { ServiceWithDests } from "../src/ipvs/types.ts";
import { makeDest, makeService } from "../test/vm/ipvs-gen.ts";

export function benchTable(services: number, dests: number): ServiceWithDests[] {
  const out: ServiceWithDests[] = [];
  for (let i = 0; i < services; i++) {
    const key = { kind: "addr", family: "ipv4", protocol: "tcp", address: `10.${100 + (i >> 8)}.${i & 255}.1`, port: 80 } as const;
    const ds = Array.from({ length: dests }, (_, j) => makeDest("ipv4", `10.99.${j}.1`, 8080, { weight: 1 + (j % 5) }));
    out.push({ service: makeService(key, { scheduler: "wrr" }), dests: ds });
  }
  return out;
}

/** The same table as `ipvsadm -R` input. */
export function restoreText(t: readonly ServiceWithDests[]): string {
  const lines: string[] = [];
  for (const { service, dests: ds } of t) {
    if (service.key.kind !== "addr") continue;
    const vip = `${service.key.address}:${service.key.port}`;
    lines.push(`-A -t ${vip} -s ${service.scheduler}`);
    for (const d of ds) lines.push(`-a -t ${vip} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return lines.join("\n") + "\n";
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
