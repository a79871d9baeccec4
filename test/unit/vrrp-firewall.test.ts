// NftVipFirewall (the shell around firewall-plan.ts) on a fake netfilter socket: when it opens the
// socket, what it asks before the first set-up, batches framed whole, failures logged and never thrown.
import { describe, expect, it } from "vitest";

import { decodeNlMsgs } from "../../src/netlink/message.ts";
import { NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFT_MSG_DELTABLE, NFT_MSG_GETTABLE, NFT_MSG_NEWSETELEM, NFT_MSG_NEWTABLE } from "../../src/netlink/nftables.ts";
import { NetlinkError, type NetlinkRequest } from "../../src/netlink/socket.ts";
import { parseIPv4 } from "../../src/net/inet.ts";
import { DEFAULT_NFT_SETTINGS, firewallVips } from "../../src/vrrp/firewall-plan.ts";
import { NftVipFirewall, type NetfilterSocket } from "../../src/vrrp/firewall.ts";

const cmd = (type: number) => type & 0xff;

function fakeSocket(o: { tables?: ("ip" | "ip6")[]; failBatch?: string } = {}) {
  const log: string[] = [];
  let opened = 0;
  let closed = 0;
  let seq = 1000;
  const sock: NetfilterSocket = {
    requestSync(req: NetlinkRequest) {
      const family = req.payload![0] === 2 ? "ip" : "ip6";
      log.push(`get ${family}`);
      if (cmd(req.type) !== NFT_MSG_GETTABLE) throw new Error("unexpected request");
      if (!(o.tables ?? []).includes(family)) throw new NetlinkError("get table", 2); // ENOENT
      return [{}];
    },
    reserveSeqs(n) { const first = seq; seq += n; return first; },
    transactSync(bytes, seqs) {
      const msgs = decodeNlMsgs(bytes);
      expect(msgs[0].header.type).toBe(NFNL_MSG_BATCH_BEGIN);
      expect(msgs.at(-1)!.header.type).toBe(NFNL_MSG_BATCH_END);
      expect(msgs.slice(1, -1).map((m) => m.header.seq)).toEqual(seqs);
      log.push(`batch ${msgs.slice(1, -1).map((m) => cmd(m.header.type)).join(",")}`);
      if (o.failBatch) return seqs.map((_, i) => (i === 0 ? { ok: false as const, error: new Error(o.failBatch) } : { ok: true as const }));
      return seqs.map(() => ({ ok: true as const }));
    },
    close() { closed++; },
  };
  return { log, sock, open: () => (opened++, sock), opened: () => opened, closed: () => closed };
}

const vip = (a: string) => ({ address: parseIPv4(a)!, ifindex: 2, ifname: "eth0", byName: false });

describe("NftVipFirewall", () => {
  it("opens no socket for an instance that blocks nothing", () => {
    const f = fakeSocket();
    const fw = new NftVipFirewall(DEFAULT_NFT_SETTINGS, () => {}, f.open);
    fw.block("A", []);
    fw.unblock("A");
    fw.close();
    expect(f.opened()).toBe(0);
  });

  it("looks for stale tables once, before the first set-up; deletes them in that batch; close deletes ours", () => {
    const f = fakeSocket({ tables: ["ip6"] });
    const logs: string[] = [];
    const fw = new NftVipFirewall(DEFAULT_NFT_SETTINGS, (l, m) => logs.push(`${l} ${m}`), f.open);
    fw.block("A", [vip("10.0.0.1")]);
    fw.block("B", [vip("10.0.0.2")]);
    fw.unblock("A");
    fw.close();
    expect(f.log).toEqual([
      "get ip", "get ip6",
      `batch ${NFT_MSG_DELTABLE},${NFT_MSG_NEWTABLE},3,3,9,6,6,${NFT_MSG_NEWSETELEM}`,
      `batch ${NFT_MSG_NEWSETELEM}`,
      "batch 14",
      `batch ${NFT_MSG_DELTABLE}`,
    ]);
    expect(logs).toEqual(["info deleting old nftables table keepalived (ip6)"]);
    expect(f.closed()).toBe(1);
  });

  it("removeStale at start deletes what a crashed run left, and only before any set-up", () => {
    const f = fakeSocket({ tables: ["ip", "ip6"] });
    const fw = new NftVipFirewall({ ...DEFAULT_NFT_SETTINGS, table: "lb" }, () => {}, f.open);
    fw.removeStale();
    expect(f.log).toEqual(["get ip", "get ip6", `batch ${NFT_MSG_DELTABLE},${NFT_MSG_DELTABLE}`]);
    const quiet = fakeSocket();
    const fw2 = new NftVipFirewall(DEFAULT_NFT_SETTINGS, () => {}, quiet.open);
    fw2.removeStale();
    expect(quiet.log).toEqual(["get ip", "get ip6"]);
  });

  it("removeStale says nothing when nf_tables cannot be asked (a config that never blocks must not warn)", () => {
    const logs: string[] = [];
    const fw = new NftVipFirewall(DEFAULT_NFT_SETTINGS, (l, m) => logs.push(`${l} ${m}`), () => { throw new NetlinkError("socket", 93); });
    fw.removeStale();
    fw.close();
    expect(logs).toEqual([]);
  });

  it("a batch the kernel rejects is logged with its cause, not thrown", () => {
    const f = fakeSocket({ failBatch: "nftables: block: EPERM Operation not permitted" });
    const logs: string[] = [];
    const fw = new NftVipFirewall(DEFAULT_NFT_SETTINGS, (l, m) => logs.push(`${l} ${m}`), f.open);
    expect(() => fw.block("A", [vip("10.0.0.1")])).not.toThrow();
    expect(logs).toEqual(["error nftables: block: EPERM Operation not permitted"]);
    // nothing was applied, so the next attempt builds the table again
    f.log.length = 0;
    fw.block("A", [vip("10.0.0.1")]);
    expect(f.log).toEqual(["get ip", "get ip6", `batch ${NFT_MSG_NEWTABLE},3,3,9,6,6,${NFT_MSG_NEWSETELEM}`]);
    const broken = new NftVipFirewall(DEFAULT_NFT_SETTINGS, (l, m) => logs.push(`${l} ${m}`), () => { throw new Error("socket: EPROTONOSUPPORT"); });
    broken.block("A", [vip("10.0.0.1")]);
    expect(logs.at(-1)).toBe("error (A) nftables: block traffic to 1 VIP(s): socket: EPROTONOSUPPORT");
  });
});

describe("firewallVips", () => {
  const addrs = [{ address: "10.0.0.1/24" }, { address: "fe80::1/64" }, { address: "fe80::2", dev: "eth1" }];
  const idx = (n: string) => (n === "eth0" ? 2 : n === "eth1" ? 3 : 0);

  it("none for accept or the address owner (priority 255)", () => {
    expect(firewallVips({ accept: true, priority: 100 }, addrs, "eth0", idx)).toEqual([]);
    expect(firewallVips({ accept: false, priority: 255 }, addrs, "eth0", idx)).toEqual([]);
  });

  it("each VIP with its interface; by name only for dont_track_primary on the instance's interface", () => {
    const v = firewallVips({ accept: false, priority: 100, dontTrackPrimary: true }, addrs, "eth0", idx);
    expect(v.map((x) => [x.address.length, x.ifname, x.ifindex, x.byName])).toEqual([[4, "eth0", 2, true], [16, "eth0", 2, true], [16, "eth1", 3, false]]);
    const missing = firewallVips({ accept: false, priority: 100 }, [{ address: "10.0.0.1" }], "gone", () => { throw new Error("ENODEV"); });
    expect(missing[0].ifindex).toBe(0);
  });
});
