// The runtime's timer bookkeeping: each instance has at most one pending deadline (its
// nextDeadline()); a binary min-heap keeps them so that a received advert or a timer costs
// O(log n) instead of a scan of every instance. Superseded entries stay in the heap and are
// skipped when they surface (lazy deletion), which keeps updates to one push.
export class DeadlineQueue<K> {
  private heap: { at: number; key: K; gen: number }[] = [];
  private readonly current = new Map<K, { at: number; gen: number }>();
  private gen = 0;

  /** Sets (or, with null, clears) the deadline of `key`. */
  set(key: K, at: number | null): void {
    const cur = this.current.get(key);
    if (cur && cur.at === at) return;
    if (at === null) { this.current.delete(key); return; }
    const gen = ++this.gen;
    this.current.set(key, { at, gen });
    this.push({ at, key, gen });
  }

  get(key: K): number | null { return this.current.get(key)?.at ?? null; }

  /** The earliest live deadline, or null. */
  peek(): number | null {
    this.dropStale();
    return this.heap[0]?.at ?? null;
  }

  /** Removes and returns every key whose deadline is <= now, earliest first. */
  popDue(now: number): K[] {
    const due: K[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return due;
      this.pop();
      this.current.delete(top.key);
      due.push(top.key);
    }
  }

  get size(): number { return this.current.size; }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.current.get(top.key)?.gen === top.gen) return;
      this.pop();
    }
  }

  private push(e: { at: number; key: K; gen: number }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      const at = (j: number) => (j === i ? last.at : h[j]!.at);
      if (l < h.length && h[l]!.at < at(m)) m = l;
      if (r < h.length && h[r]!.at < at(m)) m = r;
      if (m === i) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = last;
  }
}
