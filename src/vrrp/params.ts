// Validation and keepalived-compatible normalisation of VrrpInstanceParams.

import { advertFieldError } from "./packet.ts";
import { parseIp } from "./inet.ts";
import { VRRP_PRIORITY_OWNER, type VrrpInstanceParams } from "./types.ts";

const MAX_PREEMPT_DELAY_MS = 1000 * 1000;

/** Every problem with the parameters, as messages naming the instance; empty when usable. */
export function validateParams(p: VrrpInstanceParams): string[] {
  const errors: string[] = [];
  const err = (msg: string) => errors.push(`(${p.name}) ${msg}`);
  if (!p.name) err("instance name is empty");
  if (p.family !== 4 && p.family !== 6) err(`address family must be 4 or 6, got ${String(p.family)}`);
  if (!Number.isInteger(p.priority) || p.priority < 1 || p.priority > 255) err(`priority must be 1..255, got ${p.priority}`);
  // The runtime may hand us "ah" from a config file; refuse it loudly rather than ignore it.
  const auth: string = p.authType;
  if (auth === "ah") err("auth_type AH (IPsec AH) is not supported; use PASS or no authentication");
  else if (auth !== "none" && auth !== "pass") err(`unknown auth_type ${auth}`);
  const fieldError = advertFieldError(
    {
      version: p.version,
      vrid: p.vrid,
      priority: p.priority,
      advertIntervalMs: p.advertIntervalMs,
      addresses: p.vips,
      authType: auth === "ah" ? "none" : p.authType,
      authPass: p.authPass,
    },
    p.family,
  );
  if (fieldError) err(fieldError);
  if (p.vips.length === 0 && p.version === 3) err("no VIP specified; VRRPv3 requires at least one");
  if (!parseIp(p.primaryIp, p.family)) err(`source address ${p.primaryIp} is not an IPv${p.family} address`);
  for (const peer of p.unicastPeers) if (!parseIp(peer, p.family)) err(`unicast peer ${peer} is not an IPv${p.family} address`);
  if (!Number.isFinite(p.preemptDelayMs) || p.preemptDelayMs < 0 || p.preemptDelayMs > MAX_PREEMPT_DELAY_MS)
    err(`preempt_delay must be 0..1000 s, got ${p.preemptDelayMs / 1000} s`);
  if (p.oldUnicastChecksum !== undefined && !["auto", "always", "never"].includes(p.oldUnicastChecksum))
    err(`old_unicast_checksum must be auto, always or never, got ${String(p.oldUnicastChecksum)}`);
  if (!Number.isInteger(p.downTimerAdverts) || p.downTimerAdverts < 1 || p.downTimerAdverts > 100)
    err(`down_timer_adverts must be 1..100, got ${p.downTimerAdverts}`);
  const nonNegative: [string, number][] = [
    ["garp_master_delay", p.garpMasterDelayMs],
    ["garp_master_repeat", p.garpMasterRepeat],
    ["garp_master_refresh", p.garpMasterRefreshMs],
    ["garp_master_refresh_repeat", p.garpMasterRefreshRepeat],
    ["garp_lower_prio_delay", p.garpLowerPrioDelayMs],
    ["garp_lower_prio_repeat", p.garpLowerPrioRepeat],
  ];
  for (const [name, value] of nonNegative) if (!Number.isFinite(value) || value < 0) err(`${name} must not be negative, got ${value}`);
  return errors;
}

/**
 * keepalived's silent fix-ups (vrrp.c vrrp_complete_instance), returned with the warnings it logs:
 * nopreempt is cleared for priority 255 and for state MASTER; preempt_delay is cleared for state MASTER
 * and for nopreempt; auth_pass keeps its first 8 characters.
 */
export function normalizeParams(p: VrrpInstanceParams): { params: VrrpInstanceParams; warnings: string[] } {
  const warnings: string[] = [];
  const out: VrrpInstanceParams = { ...p, vips: [...p.vips], unicastPeers: [...p.unicastPeers] };
  if (out.priority === VRRP_PRIORITY_OWNER && out.nopreempt) {
    warnings.push(`(${p.name}) nopreempt is incompatible with priority 255. resetting nopreempt`);
    out.nopreempt = false;
  }
  if (out.initialState === "MASTER") {
    if (out.nopreempt) {
      warnings.push(`(${p.name}) Warning - nopreempt will not work with initial state MASTER - clearing`);
      out.nopreempt = false;
    }
    if (out.preemptDelayMs) {
      warnings.push(`(${p.name}) Warning - preempt delay will not work with initial state MASTER - clearing`);
      out.preemptDelayMs = 0;
    }
  }
  if (out.preemptDelayMs && out.nopreempt) {
    warnings.push(`(${p.name}) preempt_delay is incompatible with nopreempt mode - resetting`);
    out.preemptDelayMs = 0;
  }
  if (out.authPass !== undefined && out.authPass.length > 8) out.authPass = out.authPass.slice(0, 8);
  return { params: out, warnings };
}
