// Independent readers of the kernel's IPVS table for the VM suite: `ipvsadm -Sn`, `ipvsadm -Ln --thresholds
// --exact`, `ipvsadm -Ln --daemon`, `ipvsadm -Ln --timeout` and /proc/net/ip_vs, all parsed into one
// comparable projection. `project()` turns lbctl's own config into the same projection.
import { formatIPv4, formatIPv6 } from "../../src/net/inet.ts";
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3,
  destKeyId, fullNetmask, serviceKeyId, type DestConfig, type ForwardMethod, type ServiceConfig, type ServiceWithDests,
} from "../../src/ipvs/types.ts";

export interface SeenDest {
  id: string;
  method: ForwardMethod;
  weight: number;
  /** "gue:6080:1" (type:port:flags), only for tunnel destinations that are not plain IPIP. */
  tunnel?: string;
}

export interface SeenService {
  id: string;
  scheduler: string;
  /** Persistence as "timeout/prefix", or "" when the service is not persistent. */
  persistence: string;
  pe: string;
  ops: boolean;
  schedFlags: string[];
  dests: SeenDest[];
}

/** By id, then by content (fwmark services in /proc/net/ip_vs share an id across families). */
const sortById = <T extends { id: string }>(xs: T[]): T[] => {
  const key = (x: T) => `${x.id}\u0000${JSON.stringify(x)}`;
  return xs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
};

function schedFlagNames(scheduler: string, flags: number): string[] {
  const names: string[] = [];
  const named = scheduler === "sh" || scheduler === "mh";
  if (flags & IP_VS_SVC_F_SCHED1) names.push(named ? `${scheduler}-fallback` : "flag-1");
  if (flags & IP_VS_SVC_F_SCHED2) names.push(named ? `${scheduler}-port` : "flag-2");
  if (flags & IP_VS_SVC_F_SCHED3) names.push("flag-3");
  return names.sort();
}

function projectDest(d: DestConfig): SeenDest {
  const seen: SeenDest = { id: destKeyId(d), method: d.method, weight: d.weight };
  if (d.method === "tunnel" && d.tunnel && d.tunnel.type !== "ipip") {
    seen.tunnel = `${d.tunnel.type}:${d.tunnel.port}:${d.tunnel.flags}`;
  }
  return seen;
}

export function projectService(s: ServiceConfig, dests: readonly DestConfig[]): SeenService {
  const persistent = (s.flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  return {
    id: serviceKeyId(s.key),
    scheduler: s.scheduler,
    persistence: persistent ? `${s.timeout}/${s.netmask}` : "",
    pe: s.peName,
    ops: (s.flags & IP_VS_SVC_F_ONEPACKET) !== 0,
    schedFlags: schedFlagNames(s.scheduler, s.flags),
    dests: sortById(dests.map(projectDest)),
  };
}

export function project(table: readonly ServiceWithDests[]): SeenService[] {
  return sortById(table.map((t) => projectService(t.service, t.dests)));
}

// ---------- ipvsadm -Sn ----------

function splitHostPort(text: string): { address: string; port: number; v6: boolean } {
  const m = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`cannot parse address '${text}'`);
  return { address: m[1], port: Number(m[2]), v6: text.startsWith("[") };
}

const SERVICE_OPTIONS: Record<string, string> = { "-t": "tcp", "-u": "udp", "--sctp-service": "sctp" };
const METHOD_OPTIONS: Record<string, ForwardMethod> = { "-m": "masq", "-g": "droute", "-i": "tunnel" };
const CSUM_OPTIONS: Record<string, number> = { "--tun-nocsum": 0, "--tun-csum": 1, "--tun-remcsum": 2 };

function parseMask(text: string): number {
  if (!text.includes(".")) return Number(text);
  const n = text.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  let bits = 0;
  while (bits < 32 && (n & (0x80000000 >>> bits)) !== 0) bits++;
  return bits;
}

/** Parses `ipvsadm -Sn` (the rules ipvsadm -R would restore). */
export function parseIpvsadmSave(text: string): SeenService[] {
  const services = new Map<string, SeenService>();
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const tok = line.split(/\s+/);
    let serviceId = "";
    let family = tok.includes("-6") ? "ipv6" : "ipv4";
    const opt = (name: string): string | undefined => {
      const i = tok.indexOf(name);
      return i >= 0 ? tok[i + 1] : undefined;
    };
    for (const [flag, proto] of Object.entries(SERVICE_OPTIONS)) {
      const v = opt(flag);
      if (v) {
        const hp = splitHostPort(v);
        family = hp.v6 ? "ipv6" : "ipv4";
        serviceId = `${family}/${proto}/${v}`;
      }
    }
    const fw = opt("-f");
    // ipvsadm prints marks >= 2^31 as negative numbers
    if (fw) serviceId = `${family}/fwmark/${Number(fw) < 0 ? Number(fw) + 2 ** 32 : Number(fw)}`;
    if (tok[0] === "-A") {
      const persistent = opt("-p");
      const mask = opt("-M");
      const schedFlags = opt("-b");
      services.set(serviceId, {
        id: serviceId,
        scheduler: opt("-s") ?? "",
        persistence: persistent ? `${persistent}/${mask ? parseMask(mask) : fullNetmask(family as "ipv4" | "ipv6")}` : "",
        pe: opt("--pe") ?? "",
        ops: tok.includes("-o"),
        schedFlags: schedFlags ? schedFlags.split(",").sort() : [],
        dests: [],
      });
    } else if (tok[0] === "-a") {
      const svc = services.get(serviceId);
      if (!svc) throw new Error(`ipvsadm -S listed a destination before its service: ${line}`);
      const r = splitHostPort(opt("-r") ?? "");
      const method = Object.entries(METHOD_OPTIONS).find(([o]) => tok.includes(o))?.[1];
      if (!method) throw new Error(`no forwarding method in: ${line}`);
      const dest: SeenDest = { id: `${r.v6 ? "ipv6" : "ipv4"}/${opt("-r")}`, method, weight: Number(opt("-w") ?? "1") };
      const tunType = opt("--tun-type");
      if (method === "tunnel" && tunType && tunType !== "ipip") {
        const csum = Object.entries(CSUM_OPTIONS).find(([o]) => tok.includes(o))?.[1] ?? 0;
        dest.tunnel = `${tunType}:${opt("--tun-port") ?? "0"}:${csum}`;
      }
      svc.dests.push(dest);
    } else {
      throw new Error(`unexpected ipvsadm -S line: ${line}`);
    }
  }
  for (const s of services.values()) sortById(s.dests);
  return sortById([...services.values()]);
}

// ---------- ipvsadm -Ln --thresholds --exact ----------

/** "serviceId -> destId" => "upper/lower". */
export function parseIpvsadmThresholds(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let serviceId = "";
  for (const line of text.split("\n")) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?/.exec(line);
    if (svc) {
      const [, proto, where, v6] = svc;
      serviceId = proto === "FWM"
        ? `${v6 ? "ipv6" : "ipv4"}/fwmark/${where}`
        : `${where.startsWith("[") ? "ipv6" : "ipv4"}/${proto.toLowerCase()}/${where}`;
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+/.exec(line);
    if (dest && serviceId) {
      out.set(`${serviceId} -> ${dest[1].startsWith("[") ? "ipv6" : "ipv4"}/${dest[1]}`, `${dest[2]}/${dest[3]}`);
    }
  }
  return out;
}

export function projectThresholds(table: readonly ServiceWithDests[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const { service, dests } of table) {
    for (const d of dests) out.set(`${serviceKeyId(service.key)} -> ${destKeyId(d)}`, `${d.upperThreshold}/${d.lowerThreshold}`);
  }
  return out;
}

// ---------- /proc/net/ip_vs ----------

export interface ProcService {
  /** Like serviceKeyId, except fwmark services, whose family /proc does not show: "fwmark/N". */
  id: string;
  scheduler: string;
  dests: { id: string; method: string; weight: number }[];
}

function procHostPort(text: string): string {
  const m = /^\[([0-9A-Fa-f:]+)\]:([0-9A-Fa-f]{4})$/.exec(text) ?? /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!m) throw new Error(`cannot parse /proc/net/ip_vs address '${text}'`);
  const port = parseInt(m[2], 16);
  if (text.startsWith("[")) {
    const bytes = Uint8Array.from(m[1].replaceAll(":", "").match(/../g)!.map((h) => parseInt(h, 16)));
    return `ipv6/[${formatIPv6(bytes)}]:${port}`;
  }
  const bytes = Uint8Array.from(m[1].match(/../g)!.map((h) => parseInt(h, 16)));
  return `ipv4/${formatIPv4(bytes)}:${port}`;
}

const PROC_METHODS: Record<string, string> = { Masq: "masq", Local: "local", Tunnel: "tunnel", Route: "droute", Bypass: "bypass" };

export function parseProcIpVs(text: string): ProcService[] {
  const out: ProcService[] = [];
  for (const line of text.split("\n")) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)/.exec(line);
    if (svc) {
      const [, proto, where, scheduler] = svc;
      let id: string;
      if (proto === "FWM") id = `fwmark/${parseInt(where, 16)}`;
      else {
        const [family, hostPort] = procHostPort(where).split("/");
        id = `${family}/${proto.toLowerCase()}/${hostPort}`;
      }
      out.push({ id, scheduler, dests: [] });
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)/.exec(line);
    if (dest && out.length > 0 && dest[1] !== "RemoteAddress:Port") {
      out[out.length - 1].dests.push({ id: procHostPort(dest[1]), method: PROC_METHODS[dest[2]] ?? dest[2], weight: Number(dest[3]) });
    }
  }
  for (const s of out) sortById(s.dests);
  return sortById(out);
}

export function projectProc(table: readonly ServiceWithDests[]): ProcService[] {
  return sortById(table.map(({ service, dests }) => ({
    id: service.key.kind === "fwmark" ? `fwmark/${service.key.fwmark}` : serviceKeyId(service.key),
    scheduler: service.scheduler,
    dests: sortById(dests.map((d) => ({ id: destKeyId(d), method: d.method, weight: d.weight }))),
  })));
}

// ---------- daemon and timeouts ----------

export function parseIpvsadmDaemons(text: string): { state: string; interface: string; syncId: number }[] {
  return [...text.matchAll(/^(master|backup) sync daemon \(mcast=([^,]+), syncid=(\d+)/gm)].map((m) => ({
    state: m[1], interface: m[2], syncId: Number(m[3]),
  }));
}

export function parseIpvsadmTimeouts(text: string): { tcp: number; tcpFin: number; udp: number } | null {
  const m = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(text);
  return m ? { tcp: Number(m[1]), tcpFin: Number(m[2]), udp: Number(m[3]) } : null;
}
