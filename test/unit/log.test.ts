import { describe, expect, it } from "vitest";
import { Logger } from "../../src/util/log.ts";

function capture(limit = { intervalMs: 1000, burst: 2 }) {
  const lines: string[] = [];
  let now = 0;
  const log = new Logger({ write: (l) => lines.push(l) }, () => now, limit, "debug");
  return { lines, log, at: (t: number) => { now = t; } };
}

describe("logger", () => {
  it("prefixes the syslog priority and keeps one line per event", () => {
    const { lines, log } = capture();
    log.err("boom\nsecond line");
    log.info("hello");
    expect(lines).toEqual(["<3>boom second line\n", "<6>hello\n"]);
  });

  it("rate-limits per key and reports what it suppressed", () => {
    const { lines, log, at } = capture();
    for (let i = 0; i < 5; i++) log.warning(`rs1 down ${i}`, "rs1");
    log.warning("rs2 down", "rs2");
    at(1500);
    log.warning("rs1 up", "rs1");
    expect(lines).toEqual([
      "<4>rs1 down 0\n", "<4>rs1 down 1\n", "<4>rs2 down\n",
      "<4>rs1 up (3 similar messages suppressed)\n",
    ]);
  });

  it("drops levels below the minimum", () => {
    const lines: string[] = [];
    const log = new Logger({ write: (l) => lines.push(l) }, () => 0, undefined, "notice");
    log.info("x"); log.notice("y");
    expect(lines).toEqual(["<5>y\n"]);
  });
});
