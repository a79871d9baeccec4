// Test tool: puts hand-made VRRP packets on the LAN from inside a namespace (raw IPv4, IP_HDRINCL).
// Usage: bun vrrp-inject.ts JSON  with { src, kind, count, vrid, vips, priority?, authPass?, seed? }
//   kind: "random" (random VRRP bytes for vrid), "truncated", "badChecksum", "badTtl", "badAuth" (v2),
//         "unknownVrid", "fuzz" (random lengths and bytes, any VRID).
import * as libc from "../../ffi/libc.ts";
import { buildIpv4Packet, encodeAdvert } from "../../src/vrrp/packet.ts";

interface Job { src: string; kind: string; count: number; vrid: number; vips: string[]; priority?: number; authPass?: string; seed?: number }
const job = JSON.parse(process.argv[2]) as Job;
const DST = "224.0.0.18";

let seed = job.seed ?? 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));

function advert(version: 2 | 3, vrid: number, pass?: string): Uint8Array {
  const r = encodeAdvert(
    { version, vrid, priority: job.priority ?? 254, advertIntervalMs: version === 2 ? 1000 : 100, addresses: job.vips, authType: pass ? "pass" : "none", authPass: pass },
    { family: 4, source: job.src, destination: DST },
  );
  if (!r.ok) throw new Error(r.error);
  return r.bytes;
}

function packet(i: number): { payload: Uint8Array; ttl: number } {
  switch (job.kind) {
    case "random": {
      const b = randomBytes(8 + Math.floor(rand() * 40));
      b[1] = job.vrid;
      b[0] = 0x31; // v3 advert, so it gets past the version check into the length checks
      return { payload: b, ttl: 255 };
    }
    case "truncated":
      return { payload: advert(3, job.vrid).subarray(0, 2 + (i % 6)), ttl: 255 };
    case "badChecksum": {
      const b = advert(3, job.vrid);
      b[6] ^= 0x5a;
      return { payload: b, ttl: 255 };
    }
    case "badTtl":
      return { payload: advert(3, job.vrid), ttl: 64 };
    case "badAuth":
      return { payload: advert(2, job.vrid, job.authPass ?? "wrongpw"), ttl: 255 };
    case "unknownVrid":
      return { payload: advert(3, job.vrid), ttl: 255 };
    case "fuzz":
      return { payload: randomBytes(Math.floor(rand() * 80)), ttl: rand() < 0.5 ? 255 : Math.floor(rand() * 256) };
    default:
      throw new Error(`unknown kind ${job.kind}`);
  }
}

const fd = libc.socket(libc.AF_INET, libc.SOCK_RAW, libc.IPPROTO_RAW);
libc.setsockopt(fd, libc.IPPROTO_IP, libc.IP_HDRINCL, 1);
for (let i = 0; i < job.count; i++) {
  const p = packet(i);
  const pkt = buildIpv4Packet({ source: job.src, destination: DST, id: i + 1, payload: p.payload, ttl: p.ttl });
  if (!pkt.ok) throw new Error(pkt.error);
  libc.sendto(fd, pkt.bytes, 0, libc.sockaddrIn(DST));
}
libc.close(fd);
