// Receive worker: blocks in poll() on registered socket fds (plus an eventfd used to wake it for
// control messages) and posts every datagram, with its sender address and ancillary data, to its owner.
// It never spins: poll() has no timeout; the owner signals the eventfd after posting a control message.
// Entry point of its own: `bun build --compile` must list src/net/rx-worker.ts as an extra entrypoint.
import * as libc from "../../ffi/libc.ts";
import type { FromWorker, RxDatagram, ToWorker } from "./rx-protocol.ts";

declare const self: Worker;

interface Watched { fd: number; buf: Uint8Array; controlSize: number }

let wakeFd = -1;
let scheduled = false;
let stopping = false;
const watched = new Map<number, Watched>();

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  self.postMessage(m, transfer);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.op) {
    case "init": wakeFd = m.wakeFd; post({ op: "ready" }); break;
    case "add": watched.set(m.id, { fd: m.fd, buf: new Uint8Array(m.bufferSize), controlSize: m.controlSize }); break;
    case "remove": watched.delete(m.id); post({ op: "removed", id: m.id }); break;
    case "stop": stopping = true; watched.clear(); post({ op: "stopped" }); return;
  }
  schedule();
};

function schedule(): void {
  if (scheduled || stopping || wakeFd < 0) return;
  scheduled = true;
  // A macrotask, so control messages already queued are handled before we block again.
  setTimeout(cycle, 0);
}

function drain(id: number, w: Watched): void {
  const datagrams: RxDatagram[] = [];
  try {
    for (;;) {
      const r = libc.recvmsg(w.fd, w.buf, w.controlSize, libc.MSG_DONTWAIT);
      if (!r) break;
      datagrams.push({ data: w.buf.slice(0, Math.min(r.length, w.buf.byteLength)), from: r.from.slice(), control: r.control.slice(), flags: r.flags });
    }
  } catch (e) {
    const err = e instanceof libc.SysError ? e : null;
    post({ op: "error", id, code: err?.code ?? "EUNKNOWN", message: err?.message ?? String(e) });
    if (err?.code === "EBADF") watched.delete(id);
  }
  if (datagrams.length > 0) post({ op: "datagrams", id, datagrams }, datagrams.map((d) => d.data.buffer as ArrayBuffer));
}

function cycle(): void {
  scheduled = false;
  while (!stopping) {
    const entries = [...watched];
    const revents = libc.poll([{ fd: wakeFd, events: libc.POLLIN }, ...entries.map(([, w]) => ({ fd: w.fd, events: libc.POLLIN }))], -1);
    entries.forEach(([id, w], i) => {
      const r = revents[i + 1];
      if (r & libc.POLLNVAL) {
        watched.delete(id);
        post({ op: "error", id, code: "EBADF", message: `fd ${w.fd} is not open` });
      } else if (r) {
        drain(id, w);
      }
    });
    if (revents[0]) {
      libc.eventfdDrain(wakeFd);
      schedule();
      return;
    }
    // Back to the event loop after every batch: JSC sweeps garbage (the datagrams' buffers) from
    // run-loop timers, so a worker that never returned grew by every datagram it received.
    scheduled = true;
    setImmediate(cycle);
    return;
  }
}
