// Scheduling and memory locking for the thread that sends adverts (keepalived's vrrp_rt_priority /
// vrrp_no_swap). Measured in LAB.md: SCHED_RR cuts 10 ms timer p99 lateness under CPU load from
// 2.7 ms to 0.08 ms.
import { readdirSync } from "node:fs";

import * as libc from "../../ffi/libc.ts";

/**
 * SCHED_RR with `priority` (clamped to the kernel's range) for the calling thread only: call it from
 * the thread (Worker) that runs the timers. Returns the priority applied.
 */
export function setRealtimePriority(priority: number): number {
  const max = libc.schedGetPriorityMax(libc.SCHED_RR);
  const min = libc.schedGetPriorityMin(libc.SCHED_RR);
  const p = Math.min(max, Math.max(min, Math.round(priority)));
  libc.schedSetScheduler(libc.SCHED_RR, p);
  return p;
}

/** "rr" / "fifo" / "other" for the calling thread. */
export function currentSchedulingPolicy(): string {
  const p = libc.schedGetScheduler();
  return p === libc.SCHED_RR ? "rr" : p === libc.SCHED_FIFO ? "fifo" : p === libc.SCHED_OTHER ? "other" : String(p);
}

/**
 * Keeps this process's memory out of swap (keepalived's vrrp_no_swap) with mlockall(MCL_CURRENT |
 * MCL_FUTURE | MCL_ONFAULT): pages are locked as they are touched. Plain MCL_CURRENT is unusable under
 * Bun: the JS engine reserves ~6.5 GB of address space, and locking it populated all of it (measured
 * here: 19 s and 6.4 GB RSS, against 5 ms and no RSS change with MCL_ONFAULT, Linux >= 4.4).
 */
export function lockMemory(): void {
  libc.mlockall(libc.MCL_CURRENT | libc.MCL_FUTURE | libc.MCL_ONFAULT);
}

/**
 * SCHED_RR for every thread of this process, the engine's own included. The JS thread alone is not
 * enough: it waits for the garbage collector's helper threads at the end of a collection, and with
 * those at normal priority a busy machine stalls it for tens of milliseconds (bench/vrrp-load,
 * both cores loaded: advert jitter p99 53 ms with only the JS thread real-time). Threads started
 * later are not covered: call again after start-up. Returns how many threads were changed.
 */
export function setRealtimePriorityAllThreads(priority: number): number {
  const max = libc.schedGetPriorityMax(libc.SCHED_RR);
  const min = libc.schedGetPriorityMin(libc.SCHED_RR);
  const p = Math.min(max, Math.max(min, Math.round(priority)));
  let changed = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      libc.schedSetScheduler(libc.SCHED_RR, p, Number(tid));
      changed++;
    } catch { /* the thread ended meanwhile */ }
  }
  return changed;
}
