// Pure text renderings of the control API's status and events, shared by `lbctl status`,
// `lbctl events` and the `lbctl top` console. Times are UTC so output does not depend on TZ.
import type { EventV1, PeerMismatchV1, RealServerV1, StatusV1, VirtualServerV1, VrrpInstanceV1 } from "../daemon/api-types.ts";

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd());
}

const dash = "-";
function orDash(v: string | number | null): string { return v === null || v === "" ? dash : String(v); }

export function instanceRow(i: VrrpInstanceV1, now: number): string[] {
  const t = i.lastTransition;
  const state = `${i.state}${i.forcedBackup ? " (forced)" : ""}${i.peerMismatch ? " (peer mismatch)" : ""}`;
  return [
    i.name, state, orDash(i.effectivePriority), orDash(i.basePriority),
    orDash(i.masterAddress), orDash(i.vrid), orDash(i.interface),
    t ? `${t.from}->${t.to}${t.at === null ? "" : ` ${formatDuration(now - t.at)} ago`}${t.reason ? ` (${t.reason})` : ""}` : dash,
  ];
}
export const INSTANCE_HEADER = ["INSTANCE", "STATE", "PRIO", "BASE", "MASTER", "VRID", "IF", "LAST TRANSITION"];

export function weightText(rs: RealServerV1): string {
  const w = orDash(rs.weight);
  if (rs.effectiveWeight === null || rs.effectiveWeight === rs.weight) return w;
  return `${rs.effectiveWeight}/${w}`;
}

export function realServerRow(rs: RealServerV1): string[] {
  const disabled = rs.checkers.filter((c) => !c.enabled).map((c) => c.id);
  const notes = [rs.drained ? "drained" : "", disabled.length ? `checker ${disabled.join(",")} disabled` : ""].filter(Boolean);
  return [rs.key, rs.health, weightText(rs), notes.join(", ") || dash, orDash(rs.activeConns), orDash(rs.reason)];
}
export const REAL_SERVER_HEADER = ["REAL SERVER", "HEALTH", "WEIGHT", "ADMIN", "ACTIVE", "REASON"];

export function virtualServerLine(vs: VirtualServerV1): string {
  const up = vs.realServers.filter((r) => r.health === "up").length;
  const parts = [vs.key];
  if (vs.scheduler) parts.push(vs.scheduler);
  parts.push(vs.quorumUp === null ? "quorum unknown" : vs.quorumUp ? "quorum up" : "QUORUM DOWN");
  if (vs.sorryServerActive) parts.push("sorry server in service");
  parts.push(`${up}/${vs.realServers.length} real servers up`);
  return parts.join("  ");
}

/** Two masters likely: said under the instance table of `lbctl status` and `lbctl top`. */
export function peerMismatchLine(instance: string, m: PeerMismatchV1, now: number): string {
  return `${instance}: adverts of ${m.peer} dropped for ${formatDuration(now - m.since)} (${m.adverts}): ${m.detail}; both can be MASTER`;
}

/** `lbctl top`'s header names the file; `lbctl status` gives it a line of its own, with the reason. */
export function daemonLines(s: StatusV1, now: number, configLine = false): string[] {
  const d = s.daemon;
  const lines = [`lbctl ${d.version}, pid ${d.pid}, up ${formatDuration(now - d.startedAt)}${configLine ? "" : `, config ${d.configPath}`}`];
  // The daemon's start-up log line, word for word.
  if (configLine) lines.push(`configuration: ${d.configPath}${d.configReason ? ` (${d.configReason})` : ""}`);
  const r = d.lastReload;
  lines.push(r ? `last reload: ${r.ok ? "ok" : "REJECTED"} at ${formatTime(r.at)}${r.ok ? "" : `: ${r.message}`} (${d.reloadCount} reload(s))` : "last reload: none");
  const children = s.children.map((c) => `${c.role} ${c.pid === null ? "not running" : `pid ${c.pid}${c.ready ? "" : " starting"}`}${c.restarts ? `, ${c.restarts} restart(s)` : ""}`);
  lines.push(`processes: ${children.length ? children.join("; ") : "none"}`);
  return lines;
}

/** The whole `lbctl status` text. */
export function formatStatus(s: StatusV1, now: number): string {
  const out = daemonLines(s, now, true);
  out.push("");
  if (s.vrrp.instances.length === 0) out.push("no VRRP instances");
  else out.push(...table(INSTANCE_HEADER, s.vrrp.instances.map((i) => instanceRow(i, now))));
  // What the instances run without, in `lbctl check`'s words (keepalived's verdicts on the configuration).
  for (const n of s.vrrp.notStarted ?? []) out.push(`${n.name}: not started: ${n.reason}`);
  for (const i of s.vrrp.instances) for (const v of i.verdicts ?? []) out.push(`${i.name}: ${v}`);
  for (const i of s.vrrp.instances) if (i.peerMismatch) out.push(peerMismatchLine(i.name, i.peerMismatch, now));
  out.push("");
  if (s.virtualServers.length === 0) out.push("no virtual servers");
  else if (s.ipvs && !s.ipvs.available) out.push(`IPVS not available: ${s.ipvs.error ?? "unknown reason"}`, "");
  for (const vs of s.virtualServers) {
    out.push(virtualServerLine(vs));
    if (vs.realServers.length) out.push(...table(REAL_SERVER_HEADER, vs.realServers.map(realServerRow)).map((l) => `  ${l}`));
    out.push("");
  }
  while (out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

export function formatEvent(e: EventV1): string {
  return `${formatTime(e.at)}  ${e.type.padEnd(15)}  ${e.message}`;
}
