// The children's configuration travels as a file in a private directory: written by the
// supervisor, read once and removed by the child, cleaned up when a child dies or the daemon stops.
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigDrop, takeConfigFile } from "../../src/daemon/child.ts";

let parent: string;
beforeEach(() => { parent = mkdtempSync(join(tmpdir(), "lbctl-drop-test-")); });
afterEach(() => { rmSync(parent, { recursive: true, force: true }); });

const effective = { global_defs: { router_id: "lb1" }, virtual_server: [{ ip: "10.0.0.1", port: 80, real_server: [{ ip: "10.0.0.2", weight: 1 }] }] };

describe("ConfigDrop", () => {
  it("writes a file only the owner can read, in a directory only the owner can enter", () => {
    const drop = new ConfigDrop(parent);
    const file = drop.put("check", JSON.stringify(effective));
    expect(dirname(dirname(file))).toBe(parent);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
  });

  it("gives every configuration its own file, which the child takes back intact and removes", () => {
    const drop = new ConfigDrop(parent);
    const first = drop.put("check", JSON.stringify(effective));
    const second = drop.put("check", JSON.stringify({ ...effective, virtual_server: [] }));
    expect(second).not.toBe(first);
    expect(takeConfigFile(first)).toEqual({ effective });
    expect(existsSync(first)).toBe(false);
    expect(takeConfigFile(second)).toEqual({ effective: { ...effective, virtual_server: [] } });
  });

  it("discards the files left for one role only", () => {
    const drop = new ConfigDrop(parent);
    const check = drop.put("check", "{}");
    const vrrp = drop.put("vrrp", "{}");
    drop.discard("check");
    expect(existsSync(check)).toBe(false);
    expect(existsSync(vrrp)).toBe(true);
  });

  it("removes its directory and everything in it", () => {
    const drop = new ConfigDrop(parent);
    drop.put("check", "{}");
    drop.remove();
    expect(readdirSync(parent)).toEqual([]);
  });

  it("makes a new directory when its own was removed (a /tmp cleaner ran)", () => {
    const drop = new ConfigDrop(parent);
    const before = drop.put("check", "{}");
    rmSync(dirname(before), { recursive: true });
    const after = drop.put("check", JSON.stringify(effective));
    expect(takeConfigFile(after)).toEqual({ effective });
  });

  it("does not write into its directory once others may enter it", () => {
    const drop = new ConfigDrop(parent);
    const before = drop.put("check", "{}");
    chmodSync(dirname(before), 0o755);
    const after = drop.put("check", "{}");
    expect(dirname(after)).not.toBe(dirname(before));
    expect(statSync(dirname(after)).mode & 0o777).toBe(0o700);
  });

  it("throws when the file cannot be written, so the caller can send the configuration another way", () => {
    const drop = new ConfigDrop(join(parent, "missing"));
    expect(() => drop.put("check", "{}")).toThrow();
  });
});

describe("takeConfigFile", () => {
  it("reports a missing file", () => {
    const r = takeConfigFile(join(parent, "gone.json"));
    expect(r).toEqual({ error: expect.stringContaining(`cannot read the configuration file ${join(parent, "gone.json")}`) });
  });

  it("reports a file that is not JSON, and removes it", () => {
    const file = join(parent, "bad.json");
    writeFileSync(file, "{ not json");
    expect(takeConfigFile(file)).toEqual({ error: expect.stringContaining("is not valid JSON") });
    expect(existsSync(file)).toBe(false);
  });

  it.each([["[]"], ["null"], ["42"]])("reports %s as not a configuration object", (text) => {
    const file = join(parent, "odd.json");
    writeFileSync(file, text);
    expect(takeConfigFile(file)).toEqual({ error: expect.stringContaining("does not hold a configuration object") });
  });
});
