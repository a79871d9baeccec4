// The paths a large configuration takes through the loader, made cheap for 37,000 real servers:
// positions kept on hidden properties, cloneData, lines decommented in place, detectFormat
// reading only up to the first statement. Each must behave exactly as the slower form did.
import { describe, expect, it } from "vitest";
import { decomment } from "../../src/config/decomment.ts";
import { Diagnostics } from "../../src/config/diagnostics.ts";
import { parseKeepalivedText } from "../../src/config/lexer.ts";
import { detectFormat, loadConfigText } from "../../src/config/load.ts";
import { blockLoc, cloneData, locOfKey, locsOf, nestedCtx, parseConfBlock, setBlockLoc, withDefaults, type Model } from "../../src/config/schema.ts";
import { rootSpec } from "../../src/config/spec/root.ts";

const CONF = `global_defs {
  router_id lb1
}
virtual_server 10.0.0.1 80 {
  delay_loop 2
  lvs_method DR
  protocol TCP
  real_server 10.0.0.2 80 {
    weight 3
    TCP_CHECK {
      connect_timeout 4
    }
  }
}
`;

const vsOf = (m: Model) => (m.virtual_server as Model[])[0]!;
const rsOf = (m: Model) => (vsOf(m).real_server as Model[])[0]!;

describe("positions on model objects", () => {
  const loaded = loadConfigText(CONF, "lb.conf");

  it("are found on the model and on the effective model", () => {
    expect(loaded.diag.list).toEqual([]);
    for (const m of [loaded.model, loaded.effective]) {
      expect(locOfKey(rsOf(m), "weight")).toEqual({ file: "lb.conf", line: 9, col: 5 });
      expect(blockLoc(rsOf(m))).toEqual({ file: "lb.conf", line: 8, col: 3 });
      expect(blockLoc(vsOf(m))).toEqual({ file: "lb.conf", line: 4, col: 1 });
    }
  });

  it("stay out of JSON, keys, spreads and equality", () => {
    const rs = rsOf(loaded.model);
    expect(Object.keys(rs)).toEqual(["ip", "port", "weight", "checker"]);
    expect(JSON.parse(JSON.stringify(rs))).toEqual(rs);
    expect(JSON.stringify(rs)).not.toContain("lb.conf");
    const copy = { ...rs };
    expect(locOfKey(copy, "weight")).toBeUndefined();
    expect(blockLoc(copy)).toBeUndefined();
    expect(copy).toEqual(rs);
  });

  it("are created on first use and kept per object", () => {
    const a: Model = {};
    const b: Model = {};
    expect(locOfKey(a, "x")).toBeUndefined();
    expect(blockLoc(a)).toBeUndefined();
    locsOf(a).x = { file: "f", line: 1, col: 2 };
    setBlockLoc(a, { file: "f", line: 1, col: 1 });
    expect(locOfKey(a, "x")).toEqual({ file: "f", line: 1, col: 2 });
    expect(blockLoc(a)).toEqual({ file: "f", line: 1, col: 1 });
    expect(locOfKey(b, "x")).toBeUndefined();
    expect(Object.keys(a)).toEqual([]);
  });

  it("point at the last of a repeated setting, and at the first of a repeated list", () => {
    const diag = new Diagnostics();
    const tree = parseKeepalivedText(
      "virtual_server 10.0.0.1 80 {\n  delay_loop 1\n  delay_loop 2\n  real_server 10.0.0.2 80 {\n  }\n  real_server 10.0.0.3 80 {\n  }\n}\n",
      "r.conf", { diag });
    const model = parseConfBlock(tree, rootSpec, { diag, where: "the top level" });
    const vs = vsOf(model);
    expect(vs.delay_loop).toBe(2);
    expect(locOfKey(vs, "delay_loop")).toEqual({ file: "r.conf", line: 3, col: 3 });
    expect((vs.real_server as Model[]).map((r) => r.ip)).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect(locOfKey(vs, "real_server")).toEqual({ file: "r.conf", line: 4, col: 3 });
  });
});

describe("effective model copies", () => {
  it("give each real server its own copy of the inherited lvs_method", () => {
    const twoRs = CONF.replace("  real_server 10.0.0.2 80 {", "  real_server 10.0.0.3 80 {\n  }\n  real_server 10.0.0.2 80 {");
    const eff = loadConfigText(twoRs, "lb.conf").effective;
    const [a, b] = vsOf(eff).real_server as Model[];
    expect(a!.lvs_method).toEqual({ method: "DR" });
    expect(b!.lvs_method).toEqual({ method: "DR" });
    expect(a!.lvs_method).not.toBe(b!.lvs_method);
    expect(a!.lvs_method).not.toBe(vsOf(eff).lvs_method);
  });

  it("give each block its own copy of an object default", () => {
    const spec = { name: "t", fields: [{ key: "codes", type: { describe: "", fromConf: () => undefined, fromToml: () => undefined, toToml: (v: unknown) => v }, default: [[200, 299]], doc: "" }] };
    const one = withDefaults({}, spec);
    const two = withDefaults({}, spec);
    expect(one.codes).toEqual([[200, 299]]);
    expect(one.codes).not.toBe(two.codes);
    expect((one.codes as number[][])[0]).not.toBe(spec.fields[0]!.default[0]);
  });
});

describe("cloneData", () => {
  it("copies plain objects and arrays deeply", () => {
    const v = { method: "TUN", opts: { port: 6080, list: [1, [2, 3]] }, none: null, flag: true };
    const c = cloneData(v);
    expect(c).toEqual(v);
    expect(c).not.toBe(v);
    expect(c.opts).not.toBe(v.opts);
    expect(c.opts.list[1]).not.toBe(v.opts.list[1]);
    c.opts.list.push(4);
    expect(v.opts.list).toEqual([1, [2, 3]]);
  });

  it("returns primitives as they are", () => {
    for (const p of [1, "a", true, null, undefined, 0n]) expect(cloneData(p)).toBe(p);
  });

  it("copies other objects as structuredClone does", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const when = new Date(0);
    const c = cloneData({ bytes, when });
    expect(c.bytes).toEqual(bytes);
    expect(c.bytes).not.toBe(bytes);
    expect(c.when).toEqual(when);
    expect(c.when).not.toBe(when);
  });
});

describe("decomment over a range", () => {
  const lines = ["  weight 1", "\tpath /a#b   ", "  notify \"a # b\" ! c", "$X=a \\", "", "   ", "x \\# y"];

  it("gives what decommenting the copied line gives", () => {
    const text = lines.join("\n");
    let start = 0;
    for (const l of lines) {
      expect(decomment(text, start, start + l.length)).toEqual(decomment(l));
      start += l.length + 1;
    }
  });

  it("keeps the whole-line form", () => {
    expect(decomment("  weight 1 # one")).toEqual({ text: "weight 1", lead: 2 });
    expect(decomment("\t$X=a \\")).toEqual({ text: "$X=a\\", lead: 1 });
  });
});

describe("line numbers of a file read in place", () => {
  it("count CRLF lines, blank lines and a last line without a newline", () => {
    const diag = loadConfigText("global_defs {\r\n\r\n  bogus_one 1\r\n}\r\n\nbogus_two", "crlf.conf").diag.list;
    expect(diag.filter((d) => d.message.includes("bogus")).map((d) => [d.message, d.loc?.line, d.loc?.col])).toEqual([
      ["unknown keyword 'bogus_one' in the top level global_defs", 3, 3],
      ["unknown keyword 'bogus_two' in the top level", 6, 1],
    ]);
  });
});

describe("detectFormat", () => {
  it("decides on the first statement after blank and comment lines", () => {
    expect(detectFormat("x", "\n# c\n! c\n   \n[global]\n")).toBe("toml");
    expect(detectFormat("x", "\r\n  # c\nrouter_id = \"a\"")).toBe("toml");
    expect(detectFormat("x", "# c\nglobal_defs {\n}\n[not = toml]\n")).toBe("keepalived");
    expect(detectFormat("x", "# only comments\n")).toBe("keepalived");
    expect(detectFormat("x", "")).toBe("keepalived");
    expect(detectFormat("a.toml", "global_defs {")).toBe("toml");
  });
});

describe("nested block contexts", () => {
  it("name every level of a nested block in messages", () => {
    const text = `virtual_server 10.0.0.1 80 {
  bogus_vs 1
  real_server 10.0.0.2 8080 {
    bogus_rs 1
    HTTP_GET {
      bogus_check 1
      url {
        path /
        bogus_url 1
      }
    }
  }
}
vrrp_instance VI_1 {
  bogus_vi 1
  authentication {
    bogus_auth 1
  }
}
`;
    const messages = loadConfigText(text, "n.conf").diag.list.map((d) => d.message).filter((m) => m.includes("bogus"));
    expect([...messages].sort()).toEqual([
      "unknown keyword 'bogus_vi' in vrrp_instance VI_1",
      "unknown keyword 'bogus_auth' in vrrp_instance VI_1 authentication",
      "unknown keyword 'bogus_vs' in virtual_server 10.0.0.1:80",
      "unknown keyword 'bogus_rs' in real_server 10.0.0.2:8080",
      "unknown keyword 'bogus_check' in real_server 10.0.0.2:8080 HTTP_GET",
      "unknown keyword 'bogus_url' in real_server 10.0.0.2:8080 HTTP_GET url",
    ].sort());
  });

  it("builds its description once, on first use", () => {
    const diag = new Diagnostics();
    let built = 0;
    const ctx = nestedCtx({ diag, where: "top" }, () => { built++; return "top inner"; });
    expect(ctx.diag).toBe(diag);
    expect(built).toBe(0);
    expect(ctx.where).toBe("top inner");
    expect(ctx.where).toBe("top inner");
    expect(built).toBe(1);
  });
});
