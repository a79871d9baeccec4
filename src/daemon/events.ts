// The daemon's event log: a bounded ring of recent events (for clients that connect late or
// reconnect with ?since=SEQ) and the live subscribers of GET /v1/events. Time is passed in.
import type { EventInput, EventV1 } from "./api-types.ts";

export type EventListener = (e: EventV1) => void;

export class EventLog {
  private readonly ring: EventV1[] = [];
  private next = 1;
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("event log capacity must be a positive integer");
  }

  /** Numbers and stamps an event, keeps it, and hands it to every subscriber. */
  publish(input: EventInput, at: number): EventV1 {
    const e = { ...input, seq: this.next++, at } as EventV1;
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    // A subscriber that throws must not stop the others (nor the child that reported the event).
    for (const l of [...this.listeners]) {
      try { l(e); } catch { /* the subscriber's problem */ }
    }
    return e;
  }

  /** Events with seq > `since`, oldest first (all kept events when since is 0). */
  since(since: number): EventV1[] {
    return this.ring.filter((e) => e.seq > since);
  }

  /** The seq of the newest event (0 before the first). */
  get lastSeq(): number { return this.next - 1; }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }

  get subscriberCount(): number { return this.listeners.size; }
}
