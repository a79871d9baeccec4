// The children's configuration travels as a file: written by the supervisor in a private
// directory of its own, read once by the child, which removes file and directory.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { discardConfigFile, putConfigFile, takeConfigFile } from "../../src/daemon/child.ts";

let parent: string;
beforeEach(() => { parent = mkdtempSync(join(tmpdir(), "lbctl-drop-test-")); });
afterEach(() => { rmSync(parent, { recursive: true, force: true }); });

const effective = { global_defs: { router_id: "lb1" }, virtual_server: [{ ip: "10.0.0.1", port: 80, real_server: [{ ip: "10.0.0.2", weight: 1 }] }] };

describe("putConfigFile", () => {
  it("writes a file only the owner can read, in a directory of its own only the owner can enter", () => {
    const file = putConfigFile("check", JSON.stringify(effective), parent);
    expect(dirname(dirname(file))).toBe(parent);
    expect(basename(file)).toBe("check.json");
    expect(basename(dirname(file))).toMatch(/^lbctl-config-/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
  });

  it("gives every configuration its own file", () => {
    const first = putConfigFile("check", "{}", parent);
    const second = putConfigFile("check", "{}", parent);
    expect(second).not.toBe(first);
    expect(readdirSync(parent)).toHaveLength(2);
  });

  it("throws when the file cannot be written, so the caller can send the configuration another way", () => {
    expect(() => putConfigFile("check", "{}", join(parent, "missing"))).toThrow();
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe("takeConfigFile", () => {
  it("gives the configuration back intact and removes the file and its directory", () => {
    const file = putConfigFile("check", JSON.stringify(effective), parent);
    expect(takeConfigFile(file)).toEqual({ effective });
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("reports a file that is gone", () => {
    const file = putConfigFile("check", "{}", parent);
    discardConfigFile(file);
    expect(takeConfigFile(file)).toEqual({ error: expect.stringContaining(`cannot read the configuration file ${file}`) });
  });

  it("reports a file that is not JSON, and removes it", () => {
    const file = putConfigFile("check", "{ not json", parent);
    expect(takeConfigFile(file)).toEqual({ error: expect.stringContaining("is not valid JSON") });
    expect(readdirSync(parent)).toEqual([]);
  });

  it.each([["[]"], ["null"], ["42"]])("reports %s as not a configuration object", (text) => {
    const file = putConfigFile("check", text, parent);
    expect(takeConfigFile(file)).toEqual({ error: expect.stringContaining("does not hold a configuration object") });
  });

  it("touches no file the supervisor did not make", () => {
    const other = join(parent, "keep.json");
    writeFileSync(other, "{}");
    expect(takeConfigFile(other)).toEqual({ error: expect.stringContaining("is not a configuration file of the supervisor") });
    discardConfigFile(other);
    expect(existsSync(other)).toBe(true);
  });
});

describe("discardConfigFile", () => {
  it("removes a file nobody read, and does nothing the second time", () => {
    const file = putConfigFile("vrrp", "{}", parent);
    discardConfigFile(file);
    expect(readdirSync(parent)).toEqual([]);
    expect(() => discardConfigFile(file)).not.toThrow();
  });
});
