// Netlink socket shell: request/response with sequence numbers, dumps, ACKs and batched sends.
// Requests block the calling thread, but only inside poll() with a deadline, so a kernel that never
// answers yields a NetlinkError(ETIMEDOUT) instead of a hang. Kernel answers to rtnetlink/genetlink are
// produced synchronously inside our sendto(), so the wait is normally zero.
import * as libc from "../../ffi/libc.ts";
import { errnoName } from "../../ffi/errno.ts";
import {
  NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
  NETLINK_GENERIC, concatBytes, ctrlGetFamilyRequest, decodeDoneError, decodeNlError, decodeNlMsgs, encodeNlMsg,
  parseCtrlFamily, type GenlFamily, type NetlinkMessage,
} from "./message.ts";

export interface NetlinkRequest {
  type: number;
  /** Extra flags (NLM_F_CREATE, NLM_F_EXCL, ...). REQUEST, ACK and DUMP are added by the socket. */
  flags?: number;
  /** Everything after the nlmsghdr (family header + attributes). */
  payload?: Uint8Array;
}

export interface RequestOptions {
  /** Send as a dump (NLM_F_DUMP) and collect every part until NLMSG_DONE. */
  dump?: boolean;
  /** Deadline for the whole exchange (default: the socket's, 5000 ms). */
  timeoutMs?: number;
  /** Describes the request in error messages, e.g. "add address 10.0.0.1/24 on eth0". */
  what?: string;
}

export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly extMessage?: string;
  constructor(what: string, errno: number, extMessage?: string) {
    const code = errnoName(errno);
    super(`${what}: ${code} ${libc.strerror(errno)}${extMessage ? ` (kernel: ${extMessage})` : ""}`);
    this.name = "NetlinkError";
    this.errno = errno;
    this.code = code;
    if (extMessage !== undefined) this.extMessage = extMessage;
  }
}

export type BatchResult =
  | { ok: true; replies: NetlinkMessage[] }
  | { ok: false; error: NetlinkError };

export interface OpenOptions {
  /** Legacy multicast group bitmask bound at open (e.g. RTMGRP_LINK | RTMGRP_IPV4_IFADDR). */
  groups?: number;
  /** Receive buffer in bytes (SO_RCVBUFFORCE as root, else SO_RCVBUF). Default 4 MiB. */
  rcvbuf?: number;
  /** Default deadline for requests. */
  timeoutMs?: number;
}

const RECV_BUFFER = 64 * 1024;
const ENOBUFS = 105, ETIMEDOUT = 110, EPROTO = 71, DUMP_RETRIES = 3;
const BATCH_BYTES = 60 * 1024;

export class NetlinkSocket {
  readonly fd: number;
  readonly protocol: number;
  /** Port id the kernel assigned to this socket. */
  readonly portId: number;
  /** Receive buffer the kernel granted (bounds how many ACKs may be outstanding in a batch). */
  readonly rcvbuf: number;
  private seq: number;
  private closed = false;
  private readonly rxbuf = new Uint8Array(RECV_BUFFER);
  private readonly timeoutMs: number;

  private constructor(fd: number, protocol: number, portId: number, timeoutMs: number, rcvbuf: number) {
    this.fd = fd;
    this.rcvbuf = rcvbuf;
    this.protocol = protocol;
    this.portId = portId;
    this.timeoutMs = timeoutMs;
    // Random start so replies to a previous process's socket with the same port id cannot match.
    this.seq = (Math.random() * 0x7fffffff) >>> 0;
  }

  static open(protocol: number, opts: OpenOptions = {}): NetlinkSocket {
    const fd = libc.socket(libc.AF_NETLINK, libc.SOCK_RAW | libc.SOCK_NONBLOCK, protocol);
    try {
      const rcvbuf = opts.rcvbuf ?? 4 * 1024 * 1024;
      try {
        libc.setsockopt(fd, libc.SOL_SOCKET, libc.SO_RCVBUFFORCE, rcvbuf);
      } catch {
        libc.setsockopt(fd, libc.SOL_SOCKET, libc.SO_RCVBUF, rcvbuf);
      }
      // Best effort: kernel error strings and short ACKs (no echoed request) for big batches.
      for (const opt of [libc.NETLINK_EXT_ACK, libc.NETLINK_CAP_ACK]) {
        try { libc.setsockopt(fd, libc.SOL_NETLINK, opt, 1); } catch { /* older kernels: plain errors */ }
      }
      libc.bind(fd, libc.sockaddrNl(0, opts.groups ?? 0));
      const sa = libc.getsockname(fd);
      const portId = new DataView(sa.buffer, sa.byteOffset, sa.byteLength).getUint32(4, true);
      const granted = libc.getsockoptInt(fd, libc.SOL_SOCKET, libc.SO_RCVBUF);
      return new NetlinkSocket(fd, protocol, portId, opts.timeoutMs ?? 5000, granted);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  /** Joins a multicast group by number (RTNLGRP_* or a generic netlink group id; also groups > 32). */
  addMembership(group: number): void {
    libc.setsockopt(this.fd, libc.SOL_NETLINK, libc.NETLINK_ADD_MEMBERSHIP, group, `join netlink group ${group}`);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /** Builds the wire message for a request with the given seq, adding REQUEST plus ACK or DUMP. */
  private frame(req: NetlinkRequest, seq: number, dump: boolean): Uint8Array {
    const flags = (req.flags ?? 0) | NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    return encodeNlMsg({ type: req.type, flags, seq, pid: 0, payload: req.payload });
  }

  /**
   * Sends one request and returns the kernel's reply messages (without the final ACK / DONE).
   * A dump is retried (up to 3 times) if the kernel flags it as interrupted by a concurrent change.
   */
  async request(req: NetlinkRequest, opts: RequestOptions = {}): Promise<NetlinkMessage[]> {
    return this.requestSync(req, opts);
  }

  requestSync(req: NetlinkRequest, opts: RequestOptions = {}): NetlinkMessage[] {
    this.assertOpen();
    const what = opts.what ?? `netlink request type ${req.type}`;
    const deadline = performance.now() + (opts.timeoutMs ?? this.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      const seq = this.nextSeq();
      libc.sendto(this.fd, this.frame(req, seq, !!opts.dump), 0, libc.sockaddrNl(0, 0));
      const replies: NetlinkMessage[] = [];
      let interrupted = false;
      for (;;) {
        const msgs = this.receive(deadline, what);
        let finished = false;
        for (const m of msgs) {
          if (m.header.seq !== seq || m.header.type === NLMSG_NOOP) continue; // stale answer to a timed-out request
          if (m.header.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (m.header.type === NLMSG_ERROR) {
            const info = decodeNlError(m);
            if (info.errno !== 0) throw new NetlinkError(what, info.errno, info.extMessage);
            finished = true;
          } else if (m.header.type === NLMSG_DONE) {
            const err = decodeDoneError(m);
            if (err !== 0) throw new NetlinkError(what, err);
            finished = true;
          } else if (m.header.type === NLMSG_OVERRUN) {
            throw new NetlinkError(`${what} (overrun)`, ENOBUFS);
          } else {
            replies.push(m);
          }
        }
        if (finished) break;
      }
      if (!interrupted) return replies;
      if (attempt + 1 >= DUMP_RETRIES) throw new NetlinkError(`${what} (dump kept being interrupted)`, 4);
    }
  }

  /**
   * Sends many requests with ACK, packed into few sendto() calls, and returns one result per request in
   * order. Failures do not stop the batch (the kernel keeps processing the rest, as it does for
   * `ipvsadm -R`). Sends are windowed so the ACKs never overflow the receive buffer.
   */
  async requestMany(reqs: readonly NetlinkRequest[], opts: { timeoutMs?: number; window?: number; what?: string } = {}): Promise<BatchResult[]> {
    return this.requestManySync(reqs, opts);
  }

  requestManySync(reqs: readonly NetlinkRequest[], opts: { timeoutMs?: number; window?: number; what?: string } = {}): BatchResult[] {
    this.assertOpen();
    // Each queued ACK costs about 1 KiB of receive buffer (skb overhead): never have more in flight
    // than the buffer holds, or the kernel drops ACKs (ENOBUFS) and the batch times out.
    const window = Math.max(1, Math.min(opts.window ?? 1024, Math.floor(this.rcvbuf / 2048)));
    const what = opts.what ?? "netlink batch";
    const results: BatchResult[] = new Array(reqs.length);
    for (let start = 0; start < reqs.length; start += window) {
      const end = Math.min(reqs.length, start + window);
      const bySeq = new Map<number, number>(); // seq -> index in reqs
      const replies = new Map<number, NetlinkMessage[]>();
      let chunk: Uint8Array[] = [];
      let chunkBytes = 0;
      const flush = () => {
        if (chunk.length === 0) return;
        libc.sendto(this.fd, concatBytes(chunk), 0, libc.sockaddrNl(0, 0));
        chunk = [];
        chunkBytes = 0;
      };
      for (let i = start; i < end; i++) {
        const seq = this.nextSeq();
        bySeq.set(seq, i);
        const framed = this.frame(reqs[i], seq, false);
        if (chunkBytes + framed.byteLength > BATCH_BYTES) flush();
        chunk.push(framed);
        chunkBytes += framed.byteLength;
      }
      flush();
      const deadline = performance.now() + (opts.timeoutMs ?? this.timeoutMs);
      let pending = end - start;
      while (pending > 0) {
        for (const m of this.receive(deadline, `${what} (${pending} of ${end - start} answers missing)`)) {
          const idx = bySeq.get(m.header.seq);
          if (idx === undefined || results[idx] !== undefined) continue;
          if (m.header.type === NLMSG_ERROR) {
            const info = decodeNlError(m);
            results[idx] = info.errno === 0
              ? { ok: true, replies: replies.get(idx) ?? [] }
              : { ok: false, error: new NetlinkError(`${what} [${idx}]`, info.errno, info.extMessage) };
            pending--;
          } else if (m.header.type !== NLMSG_NOOP) {
            const list = replies.get(idx) ?? [];
            list.push(m);
            replies.set(idx, list);
          }
        }
      }
    }
    return results;
  }

  /** Reserves `n` consecutive sequence numbers (for a batch encoded elsewhere); returns the first. */
  reserveSeqs(n: number): number {
    let first = this.nextSeq();
    if (first + n > 0xffffffff) first = this.seq = 1; // keep the range from wrapping through 0
    this.seq = (first + n - 1) >>> 0;
    return first;
  }

  /**
   * Sends `bytes` (several messages, e.g. an nfnetlink batch, which the kernel must get in one datagram)
   * and waits for the answer (ACK or error) to each of `seqs`, returned in that order. An error for
   * another sequence number inside the batch's range (its BEGIN/END, or a failed commit) fails every
   * request still unanswered, so a rejected batch never waits for the deadline.
   */
  transactSync(bytes: Uint8Array, seqs: readonly number[], opts: { timeoutMs?: number; what?: string } = {}): BatchResult[] {
    this.assertOpen();
    const what = opts.what ?? "netlink transaction";
    const index = new Map(seqs.map((s, i) => [s, i]));
    const lo = Math.min(...seqs) - 1, hi = Math.max(...seqs) + 1;
    const results: (BatchResult | undefined)[] = new Array(seqs.length);
    libc.sendto(this.fd, bytes, 0, libc.sockaddrNl(0, 0));
    const deadline = performance.now() + (opts.timeoutMs ?? this.timeoutMs);
    let pending = seqs.length;
    while (pending > 0) {
      for (const m of this.receive(deadline, `${what} (${pending} of ${seqs.length} answers missing)`)) {
        if (m.header.type !== NLMSG_ERROR) continue;
        const info = decodeNlError(m);
        const idx = index.get(m.header.seq);
        if (idx === undefined) {
          if (info.errno === 0 || m.header.seq < lo || m.header.seq > hi) continue;
          const error = new NetlinkError(what, info.errno, info.extMessage);
          for (let i = 0; i < results.length; i++) if (!results[i]) { results[i] = { ok: false, error }; pending--; }
          continue;
        }
        if (results[idx]) continue;
        results[idx] = info.errno === 0 ? { ok: true, replies: [] } : { ok: false, error: new NetlinkError(`${what} [${idx}]`, info.errno, info.extMessage) };
        pending--;
      }
    }
    return results as BatchResult[];
  }

  /**
   * Waits (bounded by `deadline`, a performance.now() value) for one datagram and decodes it.
   * For sockets bound to multicast groups that are read synchronously.
   */
  receive(deadline: number, what = "netlink receive"): NetlinkMessage[] {
    for (;;) {
      const data = this.recvOne();
      if (data === "truncated") throw new NetlinkError(what, EPROTO, `a reply exceeded ${RECV_BUFFER} bytes`);
      if (data) return decodeNlMsgs(data);
      const left = deadline - performance.now();
      if (left <= 0) throw new NetlinkError(what, ETIMEDOUT, "no answer from the kernel");
      libc.poll([{ fd: this.fd, events: libc.POLLIN }], Math.ceil(left));
    }
  }

  /** One datagram copied out of the reusable buffer; null if none is queued. */
  private recvOne(): Uint8Array | "truncated" | null {
    let r: libc.RecvFromResult | null;
    try {
      r = libc.recvfrom(this.fd, this.rxbuf, libc.MSG_TRUNC | libc.MSG_DONTWAIT);
    } catch (e) {
      if (e instanceof libc.SysError && e.errno === ENOBUFS) throw new NetlinkError("netlink receive (buffer overrun, the kernel dropped messages)", ENOBUFS);
      throw e;
    }
    if (!r) return null;
    if (r.length > this.rxbuf.byteLength) return "truncated";
    return this.rxbuf.slice(0, r.length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("netlink socket is closed");
  }
}

/**
 * Looks up a generic netlink family (e.g. "IPVS", "nlctrl"). Rejects with NetlinkError code ENOENT
 * when the kernel does not know the family (module not loaded / not built).
 */
export async function resolveGenlFamily(name: string, sock?: NetlinkSocket): Promise<GenlFamily> {
  const s = sock ?? NetlinkSocket.open(NETLINK_GENERIC);
  try {
    const replies = s.requestSync(ctrlGetFamilyRequest(name), { what: `resolve generic netlink family '${name}'` });
    if (replies.length === 0) throw new NetlinkError(`resolve generic netlink family '${name}'`, EPROTO, "empty reply");
    return parseCtrlFamily(replies[0]);
  } finally {
    if (!sock) s.close();
  }
}
