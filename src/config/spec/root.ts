// The top level of a configuration: every block keepalived.conf(5) allows there.
import type { BlockSpec } from "../schema.ts";
import { block, namedBlocks } from "../values.ts";
import { globalDefsSpec } from "./global.ts";
import { vrrpInstanceSpec, vrrpScriptSpec } from "./vrrp.ts";

export const rootSpec: BlockSpec = {
  name: "configuration",
  fields: [
    { key: "global_defs", type: block(globalDefsSpec), repeat: "merge", doc: globalDefsSpec.doc ?? "" },
    { key: "vrrp_script", type: namedBlocks(vrrpScriptSpec), repeat: "merge", doc: vrrpScriptSpec.doc ?? "" },
    { key: "vrrp_instance", type: namedBlocks(vrrpInstanceSpec), repeat: "merge", doc: vrrpInstanceSpec.doc ?? "" },
  ],
};
