// `lbctl demo --watch`: `lbctl top` in the foreground on the current master's control socket,
// restarted on the new master's socket at each failover. The demo's narration goes to a file
// that top shows above its key line, so nothing else writes to the terminal meanwhile.
import type { Subprocess } from "bun";

export class TopWatch {
  private proc: Subprocess | null = null;
  private socket: string | null = null;
  private chain: Promise<void> = Promise.resolve();

  /** `onQuit`: top ended by itself (q or Ctrl-C): the user wants the demo to stop. */
  constructor(private readonly lbctl: string[], private readonly noteFile: string, private readonly onQuit: () => void) {}

  /** Shows `socket` (one top at a time: the old one restores the screen before the next starts). */
  show(socket: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (socket === this.socket && this.proc) return;
      await this.end();
      this.socket = socket;
      const p = Bun.spawn([...this.lbctl, "top", "--socket", socket, "--interval", "1", "--note-file", this.noteFile], {
        stdio: ["inherit", "inherit", "inherit"],
      });
      this.proc = p;
      void p.exited.then(() => { if (this.proc === p) { this.proc = null; this.onQuit(); } });
    });
    return this.chain;
  }

  /** Ends top (it leaves the alternate screen) and waits for it. */
  close(): Promise<void> {
    this.chain = this.chain.then(() => this.end());
    return this.chain;
  }

  private async end(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    this.socket = null;
    if (!p) return;
    p.kill("SIGTERM");
    await Promise.race([p.exited, Bun.sleep(2000)]);
    if (p.exitCode === null) p.kill("SIGKILL");
  }
}
