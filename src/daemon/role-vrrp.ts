// The VRRP child: maps each configuration onto the VRRP runtime and reports its state.
// It runs nothing else, so its heap stays small and its timers precise (see architecture.md).
import type { GlobalDefsConfig } from "../config/spec/global.ts";
import type { Model } from "../config/schema.ts";
import { IFA_F_SECONDARY, Rtnl, type AddressInfo } from "../netlink/rtnetlink.ts";
import { lookupUser } from "../util/users.ts";
import { startVrrpRuntime, type RuntimeStatus, type VrrpRuntime } from "../vrrp/runtime.ts";
import type { RoleFactory, RoleWorker } from "./role.ts";
import { vrrpRuntimeConfig, type PrimaryAddressLookup } from "./vrrp-config.ts";

const STATUS_EVERY_MS = 2000;

/**
 * keepalived runs VRRP at normal priority unless vrrp_rt_priority is set; lbctl defaults to a
 * low real-time priority instead, because a JavaScript runtime on a busy machine misses 100 ms
 * adverts without it (bench/vrrp-load: spurious takeovers with both cores loaded). Threads the
 * child creates afterwards (the receive worker) inherit it. vrrp_rt_priority overrides it.
 */
export const DEFAULT_VRRP_RT_PRIORITY = 5;

/**
 * keepalived sends from the interface's primary IPv4 address and, for IPv6, its link-local
 * address. Addresses that are some instance's VIP are never chosen.
 */
export function primaryAddressFrom(links: Map<string, number>, addrs: AddressInfo[], vips: Set<string>): PrimaryAddressLookup {
  return (ifname, family) => {
    const index = links.get(ifname);
    if (index === undefined) return undefined;
    const mine = addrs.filter((a) => a.ifindex === index && a.family === family && !vips.has(a.address));
    if (family === 4) return (mine.find((a) => (a.flags & IFA_F_SECONDARY) === 0) ?? mine[0])?.address;
    return mine.find((a) => a.address.toLowerCase().startsWith("fe80:"))?.address ?? mine[0]?.address;
  };
}

function configuredVips(effective: Model): Set<string> {
  const out = new Set<string>();
  for (const inst of Object.values((effective.vrrp_instance ?? {}) as Record<string, { virtual_ipaddress?: { address: string }[] }>))
    for (const v of inst.virtual_ipaddress ?? []) out.add(v.address);
  return out;
}

async function primaryLookup(effective: Model): Promise<PrimaryAddressLookup> {
  const rtnl = Rtnl.open();
  try {
    const links = new Map((await rtnl.links()).map((l) => [l.name, l.index] as [string, number]));
    return primaryAddressFrom(links, await rtnl.addresses(), configuredVips(effective));
  } finally {
    rtnl.close();
  }
}

/** The runtime keeps time on the monotonic clock; the API speaks wall-clock milliseconds. */
function wallClockStatus(s: RuntimeStatus, nowWall = Date.now(), nowMono = performance.now()): RuntimeStatus {
  return {
    ...s,
    instances: s.instances.map((i) => (i.lastTransition ? { ...i, lastTransition: { ...i.lastTransition, at: Math.round(nowWall - (nowMono - i.lastTransition.at)) } } : i)),
  };
}

const vrrpRole: RoleFactory = (ctx): RoleWorker => {
  let runtime: VrrpRuntime | null = null;
  let statusTimer: ReturnType<typeof setInterval> | null = null;
  const publish = () => { if (runtime) ctx.send({ type: "status", status: wallClockStatus(runtime.status()) as unknown as Record<string, unknown> }); };

  return {
    async configure(effective, reload) {
      const { config, problems } = vrrpRuntimeConfig(effective, {
        primaryAddress: await primaryLookup(effective),
        user: (u, g) => lookupUser(u, g),
      });
      for (const p of problems) ctx.log("err", `(${p.instance}) not started: ${p.message}`, p.instance);
      if (!runtime) {
        const global = (effective.global_defs ?? {}) as Partial<GlobalDefsConfig>;
        runtime = await startVrrpRuntime({
          ...config,
          realtimePriority: global.vrrp_rt_priority ?? DEFAULT_VRRP_RT_PRIORITY,
          log: (level, message) => ctx.log(level === "error" ? "err" : level, message),
          onEvent: (event) => {
            if (event.type === "transition") {
              ctx.send({ type: "event", event: { ...event, at: Math.round(Date.now() - (performance.now() - event.at)) } });
              publish();
            }
          },
        });
        statusTimer = setInterval(publish, STATUS_EVERY_MS);
      } else if (reload) {
        const r = await runtime.reload(config);
        for (const e of r.errors) ctx.log("err", e);
        ctx.log("info", `reload: ${r.kept.length} kept, ${r.started.length} started, ${r.restarted.length} restarted, ${r.removed.length} removed`);
      }
      publish();
    },
    async stop() {
      if (statusTimer) clearInterval(statusTimer);
      await runtime?.stop();
      runtime = null;
    },
    async action(action, args) {
      if (!runtime) return { ok: false, message: "VRRP is not running" };
      const name = args.instance ?? "";
      const r = action === "force-backup" ? runtime.forceBackup(name) : action === "resume" ? runtime.resume(name) : { ok: false as const, error: `unknown action '${action}'` };
      publish();
      return r.ok ? { ok: true, message: `${action} ${name}` } : { ok: false, message: r.error };
    },
  };
};
export default vrrpRole;
