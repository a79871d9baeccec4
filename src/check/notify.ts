// Runs notify_up/notify_down/quorum_up/quorum_down commands one after another, in event order, without
// blocking the event loop (each through `sh -c`, with a timeout that kills its process group).
import { spawn } from "node:child_process";

export interface NotifyOutcome { command: string; exitCode: number | null; signal: string | null; timedOut: boolean }

export class NotifyRunner {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly timeoutMs = 30_000, private readonly onDone?: (o: NotifyOutcome) => void) {}

  /** Queue `command`; resolves when it has run. Commands run strictly in the order they were queued. */
  run(command: string, env: Record<string, string> = {}): Promise<NotifyOutcome> {
    const result = this.queue.then(() => runOne(command, env, this.timeoutMs));
    this.queue = result.then((o) => { this.onDone?.(o); }, () => undefined);
    return result;
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> { return this.queue; }
}

function runOne(command: string, env: Record<string, string>, timeoutMs: number): Promise<NotifyOutcome> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: "ignore", env: { ...process.env, ...env } });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }
    }, timeoutMs);
    child.on("error", () => { clearTimeout(timer); resolve({ command, exitCode: null, signal: null, timedOut }); });
    child.on("exit", (code, sig) => { clearTimeout(timer); resolve({ command, exitCode: code, signal: sig, timedOut }); });
  });
}
