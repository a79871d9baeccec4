// Pure incremental HTTP/1.x response reader: status line, headers, then the body framed by
// Content-Length, chunked transfer coding, or the connection closing. Bytes in, verdicts out.

export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: Record<string, string>;
}

export type ReadProgress =
  | { kind: "need-more"; phase: "waiting for response headers" | "reading body" }
  | { kind: "done"; head: ResponseHead; body: Buffer }
  | { kind: "error"; message: string };

const MAX_HEAD_BYTES = 64 * 1024;

export function parseHead(raw: string): ResponseHead | string {
  const lines = raw.split("\r\n");
  const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!m) return `malformed status line ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const i = line.indexOf(":");
    if (i <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { version: m[1], status: Number(m[2]), reason: m[3] ?? "", headers };
}

/** Decode a chunked body; returns the body when the last chunk is complete, "need-more", or an error text. */
export function decodeChunked(buf: Buffer): Buffer | "need-more" | string {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", pos);
    if (eol < 0) return "need-more";
    const sizeText = buf.subarray(pos, eol).toString("latin1").split(";")[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return `malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`;
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) {
      // Trailers end with an empty line.
      const end = buf.indexOf("\r\n\r\n", pos - 2);
      return end < 0 ? "need-more" : Buffer.concat(parts);
    }
    if (buf.length < pos + size + 2) return "need-more";
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/** Where the response stands given everything received so far and whether the peer closed. */
export function readResponse(buf: Buffer, ended: boolean, requestMethod = "GET"): ReadProgress {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD_BYTES) return { kind: "error", message: `response headers longer than ${MAX_HEAD_BYTES} bytes` };
    if (ended) return { kind: "error", message: `connection closed before the end of the response headers (received ${buf.length} bytes)` };
    return { kind: "need-more", phase: "waiting for response headers" };
  }
  const head = parseHead(buf.subarray(0, headEnd).toString("latin1"));
  if (typeof head === "string") return { kind: "error", message: head };
  const rest = buf.subarray(headEnd + 4);
  const noBody = requestMethod === "HEAD" || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
  if (noBody) return { kind: "done", head, body: Buffer.alloc(0) };
  if (/\bchunked\b/i.test(head.headers["transfer-encoding"] ?? "")) {
    const body = decodeChunked(rest);
    if (body === "need-more") {
      return ended ? { kind: "error", message: `connection closed in the middle of a chunked body (received ${rest.length} body bytes)` }
        : { kind: "need-more", phase: "reading body" };
    }
    if (typeof body === "string") return { kind: "error", message: body };
    return { kind: "done", head, body };
  }
  const cl = head.headers["content-length"];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return { kind: "error", message: `malformed Content-Length ${JSON.stringify(cl)}` };
    const len = Number(cl);
    if (rest.length >= len) return { kind: "done", head, body: rest.subarray(0, len) };
    if (ended) return { kind: "error", message: `connection closed after ${rest.length} of ${len} body bytes` };
    return { kind: "need-more", phase: "reading body" };
  }
  return ended ? { kind: "done", head, body: rest } : { kind: "need-more", phase: "reading body" };
}
