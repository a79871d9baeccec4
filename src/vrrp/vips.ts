// Virtual addresses, routes and rules of VRRP instances (keepalived's virtual_ipaddress,
// virtual_ipaddress_excluded, virtual_routes, virtual_rules), applied with rtnetlink.
//
// Ownership: we remember exactly what each instance added and only ever delete that, so addresses an
// operator (or another program) configured are never touched; the one exception is clearStale(),
// which keepalived also does at startup (vrrp_scheduler.c vrrp_init_state -> vrrp_restore_interface
// with force: a configured VIP found on the interface of a BACKUP is deleted, so a restart after a
// crash does not leave a second copy of the VIP alive on a backup).
// Requests are synchronous (the kernel answers inside sendto), so the state machine's action order
// (advert, then VIPs, then GARPs) is kept exactly.
import * as libc from "../../ffi/libc.ts";
import { NetlinkError, type NetlinkRequest, type RequestOptions } from "../netlink/socket.ts";
import type { NetlinkMessage } from "../netlink/message.ts";
import {
  addressDumpRequest,
  addressRequest,
  parseAddressMessage,
  parsePrefix,
  routeRequest,
  ruleRequest,
  type AddressSpec,
  type RouteSpec,
  type RouteType,
  type RuleSpec,
  type ScopeName,
} from "../netlink/rtnetlink.ts";

export interface VipSpec {
  /** "10.0.0.100", "10.0.0.100/24", "2001:db8::100/64"; without a prefix /32 or /128 as keepalived. */
  address: string;
  /** Interface; default the instance's. */
  dev?: string;
  scope?: ScopeName;
  /** IPv4 label, e.g. "eth0:1". */
  label?: string;
  /** IPv4 broadcast, or "+" for the prefix's. */
  brd?: string;
}

export interface VirtualRoute {
  dst: string;
  via?: string;
  dev?: string;
  src?: string;
  table?: number;
  metric?: number;
  scope?: ScopeName;
  type?: RouteType;
}

export type VirtualRule = RuleSpec;

/** What an instance puts in place while MASTER. */
export interface VirtualSet {
  addresses: VipSpec[];
  routes: VirtualRoute[];
  rules: VirtualRule[];
}

/** The netlink calls needed (NetlinkSocket fits); injectable for tests. */
export interface NetlinkRequester {
  requestSync(req: NetlinkRequest, opts?: RequestOptions): NetlinkMessage[];
}

type Applied =
  | { kind: "address"; spec: AddressSpec; text: string }
  | { kind: "route"; spec: RouteSpec; text: string }
  | { kind: "rule"; spec: RuleSpec; text: string };

export type IfIndexLookup = (name: string) => number;

function request(op: "add" | "delete", item: Applied): NetlinkRequest {
  switch (item.kind) {
    case "address":
      return addressRequest(op, item.spec);
    case "route":
      return routeRequest(op, item.spec);
    case "rule":
      return ruleRequest(op, item.spec);
  }
}

/** The address with its prefix made explicit (keepalived's default is a host prefix). */
export function withPrefix(address: string): string {
  if (address.includes("/")) return address;
  return `${address}/${address.includes(":") ? 128 : 32}`;
}

/** The bare address of a VipSpec ("10.0.0.1/24" -> "10.0.0.1"). */
export function bareAddress(address: string): string {
  const slash = address.indexOf("/");
  return slash < 0 ? address : address.slice(0, slash);
}

function matches(a: Applied, ifindex: number, address: string, prefixlen: number): boolean {
  if (a.kind !== "address" || a.spec.ifindex !== ifindex) return false;
  const ours = parsePrefix(a.spec.address);
  if (ours.len !== prefixlen) return false;
  // Compared as bytes: the kernel's text form is canonical, the configured one need not be.
  let theirs: Uint8Array;
  try {
    theirs = parsePrefix(address).bytes;
  } catch {
    return false;
  }
  return theirs.length === ours.bytes.length && theirs.every((b, i) => b === ours.bytes[i]);
}

export class VipManager {
  private readonly applied = new Map<string, Applied[]>();

  constructor(
    private readonly nl: NetlinkRequester,
    private readonly log: (level: "info" | "warning" | "error", msg: string) => void,
    private readonly ifindex: IfIndexLookup = libc.ifNameToIndex,
  ) {}

  private addressSpec(v: VipSpec, defaultDev: string): AddressSpec {
    const address = withPrefix(v.address);
    const v6 = address.includes(":");
    return {
      ifindex: this.ifindex(v.dev ?? defaultDev),
      address,
      scope: v.scope,
      label: v6 ? undefined : v.label,
      broadcast: v6 ? undefined : v.brd,
      // keepalived adds IPv6 VIPs with IFA_F_NODAD: usable at once, no tentative period after failover.
      nodad: v6,
    };
  }

  private routeSpec(r: VirtualRoute, defaultDev: string): RouteSpec {
    return {
      dst: r.dst,
      via: r.via,
      src: r.src,
      table: r.table,
      metric: r.metric,
      scope: r.scope,
      type: r.type,
      ifindex: r.dev || !r.via ? this.ifindex(r.dev ?? defaultDev) : undefined,
    };
  }

  /** Each entry of `set`, described first, so a spec that cannot even be built is reported by name. */
  private entries(set: VirtualSet, defaultDev: string): { what: string; make: () => Applied }[] {
    return [
      ...set.addresses.map((v) => ({
        what: `address ${v.address}`,
        make: (): Applied => {
          const spec = this.addressSpec(v, defaultDev);
          return { kind: "address", spec, text: `${spec.address} dev ${v.dev ?? defaultDev}` };
        },
      })),
      ...set.routes.map((r) => ({
        what: `route ${r.dst}`,
        make: (): Applied => ({ kind: "route", spec: this.routeSpec(r, defaultDev), text: `${r.dst}${r.via ? ` via ${r.via}` : ""}${r.table ? ` table ${r.table}` : ""}` }),
      })),
      ...set.rules.map((r) => ({ what: `rule ${JSON.stringify(r)}`, make: (): Applied => ({ kind: "rule", spec: r, text: JSON.stringify(r) }) })),
    ];
  }

  /** Adds everything in `set` for `owner`; what fails is logged and skipped. Returns the count of failures. */
  apply(owner: string, set: VirtualSet, defaultDev: string): number {
    const list = this.applied.get(owner) ?? [];
    this.applied.set(owner, list);
    let failures = 0;
    for (const { what, make } of this.entries(set, defaultDev)) {
      let item: Applied | null = null;
      try {
        item = make();
        const text = item.text;
        if (list.some((a) => a.kind === item!.kind && a.text === text)) continue;
        this.nl.requestSync(request("add", item), { what: `add ${item.kind} ${text}` });
        list.push(item);
      } catch (e) {
        failures++;
        this.log("error", `(${owner}) cannot add ${item ? `${item.kind} ${item.text}` : what}: ${(e as Error).message}`);
      }
    }
    return failures;
  }

  /**
   * A reload while MASTER: removes what `owner` has in place and `set` no longer holds, adds what is new,
   * and leaves the rest untouched (an address deleted and re-added would drop connections to it).
   * Returns the addresses it added, the only ones to announce with gratuitous ARPs / NAs.
   */
  update(owner: string, set: VirtualSet, defaultDev: string): { added: string[]; removed: string[]; failures: number } {
    const list = this.applied.get(owner) ?? [];
    const wanted = new Set<string>();
    for (const { make } of this.entries(set, defaultDev)) {
      try {
        const item = make();
        wanted.add(`${item.kind} ${item.text}`);
      } catch {
        // Reported by apply() below.
      }
    }
    const removed: string[] = [];
    const kept: Applied[] = [];
    // Rules, then routes, then addresses, as release() does.
    for (const item of [...list].reverse()) {
      if (wanted.has(`${item.kind} ${item.text}`)) {
        kept.unshift(item);
        continue;
      }
      try {
        this.nl.requestSync(request("delete", item), { what: `delete ${item.kind} ${item.text}` });
      } catch (e) {
        this.log("warning", `(${owner}) cannot delete ${item.kind} ${item.text}: ${(e as Error).message}`);
      }
      removed.push(`${item.kind} ${item.text}`);
    }
    this.applied.set(owner, kept);
    const before = new Set(kept.map((a) => `${a.kind} ${a.text}`));
    const failures = this.apply(owner, set, defaultDev);
    const added = (this.applied.get(owner) ?? []).filter((a) => a.kind === "address" && !before.has(`${a.kind} ${a.text}`)).map((a) => bareAddress((a.spec as AddressSpec).address));
    return { added, removed, failures };
  }

  /** Removes everything `owner` added, rules first, then routes, then addresses (reverse order). */
  release(owner: string): void {
    const list = this.applied.get(owner);
    if (!list) return;
    this.applied.delete(owner);
    for (const item of [...list].reverse()) {
      try {
        this.nl.requestSync(request("delete", item), { what: `delete ${item.kind} ${item.text}` });
      } catch (e) {
        // Already gone (e.g. the interface went away) is fine; anything else is worth a line.
        this.log("warning", `(${owner}) cannot delete ${item.kind} ${item.text}: ${(e as Error).message}`);
      }
    }
  }

  /** The owner of an address we added (as the kernel reports it: interface, address, prefix), or null. */
  ownerOf(ifindex: number, address: string, prefixlen: number): string | null {
    for (const [owner, list] of this.applied) if (list.some((a) => matches(a, ifindex, address, prefixlen))) return owner;
    return null;
  }

  /**
   * Adds back an address of `owner` that was deleted behind our back. "present": it is there (we deleted
   * and re-added it ourselves before the notification came).
   */
  restore(owner: string, ifindex: number, address: string, prefixlen: number): "restored" | "present" | { error: string } {
    const item = (this.applied.get(owner) ?? []).find((a) => matches(a, ifindex, address, prefixlen));
    if (!item) return { error: "not ours" };
    try {
      this.nl.requestSync(request("add", item), { what: `add ${item.kind} ${item.text}` });
      return "restored";
    } catch (e) {
      if (e instanceof NetlinkError && e.code === "EEXIST") return "present";
      return { error: (e as Error).message };
    }
  }

  /** What `owner` has in place (for status and tests). */
  owned(owner: string): string[] {
    return (this.applied.get(owner) ?? []).map((a) => `${a.kind} ${a.text}`);
  }

  owners(): string[] {
    return [...this.applied.keys()].filter((o) => (this.applied.get(o) ?? []).length > 0);
  }

  /**
   * The owners (of those given) whose addresses are all present on their interfaces: what a VRRP process
   * that died left in place. One address dump.
   */
  holding(instances: readonly { owner: string; addresses: readonly VipSpec[]; defaultDev: string }[]): Set<string> {
    const out = new Set<string>();
    const candidates = instances.filter((i) => i.addresses.length > 0);
    if (candidates.length === 0) return out;
    const present = this.presentAddresses("cannot list addresses");
    if (!present) return out;
    for (const { owner, addresses, defaultDev } of candidates) {
      const all = addresses.every((v) => {
        try {
          const spec = this.addressSpec(v, defaultDev);
          return present.some((a) => a !== null && matches({ kind: "address", spec, text: "" }, a.ifindex, a.address, a.prefixlen));
        } catch {
          return false;
        }
      });
      if (all) out.add(owner);
    }
    return out;
  }

  /** Every address on the system (one dump); null, logged with `failure`, when it cannot be read. */
  private presentAddresses(failure: string): ReturnType<typeof parseAddressMessage>[] | null {
    try {
      return this.nl.requestSync(addressDumpRequest(), { dump: true, what: "dump addresses" }).map(parseAddressMessage);
    } catch (e) {
      this.log("error", `${failure}: ${(e as Error).message}`);
      return null;
    }
  }

  /** Records addresses already in place as `owner`'s (see holding()), without adding them. */
  adopt(owner: string, addresses: readonly VipSpec[], defaultDev: string): void {
    const list = this.applied.get(owner) ?? [];
    this.applied.set(owner, list);
    for (const { make } of this.entries({ addresses: [...addresses], routes: [], rules: [] }, defaultDev)) {
      try {
        const item = make();
        if (!list.some((a) => a.kind === item.kind && a.text === item.text)) list.push(item);
      } catch {
        // holding() found it, so it can be built
      }
    }
  }

  /**
   * keepalived's startup clean-up: configured addresses already present on their interface are deleted
   * (they are stale copies from a crashed run; the instances start in BACKUP). One address dump serves
   * every instance given. Returns what was removed.
   */
  clearStale(instances: readonly { owner: string; addresses: readonly VipSpec[]; defaultDev: string }[]): string[] {
    if (instances.every((i) => i.addresses.length === 0)) return [];
    const present = this.presentAddresses("cannot list addresses to remove stale VIPs");
    if (!present) return [];
    const removed: string[] = [];
    for (const { owner, addresses, defaultDev } of instances) {
      for (const v of addresses) {
        let spec: AddressSpec;
        try {
          spec = this.addressSpec(v, defaultDev);
        } catch {
          continue; // reported when applied
        }
        const want = parsePrefix(spec.address);
        const bare = bareAddress(spec.address);
        const found = present.find((a) => a && a.ifindex === spec.ifindex && a.address === bare && a.prefixlen === want.len);
        if (!found) continue;
        try {
          this.nl.requestSync(addressRequest("delete", spec), { what: `delete stale ${spec.address}` });
          removed.push(spec.address);
          this.log("info", `(${owner}) removed stale virtual address ${spec.address} dev ${v.dev ?? defaultDev} left from an earlier run`);
        } catch (e) {
          this.log("warning", `(${owner}) cannot remove stale ${spec.address}: ${(e as Error).message}`);
        }
      }
    }
    return removed;
  }
}
