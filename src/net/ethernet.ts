// Sending whole Ethernet frames (gratuitous ARP, and anything else the core builds byte by byte).
import * as libc from "../../ffi/libc.ts";

/**
 * A packet socket for sending only: protocol 0 means the kernel queues nothing for us to read.
 * Keep one open while frames are sent in bursts (5 GARPs per VIP after a transition).
 */
export class EthernetSender {
  private fd: number;

  constructor() {
    this.fd = libc.socket(libc.AF_PACKET, libc.SOCK_RAW, 0);
  }

  /** Sends `frame` (destination MAC, source MAC, ethertype, payload) out of interface ifindex. */
  send(ifindex: number, frame: Uint8Array): void {
    if (this.fd < 0) throw new Error("Ethernet sender is closed");
    if (frame.byteLength < 14) throw new RangeError(`Ethernet frame of ${frame.byteLength} bytes is shorter than its header`);
    const ethertype = (frame[12] << 8) | frame[13];
    libc.sendto(this.fd, frame, 0, libc.sockaddrLl(ifindex, ethertype, frame.subarray(0, 6)));
  }

  close(): void {
    if (this.fd < 0) return;
    libc.close(this.fd);
    this.fd = -1;
  }
}

/** One-shot convenience: opens a sender, sends, closes. */
export function sendEthernetFrame(ifindex: number, frame: Uint8Array): void {
  const s = new EthernetSender();
  try {
    s.send(ifindex, frame);
  } finally {
    s.close();
  }
}
