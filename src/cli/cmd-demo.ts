// `lbctl demo`: the self-contained failover demo (see src/demo/demo.ts).
import type { Command } from "./command.ts";

const cmd: Command = {
  summary: "Run a two-node VRRP cluster in network namespaces, each node serving a web page behind the VIP, and a\n" +
    "client requesting it every 100 ms; crash, preemption and graceful stop, with what the client saw (needs root\n" +
    "and iproute2). Where the kernel has IPVS, also a virtual server whose real server fails and comes back.\n" +
    "Nothing is sent on the host's interfaces; everything is removed at the end, also on Ctrl-C.\n" +
    "  --peer keepalived   run node2 with keepalived 2.2.7 to watch the two interoperate\n" +
    "  --node1 keepalived  run node1 with keepalived too (the benchmark's reference)\n" +
    "  --version 2|3       VRRP version (default 3)\n" +
    "  --advert-int S      advert interval in seconds (default 0.5)\n" +
    "  --no-ipvs           skip the IPVS part\n" +
    "  --ipvs-only         startup and the IPVS part only, no failovers\n" +
    "  --watch             show lbctl top on the master while the demo runs (the narration goes to a log file)\n" +
    "  --keep              keep the cluster running until Ctrl-C",
  usage: "lbctl demo [--peer lbctl|keepalived] [--node1 lbctl|keepalived] [--version 2|3] [--advert-int S] [--no-ipvs | --ipvs-only] [--watch] [--keep]",
  async run(argv) {
    let peer: "lbctl" | "keepalived" = "lbctl";
    let node1: "lbctl" | "keepalived" = "lbctl";
    let version: 2 | 3 = 3;
    let advertInt = 0.5;
    let keep = false, watch = false, noIpvs = false, ipvsOnly = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const v = argv[i + 1];
      if (a === "--peer" && (v === "lbctl" || v === "keepalived")) { peer = v; i++; }
      else if (a === "--node1" && (v === "lbctl" || v === "keepalived")) { node1 = v; i++; }
      else if (a === "--version" && (v === "2" || v === "3")) { version = Number(v) as 2 | 3; i++; }
      else if (a === "--advert-int" && v !== undefined && Number(v) > 0) { advertInt = Number(v); i++; }
      else if (a === "--keep") keep = true;
      else if (a === "--watch") watch = true;
      else if (a === "--no-ipvs") noIpvs = true;
      else if (a === "--ipvs-only") ipvsOnly = true;
      else { process.stderr.write(`lbctl demo: bad option '${a ?? ""}'\nusage: ${cmd.usage}\n`); return 64; }
    }
    if (version === 2 && !Number.isInteger(advertInt)) advertInt = 1; // v2 counts whole seconds
    if (watch && !(process.stdout.isTTY && process.stdin.isTTY)) {
      process.stderr.write("lbctl demo: --watch shows lbctl top and needs a terminal; run without --watch in scripts\n");
      return 64;
    }
    if (noIpvs && ipvsOnly) { process.stderr.write("lbctl demo: --no-ipvs and --ipvs-only exclude each other\n"); return 64; }
    if (watch && keep) { process.stderr.write("lbctl demo: --watch and --keep do not go together (with --keep, run lbctl top yourself)\n"); return 64; }
    if (process.getuid?.() !== 0) { process.stderr.write("lbctl demo: needs root (it creates network namespaces)\n"); return 77; }
    for (const [what, tool] of [["iproute2", "ip"], ...(peer === "keepalived" || node1 === "keepalived" ? [["keepalived", "keepalived"]] : [])] as const) {
      if (!Bun.which(tool)) { process.stderr.write(`lbctl demo: '${tool}' not found: install ${what} (apt-get install ${what})\n`); return 69; }
    }
    const { runDemo } = await import("../demo/demo.ts");
    return runDemo({ peer, node1, version, advertInt, keep, noIpvs, ipvsOnly, watch, out: (l) => process.stdout.write(l + "\n") });
  },
};
export default cmd;
