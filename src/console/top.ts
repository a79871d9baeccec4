// `lbctl top`: the screen as a pure function of what the console knows (the last status, the
// recent events, the last error) and the terminal size. The shell in cmd-top.ts only feeds it
// and writes the lines. Plain ANSI (no curses library): the screen is a refreshed table, and
// blessed would need build-time patching to work in the compiled binary (see docs/api.md).
import type { EventV1, StatusV1 } from "../daemon/api-types.ts";
import {
  daemonLines, formatEvent, INSTANCE_HEADER, instanceRow, peerMismatchLine, REAL_SERVER_HEADER, realServerRow, table, virtualServerLine,
} from "./format.ts";

export type LineStyle = "plain" | "heading" | "good" | "bad" | "warn" | "dim" | "inverse";
export interface ScreenLine { text: string; style: LineStyle }

export interface TopModel {
  socket: string;
  status: StatusV1 | null;
  /** Newest last. */
  events: EventV1[];
  /** Why the last refresh failed (the daemon went away ...), shown instead of stale data being trusted. */
  error: string | null;
  /** When `status` was fetched. */
  fetchedAt: number | null;
  /** A line from outside, shown above the key line (`lbctl demo --watch` narrates there). */
  note?: string | null;
}

const EVENT_LINES = 8;

function line(text: string, style: LineStyle = "plain"): ScreenLine { return { text, style }; }

function body(m: TopModel, now: number): ScreenLine[] {
  const s = m.status;
  if (!s) return [line(m.error ? `not connected: ${m.error}` : "connecting ...", m.error ? "bad" : "dim")];
  const out: ScreenLine[] = daemonLines(s, now).map((t) => line(t));
  if (m.error) out.push(line(`stale (${m.error})`, "bad"));
  out.push(line(""));
  out.push(line(`VRRP INSTANCES (${s.vrrp.instances.length})`, "heading"));
  if (s.vrrp.instances.length) {
    const rows = table(INSTANCE_HEADER, s.vrrp.instances.map((i) => instanceRow(i, now)));
    out.push(line(rows[0], "dim"));
    s.vrrp.instances.forEach((i, k) => {
      const style: LineStyle = i.peerMismatch ? "warn" : i.state === "MASTER" ? "good" : i.state === "FAULT" || i.state === "UNKNOWN" ? "bad" : i.forcedBackup ? "warn" : "plain";
      out.push(line(rows[k + 1], style));
    });
    for (const i of s.vrrp.instances) if (i.peerMismatch) out.push(line(peerMismatchLine(i.name, i.peerMismatch, now), "warn"));
  }
  out.push(line(""));
  out.push(line(`VIRTUAL SERVERS (${s.virtualServers.length})`, "heading"));
  for (const vs of s.virtualServers) {
    out.push(line(virtualServerLine(vs), vs.quorumUp === false ? "bad" : "plain"));
    if (!vs.realServers.length) continue;
    const rows = table(REAL_SERVER_HEADER, vs.realServers.map(realServerRow));
    out.push(line(`  ${rows[0]}`, "dim"));
    vs.realServers.forEach((rs, k) => {
      const style: LineStyle = rs.health === "down" ? "bad" : rs.drained ? "warn" : rs.health === "up" ? "good" : "plain";
      out.push(line(`  ${rows[k + 1]}`, style));
    });
  }
  return out;
}

/** Exactly `rows` lines, none wider than `columns`: a title, the body (cut if it must be), the recent events, a key line. */
export function renderTop(m: TopModel, size: { columns: number; rows: number }, now: number): ScreenLine[] {
  const columns = Math.max(1, size.columns), rows = Math.max(3, size.rows);
  const title = line(`lbctl top  ${m.socket}  ${new Date(now).toISOString().slice(11, 19)}Z`, "inverse");
  const footer = line("q quit  r refresh", "dim");
  const note = m.note ? [line(m.note, "warn")] : [];
  const events = m.events.slice(-EVENT_LINES).map((e) => line(formatEvent(e), e.type === "real-server" && e.health === "down" ? "bad" : "plain"));
  const eventBlock = [line(""), line("RECENT EVENTS", "heading"), ...(events.length ? events : [line("none yet", "dim")])];
  let middle = body(m, now);
  // Between the title and the footer: the body first, the events in what is left, but at least
  // three of them (if there are) unless the terminal is too small for even that.
  const room = rows - 2 - note.length;
  let eventRoom = Math.min(eventBlock.length, Math.max(room - middle.length, 5));
  if (eventRoom < 3 || room - eventRoom < 2) eventRoom = 0;
  const shownEvents = eventRoom ? [...eventBlock.slice(0, 2), ...eventBlock.slice(2).slice(-(eventRoom - 2))] : [];
  const bodyRoom = room - shownEvents.length;
  if (middle.length > bodyRoom) {
    const cut = middle.length - bodyRoom + 1;
    middle = [...middle.slice(0, bodyRoom - 1), line(`... ${cut} more line(s): enlarge the terminal or use lbctl status`, "dim")];
  }
  const filler = Array.from({ length: Math.max(0, bodyRoom - middle.length) }, () => line(""));
  return [title, ...middle, ...filler, ...shownEvents, ...note, footer].map((l) => ({ ...l, text: l.text.slice(0, columns) }));
}

const SGR: Record<LineStyle, string> = {
  plain: "", heading: "\x1b[1m", good: "\x1b[32m", bad: "\x1b[31;1m", warn: "\x1b[33m", dim: "\x1b[2m", inverse: "\x1b[7m",
};

/** The escape sequences that paint a screen: home, each line cleared to its end, the rest cleared. */
export function paint(lines: ScreenLine[], columns: number): string {
  const parts = lines.map((l) => {
    const text = l.style === "inverse" ? l.text.padEnd(columns) : l.text;
    return SGR[l.style] ? `${SGR[l.style]}${text}\x1b[0m\x1b[K` : `${text}\x1b[K`;
  });
  return `\x1b[H${parts.join("\r\n")}\x1b[J`;
}
