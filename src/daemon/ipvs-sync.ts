// Shell between the checker child and the kernel's IPVS table. It keeps a model of the services lbctl
// owns (what it programmed, refreshed from the kernel on every table read) so that one virtual
// server's change is reconciled against that virtual server's services only: the work for a verdict
// does not grow with the size of the table.
// keepalived's behaviour kept here: `lvs_flush` empties the table at start; at stop every virtual
// server it configured is removed, or the whole table with `lvs_flush_onstop` (clear_services /
// ipvs_flush_cmd in check_daemon.c).
import { IpvsClient, type ApplyReport, type IpvsResult, type IpvsTable } from "../ipvs/client.ts";
import { applyOps, reconcile, type IpvsOp } from "../ipvs/reconcile.ts";
import { serviceKeyId, type IpvsTimeouts, type ServiceWithDests } from "../ipvs/types.ts";

export interface SyncReport {
  ops: IpvsOp[];
  /** One message per refused op or invalid desired table. */
  errors: string[];
}

/** What IpvsSync needs of the kernel (IpvsClient; a model of it in tests). */
export interface IpvsPort {
  apply(ops: readonly IpvsOp[]): Promise<ApplyReport>;
  getTable(): Promise<IpvsResult<IpvsTable>>;
  flush(): Promise<IpvsResult<void>>;
  setTimeouts(t: IpvsTimeouts): Promise<IpvsResult<void>>;
  close(): void;
}

export class IpvsSync {
  /** serviceKeyId -> the configuration lbctl believes the kernel holds for a service it owns. */
  private readonly model = new Map<string, ServiceWithDests>();
  /** The kernel's services at start, adopted when our configuration names them. */
  private readonly atStart = new Map<string, ServiceWithDests>();

  constructor(private readonly client: IpvsPort) {}

  /** `netnsPath`: net_namespace_ipvs (instance-names.ts ipvsNamespacePath); the child's own namespace without it. */
  static async open(netnsPath?: string): Promise<{ ok: true; sync: IpvsSync } | { ok: false; error: string }> {
    const c = await IpvsClient.open({ netnsPath });
    if (!c.ok) return { ok: false, error: c.error };
    const info = await c.value.getInfo();
    if (!info.ok) { c.value.close(); return { ok: false, error: info.error }; }
    return { ok: true, sync: new IpvsSync(c.value) };
  }

  /** Start-up: `lvs_flush` empties the kernel table; `lvs_timeouts` are set. Returns errors. */
  async start(opts: { flush: boolean; timeouts?: IpvsTimeouts }): Promise<string[]> {
    const errors: string[] = [];
    if (opts.flush) {
      const r = await this.client.flush();
      if (!r.ok) errors.push(`lvs_flush: ${r.error}`);
    }
    if (opts.timeouts) {
      const r = await this.client.setTimeouts(opts.timeouts);
      if (!r.ok) errors.push(`lvs_timeouts: ${r.error}`);
    }
    const t = await this.client.getTable();
    if (t.ok) for (const s of t.value) this.atStart.set(serviceKeyId(s.service.key), configOnly(s));
    else errors.push(`reading the IPVS table: ${t.error}`);
    return errors;
  }

  /**
   * Makes the kernel hold exactly `desired` for one virtual server, whose services were `previous`
   * (serviceKeyIds; services in `previous` and not in `desired` are removed). Services already in the
   * kernel that we never saw are adopted on first use (keepalived adds over them too).
   */
  async apply(desired: readonly ServiceWithDests[], previous: readonly string[] = []): Promise<SyncReport> {
    const ids = new Set([...previous, ...desired.map((s) => serviceKeyId(s.service.key))]);
    const current: ServiceWithDests[] = [];
    for (const id of ids) {
      const have = this.model.get(id) ?? this.atStart.get(id);
      this.atStart.delete(id);
      if (have) current.push(have);
    }
    const plan = reconcile(desired, current, { owned: ids });
    if (!plan.ok) return { ops: [], errors: plan.errors };
    if (plan.ops.length === 0) {
      for (const s of current) this.model.set(serviceKeyId(s.service.key), s);
      return { ops: [], errors: [] };
    }
    const report = await this.client.apply(plan.ops);
    const errors = report.failures.map((f) => f.error);
    const applied = errors.length === 0 ? applyOps(current, plan.ops) : undefined;
    if (applied?.ok) {
      this.remember(ids, applied.table);
    } else {
      // Something was refused: what the kernel really holds for these services is the truth.
      const table = await this.client.getTable();
      if (table.ok) this.remember(ids, table.value.filter((s) => ids.has(serviceKeyId(s.service.key))).map(configOnly));
      else errors.push(`reading the IPVS table: ${table.error}`);
    }
    return { ops: plan.ops, errors };
  }

  private remember(ids: ReadonlySet<string>, table: readonly ServiceWithDests[]): void {
    for (const id of ids) this.model.delete(id);
    for (const s of table) this.model.set(serviceKeyId(s.service.key), s);
  }

  /** The kernel table (with counters); also refreshes the model of the services we own. */
  async read(): Promise<{ ok: true; table: IpvsTable } | { ok: false; error: string }> {
    const t = await this.client.getTable();
    if (!t.ok) return { ok: false, error: t.error };
    for (const s of t.value) {
      const id = serviceKeyId(s.service.key);
      if (this.model.has(id)) this.model.set(id, configOnly(s));
    }
    return { ok: true, table: t.value };
  }

  /** Shutdown: remove what we own, or flush the whole table (`lvs_flush_onstop`). */
  async stop(flushAll: boolean): Promise<string[]> {
    const ops: IpvsOp[] = flushAll ? [{ op: "flush" }] : [...this.model.values()].map((s) => ({ op: "delete-service" as const, service: s.service.key }));
    const report = ops.length ? await this.client.apply(ops) : { failures: [] };
    this.model.clear();
    this.client.close();
    return report.failures.map((f) => f.error);
  }

  ownedCount(): number { return this.model.size; }
}

function configOnly(s: IpvsTable[number] | ServiceWithDests): ServiceWithDests {
  const { service, dests } = s as IpvsTable[number];
  const { stats: _s, ...svc } = service;
  return {
    service: svc,
    dests: dests.map(({ stats: _d, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...d }) => d),
  };
}
