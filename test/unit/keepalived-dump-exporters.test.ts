// The parsers of two popular keepalived Prometheus exporters, ported line for line from Go,
// run against lbctl's dump files and against keepalived 2.2.7's own for the same state: every
// field they read must be there, parse, and give the same result.
//
// Sources (public repositories, read through the project's code search):
// - mehdy/keepalived-exporter internal/collector/parser.go (ParseVRRPData, ParseStats, ParseJSON
//   into collector.go's VRRP/VRRPData/VRRPStats structs) and setter.go (setState, setVRID ...).
// - gen2brain/keepalived_exporter collector/collector.go (parseData, parseStats, decodeJson into KAStats).
import { describe, expect, it } from "vitest";
import { formatKeepalivedData, formatKeepalivedJson, formatKeepalivedStats, type DumpInput } from "../../src/daemon/keepalived-dump.ts";
import { fixture, fixtureConfig, fixtureIfindex, fixtureStatus } from "./keepalived-dump-fixture.ts";

// --- Go helpers with Go's semantics --------------------------------------------------------
const trimSpace = (s: string): string => s.replace(/^[\s]+|[\s]+$/g, "");
/** strconv.Atoi: an optional sign and decimal digits only, else an error. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing "${s}": invalid syntax`);
  return Number(s);
}
/** strconv.ParseFloat(s, 64) for the forms keepalived prints. */
function parseFloat64(s: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`strconv.ParseFloat: parsing "${s}": invalid syntax`);
  return Number(s);
}
const lines = (text: string): string[] => text.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");

// --- mehdy/keepalived-exporter internal/collector/parser.go ---------------------------------
const VRRPStates = ["INIT", "BACKUP", "MASTER", "FAULT"];
interface MehdyVRRPData { IName: string; State: number; WantState: number; Intf: string; GArpDelay: number; VRID: number; VIPs: string[] }
interface MehdyVRRPStats { AdvertRcvd: number; AdvertSent: number; BecomeMaster: number; ReleaseMaster: number; PacketLenErr: number; AdvertIntervalErr: number; IPTTLErr: number; InvalidTypeRcvd: number; AddrListErr: number; InvalidAuthType: number; AuthTypeMismatch: number; AuthFailure: number; PRIZeroRcvd: number; PRIZeroSent: number }

function vrrpDataStringToIntState(state: string): [number, boolean] {
  const i = VRRPStates.indexOf(state);
  return [i, i >= 0];
}
function isKeyArray(key: string): boolean { return key === "Virtual IP"; }

function mehdyParseVRRPData(text: string): Map<string, MehdyVRRPData> {
  const data = new Map<string, MehdyVRRPData>();
  const sep = "VRRP Instance", prop = "=", arrayProp = ":";
  let instance = "", key = "", val = "";
  for (const l of lines(text)) {
    if (l.startsWith(" " + sep) && l.includes(prop)) {
      instance = trimSpace(trimSpace(l).split(prop)[1]!);
      data.set(instance, { IName: instance, State: 0, WantState: 0, Intf: "", GArpDelay: 0, VRID: 0, VIPs: [] });
    } else if (l.startsWith("   ") && instance !== "") {
      if (l.startsWith("     ")) {
        val = trimSpace(l);
      } else {
        let args: string[];
        if (l.includes(prop)) args = trimSpace(l).split(prop);
        else if (l.includes(arrayProp)) args = trimSpace(l).split(arrayProp);
        else continue;
        key = trimSpace(args[0]!);
        if (isKeyArray(key)) continue;
        val = trimSpace(args[1]!);
      }
      const d = data.get(instance)!;
      if ((key.startsWith("Virtual IP (") || key === "Virtual IP") && val !== "") d.VIPs.push(trimSpace(val));
      switch (key) {
        case "State": { const [s, ok] = vrrpDataStringToIntState(val); if (!ok) throw new Error(`Unknown state found: ${val} iname: ${d.IName}`); d.State = s; break; }
        case "Wantstate": { const [s, ok] = vrrpDataStringToIntState(val); if (!ok) throw new Error(`Unknown wantstate found: ${val}`); d.WantState = s; break; }
        case "Interface": case "Listening device": d.Intf = val; break;
        case "Gratuitous ARP delay": d.GArpDelay = atoi(val); break;
        case "Virtual Router ID": d.VRID = atoi(val); break;
      }
    } else if (l.startsWith(" VRRP Version") || l.startsWith(" VRRP Script")) {
      continue;
    } else {
      instance = "";
    }
  }
  return data;
}

function mehdyParseStats(text: string): Map<string, MehdyVRRPStats> {
  const stats = new Map<string, MehdyVRRPStats>();
  const sep = "VRRP Instance", prop = ":";
  let instance = "", section = "";
  for (const l of lines(text)) {
    if (l.startsWith(sep) && l.includes(prop)) {
      instance = trimSpace(trimSpace(l).split(prop)[1]!);
      stats.set(instance, { AdvertRcvd: 0, AdvertSent: 0, BecomeMaster: 0, ReleaseMaster: 0, PacketLenErr: 0, AdvertIntervalErr: 0, IPTTLErr: 0, InvalidTypeRcvd: 0, AddrListErr: 0, InvalidAuthType: 0, AuthTypeMismatch: 0, AuthFailure: 0, PRIZeroRcvd: 0, PRIZeroSent: 0 });
    } else if (l.startsWith("  ") && l.endsWith(prop)) {
      section = trimSpace(trimSpace(l).split(prop)[0]!);
    } else if (l.startsWith("    ") && section !== "") {
      const sp = trimSpace(l).split(prop);
      const key = trimSpace(sp[0]!), value = atoi(trimSpace(sp[1]!));
      const s = stats.get(instance)!;
      switch (section) {
        case "Advertisements": if (key === "Received") s.AdvertRcvd = value; else if (key === "Sent") s.AdvertSent = value; break;
        case "Packet Errors":
          if (key === "Length") s.PacketLenErr = value; else if (key === "TTL") s.IPTTLErr = value;
          else if (key === "Invalid Type") s.InvalidTypeRcvd = value; else if (key === "Advertisement Interval") s.AdvertIntervalErr = value;
          else if (key === "Address List") s.AddrListErr = value;
          break;
        case "Authentication Errors":
          if (key === "Invalid Type") s.InvalidAuthType = value; else if (key === "Type Mismatch") s.AuthTypeMismatch = value;
          else if (key === "Failure") s.AuthFailure = value;
          break;
        case "Priority Zero": if (key === "Received") s.PRIZeroRcvd = value; else if (key === "Sent") s.PRIZeroSent = value; break;
      }
    } else if (l.startsWith("  ") && !l.endsWith(prop) && !l.startsWith("    ")) {
      const sp = trimSpace(l).split(prop);
      const key = trimSpace(sp[0]!), value = atoi(trimSpace(sp[1]!));
      section = "";
      const s = stats.get(instance)!;
      if (key === "Became master") s.BecomeMaster = value; else if (key === "Released master") s.ReleaseMaster = value;
    }
  }
  return stats;
}

/** mehdy's parseVIP: `args[0]` is the address, `args[2]` the interface, of a space-split VIP. */
function mehdyParseVIP(vip: string): [string, string, boolean] {
  const args = vip.split(" ");
  return args.length < 3 ? ["", "", false] : [args[0]!, args[2]!, true];
}

/** encoding/json into []VRRP: each field must have the Go type of its struct field. */
function goDecode<T>(text: string, schema: Record<string, Record<string, "int" | "float64" | "string" | "[]string">>): T {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v)) throw new Error("json: cannot unmarshal into slice");
  for (const item of v as Record<string, Record<string, unknown>>[]) {
    for (const [part, fields] of Object.entries(schema)) {
      for (const [name, type] of Object.entries(fields)) {
        const x = item[part]?.[name];
        if (x === undefined) continue; // a missing key leaves Go's zero value
        const ok = type === "int" ? Number.isInteger(x) : type === "float64" ? typeof x === "number" : type === "string" ? typeof x === "string" : Array.isArray(x) && x.every((s) => typeof s === "string");
        if (!ok) throw new Error(`json: cannot unmarshal ${JSON.stringify(x)} into Go struct field ${part}.${name} of type ${type}`);
      }
    }
  }
  return v as T;
}
const STATS_INTS = Object.fromEntries(["advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err", "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err", "invalid_authtype", "authtype_mismatch", "auth_failure", "pri_zero_rcvd", "pri_zero_sent"].map((k) => [k, "int" as const]));
const MEHDY_JSON = { data: { iname: "string", state: "int", wantstate: "int", ifp_ifname: "string", garp_delay: "int", vrid: "int", vips: "[]string" }, stats: STATS_INTS } as const;
const GEN2BRAIN_JSON = { data: { iname: "string", ifp_ifname: "string", last_transition: "float64", vrid: "int", state: "int", wantstate: "int" }, stats: STATS_INTS } as const;

// --- gen2brain/keepalived_exporter collector/collector.go -----------------------------------
const string2state: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };
interface Gen2brainData { Iname: string; IfpIfname: string; LastTransition: number; Vrid: number; State: number; Wantstate: number }

function gen2brainParseData(text: string): Gen2brainData[] {
  const data: Gen2brainData[] = [];
  const sep = "VRRP Instance", prop = "=";
  let dt: Gen2brainData = { Iname: "", IfpIfname: "", LastTransition: 0, Vrid: 0, State: 0, Wantstate: 0 };
  for (const line of lines(text)) {
    if (line.startsWith(" " + sep) && line.includes(prop)) {
      dt.Iname = trimSpace(trimSpace(line).split(prop)[1]!);
    } else if (line.startsWith("   ") && line.includes(prop) && dt.Iname !== "") {
      const sp = trimSpace(line).split(prop);
      const key = trimSpace(sp[0]!), val = trimSpace(sp[1]!);
      switch (key) {
        case "Interface": dt.IfpIfname = val; break;
        case "Last transition": dt.LastTransition = parseFloat64(val.split(" ")[0]!); break;
        case "Virtual Router ID": dt.Vrid = atoi(val); break;
        case "State": if (val in string2state) dt.State = string2state[val]!; break;
        case "Wantstate": if (val in string2state) dt.Wantstate = string2state[val]!; break;
      }
    } else if (line.startsWith(" VRRP Version")) {
      // noop
    } else if (dt.Iname !== "") {
      data.push(dt);
      dt = { Iname: "", IfpIfname: "", LastTransition: 0, Vrid: 0, State: 0, Wantstate: 0 };
    }
  }
  return data;
}

function gen2brainParseStats(text: string): Record<string, number>[] {
  // The same section/key walk as mehdy's ParseStats, collected in file order.
  return [...mehdyParseStats(text).values()].map((s) => ({ ...s }));
}

// ------------------------------------------------------------------------------------------

function input(node: "a" | "b"): DumpInput {
  return { status: fixtureStatus(node), config: fixtureConfig(node), hostname: "unused", ifindex: fixtureIfindex(node) };
}

describe("mehdy/keepalived-exporter parsers", () => {
  for (const node of ["a", "b"] as const) {
    it(`node ${node}: keepalived.data gives what keepalived's own gives (state, interface, VRID, GARP delay, VIPs)`, () => {
      const ours = mehdyParseVRRPData(formatKeepalivedData(input(node)));
      const theirs = mehdyParseVRRPData(fixture(`node-${node}.keepalived.data`));
      expect([...ours.keys()]).toEqual(["VI_1", "VI_2", "VI_3"]);
      for (const [name, t] of theirs) {
        const o = ours.get(name)!;
        expect({ ...o, WantState: null }).toEqual({ ...t, WantState: null });
        expect(o.VRID).toBeGreaterThan(0);
        expect(o.Intf).toBe(`veth-${node}`);
        for (const vip of o.VIPs) expect(mehdyParseVIP(vip)).toEqual([vip.split(" ")[0], `veth-${node}`, true]);
      }
    });

    it(`node ${node}: keepalived.stats parses into every counter, equal to keepalived's`, () => {
      const ours = mehdyParseStats(formatKeepalivedStats(input(node).status));
      expect(ours).toEqual(mehdyParseStats(fixture(`node-${node}.keepalived.stats`)));
      expect(ours.get("VI_1")!.AdvertRcvd + ours.get("VI_1")!.AdvertSent).toBeGreaterThan(0);
    });

    it(`node ${node}: keepalived.json decodes into collector.VRRP with the same values`, () => {
      type V = { data: Record<string, unknown>; stats: Record<string, number> };
      const pick = (v: V[]) => v.map((e) => ({ ...Object.fromEntries(Object.keys(MEHDY_JSON.data).map((k) => [k, e.data[k]])), wantstate: null, stats: e.stats }));
      const ours = goDecode<V[]>(formatKeepalivedJson(input(node)), MEHDY_JSON);
      const theirs = goDecode<V[]>(fixture(`node-${node}.keepalived.json`), MEHDY_JSON);
      expect(pick(ours)).toEqual(pick(theirs));
    });
  }

  it("a state keepalived never prints would make the exporter fail: lbctl prints none", () => {
    const i = input("a");
    i.status.vrrp.instances[1] = { ...i.status.vrrp.instances[1]!, state: "UNKNOWN" };
    expect(() => mehdyParseVRRPData(formatKeepalivedData(i))).not.toThrow();
    expect(mehdyParseVRRPData(formatKeepalivedData(i)).get("VI_2")!.State).toBe(0);
    expect(() => mehdyParseVRRPData(" VRRP Instance = X\n   State = UNKNOWN\n")).toThrow(/Unknown state/);
  });
});

describe("gen2brain/keepalived_exporter parsers", () => {
  for (const node of ["a", "b"] as const) {
    it(`node ${node}: text mode (keepalived.data + keepalived.stats) pairs up as with keepalived`, () => {
      const ours = gen2brainParseData(formatKeepalivedData(input(node)));
      const theirs = gen2brainParseData(fixture(`node-${node}.keepalived.data`));
      // Its parser stops at the first line without '=' ("Flags: none"), for keepalived as for lbctl.
      expect(ours).toEqual(theirs);
      expect(ours.map((d) => d.Iname)).toEqual(["VI_1", "VI_2", "VI_3"]);
      const stats = gen2brainParseStats(formatKeepalivedStats(input(node).status));
      expect(stats.length).toBe(ours.length); // the exporter only reports when the counts agree
    });

    it(`node ${node}: JSON mode decodes into KAStats with the same values`, () => {
      type V = { data: Record<string, unknown>; stats: Record<string, number> };
      const pick = (v: V[]) => v.map((e) => ({ ...Object.fromEntries(Object.keys(GEN2BRAIN_JSON.data).map((k) => [k, e.data[k]])), wantstate: null, stats: e.stats }));
      const ours = goDecode<V[]>(formatKeepalivedJson(input(node)), GEN2BRAIN_JSON);
      expect(pick(ours)).toEqual(pick(goDecode<V[]>(fixture(`node-${node}.keepalived.json`), GEN2BRAIN_JSON)));
      expect(typeof ours[0]!.data.last_transition).toBe("number");
    });
  }
});
