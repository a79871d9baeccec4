import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { unfoldLongArray } from "../../src/config/convert.ts";

describe("convert: long arrays one item per line", () => {
  it("leaves short lines alone", () => {
    expect(unfoldLongArray('virtual_ipaddress = [ "10.0.0.1" ]')).toBe('virtual_ipaddress = [ "10.0.0.1" ]');
  });

  it("unfolds a long array of strings and keeps its value", () => {
    const items = Array.from({ length: 8 }, (_, i) => `"10.0.0.${i}/24 dev eth0, label \\"x\\""`);
    const line = `virtual_ipaddress = [ ${items.join(", ")} ]`;
    const out = unfoldLongArray(line);
    expect(out.split("\n")).toEqual(["virtual_ipaddress = [", ...items.map((i) => `  ${i},`), "]"]);
    expect(parse(out)).toEqual(parse(line));
  });

  it("splits only at top-level commas, inline tables and nested arrays stay whole", () => {
    const line = 'track_script = [ { name = "chk_a", weight = 5 }, { name = "chk_b", weight = 10 }, "chk_c, d", [ 1, 2 ] ]';
    const out = unfoldLongArray(line);
    expect(out.split("\n")).toEqual(["track_script = [", '  { name = "chk_a", weight = 5 },', '  { name = "chk_b", weight = 10 },', '  "chk_c, d",', "  [ 1, 2 ],", "]"]);
    expect(parse(out)).toEqual(parse(line));
  });

  it("leaves what it cannot split alone", () => {
    const line = `x = [ "${"a".repeat(90)}" ] # not an array line`;
    expect(unfoldLongArray(line)).toBe(line);
  });
});
