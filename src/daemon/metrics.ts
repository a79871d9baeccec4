// Prometheus metrics (text exposition format 0.0.4), rendered from the same StatusV1 the
// control API serves, so the two never disagree. Opt-in: the daemon serves them only when
// given a listen address (`--metrics-listen 127.0.0.1:9650` or LBCTL_METRICS_LISTEN; the
// configuration has no keyword for it yet).
import {
  LATENCY_BUCKETS_S, VRRP_STATES,
  type IpvsStatsV1, type StatusV1, type VrrpCountersV1,
} from "./api-types.ts";

type Labels = Record<string, string>;
type MetricType = "gauge" | "counter" | "histogram";

interface Family { name: string; type: MetricType; help: string; samples: { suffix: string; labels: Labels; value: number }[] }

/** Collects samples per metric family, so each family is printed once with its HELP and TYPE. */
class Exposition {
  private readonly families = new Map<string, Family>();

  add(name: string, type: MetricType, help: string, labels: Labels, value: number, suffix = ""): void {
    let f = this.families.get(name);
    if (!f) { f = { name, type, help, samples: [] }; this.families.set(name, f); }
    f.samples.push({ suffix, labels, value });
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples) out.push(`${f.name}${s.suffix}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return out.join("\n") + "\n";
  }
}

function escapeHelp(s: string): string { return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n"); }

export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"");
}

function formatLabels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Drop reasons as metric labels, from the VRRP-MIB error counters. */
const DROP_REASONS: [keyof VrrpCountersV1, string][] = [
  ["authFailures", "auth_failure"],
  ["invalidAuthType", "invalid_auth_type"],
  ["authTypeMismatch", "auth_type_mismatch"],
  ["ipTtlErrors", "ttl"],
  ["packetLengthErrors", "packet_length"],
  ["invalidTypePktsRcvd", "invalid_type"],
  ["addressListErrors", "address_list"],
  ["advertIntervalErrors", "advert_interval"],
  ["checksumErrors", "checksum"],
  ["versionErrors", "version"],
  ["vridErrors", "vrid"],
];

function ipvs(x: Exposition, prefix: string, what: string, labels: Labels, s: IpvsStatsV1): void {
  x.add(`${prefix}_connections_total`, "counter", `Connections scheduled to this ${what} (IPVS).`, labels, s.conns);
  x.add(`${prefix}_packets_total`, "counter", `Packets through this ${what} (IPVS), by direction.`, { ...labels, direction: "in" }, s.inPkts);
  x.add(`${prefix}_packets_total`, "counter", `Packets through this ${what} (IPVS), by direction.`, { ...labels, direction: "out" }, s.outPkts);
  x.add(`${prefix}_bytes_total`, "counter", `Bytes through this ${what} (IPVS), by direction.`, { ...labels, direction: "in" }, s.inBytes);
  x.add(`${prefix}_bytes_total`, "counter", `Bytes through this ${what} (IPVS), by direction.`, { ...labels, direction: "out" }, s.outBytes);
  x.add(`${prefix}_connection_rate`, "gauge", `Connections per second (IPVS 2 s estimator).`, labels, s.cps);
  x.add(`${prefix}_packet_rate`, "gauge", `Packets per second (IPVS 2 s estimator), by direction.`, { ...labels, direction: "in" }, s.inPps);
  x.add(`${prefix}_packet_rate`, "gauge", `Packets per second (IPVS 2 s estimator), by direction.`, { ...labels, direction: "out" }, s.outPps);
  x.add(`${prefix}_byte_rate`, "gauge", `Bytes per second (IPVS 2 s estimator), by direction.`, { ...labels, direction: "in" }, s.inBps);
  x.add(`${prefix}_byte_rate`, "gauge", `Bytes per second (IPVS 2 s estimator), by direction.`, { ...labels, direction: "out" }, s.outBps);
}

/** Pure: the whole scrape for one status snapshot. */
export function renderMetrics(s: StatusV1): string {
  const x = new Exposition();
  x.add("lbctl_build_info", "gauge", "Always 1; the version is a label.", { version: s.daemon.version }, 1);
  x.add("lbctl_start_time_seconds", "gauge", "When the daemon started (Unix time).", {}, s.daemon.startedAt / 1000);
  x.add("lbctl_reloads_total", "counter", "Configuration reloads attempted.", {}, s.daemon.reloadCount);
  if (s.daemon.lastReload) {
    x.add("lbctl_last_reload_success", "gauge", "1 if the last reload was applied, 0 if it was rejected.", {}, s.daemon.lastReload.ok ? 1 : 0);
    x.add("lbctl_last_reload_time_seconds", "gauge", "When the last reload was attempted (Unix time).", {}, s.daemon.lastReload.at / 1000);
  }
  for (const c of s.children) {
    x.add("lbctl_child_up", "gauge", "1 while the child process is running and ready.", { role: c.role }, c.pid !== null && c.ready ? 1 : 0);
    x.add("lbctl_child_restarts", "gauge", "Consecutive restarts of the child process (reset once it runs steadily).", { role: c.role }, c.restarts);
  }

  for (const i of s.vrrp.instances) {
    const l = { instance: i.name };
    for (const st of VRRP_STATES) x.add("lbctl_vrrp_state", "gauge", "1 for the instance's current VRRP state, 0 for the others.", { ...l, state: st }, i.state === st ? 1 : 0);
    if (i.effectivePriority !== null) x.add("lbctl_vrrp_priority", "gauge", "Effective priority (base priority adjusted by tracking).", l, i.effectivePriority);
    if (i.basePriority !== null) x.add("lbctl_vrrp_base_priority", "gauge", "Configured priority.", l, i.basePriority);
    if (i.transitions !== null) x.add("lbctl_vrrp_transitions_total", "counter", "VRRP state transitions.", l, i.transitions);
    x.add("lbctl_vrrp_peer_mismatch", "gauge", "1 while a router of the VRID sends adverts dropped for a configuration mismatch (both can be MASTER).", l, i.peerMismatch ? 1 : 0);
    const c = i.counters;
    x.add("lbctl_vrrp_become_master_total", "counter", "Transitions to MASTER (VRRP-MIB vrrpStatsBecomeMaster).", l, c.becomeMaster);
    x.add("lbctl_vrrp_release_master_total", "counter", "Transitions from MASTER to BACKUP or FAULT.", l, c.releaseMaster);
    x.add("lbctl_vrrp_adverts_received_total", "counter", "Advertisements received (VRRP-MIB vrrpStatsAdvertiseRcvd).", l, c.advertisementsReceived);
    x.add("lbctl_vrrp_adverts_sent_total", "counter", "Advertisements sent.", l, c.advertisementsSent);
    x.add("lbctl_vrrp_priority_zero_received_total", "counter", "Priority-0 advertisements received.", l, c.priorityZeroPktsRcvd);
    x.add("lbctl_vrrp_priority_zero_sent_total", "counter", "Priority-0 advertisements sent.", l, c.priorityZeroPktsSent);
    for (const [k, reason] of DROP_REASONS) x.add("lbctl_vrrp_packets_dropped_total", "counter", "Packets for this instance dropped, by reason (VRRP-MIB error counters).", { ...l, reason }, c[k]);
  }
  x.add("lbctl_vrrp_unmatched_packets_total", "counter", "VRRP packets no instance took, by reason.", { reason: "unknown_vrid" }, s.vrrp.unmatched.unknownVrid);
  x.add("lbctl_vrrp_unmatched_packets_total", "counter", "VRRP packets no instance took, by reason.", { reason: "malformed" }, s.vrrp.unmatched.malformed);

  for (const vs of s.virtualServers) {
    const lv = { vs: vs.key };
    if (vs.quorumUp !== null) x.add("lbctl_virtual_server_quorum_up", "gauge", "1 while the virtual server has quorum.", lv, vs.quorumUp ? 1 : 0);
    x.add("lbctl_virtual_server_sorry_server_active", "gauge", "1 while the sorry server is in service.", lv, vs.sorryServerActive ? 1 : 0);
    if (vs.stats) ipvs(x, "lbctl_ipvs_virtual_server", "virtual server", lv, vs.stats);
    for (const rs of vs.realServers) {
      const lr = { vs: vs.key, rs: rs.key };
      x.add("lbctl_real_server_up", "gauge", "1 healthy, 0 failed, -1 not known yet.", lr, rs.health === "up" ? 1 : rs.health === "down" ? 0 : -1);
      x.add("lbctl_real_server_drained", "gauge", "1 while drained by `lbctl drain`.", lr, rs.drained ? 1 : 0);
      if (rs.weight !== null) x.add("lbctl_real_server_weight", "gauge", "Configured weight.", lr, rs.weight);
      if (rs.effectiveWeight !== null) x.add("lbctl_real_server_effective_weight", "gauge", "Weight in IPVS now.", lr, rs.effectiveWeight);
      if (rs.activeConns !== null) x.add("lbctl_ipvs_real_server_active_connections", "gauge", "Active connections (IPVS).", lr, rs.activeConns);
      if (rs.inactiveConns !== null) x.add("lbctl_ipvs_real_server_inactive_connections", "gauge", "Inactive connections (IPVS).", lr, rs.inactiveConns);
      if (rs.stats) ipvs(x, "lbctl_ipvs_real_server", "real server", lr, rs.stats);
      for (const c of rs.checkers) {
        const lc = { ...lr, checker: c.id, type: c.type };
        if (c.up !== null) x.add("lbctl_checker_up", "gauge", "1 while the checker passes.", lc, c.up ? 1 : 0);
        x.add("lbctl_checker_enabled", "gauge", "0 while disabled through the control API.", lc, c.enabled ? 1 : 0);
        x.add("lbctl_checker_results_total", "counter", "Check results, by outcome.", { ...lc, result: "success" }, c.successes);
        x.add("lbctl_checker_results_total", "counter", "Check results, by outcome.", { ...lc, result: "failure" }, c.failures);
        if (c.latency) {
          const help = "How long checks took.";
          c.latency.buckets.forEach((n, b) => x.add("lbctl_checker_duration_seconds", "histogram", help, { ...lc, le: String(LATENCY_BUCKETS_S[b]) }, n, "_bucket"));
          x.add("lbctl_checker_duration_seconds", "histogram", help, { ...lc, le: "+Inf" }, c.latency.count, "_bucket");
          x.add("lbctl_checker_duration_seconds", "histogram", help, lc, c.latency.sumSeconds, "_sum");
          x.add("lbctl_checker_duration_seconds", "histogram", help, lc, c.latency.count, "_count");
        }
      }
    }
  }
  return x.render();
}

/** `HOST:PORT` or `[IPV6]:PORT` -> where Bun.serve should listen. */
export function parseListen(spec: string): { hostname: string; port: number } | { error: string } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(spec.trim());
  if (!m) return { error: `metrics listen address '${spec}' is not HOST:PORT or [IPV6]:PORT` };
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return { error: `metrics port ${port} is out of range 1-65535` };
  return { hostname: m[1] ?? m[2], port };
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Serves GET /metrics (only) over TCP. */
export function serveMetrics(o: { hostname: string; port: number; status: () => Promise<StatusV1> }): { port: number; stop(): Promise<void> } {
  const server = Bun.serve({
    hostname: o.hostname,
    port: o.port,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/metrics") return new Response("not found: metrics are at /metrics\n", { status: 404 });
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
      return new Response(renderMetrics(await o.status()), { headers: { "content-type": METRICS_CONTENT_TYPE } });
    },
  });
  return { port: server.port ?? o.port, async stop() { await server.stop(true); } };
}

/**
 * Where to serve metrics: `--metrics-listen` if given, else LBCTL_METRICS_LISTEN, else nowhere
 * (null). The configuration has no keyword for it yet.
 */
export function resolveMetricsListen(flag: string | undefined, env: Record<string, string | undefined>): { hostname: string; port: number } | { error: string } | null {
  const spec = flag ?? env.LBCTL_METRICS_LISTEN;
  if (spec === undefined || spec === "") return null;
  return parseListen(spec);
}
