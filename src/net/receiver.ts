// Receiving datagrams from ffi-made sockets without blocking the event loop and without polling.
//
// Chosen mechanism: one Worker per owning thread, blocked in poll() on every registered fd, posting
// each datagram with its sockaddr and cmsgs (recvmsg) to the owner. Why (see /work/shared/LAB.md):
// - Bun.connect({fd}) loses the sender address and the cmsgs (hop limit, ifindex, destination), and
//   closes the fd on a 0-byte datagram;
// - SIGIO keeps recvmsg, but a signal is process-wide: it reaches only the main thread's
//   process.on(), not a Worker running the VRRP engine on its own heap, and it would be shared with
//   every other fd user in the process.
// The worker works from the main thread or from inside another Worker, and keeps recvmsg's sender
// address and cmsgs. Measured here (bench/net-rx-latency.ts: veth between two namespaces, one packet
// in flight, sendto -> callback on the owning thread, 2 x 3000 packets): p50 27-29 us, p90 40-62 us,
// p99 280-320 us, rare maxima of 5-24 ms (thread wake-up/GC), well inside a 10 ms VRRPv3 advert.
//
// Fd lifetime: unregister() resolves only after the worker confirmed it stopped watching the fd,
// so the caller can close() it without the worker ever reading a reused fd number.
import { existsSync } from "node:fs";

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
    const w = new Worker(workerEntry());
    w.onmessage = (e: MessageEvent<FromWorker>) => this.dispatch(e.data);
    w.onerror = (e: ErrorEvent) => {
      for (const l of this.listeners.values()) l.onError?.({ code: "EWORKER", message: `receive worker failed: ${e.message}` });
    };
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

/**
 * Where the worker's code is. Under `bun run` it is the file next to this one. In a `bun build
 * --compile` binary, src/net/rx-worker.ts must be an extra entrypoint; it is then embedded as
 * /$bunfs/root/<path relative to the entrypoints' common folder>.js, e.g. net/rx-worker.js when the
 * entrypoints are src/cli/main.ts and src/net/rx-worker.ts.
 */
function workerEntry(): string {
  const beside = new URL("./rx-worker.ts", import.meta.url);
  if (!import.meta.url.includes("/$bunfs/")) return beside.href;
  const candidates = ["/$bunfs/root/net/rx-worker.js", "/$bunfs/root/src/net/rx-worker.js", "/$bunfs/root/rx-worker.js"];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error("receive worker not embedded: add src/net/rx-worker.ts as an entrypoint of `bun build --compile`");
  return found;
}

const receiver = new Receiver();

/** Delivers every datagram arriving on fd (batched per wake-up) until unregistered. */
export function watchDatagrams(fd: number, onDatagrams: (d: RxDatagram[]) => void, opts?: RegisterOptions): Registration {
  return receiver.register(fd, onDatagrams, opts);
}
