// Shared by the keepalived-dump tests: the state keepalived 2.2.7 was in when it wrote the
// fixtures in test/fixtures/keepalived-dump/, as an lbctl StatusV1, and the normaliser that
// removes what lbctl leaves out on purpose (values it does not have).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/schema.ts";
import { API_VERSION, VRRP_COUNTER_NAMES, type StatusV1, type VrrpCountersV1, type VrrpInstanceV1, type VrrpState } from "../../src/daemon/api-types.ts";

export const FIXTURES = join(import.meta.dirname, "../fixtures/keepalived-dump");
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

const STATES: VrrpState[] = ["INIT", "BACKUP", "MASTER", "FAULT"];

/** The effective configuration lbctl derives from the keepalived.conf keepalived ran with. */
export function fixtureConfig(node: string): Model {
  const loaded = loadConfigText(fixture(`node-${node}.conf`), `node-${node}.conf`);
  return loaded.effective;
}

/** keepalived's state at dump time (from its own JSON and data dump) as lbctl's StatusV1. */
export function fixtureStatus(node: string): StatusV1 {
  const json = JSON.parse(fixture(`node-${node}.keepalived.json`)) as { data: Record<string, unknown>; stats: Record<string, number> }[];
  const data = fixture(`node-${node}.keepalived.data`);
  const instances = json.map(({ data: d, stats: s }): VrrpInstanceV1 => {
    const name = String(d.iname);
    const block = data.split(" VRRP Instance = ").find((b) => b.startsWith(name + "\n")) ?? "";
    const master = /Master router = (\S+)/.exec(block)?.[1] ?? null;
    const counters = {
      advertisementsReceived: s.advert_rcvd, advertisementsSent: s.advert_sent, becomeMaster: s.become_master,
      releaseMaster: s.release_master, priorityZeroPktsRcvd: s.pri_zero_rcvd, priorityZeroPktsSent: s.pri_zero_sent,
      authFailures: s.auth_failure, invalidAuthType: s.invalid_authtype, authTypeMismatch: s.authtype_mismatch,
      ipTtlErrors: s.ip_ttl_err, packetLengthErrors: s.packet_len_err, invalidTypePktsRcvd: s.invalid_type_rcvd,
      addressListErrors: s.addr_list_err, advertIntervalErrors: s.advert_interval_err, checksumErrors: 0, versionErrors: 0, vridErrors: 0,
    } satisfies VrrpCountersV1;
    for (const k of VRRP_COUNTER_NAMES) if (typeof counters[k] !== "number") throw new Error(`fixture lacks ${k}`);
    const state = STATES[Number(d.state)]!;
    return {
      name, vrid: Number(d.vrid), family: String((d.vips as string[])[0]).includes(":") ? 6 : 4, version: Number(d.version) as 2 | 3,
      interface: String(d.ifp_ifname), state, basePriority: Number(d.base_priority), effectivePriority: Number(d.effective_priority),
      masterAddress: master, masterPriority: Number(d.master_priority),
      // Microsecond precision of keepalived's timeval, kept in a fractional millisecond.
      lastTransition: { at: Number(d.last_transition) * 1000, from: "BACKUP", to: state, reason: "" },
      transitions: 1, forcedBackup: false, faults: [], counters,
    };
  });
  return {
    apiVersion: API_VERSION,
    daemon: { version: "test", pid: 1, startedAt: 1_795_667_970_000, configPath: "keepalived.conf", configReason: "given with -f", reloadCount: 0, lastReload: null },
    children: [{ role: "vrrp", pid: 2, ready: true, restarts: 0 }],
    vrrp: { instances, unmatched: { unknownVrid: 0, malformed: 0 } },
    virtualServers: [],
    ipvs: null,
  };
}

/** The interface indexes keepalived saw (from its Interfaces section). */
export function fixtureIfindex(node: string): (name: string) => number | null {
  const data = fixture(`node-${node}.keepalived.data`);
  return (name) => {
    const m = new RegExp(` Name = ${name}\\n   index = (\\d+)`).exec(data);
    return m ? Number(m[1]) : null;
  };
}

/**
 * keepalived's data dump minus what lbctl leaves out because it does not have the value:
 * socket fds and the socket pool, the next read timeout, the kernel interface table, the
 * interface's own source address (when not configured) and the libnftnl build version.
 */
export function withoutUnknowable(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("------<")) skipping = line === "------< VRRP Sockpool >------" || line === "------< Interfaces >------";
    if (skipping) continue;
    if (/^   (fd_in \d+, fd_out \d+|Read timeout = .*|No sockets allocated)$/.test(line)) continue;
    if (/^   Using src_ip = \S+$/.test(line)) continue;
    if (/^ libnftnl version /.test(line)) continue;
    out.push(line);
  }
  // Cutting the last section leaves the file without its final newline: compare without it.
  return out.join("\n").replace(/\n+$/, "");
}
