// LVS blocks: virtual_server_group, virtual_server and real_server.
import type { Field } from "../schema.ts";

/** Top-level fields this module contributes to the root spec. */
export const lvsRootFields: Field[] = [];
