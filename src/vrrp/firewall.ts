// Shell around firewall-plan.ts: sends its request lists to the kernel as nf_tables batches over a
// NETLINK_NETFILTER socket (opened on first use, so a config without no_accept never opens one).
// Failures are logged, never thrown: like keepalived, an instance still takes its VIPs when the
// firewall cannot be set (the address is reachable then, which is what lbctl did before).
import { NetlinkError, NetlinkSocket, type NetlinkRequest } from "../netlink/socket.ts";
import { NETLINK_NETFILTER, NFPROTO_IPV4, NFPROTO_IPV6, delTable, encodeBatch, getTable, type NfFamily } from "../netlink/nftables.ts";
import { NftVipPlan, type BlockedVip, type NftSettings } from "./firewall-plan.ts";

/** What the VRRP runtime needs: block an instance's VIPs while it holds them, and remove it all on stop. */
export interface VipFirewall {
  /** `owner` now blocks exactly `vips` (call again after changing a held instance's VIPs: it diffs). */
  block(owner: string, vips: readonly BlockedVip[]): void;
  unblock(owner: string): void;
  /** Removes a table of ours left by a killed earlier run (keepalived does it at its first set-up). */
  removeStale(): void;
  /** Deletes our tables and closes the socket; a later block() starts again. */
  close(): void;
}

/** The socket calls the firewall makes (a NetlinkSocket; a fake in tests). */
export interface NetfilterSocket {
  requestSync(req: NetlinkRequest, opts?: { what?: string }): unknown[];
  reserveSeqs(n: number): number;
  transactSync(bytes: Uint8Array, seqs: readonly number[], opts?: { what?: string }): ({ ok: true } | { ok: false; error: Error })[];
  close(): void;
}

type Log = (level: "info" | "warning" | "error", msg: string) => void;

export class NftVipFirewall implements VipFirewall {
  private readonly plan: NftVipPlan;
  private sock: NetfilterSocket | null = null;

  constructor(
    readonly settings: NftSettings,
    private readonly log: Log,
    private readonly open: () => NetfilterSocket = () => NetlinkSocket.open(NETLINK_NETFILTER),
  ) {
    this.plan = new NftVipPlan(settings);
  }

  block(owner: string, vips: readonly BlockedVip[]): void {
    if (vips.length === 0) return this.unblock(owner);
    const stale = this.plan.firstSetup ? this.staleTables() : { ipv4: false, ipv6: false };
    if (stale.ipv4 || stale.ipv6) this.log("info", `deleting old nftables table ${this.settings.table} (${[stale.ipv4 && "ip", stale.ipv6 && "ip6"].filter(Boolean).join(", ")})`);
    const before = this.plan.snapshot();
    if (!this.send(this.plan.block(owner, vips, stale), `(${owner}) nftables: block traffic to ${vips.length} VIP(s)`)) this.plan.restore(before);
  }

  unblock(owner: string): void {
    const before = this.plan.snapshot();
    if (!this.send(this.plan.unblock(owner), `(${owner}) nftables: unblock VIPs`)) this.plan.restore(before);
  }

  removeStale(): void {
    if (!this.plan.firstSetup) return;
    // Quiet when nf_tables cannot be asked (no kernel support, no privilege): nothing of ours can be there,
    // and a config that never blocks should not warn about it.
    const stale = this.staleTables(true);
    const dels: NetlinkRequest[] = [];
    // A batch of DELTABLEs only: the plan's own set-up would re-check and find nothing.
    for (const [family, here] of [[NFPROTO_IPV4, stale.ipv4], [NFPROTO_IPV6, stale.ipv6]] as const) {
      if (here) dels.push(delTable(family, this.settings.table));
    }
    if (dels.length === 0) return;
    this.log("info", `deleting old nftables table ${this.settings.table} left by an earlier run`);
    this.send(dels, "nftables: delete old table");
  }

  close(): void {
    if (this.plan.active) this.send(this.plan.cleanup(), `nftables: delete table ${this.settings.table}`);
    this.sock?.close();
    this.sock = null;
  }

  private socket(): NetfilterSocket {
    this.sock ??= this.open();
    return this.sock;
  }

  /** Which families already have a table of our name (GETTABLE answers ENOENT when not). */
  private staleTables(quiet = false): { ipv4: boolean; ipv6: boolean } {
    const has = (family: NfFamily): boolean => {
      try {
        return this.socket().requestSync(getTable(family, this.settings.table), { what: `nftables: look for table ${this.settings.table}` }).length > 0;
      } catch (e) {
        if (!quiet && !(e instanceof NetlinkError && e.code === "ENOENT")) this.log("warning", (e as Error).message);
        return false;
      }
    };
    return { ipv4: has(NFPROTO_IPV4), ipv6: has(NFPROTO_IPV6) };
  }

  /** Sends one batch; false (logged) when the kernel did not apply it. */
  private send(reqs: NetlinkRequest[], what: string): boolean {
    if (reqs.length === 0) return true;
    try {
      const sock = this.socket();
      const { bytes, seqs } = encodeBatch(reqs, sock.reserveSeqs(reqs.length + 2));
      // The kernel applies a batch whole or not at all, and then also ACKs the requests that were fine.
      const failed = sock.transactSync(bytes, seqs, { what }).find((r) => !r.ok);
      if (failed && !failed.ok) {
        this.log("error", failed.error.message);
        return false;
      }
      return true;
    } catch (e) {
      this.log("error", `${what}: ${(e as Error).message}`);
      return false;
    }
  }
}
