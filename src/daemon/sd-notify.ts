// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram per state
// change to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is the abstract namespace).
import { SOCK_DGRAM, close, sendto, socket } from "../../ffi/libc.ts";

const AF_UNIX = 1;

/** struct sockaddr_un for a path, or for an abstract name written with a leading '@'. */
export function sockaddrUn(path: string): Uint8Array {
  const name = new TextEncoder().encode(path);
  if (name.length > 107) throw new RangeError(`unix socket path too long: ${path}`);
  const out = new Uint8Array(2 + name.length + (path.startsWith("@") ? 0 : 1));
  new DataView(out.buffer).setUint16(0, AF_UNIX, true);
  out.set(name, 2);
  if (path.startsWith("@")) out[2] = 0; // abstract: the leading NUL replaces '@', no terminator
  return out;
}

export class SystemdNotifier {
  private fd = -1;
  private readonly addr: Uint8Array | undefined;

  constructor(socketPath = process.env.NOTIFY_SOCKET) {
    this.addr = socketPath ? sockaddrUn(socketPath) : undefined;
  }

  get enabled(): boolean { return this.addr !== undefined; }

  /**
   * Makes the socket now. The daemon does so before it enters its net_namespace: an abstract
   * NOTIFY_SOCKET ("@...") is looked up in the sending socket's network namespace.
   */
  open(): void {
    if (this.addr && this.fd < 0) this.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  }

  /** Sends "KEY=value" lines; returns an error text instead of throwing (systemd is optional). */
  notify(fields: Record<string, string | number>): string | undefined {
    if (!this.addr) return undefined;
    if (this.fd < 0) this.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    const text = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("\n");
    try {
      sendto(this.fd, new TextEncoder().encode(text), 0, this.addr);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  ready(status?: string): void { this.notify(status ? { READY: 1, STATUS: status } : { READY: 1 }); }
  reloading(): void { this.notify({ RELOADING: 1 }); }
  stopping(): void { this.notify({ STOPPING: 1 }); }
  status(text: string): void { this.notify({ STATUS: text }); }
  watchdog(): void { this.notify({ WATCHDOG: 1 }); }

  /** Half of WATCHDOG_USEC in ms when systemd asked for pings for this process, else undefined. */
  watchdogIntervalMs(): number | undefined {
    const usec = Number(process.env.WATCHDOG_USEC);
    const pid = process.env.WATCHDOG_PID;
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    if (pid && Number(pid) !== process.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  close(): void { if (this.fd >= 0) { close(this.fd); this.fd = -1; } }
}
