// Dispatch a configured checker to its implementation.
import * as dns from "./dns.ts";
import * as file from "./file.ts";
import * as http from "./http.ts";
import * as misc from "./misc.ts";
import * as ping from "./ping.ts";
import * as smtp from "./smtp.ts";
import * as tcp from "./tcp.ts";
import * as udp from "./udp.ts";
import type { CheckResult, CheckerSpec } from "./types.ts";

export function runChecker(spec: CheckerSpec, signal?: AbortSignal): Promise<CheckResult> {
  switch (spec.kind) {
    case "TCP_CHECK": return tcp.run(spec.params, signal);
    case "HTTP_GET": case "SSL_GET": return http.run(spec.params, signal);
    case "SMTP_CHECK": return smtp.run(spec.params, signal);
    case "DNS_CHECK": return dns.run(spec.params, signal);
    case "MISC_CHECK": return misc.run(spec.params, signal);
    case "UDP_CHECK": return udp.run(spec.params, signal);
    case "PING_CHECK": return ping.run(spec.params, signal);
    case "FILE_CHECK": return file.run(spec.params, signal);
  }
}
