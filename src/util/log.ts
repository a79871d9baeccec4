// One line per event on stdout, prefixed with the syslog priority ("<3>", "<6>", ...) that
// journald reads (sd-daemon(3)), and rate-limited per key so a flapping check cannot flood
// the journal: after `burst` lines in `intervalMs`, lines for that key are counted and the
// count is reported when the key speaks again.
export type Level = "crit" | "err" | "warning" | "notice" | "info" | "debug";
const PRIORITY: Record<Level, number> = { crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface RateLimit { intervalMs: number; burst: number }
export const DEFAULT_RATE_LIMIT: RateLimit = { intervalMs: 10_000, burst: 10 };

interface Bucket { windowStart: number; count: number; suppressed: number }

/** Pure rate limiter: decides, per key, whether a line may be written now. */
export class LogRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly limit: RateLimit = DEFAULT_RATE_LIMIT) {}

  /** Returns how many earlier lines were suppressed (to mention), or -1 to drop this one. */
  admit(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (!b || now - b.windowStart >= this.limit.intervalMs) {
      const suppressed = b?.suppressed ?? 0;
      b = { windowStart: now, count: 1, suppressed: 0 };
      this.buckets.set(key, b);
      return suppressed;
    }
    if (b.count < this.limit.burst) { b.count++; return 0; }
    b.suppressed++;
    return -1;
  }
}

export interface LogSink { write(line: string): void }

export class Logger {
  private readonly limiter: LogRateLimiter;
  constructor(
    private readonly sink: LogSink = { write: (l) => process.stdout.write(l) },
    private readonly now: () => number = Date.now,
    limit: RateLimit = DEFAULT_RATE_LIMIT,
    private readonly minLevel: Level = "info",
  ) {
    this.limiter = new LogRateLimiter(limit);
  }

  /** `key` names the thing the line is about (an instance, a real server); it is the rate-limit unit. */
  log(level: Level, message: string, key?: string): void {
    if (PRIORITY[level] > PRIORITY[this.minLevel]) return;
    let text = message;
    if (key !== undefined) {
      const suppressed = this.limiter.admit(key, this.now());
      if (suppressed < 0) return;
      if (suppressed > 0) text += ` (${suppressed} similar messages suppressed)`;
    }
    this.sink.write(`<${PRIORITY[level]}>${text.replace(/\n/g, " ")}\n`);
  }

  crit(m: string, key?: string): void { this.log("crit", m, key); }
  err(m: string, key?: string): void { this.log("err", m, key); }
  warning(m: string, key?: string): void { this.log("warning", m, key); }
  notice(m: string, key?: string): void { this.log("notice", m, key); }
  info(m: string, key?: string): void { this.log("info", m, key); }
  debug(m: string, key?: string): void { this.log("debug", m, key); }
}
