// The top level of a configuration: every block keepalived.conf(5) allows there.
// Each family of blocks lives in its own module and contributes its top-level fields.
import type { BlockSpec } from "../schema.ts";
import { globalRootFields, globalRootObsolete } from "./global.ts";
import { lvsRootFields } from "./lvs.ts";
import { vrrpRootFields } from "./vrrp.ts";

export const rootSpec: BlockSpec = {
  name: "configuration",
  fields: [
    ...globalRootFields,
    ...vrrpRootFields,
    ...lvsRootFields,
  ],
  obsolete: { ...globalRootObsolete },
};
