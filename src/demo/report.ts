// The demo's pure parts: node configurations and what the client saw in each phase.
import type { ClientSample } from "./agents.ts";

export const VIP = "10.77.0.100";
export const DEMO_VS_PORT = 8080;
export const NODES = [
  { name: "node1", addr: "10.77.0.1", priority: 150 },
  { name: "node2", addr: "10.77.0.2", priority: 100 },
] as const;
/** Real servers behind the IPVS virtual server (only where the kernel has IPVS). */
export const REAL_SERVERS = [
  { name: "rs1", addr: "10.77.0.11" },
  { name: "rs2", addr: "10.77.0.12" },
] as const;

export type DemoNode = (typeof NODES)[number];

export function demoConfig(node: DemoNode, o: { version: 2 | 3; advertInt: number; ipvs?: boolean }): string {
  let s = `! lbctl demo: ${node.name}
global_defs {
  router_id ${node.name}
  vrrp_version ${o.version}
  vrrp_garp_master_delay 1
}

vrrp_instance DEMO {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority ${node.priority}
  advert_int ${o.advertInt}
  virtual_ipaddress {
    ${VIP}/24 dev eth0
  }
}
`;
  // Direct routing: the real servers answer the client themselves (they hold the VIP on lo and
  // do not answer ARP for it), so no return route through the load balancer is needed.
  if (o.ipvs) {
    s += `
virtual_server ${VIP} ${DEMO_VS_PORT} {
  delay_loop 1
  lvs_sched rr
  lvs_method DR
  protocol TCP
`;
    for (const rs of REAL_SERVERS) {
      s += `  real_server ${rs.addr} ${DEMO_VS_PORT} {
    weight 1
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
`;
    }
    s += "}\n";
  }
  return s;
}

/** What the client saw between two moments. */
export interface PhaseStats {
  requests: number;
  failed: number;
  /** Answers per node, in the order nodes first answered. */
  answeredBy: Record<string, number>;
  /** Who answered last before the phase began (null: nobody yet). */
  before: string | null;
  /** Who answered last in the phase. */
  after: string | null;
  /** The longest run of failed requests: from the first failed request's start to the next answered one's (or the phase's end). */
  gapMs: number;
  /** Requests failed in that run. */
  gapFailed: number;
}

/** The one pure reading of the client's log: requests started in [from, to). */
export function phaseStats(samples: ClientSample[], from: number, to: number): PhaseStats {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const inPhase = sorted.filter((s) => s.t >= from && s.t < to);
  const lastBefore = sorted.filter((s) => s.t < from && s.ok).at(-1);
  const answeredBy: Record<string, number> = {};
  let gapMs = 0, gapFailed = 0, runStart: number | null = null, runLen = 0;
  const endRun = (at: number) => {
    if (runStart !== null && at - runStart > gapMs) { gapMs = at - runStart; gapFailed = runLen; }
    runStart = null; runLen = 0;
  };
  for (const s of inPhase) {
    if (s.ok) {
      answeredBy[s.node ?? "?"] = (answeredBy[s.node ?? "?"] ?? 0) + 1;
      endRun(s.t);
    } else {
      if (runStart === null) runStart = s.t;
      runLen++;
    }
  }
  endRun(to);
  const oks = inPhase.filter((s) => s.ok);
  return {
    requests: inPhase.length,
    failed: inPhase.length - oks.length,
    answeredBy,
    before: lastBefore?.node ?? null,
    after: oks.at(-1)?.node ?? null,
    gapMs,
    gapFailed,
  };
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** `crash failover: node1 → node2; 52 requests, 31 failed; client-visible gap 3.10 s (31 requests failed in a row)` */
export function phaseLine(phase: string, p: PhaseStats): string {
  const who = p.before === p.after ? `${p.after ?? "nobody"} throughout` : `${p.before ?? "nobody"} → ${p.after ?? "nobody"}`;
  const gap = p.gapFailed ? `client-visible gap ${seconds(p.gapMs)} (${p.gapFailed} requests failed in a row)` : "no request failed";
  return `${phase}: ${who}; ${p.requests} requests, ${p.failed} failed; ${gap}`;
}

/** The closing table, one row per phase. */
export function summaryTable(rows: { phase: string; stats: PhaseStats; vipMs: number | null }[]): string[] {
  const out = ["phase                 answered by          requests  failed   gap (s)  VIP moved (s)"];
  for (const r of rows) {
    const who = r.stats.before === r.stats.after ? (r.stats.after ?? "-") : `${r.stats.before ?? "-"} → ${r.stats.after ?? "-"}`;
    out.push(`${r.phase.padEnd(21)} ${who.padEnd(18)} ${String(r.stats.requests).padStart(10)} ${String(r.stats.failed).padStart(7)} ${(r.stats.gapMs / 1000).toFixed(2).padStart(9)} ${r.vipMs === null ? "-".padStart(14) : (r.vipMs / 1000).toFixed(2).padStart(14)}`);
  }
  return out;
}

/** Parses the client's stdout (one JSON line per request); a cut last line is skipped. */
export function parseSamples(stdout: string): ClientSample[] {
  const out: ClientSample[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try { out.push(JSON.parse(line) as ClientSample); } catch { /* a line still being written */ }
  }
  return out;
}
