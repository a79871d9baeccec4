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
import { isCompiled } from "../version.ts";
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

/** The receive path itself cannot work (as opposed to one socket's trouble). */
export class ReceivePathError extends Error {
  readonly code = "EWORKER";
  constructor(message: string) {
    super(message);
    this.name = "ReceivePathError";
  }
}

interface Listener { onDatagrams: (d: RxDatagram[]) => void; onError?: RegisterOptions["onError"] }

class Receiver {
  private worker: Worker | null = null;
  private wakeFd = -1;
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();
  private readonly pendingRemovals = new Map<number, () => void>();
  private stopped: (() => void) | null = null;
  /** Settles once the running worker has loaded and taken its eventfd, or failed to. */
  private readiness: Promise<void> = Promise.resolve();
  private settleReady: ((failure?: string) => void) | null = null;

  private send(m: ToWorker): void {
    this.worker!.postMessage(m);
    libc.eventfdSignal(this.wakeFd);
  }

  private start(): void {
    this.readiness = new Promise<void>((resolve, reject) => {
      this.settleReady = (failure) => {
        this.settleReady = null;
        if (failure === undefined) resolve();
        else reject(new Error(failure));
      };
    });
    // Nobody may be waiting yet; the failure also reaches every listener's onError.
    this.readiness.catch(() => { /* reported through ready() and onError */ });
    let w: Worker;
    try {
      w = new Worker(workerEntry());
    } catch (e) {
      const message = `receive worker failed: ${(e as Error).message}`;
      this.settleReady?.(message);
      throw new ReceivePathError(message);
    }
    this.wakeFd = libc.eventfd();
    w.onmessage = (e: MessageEvent<FromWorker>) => this.dispatch(e.data);
    w.onerror = (e: ErrorEvent) => {
      const message = `receive worker failed: ${e.message}`;
      this.settleReady?.(message);
      for (const l of this.listeners.values()) l.onError?.({ code: "EWORKER", message });
    };
    this.worker = w;
    this.send({ op: "init", wakeFd: this.wakeFd });
  }

  /** Resolves when the worker runs (at once if none is needed yet); rejects with why it cannot. */
  ready(): Promise<void> { return this.readiness; }

  private dispatch(m: FromWorker): void {
    switch (m.op) {
      case "ready": this.settleReady?.(); break;
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
 * entrypoints are src/cli/main.ts and src/net/rx-worker.ts. A compiled binary is recognised by
 * Bun.main, not import.meta.url: with --bytecode, import.meta.url keeps the build machine's source
 * path, which exists only in the checkout the binary was built from.
 */
export function workerEntry(): string {
  if (!isCompiled()) return new URL("./rx-worker.ts", import.meta.url).href;
  const candidates = ["/$bunfs/root/net/rx-worker.js", "/$bunfs/root/src/net/rx-worker.js", "/$bunfs/root/rx-worker.js"];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error("not embedded in this binary: add src/net/rx-worker.ts as an entrypoint of `bun build --compile`");
  return found;
}

const receiver = new Receiver();

/**
 * Resolves once the receive worker of this thread is running, or at once when nothing is watched
 * yet; rejects with the cause when it could not start. Whoever acts on what it hears (VRRP) must
 * wait for this: a node that cannot hear its peers must not decide it is alone.
 */
export function receiverReady(): Promise<void> {
  return receiver.ready();
}

/** Delivers every datagram arriving on fd (batched per wake-up) until unregistered. */
export function watchDatagrams(fd: number, onDatagrams: (d: RxDatagram[]) => void, opts?: RegisterOptions): Registration {
  return receiver.register(fd, onDatagrams, opts);
}
