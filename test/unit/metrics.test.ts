import { describe, expect, it } from "vitest";
import { parseListen, renderMetrics, resolveMetricsListen } from "../../src/daemon/metrics.ts";
import { sampleFacade, T0 } from "./api-fixture.ts";
import { parseExposition, valueOf } from "./metrics-parser.ts";

function sample() {
  const { facade, sup } = sampleFacade();
  sup.lastReload = { at: T0, ok: false, message: "bad" };
  sup.reloadCount = 3;
  return facade.status();
}

describe("renderMetrics", () => {
  const text = renderMetrics(sample());
  const fams = parseExposition(text);

  it("parses as strict exposition format, every family with HELP and TYPE", () => {
    for (const f of fams.values()) {
      expect(f.help, f.name).not.toBeNull();
      expect(f.type, f.name).not.toBe("untyped");
      expect(f.name.startsWith("lbctl_"), f.name).toBe(true);
      if (f.type === "counter") expect(f.name.endsWith("_total"), f.name).toBe(true);
    }
  });

  it("daemon: build info, reloads, last reload result, children", () => {
    expect(valueOf(fams, "lbctl_build_info", { version: "0.1.0" })).toBe(1);
    expect(valueOf(fams, "lbctl_reloads_total")).toBe(3);
    expect(valueOf(fams, "lbctl_last_reload_success")).toBe(0);
    expect(valueOf(fams, "lbctl_last_reload_time_seconds")).toBe(T0 / 1000);
    expect(valueOf(fams, "lbctl_start_time_seconds")).toBe((T0 - 3_600_000) / 1000);
    expect(valueOf(fams, "lbctl_child_up", { role: "check" })).toBe(1);
    expect(valueOf(fams, "lbctl_child_restarts", { role: "check" })).toBe(2);
  });

  it("VRRP: one state series per state, priorities, transitions, adverts, drops by reason", () => {
    expect(valueOf(fams, "lbctl_vrrp_state", { instance: "VI_1", state: "MASTER" })).toBe(1);
    expect(valueOf(fams, "lbctl_vrrp_state", { instance: "VI_1", state: "BACKUP" })).toBe(0);
    expect(valueOf(fams, "lbctl_vrrp_state", { instance: "VI_6", state: "BACKUP" })).toBe(1);
    expect(fams.get("lbctl_vrrp_state")?.samples).toHaveLength(10);
    expect(valueOf(fams, "lbctl_vrrp_priority", { instance: "VI_6" })).toBe(90);
    expect(valueOf(fams, "lbctl_vrrp_base_priority", { instance: "VI_6" })).toBe(100);
    expect(valueOf(fams, "lbctl_vrrp_transitions_total", { instance: "VI_1" })).toBe(2);
    // VI_6's VRRP process does not count transitions: no series rather than a made-up 0
    expect(valueOf(fams, "lbctl_vrrp_transitions_total", { instance: "VI_6" })).toBeUndefined();
    expect(valueOf(fams, "lbctl_vrrp_adverts_received_total", { instance: "VI_1" })).toBe(10);
    expect(valueOf(fams, "lbctl_vrrp_adverts_sent_total", { instance: "VI_1" })).toBe(20);
    expect(valueOf(fams, "lbctl_vrrp_packets_dropped_total", { instance: "VI_1", reason: "auth_failure" })).toBe(3);
    expect(valueOf(fams, "lbctl_vrrp_packets_dropped_total", { instance: "VI_1", reason: "checksum" })).toBe(0);
    expect(valueOf(fams, "lbctl_vrrp_unmatched_packets_total", { reason: "unknown_vrid" })).toBe(7);
  });

  it("checkers: up, results by outcome, latency histogram", () => {
    const l = { vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80", checker: "http-0", type: "HTTP_GET" };
    expect(valueOf(fams, "lbctl_checker_up", l)).toBe(1);
    expect(valueOf(fams, "lbctl_checker_results_total", { ...l, result: "success" })).toBe(3);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_bucket", { ...l, le: "0.005" })).toBe(2);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_bucket", { ...l, le: "0.25" })).toBe(2);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_bucket", { ...l, le: "0.5" })).toBe(3);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_bucket", { ...l, le: "+Inf" })).toBe(3);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_count", l)).toBe(3);
    expect(valueOf(fams, "lbctl_checker_duration_seconds_sum", l)).toBeCloseTo(0.306);
    expect(valueOf(fams, "lbctl_checker_results_total", { vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80", checker: "tcp-0", type: "TCP_CHECK", result: "failure" })).toBe(5);
  });

  it("real and virtual servers: health, weights, IPVS counters and rates", () => {
    const rs = { vs: "TCP 10.0.0.100:80", rs: "10.0.0.2:80" };
    expect(valueOf(fams, "lbctl_real_server_up", rs)).toBe(1);
    expect(valueOf(fams, "lbctl_real_server_up", { vs: "TCP 10.0.0.100:80", rs: "10.0.0.3:80" })).toBe(0);
    expect(valueOf(fams, "lbctl_real_server_weight", rs)).toBe(3);
    expect(valueOf(fams, "lbctl_real_server_effective_weight", rs)).toBe(3);
    expect(valueOf(fams, "lbctl_ipvs_real_server_active_connections", rs)).toBe(4);
    expect(valueOf(fams, "lbctl_ipvs_real_server_bytes_total", { ...rs, direction: "out" })).toBe(128000);
    expect(valueOf(fams, "lbctl_ipvs_real_server_packet_rate", { ...rs, direction: "in" })).toBe(50);
    expect(valueOf(fams, "lbctl_ipvs_virtual_server_connections_total", { vs: "TCP 10.0.0.100:80" })).toBe(100);
    expect(valueOf(fams, "lbctl_virtual_server_quorum_up", { vs: "UDP [2001:db8::100]:53" })).toBe(0);
    expect(valueOf(fams, "lbctl_virtual_server_quorum_up", { vs: "FWM 7" })).toBeUndefined();
  });

  it("escapes label values that hold quotes, backslashes and newlines", () => {
    const s = sample();
    s.vrrp.instances[0].name = "we\"ird\\na\nme";
    const f = parseExposition(renderMetrics(s));
    expect(valueOf(f, "lbctl_vrrp_state", { instance: "we\"ird\\na\nme", state: "MASTER" })).toBe(1);
  });

  it("an empty daemon still renders valid exposition", () => {
    const s = sample();
    s.vrrp.instances = [];
    s.virtualServers = [];
    s.children = [];
    s.daemon.lastReload = null;
    const f = parseExposition(renderMetrics(s));
    expect(valueOf(f, "lbctl_last_reload_success")).toBeUndefined();
    expect(valueOf(f, "lbctl_reloads_total")).toBe(3);
  });
});

describe("the strict parser itself", () => {
  it.each([
    ["a family split in two", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"],
    ["a duplicate series", "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n"],
    ["an unquoted label", "a{x=1} 1\n"],
    ["a bad escape", "a{x=\"\\t\"} 1\n"],
    ["a TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["a negative counter", "# TYPE a_total counter\na_total -1\n"],
    ["non-cumulative buckets", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"],
    ["a missing final newline", "a 1"],
    ["a bad value", "a one\n"],
  ])("rejects %s", (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});

describe("parseListen", () => {
  it("takes HOST:PORT and [IPV6]:PORT", () => {
    expect(parseListen("127.0.0.1:9650")).toEqual({ hostname: "127.0.0.1", port: 9650 });
    expect(parseListen("[::1]:9650")).toEqual({ hostname: "::1", port: 9650 });
    expect(parseListen("localhost:80")).toEqual({ hostname: "localhost", port: 80 });
  });
  it.each(["9650", "127.0.0.1", "::1:9650", "127.0.0.1:0", "127.0.0.1:70000", "a b:1"])("rejects %s", (s) => {
    expect(parseListen(s)).toHaveProperty("error");
  });
});

describe("resolveMetricsListen", () => {
  it("is off unless asked; the flag wins over the environment", () => {
    expect(resolveMetricsListen(undefined, {})).toBeNull();
    expect(resolveMetricsListen(undefined, { LBCTL_METRICS_LISTEN: "" })).toBeNull();
    expect(resolveMetricsListen(undefined, { LBCTL_METRICS_LISTEN: "127.0.0.1:9650" })).toEqual({ hostname: "127.0.0.1", port: 9650 });
    expect(resolveMetricsListen("[::1]:9651", { LBCTL_METRICS_LISTEN: "127.0.0.1:9650" })).toEqual({ hostname: "::1", port: 9651 });
    expect(resolveMetricsListen("nope", {})).toHaveProperty("error");
  });
});

describe("lbctl_vrrp_peer_mismatch", () => {
  it("is 1 for an instance flagged with a peer mismatch, 0 for the others", () => {
    const s = sample();
    const [first, ...rest] = s.vrrp.instances;
    const flagged = { ...s, vrrp: { ...s.vrrp, instances: [{ ...first!, peerMismatch: { peer: "10.0.0.9", reason: "addressListMismatch", detail: "x", since: T0, adverts: 3 } }, ...rest] } };
    const f = parseExposition(renderMetrics(flagged));
    expect(valueOf(f, "lbctl_vrrp_peer_mismatch", { instance: first!.name })).toBe(1);
    for (const i of rest) expect(valueOf(f, "lbctl_vrrp_peer_mismatch", { instance: i.name })).toBe(0);
  });
});
