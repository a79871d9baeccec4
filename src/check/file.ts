// FILE_CHECK: track the integer in a file (keepalived's track_file for real servers).
// keepalived.conf(5): with weight 0, a non-zero value is a failure and 0 is OK; otherwise the value is
// multiplied by the weight (negated with `reverse`), and a result <= -2147483648 is a fault. With
// `dynamic` the product is added to the real server's weight.
import { readFile } from "node:fs/promises";
import { timed } from "./conn.ts";
import { CheckFailure, describeError } from "./errors.ts";
import type { CheckResult, FileCheckParams } from "./types.ts";

const WEIGHT_FAULT = -2_147_483_648;

/** Pure: parse the file's text like strtol: optional spaces, sign, digits; anything after is ignored. */
export function parseTrackedValue(text: string): number | undefined {
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (!m) return text.trim() === "" ? 0 : undefined;
  const v = Number(m[1]);
  return Math.max(Math.min(v, 2_147_483_647), -2_147_483_648);
}

/** Pure: verdict for a value read from the file. */
export function judgeValue(params: FileCheckParams, value: number): { ok: boolean; weight?: number; reason: string } {
  if (params.weight === 0) {
    return value === 0 ? { ok: true, reason: "value 0 (weight 0: OK)" } : { ok: false, reason: `value ${value} is non-zero (weight 0: fault)` };
  }
  const product = value * params.weight * (params.reverse ? -1 : 1);
  if (product <= WEIGHT_FAULT) return { ok: false, reason: `value ${value} x weight ${params.weight}${params.reverse ? " reversed" : ""} = ${product} is a fault` };
  return { ok: true, reason: `value ${value} x weight ${params.weight}${params.reverse ? " reversed" : ""} = ${product}`, ...(params.dynamic ? { weight: product } : {}) };
}

export function run(params: FileCheckParams, _signal?: AbortSignal): Promise<CheckResult> {
  return timed(async () => {
    let text: string;
    try { text = await readFile(params.file, "utf8"); } catch (e) {
      throw new CheckFailure(`track file ${params.file} cannot be read: ${describeError(e)}`);
    }
    const value = parseTrackedValue(text);
    if (value === undefined) throw new CheckFailure(`track file ${params.file} does not hold an integer: ${JSON.stringify(text.slice(0, 40))}`);
    const v = judgeValue(params, value);
    if (!v.ok) throw new CheckFailure(`track file ${params.file}: ${v.reason}`, { value });
    return { ok: true, reason: `track file ${params.file}: ${v.reason}`, detail: { value }, ...(v.weight !== undefined ? { weight: v.weight } : {}) };
  });
}
