// net_namespace_ipvs: the IPVS generic netlink socket is opened with the thread in that namespace
// (keepalived's nl_ipvs_connect), so every request on it reaches that namespace's IPVS. This kernel
// has no IPVS, so the system side is a model: which namespace the thread was in when the socket was made.
import { describe, expect, it } from "vitest";
import { IpvsClient, IPVS_UNAVAILABLE, type IpvsOpenIo } from "../../src/ipvs/client.ts";
import { NetlinkError, type NetlinkSocket } from "../../src/netlink/socket.ts";

function model(opts: { missing?: string[] } = {}) {
  let current = "own";
  const opened: { ns: string; closed: boolean }[] = [];
  const io: IpvsOpenIo = {
    openSocket() {
      const rec = { ns: current, closed: false };
      opened.push(rec);
      // The family lookup fails as on this kernel: IPVS is not there.
      return {
        requestSync() { throw new NetlinkError("resolve generic netlink family 'IPVS'", 2); },
        close() { rec.closed = true; },
      } as unknown as NetlinkSocket;
    },
    inNamespace(path, fn) {
      if (opts.missing?.includes(path)) throw new Error(`network namespace ${path} does not exist`);
      const home = current;
      current = path;
      try { return fn(); } finally { current = home; }
    },
  };
  return { io, opened, now: () => current };
}

describe("IpvsClient.open and net_namespace_ipvs", () => {
  it("opens the socket in the daemon's own namespace without net_namespace_ipvs", async () => {
    const m = model();
    const r = await IpvsClient.open({ io: m.io });
    expect(r).toEqual({ ok: false, error: IPVS_UNAVAILABLE, code: "ENOENT" });
    expect(m.opened).toEqual([{ ns: "own", closed: true }]);
  });

  it("opens it in the named namespace, and the thread comes back", async () => {
    const m = model();
    await IpvsClient.open({ io: m.io, netnsPath: "/run/netns/lvs" });
    expect(m.opened.map((o) => o.ns)).toEqual(["/run/netns/lvs"]);
    expect(m.now()).toBe("own");
  });

  it("says net_namespace_ipvs when the namespace cannot be entered, and opens nothing", async () => {
    const m = model({ missing: ["/run/netns/gone"] });
    const r = await IpvsClient.open({ io: m.io, netnsPath: "/run/netns/gone" });
    expect(r).toEqual({ ok: false, error: "net_namespace_ipvs: network namespace /run/netns/gone does not exist" });
    expect(m.opened).toEqual([]);
  });
});
