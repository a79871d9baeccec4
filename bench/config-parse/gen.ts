// Generates a large keepalived.conf twice: written out in full ("plain") and as the same
// configuration produced by multi-line definitions and ~SEQ ("seq"). At the default scale:
// 10,000 vrrp_instances (40 interfaces x 250 VRIDs) and 2,000 virtual_servers x 20 real_servers.
//   bun bench/config-parse/gen.ts OUTDIR [--interfaces N --vrids N --vs-nets N --vs-per-net N --rs N]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Scale {
  interfaces: number;   // vrrp_instances = interfaces x vrids
  vrids: number;        // 1..255
  vsNets: number;       // virtual_servers = vsNets x vsPerNet
  vsPerNet: number;     // 1..254
  rs: number;           // real_servers per virtual_server, 1..254
}

export const FULL_SCALE: Scale = { interfaces: 40, vrids: 250, vsNets: 8, vsPerNet: 250, rs: 20 };

const GLOBAL = [
  "global_defs {",
  "    router_id bench",
  "    vrrp_garp_master_delay 1",
  "}",
];

function instance(iface: number, vrid: number): string[] {
  return [
    `vrrp_instance VI_${iface}_${vrid} {`,
    "    state BACKUP",
    `    interface veth${iface}`,
    `    virtual_router_id ${vrid}`,
    "    priority 100",
    "    advert_int 1",
    "    virtual_ipaddress {",
    `        10.${iface}.${vrid}.1/32`,
    "    }",
    "}",
  ];
}

function realServer(net: number, host: number, rs: number): string[] {
  return [
    `    real_server 192.168.${host}.${rs} 8080 {`,
    "        weight 1",
    "        TCP_CHECK {",
    "            connect_timeout 3",
    "        }",
    "    }",
  ];
}

function virtualServer(net: number, host: number, rsCount: number): string[] {
  const out = [
    `virtual_server 172.16.${net}.${host} 80 {`,
    "    delay_loop 6",
    "    lb_algo wrr",
    "    lb_kind NAT",
    "    protocol TCP",
  ];
  for (let r = 1; r <= rsCount; r++) out.push(...realServer(net, host, r));
  out.push("}");
  return out;
}

export function generatePlain(s: Scale): string {
  const out = [...GLOBAL];
  for (let i = 0; i < s.interfaces; i++) for (let v = 1; v <= s.vrids; v++) out.push(...instance(i, v));
  for (let n = 0; n < s.vsNets; n++) for (let h = 1; h <= s.vsPerNet; h++) out.push(...virtualServer(n, h, s.rs));
  return out.join("\n") + "\n";
}

/** The text of `lines` as a multi-line definition body: every line but the last ends with '\'. */
function definition(name: string, lines: string[]): string[] {
  return [`$${name}=\\`, ...lines.map((l, i) => (i < lines.length - 1 ? `${l} \\` : l))];
}

export function generateSeq(s: Scale): string {
  return [
    ...GLOBAL,
    ...definition("VI", instance(0, 0).map((l) => l.replace("VI_0_0", "VI_${IF}_${VR}")
      .replace("veth0", "veth${IF}").replace("virtual_router_id 0", "virtual_router_id ${VR}").replace("10.0.0.1", "10.${IF}.${VR}.1"))),
    "",
    ...definition("RS", realServer(0, 0, 0).map((l) => l.replace("192.168.0.0", "192.168.${H}.${R}"))),
    "",
    ...definition("VS", virtualServer(0, 0, 0).map((l) => l.replace("172.16.0.0", "172.16.${N}.${H}"))
      .flatMap((l) => (l === "}" ? [`    ~SEQ(R, 1, ${s.rs}) $RS`, l] : [l]))),
    "",
    `~SEQ(IF, 0, ${s.interfaces - 1}) ~SEQ(VR, 1, ${s.vrids}) $VI`,
    `~SEQ(N, 0, ${s.vsNets - 1}) ~SEQ(H, 1, ${s.vsPerNet}) $VS`,
  ].join("\n") + "\n";
}

function main(argv: string[]): void {
  const out = argv[0];
  if (!out) { console.error("usage: gen.ts OUTDIR [--interfaces N --vrids N --vs-nets N --vs-per-net N --rs N]"); process.exit(64); }
  const scale = { ...FULL_SCALE };
  const keys: Record<string, keyof Scale> = { "--interfaces": "interfaces", "--vrids": "vrids", "--vs-nets": "vsNets", "--vs-per-net": "vsPerNet", "--rs": "rs" };
  for (let i = 1; i + 1 < argv.length; i += 2) {
    const key = keys[argv[i]];
    const n = Number(argv[i + 1]);
    if (!key || !Number.isInteger(n) || n < 1) { console.error(`bad option ${argv[i]} ${argv[i + 1]}`); process.exit(64); }
    scale[key] = n;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "plain.conf"), generatePlain(scale));
  writeFileSync(join(out, "seq.conf"), generateSeq(scale));
  console.log(`wrote ${join(out, "plain.conf")} and ${join(out, "seq.conf")}`);
}

if (import.meta.main) main(process.argv.slice(2));
