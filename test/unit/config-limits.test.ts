// Bounds on what one configuration can cost `lbctl check` and a reload: diagnostics listed, include
// fan-out, the size of a word. Each input here took minutes or gigabytes before.
import { describe, expect, it } from "vitest";

import { Diagnostics, MAX_LISTED, formatDiagnostic, sortDiagnostics } from "../../src/config/diagnostics.ts";
import { MAX_WORD } from "../../src/config/lexer.ts";
import { check, parse } from "../helpers/config-vrrp.ts";

describe("diagnostics", () => {
  it("lists the first MAX_LISTED of a severity and counts the rest in one last line", () => {
    const d = new Diagnostics();
    for (let i = 0; i < MAX_LISTED + 250; i++) d.error(`problem ${i}`, { file: "f", line: i + 1, col: 1 });
    d.warning("one warning");
    expect(d.errorCount).toBe(MAX_LISTED + 250);
    expect(d.warningCount).toBe(1);
    expect(d.hasErrors).toBe(true);
    expect(d.list).toHaveLength(MAX_LISTED + 2);
    const lines = sortDiagnostics(d.list).map(formatDiagnostic);
    expect(lines).toContain(`error: 250 more errors not listed (the first ${MAX_LISTED} are)`);
    expect(lines).toContain("f:1:1: error: problem 0");
    expect(lines).not.toContain(`f:${MAX_LISTED + 1}:1: error: problem ${MAX_LISTED}`);
  });
});

describe("duplicate VRIDs", () => {
  it("one error per instance, naming the first it collides with, not one per pair", () => {
    const n = 40;
    const text = Array.from({ length: n }, (_, i) => `vrrp_instance V${i} {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.${i}.1\n }\n}\n`).join("");
    const r = check(text);
    const dup = r.msgs.filter((m) => m.includes("both use VRID 7"));
    expect(dup).toHaveLength(n - 1);
    expect(dup.every((m) => m.includes("V0 and V"))).toBe(true);
  });
});

describe("words", () => {
  it(`a word longer than ${MAX_WORD} characters is an error at its position`, () => {
    const r = parse(`global_defs {\n  router_id ${"x".repeat(MAX_WORD + 1)}\n}\n`);
    expect(r.msgs).toContain(`2:13 error: word of ${MAX_WORD + 1} characters, more than ${MAX_WORD}`);
  });
});
