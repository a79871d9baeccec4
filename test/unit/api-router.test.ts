import { describe, expect, it } from "vitest";
import { route, eventStream, findVirtualServer, MAX_BACKLOG, type ApiResponse } from "../../src/daemon/control-api.ts";
import type { EventV1, StatusV1 } from "../../src/daemon/api-types.ts";
import { RecordingFacade, sampleFacade } from "./api-fixture.ts";

function facade(): RecordingFacade {
  return new RecordingFacade(sampleFacade().facade.status());
}

async function call(f: RecordingFacade, method: string, path: string, body = "", accept?: string): Promise<ApiResponse> {
  const [p, q = ""] = path.split("?");
  return route({ method, path: p, query: new URLSearchParams(q), body, accept }, f);
}

function jsonOf(r: ApiResponse): { status: number; body: Record<string, unknown>; headers?: Record<string, string> } {
  if (r.kind !== "json") throw new Error(`expected a JSON response, got ${r.kind}`);
  return r as { status: number; body: Record<string, unknown>; headers?: Record<string, string> };
}

function errorCode(r: ApiResponse): string {
  return (jsonOf(r).body.error as { code: string }).code;
}

const enc = encodeURIComponent;
const RS_PATH = `/v1/virtual-servers/${enc("TCP 10.0.0.100:80")}/real-servers/${enc("10.0.0.2:80")}`;

describe("GET /v1/status", () => {
  it("returns the facade's status with apiVersion 1", async () => {
    const f = facade();
    const r = jsonOf(await call(f, "GET", "/v1/status"));
    expect(r.status).toBe(200);
    const s = r.body as unknown as StatusV1;
    expect(s.apiVersion).toBe(1);
    expect(s.vrrp.instances.map((i) => i.name)).toEqual(["VI_1", "VI_6"]);
    expect(s.virtualServers[0].realServers[0].key).toBe("10.0.0.2:80");
  });
  it("accepts a trailing slash but not unknown query parameters", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "GET", "/v1/status/")).status).toBe(200);
    const bad = await call(f, "GET", "/v1/status?verbose=1");
    expect(jsonOf(bad).status).toBe(400);
    expect(errorCode(bad)).toBe("bad_query");
  });
  it("refuses POST with 405 and an Allow header", async () => {
    const r = jsonOf(await call(facade(), "POST", "/v1/status"));
    expect(r.status).toBe(405);
    expect(r.headers?.Allow).toBe("GET");
  });
});

describe("unknown paths and bad encoding", () => {
  it.each(["/", "/v1", "/v2/status", "/v1/statuses", "/v1/virtual-servers", "/v1/vrrp/instances/VI_1", "/v1/vrrp/instances/VI_1/force-backup/now"])(
    "%s is 404", async (p) => {
      const r = await call(facade(), "GET", p);
      expect(jsonOf(r).status).toBe(404);
      expect(errorCode(r)).toBe("not_found");
    },
  );
  it("a broken percent-escape is 400", async () => {
    const r = await call(facade(), "POST", "/v1/vrrp/instances/%E0%A4%A/resume");
    expect(jsonOf(r).status).toBe(400);
    expect(errorCode(r)).toBe("bad_path");
  });
});

describe("POST /v1/reload", () => {
  it("returns the diagnostics with 200 when applied", async () => {
    const f = facade();
    f.reloadResult = { ok: true, errors: [], warnings: ["a.conf:1:1: warning: w"] };
    const r = jsonOf(await call(f, "POST", "/v1/reload"));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, errors: [], warnings: ["a.conf:1:1: warning: w"] });
    expect(f.calls).toEqual(["reload"]);
  });
  it("returns 409 with the errors when the configuration is rejected", async () => {
    const f = facade();
    f.reloadResult = { ok: false, errors: ["a.conf:2:3: error: bad"], warnings: [] };
    const r = jsonOf(await call(f, "POST", "/v1/reload", "{}"));
    expect(r.status).toBe(409);
    expect(r.body.errors).toEqual(["a.conf:2:3: error: bad"]);
  });
  it.each([["not json", "{"], ["an array", "[]"], ["an unknown field", "{\"force\":true}"]])("a body with %s is 400 and does not reload", async (_what, body) => {
    const f = facade();
    const r = await call(f, "POST", "/v1/reload", body);
    expect(jsonOf(r).status).toBe(400);
    expect(errorCode(r)).toBe("bad_body");
    expect(f.calls).toEqual([]);
  });
  it("GET is 405 and does not reload", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "GET", "/v1/reload")).status).toBe(405);
    expect(f.calls).toEqual([]);
  });
});

describe("drain and undrain", () => {
  it.each(["drain", "undrain"] as const)("%s calls the facade with the resolved keys", async (kind) => {
    const f = facade();
    const r = jsonOf(await call(f, "POST", `${RS_PATH}/${kind}`));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, message: "done" });
    expect(f.calls).toEqual([JSON.stringify({ kind, vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80" })]);
  });
  it("accepts the virtual server by address:port when unambiguous, and IPv6 keys", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "POST", `/v1/virtual-servers/${enc("10.0.0.100:80")}/real-servers/${enc("10.0.0.2:80")}/drain`)).status).toBe(200);
    expect(jsonOf(await call(f, "POST", `/v1/virtual-servers/${enc("[2001:db8::100]:53")}/real-servers/${enc("[2001:db8::2]:53")}/drain`)).status).toBe(200);
    expect(f.calls.map((c) => JSON.parse(c).vs)).toEqual(["TCP 10.0.0.100:80", "UDP [2001:db8::100]:53"]);
  });
  it("an action the daemon refuses is 409 with its message", async () => {
    const f = facade();
    f.actionResult = { ok: false, message: "check process is not running" };
    const r = jsonOf(await call(f, "POST", `${RS_PATH}/drain`));
    expect(r.status).toBe(409);
    expect(r.body.message).toBe("check process is not running");
  });
  it.each([
    ["an unknown virtual server", `/v1/virtual-servers/${enc("TCP 10.9.9.9:80")}/real-servers/${enc("10.0.0.2:80")}/drain`, /no virtual server 'TCP 10.9.9.9:80'/],
    ["an unknown real server", `/v1/virtual-servers/${enc("TCP 10.0.0.100:80")}/real-servers/${enc("10.0.0.9:80")}/drain`, /has no real server '10.0.0.9:80'/],
    ["a real server of another virtual server", `/v1/virtual-servers/${enc("FWM 7")}/real-servers/${enc("10.0.0.2:80")}/undrain`, /FWM 7 has no real server/],
  ])("%s is 404 with no effect", async (_what, path, msg) => {
    const f = facade();
    const r = await call(f, "POST", path);
    expect(jsonOf(r).status).toBe(404);
    expect((jsonOf(r).body.error as { message: string }).message).toMatch(msg);
    expect(f.calls).toEqual([]);
  });
  it("a body with parameters is 400 with no effect", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "POST", `${RS_PATH}/drain`, "{\"weight\":0}")).status).toBe(400);
    expect(jsonOf(await call(f, "POST", `${RS_PATH}/drain?now=1`)).status).toBe(400);
    expect(f.calls).toEqual([]);
  });
  it("GET and DELETE are 405 with no effect", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "GET", `${RS_PATH}/drain`)).status).toBe(405);
    expect(jsonOf(await call(f, "DELETE", `${RS_PATH}/undrain`)).status).toBe(405);
    expect(f.calls).toEqual([]);
  });
});

describe("checkers enable/disable", () => {
  it.each([["disable", "disable-checker"], ["enable", "enable-checker"]] as const)("%s names the checker", async (verb, kind) => {
    const f = facade();
    const r = jsonOf(await call(f, "POST", `${RS_PATH}/checkers/http-0/${verb}`));
    expect(r.status).toBe(200);
    expect(f.calls).toEqual([JSON.stringify({ kind, vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80", checker: "http-0" })]);
  });
  it("an unknown checker is 404 with no effect", async () => {
    const f = facade();
    const r = await call(f, "POST", `${RS_PATH}/checkers/tcp-0/disable`);
    expect(jsonOf(r).status).toBe(404);
    expect((jsonOf(r).body.error as { message: string }).message).toMatch(/no checker 'tcp-0'/);
    expect(f.calls).toEqual([]);
  });
});

describe("VRRP force-backup and resume", () => {
  it.each(["force-backup", "resume"] as const)("%s reaches the facade", async (kind) => {
    const f = facade();
    expect(jsonOf(await call(f, "POST", `/v1/vrrp/instances/VI_6/${kind}`)).status).toBe(200);
    expect(f.calls).toEqual([JSON.stringify({ kind, instance: "VI_6" })]);
  });
  it("an unknown instance is 404 with no effect; a body is 400", async () => {
    const f = facade();
    expect(jsonOf(await call(f, "POST", "/v1/vrrp/instances/VI_9/force-backup")).status).toBe(404);
    expect(jsonOf(await call(f, "POST", "/v1/vrrp/instances/VI_1/force-backup", "x")).status).toBe(400);
    expect(jsonOf(await call(f, "PUT", "/v1/vrrp/instances/VI_1/resume")).status).toBe(405);
    expect(f.calls).toEqual([]);
  });
});

describe("a facade that throws", () => {
  it("is a 500 with its message, not an exception", async () => {
    const f = facade();
    f.reload = async () => { throw new Error("supervisor is stopping"); };
    const r = await call(f, "POST", "/v1/reload");
    expect(jsonOf(r).status).toBe(500);
    expect((jsonOf(r).body.error as { message: string }).message).toBe("supervisor is stopping");
  });
});

describe("GET /v1/events", () => {
  it("parses since, follow and format (query or Accept), and names the daemon's run", async () => {
    const f = facade();
    const epoch = f.status().daemon.startedAt;
    expect(await call(f, "GET", "/v1/events")).toEqual({ kind: "events", since: 0, follow: true, format: "ndjson", epoch });
    expect(await call(f, "GET", "/v1/events?since=12&follow=0")).toEqual({ kind: "events", since: 12, follow: false, format: "ndjson", epoch });
    expect(await call(f, "GET", "/v1/events", "", "text/event-stream")).toEqual({ kind: "events", since: 0, follow: true, format: "sse", epoch });
  });
  it("keeps since for the same run and replays everything for another run (a restarted daemon)", async () => {
    const f = facade();
    const epoch = f.status().daemon.startedAt;
    expect(await call(f, "GET", `/v1/events?since=12&epoch=${epoch}`)).toMatchObject({ since: 12 });
    expect(await call(f, "GET", `/v1/events?since=12&epoch=${epoch - 1}`)).toMatchObject({ since: 0 });
  });
  it.each(["since=-1", "since=x", "follow=yes", "format=xml", "tail=3", "epoch=soon"])("?%s is 400", async (q) => {
    const r = await call(facade(), "GET", `/v1/events?${q}`);
    expect(jsonOf(r).status).toBe(400);
  });

  async function read(stream: ReadableStream<Uint8Array>, lines: number): Promise<string[]> {
    const out: string[] = [];
    let buf = "";
    const reader = stream.getReader();
    while (out.length < lines) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      out.push(...parts);
    }
    reader.releaseLock();
    return out;
  }

  it("replays kept events after since, then streams live ones, each once", async () => {
    const f = facade();
    for (let i = 1; i <= 3; i++) f.log.publish({ type: "reload", ok: true, errors: 0, warnings: 0, message: `r${i}` }, 1000 + i);
    const ac = new AbortController();
    const stream = eventStream(f, 1, true, "ndjson", ac.signal);
    const first = await read(stream, 2);
    expect(first.map((l) => (JSON.parse(l) as EventV1).message)).toEqual(["r2", "r3"]);
    f.log.publish({ type: "drain", vs: "v", rs: "r", drained: true, message: "live" }, 2000);
    const live = await read(stream, 1);
    expect(JSON.parse(live[0])).toMatchObject({ seq: 4, at: 2000, type: "drain", message: "live" });
    expect(f.log.subscriberCount).toBe(1);
    ac.abort();
    expect(f.log.subscriberCount).toBe(0);
  });
  it("cuts off a follower that stopped reading once it is MAX_BACKLOG events behind", async () => {
    const f = facade();
    const stream = eventStream(f, 0, true, "ndjson");
    for (let i = 0; i < MAX_BACKLOG; i++) f.log.publish({ type: "other", source: "t", data: {}, message: "x" }, i);
    expect(f.log.subscriberCount).toBe(1);
    f.log.publish({ type: "other", source: "t", data: {}, message: "one too many" }, 0);
    expect(f.log.subscriberCount).toBe(0);
    const text = await new Response(stream).text(); // closed: the reader gets what was queued, then the end
    expect(text.trim().split("\n")).toHaveLength(MAX_BACKLOG + 1);
  });
  it("without follow ends after the replay; SSE frames carry id and event", async () => {
    const f = facade();
    f.log.publish({ type: "reload", ok: false, errors: 2, warnings: 0, message: "rejected" }, 5);
    const nd = await new Response(eventStream(f, 0, false, "ndjson")).text();
    expect(nd.trim().split("\n")).toHaveLength(1);
    const sse = await new Response(eventStream(f, 0, false, "sse")).text();
    expect(sse).toBe(`id: 1\nevent: reload\ndata: ${JSON.stringify(f.log.since(0)[0])}\n\n`);
    expect(f.log.subscriberCount).toBe(0);
  });
});

describe("findVirtualServer", () => {
  it("is exact first, then unique address:port, and says when it is ambiguous", () => {
    const list = [{ key: "TCP 10.0.0.1:80" }, { key: "UDP 10.0.0.1:80" }, { key: "TCP 10.0.0.2:80" }] as unknown as Parameters<typeof findVirtualServer>[0];
    expect(findVirtualServer(list, "UDP 10.0.0.1:80")).toMatchObject({ key: "UDP 10.0.0.1:80" });
    expect(findVirtualServer(list, "10.0.0.2:80")).toMatchObject({ key: "TCP 10.0.0.2:80" });
    expect(findVirtualServer(list, "10.0.0.1:80")).toEqual({ error: "'10.0.0.1:80' matches TCP 10.0.0.1:80 and UDP 10.0.0.1:80; name one with its protocol" });
    expect(findVirtualServer(list, "10.0.0.3:80")).toEqual({ error: "no virtual server '10.0.0.3:80'" });
  });
});
