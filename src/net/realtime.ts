// Scheduling and memory locking for the thread that sends adverts (keepalived's vrrp_rt_priority /
// vrrp_no_swap). Measured in LAB.md: SCHED_RR cuts 10 ms timer p99 lateness under CPU load from
// 2.7 ms to 0.08 ms.
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

/** Back to SCHED_OTHER for the calling thread. */
export function clearRealtimePriority(): void {
  libc.schedSetScheduler(libc.SCHED_OTHER, 0);
}

/** "rr" / "fifo" / "other" for the calling thread. */
export function currentSchedulingPolicy(): string {
  const p = libc.schedGetScheduler();
  return p === libc.SCHED_RR ? "rr" : p === libc.SCHED_FIFO ? "fifo" : p === libc.SCHED_OTHER ? "other" : String(p);
}

/**
 * Locks the pages mapped now into RAM. MCL_FUTURE is opt-in: the JS engine reserves large address
 * ranges and grows its heap later, and locking every future mapping can make those allocations fail.
 */
export function lockMemory(opts: { future?: boolean } = {}): void {
  libc.mlockall(libc.MCL_CURRENT | (opts.future ? libc.MCL_FUTURE : 0));
}
