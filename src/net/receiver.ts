// Receiving datagrams from ffi-made sockets without blocking the event loop and without polling.
//
// Chosen mechanism: one Worker per owning thread, blocked in poll() on every registered fd, posting
// each datagram with its sockaddr and cmsgs (recvmsg) to the owner. Why (see /work/shared/LAB.md):
// - Bun.connect({fd}) loses the sender address and the cmsgs (hop limit, ifindex, destination), and
//   closes the fd on a 0-byte datagram;
// - SIGIO keeps recvmsg, but a signal is process-wide: it reaches only the main thread's
//   process.on(), not a Worker running the VRRP engine on its own heap, and it would be shared with
//   every other fd user in the process.
// The worker works from the main thread or from inside another Worker. Measured on this machine
// (bench/net-rx-latency.ts, veth between two namespaces, sendto -> callback): see the report in that file.
//
// Fd lifetime: unregister() resolves only after the worker confirmed it stopped watching the fd,
// so the caller can close() it without the worker ever reading a reused fd number.
import * as libc from "../../ffi/libc.ts";
import type { FromWorker, RxDatagram, ToWorker } from "./rx-protocol.ts";

export type { RxDatagram } from "./rx-protocol.ts";

export interface Registration {
  /** Stops delivery at once; resolves when the fd may be closed. */
  unregister(): Promise<void>;
}

export interface RegisterOptions {
  /** Largest datagram expected (bigger ones are truncated and flagged MSG_TRUNC). Default 65536. */
  bufferSize?: number;
  /** Room for ancillary data. Default 256. */
  controlSize?: number;
  onError?: (err: { code: string; message: string }) => void;
}

interface Listener { onDatagrams: (d: RxDatagram[]) => void; onError?: RegisterOptions["onError"] }

class Receiver {
  private worker: Worker | null = null;
  private wakeFd = -1;
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();
  private readonly pendingRemovals = new Map<number, () => void>();
  private stopped: (() => void) | null = null;

  private send(m: ToWorker): void {
    this.worker!.postMessage(m);
    libc.eventfdSignal(this.wakeFd);
  }

  private start(): void {
    this.wakeFd = libc.eventfd();
    const w = new Worker(new URL("./rx-worker.ts", import.meta.url).href);
    w.onmessage = (e: MessageEvent<FromWorker>) => this.dispatch(e.data);
    this.worker = w;
    this.send({ op: "init", wakeFd: this.wakeFd });
  }

  private dispatch(m: FromWorker): void {
    switch (m.op) {
      case "datagrams": this.listeners.get(m.id)?.onDatagrams(m.datagrams); break;
      case "error": this.listeners.get(m.id)?.onError?.({ code: m.code, message: m.message }); break;
      case "removed": this.pendingRemovals.get(m.id)?.(); this.pendingRemovals.delete(m.id); break;
      case "stopped": this.stopped?.(); break;
    }
  }

  register(fd: number, onDatagrams: (d: RxDatagram[]) => void, opts: RegisterOptions = {}): Registration {
    if (!this.worker) this.start();
    // A registered fd keeps the process alive, as an open server socket would.
    this.worker!.ref();
    const id = this.nextId++;
    this.listeners.set(id, { onDatagrams, onError: opts.onError });
    this.send({ op: "add", id, fd, bufferSize: opts.bufferSize ?? 65536, controlSize: opts.controlSize ?? 256 });
    let removal: Promise<void> | null = null;
    return {
      unregister: () => {
        if (removal) return removal;
        this.listeners.delete(id);
        removal = new Promise<void>((resolve) => {
          this.pendingRemovals.set(id, resolve);
          this.send({ op: "remove", id });
        }).then(() => this.maybeStop());
        return removal;
      },
    };
  }

  /** With nothing left to watch, the worker is stopped so a finished program can exit. */
  private async maybeStop(): Promise<void> {
    if (this.listeners.size > 0 || this.pendingRemovals.size > 0 || !this.worker) return;
    const w = this.worker;
    const wakeFd = this.wakeFd;
    this.worker = null;
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      w.postMessage({ op: "stop" } satisfies ToWorker);
      libc.eventfdSignal(wakeFd);
    });
    this.stopped = null;
    w.terminate();
    libc.close(wakeFd);
  }
}

const receiver = new Receiver();

/** Delivers every datagram arriving on fd (batched per wake-up) until unregistered. */
export function watchDatagrams(fd: number, onDatagrams: (d: RxDatagram[]) => void, opts?: RegisterOptions): Registration {
  return receiver.register(fd, onDatagrams, opts);
}
