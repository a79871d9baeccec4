import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeDaemonMessage, decodeDestMessage, decodeInfoMessage, decodeServiceAttrs, decodeServiceMessage,
  decodeTimeoutsMessage, ipvsPayload, maskToPrefix, prefixToMask, requests, validateDaemon, validateDestConfig,
  validateServiceConfig, validateTimeouts,
} from "../../src/ipvs/codec.ts";
import { NetlinkDecodeError, type NetlinkMessage } from "../../src/netlink/message.ts";
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_PORT, type ServiceKey,
} from "../../src/ipvs/types.ts";
import { makeDest, makeService } from "../vm/ipvs-gen.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
/** A reply as NetlinkSocket hands it over: only the payload (genl header + attributes) matters here. */
const reply = (payloadHex: string): NetlinkMessage => ({
  header: { len: 16 + payloadHex.length / 2, type: 0x1c, flags: 2, seq: 1, pid: 0 },
  payload: bytes(payloadHex),
});

const tcp80: ServiceKey = { kind: "addr", family: "ipv4", protocol: "tcp", address: "10.0.0.1", port: 80 };
const udp6: ServiceKey = { kind: "addr", family: "ipv6", protocol: "udp", address: "2001:db8::1", port: 53 };

// Attribute by attribute as libipvs (ipvsadm 1.31, keepalived 2.2) lays them out; len/type are host order.
const SVC_TCP_10_0_0_1_80_WRR_P300_M24 =
  "54000100" + // nested IPVS_CMD_ATTR_SERVICE, 84 bytes
  "06000100 0200 0000" + // AF = AF_INET
  "06000200 0600 0000" + // PROTOCOL = TCP
  "14000300 0a000001 000000000000000000000000" + // ADDR: 16-byte nf_inet_addr
  "06000400 0050 0000" + // PORT 80, network order
  "08000600 77727200" + // SCHED_NAME "wrr\0"
  "0c000700 01000000 ffffffff" + // FLAGS {PERSISTENT, mask ~0}
  "08000800 2c010000" + // TIMEOUT 300
  "08000900 ffffff00"; // NETMASK 255.255.255.0 (network order)

describe("IPVS request encoding", () => {
  it("NEW_SERVICE for an IPv4 TCP service is byte-identical to libipvs", () => {
    const svc = makeService(tcp80, { scheduler: "wrr", flags: IP_VS_SVC_F_PERSISTENT, timeout: 300, netmask: 24 });
    expect(hex(ipvsPayload(requests.addService(svc)))).toBe(("01010000" + SVC_TCP_10_0_0_1_80_WRR_P300_M24).replace(/\s+/g, ""));
  });

  it("SET_SERVICE uses the same attributes with command 2", () => {
    const svc = makeService(tcp80, { scheduler: "wrr", flags: IP_VS_SVC_F_PERSISTENT, timeout: 300, netmask: 24 });
    expect(hex(ipvsPayload(requests.editService(svc)))).toBe(("02010000" + SVC_TCP_10_0_0_1_80_WRR_P300_M24).replace(/\s+/g, ""));
  });

  it("IPv6 netmask is a host-order prefix length, persistence engine goes before the flags", () => {
    const svc = makeService(udp6, { scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT, timeout: 60, netmask: 64, peName: "sip" });
    expect(hex(ipvsPayload(requests.addService(svc)))).toBe([
      "01010000", "5c000100",
      "06000100 0a00 0000", "06000200 1100 0000",
      "14000300 20010db8000000000000000000000001",
      "06000400 0035 0000",
      "07000600 736800 00", // "sh\0" + 1 pad byte
      "08000b00 73697000", // PE_NAME "sip\0"
      "0c000700 11000000 ffffffff",
      "08000800 3c000000",
      "08000900 40000000",
    ].join("").replace(/\s+/g, ""));
  });

  it("a firewall-mark service carries FWMARK instead of protocol, address and port", () => {
    const svc = makeService({ kind: "fwmark", family: "ipv4", fwmark: 7 }, { scheduler: "rr" });
    expect(hex(ipvsPayload(requests.addService(svc)))).toBe([
      "01010000", "38000100", "06000100 0200 0000", "08000500 07000000", "07000600 727200 00",
      "0c000700 00000000 ffffffff", "08000800 00000000", "08000900 ffffffff",
    ].join("").replace(/\s+/g, ""));
  });

  it("DEL_SERVICE, GET_DEST and ZERO identify the service by its key only", () => {
    const key = "30000100 06000100 0200 0000 06000200 0600 0000 14000300 0a000001 000000000000000000000000 06000400 0050 0000";
    expect(hex(ipvsPayload(requests.deleteService(tcp80)))).toBe(("03010000" + key).replace(/\s+/g, ""));
    expect(hex(ipvsPayload(requests.listDests(tcp80)))).toBe(("08010000" + key).replace(/\s+/g, ""));
    expect(requests.listDests(tcp80).dump).toBe(true);
    expect(hex(ipvsPayload(requests.zero(tcp80)))).toBe(("10010000" + key).replace(/\s+/g, ""));
    expect(hex(ipvsPayload(requests.zero()))).toBe("10010000");
  });

  it("NEW_DEST: service key, then the destination with tunnel options between weight and thresholds", () => {
    const dest = makeDest("ipv4", "10.1.0.3", 80, { method: "tunnel", weight: 5, upperThreshold: 100, lowerThreshold: 50, tunnel: { type: "gue", port: 6080, flags: 1 } });
    const payload = ipvsPayload(requests.addDest(tcp80, dest));
    expect(hex(payload.subarray(0, 4))).toBe("05010000");
    expect(hex(payload.subarray(4 + 0x30))).toBe([
      "60000200",
      "06000b00 0200 0000", // ADDR_FAMILY
      "14000100 0a010003 000000000000000000000000",
      "06000200 0050 0000",
      "08000300 02000000", // FWD_METHOD tunnel
      "08000400 05000000", // WEIGHT
      "05000d00 01 000000", // TUN_TYPE gue (u8)
      "06000e00 17c0 0000", // TUN_PORT 6080, network order
      "06000f00 0100 0000", // TUN_FLAGS csum
      "08000500 64000000", "08000600 32000000",
    ].join("").replace(/\s+/g, ""));
  });

  it("SET_DEST and DEL_DEST use commands 6 and 7; DEL_DEST sends only the destination's address", () => {
    const dest = makeDest("ipv6", "2001:db8::2", 5353, { weight: 2 });
    expect(ipvsPayload(requests.editDest(udp6, dest))[0]).toBe(6);
    const del = ipvsPayload(requests.deleteDest(udp6, dest));
    expect(del[0]).toBe(7);
    expect(hex(del.subarray(4 + 0x30))).toBe("2800020006000b000a00000014000100" + "20010db8000000000000000000000002" + "0600020014e90000");
  });

  it("SET_CONFIG leaves out zero timeouts, as ipvsadm --set does", () => {
    expect(hex(ipvsPayload(requests.setTimeouts({ tcp: 900, tcpFin: 0, udp: 300 })))).toBe(
      "0c010000" + "0800040084030000" + "080006002c010000",
    );
  });

  it("NEW_DAEMON and DEL_DAEMON", () => {
    expect(hex(ipvsPayload(requests.startDaemon({ state: "backup", interface: "eth0", syncId: 9, mcastPort: 9000, mcastTtl: 2, mcastGroup: "239.1.2.3" })))).toBe([
      "09010000", "38000300",
      "08000100 02000000", "09000200 65746830 00 000000", "08000300 09000000",
      "06000700 2823 0000", "05000800 02 000000", "08000500 ef010203",
    ].join("").replace(/\s+/g, ""));
    expect(hex(ipvsPayload(requests.stopDaemon("master")))).toBe("0a010000" + "0c000300" + "0800010001000000");
  });

  it("commands without attributes: GET_INFO, GET_SERVICE dump, GET_CONFIG, GET_DAEMON dump, FLUSH", () => {
    expect(hex(ipvsPayload(requests.getInfo()))).toBe("0f010000");
    expect([hex(ipvsPayload(requests.listServices())), requests.listServices().dump]).toEqual(["04010000", true]);
    expect(hex(ipvsPayload(requests.getTimeouts()))).toBe("0d010000");
    expect([hex(ipvsPayload(requests.listDaemons())), requests.listDaemons().dump]).toEqual(["0b010000", true]);
    expect(hex(ipvsPayload(requests.flush()))).toBe("11010000");
  });

  it("netmask conversions", () => {
    expect([prefixToMask(0), prefixToMask(24), prefixToMask(32)]).toEqual([0, 0xffffff00, 0xffffffff]);
    expect([maskToPrefix(0), maskToPrefix(0xffff0000), maskToPrefix(0xffffffff)]).toEqual([0, 16, 32]);
  });
});

describe("IPVS reply decoding (replies captured from Linux 6.1 in the test VM)", () => {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/ipvs/kernel-6.1-replies.json"), "utf8")) as Record<string, string[]>;

  it("GET_INFO", () => {
    expect(decodeInfoMessage(reply(fixture.info[0]))).toEqual({ version: 0x010201, versionText: "1.2.1", connTableSize: 4096 });
  });

  it("service dump: addresses, fwmark, flags without HASHED, netmask, persistence engine, zero counters", () => {
    const services = fixture.services.map((h) => decodeServiceMessage(reply(h)));
    const zero = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
    expect(services).toEqual([
      { key: tcp80, scheduler: "wrr", flags: IP_VS_SVC_F_PERSISTENT, timeout: 300, netmask: 24, peName: "", stats: zero },
      { key: udp6, scheduler: "mh", flags: IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED_MH_FALLBACK | IP_VS_SVC_F_SCHED_MH_PORT, timeout: 0, netmask: 128, peName: "", stats: zero },
      { key: { kind: "fwmark", family: "ipv6", fwmark: 7 }, scheduler: "sh", flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT, timeout: 60, netmask: 64, peName: "sip", stats: zero },
    ]);
  });

  it("destination dump: methods, weights, thresholds, tunnel options, IPv6", () => {
    const tcp = fixture.destsTcp.map((h) => decodeDestMessage(reply(h), "ipv4"));
    const pick = ({ address, port, method, weight, upperThreshold, lowerThreshold, tunnel, activeConns }: (typeof tcp)[number]) =>
      ({ address, port, method, weight, upperThreshold, lowerThreshold, tunnel, activeConns });
    expect(tcp.map(pick)).toEqual([
      { address: "10.1.0.3", port: 80, method: "tunnel", weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: "gue", port: 6080, flags: 1 }, activeConns: 0 },
      { address: "10.1.0.2", port: 80, method: "droute", weight: 0, upperThreshold: 0, lowerThreshold: 0, tunnel: undefined, activeConns: 0 },
      { address: "10.1.0.1", port: 8080, method: "masq", weight: 3, upperThreshold: 100, lowerThreshold: 50, tunnel: undefined, activeConns: 0 },
    ]);
    const udp = decodeDestMessage(reply(fixture.destsUdp6[0]), "ipv6");
    expect([udp.family, udp.address, udp.port, udp.method, udp.weight]).toEqual(["ipv6", "2001:db8::2", 5353, "masq", 2]);
  });

  it("GET_CONFIG and the daemon dump", () => {
    expect(decodeTimeoutsMessage(reply(fixture.timeouts[0]))).toEqual({ tcp: 1000, tcpFin: 100, udp: 200 });
    expect(decodeDaemonMessage(reply(fixture.daemons[0]))).toEqual({
      state: "master", interface: "lbt-iv-cap", syncId: 3, maxLength: 1472, mcastGroup: "224.0.0.81", mcastPort: 8848, mcastTtl: 1,
    });
  });

  it("64-bit counters are preferred over the 32-bit ones", () => {
    // service attrs: AF, FWMARK, SCHED, FLAGS, TIMEOUT, NETMASK, STATS{CONNS=1}, STATS64{CONNS=2^40, INBYTES=5}
    const attrs = bytes([
      "06000100 0200 0000", "08000500 01000000", "07000600 727200 00", "0c000700 02000000 ffffffff",
      "08000800 00000000", "08000900 ffffffff",
      "0c000a00 08000100 01000000",
      "1c000c00 0c000100 0000000000010000 0c000400 0500000000000000",
    ].join(""));
    const s = decodeServiceAttrs(attrs);
    expect([s.flags, s.stats.conns, s.stats.inBytes]).toEqual([0, 2 ** 40, 5]);
  });

  it("malformed replies raise NetlinkDecodeError (the client turns it into an error value)", () => {
    expect(() => decodeServiceAttrs(bytes("08000500 01000000"))).toThrow(NetlinkDecodeError); // no AF
    expect(() => decodeServiceAttrs(bytes("06000100 0700 0000"))).toThrow(/unknown address family 7/);
    expect(() => decodeInfoMessage(reply("0e010000"))).toThrow(NetlinkDecodeError);
    expect(() => decodeServiceMessage(reply("01010000 ff000100"))).toThrow(NetlinkDecodeError); // attribute overruns
  });
});

describe("IPVS validation", () => {
  it("accepts sane services and names what is wrong otherwise", () => {
    expect(validateServiceConfig(makeService(tcp80))).toEqual([]);
    expect(validateServiceConfig(makeService({ ...tcp80, address: "10.0.0.256", port: 70000 }, { scheduler: "Bad Name", netmask: 33 }))).toEqual([
      "'10.0.0.256' is not an IPv4 address", "port 70000 must be 0..65535", "scheduler name 'Bad Name' is not valid",
      "persistence netmask /33 must be 0..32",
    ]);
    expect(validateServiceConfig(makeService({ kind: "fwmark", family: "ipv6", fwmark: 0 }, { flags: 0x2 }))).toEqual([
      "fwmark 0 must be 1..4294967295", "service flags 0x2 contain bits user space cannot set",
    ]);
    expect(validateServiceConfig(makeService({ ...udp6, address: "10.0.0.1" }))).toEqual(["'10.0.0.1' is not an IPv6 address"]);
  });

  it("destinations: weight and threshold ranges as the kernel enforces them, tunnel options only for tunnels", () => {
    expect(validateDestConfig(makeDest("ipv4", "10.0.0.2", 80, { weight: 2147483647, upperThreshold: 2147483647 }))).toEqual([]);
    expect(validateDestConfig(makeDest("ipv4", "10.0.0.2", 80, { weight: -1, upperThreshold: 4294967295 }))).toEqual([
      "weight -1 must be 0..2147483647", "upper threshold 4294967295 must be 0..2147483647",
    ]);
    expect(validateDestConfig(makeDest("ipv4", "10.0.0.2", 80, { lowerThreshold: 5 }))).toEqual(["lower threshold 5 is above upper threshold 0"]);
    expect(validateDestConfig(makeDest("ipv4", "10.0.0.2", 80, { tunnel: { type: "gue", port: 0, flags: 0 } }))).toEqual([
      "tunnel options need the tunnel forwarding method", "a GUE tunnel needs a port",
    ]);
  });

  it("timeouts and sync daemon settings", () => {
    expect(validateTimeouts({ tcp: 900, tcpFin: 120, udp: 300 })).toEqual([]);
    expect(validateTimeouts({ tcp: -1, tcpFin: 1.5, udp: 0 })).toEqual(["tcp timeout -1 must be 0..2147483647 s", "tcpFin timeout 1.5 must be 0..2147483647 s"]);
    expect(validateDaemon({ state: "master", interface: "eth0", syncId: 0 })).toEqual([]);
    expect(validateDaemon({ state: "master", interface: "a-very-long-interface", syncId: 256, mcastGroup: "nope" })).toEqual([
      "interface name 'a-very-long-interface' is not valid", "sync id 256 must be 0..255", "multicast group 'nope' is not an address",
    ]);
  });
});
