// The runtime shell on fake kernel I/O and fake timers: socket sharing and VRID dispatch, the single
// timer, adverts with IP ids from 1, VIPs added/removed exactly once, GARP bursts, reload without a
// flap, stop, control API, bad packets counted. No root, no network.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ReceivedPacket, VrrpSocketOptions } from "../../src/net/vrrp-socket.ts";
import type { NetlinkRequest } from "../../src/netlink/socket.ts";
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, addressRequest, parseAddressMessage } from "../../src/netlink/rtnetlink.ts";
import { buildIpv4Packet, encodeAdvert, encodeInstanceAdvert, parseIpv4Packet, parseAdvert } from "../../src/vrrp/packet.ts";
import { startVrrpRuntime, type RuntimeConfig, type RuntimeInstanceConfig, type RuntimeIo, type RuntimeSocket, type VrrpRuntime } from "../../src/vrrp/runtime.ts";
import type { TrackerConfig, TrackerDeps, TrackerSource } from "../../src/vrrp/tracking.ts";
import type { ScriptHealth } from "../../src/vrrp/tracking-state.ts";
import { VRRP_DEFAULTS } from "../../src/vrrp/types.ts";
import type { BlockedVip } from "../../src/vrrp/firewall-plan.ts";
import type { VipFirewall } from "../../src/vrrp/firewall.ts";

interface FakeSocket extends RuntimeSocket {
  opts: VrrpSocketOptions;
  sent: { bytes: Uint8Array; dst?: string }[];
  deliver(pkt: ReceivedPacket): void;
  fail(err: { code: string; message: string }): void;
  closed: boolean;
}

class FakeKernel {
  sockets: FakeSocket[] = [];
  addresses = new Set<string>();
  addressLog: string[] = [];
  frames: Uint8Array[] = [];
  trackerConfigs: TrackerConfig[] = [];
  trackerDeps: TrackerDeps[] = [];
  /** Deletes an address behind the runtime's back (as `ip addr del`), with the notification. */
  deleteAddress: ((address: string, prefixlen: number) => void) | null = null;
  /** What the fake tracker reports for scripts (the same map for every tracker started). */
  scripts = new Map<string, ScriptHealth>();
  /** What io.receiveReady() answers: the receive worker running, or why it is not. */
  receiveReady: () => Promise<void> = async () => {};
  openError: Error | null = null;

  io(): RuntimeIo {
    return {
      netlink: {
        requestSync: (req: NetlinkRequest) => {
          if (req.type === RTM_GETADDR)
            return [...this.addresses].map((a) => ({ header: { len: 0, type: RTM_NEWADDR, flags: 0, seq: 0, pid: 0 }, payload: addressRequest("add", { ifindex: 2, address: a }).payload! }));
          if (req.type === RTM_NEWADDR || req.type === RTM_DELADDR) {
            const a = parseAddressMessage({ header: { len: 0, type: req.type, flags: 0, seq: 0, pid: 0 }, payload: req.payload! })!;
            const key = `${a.address}/${a.prefixlen}`;
            if (req.type === RTM_NEWADDR) this.addresses.add(key);
            else this.addresses.delete(key);
            this.addressLog.push(`${req.type === RTM_NEWADDR ? "add" : "del"} ${key}`);
          }
          return [];
        },
      },
      ifindex: () => 2,
      openSocket: (opts) => {
        if (this.openError) throw this.openError;
        let cb: ((p: ReceivedPacket) => void) | null = null;
        let errCb: ((e: { code: string; message: string }) => void) | null = null;
        const s: FakeSocket = {
          opts, sent: [], closed: false,
          send: (bytes, dst) => void s.sent.push({ bytes: bytes.slice(), dst }),
          onPacket: (f) => void (cb = f),
          onError: (f) => void (errCb = f),
          close: async () => void (s.closed = true),
          deliver: (p) => cb?.(p),
          fail: (e) => errCb?.(e),
        };
        this.sockets.push(s);
        return s;
      },
      sendFrame: (_i, f) => void this.frames.push(f),
      linkMac: () => Uint8Array.of(2, 0, 0, 0, 0, 1),
      startTracker: (cfg, deps): TrackerSource => (this.trackerConfigs.push(cfg), this.trackerDeps.push(deps), {
        ready: Promise.resolve(),
        state: () => ({ interfaces: new Map([["eth0", true]]), scripts: this.scripts, files: new Map(), processes: new Map() }),
        watchInterfaces: () => {},
        close: async () => {},
      }),
      ipv6Forwarding: () => false,
      watchAddressDeletions: (cb) => {
        this.deleteAddress = (address, prefixlen) => {
          this.addresses.delete(`${address}/${prefixlen}`);
          cb({ ifindex: 2, address, prefixlen });
        };
        return { close: async () => void (this.deleteAddress = null) };
      },
      receiveReady: () => this.receiveReady(),
      close: () => {},
    };
  }
}

const inst = (over: Partial<RuntimeInstanceConfig> & { name: string; vrid: number; vips: string[] }): RuntimeInstanceConfig =>
  ({ ...VRRP_DEFAULTS, unicastPeers: [], family: 4, version: 3, interface: "eth0", primaryIp: "10.0.0.1", advertIntervalMs: 100, ...over }) as RuntimeInstanceConfig;

function advertFrom(source: string, vrid: number, priority: number, vips: string[], opts: { ttl?: number; corrupt?: boolean; to?: string; legacy?: boolean } = {}): ReceivedPacket {
  const destination = opts.to ?? "224.0.0.18";
  const payload = encodeAdvert({ version: 3, vrid, priority, advertIntervalMs: 100, addresses: vips }, { family: 4, source, destination, legacyUnicastChecksum: opts.legacy });
  if (!payload.ok) throw new Error(payload.error);
  if (opts.corrupt) payload.bytes[6] ^= 0xff;
  const pkt = buildIpv4Packet({ source, destination, id: 1, payload: payload.bytes, ttl: opts.ttl });
  if (!pkt.ok) throw new Error(pkt.error);
  return { data: pkt.bytes, src: source, dst: destination, ifindex: 2, ttlOrHopLimit: opts.ttl ?? 255 };
}

/** The adverts a socket sent, decoded: [vrid, priority, ip id]. */
function sentAdverts(s: FakeSocket): [number, number, number][] {
  return s.sent.map(({ bytes }) => {
    const ip = parseIpv4Packet(bytes);
    if (!ip.ok) throw new Error(ip.detail);
    const a = parseAdvert(ip.payload, 4);
    if (!a.ok) throw new Error(a.detail);
    return [a.advert.vrid, a.advert.priority, ip.header.id];
  });
}

let kernel: FakeKernel;
let logs: string[];
let rt: VrrpRuntime | null;

beforeEach(() => {
  vi.useFakeTimers();
  kernel = new FakeKernel();
  logs = [];
  rt = null;
});

afterEach(async () => {
  await rt?.stop();
  vi.useRealTimers();
});

async function start(config: RuntimeConfig, onFatal?: (cause: string) => void, resume = false): Promise<VrrpRuntime> {
  rt = await startVrrpRuntime({ ...config, io: kernel.io(), clock: { now: () => Date.now() }, log: (l, m) => logs.push(`${l} ${m}`), onFatal, resume });
  return rt;
}

const state = (r: VrrpRuntime, name: string) => r.status().instances.find((i) => i.name === name)?.state;

describe("runtime on fake I/O", () => {
  it("instances on one interface share one socket; packets go to the instance of their VRID", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] }), inst({ name: "B", vrid: 2, vips: ["10.0.0.102"] })] });
    expect(kernel.sockets).toHaveLength(1);
    expect(state(r, "A")).toBe("BACKUP");
    // A higher-priority master for VRID 2 keeps B in BACKUP past its down interval; A becomes MASTER.
    for (let t = 0; t < 10; t++) {
      kernel.sockets[0].deliver(advertFrom("10.0.0.9", 2, 200, ["10.0.0.102"]));
      vi.advanceTimersByTime(100);
    }
    expect(state(r, "A")).toBe("MASTER");
    expect(state(r, "B")).toBe("BACKUP");
    const b = r.status().instances.find((i) => i.name === "B")!;
    expect(b.masterAddress).toBe("10.0.0.9");
    expect(b.stats.advertisementsReceived).toBe(10);
    expect(b.lastTransition).toMatchObject({ from: "INIT", to: "BACKUP", reason: "init" });
    expect(r.status().instances.find((i) => i.name === "A")!.lastTransition).toMatchObject({ from: "BACKUP", to: "MASTER" });
    expect(r.status().instances.find((i) => i.name === "A")!.stats.advertisementsReceived).toBe(0);
  });

  it("one timer for 200 instances", async () => {
    const instances = Array.from({ length: 200 }, (_, i) => inst({ name: `I${i}`, vrid: i + 1, vips: [`10.0.${1 + (i >> 8)}.${i % 256}`] }));
    const r = await start({ instances });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(r.status().instances.every((i) => i.state === "MASTER")).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
  });

  it("MASTER: advert first (IP ids 1, 2, 3, ... per instance), VIPs added once, 5 GARPs; stop: priority 0 and VIPs gone", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 7, vips: ["10.0.0.100"], vipDetails: [{ address: "10.0.0.100/24" }] })] });
    vi.advanceTimersByTime(1000);
    expect(state(r, "A")).toBe("MASTER");
    expect([...kernel.addresses]).toEqual(["10.0.0.100/24"]);
    expect(kernel.frames).toHaveLength(5);
    const adverts = sentAdverts(kernel.sockets[0]);
    expect(adverts.length).toBeGreaterThanOrEqual(7);
    expect(adverts.map((a) => a[2])).toEqual(adverts.map((_, i) => i + 1));
    expect(adverts.every(([vrid, prio]) => vrid === 7 && prio === 100)).toBe(true);
    await r.stop();
    rt = null;
    expect(sentAdverts(kernel.sockets[0]).at(-1)![1]).toBe(0);
    expect(kernel.addresses.size).toBe(0);
    expect(kernel.addressLog).toEqual(["add 10.0.0.100/24", "del 10.0.0.100/24"]);
    expect(kernel.sockets[0].closed).toBe(true);
  });

  it("garp_interval spaces the burst; VIPs released cancel what is still pending", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 7, vips: ["10.0.0.100", "10.0.0.101"], garpIntervalMs: 50, garpMasterDelayMs: 0 })] });
    vi.advanceTimersByTime(361); // Master_Down_Interval for priority 100 at 100 ms: 3 x 100 + 61 ms
    expect(state(r, "A")).toBe("MASTER");
    expect(kernel.frames).toHaveLength(1); // 2 VIPs x 5 repeats = 10 frames, one every 50 ms
    vi.advanceTimersByTime(200);
    expect(kernel.frames).toHaveLength(5);
    expect(r.forceBackup("A")).toEqual({ ok: true });
    vi.advanceTimersByTime(1000);
    expect(kernel.frames).toHaveLength(5);
  });

  it("reload: unchanged instances keep state and VIPs, removed ones release theirs, new ones start", async () => {
    const a = inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] });
    const b = inst({ name: "B", vrid: 2, vips: ["10.0.0.102"] });
    const r = await start({ instances: [a, b] });
    vi.advanceTimersByTime(1000);
    expect(kernel.addresses.size).toBe(2);
    const logBefore = kernel.addressLog.length;
    const c = inst({ name: "C", vrid: 3, vips: ["10.0.0.103"] });
    const res = await r.reload({ instances: [a, c] });
    expect(res).toEqual({ kept: ["A"], reconfigured: [], started: ["C"], removed: ["B"], restarted: [], errors: [] });
    expect(kernel.addressLog.slice(logBefore)).toEqual(["del 10.0.0.102/32"]);
    expect(state(r, "A")).toBe("MASTER");
    expect(state(r, "C")).toBe("BACKUP");
    vi.advanceTimersByTime(1000);
    expect([...kernel.addresses].sort()).toEqual(["10.0.0.101/32", "10.0.0.103/32"]);
    // A new identity (here the VRID) is a new router: the old one stops, the new one starts.
    const res2 = await r.reload({ instances: [{ ...a, vrid: 9 }, c] });
    expect(res2.restarted).toEqual(["A"]);
    expect(state(r, "A")).toBe("BACKUP");
    expect(r.status().instances.find((i) => i.name === "A")!.vrid).toBe(9);
  });

  it("forceBackup / resume, and a clear error for an unknown instance", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] })] });
    vi.advanceTimersByTime(1000);
    expect(r.forceBackup("A")).toEqual({ ok: true });
    expect(state(r, "A")).toBe("BACKUP");
    expect(kernel.addresses.size).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(state(r, "A")).toBe("BACKUP");
    expect(r.resume("A")).toEqual({ ok: true });
    vi.advanceTimersByTime(1000);
    expect(state(r, "A")).toBe("MASTER");
    expect(r.forceBackup("nope")).toEqual({ ok: false, error: "no VRRP instance named 'nope'" });
  });

  it("bad packets are counted per instance or as unmatched, and change nothing", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] })] });
    const s = kernel.sockets[0];
    s.deliver(advertFrom("10.0.0.9", 1, 250, ["10.0.0.101"], { corrupt: true }));
    s.deliver(advertFrom("10.0.0.9", 1, 250, ["10.0.0.101"], { ttl: 64 }));
    s.deliver(advertFrom("10.0.0.9", 9, 250, ["10.0.0.101"]));
    s.deliver({ data: Uint8Array.of(0x45, 0, 0, 20), src: "10.0.0.9", dst: "224.0.0.18", ifindex: 2, ttlOrHopLimit: 255 });
    vi.advanceTimersByTime(1000);
    const st = r.status();
    expect(st.instances[0].state).toBe("MASTER");
    expect(st.instances[0].stats.checksumErrors).toBe(1);
    expect(st.instances[0].stats.ipTtlErrors).toBe(1);
    expect(st.unmatched).toEqual({ unknownVrid: 1, malformed: 1 });
  });

  it("old_unicast_checksum auto: after an advert with the pre-1.3.6 unicast checksum, ours use it too", async () => {
    const a = inst({ name: "U", vrid: 5, vips: ["10.0.0.105"], unicastPeers: ["10.0.0.2"] });
    const r = await start({ instances: [a] });
    vi.advanceTimersByTime(1000);
    expect(state(r, "U")).toBe("MASTER");
    const payloadOf = (b: Uint8Array) => Buffer.from(b.subarray(20)).toString("hex");
    const modern = encodeInstanceAdvert(a, 100, "10.0.0.2", false);
    const legacy = encodeInstanceAdvert(a, 100, "10.0.0.2", true);
    if (!modern.ok || !legacy.ok) throw new Error("encode");
    const sock = kernel.sockets[0];
    expect(sock.opts.unicast).toEqual({ src: "10.0.0.1", peers: ["10.0.0.2"] });
    expect(payloadOf(sock.sent.at(-1)!.bytes)).toBe(Buffer.from(modern.bytes).toString("hex"));
    sock.deliver(advertFrom("10.0.0.2", 5, 50, ["10.0.0.105"], { to: "10.0.0.1", legacy: true }));
    expect(r.status().instances[0].stats.checksumErrors).toBe(0);
    expect(logs.some((l) => l.includes("(U) Setting unicast VRRPv3 checksum to old version"))).toBe(true);
    // The lower-priority advert is answered at once, already in the old dialect.
    expect(payloadOf(sock.sent.at(-1)!.bytes)).toBe(Buffer.from(legacy.bytes).toString("hex"));
    expect(sock.sent.at(-1)!.dst).toBe("10.0.0.2");
  });

  it("vrrp_scripts without their own user run as script_user", async () => {
    await start({
      instances: [],
      scriptUser: { uid: 1000, gid: 1000 },
      scripts: [{ name: "plain", script: "/bin/true" }, { name: "own", script: "/bin/true", user: { uid: 65534, gid: 65534 } }],
    });
    expect(kernel.trackerConfigs[0].scripts.map((x) => [x.name, x.user?.uid])).toEqual([["plain", 1000], ["own", 65534]]);
  });

  it("an instance with a bad configuration or a taken VRID is not started, and says why", async () => {
    const r = await start({
      instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] }), inst({ name: "B", vrid: 1, vips: ["10.0.0.102"] }), inst({ name: "C", vrid: 300, vips: ["10.0.0.103"] })],
    });
    expect(r.status().instances.map((i) => i.name)).toEqual(["A"]);
    expect(logs.some((l) => l.includes("(B) eth0/IPv4/VRID 1 is already used by A"))).toBe(true);
    expect(logs.some((l) => l.includes("(C) VRID must be 1..255"))).toBe(true);
  });
});

/** Decoded adverts a socket sent since index `from`: priority and addresses. */
function advertsSince(sock: FakeSocket, from: number): { priority: number; addresses: string[] }[] {
  return sock.sent.slice(from).map(({ bytes }) => {
    const ip = parseIpv4Packet(bytes);
    if (!ip.ok) throw new Error(ip.detail);
    const a = parseAdvert(ip.payload, 4);
    if (!a.ok) throw new Error(a.detail);
    return { priority: a.advert.priority, addresses: [...a.advert.addresses] };
  });
}

describe("reload in place: state, timers and held addresses survive a changed configuration", () => {
  const a = inst({ name: "A", vrid: 1, vips: ["10.0.0.101"], priority: 150 });

  async function master(): Promise<VrrpRuntime> {
    const r = await start({ instances: [a] });
    vi.advanceTimersByTime(1000);
    expect(state(r, "A")).toBe("MASTER");
    return r;
  }

  it("a master gains a VIP: stays MASTER, the old VIP is never deleted, only the new one is added and announced", async () => {
    const r = await master();
    const log = kernel.addressLog.length;
    const frames = kernel.frames.length;
    const sent = kernel.sockets[0].sent.length;
    const res = await r.reload({ instances: [{ ...a, vips: ["10.0.0.101", "10.0.0.102"] }] });
    expect(res).toMatchObject({ kept: [], reconfigured: ["A"], restarted: [], started: [], removed: [] });
    expect(state(r, "A")).toBe("MASTER");
    expect(kernel.addressLog.slice(log)).toEqual(["add 10.0.0.102/32"]);
    // 5 gratuitous ARPs (garp_master_repeat) for the new address, none for the one already announced.
    expect(kernel.frames.length - frames).toBe(5);
    // The master announces its new address list at once, not at the next advert interval.
    expect(advertsSince(kernel.sockets[0], sent)[0]).toEqual({ priority: 150, addresses: ["10.0.0.101", "10.0.0.102"] });
    expect(r.status().instances[0].lastTransition).toMatchObject({ from: "BACKUP", to: "MASTER" });
  });

  it("a master loses a VIP: only that one is deleted", async () => {
    const r = await start({ instances: [{ ...a, vips: ["10.0.0.101", "10.0.0.102"] }] });
    vi.advanceTimersByTime(1000);
    const log = kernel.addressLog.length;
    await r.reload({ instances: [a] });
    expect(state(r, "A")).toBe("MASTER");
    expect(kernel.addressLog.slice(log)).toEqual(["del 10.0.0.102/32"]);
    expect([...kernel.addresses]).toEqual(["10.0.0.101/32"]);
  });

  it("a master's priority changes: stays MASTER and advertises the new priority; a higher peer then takes over by the protocol", async () => {
    const r = await master();
    const sent = kernel.sockets[0].sent.length;
    await r.reload({ instances: [{ ...a, priority: 90 }] });
    expect(state(r, "A")).toBe("MASTER");
    expect(advertsSince(kernel.sockets[0], sent)[0]!.priority).toBe(90);
    expect(r.status().instances[0]).toMatchObject({ basePriority: 90, effectivePriority: 90 });
    expect(kernel.addresses.size).toBe(1);
    // A peer at 100 now outranks us: its advert (after its master down timer) makes us BACKUP, once.
    kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 100, ["10.0.0.101"]));
    expect(state(r, "A")).toBe("BACKUP");
    expect(kernel.addresses.size).toBe(0);
  });

  it("a backup's raised priority shifts its running master down timer by the change in skew only", async () => {
    const r = await start({ instances: [inst({ name: "B", vrid: 1, vips: ["10.0.0.101"], priority: 100 })] });
    kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 200, ["10.0.0.101"]));
    vi.advanceTimersByTime(200);
    // Master_Down_Interval at 100 ms adverts: 300 + (256-100)*100/256 = 360.9 ms; at 250: 300 + 2.3 ms.
    await r.reload({ instances: [inst({ name: "B", vrid: 1, vips: ["10.0.0.101"], priority: 250 })] });
    expect(state(r, "B")).toBe("BACKUP");
    expect(r.status().instances[0].effectivePriority).toBe(250);
    vi.advanceTimersByTime(90);
    expect(state(r, "B")).toBe("BACKUP"); // 290 ms since the last advert: not down yet
    vi.advanceTimersByTime(20);
    expect(state(r, "B")).toBe("MASTER"); // 310 ms > 302.3 ms: the master is down by the new values
  });

  it("unchanged scripts keep their state across a reload that changes what is tracked", async () => {
    kernel.scripts.set("chk", { up: false, streak: 0 });
    const script = { name: "chk", script: "/bin/false", weight: -20 };
    const r = await start({ instances: [{ ...a, trackScripts: [{ name: "chk" }] }], scripts: [script] });
    vi.advanceTimersByTime(1000);
    expect(r.status().instances[0].effectivePriority).toBe(130);
    await r.reload({ instances: [{ ...a, trackScripts: [{ name: "chk" }] }], scripts: [script, { name: "other", script: "/bin/true" }] });
    expect(kernel.trackerConfigs).toHaveLength(2);
    expect(kernel.trackerDeps[1].initialScripts?.get("chk")).toEqual(kernel.scripts.get("chk"));
    expect(kernel.trackerDeps[1].initialScripts?.has("other")).toBe(false);
    expect(state(r, "A")).toBe("MASTER");
    expect(r.status().instances[0].effectivePriority).toBe(130);
  });

  it("a track weight changed by reload moves the effective priority, no restart", async () => {
    kernel.scripts.set("chk", { up: false, streak: 0 });
    const script = { name: "chk", script: "/bin/false", weight: -20 };
    const r = await start({ instances: [{ ...a, trackScripts: [{ name: "chk" }] }], scripts: [script] });
    vi.advanceTimersByTime(1000);
    const res = await r.reload({ instances: [{ ...a, trackScripts: [{ name: "chk", weight: -40 }] }], scripts: [script] });
    expect(res.reconfigured).toEqual(["A"]);
    expect(state(r, "A")).toBe("MASTER");
    expect(r.status().instances[0].effectivePriority).toBe(110);
  });

  it("a sync group reloaded with one member changed keeps both members' states", async () => {
    const x = inst({ name: "X", vrid: 1, vips: ["10.0.0.101"] });
    const y = inst({ name: "Y", vrid: 2, vips: ["10.0.0.102"] });
    const groups = [{ name: "G", members: ["X", "Y"] }];
    const r = await start({ instances: [x, y], syncGroups: groups });
    vi.advanceTimersByTime(1000);
    expect([state(r, "X"), state(r, "Y")]).toEqual(["MASTER", "MASTER"]);
    const log = kernel.addressLog.length;
    const res = await r.reload({ instances: [x, { ...y, priority: 120, vips: ["10.0.0.102", "10.0.0.103"] }], syncGroups: groups });
    expect(res).toMatchObject({ kept: ["X"], reconfigured: ["Y"] });
    expect([state(r, "X"), state(r, "Y")]).toEqual(["MASTER", "MASTER"]);
    expect(kernel.addressLog.slice(log)).toEqual(["add 10.0.0.103/32"]);
    vi.advanceTimersByTime(2000);
    expect([state(r, "X"), state(r, "Y")]).toEqual(["MASTER", "MASTER"]);
  });

  it("a new unicast source moves the instance to another socket without a state change", async () => {
    const u = inst({ name: "U", vrid: 1, vips: ["10.0.0.101"], unicastPeers: ["10.0.0.2"] });
    const r = await start({ instances: [u] });
    vi.advanceTimersByTime(1000);
    await r.reload({ instances: [{ ...u, primaryIp: "10.0.0.5" }] });
    expect(kernel.sockets).toHaveLength(2);
    expect(kernel.sockets[0].closed).toBe(true);
    expect(state(r, "U")).toBe("MASTER");
    expect(kernel.sockets[1].sent.length).toBeGreaterThan(0);
    expect(kernel.addressLog).toEqual(["add 10.0.0.101/32"]);
  });
});

describe("a VRRP process restarted after a crash (resume)", () => {
  const a = inst({ name: "A", vrid: 1, vips: ["10.0.0.101"], vipDetails: [{ address: "10.0.0.101/24" }], advertIntervalMs: 1000 });

  it("finds its addresses in place, keeps them, and is MASTER again after one advert interval", async () => {
    kernel.addresses.add("10.0.0.101/24");
    const r = await start({ instances: [a] }, undefined, true);
    expect(state(r, "A")).toBe("BACKUP");
    vi.advanceTimersByTime(999);
    expect(state(r, "A")).toBe("BACKUP");
    vi.advanceTimersByTime(2);
    expect(state(r, "A")).toBe("MASTER");
    expect(kernel.addressLog).toEqual([]); // never deleted, never re-added
    expect(sentAdverts(kernel.sockets[0])[0]![1]).toBe(100);
  });

  it("a better master heard meanwhile: the addresses go and it stays BACKUP", async () => {
    kernel.addresses.add("10.0.0.101/24");
    const r = await start({ instances: [a] }, undefined, true);
    kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 200, ["10.0.0.101"]));
    expect(state(r, "A")).toBe("BACKUP");
    expect(kernel.addressLog).toEqual(["del 10.0.0.101/24"]);
  });

  it("a lower priority that took over meanwhile: MASTER at once (both hold the VIP until then)", async () => {
    kernel.addresses.add("10.0.0.101/24");
    const r = await start({ instances: [a] }, undefined, true);
    const sent = kernel.sockets[0].sent.length;
    kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 50, ["10.0.0.101"]));
    expect(state(r, "A")).toBe("MASTER");
    expect(kernel.sockets[0].sent.length).toBeGreaterThan(sent);
    expect(kernel.addressLog).toEqual([]);
  });

  it("a fresh start (not a restart) deletes them as stale, as keepalived does", async () => {
    kernel.addresses.add("10.0.0.101/24");
    const r = await start({ instances: [a] });
    expect(kernel.addressLog).toEqual(["del 10.0.0.101/24"]);
    expect(state(r, "A")).toBe("BACKUP");
  });

  it("only some of its addresses in place: starts as usual", async () => {
    kernel.addresses.add("10.0.0.101/24");
    await start({ instances: [{ ...a, vips: ["10.0.0.101", "10.0.0.102"] }] }, undefined, true);
    expect(kernel.addressLog).toEqual(["del 10.0.0.101/24"]);
  });
});

describe("two masters, said (issue 13): a peer whose adverts are dropped for a configuration mismatch", () => {
  it("is flagged in the status, logged once (then every minute), sent as an event, and cleared three intervals after the last", async () => {
    const events: unknown[] = [];
    rt = await startVrrpRuntime({
      instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] })],
      io: kernel.io(), clock: { now: () => Date.now() }, log: (l, m) => logs.push(`${l} ${m}`),
      onEvent: (e) => void (e.type === "peerMismatch" && events.push(e)),
    });
    for (let t = 0; t < 20; t++) {
      kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 200, ["10.0.0.101", "10.0.0.199"]));
      vi.advanceTimersByTime(100);
    }
    // Neither takes the other's adverts: this one became MASTER although a higher priority is on the wire.
    expect(state(rt, "A")).toBe("MASTER");
    const m = rt.status().instances[0].peerMismatch;
    expect(m).toMatchObject({ peer: "10.0.0.9", reason: "addressCountMismatch", adverts: 20 });
    expect(logs.filter((l) => l.includes("dropping the adverts of 10.0.0.9"))).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ instance: "A", peer: "10.0.0.9", over: false })]);
    vi.advanceTimersByTime(301);
    expect(rt.status().instances[0].peerMismatch).toBeNull();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ over: true });
  });

  it("a broken packet is not a configuration mismatch", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101"] })] });
    kernel.sockets[0].deliver(advertFrom("10.0.0.9", 1, 200, ["10.0.0.101"], { corrupt: true }));
    expect(r.status().instances[0].peerMismatch).toBeNull();
  });
});

describe("a VIP deleted by hand", () => {
  it("is added back and announced at once while MASTER; a BACKUP leaves it alone; our own deletions are not 'restored'", async () => {
    const r = await start({ instances: [inst({ name: "A", vrid: 1, vips: ["10.0.0.101", "10.0.0.102"], vipDetails: [{ address: "10.0.0.101/24" }] })] });
    vi.advanceTimersByTime(1000);
    const frames = kernel.frames.length;
    kernel.deleteAddress!("10.0.0.101", 24);
    expect([...kernel.addresses].sort()).toEqual(["10.0.0.101/24", "10.0.0.102/32"]);
    expect(kernel.frames.length - frames).toBe(5); // one burst, for that address only
    expect(logs.some((l) => l.includes("(A) virtual address 10.0.0.101/24 was deleted outside lbctl while MASTER; added it back"))).toBe(true);
    // A different prefix is not ours.
    kernel.deleteAddress!("10.0.0.102", 24);
    expect(kernel.addressLog.filter((x) => x === "add 10.0.0.102/32")).toHaveLength(1);
    // BACKUP: what we released stays released, and a late notification of our own deletion changes nothing.
    expect(r.forceBackup("A")).toEqual({ ok: true });
    const log = kernel.addressLog.length;
    kernel.deleteAddress!("10.0.0.101", 24);
    expect(kernel.addressLog.length).toBe(log);
    expect(kernel.addresses.size).toBe(0);
  });
});

describe("a node that cannot hear its peers never takes a VIP", () => {
  const master = () => inst({ name: "A", vrid: 7, priority: 255, initialState: "MASTER", vips: ["10.0.0.100"], vipDetails: [{ address: "10.0.0.100/24" }] });

  it("start fails, naming the cause, when the receive worker cannot run; nothing was sent or added", async () => {
    kernel.receiveReady = async () => { throw new Error("receive worker failed: ModuleNotFound"); };
    await expect(start({ instances: [master()] })).rejects.toThrow(/receive worker failed: ModuleNotFound/);
    vi.advanceTimersByTime(5000);
    expect(kernel.addressLog).toEqual([]);
    expect(kernel.sockets[0].sent).toEqual([]);
    expect(kernel.frames).toEqual([]);
    expect(kernel.sockets[0].closed).toBe(true);
  });

  it("no instance starts until the receive worker runs", async () => {
    let ready!: () => void;
    kernel.receiveReady = () => new Promise<void>((resolve) => { ready = resolve; });
    const starting = start({ instances: [master()] });
    await vi.advanceTimersByTimeAsync(2000);
    expect(kernel.sockets[0].sent).toEqual([]);
    expect(kernel.addressLog).toEqual([]);
    ready();
    const r = await starting;
    vi.advanceTimersByTime(1000);
    expect(state(r, "A")).toBe("MASTER");
  });

  it("a socket it may not open (EPERM) fails the start instead of leaving the instance out", async () => {
    const { SysError } = await import("../../ffi/libc.ts");
    kernel.openError = new SysError("socket", 1);
    await expect(start({ instances: [master()] })).rejects.toThrow(/cannot open the VRRP socket on eth0: socket: EPERM/);
  });

  it("a missing interface (ENODEV) stays that instance's problem", async () => {
    const { SysError } = await import("../../ffi/libc.ts");
    kernel.openError = new SysError("if_nametoindex", 19, "eth9");
    const r = await start({ instances: [master()] });
    expect(r.status().instances).toEqual([]);
    expect(logs.some((l) => /^error \(A\) cannot open the VRRP socket on eth0: .*ENODEV.* - instance not started$/.test(l))).toBe(true);
  });

  it("a receive worker that dies while MASTER: priority-0 advert, VIP released, then onFatal", async () => {
    const fatal: string[] = [];
    const r = await start({ instances: [master()] }, (cause) => fatal.push(cause));
    vi.advanceTimersByTime(1000);
    expect(state(r, "A")).toBe("MASTER");
    expect([...kernel.addresses]).toEqual(["10.0.0.100/24"]);
    kernel.sockets[0].fail({ code: "EWORKER", message: "receive worker failed: boom" });
    await vi.advanceTimersByTimeAsync(500);
    expect(fatal).toEqual(["receive path on eth0: receive worker failed: boom"]);
    expect(kernel.addresses.size).toBe(0);
    expect(sentAdverts(kernel.sockets[0]).at(-1)![1]).toBe(0);
    expect(kernel.sockets[0].closed).toBe(true);
    expect(logs).toContain("error receive path on eth0: receive worker failed: boom: stopping VRRP (a node that cannot hear its peers must not hold a VIP)");
  });

  it("a malformed packet is only counted", async () => {
    const fatal: string[] = [];
    await start({ instances: [master()] }, (cause) => fatal.push(cause));
    kernel.sockets[0].fail({ code: "EBADMSG", message: "too short" });
    expect(fatal).toEqual([]);
  });
});

describe("keywords the packet layer already had, now wired (check_unicast_src, skip_check_adv_addr, notify_master_rx_lower_pri)", () => {
  const unicastInstance = (check: boolean) => inst({ name: "U", vrid: 7, vips: ["10.0.0.107"], unicastPeers: ["10.0.0.2"], checkUnicastSrc: check });

  for (const check of [true, false]) {
    it(`check_unicast_src ${check ? "on: an advert from an address that is not a peer is dropped" : "off: it is taken"}`, async () => {
      const r = await start({ instances: [unicastInstance(check)] });
      const sock = kernel.sockets[0];
      // A stronger master, but at 10.0.0.9, which is not a configured peer.
      for (let t = 0; t < 10; t++) {
        sock.deliver(advertFrom("10.0.0.9", 7, 200, ["10.0.0.107"], { to: "10.0.0.1" }));
        vi.advanceTimersByTime(100);
      }
      const st = r.status().instances[0];
      if (check) {
        expect(st.state).toBe("MASTER");
        expect(st.masterAddress).toBe("10.0.0.1");
      } else {
        expect(st.state).toBe("BACKUP");
        expect(st.masterAddress).toBe("10.0.0.9");
      }
    });
  }

  for (const skip of [true, false]) {
    it(`skip_check_adv_addr ${skip ? "on: the known master's adverts are not checked for our addresses" : "off: an advert without our VIP is dropped"}`, async () => {
      const r = await start({ instances: [inst({ name: "S", vrid: 8, vips: ["10.0.0.108"], skipCheckAdvAddr: skip })] });
      const sock = kernel.sockets[0];
      // The first advert from a master is always checked (keepalived: only the same master is trusted).
      sock.deliver(advertFrom("10.0.0.9", 8, 200, ["10.0.0.108"]));
      for (let t = 0; t < 10; t++) {
        sock.deliver(advertFrom("10.0.0.9", 8, 200, ["10.0.0.199"]));
        vi.advanceTimersByTime(100);
      }
      const st = r.status().instances[0];
      expect(st.state).toBe(skip ? "BACKUP" : "MASTER");
      expect(st.stats.addressListErrors).toBe(skip ? 0 : 10);
    });
  }

  it("skip_check_adv_addr still checks an advert from a master it does not know", async () => {
    const r = await start({ instances: [inst({ name: "S", vrid: 8, vips: ["10.0.0.108"], skipCheckAdvAddr: true })] });
    const sock = kernel.sockets[0];
    for (let t = 0; t < 10; t++) {
      sock.deliver(advertFrom("10.0.0.9", 8, 200, ["10.0.0.199"]));
      vi.advanceTimersByTime(100);
    }
    expect(r.status().instances[0].state).toBe("MASTER");
    expect(r.status().instances[0].stats.addressListErrors).toBe(10);
  });

  it("notify_master_rx_lower_pri: a master that hears a lower priority runs the script with its own arguments only, as keepalived 2.2.7", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-rxlow-"));
    try {
      const script = join(dir, "rx.sh");
      const out = join(dir, "out");
      writeFileSync(script, `#!/bin/sh\necho "$#:$*" >> ${out}\n`, { mode: 0o755 });
      const r = await start({ instances: [inst({ name: "M", vrid: 9, vips: ["10.0.0.109"], notifyMasterRxLowerPri: `${script} one two` })] });
      vi.advanceTimersByTime(1000);
      expect(state(r, "M")).toBe("MASTER");
      expect(existsSync(out)).toBe(false);
      kernel.sockets[0].deliver(advertFrom("10.0.0.9", 9, 50, ["10.0.0.109"]));
      vi.useRealTimers(); // the script runs as a real process
      for (let i = 0; i < 100 && !existsSync(out); i++) await Bun.sleep(20);
      // keepalived's send_event_notify: notify_exec(script), no TYPE NAME STATE PRIORITY appended.
      expect(readFileSync(out, "utf8")).toBe("2:one two\n");
      expect(state(r, "M")).toBe("MASTER");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runtime: no_accept firewall", () => {
  /** A firewall that writes into the kernel's address log, so the order against address changes shows. */
  function fakeFirewall(): VipFirewall & { closed: number } {
    const f = {
      closed: 0,
      block: (owner: string, vips: readonly BlockedVip[]) => void kernel.addressLog.push(`block ${owner} ${vips.map((v) => v.address.join(".")).join(",")}`),
      unblock: (owner: string) => void kernel.addressLog.push(`unblock ${owner}`),
      removeStale: () => {},
      close: () => void f.closed++,
    };
    return f;
  }

  it("blocks before the VIPs go up and unblocks after they go; stop closes the firewall; accept blocks nothing", async () => {
    const firewall = fakeFirewall();
    rt = await startVrrpRuntime({
      instances: [
        inst({ name: "A", vrid: 7, vips: ["10.0.0.100"], accept: false, excludedVips: [{ address: "10.0.0.200/24" }] }),
        inst({ name: "B", vrid: 8, vips: ["10.0.0.101"], accept: true }),
        inst({ name: "O", vrid: 9, vips: ["10.0.0.102"], accept: false, priority: 255 }), // the owner always accepts
      ],
      io: kernel.io(), clock: { now: () => Date.now() }, log: (l, m) => logs.push(`${l} ${m}`), firewall,
    });
    vi.advanceTimersByTime(1000);
    expect(state(rt, "A")).toBe("MASTER");
    const a = kernel.addressLog.filter((l) => / A |10\.0\.0\.(100|200)/.test(l));
    expect(a).toEqual(["block A 10.0.0.100,10.0.0.200", "add 10.0.0.100/32", "add 10.0.0.200/24"]);
    expect(kernel.addressLog).toContain("block B ");
    expect(kernel.addressLog).toContain("block O ");
    await rt.stop();
    rt = null;
    const tail = kernel.addressLog.filter((l) => /A$|10\.0\.0\.(100|200)/.test(l)).slice(-3);
    expect(tail).toEqual(["del 10.0.0.200/24", "del 10.0.0.100/32", "unblock A"]);
    expect(firewall.closed).toBe(1);
  });

  it("a reload that changes a MASTER's VIPs or accept in place re-blocks exactly what it holds", async () => {
    const firewall = fakeFirewall();
    const a = inst({ name: "A", vrid: 7, vips: ["10.0.0.100"], accept: false });
    rt = await startVrrpRuntime({ instances: [a], io: kernel.io(), clock: { now: () => Date.now() }, log: (l, m) => logs.push(`${l} ${m}`), firewall });
    vi.advanceTimersByTime(1000);
    expect(state(rt, "A")).toBe("MASTER");
    await rt.reload({ instances: [{ ...a, vips: ["10.0.0.100", "10.0.0.101"] }] });
    await rt.reload({ instances: [{ ...a, vips: ["10.0.0.100", "10.0.0.101"], accept: true }] });
    expect(state(rt, "A")).toBe("MASTER");
    expect(kernel.addressLog.filter((l) => l.startsWith("block") || l === "add 10.0.0.101/32")).toEqual([
      "block A 10.0.0.100", "block A 10.0.0.100,10.0.0.101", "add 10.0.0.101/32", "block A ",
    ]);
  });
});
