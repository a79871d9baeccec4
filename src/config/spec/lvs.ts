// LVS blocks: virtual_server_group, virtual_server and real_server.
import type { BlockSpec } from "../schema.ts";

export const virtualServerSpec: BlockSpec = {
  name: "virtual_server",
  doc: "An IPVS service and its real servers.",
  fields: [],
};
