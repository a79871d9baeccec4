// VRRP blocks: vrrp_instance, vrrp_script, vrrp_sync_group, tracking, static addresses.
import type { BlockSpec, Field } from "../schema.ts";
import { decimal, flag, int, namedBlocks, oneOf, word } from "../values.ts";

export const vrrpInstanceSpec: BlockSpec = {
  name: "vrrp_instance",
  doc: "One virtual router: its addresses, priority and peers.",
  fields: [
    { key: "state", type: oneOf(["MASTER", "BACKUP"] as const), default: "BACKUP", doc: "Initial state wanted; the election decides." },
    { key: "interface", type: word, doc: "Interface VRRP runs on." },
    { key: "virtual_router_id", type: int(1, 255), doc: "VRID, unique per interface and address family." },
    { key: "priority", type: int(1, 255), default: 100, doc: "Election priority; 255 means address owner." },
    { key: "advert_int", type: decimal(0.01, 255, "seconds"), default: 1, doc: "Advertisement interval." },
    { key: "nopreempt", type: flag, default: false, doc: "Do not take over from a lower-priority master." },
  ],
};

export const vrrpScriptSpec: BlockSpec = {
  name: "vrrp_script",
  doc: "A script whose exit status tracks an instance's health.",
  fields: [
    { key: "script", type: word, doc: "Command to run." },
    { key: "interval", type: int(1), default: 1, doc: "Seconds between runs." },
  ],
};

/** Top-level fields this module contributes to the root spec. */
export const vrrpRootFields: Field[] = [
  { key: "vrrp_script", type: namedBlocks(vrrpScriptSpec), repeat: "merge", doc: vrrpScriptSpec.doc ?? "" },
  { key: "vrrp_instance", type: namedBlocks(vrrpInstanceSpec), repeat: "merge", doc: vrrpInstanceSpec.doc ?? "" },
];
