// VRRP raw-socket I/O (IP protocol 112), one socket per interface and family, used for both
// directions. IPv4 sends complete IP packets (IP_HDRINCL: the core writes TOS 0xc0, TTL 255 and the
// id, as keepalived does); IPv6 sends the VRRP payload with hop limit 255 and the core computes the
// checksum (IPV6_CHECKSUM is not used), so it passes the source it used via IPV6_PKTINFO.
// Receiving goes through the shared receive worker (see receiver.ts for why and how fast).
import * as libc from "../../ffi/libc.ts";
import { decodeIPv4Datagram, decodeIPv6Datagram, type ReceivedPacket } from "./datagram.ts";
import { parseIPv4, parseIPv6, type IpFamily } from "./inet.ts";
import { watchDatagrams, type Registration } from "./receiver.ts";

export type { ReceivedPacket } from "./datagram.ts";

export const VRRP_GROUP_V4 = "224.0.0.18";
export const VRRP_GROUP_V6 = "ff02::12";

export interface VrrpSocketOptions {
  family: IpFamily;
  ifname: string;
  /** Looked up from ifname when omitted. */
  ifindex?: number;
  /** Unicast mode: no multicast group is joined; the socket only receives packets sent to `src`. */
  unicast?: { src: string; peers: string[] };
}

export interface VrrpSocket {
  readonly fd: number;
  readonly family: IpFamily;
  readonly ifindex: number;
  /**
   * IPv4: `bytes` is the complete IP packet; dst defaults to 224.0.0.18.
   * IPv6: `bytes` is the VRRP payload; dst defaults to ff02::12; `src` (the address the checksum was
   * computed with) is imposed via IPV6_PKTINFO.
   */
  send(bytes: Uint8Array, dst?: string, opts?: { src?: string }): void;
  /** Sets the packet listener (replacing a previous one). Malformed datagrams go to onError. */
  onPacket(cb: (pkt: ReceivedPacket) => void): void;
  onError(cb: (err: { code: string; message: string }) => void): void;
  /** Stops delivery at once; resolves once the fd is closed. */
  close(): Promise<void>;
}

/** struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex } */
function ipMreqn(group: Uint8Array, ifindex: number): Uint8Array {
  const b = new Uint8Array(12);
  b.set(group, 0);
  new DataView(b.buffer).setInt32(8, ifindex, true);
  return b;
}

/** struct ipv6_mreq { in6_addr multiaddr; int ifindex } */
function ipv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  const b = new Uint8Array(20);
  b.set(group, 0);
  new DataView(b.buffer).setInt32(16, ifindex, true);
  return b;
}

/** struct in6_pktinfo { in6_addr addr; unsigned ifindex } as an IPV6_PKTINFO cmsg. */
function pktinfo6(src: Uint8Array, ifindex: number): Uint8Array {
  const b = new Uint8Array(20);
  b.set(src, 0);
  new DataView(b.buffer).setUint32(16, ifindex, true);
  return libc.buildCmsg(libc.IPPROTO_IPV6, libc.IPV6_PKTINFO, b);
}

function addr(text: string, family: IpFamily, what: string): Uint8Array {
  const b = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (!b) throw new RangeError(`${what}: '${text}' is not an IPv${family} address`);
  return b;
}

function configure(fd: number, o: VrrpSocketOptions, ifindex: number): void {
  const set = (level: number, name: number, v: Uint8Array | number, what: string) => libc.setsockopt(fd, level, name, v, what);
  set(libc.SOL_SOCKET, libc.SO_BINDTODEVICE, libc.cString(o.ifname), `SO_BINDTODEVICE ${o.ifname}`);
  if (o.family === 4) {
    set(libc.IPPROTO_IP, libc.IP_HDRINCL, 1, "IP_HDRINCL");
    set(libc.IPPROTO_IP, libc.IP_PKTINFO, 1, "IP_PKTINFO");
    set(libc.IPPROTO_IP, libc.IP_MULTICAST_IF, ipMreqn(new Uint8Array(4), ifindex), "IP_MULTICAST_IF");
    set(libc.IPPROTO_IP, libc.IP_MULTICAST_TTL, 255, "IP_MULTICAST_TTL");
    set(libc.IPPROTO_IP, libc.IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
    // Only groups joined on this socket, not every group any socket joined on the host.
    set(libc.IPPROTO_IP, libc.IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
    if (o.unicast) {
      libc.bind(fd, libc.sockaddrIn(addr(o.unicast.src, 4, "unicast source")));
    } else {
      set(libc.IPPROTO_IP, libc.IP_ADD_MEMBERSHIP, ipMreqn(addr(VRRP_GROUP_V4, 4, "group"), ifindex), `join ${VRRP_GROUP_V4} on ${o.ifname}`);
    }
  } else {
    set(libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF");
    set(libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS");
    set(libc.IPPROTO_IPV6, libc.IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS");
    set(libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
    set(libc.IPPROTO_IPV6, libc.IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
    set(libc.IPPROTO_IPV6, libc.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
    set(libc.IPPROTO_IPV6, libc.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
    if (o.unicast) {
      libc.bind(fd, libc.sockaddrIn6(addr(o.unicast.src, 6, "unicast source"), 0, o.unicast.src.startsWith("fe80") ? ifindex : 0));
    } else {
      set(libc.IPPROTO_IPV6, libc.IPV6_ADD_MEMBERSHIP, ipv6Mreq(addr(VRRP_GROUP_V6, 6, "group"), ifindex), `join ${VRRP_GROUP_V6} on ${o.ifname}`);
    }
  }
}

export function openVrrpSocket(o: VrrpSocketOptions): VrrpSocket {
  const ifindex = o.ifindex ?? libc.ifNameToIndex(o.ifname);
  const fd = libc.socket(o.family === 4 ? libc.AF_INET : libc.AF_INET6, libc.SOCK_RAW | libc.SOCK_NONBLOCK, libc.IPPROTO_VRRP);
  try {
    configure(fd, o, ifindex);
  } catch (e) {
    libc.close(fd);
    throw e;
  }
  const decode = o.family === 4 ? decodeIPv4Datagram : decodeIPv6Datagram;
  let packetCb: ((pkt: ReceivedPacket) => void) | null = null;
  let errorCb: ((err: { code: string; message: string }) => void) | null = null;
  let reg: Registration | null = null;
  let closing: Promise<void> | null = null;
  const defaultDst = o.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6;

  return {
    fd, family: o.family, ifindex,
    send(bytes, dst = defaultDst, opts = {}) {
      if (closing) throw new Error("VRRP socket is closed");
      if (o.family === 4) {
        libc.sendto(fd, bytes, 0, libc.sockaddrIn(addr(dst, 4, "destination")));
      } else {
        const to = libc.sockaddrIn6(addr(dst, 6, "destination"), 0, dst.toLowerCase().startsWith("fe80") || dst.toLowerCase().startsWith("ff02") ? ifindex : 0);
        const control = opts.src ? pktinfo6(addr(opts.src, 6, "source"), ifindex) : undefined;
        libc.sendmsg(fd, [bytes], to, control);
      }
    },
    onPacket(cb) {
      packetCb = cb;
      if (reg || closing) return;
      reg = watchDatagrams(fd, (datagrams) => {
        for (const d of datagrams) {
          const r = decode(d);
          if (r.ok) packetCb?.(r.packet);
          else errorCb?.({ code: "EBADMSG", message: r.reason });
        }
      }, { bufferSize: 4096, controlSize: 256, onError: (e) => errorCb?.(e) });
    },
    onError(cb) {
      errorCb = cb;
    },
    close() {
      if (closing) return closing;
      packetCb = null;
      errorCb = null;
      closing = (reg ? reg.unregister() : Promise.resolve()).then(() => libc.close(fd));
      return closing;
    },
  };
}
