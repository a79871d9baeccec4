// `lbctl demo`: the self-contained failover demo (see src/demo/demo.ts).
import type { Command } from "./command.ts";

const cmd: Command = {
  summary: "Run a two-node VRRP cluster in network namespaces and watch it fail over (needs root and iproute2).\n" +
    "Nothing is sent on the host's interfaces; everything is removed at the end.\n" +
    "  --peer keepalived   run node2 with keepalived 2.2.7 to watch the two interoperate\n" +
    "  --version 2|3       VRRP version (default 3)\n" +
    "  --advert-int S      advert interval in seconds (default 0.5)\n" +
    "  --keep              keep the cluster running until Ctrl-C",
  usage: "lbctl demo [--peer lbctl|keepalived] [--version 2|3] [--advert-int S] [--keep]",
  async run(argv) {
    let peer: "lbctl" | "keepalived" = "lbctl";
    let version: 2 | 3 = 3;
    let advertInt = 0.5;
    let keep = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const v = argv[i + 1];
      if (a === "--peer" && (v === "lbctl" || v === "keepalived")) { peer = v; i++; }
      else if (a === "--version" && (v === "2" || v === "3")) { version = Number(v) as 2 | 3; i++; }
      else if (a === "--advert-int" && v !== undefined && Number(v) > 0) { advertInt = Number(v); i++; }
      else if (a === "--keep") keep = true;
      else { process.stderr.write(`lbctl demo: bad option '${a ?? ""}'\n${cmd.usage}\n`); return 64; }
    }
    if (version === 2 && !Number.isInteger(advertInt)) advertInt = 1; // v2 counts whole seconds
    if (process.getuid?.() !== 0) { process.stderr.write("lbctl demo: needs root (it creates network namespaces)\n"); return 77; }
    const { runDemo } = await import("../demo/demo.ts");
    return runDemo({ peer, version, advertInt, keep, out: (l) => process.stdout.write(l + "\n") });
  },
};
export default cmd;
