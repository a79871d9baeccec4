// The only place that talks to libc. Each wrapper makes one call and turns a -1 return into a SysError
// read from errno immediately afterwards (nothing else runs on this thread in between).
// Every Worker loads its own copy of this module, so the per-thread errno address is cached per thread.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";

import { parseIPv4, parseIPv6 } from "../src/net/inet.ts";
import { errnoName } from "./errno.ts";

const lib = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  sendmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
  recvfrom: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i64 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  // fcntl is variadic; on the SysV/AAPCS64 ABIs an int third argument is passed like a fixed one.
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  if_nametoindex: { args: [FFIType.ptr], returns: FFIType.u32 },
  if_indextoname: { args: [FFIType.u32, FFIType.ptr], returns: FFIType.ptr },
  getpid: { args: [], returns: FFIType.i32 },
  sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  sched_getscheduler: { args: [FFIType.i32], returns: FFIType.i32 },
  sched_get_priority_max: { args: [FFIType.i32], returns: FFIType.i32 },
  sched_get_priority_min: { args: [FFIType.i32], returns: FFIType.i32 },
  mlockall: { args: [FFIType.i32], returns: FFIType.i32 },
  eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  signal: { args: [FFIType.i32, FFIType.u64], returns: FFIType.u64 },
  setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
  strerror: { args: [FFIType.i32], returns: FFIType.cstring },
});
const c = lib.symbols;
const errnoAddress = c.__errno_location() as Pointer;

// ---- constants (Linux, x86_64/arm64) ----
export const AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1, SOL_IP = 0, SOL_IPV6 = 41, SOL_PACKET = 263, SOL_NETLINK = 270;
export const SO_REUSEADDR = 2, SO_PRIORITY = 12, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33;
export const SO_BINDTODEVICE = 25;
export const IPPROTO_IP = 0, IPPROTO_ICMP = 1, IPPROTO_IPV6 = 41, IPPROTO_ICMPV6 = 58, IPPROTO_RAW = 255, IPPROTO_VRRP = 112;
export const IP_TOS = 1, IP_TTL = 2, IP_HDRINCL = 3, IP_PKTINFO = 8, IP_RECVTTL = 12;
export const IP_MULTICAST_IF = 32, IP_MULTICAST_TTL = 33, IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35, IP_DROP_MEMBERSHIP = 36, IP_MULTICAST_ALL = 49;
export const IPV6_CHECKSUM = 7, IPV6_UNICAST_HOPS = 16, IPV6_MULTICAST_IF = 17, IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19, IPV6_ADD_MEMBERSHIP = 20, IPV6_DROP_MEMBERSHIP = 21, IPV6_V6ONLY = 26;
export const IPV6_MULTICAST_ALL = 29, IPV6_RECVPKTINFO = 49, IPV6_PKTINFO = 50, IPV6_RECVHOPLIMIT = 51, IPV6_HOPLIMIT = 52;
export const ICMP6_FILTER = 1;
export const NETLINK_ADD_MEMBERSHIP = 1, NETLINK_DROP_MEMBERSHIP = 2, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const MSG_PEEK = 0x2, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_CTRUNC = 0x8;
export const F_GETFL = 3, F_SETFL = 4, F_SETOWN = 8, O_NONBLOCK = 0x800, O_ASYNC = 0x2000, O_CLOEXEC = 0x80000;
export const POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2;
export const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;
export const CLONE_NEWNET = 0x40000000;
export const ETH_P_ALL = 0x0003, ETH_P_IP = 0x0800, ETH_P_ARP = 0x0806, ETH_P_IPV6 = 0x86dd;

export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    super(`${syscall}${detail ? ` (${detail})` : ""}: ${code} ${strerror(errno)}`);
    this.name = "SysError";
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

export function errno(): number {
  return read.i32(errnoAddress, 0);
}

export function strerror(errnum: number): string {
  return String(c.strerror(errnum));
}

function check(syscall: string, ret: number, detail?: string): number {
  if (ret < 0) throw new SysError(syscall, errno(), detail);
  return ret;
}

// ---- sockets ----
export function socket(domain: number, type: number, protocol: number): number {
  return check("socket", c.socket(domain, type | SOCK_CLOEXEC, protocol));
}

export function bind(fd: number, addr: Uint8Array): void {
  check("bind", c.bind(fd, addr, addr.byteLength));
}

export function connect(fd: number, addr: Uint8Array): void {
  check("connect", c.connect(fd, addr, addr.byteLength));
}

export const EINPROGRESS = 115;

/** connect() on a non-blocking socket, for the checkers' 10,000 a second: EINPROGRESS is the normal
 *  answer there, so it is returned (as any other errno, 0 on success) rather than thrown. */
export function connectNonBlocking(fd: number, addr: Uint8Array): number {
  return c.connect(fd, addr, addr.byteLength) < 0 ? errno() : 0;
}

export function setsockopt(fd: number, level: number, name: number, value: Uint8Array | number, detail?: string): void {
  const buf = typeof value === "number" ? int32Bytes(value) : value;
  check("setsockopt", c.setsockopt(fd, level, name, buf, buf.byteLength), detail ?? `level ${level} opt ${name}`);
}

/** Reads an option into a buffer of `size` bytes; returns the bytes the kernel filled. */
export function getsockopt(fd: number, level: number, name: number, size = 4): Uint8Array {
  const buf = new Uint8Array(size);
  const len = new Uint32Array([size]);
  check("getsockopt", c.getsockopt(fd, level, name, buf, len), `level ${level} opt ${name}`);
  return buf.subarray(0, len[0]);
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const b = getsockopt(fd, level, name, 4);
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0, true);
}

/** Returns the local address the socket is bound to, as raw sockaddr bytes. */
export function getsockname(fd: number, size = 128): Uint8Array {
  const buf = new Uint8Array(size);
  const len = new Uint32Array([size]);
  check("getsockname", c.getsockname(fd, buf, len));
  return buf.subarray(0, Math.min(len[0], size));
}

export function sendto(fd: number, data: Uint8Array, flags = 0, addr?: Uint8Array): number {
  const n = addr
    ? c.sendto(fd, data, data.byteLength, flags, addr, addr.byteLength)
    : c.sendto(fd, data, data.byteLength, flags, null, 0);
  return check("sendto", Number(n));
}

export interface RecvFromResult {
  /** Bytes received (may exceed the buffer if MSG_TRUNC was passed and the datagram was larger). */
  length: number;
  /** Raw sockaddr of the sender (length as reported by the kernel). */
  from: Uint8Array;
}

/** recvfrom; returns null on EAGAIN/EWOULDBLOCK (non-blocking sockets), throws on other errors. */
export function recvfrom(fd: number, buf: Uint8Array, flags = 0): RecvFromResult | null {
  const from = new Uint8Array(128);
  const fromLen = new Uint32Array([128]);
  const n = Number(c.recvfrom(fd, buf, buf.byteLength, flags, from, fromLen));
  if (n < 0) {
    const e = errno();
    if (e === 11) return null;
    throw new SysError("recvfrom", e);
  }
  return { length: n, from: from.subarray(0, Math.min(fromLen[0], 128)) };
}

export interface RecvMsgResult {
  length: number;
  from: Uint8Array;
  /** Raw control (cmsg) bytes; decode with parseCmsgs. */
  control: Uint8Array;
  /** msg_flags as returned by the kernel (MSG_TRUNC, MSG_CTRUNC...). */
  flags: number;
}

const MSGHDR_SIZE = 56; // struct msghdr on LP64
const IOVEC_SIZE = 16;

/**
 * Memory the kernel writes into must not be a "fast" typed array: JSC keeps small typed arrays
 * in its GC heap and moves their contents out on the first `.buffer` access, so a pointer taken
 * with ptr() can go stale (seen as a crash after ~10^5 recvmsg calls at 2,000 packets/s).
 * Buffers made here have their ArrayBuffer materialised before any pointer is taken.
 */
function pinned(size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(new ArrayBuffer(size));
  return { bytes, view: new DataView(bytes.buffer) };
}

const MAX_CONTROL = 4096;
/** recvmsg's scratch: one set per thread (each Worker has its own module instance). */
const rx = { hdr: pinned(MSGHDR_SIZE), iov: pinned(IOVEC_SIZE), from: pinned(128), control: pinned(MAX_CONTROL) };

/**
 * recvmsg into one buffer with room for ancillary data. Returns null on EAGAIN. `from` and
 * `control` are copies; `buf` must stay alive and unresized during the call (it is the caller's).
 */
export function recvmsg(fd: number, buf: Uint8Array, controlSize = 256, flags = 0): RecvMsgResult | null {
  const size = Math.min(controlSize, MAX_CONTROL);
  void buf.buffer; // materialise the caller's buffer too, for the same reason as pinned()
  rx.iov.view.setBigUint64(0, BigInt(ptr(buf)), true);
  rx.iov.view.setBigUint64(8, BigInt(buf.byteLength), true);
  const h = rx.hdr.view;
  h.setBigUint64(0, BigInt(ptr(rx.from.bytes)), true);
  h.setUint32(8, rx.from.bytes.byteLength, true);
  h.setUint32(12, 0, true);
  h.setBigUint64(16, BigInt(ptr(rx.iov.bytes)), true);
  h.setBigUint64(24, 1n, true);
  h.setBigUint64(32, size > 0 ? BigInt(ptr(rx.control.bytes)) : 0n, true);
  h.setBigUint64(40, BigInt(size), true);
  h.setInt32(48, 0, true);
  const n = Number(c.recvmsg(fd, rx.hdr.bytes, flags));
  if (n < 0) {
    const e = errno();
    if (e === 11) return null;
    throw new SysError("recvmsg", e);
  }
  const fromLen = Math.min(h.getUint32(8, true), rx.from.bytes.byteLength);
  const controlLen = Math.min(Number(h.getBigUint64(40, true)), size);
  return { length: n, from: rx.from.bytes.slice(0, fromLen), control: rx.control.bytes.slice(0, controlLen), flags: h.getInt32(48, true) };
}

/** sendmsg of several buffers (gather) to an optional address with optional control bytes. */
export function sendmsg(fd: number, parts: Uint8Array[], addr?: Uint8Array, control?: Uint8Array, flags = 0): number {
  const iov = new Uint8Array(IOVEC_SIZE * Math.max(parts.length, 1));
  const iovView = new DataView(iov.buffer);
  parts.forEach((p, i) => {
    void p.buffer; // see pinned(): no raw pointer into a fast typed array
    iovView.setBigUint64(i * IOVEC_SIZE, p.byteLength > 0 ? BigInt(ptr(p)) : 0n, true);
    iovView.setBigUint64(i * IOVEC_SIZE + 8, BigInt(p.byteLength), true);
  });
  const hdr = new Uint8Array(MSGHDR_SIZE);
  const h = new DataView(hdr.buffer);
  if (addr) { void addr.buffer; h.setBigUint64(0, BigInt(ptr(addr)), true); h.setUint32(8, addr.byteLength, true); }
  h.setBigUint64(16, BigInt(ptr(iov)), true);
  h.setBigUint64(24, BigInt(parts.length), true);
  if (control && control.byteLength > 0) {
    void control.buffer;
    h.setBigUint64(32, BigInt(ptr(control)), true);
    h.setBigUint64(40, BigInt(control.byteLength), true);
  }
  return check("sendmsg", Number(c.sendmsg(fd, hdr, flags)));
}

export const EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

/** An eventfd (used to wake a thread blocked in poll()). */
export function eventfd(initval = 0, flags = EFD_CLOEXEC | EFD_NONBLOCK): number {
  return check("eventfd", c.eventfd(initval, flags));
}

/** Adds 1 to an eventfd counter, waking its pollers. */
export function eventfdSignal(fd: number): void {
  const one = new BigUint64Array([1n]);
  check("write", Number(c.write(fd, one, 8)), "eventfd");
}

/** Resets a non-blocking eventfd counter; returns the value it had (0 if it was not signalled). */
export function eventfdDrain(fd: number): bigint {
  const v = new BigUint64Array(1);
  const n = Number(c.read(fd, v, 8));
  if (n < 0) {
    const e = errno();
    if (e === EAGAIN) return 0n;
    throw new SysError("read", e, "eventfd");
  }
  return v[0];
}

/** pipe2(2): [read end, write end]. */
export function pipe(flags = O_NONBLOCK | O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", c.pipe2(fds, flags));
  return [fds[0], fds[1]];
}

export const F_SETPIPE_SZ = 1031, EAGAIN = 11, EINTR = 4;

const SIG_IGN = 1;
/** signal(signo, SIG_IGN): for a signal the runtime cannot handle and that must not kill the process. */
export function ignoreSignal(signo: number): void {
  c.signal(signo, SIG_IGN);
}

/** write(2) to a non-blocking descriptor: the bytes taken, 0 when it would block. */
export function writeSome(fd: number, data: Uint8Array): number {
  if (data.byteLength === 0) return 0;
  const n = Number(c.write(fd, data, data.byteLength));
  if (n >= 0) return n;
  const e = errno();
  if (e === EAGAIN || e === EINTR) return 0;
  throw new SysError("write", e);
}

export function close(fd: number): void {
  check("close", c.close(fd));
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check("fcntl", c.fcntl(fd, cmd, arg));
}

export function setNonBlocking(fd: number): void {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

export interface PollFd { fd: number; events: number }

/**
 * poll(2). Returns revents per entry (0 = nothing). EINTR (a signal arrived) is reported as all-zero
 * so callers simply loop with their own deadline.
 */
export function poll(fds: PollFd[], timeoutMs: number): number[] {
  const buf = new Uint8Array(8 * fds.length);
  const v = new DataView(buf.buffer);
  fds.forEach((f, i) => { v.setInt32(i * 8, f.fd, true); v.setInt16(i * 8 + 4, f.events, true); });
  const n = c.poll(buf, fds.length, Math.max(-1, Math.floor(timeoutMs)));
  if (n < 0) {
    const e = errno();
    if (e === EINTR) return fds.map(() => 0);
    throw new SysError("poll", e);
  }
  return fds.map((_, i) => v.getUint16(i * 8 + 6, true));
}

// ---- interfaces ----
export function ifNameToIndex(name: string): number {
  const idx = c.if_nametoindex(cString(name));
  if (idx === 0) throw new SysError("if_nametoindex", errno(), name);
  return idx;
}

export function ifIndexToName(index: number): string {
  const buf = new Uint8Array(16);
  const p = c.if_indextoname(index, buf);
  if (p === null || p === 0) throw new SysError("if_indextoname", errno(), String(index));
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? 16 : end));
}

// ---- process ----
export function getpid(): number {
  return c.getpid();
}

/** Sets the scheduling policy of the calling thread (pid 0 = this thread on Linux). */
export function schedSetScheduler(policy: number, priority: number, pid = 0): void {
  check("sched_setscheduler", c.sched_setscheduler(pid, policy, int32Bytes(priority)), `policy ${policy} prio ${priority}`);
}

export function schedGetScheduler(pid = 0): number {
  return check("sched_getscheduler", c.sched_getscheduler(pid));
}

export function schedGetPriorityMax(policy: number): number {
  return check("sched_get_priority_max", c.sched_get_priority_max(policy));
}

export function schedGetPriorityMin(policy: number): number {
  return check("sched_get_priority_min", c.sched_get_priority_min(policy));
}

export function mlockall(flags = MCL_CURRENT | MCL_FUTURE): void {
  check("mlockall", c.mlockall(flags));
}

/** Moves the calling thread into the namespace referred to by fd (e.g. an open /run/netns/NAME). */
export function setns(fd: number, nstype = CLONE_NEWNET): void {
  check("setns", c.setns(fd, nstype));
}

// ---- resource limits ----
export const RLIMIT_NOFILE = 7;
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** struct rlimit { rlim_t rlim_cur, rlim_max } (64-bit rlim_t on x86_64 and arm64). */
export function getrlimit(resource: number): { soft: bigint; hard: bigint } {
  const r = new BigUint64Array(2);
  check("getrlimit", c.getrlimit(resource, ptr(r)));
  return { soft: r[0]!, hard: r[1]! };
}

export function setrlimit(resource: number, soft: bigint, hard: bigint): void {
  const r = BigUint64Array.of(soft, hard);
  check("setrlimit", c.setrlimit(resource, ptr(r)));
}

// ---- byte helpers ----
export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

function int32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function addressBytes(addr: string | Uint8Array, want: 4 | 16): Uint8Array {
  if (typeof addr !== "string") {
    if (addr.byteLength !== want) throw new TypeError(`expected a ${want}-byte address, got ${addr.byteLength} bytes`);
    return addr;
  }
  const b = want === 4 ? parseIPv4(addr) : parseIPv6(addr);
  if (!b) throw new TypeError(`invalid IPv${want === 4 ? 4 : 6} address '${addr}'`);
  return b;
}

/** struct sockaddr_in (16 bytes). */
export function sockaddrIn(addr: string | Uint8Array, port = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  b.set(addressBytes(addr, 4), 4);
  return b;
}

/** struct sockaddr_in6 (28 bytes). */
export function sockaddrIn6(addr: string | Uint8Array, port = 0, scopeId = 0, flowInfo = 0): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, port, false);
  v.setUint32(4, flowInfo, false);
  b.set(addressBytes(addr, 16), 8);
  v.setUint32(24, scopeId, true);
  return b;
}

/** struct sockaddr_nl (12 bytes). pid 0 = the kernel (as destination) or "assign one" (when binding). */
export function sockaddrNl(pid = 0, groups = 0): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_NETLINK, true);
  v.setUint32(4, pid, true);
  v.setUint32(8, groups, true);
  return b;
}

/** struct sockaddr_ll (20 bytes). protocol is the ethertype in host order (stored big-endian). */
export function sockaddrLl(ifindex: number, protocol: number, hwaddr?: Uint8Array, hatype = 0, pkttype = 0): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, true);
  v.setUint16(8, hatype, true);
  b[10] = pkttype;
  if (hwaddr) {
    if (hwaddr.byteLength > 8) throw new TypeError("hardware address longer than 8 bytes");
    b[11] = hwaddr.byteLength;
    b.set(hwaddr, 12);
  }
  return b;
}

export interface SockaddrInfo { family: number; address: Uint8Array; port: number; scopeId: number }

/** Decodes an AF_INET/AF_INET6 sockaddr (as returned by recvfrom/recvmsg); null for other families. */
export function decodeSockaddr(sa: Uint8Array): SockaddrInfo | null {
  if (sa.byteLength < 2) return null;
  const v = new DataView(sa.buffer, sa.byteOffset, sa.byteLength);
  const family = v.getUint16(0, true);
  if (family === AF_INET && sa.byteLength >= 8) {
    return { family, port: v.getUint16(2, false), address: sa.slice(4, 8), scopeId: 0 };
  }
  if (family === AF_INET6 && sa.byteLength >= 28) {
    return { family, port: v.getUint16(2, false), address: sa.slice(8, 24), scopeId: v.getUint32(24, true) };
  }
  return null;
}

export interface Cmsg { level: number; type: number; data: Uint8Array }

/** Splits recvmsg control bytes into cmsgs (LP64 layout: 8-byte len, 4-byte level, 4-byte type, 8-aligned). */
export function parseCmsgs(control: Uint8Array): Cmsg[] {
  const out: Cmsg[] = [];
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let off = 0;
  while (off + 16 <= control.byteLength) {
    const len = Number(v.getBigUint64(off, true));
    if (len < 16 || off + len > control.byteLength) break;
    out.push({ level: v.getInt32(off + 8, true), type: v.getInt32(off + 12, true), data: control.slice(off + 16, off + len) });
    off += (len + 7) & ~7;
  }
  return out;
}

/** Builds one cmsg (for sendmsg), padded to 8 bytes. */
export function buildCmsg(level: number, type: number, data: Uint8Array): Uint8Array {
  const len = 16 + data.byteLength;
  const out = new Uint8Array((len + 7) & ~7);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(len), true);
  v.setInt32(8, level, true);
  v.setInt32(12, type, true);
  out.set(data, 16);
  return out;
}
