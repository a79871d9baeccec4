// Latency of the receive path (raw socket -> receive worker -> callback on the owning thread), over a
// veth between two namespaces: one VRRP packet in flight at a time, time from sendto() to callback.
// Run as root: ./node_modules/.bin/bun bench/net-rx-latency.ts [count]
import { parseIPv4 } from "../src/net/inet.ts";
import { inNetns } from "../src/net/netns.ts";
import { openVrrpSocket } from "../src/net/vrrp-socket.ts";
import { createLab } from "../test/helpers/netns.ts";

const count = Number(process.argv[2] ?? 2000);
const lab = createLab("lbt-nl-");
try {
  const [a, b] = await lab.namespaces("ba", "bb");
  await lab.veth(a, "eth0", b, "eth0");
  await lab.addr(a, "eth0", "10.72.0.1/24");
  await lab.addr(b, "eth0", "10.72.0.2/24");
  const rx = inNetns(b, () => openVrrpSocket({ family: 4, ifname: "eth0" }));
  const tx = inNetns(a, () => openVrrpSocket({ family: 4, ifname: "eth0" }));
  const pkt = new Uint8Array(40);
  pkt.set([0x45, 0xc0, 0, 40, 0, 1, 0, 0, 255, 112], 0);
  pkt.set(parseIPv4("10.72.0.1")!, 12);
  pkt.set(parseIPv4("224.0.0.18")!, 16);
  const samples: number[] = [];
  let sentAt = 0;
  let resolveOne: () => void = () => {};
  rx.onPacket(() => { samples.push((performance.now() - sentAt) * 1000); resolveOne(); });
  for (let i = 0; i < count; i++) {
    const got = new Promise<void>((r) => { resolveOne = r; });
    sentAt = performance.now();
    tx.send(pkt);
    await got;
  }
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))].toFixed(0);
  console.log(`receive worker, ${count} packets: p50 ${q(0.5)} us, p90 ${q(0.9)} us, p99 ${q(0.99)} us, max ${q(1)} us`);
  await Promise.all([rx.close(), tx.close()]);
} finally {
  await lab.cleanup();
}
