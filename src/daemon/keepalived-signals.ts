// keepalived's dump signals for `lbctl daemon` (the shell around keepalived-dump.ts):
// SIGUSR1 writes keepalived.data (and keepalived_check.data with virtual servers), SIGUSR2
// keepalived.stats, signal 36 (`keepalived --signum=JSON`) keepalived.json, in $TMPDIR when it
// is an absolute path, else /tmp, as keepalived does. Each file is written to a fresh temporary
// name and renamed into place, so a reader sees the old file or the new one, never half of one.
//
// Bun cannot listen for real-time signals (process.on accepts "SIGRTMIN+2" but the signal
// still kills the process), so signal 36 gets a native handler, compiled at start by bun:ffi's
// built-in TinyCC, that writes the signal number to a pipe the event loop reads.
import * as libc from "../../ffi/libc.ts";
import { compileC } from "../../ffi/tcc.ts";
import { openSync, renameSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Model } from "../config/schema.ts";
import { machineEnv } from "../config/machine-env.ts";
import { resolveVrrp } from "../config/resolve-vrrp.ts";
import type { StatusV1 } from "./api-types.ts";
import {
  DUMP_FILES, SIGNUM_JSON, formatKeepalivedCheckData, formatKeepalivedData, formatKeepalivedJson, formatKeepalivedStats,
  type DumpInput,
} from "./keepalived-dump.ts";

/** keepalived's set_tmp_dir(): $TMPDIR when absolute, else /tmp. */
export function dumpDir(env: Record<string, string | undefined>): string {
  const t = env.TMPDIR;
  return t && t.startsWith("/") ? t : "/tmp";
}

/** Writes `text` to `path` atomically, mode 0600 (keepalived's files are root-only too). */
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  // "wx": never follow or reuse something already at the temporary name.
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}

export type DumpKind = "data" | "stats" | "json";

export interface DumpWriterOptions {
  dir: string;
  status: () => StatusV1;
  /** Brings status() up to date before a signal's dump (the children are asked). */
  refresh?: () => Promise<void>;
  config: () => Model;
  hostname: string;
  /** The file name for a dump (keepalived.data -> keepalived.NS_INST.data, instance-names.ts); unchanged by default. */
  fileName?: (base: string) => string;
  log: { warning(m: string, key?: string): void; info(m: string, key?: string): void };
}

/** Renders and writes one kind of dump; returns the paths written. Errors are logged, not thrown. */
export function writeDump(kind: DumpKind, o: DumpWriterOptions): string[] {
  const config = o.config();
  // The same verdicts the VRRP child acted on (a script it disabled is not listed as tracked).
  const model = resolveVrrp(config, machineEnv({ checkInterfaces: false }));
  const input: DumpInput = { status: o.status(), config, hostname: o.hostname, ifindex: sysIfindex, model };
  const files: [string, string][] = [];
  if (kind === "data") {
    files.push([DUMP_FILES.data, formatKeepalivedData(input)]);
    if (((input.config.virtual_server as unknown[] | undefined) ?? []).length > 0) files.push([DUMP_FILES.checkData, formatKeepalivedCheckData(input)]);
  } else if (kind === "stats") {
    files.push([DUMP_FILES.stats, formatKeepalivedStats(input.status)]);
  } else if (input.status.vrrp.instances.length > 0) {
    // keepalived writes no JSON file without VRRP instances.
    files.push([DUMP_FILES.json, formatKeepalivedJson(input)]);
  }
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(o.dir, o.fileName ? o.fileName(name) : name);
    try {
      writeAtomically(path, text);
      written.push(path);
    } catch (e) {
      o.log.warning(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, "keepalived-dump");
    }
  }
  if (written.length) o.log.info(`wrote ${written.join(", ")}`, "keepalived-dump");
  return written;
}

/**
 * The kernel's ifindex of an interface in this thread's network namespace, null when it has none.
 * if_nametoindex asks the kernel through a socket, so it sees the namespace the daemon entered
 * (net_namespace); /sys/class/net would show the one sysfs was mounted in.
 */
function sysIfindex(name: string): number | null {
  if (!/^[^/\0]{1,15}$/.test(name)) return null;
  try {
    return libc.ifNameToIndex(name);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Real-time signal -> event loop

const HANDLER_C = `
typedef long ssize_t; typedef unsigned long size_t;
extern ssize_t write(int fd, const void *buf, size_t n);
extern int sigaction(int sig, const void *act, void *old);
extern int *__errno_location(void);
/* glibc's struct sigaction on x86-64 and aarch64: handler, 128-byte mask, flags, restorer. */
struct ka_sigaction { void (*handler)(int); unsigned long mask[16]; int flags; void (*restorer)(void); };
static int pipe_fd = -1;
static void on_signal(int sig) {
  int saved = *__errno_location();
  unsigned char b = (unsigned char)sig;
  write(pipe_fd, &b, 1);  /* non-blocking: a full pipe already holds a wake-up */
  *__errno_location() = saved;
}
int lbctl_signal_to_pipe(int sig, int fd) {
  struct ka_sigaction sa;
  int i;
  for (i = 0; i < 16; i++) sa.mask[i] = 0;
  pipe_fd = fd;
  sa.handler = on_signal;
  sa.flags = 0x10000000; /* SA_RESTART */
  sa.restorer = 0;
  return sigaction(sig, &sa, 0);
}
`;


export type RealtimeSignalResult = { ok: true } | { ok: false; error: string };

/**
 * Calls `handler` on the event loop for each delivery of `signo` (a real-time signal Bun cannot
 * handle). When the native handler cannot be had, the signal is ignored instead (so it cannot
 * kill the daemon) and the reason is returned.
 */
export function onRealtimeSignal(signo: number, handler: () => void): RealtimeSignalResult {
  let error: string;
  try {
    const compiled = compileC(HANDLER_C, { lbctl_signal_to_pipe: { args: ["int", "int"], returns: "int" } });
    const [readEnd, writeEnd] = libc.pipe();
    if (compiled.symbols.lbctl_signal_to_pipe(signo, writeEnd) !== 0) throw new Error("sigaction failed");
    void (async () => {
      for await (const chunk of Bun.file(readEnd).stream()) {
        for (let i = 0; i < chunk.length; i++) handler();
      }
    })().catch(() => { /* the pipe only closes with the process */ });
    return { ok: true };
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  libc.ignoreSignal(signo);
  return { ok: false, error };
}

export interface KeepalivedSignals { jsonSignal: RealtimeSignalResult }

/** Installs SIGUSR1, SIGUSR2 and signal 36 for the daemon. */
export function installKeepalivedSignals(o: DumpWriterOptions): KeepalivedSignals {
  const dump = (kind: DumpKind) => { void (o.refresh?.() ?? Promise.resolve()).then(() => writeDump(kind, o)); };
  process.on("SIGUSR1", () => dump("data"));
  process.on("SIGUSR2", () => dump("stats"));
  const jsonSignal = onRealtimeSignal(SIGNUM_JSON, () => dump("json"));
  if (!jsonSignal.ok) o.log.warning(`signal ${SIGNUM_JSON} (keepalived's JSON dump) is ignored: ${jsonSignal.error}`);
  return { jsonSignal };
}
