import { describe, expect, it } from "vitest";
import { DeadlineQueue } from "../../src/vrrp/deadline-queue.ts";

describe("deadline queue", () => {
  it("pops due keys earliest first and keeps one deadline per key", () => {
    const q = new DeadlineQueue<string>();
    q.set("a", 30); q.set("b", 10); q.set("c", 20);
    q.set("a", 5); // supersedes 30
    expect(q.peek()).toBe(5);
    expect(q.popDue(20)).toEqual(["a", "b", "c"]);
    expect(q.peek()).toBeNull();
    expect(q.size).toBe(0);
  });

  it("forgets cleared keys and later deadlines of a key", () => {
    const q = new DeadlineQueue<number>();
    q.set(1, 10); q.set(2, 15); q.set(1, null); q.set(2, 40);
    expect(q.popDue(39)).toEqual([]);
    expect(q.get(2)).toBe(40);
    expect(q.popDue(40)).toEqual([2]);
  });

  it("matches a sorted reference under random updates", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const q = new DeadlineQueue<number>();
    const ref = new Map<number, number>();
    let now = 0;
    for (let step = 0; step < 5000; step++) {
      const k = Math.floor(rand() * 50);
      if (rand() < 0.1) { q.set(k, null); ref.delete(k); } else { const at = now + Math.floor(rand() * 100); q.set(k, at); ref.set(k, at); }
      if (step % 7 === 0) {
        now += Math.floor(rand() * 30);
        const expected = [...ref].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1] || 0).map(([key]) => key);
        const got = q.popDue(now);
        expect(new Set(got)).toEqual(new Set(expected));
        for (const key of expected) ref.delete(key);
        const min = Math.min(...ref.values());
        expect(q.peek()).toBe(ref.size ? min : null);
      }
    }
  });
});
