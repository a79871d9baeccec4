// global_defs: keywords of keepalived.conf(5) "GLOBAL DEFINITIONS".
import type { BlockSpec } from "../schema.ts";
import { int, lines, restOfLine, seconds, word, wordLine } from "../values.ts";

export const globalDefsSpec: BlockSpec = {
  name: "global_defs",
  doc: "Settings for the whole node: identity, alerts, VRRP and LVS defaults.",
  fields: [
    { key: "router_id", type: word, defaultDoc: "the host name", doc: "Identifies this node in alerts and logs." },
    { key: "notification_email", type: lines(wordLine), repeat: "append", doc: "Addresses that receive SMTP alerts." },
    { key: "notification_email_from", type: word, defaultDoc: "keepalived@<local host name>", doc: "From address of SMTP alerts." },
    { key: "smtp_server", type: restOfLine, doc: "SMTP relay for alerts: an address, optionally followed by a port." },
    { key: "smtp_connect_timeout", type: seconds(1), default: 30, doc: "Timeout for connecting to the SMTP relay." },
    { key: "smtp_helo_name", type: word, defaultDoc: "the local host name", doc: "Name given in the SMTP HELO." },
    { key: "vrrp_garp_master_delay", type: int(0, 255), default: 5, doc: "Seconds after becoming master before the second burst of gratuitous ARPs." },
  ],
};
