// IPVS shell: talks to the kernel's "IPVS" generic netlink family through NetlinkSocket.
// Every method returns an IpvsResult instead of throwing, so a kernel without IPVS (or a refused
// change) is something the caller reports, while VRRP keeps running.
import { SysError } from "../../ffi/libc.ts";
import { NETLINK_GENERIC, NetlinkDecodeError, type NetlinkMessage } from "../netlink/message.ts";
import { NetlinkError, NetlinkSocket, resolveGenlFamily } from "../netlink/socket.ts";
import { inNetnsPath } from "../net/netns.ts";
import {
  decodeDaemonMessage, decodeDestMessage, decodeInfoMessage, decodeServiceMessage, decodeTimeoutsMessage, ipvsPayload,
  requests, validateDaemon, validateDestConfig, validateDestKey, validateServiceConfig, validateServiceKey, validateTimeouts,
  type IpvsRequest,
} from "./codec.ts";
import { describeOp, type IpvsOp } from "./reconcile.ts";
import {
  IPVS_GENL_NAME, describeService, type DestConfig, type DestKey, type DestStatus, type IpvsInfo, type IpvsTimeouts,
  type ServiceConfig, type ServiceKey, type ServiceStatus, type ServiceWithDests, type SyncDaemonConfig,
  type SyncDaemonState,
} from "./types.ts";

export type IpvsResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: string; /** errno symbol from the kernel, e.g. "EEXIST", when there is one. */ code?: string };

export const IPVS_UNAVAILABLE = "IPVS not available in this kernel (modprobe ip_vs?)";

export interface OpFailure {
  index: number;
  op: IpvsOp;
  error: string;
  code?: string;
}

export interface ApplyReport {
  applied: number;
  failures: OpFailure[];
}

export type IpvsTable = ServiceWithDests<ServiceStatus, DestStatus>[];

function failure(e: unknown): { ok: false; error: string; code?: string } {
  if (e instanceof NetlinkError || e instanceof SysError) return { ok: false, error: e.message, code: e.code };
  if (e instanceof NetlinkDecodeError) return { ok: false, error: e.message };
  throw e; // a bug, not bad input: let it surface
}

function invalid(what: string, errors: string[]): { ok: false; error: string; code: string } {
  return { ok: false, error: `${what}: ${errors.join("; ")}`, code: "EINVAL" };
}

/** What IpvsClient.open does to the system (a model of it in tests). */
export interface IpvsOpenIo {
  openSocket(timeoutMs: number): NetlinkSocket;
  /** Runs fn with the calling thread in the namespace at `path`, then returns. */
  inNamespace<T>(path: string, fn: () => T): T;
}

const realOpenIo: IpvsOpenIo = {
  openSocket: (timeoutMs) => NetlinkSocket.open(NETLINK_GENERIC, { timeoutMs }),
  inNamespace: inNetnsPath,
};

export class IpvsClient {
  private constructor(private readonly sock: NetlinkSocket, readonly familyId: number) {}

  /**
   * Opens a generic netlink socket and resolves the IPVS family. With `netnsPath`
   * (`net_namespace_ipvs`: /run/netns/NAME, or /proc/1/ns/net for the main namespace) the socket is
   * created in that namespace, and every request on it goes to that namespace's IPVS, as
   * keepalived's nl_ipvs_connect does; the calling thread comes straight back. `io` is for tests.
   */
  static async open(options: { timeoutMs?: number; netnsPath?: string; io?: IpvsOpenIo } = {}): Promise<IpvsResult<IpvsClient>> {
    const io = options.io ?? realOpenIo;
    let sock: NetlinkSocket;
    try {
      const open = () => io.openSocket(options.timeoutMs ?? 5000);
      sock = options.netnsPath === undefined ? open() : io.inNamespace(options.netnsPath, open);
    } catch (e) {
      if (options.netnsPath !== undefined && !(e instanceof NetlinkError || e instanceof SysError)) {
        // inNetnsPath's errors are sentences for the user (missing namespace, no CAP_SYS_ADMIN).
        return { ok: false, error: `net_namespace_ipvs: ${(e as Error).message}` };
      }
      return failure(e);
    }
    try {
      const family = await resolveGenlFamily(IPVS_GENL_NAME, sock);
      return { ok: true, value: new IpvsClient(sock, family.id) };
    } catch (e) {
      sock.close();
      if (e instanceof NetlinkError && e.code === "ENOENT") return { ok: false, error: IPVS_UNAVAILABLE, code: "ENOENT" };
      return failure(e);
    }
  }

  close(): void {
    this.sock.close();
  }

  private async send(req: IpvsRequest): Promise<IpvsResult<NetlinkMessage[]>> {
    try {
      const replies = await this.sock.request(
        { type: this.familyId, payload: ipvsPayload(req) },
        { dump: req.dump, what: req.what },
      );
      return { ok: true, value: replies };
    } catch (e) {
      return failure(e);
    }
  }

  private async decodeAll<T>(req: IpvsRequest, decode: (m: NetlinkMessage) => T): Promise<IpvsResult<T[]>> {
    const r = await this.send(req);
    if (!r.ok) return r;
    try {
      return { ok: true, value: r.value.map(decode) };
    } catch (e) {
      return failure(e);
    }
  }

  private async decodeOne<T>(req: IpvsRequest, decode: (m: NetlinkMessage) => T): Promise<IpvsResult<T>> {
    const r = await this.decodeAll(req, decode);
    if (!r.ok) return r;
    if (r.value.length === 0) return { ok: false, error: `${req.what}: the kernel sent no answer`, code: "EPROTO" };
    return { ok: true, value: r.value[0] };
  }

  private async command(req: IpvsRequest): Promise<IpvsResult<void>> {
    const r = await this.send(req);
    return r.ok ? { ok: true, value: undefined } : r;
  }

  getInfo(): Promise<IpvsResult<IpvsInfo>> {
    return this.decodeOne(requests.getInfo(), decodeInfoMessage);
  }

  listServices(): Promise<IpvsResult<ServiceStatus[]>> {
    return this.decodeAll(requests.listServices(), decodeServiceMessage);
  }

  async getService(key: ServiceKey): Promise<IpvsResult<ServiceStatus>> {
    const errors = validateServiceKey(key);
    if (errors.length) return invalid(describeService(key), errors);
    return this.decodeOne(requests.getService(key), decodeServiceMessage);
  }

  async listDests(key: ServiceKey): Promise<IpvsResult<DestStatus[]>> {
    const errors = validateServiceKey(key);
    if (errors.length) return invalid(describeService(key), errors);
    return this.decodeAll(requests.listDests(key), (m) => decodeDestMessage(m, key.family));
  }

  /** Every service with its destinations (one dump per service, as ipvsadm -L does). */
  async getTable(): Promise<IpvsResult<IpvsTable>> {
    const services = await this.listServices();
    if (!services.ok) return services;
    const table: IpvsTable = [];
    for (const service of services.value) {
      // (a service deleted between the two dumps just lists no destinations: the kernel sends an empty dump)
      const dests = await this.listDests(service.key);
      if (!dests.ok) return dests;
      table.push({ service, dests: dests.value });
    }
    return { ok: true, value: table };
  }

  async addService(svc: ServiceConfig): Promise<IpvsResult<void>> {
    const errors = validateServiceConfig(svc);
    return errors.length ? invalid(describeService(svc.key), errors) : this.command(requests.addService(svc));
  }

  async editService(svc: ServiceConfig): Promise<IpvsResult<void>> {
    const errors = validateServiceConfig(svc);
    return errors.length ? invalid(describeService(svc.key), errors) : this.command(requests.editService(svc));
  }

  async deleteService(key: ServiceKey): Promise<IpvsResult<void>> {
    const errors = validateServiceKey(key);
    return errors.length ? invalid(describeService(key), errors) : this.command(requests.deleteService(key));
  }

  async addDest(svc: ServiceKey, dest: DestConfig): Promise<IpvsResult<void>> {
    const errors = [...validateServiceKey(svc), ...validateDestConfig(dest)];
    return errors.length ? invalid(describeService(svc), errors) : this.command(requests.addDest(svc, dest));
  }

  async editDest(svc: ServiceKey, dest: DestConfig): Promise<IpvsResult<void>> {
    const errors = [...validateServiceKey(svc), ...validateDestConfig(dest)];
    return errors.length ? invalid(describeService(svc), errors) : this.command(requests.editDest(svc, dest));
  }

  async deleteDest(svc: ServiceKey, dest: DestKey): Promise<IpvsResult<void>> {
    const errors = [...validateServiceKey(svc), ...validateDestKey(dest)];
    return errors.length ? invalid(describeService(svc), errors) : this.command(requests.deleteDest(svc, dest));
  }

  /** Zero the counters of one service, or of all services. */
  zero(key?: ServiceKey): Promise<IpvsResult<void>> {
    return this.command(requests.zero(key));
  }

  flush(): Promise<IpvsResult<void>> {
    return this.command(requests.flush());
  }

  getTimeouts(): Promise<IpvsResult<IpvsTimeouts>> {
    return this.decodeOne(requests.getTimeouts(), decodeTimeoutsMessage);
  }

  /** A zero field keeps the kernel's current value (as `ipvsadm --set 0 0 0`). */
  async setTimeouts(t: IpvsTimeouts): Promise<IpvsResult<void>> {
    const errors = validateTimeouts(t);
    return errors.length ? invalid("set timeouts", errors) : this.command(requests.setTimeouts(t));
  }

  async startDaemon(d: SyncDaemonConfig): Promise<IpvsResult<void>> {
    const errors = validateDaemon(d);
    return errors.length ? invalid("start sync daemon", errors) : this.command(requests.startDaemon(d));
  }

  stopDaemon(state: SyncDaemonState): Promise<IpvsResult<void>> {
    return this.command(requests.stopDaemon(state));
  }

  listDaemons(): Promise<IpvsResult<SyncDaemonConfig[]>> {
    return this.decodeAll(requests.listDaemons(), decodeDaemonMessage);
  }

  /**
   * Sends many ops in few syscalls (NetlinkSocket.requestMany). The kernel handles each on its own, so
   * one refused op does not stop the rest; the report lists every failure with the op it belongs to.
   */
  async apply(ops: readonly IpvsOp[]): Promise<ApplyReport> {
    const report: ApplyReport = { applied: 0, failures: [] };
    const batch: { index: number; req: IpvsRequest }[] = [];
    ops.forEach((op, index) => {
      const built = opRequest(op);
      if (built.ok) batch.push({ index, req: built.value });
      else report.failures.push({ index, op, error: built.error, code: "EINVAL" });
    });
    if (batch.length === 0) return report;
    try {
      const results = await this.sock.requestMany(
        batch.map(({ req }) => ({ type: this.familyId, payload: ipvsPayload(req) })),
        { what: "apply IPVS changes" },
      );
      results.forEach((r, i) => {
        const { index } = batch[i];
        if (r.ok) report.applied++;
        else report.failures.push({ index, op: ops[index], error: `${describeOp(ops[index])}: ${r.error.message}`, code: r.error.code });
      });
    } catch (e) {
      const f = failure(e);
      for (const { index } of batch) report.failures.push({ index, op: ops[index], error: f.error, code: f.code });
    }
    report.failures.sort((a, b) => a.index - b.index);
    return report;
  }
}

/** The request for one reconciler op, or why it cannot be built. */
export function opRequest(op: IpvsOp): IpvsResult<IpvsRequest> {
  const check = (errors: string[], build: () => IpvsRequest): IpvsResult<IpvsRequest> =>
    errors.length ? { ok: false, error: `${describeOp(op)}: ${errors.join("; ")}` } : { ok: true, value: build() };
  switch (op.op) {
    case "flush": return { ok: true, value: requests.flush() };
    case "add-service": return check(validateServiceConfig(op.service), () => requests.addService(op.service));
    case "edit-service": return check(validateServiceConfig(op.service), () => requests.editService(op.service));
    case "delete-service": return check(validateServiceKey(op.service), () => requests.deleteService(op.service));
    case "add-dest":
      return check([...validateServiceKey(op.service), ...validateDestConfig(op.dest)], () => requests.addDest(op.service, op.dest));
    case "edit-dest":
      return check([...validateServiceKey(op.service), ...validateDestConfig(op.dest)], () => requests.editDest(op.service, op.dest));
    case "delete-dest":
      return check([...validateServiceKey(op.service), ...validateDestKey(op.dest)], () => requests.deleteDest(op.service, op.dest));
  }
}
