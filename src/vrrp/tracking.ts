// The shell side of tracking: watches what instances track and reports changes.
// - interfaces: link state from rtnetlink notifications (no polling), up = IFF_UP and IFF_RUNNING as
//   keepalived reads it; the initial state comes from a link dump.
// - vrrp_script: run every `interval` with Bun.spawn (never blocks the loop), killed at `timeout`,
//   rise/fall hysteresis (tracking-state.ts), as `user` when given.
// - track_file: read at start and again whenever fs.watch reports a change in its folder (the file may
//   be replaced by rename or created later).
// - vrrp_track_process: keepalived follows process starts and exits through the kernel's proc connector;
//   here /proc is scanned periodically (default every 1 s): simpler, and it costs well under 1 ms with
//   a few hundred processes, at the price of up to one interval of delay.
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

import { subscribeRtnlEvents, type RtnlSubscription } from "../netlink/events.ts";
import { linkDumpRequest, parseLinkMessage, type LinkInfo } from "../netlink/rtnetlink.ts";
import type { NetlinkRequester } from "./vips.ts";
import { runScript, splitCommand, type ScriptUser } from "./scripts.ts";
import { initialScriptHealth, nextScriptHealth, parseTrackFileValue, processQuorumMet, type ScriptHealth } from "./tracking-state.ts";

export interface VrrpScriptDef {
  name: string;
  /** The command line (split like keepalived, no shell). */
  script: string;
  /** interval: default 1 s. */
  intervalMs?: number;
  /** timeout: default = interval. */
  timeoutMs?: number;
  /** weight: default 0 (failure = FAULT). An instance's track_script may override it. */
  weight?: number;
  weightReverse?: boolean;
  /** rise/fall: default 1. */
  rise?: number;
  fall?: number;
  user?: ScriptUser;
  /** init_fail: start as failed. */
  initFail?: boolean;
}

export interface TrackFileDef {
  name: string;
  path: string;
  /** weight: default 1. */
  weight?: number;
  weightReverse?: boolean;
}

export interface TrackProcessDef {
  name: string;
  /** Process name (comm, or the full path when it has a '/': matched against argv[0]). */
  process: string;
  /** param_match: initial / exact against the rest of the command line (optional). */
  params?: string;
  quorum?: number;
  quorumMax?: number;
  weight?: number;
  weightReverse?: boolean;
}

export interface TrackerConfig {
  scripts: VrrpScriptDef[];
  files: TrackFileDef[];
  processes: TrackProcessDef[];
  /** Interfaces whose link state matters (instance interfaces and track_interface). */
  interfaces: string[];
  processScanIntervalMs?: number;
}

export interface TrackedState {
  interfaces: ReadonlyMap<string, boolean>;
  scripts: ReadonlyMap<string, ScriptHealth>;
  files: ReadonlyMap<string, number>;
  processes: ReadonlyMap<string, boolean>;
}

export interface TrackerSource {
  /** Resolves once link states, track files and the first /proc scan have been read (scripts start as configured). */
  ready: Promise<void>;
  state(): TrackedState;
  /** Adds interfaces to watch (after a reload). */
  watchInterfaces(names: readonly string[]): void;
  close(): Promise<void>;
}

export interface TrackerDeps {
  netlink: NetlinkRequester;
  log: (level: "info" | "warning" | "error", msg: string) => void;
  /** Called after any tracked value changed. */
  onChange: () => void;
  /** Script states carried over a reload (scripts whose definition did not change), by name. */
  initialScripts?: ReadonlyMap<string, ScriptHealth>;
}

/** Counts processes matching `def` in a /proc snapshot. */
export function countMatchingProcesses(procs: readonly { comm: string; argv: string[] }[], def: TrackProcessDef): number {
  return procs.filter((p) => {
    const nameOk = def.process.includes("/") ? p.argv[0] === def.process : p.comm === def.process || basename(p.argv[0] ?? "") === def.process;
    return nameOk && (def.params === undefined || p.argv.slice(1).join(" ") === def.params);
  }).length;
}

async function readProcesses(): Promise<{ comm: string; argv: string[] }[]> {
  const out: { comm: string; argv: string[] }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [comm, cmdline] = await Promise.all([readFile(`/proc/${entry}/comm`, "utf8"), readFile(`/proc/${entry}/cmdline`, "utf8")]);
      out.push({ comm: comm.trim(), argv: cmdline.split("\0").filter((s, i, a) => s !== "" || i < a.length - 1) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

export function startTracker(cfg: TrackerConfig, deps: TrackerDeps): TrackerSource {
  const interfaces = new Map<string, boolean>();
  const scripts = new Map<string, ScriptHealth>();
  const files = new Map<string, number>();
  const processes = new Map<string, boolean>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const watchers: FSWatcher[] = [];
  let closed = false;
  let links: RtnlSubscription | null = null;
  const watchedInterfaces = new Set<string>();

  const linkUp = (l: LinkInfo) => l.up && l.running;
  const setInterface = (name: string, up: boolean) => {
    if (!watchedInterfaces.has(name) || interfaces.get(name) === up) return;
    interfaces.set(name, up);
    deps.log("info", `interface ${name} is ${up ? "UP" : "DOWN"}`);
    deps.onChange();
  };

  const refreshLinks = () => {
    try {
      const all = deps.netlink.requestSync(linkDumpRequest(), { dump: true, what: "dump links" }).map(parseLinkMessage);
      for (const name of watchedInterfaces) {
        const l = all.find((x) => x.name === name);
        setInterface(name, l ? linkUp(l) : false);
      }
    } catch (e) {
      deps.log("error", `cannot read link states: ${(e as Error).message}`);
    }
  };

  const watchInterfaces = (names: readonly string[]) => {
    const fresh = names.filter((n) => !watchedInterfaces.has(n));
    if (fresh.length === 0) return;
    for (const n of fresh) watchedInterfaces.add(n);
    if (!links) {
      links = subscribeRtnlEvents(
        (ev) => {
          if (ev.kind !== "link") return;
          setInterface(ev.link.name, ev.op === "new" && linkUp(ev.link));
        },
        {
          onError: (err) => {
            // ENOBUFS: notifications were lost; re-read the truth.
            deps.log("warning", `link notifications: ${err.message}`);
            if (err.code === "ENOBUFS") refreshLinks();
          },
        },
      );
    }
    refreshLinks();
  };

  const later = (ms: number, fn: () => void) => {
    if (closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn();
    }, ms);
    timers.add(t);
  };

  for (const s of cfg.scripts) {
    scripts.set(s.name, deps.initialScripts?.get(s.name) ?? initialScriptHealth(!!s.initFail));
    const argv = splitCommand(s.script);
    const interval = s.intervalMs ?? 1000;
    const tick = async () => {
      const r = await runScript(argv, { timeoutMs: s.timeoutMs ?? interval, user: s.user });
      if (closed) return;
      if (r.error) deps.log("error", `vrrp_script ${s.name}: ${r.error}`);
      if (r.timedOut) deps.log("warning", `vrrp_script ${s.name} timed out`);
      const before = scripts.get(s.name)!;
      const after = nextScriptHealth(before, r.code === 0 && !r.timedOut, s.rise ?? 1, s.fall ?? 1);
      scripts.set(s.name, after);
      if (after.up !== before.up) {
        deps.log("info", `VRRP_Script(${s.name}) ${after.up ? "succeeded" : "failed"}`);
        deps.onChange();
      }
      later(interval, () => void tick());
    };
    void tick();
  }

  const initial: Promise<void>[] = [];
  for (const f of cfg.files) {
    const read = async () => {
      const text = await readFile(f.path, "utf8").catch(() => "");
      if (closed) return;
      const value = parseTrackFileValue(text);
      if (files.get(f.name) === value) return;
      files.set(f.name, value);
      deps.log("info", `track_file ${f.name} (${f.path}) = ${value}`);
      deps.onChange();
    };
    files.set(f.name, 0);
    initial.push(read());
    try {
      watchers.push(watch(dirname(f.path), (_ev, name) => {
        if (name === null || name === basename(f.path)) void read();
      }));
    } catch (e) {
      deps.log("error", `track_file ${f.name}: cannot watch ${dirname(f.path)}: ${(e as Error).message}`);
    }
  }

  if (cfg.processes.length > 0) {
    for (const p of cfg.processes) processes.set(p.name, false);
    const scan = async () => {
      const snapshot = await readProcesses().catch(() => []);
      if (closed) return;
      let changed = false;
      for (const p of cfg.processes) {
        const up = processQuorumMet(countMatchingProcesses(snapshot, p), p.quorum ?? 1, p.quorumMax);
        if (processes.get(p.name) !== up) {
          processes.set(p.name, up);
          deps.log("info", `track_process ${p.name} is ${up ? "UP" : "DOWN"}`);
          changed = true;
        }
      }
      if (changed) deps.onChange();
      later(cfg.processScanIntervalMs ?? 1000, () => void scan());
    };
    initial.push(scan());
  }

  watchInterfaces(cfg.interfaces);

  return {
    ready: Promise.all(initial).then(() => undefined),
    state: () => ({ interfaces, scripts, files, processes }),
    watchInterfaces,
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of watchers) w.close();
      // Assigned inside watchInterfaces (a closure), which TypeScript's narrowing does not see.
      if (links) await (links as RtnlSubscription).close();
    },
  };
}
