// Logging to the local syslog daemon (keepalived's default; lbctl's when asked with --syslog):
// one RFC 3164 datagram per line to /dev/log. The line's "<N>" priority prefix from the Logger
// is combined with the facility. Sending never throws: without a syslog daemon lines are lost,
// as with keepalived.
import { SOCK_DGRAM, close, sendto, socket } from "../../ffi/libc.ts";
import { sockaddrUn } from "../daemon/sd-notify.ts";
import type { LogSink } from "./log.ts";

const AF_UNIX = 1;

export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** keepalived's -S takes 0..7 for local0..local7; names are accepted too. */
export function parseFacility(text: string): number | undefined {
  if (/^[0-7]$/.test(text)) return 16 + Number(text);
  return FACILITIES[text];
}

/** The datagram for one Logger line ("<6>message\n"), with the facility folded into the priority. */
export function syslogDatagram(line: string, facility: number, tag: string, pid: number): string {
  const m = /^<(\d)>(.*?)\n?$/s.exec(line);
  const severity = m ? Number(m[1]) : 6;
  const text = m ? m[2]! : line.replace(/\n$/, "");
  return `<${facility * 8 + severity}>${tag}[${pid}]: ${text}`;
}

export class SyslogSink implements LogSink {
  private fd = -1;
  private readonly addr: Uint8Array;

  constructor(private readonly facility: number, private readonly tag = "lbctl", path = "/dev/log") {
    this.addr = sockaddrUn(path);
  }

  write(line: string): void {
    try {
      if (this.fd < 0) this.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
      sendto(this.fd, new TextEncoder().encode(syslogDatagram(line, this.facility, this.tag, process.pid)), 0, this.addr);
    } catch { /* no syslog daemon listening: nothing to do, like keepalived */ }
  }

  close(): void { if (this.fd >= 0) { close(this.fd); this.fd = -1; } }
}
