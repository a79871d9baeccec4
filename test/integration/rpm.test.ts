// The RPM is what users install: build it, unpack it, and check what it carries works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";

const root = join(import.meta.dirname, "../..");
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
const rpmFile = join(root, `dist/lbctl-${version}-1.x86_64.rpm`);
let work = "";

describe("rpm package", () => {
  beforeAll(async () => {
    await $`make -C ${root} rpm`.quiet();
    work = mkdtempSync(join(tmpdir(), "lbctl-rpm-"));
    await $`sh -c ${`rpm2cpio '${rpmFile}' | cpio -idm --quiet`}`.cwd(work);
  }, 180_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it("lists exactly the binary, the unit, the docs and the config dir", async () => {
    const files = (await $`rpm -qpl ${rpmFile}`.quiet().text()).trim().split("\n").sort();
    expect(files).toEqual([
      "/etc/lbctl",
      "/usr/lib/systemd/system/lbctl.service",
      "/usr/sbin/lbctl",
      "/usr/share/doc/lbctl/README.md",
      "/usr/share/doc/lbctl/lbctl.toml.example",
    ]);
  });

  it("requires nothing but glibc (and sh for its scriptlets)", async () => {
    const reqs = (await $`rpm -qp --requires ${rpmFile}`.quiet().text()).trim().split("\n");
    const real = new Set(reqs.map((r) => r.trim()).filter((r) => !r.startsWith("rpmlib(")));
    expect([...real].sort()).toEqual(["/bin/sh", "glibc"]);
  });

  it("installs a binary that runs (not broken by stripping)", async () => {
    const out = await $`${join(work, "usr/sbin/lbctl")} --version`.quiet().text();
    expect(out.trim()).toBe(`lbctl ${version}`);
  });

  it("ships a systemd unit that systemd-analyze accepts", async () => {
    const unit = readFileSync(join(work, "usr/lib/systemd/system/lbctl.service"), "utf8");
    expect(unit).toMatch(/^Type=notify$/m);
    // Point the unit at the unpacked binary so verify can check the executable exists.
    const bin = join(work, "usr/sbin/lbctl");
    const local = join(work, "lbctl.service");
    writeFileSync(local, unit.replaceAll("/usr/sbin/lbctl", bin));
    const r = await $`systemd-analyze verify --man=no ${local}`.nothrow().quiet();
    expect(r.stderr.toString() + r.stdout.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(existsSync(bin)).toBe(true);
  });
});
