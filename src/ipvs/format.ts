// `lbctl ipvs`: the kernel's IPVS table in ipvsadm -Ln's layout, plus who owns each entry and,
// for lbctl's own, the health its checkers report. Pure: the table and the daemon's status in,
// text out.
import type { VirtualServerV1 } from "../daemon/api-types.ts";
import type { IpvsTable } from "./client.ts";
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3,
  type DestStatus, type IpvsInfo, type ServiceStatus,
} from "./types.ts";

const METHOD: Record<DestStatus["method"], string> = { masq: "Masq", local: "Local", tunnel: "Tunnel", droute: "Route", bypass: "Bypass" };

const hostPort = (addr: string, port: number) => (addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`);

/** keepalived's (and the control API's) name of a virtual server: `TCP 10.0.0.1:80`, `FWM 7`. */
export function serviceName(s: ServiceStatus): string {
  return s.key.kind === "fwmark" ? `FWM ${s.key.fwmark}` : `${s.key.protocol.toUpperCase()} ${hostPort(s.key.address, s.key.port)}`;
}

function flagsText(s: ServiceStatus): string {
  const out: string[] = [];
  const sched1 = s.scheduler === "sh" ? "sh-fallback" : s.scheduler === "mh" ? "mh-fallback" : "flag-1";
  const sched2 = s.scheduler === "sh" ? "sh-port" : s.scheduler === "mh" ? "mh-port" : "flag-2";
  if (s.flags & IP_VS_SVC_F_SCHED1) out.push(sched1);
  if (s.flags & IP_VS_SVC_F_SCHED2) out.push(sched2);
  if (s.flags & IP_VS_SVC_F_SCHED3) out.push("flag-3");
  if (s.flags & IP_VS_SVC_F_PERSISTENT) {
    out.push(`persistent ${s.timeout}`);
    const full = s.key.family === "ipv4" ? 32 : 128;
    if (s.netmask !== full) out.push(s.key.family === "ipv4" ? `mask ${prefixToMask(s.netmask)}` : `mask ${s.netmask}`);
  }
  if (s.peName) out.push(`pe ${s.peName}`);
  if (s.flags & IP_VS_SVC_F_ONEPACKET) out.push("ops");
  return out.join(" ");
}

function prefixToMask(p: number): string {
  const n = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

export function formatIpvsTable(info: IpvsInfo | null, table: IpvsTable, owned: readonly VirtualServerV1[] | null): string {
  const byName = new Map((owned ?? []).map((vs) => [vs.key, vs]));
  const lines: string[] = [];
  if (info) lines.push(`IP Virtual Server version ${info.versionText} (size=${info.connTableSize})`);
  lines.push("Prot LocalAddress:Port Scheduler Flags");
  lines.push(`  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn  Owner  Health`);
  const sorted = [...table].sort((a, b) => serviceName(a.service).localeCompare(serviceName(b.service)));
  for (const { service, dests } of sorted) {
    const name = serviceName(service);
    const mine = byName.get(name);
    const owner = owned === null ? "?" : mine ? "lbctl" : "other";
    const head = `${name.replace(" ", "  ")} ${service.scheduler}${flagsText(service) ? " " + flagsText(service) : ""}`;
    lines.push(`${head.padEnd(67)} ${owner}`);
    const rsByKey = new Map((mine?.realServers ?? []).map((rs) => [rs.key, rs]));
    for (const d of [...dests].sort((a, b) => hostPort(a.address, a.port).localeCompare(hostPort(b.address, b.port)))) {
      const key = hostPort(d.address, d.port);
      const rs = rsByKey.get(key);
      const health = rs ? `${rs.drained ? "drained, " : ""}${rs.health}${rs.reason ? ` (${rs.reason})` : ""}` : mine ? "sorry server or unknown" : "";
      lines.push(`  -> ${key.padEnd(28)} ${METHOD[d.method].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)} ${(owner === "lbctl" ? "lbctl" : owner).padEnd(6)} ${health}`.trimEnd());
    }
  }
  return lines.join("\n") + "\n";
}
