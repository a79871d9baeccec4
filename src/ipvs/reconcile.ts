// Pure IPVS reconciler: desired table + kernel table + which services lbctl owns -> the smallest ordered
// list of operations that makes the owned part of the kernel table equal to the desired one.
// Services lbctl does not own (made by ipvsadm, another daemon, ...) are left alone unless `flush` is set.
import { validateDestConfig, validateServiceConfig } from "./codec.ts";
import {
  describeService, destKeyId, serviceKeyId, type DestConfig, type DestKey, type ServiceConfig, type ServiceKey,
  type ServiceWithDests, type TunnelOptions,
} from "./types.ts";

export type IpvsOp =
  | { op: "flush" }
  | { op: "delete-dest"; service: ServiceKey; dest: DestKey }
  | { op: "delete-service"; service: ServiceKey }
  | { op: "add-service"; service: ServiceConfig }
  | { op: "edit-service"; service: ServiceConfig }
  | { op: "add-dest"; service: ServiceKey; dest: DestConfig }
  | { op: "edit-dest"; service: ServiceKey; dest: DestConfig };

export interface ReconcileOptions {
  /** serviceKeyId()s of the services lbctl created earlier (and may therefore delete). */
  owned: ReadonlySet<string>;
  /** Also remove services lbctl does not own (the table becomes exactly the desired one). */
  flush?: boolean;
}

export type ReconcileResult =
  | { ok: true; ops: IpvsOp[]; /** Ownership after the ops are applied: the desired services. */ owned: Set<string> }
  | { ok: false; errors: string[] };

/** Checks a desired table: every service and destination valid, no duplicate service or destination. */
export function validateDesired(desired: readonly ServiceWithDests[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const { service, dests } of desired) {
    const name = describeService(service.key);
    for (const e of validateServiceConfig(service)) errors.push(`${name}: ${e}`);
    const id = serviceKeyId(service.key);
    if (seen.has(id)) errors.push(`${name}: listed twice`);
    seen.add(id);
    const destSeen = new Set<string>();
    for (const d of dests) {
      for (const e of validateDestConfig(d)) errors.push(`${name} -> ${d.address}:${d.port}: ${e}`);
      const did = destKeyId(d);
      if (destSeen.has(did)) errors.push(`${name}: destination ${did} listed twice`);
      destSeen.add(did);
    }
  }
  return errors;
}

/** Attributes the kernel lets us change with SET_SERVICE. */
export function sameServiceSettings(a: ServiceConfig, b: ServiceConfig): boolean {
  return a.scheduler === b.scheduler && a.flags === b.flags && a.timeout === b.timeout && a.netmask === b.netmask &&
    a.peName === b.peName;
}

const NO_TUNNEL: TunnelOptions = { type: "ipip", port: 0, flags: 0 };

/** Attributes the kernel lets us change with SET_DEST (all but the address). */
export function sameDestSettings(a: DestConfig, b: DestConfig): boolean {
  const ta = a.tunnel ?? NO_TUNNEL, tb = b.tunnel ?? NO_TUNNEL;
  return a.method === b.method && a.weight === b.weight && a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold && ta.type === tb.type && ta.port === tb.port && ta.flags === tb.flags;
}

export function reconcile(
  desired: readonly ServiceWithDests[],
  current: readonly ServiceWithDests[],
  options: ReconcileOptions,
): ReconcileResult {
  const errors = validateDesired(desired);
  if (errors.length > 0) return { ok: false, errors };

  const currentById = new Map(current.map((s) => [serviceKeyId(s.service.key), s]));
  const desiredIds = new Set(desired.map((s) => serviceKeyId(s.service.key)));
  const removable = current.filter((s) => {
    const id = serviceKeyId(s.service.key);
    return !desiredIds.has(id) && (options.flush || options.owned.has(id));
  });

  // Deleting a service takes its destinations with it; one FLUSH does the same for the whole table.
  const deletions: IpvsOp[] = [];
  const flushAll = options.flush === true && removable.length >= 2 && removable.length === current.length;
  if (flushAll) deletions.push({ op: "flush" });
  else for (const s of removable) deletions.push({ op: "delete-service", service: s.service.key });

  const destDeletes: IpvsOp[] = [];
  const serviceChanges: IpvsOp[] = [];
  const destChanges: IpvsOp[] = [];
  for (const want of desired) {
    const key = want.service.key;
    const have = flushAll ? undefined : currentById.get(serviceKeyId(key));
    if (!have) {
      serviceChanges.push({ op: "add-service", service: want.service });
      for (const d of want.dests) destChanges.push({ op: "add-dest", service: key, dest: d });
      continue;
    }
    if (!sameServiceSettings(want.service, have.service)) serviceChanges.push({ op: "edit-service", service: want.service });
    const haveDests = new Map(have.dests.map((d) => [destKeyId(d), d]));
    const wantIds = new Set(want.dests.map(destKeyId));
    for (const d of have.dests) {
      if (!wantIds.has(destKeyId(d))) {
        destDeletes.push({ op: "delete-dest", service: key, dest: { family: d.family, address: d.address, port: d.port } });
      }
    }
    for (const d of want.dests) {
      const old = haveDests.get(destKeyId(d));
      if (!old) destChanges.push({ op: "add-dest", service: key, dest: d });
      else if (!sameDestSettings(d, old)) destChanges.push({ op: "edit-dest", service: key, dest: d });
    }
  }
  // Removals first, then services, then destinations (which need their service to exist).
  return { ok: true, ops: [...destDeletes, ...deletions, ...serviceChanges, ...destChanges], owned: desiredIds };
}

export type ApplyResult = { ok: true; table: ServiceWithDests[] } | { ok: false; index: number; error: string };

/**
 * Applies ops to an in-memory table with the kernel's rules (adding what exists or touching what is
 * missing is refused, and the op's index is reported). For dry runs and for testing the reconciler
 * against a model of the kernel.
 */
export function applyOps(table: readonly ServiceWithDests[], ops: readonly IpvsOp[]): ApplyResult {
  const out = new Map<string, ServiceWithDests>(
    table.map((s) => [serviceKeyId(s.service.key), { service: { ...s.service }, dests: s.dests.map((d) => ({ ...d })) }]),
  );
  for (const [index, op] of ops.entries()) {
    const error = applyOne(out, op);
    if (error) return { ok: false, index, error };
  }
  return { ok: true, table: [...out.values()] };
}

/** Applies one op in place; returns why it cannot be applied, or null. */
function applyOne(out: Map<string, ServiceWithDests>, op: IpvsOp): string | null {
  if (op.op === "flush") {
    out.clear();
    return null;
  }
  const key = op.op === "add-service" || op.op === "edit-service" ? op.service.key : op.service;
  const id = serviceKeyId(key);
  const svc = out.get(id);
  if (op.op === "add-service") {
    if (svc) return `${describeService(key)}: service exists`;
    out.set(id, { service: { ...op.service }, dests: [] });
    return null;
  }
  if (!svc) return `${describeService(key)}: no such service`;
  switch (op.op) {
    case "edit-service":
      svc.service = { ...op.service };
      return null;
    case "delete-service":
      out.delete(id);
      return null;
    case "add-dest":
      if (svc.dests.some((d) => destKeyId(d) === destKeyId(op.dest))) return `${destKeyId(op.dest)}: destination exists`;
      svc.dests.push({ ...op.dest });
      return null;
    case "edit-dest":
    case "delete-dest": {
      const i = svc.dests.findIndex((d) => destKeyId(d) === destKeyId(op.dest));
      if (i < 0) return `${destKeyId(op.dest)}: no such destination`;
      if (op.op === "edit-dest") svc.dests[i] = { ...op.dest };
      else svc.dests.splice(i, 1);
      return null;
    }
  }
}

/** One line per op, ipvsadm-flavoured, for logs and `--dry-run`. */
export function describeOp(op: IpvsOp): string {
  switch (op.op) {
    case "flush": return "flush";
    case "add-service": return `add service ${describeService(op.service.key)} ${op.service.scheduler}`;
    case "edit-service": return `edit service ${describeService(op.service.key)} ${op.service.scheduler}`;
    case "delete-service": return `delete service ${describeService(op.service)}`;
    case "add-dest": return `add ${destKeyId(op.dest)} to ${describeService(op.service)} (${op.dest.method} w${op.dest.weight})`;
    case "edit-dest": return `edit ${destKeyId(op.dest)} of ${describeService(op.service)} (${op.dest.method} w${op.dest.weight})`;
    case "delete-dest": return `delete ${destKeyId(op.dest)} from ${describeService(op.service)}`;
  }
}
