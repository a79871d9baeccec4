// The imperative shell of the native check engine: compiles engine-c.ts with TinyCC, starts its thread
// on two pipes, writes commands (batched once per turn of the event loop) and hands each result record
// back to the checker it belongs to. One engine per process (its C state is static); every scheduler
// of the process shares it.
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { readFileSync } from "node:fs";
import * as libc from "../../../ffi/libc.ts";
import { compileC } from "../../../ffi/tcc.ts";
import type { CheckEngine, EngineHandle, EngineResultHandler } from "../scheduler.ts";
import type { CheckerPolicy, CheckerSpec } from "../types.ts";
import { ENGINE_C } from "./engine-c.ts";
import {
  STATS_PER_SLOT, RecordReader, countersAt, encodeAdd, encodeRemove, encodeSchedule, nativeTarget, resultOfRecord,
  type NativeCounters,
} from "./protocol.ts";

/** Checkers the engine can hold (slots beyond run in JavaScript). */
const CAPACITY = 1 << 17;
const PIPE_BYTES = 1 << 20;

/** Checks the engine runs at once: up to 4,096, and at most half the descriptors the process may open
 *  (Bun raises its soft limit to the hard one; the rest are for IPVS, IPC and the JavaScript checkers),
 *  so that a farm of silent servers delays checks rather than failing them with EMFILE. */
export function maxInFlight(limitsText: string): number {
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limitsText)?.[1] ?? 1024);
  return Math.max(16, Math.min(4096, Math.floor(soft / 2)));
}
interface Slot { spec: CheckerSpec; gen: number; onResult: EngineResultHandler }

class Handle implements EngineHandle { constructor(readonly slot: number, readonly gen: number) {} }

export class NativeCheckEngine implements CheckEngine {
  private readonly slots: (Slot | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private freeHead = 0;
  private generation = 0;
  private pending: Uint8Array[] = [];
  private readonly backlog: Uint8Array[] = [];
  private flushQueued = false;
  private readonly reader = new RecordReader();
  /** Where a result that could not be delivered is reported (the check child logs it). */
  onError: (e: unknown) => void = () => {};
  /** Called if the engine stops delivering results (the check child then exits, to be restarted). */
  onStopped: (why: string) => void = () => {};

  private constructor(private readonly commandFd: number, resultFd: number, private readonly stats: Float64Array, private readonly checksRun: Float64Array) {
    // The engine runs until the process ends; a result stream that ends or breaks means checks have
    // stopped, which must not go unnoticed.
    this.readResults(resultFd).then(
      () => this.onStopped("its result pipe closed"),
      (e: unknown) => this.onStopped(e instanceof Error ? e.message : String(e)),
    );
  }

  /** Compiles and starts the engine; throws with the reason when this host cannot have it. */
  static start(): NativeCheckEngine {
    const lib = compileC(ENGINE_C, {
      lbctl_engine_start: { args: ["int", "int", "u32", "u32"], returns: "int" },
      lbctl_engine_stats: { args: [], returns: "ptr" },
      lbctl_engine_checks: { args: [], returns: "ptr" },
    });
    const [commandRead, commandWrite] = libc.pipe();
    const [resultRead, resultWrite] = libc.pipe();
    for (const fd of [commandWrite, resultWrite]) {
      try { libc.fcntl(fd, libc.F_SETPIPE_SZ, PIPE_BYTES); } catch { /* the default size only means more, smaller writes */ }
    }
    let limits = "";
    try { limits = readFileSync("/proc/self/limits", "utf8"); } catch { /* the default below */ }
    const rc = lib.symbols.lbctl_engine_start(commandRead, resultWrite, CAPACITY, maxInFlight(limits));
    if (rc !== 0) {
      for (const fd of [commandRead, commandWrite, resultRead, resultWrite]) libc.close(fd);
      throw new Error(`native check engine did not start (${rc})`);
    }
    const stats = new Float64Array(toArrayBuffer(lib.symbols.lbctl_engine_stats() as Pointer, 0, CAPACITY * STATS_PER_SLOT * 8));
    const checksRun = new Float64Array(toArrayBuffer(lib.symbols.lbctl_engine_checks() as Pointer, 0, 8));
    return new NativeCheckEngine(commandWrite, resultRead, stats, checksRun);
  }

  add(spec: CheckerSpec, policy: CheckerPolicy, onResult: EngineResultHandler): EngineHandle | undefined {
    const target = nativeTarget(spec);
    if (!target) return undefined;
    // The longest-free slot first, so that the engine has long since dropped it.
    const slot = this.freeHead < this.freeSlots.length ? this.takeFreeSlot() : this.slots.length < CAPACITY ? this.slots.length : undefined;
    if (slot === undefined) return undefined;
    // Its counters start at zero now, not when the engine reads the ADD (which it also zeroes them at).
    this.stats.fill(0, slot * STATS_PER_SLOT, (slot + 1) * STATS_PER_SLOT);
    const gen = this.generation = (this.generation + 1) >>> 0;
    this.slots[slot] = { spec, gen, onResult };
    this.send(encodeAdd(slot, gen, target, policy.delayLoopMs));
    return new Handle(slot, gen);
  }

  /** The oldest freed slot (a queue: shift() on 10,000s of entries per reload would be quadratic). */
  private takeFreeSlot(): number {
    const slot = this.freeSlots[this.freeHead++];
    if (this.freeHead > 1024 && this.freeHead * 2 > this.freeSlots.length) { this.freeSlots.splice(0, this.freeHead); this.freeHead = 0; }
    return slot;
  }

  schedule(h: EngineHandle, delayMs: number, steadyStatus: number | null): void {
    if (this.slots[h.slot]?.gen === h.gen) this.send(encodeSchedule(h.slot, h.gen, delayMs, steadyStatus));
  }

  remove(h: EngineHandle): void {
    if (this.slots[h.slot]?.gen !== h.gen) return;
    this.slots[h.slot] = undefined;
    this.freeSlots.push(h.slot);
    this.send(encodeRemove(h.slot, h.gen));
  }

  counters(h: EngineHandle): NativeCounters { return countersAt(this.stats, h.slot); }

  /** Checks the engine has run since it started. */
  checks(): number { return this.checksRun[0]; }

  private send(command: Uint8Array): void {
    this.pending.push(command);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** The commands of this turn become one batch, written in one call; what the pipe does not take now
   *  (the 37,000 ADDs of a start are megabytes) waits, batch by batch, and is never copied again. */
  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length) {
      this.backlog.push(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending));
      this.pending = [];
    }
    while (this.backlog.length) {
      const batch = this.backlog[0];
      const n = libc.writeSome(this.commandFd, batch);
      if (n === batch.length) { this.backlog.shift(); continue; }
      this.backlog[0] = batch.subarray(n);
      this.flushQueued = true;
      setTimeout(() => this.flush(), 1);
      return;
    }
  }

  private async readResults(fd: number): Promise<void> {
    for await (const chunk of Bun.file(fd).stream()) {
      for (const r of this.reader.push(chunk)) {
        const slot = this.slots[r.slot];
        if (slot?.gen !== r.gen) continue; // removed, or its slot reused, since this check started
        try { slot.onResult(resultOfRecord(slot.spec, r), r.status); } catch (e) { this.onError(e); }
      }
    }
  }
}

let shared: NativeCheckEngine | Error | undefined;

/** The process's engine, started on first use; an Error says why there is none (the JavaScript checkers
 *  then run everything, as before). */
export function nativeCheckEngine(): NativeCheckEngine | Error {
  if (shared === undefined) {
    try { shared = NativeCheckEngine.start(); } catch (e) { shared = e instanceof Error ? e : new Error(String(e)); }
  }
  return shared;
}
