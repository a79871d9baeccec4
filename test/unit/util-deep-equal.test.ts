import { describe, expect, it } from "vitest";
import { deepEqual } from "../../src/util/deep-equal.ts";

describe("deepEqual", () => {
  it("is JSON's equality for configuration data, without building the strings", () => {
    const a = { kind: "HTTP_GET", params: { connectIp: "10.0.0.1", urls: [{ path: "/", statusCodes: [{ from: 200, to: 299 }] }], payload: new Uint8Array([1, 2]) } };
    const same = structuredClone(a);
    expect(deepEqual(a, same)).toBe(true);
    const cases: [unknown, unknown][] = [
      [{ x: 1 }, { x: 2 }], [{ x: 1 }, { x: 1, y: 2 }], [{ x: 1, y: 2 }, { x: 1 }], [[1, 2], [1, 2, 3]], [[1], { 0: 1 }],
      [new Uint8Array([1, 2]), new Uint8Array([1, 3])], [null, {}], [{}, null], ["1", 1], [{ a: [{ b: "c" }] }, { a: [{ b: "d" }] }],
    ];
    for (const [x, y] of cases) expect(deepEqual(x, y), JSON.stringify([x, y])).toBe(false);
    // An undefined property is an absent one, as in JSON.
    expect(deepEqual({ x: 1, y: undefined }, { x: 1 })).toBe(true);
    expect(deepEqual({ x: 1 }, { x: 1, y: undefined })).toBe(true);
    expect(deepEqual({ x: undefined }, { y: undefined })).toBe(true);
    expect(deepEqual({ x: undefined, z: 1 }, { y: 2 })).toBe(false);
    expect(deepEqual(NaN, NaN)).toBe(true);
  });
});
