// Run inside the VM (see test/vm/README.md): sets up a few services with ipvsadm, then prints the raw
// netlink replies the kernel gives to each IPVS GET command as JSON ({ name: hex[] }). The output is
// committed as test/fixtures/ipvs/kernel-6.1-replies.json and decoded by test/unit/ipvs-codec.test.ts.
import { NETLINK_GENERIC, type NetlinkMessage } from "../../src/netlink/message.ts";
import { NetlinkSocket, resolveGenlFamily } from "../../src/netlink/socket.ts";
import { ipvsPayload, requests, type IpvsRequest } from "../../src/ipvs/codec.ts";

const setup = [
  "ipvsadm -A -t 10.0.0.1:80 -s wrr -p 300 -M 255.255.255.0",
  "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3 -x 100 -y 50",
  "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 0",
  "ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.3:80 -i --tun-type gue --tun-port 6080 --tun-csum",
  "ipvsadm -A -u [2001:db8::1]:53 -s mh -b mh-port,mh-fallback -o",
  "ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::2]:5353 -m -w 2",
  "ipvsadm -A -f 7 -6 -s sh -b sh-port -p 60 -M 64 --pe sip",
  "ipvsadm --set 1000 100 200",
  "ip link add lbt-iv-cap type veth peer name lbt-iv-cap1 && ip link set lbt-iv-cap up",
  "ipvsadm --start-daemon master --mcast-interface lbt-iv-cap --syncid 3",
];
for (const cmd of setup) {
  const p = Bun.spawnSync(["sh", "-c", cmd]);
  if (p.exitCode !== 0) throw new Error(`${cmd}: ${p.stderr.toString()}`);
}

const sock = NetlinkSocket.open(NETLINK_GENERIC);
const family = await resolveGenlFamily("IPVS", sock);
const hex = (m: NetlinkMessage[]) => m.map((x) => Buffer.from(x.payload).toString("hex"));
const ask = (req: IpvsRequest) => sock.requestSync({ type: family.id, payload: ipvsPayload(req) }, { dump: req.dump });
const key = { kind: "addr", family: "ipv4", protocol: "tcp", address: "10.0.0.1", port: 80 } as const;
const key6 = { kind: "addr", family: "ipv6", protocol: "udp", address: "2001:db8::1", port: 53 } as const;
const out = {
  kernel: Bun.spawnSync(["uname", "-r"]).stdout.toString().trim(),
  info: hex(ask(requests.getInfo())),
  services: hex(ask(requests.listServices())),
  destsTcp: hex(ask(requests.listDests(key))),
  destsUdp6: hex(ask(requests.listDests(key6))),
  timeouts: hex(ask(requests.getTimeouts())),
  daemons: hex(ask(requests.listDaemons())),
};
console.log(JSON.stringify(out, null, 1));
