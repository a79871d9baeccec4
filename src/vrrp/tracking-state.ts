// Pure tracking arithmetic (keepalived 2.2.7 vrrp_track.c): how tracked objects move an instance's
// priority or put it in FAULT, and vrrp_script's rise/fall hysteresis.

/** Something an instance tracks, as seen right now. */
export interface TrackedObject {
  /** e.g. "interface eth1", "script chk_nginx", "file /run/x", "process nginx". */
  id: string;
  /** Up/healthy (interface up, script passing, process quorum met). Unused for files. */
  up: boolean;
  /** track_file: the integer read from the file. */
  fileValue?: number;
  /** The instance's weight for it; 0 means "failure = FAULT". */
  weight: number;
  /** `weight W reverse`: the sense of up/down is inverted for the weight. */
  reverse?: boolean;
}

export interface TrackingOutcome {
  /** base + weights; the state machine clamps it (1..254, owner untouched). */
  totalPriority: number;
  /** Ids of tracked objects that put the instance in FAULT. */
  faults: string[];
}

/** keepalived: a track_file value times its weight at or below this puts the instance in FAULT. */
export const TRACK_FILE_FAULT_LIMIT = -254;

/**
 * Effective priority and faults. Up/down objects: weight 0 and down -> FAULT; a positive weight is added
 * while up, a negative one while down (reverse swaps up and down). Files: weight 0 and a non-zero value
 * -> FAULT; otherwise value * weight is added (reverse negates), FAULT at or below -254.
 */
export function trackingOutcome(basePriority: number, objects: readonly TrackedObject[]): TrackingOutcome {
  let total = basePriority;
  const faults: string[] = [];
  for (const o of objects) {
    if (o.fileValue !== undefined) {
      if (o.weight === 0) {
        if (o.fileValue !== 0) faults.push(o.id);
        continue;
      }
      const delta = o.fileValue * o.weight * (o.reverse ? -1 : 1);
      if (delta <= TRACK_FILE_FAULT_LIMIT) faults.push(o.id);
      else total += delta;
      continue;
    }
    const up = o.reverse ? !o.up : o.up;
    if (o.weight === 0) {
      if (!o.up) faults.push(o.id);
    } else if (o.weight > 0 && up) total += o.weight;
    else if (o.weight < 0 && !up) total += o.weight;
  }
  return { totalPriority: total, faults };
}

/** vrrp_script state: consecutive results decide (rise successes to go up, fall failures to go down). */
export interface ScriptHealth {
  up: boolean;
  /** Consecutive results against the current state. */
  streak: number;
}

export function initialScriptHealth(initFail: boolean): ScriptHealth {
  return { up: !initFail, streak: 0 };
}

export function nextScriptHealth(h: ScriptHealth, passed: boolean, rise: number, fall: number): ScriptHealth {
  if (passed === h.up) return { up: h.up, streak: 0 };
  const streak = h.streak + 1;
  const needed = Math.max(1, h.up ? fall : rise);
  return streak >= needed ? { up: passed, streak: 0 } : { up: h.up, streak };
}

/** track_file contents: the first integer, as keepalived reads it (strtol); empty/unparsable = 0. */
export function parseTrackFileValue(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1], 10) : 0;
}

/** vrrp_track_process: is the count of matching processes within quorum..quorumMax? */
export function processQuorumMet(count: number, quorum: number, quorumMax?: number): boolean {
  return count >= quorum && (quorumMax === undefined || count <= quorumMax);
}
