// lbctl top: a live console of every VRRP instance, virtual server and real server. It follows
// the event stream and refetches the status on every event (and every few seconds, for the
// IPVS counters, which change without events). The screen itself is src/console/top.ts.
import { readFileSync } from "node:fs";
import { renderTop, paint, type TopModel } from "../console/top.ts";
import type { EventV1 } from "../daemon/api-types.ts";
import { ApiClient, ApiClientError, socketFrom, DAEMON_OPTIONS, DAEMON_OPTIONS_HELP, DAEMON_OPTIONS_USAGE } from "./api-client.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs, USAGE_EXIT } from "./config-cli.ts";

const usage = `lbctl top [--interval SECONDS] ${DAEMON_OPTIONS_USAGE} [--note-file PATH]`;
const KEPT_EVENTS = 50;

function message(e: unknown): string {
  return e instanceof ApiClientError || e instanceof Error ? e.message : String(e);
}

const cmd: Command = {
  summary: [
    "A live console of the running daemon: VRRP instances, virtual servers, real servers and recent events,",
    "redrawn as events arrive. Keys: q (or Ctrl-C) quits, r refreshes.",
    "  --interval SECONDS   also refresh this often (default 2) for the IPVS counters",
    ...DAEMON_OPTIONS_HELP,
    "  --note-file PATH     show the last line of this file above the key line (lbctl demo --watch narrates there)",
  ].join("\n"),
  usage,
  async run(argv) {
    const args = parseCommandArgs(argv, { interval: { type: "string" }, ...DAEMON_OPTIONS, "note-file": { type: "string" } }, usage);
    if (!args) return USAGE_EXIT;
    const interval = Number((args.values.interval as string | undefined) ?? "2");
    if (!Number.isFinite(interval) || interval < 0.1) { process.stderr.write(`lbctl: --interval takes seconds (at least 0.1)\nusage: ${usage}\n`); return USAGE_EXIT; }
    if (!process.stdout.isTTY) { process.stderr.write("lbctl: top needs a terminal; use lbctl status or lbctl events in scripts\n"); return 1; }
    let socket: string;
    try { socket = socketFrom(args.values); } catch (e) { process.stderr.write(`lbctl: ${(e as Error).message}\n`); return USAGE_EXIT; }
    return runConsole(new ApiClient(socket), interval * 1000, args.values["note-file"] as string | undefined);
  },
};
export default cmd;

/** The last non-empty line of a file, or null when it cannot be read. */
function lastLine(path: string): string | null {
  try { return readFileSync(path, "utf8").trimEnd().split("\n").at(-1) ?? null; } catch { return null; }
}

async function runConsole(client: ApiClient, intervalMs: number, noteFile?: string): Promise<number> {
  const model: TopModel = { socket: client.socket, status: null, events: [], error: null, fetchedAt: null };
  const out = process.stdout;
  const stop = new AbortController();
  let lastSeq = 0;
  let epoch: number | undefined;
  let refreshing = false, refreshAgain = false;

  const draw = (): void => {
    const size = { columns: out.columns || 80, rows: out.rows || 24 };
    out.write(paint(renderTop(model, size, Date.now()), size.columns));
  };

  const refresh = async (): Promise<void> => {
    // One fetch at a time; a burst of events during a fetch costs one more fetch, not one each.
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    try {
      do {
        refreshAgain = false;
        try {
          model.status = await client.status();
          model.fetchedAt = Date.now();
          model.error = null;
        } catch (e) { model.error = message(e); }
        if (!stop.signal.aborted) draw();
      } while (refreshAgain && !stop.signal.aborted);
    } finally { refreshing = false; }
  };

  const onEvent = (e: EventV1): void => {
    lastSeq = e.seq;
    model.events.push(e);
    if (model.events.length > KEPT_EVENTS) model.events.splice(0, model.events.length - KEPT_EVENTS);
    void refresh();
  };

  // Follows the stream; when the daemon goes away, says so and reconnects from the last seq seen.
  const follow = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        await client.events({
          since: lastSeq, epoch, follow: true, signal: stop.signal, onEvent,
          onOpen: (e) => {
            // A restarted daemon numbers its events from 1 again: what we kept is from the old one.
            if (epoch !== undefined && e !== epoch) { model.events = []; lastSeq = 0; }
            epoch = e ?? undefined;
          },
        });
      } catch (e) { model.error = message(e); }
      if (stop.signal.aborted) return;
      draw();
      await new Promise((res) => setTimeout(res, Math.min(intervalMs, 2000)));
    }
  };

  const stdin = process.stdin;
  const done = new Promise<void>((resolve) => {
    const quit = (): void => { if (!stop.signal.aborted) { stop.abort(); resolve(); } };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", (d: Buffer) => {
      const k = d.toString();
      if (k === "q" || k === "Q" || k === "\x03" || k === "\x04") quit();
      else if (k === "r" || k === "R") void refresh();
    });
    process.once("SIGINT", quit);
    process.once("SIGTERM", quit);
  });

  out.write("\x1b[?1049h\x1b[?25l"); // alternate screen, hidden cursor
  const onResize = (): void => draw();
  out.on("resize", onResize);
  const timer = setInterval(() => void refresh(), intervalMs);
  // The note file is polled: it is small and written by another process.
  const noteTimer = noteFile ? setInterval(() => {
    const note = lastLine(noteFile);
    if (note !== model.note) { model.note = note; if (!stop.signal.aborted) draw(); }
  }, 250) : undefined;
  try {
    draw();
    void refresh();
    void follow();
    await done;
  } finally {
    clearInterval(timer);
    clearInterval(noteTimer);
    out.off("resize", onResize);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    out.write("\x1b[?25h\x1b[?1049l");
  }
  return 0;
}
