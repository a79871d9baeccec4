// MISC_CHECK: run misc_path through `sh -c` in its own process group, asynchronously. Exit 0 is success;
// with misc_dynamic, exit 2..255 is success with weight code-2; anything else fails. At misc_timeout the
// whole group gets SIGTERM, then SIGKILL if it lingers (keepalived does the same), so a script's
// children cannot outlive the check.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { timed } from "./conn.ts";
import { CheckFailure, describeError } from "./errors.ts";
import type { CheckResult, MiscCheckParams } from "./types.ts";

const KILL_GRACE_MS = 1_000;
const OUTPUT_KEEP_BYTES = 2_048;

export interface ExitVerdict { ok: boolean; weight?: number; reason: string }

/** Pure: what an exit status means (keepalived's misc_check_child_thread). */
export function judgeExit(params: MiscCheckParams, code: number): ExitVerdict {
  if (code === 0) return { ok: true, reason: "exited with status 0" };
  if (params.dynamic && code >= 2 && code <= 255) return { ok: true, weight: code - 2, reason: `exited with status ${code} (misc_dynamic weight ${code - 2})` };
  return { ok: false, reason: `exited with status ${code}` };
}

function signalName(sig: number | string): string {
  if (typeof sig === "string") return sig;
  const entry = Object.entries(constants.signals).find(([, n]) => n === sig);
  return entry ? entry[0] : `signal ${sig}`;
}

function lastLine(chunks: Buffer[]): string {
  const text = Buffer.concat(chunks).toString("utf8").trim();
  const line = text.split("\n").pop() ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

export function run(params: MiscCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  return timed(() => new Promise((resolve, reject) => {
    const what = `misc_path ${JSON.stringify(params.path)}`;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("/bin/sh", ["-c", params.path], {
        detached: true, stdio: ["ignore", "pipe", "pipe"],
        ...(params.uid !== undefined ? { uid: params.uid } : {}),
        ...(params.gid !== undefined ? { gid: params.gid } : {}),
      });
    } catch (e) {
      reject(new CheckFailure(`${what} could not be started: ${describeError(e)}`));
      return;
    }
    const output: Buffer[] = [];
    let kept = 0;
    const keep = (d: Buffer) => {
      if (kept >= OUTPUT_KEEP_BYTES) { output.push(d.subarray(Math.max(0, d.length - OUTPUT_KEEP_BYTES))); output.shift(); return; }
      output.push(d);
      kept += d.length;
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let timedOut = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try { process.kill(-child.pid, sig); } catch { /* group already gone */ }
    };
    const terminate = () => {
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => { timedOut = true; terminate(); }, params.timeoutMs);
    const onAbort = () => terminate();
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new CheckFailure(`${what} could not be started: ${describeError(e)}`));
    });
    // "exit", not "close": a background child still holding the pipes must not delay the verdict.
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      // After a timeout, whatever the script left behind in its group goes too.
      if (timedOut || signal?.aborted) killGroup("SIGKILL");
      child.stdout?.destroy();
      child.stderr?.destroy();
      const out = lastLine(output);
      const suffix = out ? `; last output: ${JSON.stringify(out)}` : "";
      if (timedOut) { reject(new CheckFailure(`${what} timed out after ${params.timeoutMs} ms (process group killed)${suffix}`, { timeout: true })); return; }
      if (signal?.aborted) { reject(new CheckFailure("check aborted")); return; }
      if (code === null) { reject(new CheckFailure(`${what} killed by ${signalName(sig ?? 0)}${suffix}`)); return; }
      const v = judgeExit(params, code);
      if (!v.ok) { reject(new CheckFailure(`${what} ${v.reason}${suffix}`, { exitCode: code })); return; }
      resolve({ ok: true, reason: `${what} ${v.reason}`, detail: { exitCode: code }, ...(v.weight !== undefined ? { weight: v.weight } : {}) });
    });
  }));
}
