import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateDocs, knownSpecs } from "../../src/config/docs.ts";
import { rootSpec } from "../../src/config/spec/root.ts";

describe("docs/config.md", () => {
  it("is up to date with the specs (run `make docs`)", async () => {
    const committed = readFileSync(join(import.meta.dirname, "../../docs/config.md"), "utf8");
    expect(committed).toBe(await generateDocs());
  });

  it("documents every top-level setting", async () => {
    const text = await generateDocs();
    for (const f of rootSpec.fields) expect(text).toContain(`| \`${f.key}\` |`);
  });

  it("has a section for every block spec, nested ones included", async () => {
    const text = await generateDocs();
    const specs = await knownSpecs();
    expect(specs.length).toBeGreaterThanOrEqual(20);
    for (const s of specs) expect(text, s.name).toContain(`\n## \`${s.name}\`\n`);
  });
});
