import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";

describe("cli", () => {
  it("rejects an unknown command with usage exit code", async () => {
    expect(await main(["no-such-command"])).toBe(64);
  });
});
