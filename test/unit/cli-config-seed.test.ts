// The project's seed configuration (a typical copied-from-a-blog keepalived.conf): lbctl check
// must point out what keepalived silently works around, as warnings on their lines, exit 2.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runInProcess } from "../helpers/lbctl-run.ts";

const SEED = join(import.meta.dirname, "../fixtures/seed-keepalived.conf");

describe("lbctl check on the seed configuration", () => {
  it("warns about the missing script, MASTER clearing nopreempt/preempt_delay and obsolete keywords; exits 2", async () => {
    expect(existsSync("/etc/keepalived/chk_nginx.sh")).toBe(false);
    const r = await runInProcess(["check", "--no-interfaces", "-f", SEED]);
    const lines = r.stdout.trimEnd().split("\n");
    const at = (line: number) => lines.filter((l) => l.startsWith(`${SEED}:${line}:`));
    const warnsAt = (line: number, ...words: string[]) => {
      const hits = at(line);
      expect(hits.length, `no diagnostic on line ${line}:\n${r.stdout}`).toBeGreaterThan(0);
      for (const h of hits) expect(h).toContain(": warning: ");
      for (const w of words) expect(hits.join("\n")).toContain(w);
    };
    warnsAt(20, "/etc/keepalived/chk_nginx.sh");
    warnsAt(48, "nopreempt", "MASTER");
    warnsAt(50, "preempt", "MASTER");
    for (const l of [65, 101]) warnsAt(l, "nat_mask");
    for (const l of [79, 90, 108, 117]) warnsAt(l, "nb_get_retry");
    expect(lines.filter((l) => l.includes(": error: "))).toEqual([]);
    expect(lines.at(-1)).toMatch(new RegExp(`^lbctl: 0 errors, \\d+ warnings in ${SEED}$`));
    expect(r.code).toBe(2);
  });
});
