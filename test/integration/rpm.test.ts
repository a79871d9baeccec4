// The RPM is what users install: build it, check what it carries and how EL7's rpm will read
// it, then install, upgrade and erase it in a scratch root and check what its scriptlets did.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { generateCompletion } from "../../src/cli/man.ts";

const root = join(import.meta.dirname, "../..");
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
const rpmFile = join(root, `dist/lbctl-${version}-1.x86_64.rpm`);
const tmp = mkdtempSync(join(tmpdir(), "lbctl-rpm-"));
/** The package unpacked (rpm2cpio), for looking at its files without installing. */
const work = join(tmp, "unpacked");
/** Release 2 of the same version, built from a tree whose /etc/sysconfig/lbctl differs. */
const upgradeFile = join(tmp, "out2", `lbctl-${version}-2.x86_64.rpm`);

const sha256 = (f: string): string => new Bun.CryptoHasher("sha256").update(readFileSync(f)).digest("hex");

/** `rpm ARGS` on a scratch root; Debian's rpm puts its database under $HOME unless told. */
async function rpmIn(dir: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await $`rpm --root ${dir} --dbpath /var/lib/rpm ${args}`.nothrow().quiet();
  // Debian's rpm wrapper warns on every install; anything else on stderr is the package's.
  const stderr = r.stderr.toString().split("\n").filter((l) => l && !/use Alien instead|assuming you know what you are doing/.test(l)).join("\n");
  return { code: r.exitCode, stderr };
}

/**
 * A root where scriptlets can run (they run chrooted into it): a static busybox as /bin/sh,
 * /dev/null, and, unless told otherwise, a systemctl that only logs its arguments.
 */
async function scratchRoot(name: string, withSystemctl: boolean): Promise<{ dir: string; calls: () => string[] }> {
  const dir = join(tmp, name);
  for (const d of ["bin", "usr/bin", "dev", "var/log"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin/sh"));
  chmodSync(join(dir, "bin/sh"), 0o755);
  await $`mknod -m 666 ${join(dir, "dev/null")} c 1 3`;
  if (withSystemctl) writeFileSync(join(dir, "usr/bin/systemctl"), '#!/bin/sh\necho "$*" >> /var/log/systemctl.log\n', { mode: 0o755 });
  expect((await rpmIn(dir, "--initdb")).code).toBe(0);
  const log = join(dir, "var/log/systemctl.log");
  let seen = 0;
  // The calls made since the last look.
  const calls = (): string[] => {
    const all = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh;
  };
  return { dir, calls };
}

beforeAll(async () => {
  await $`make -C ${root} rpm`.quiet();
  mkdirSync(work);
  await $`sh -c ${`rpm2cpio '${rpmFile}' | cpio -idm --quiet`}`.cwd(work);
}, 240_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("rpm package contents", () => {
  it("lists exactly these files, the two configuration files %config(noreplace)", async () => {
    const rows = (await $`rpm -qp --qf ${"[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME}\n]"} ${rpmFile}`.quiet().text()).trim().split("\n").sort();
    expect(rows).toEqual([
      "/etc/lbctl  drwxr-xr-x root:root",
      "/etc/lbctl/lbctl.toml cn -rw-r--r-- root:root",
      "/etc/sysconfig/lbctl cn -rw-r--r-- root:root",
      "/usr/lib/systemd/system/lbctl.service  -rw-r--r-- root:root",
      "/usr/sbin/lbctl  -rwxr-xr-x root:root",
      "/usr/share/bash-completion/completions/lbctl  -rw-r--r-- root:root",
      "/usr/share/doc/lbctl  drwxr-xr-x root:root",
      "/usr/share/doc/lbctl/README.md d -rw-r--r-- root:root",
      "/usr/share/doc/lbctl/api.md d -rw-r--r-- root:root",
      "/usr/share/doc/lbctl/architecture.md d -rw-r--r-- root:root",
      "/usr/share/doc/lbctl/config.md d -rw-r--r-- root:root",
      "/usr/share/licenses/lbctl  drwxr-xr-x root:root",
      "/usr/share/licenses/lbctl/LICENSE l -rw-r--r-- root:root",
      "/usr/share/man/man5/lbctl.toml.5.gz d -rw-r--r-- root:root",
      "/usr/share/man/man8/lbctl.8.gz d -rw-r--r-- root:root",
    ]);
    expect((await $`rpm -qpc ${rpmFile}`.quiet().text()).trim().split("\n").sort()).toEqual(["/etc/lbctl/lbctl.toml", "/etc/sysconfig/lbctl"]);
  });

  it("requires nothing but glibc (and sh for its scriptlets)", async () => {
    const reqs = (await $`rpm -qp --requires ${rpmFile}`.quiet().text()).trim().split("\n");
    const real = new Set(reqs.map((r) => r.trim()).filter((r) => !r.startsWith("rpmlib(")));
    expect([...real].sort()).toEqual(["/bin/sh", "glibc"]);
  });

  it("is readable by EL7's rpm 4.11: gzip payload, SHA-256 digests, no newer rpmlib feature", async () => {
    expect((await $`rpm -qp --qf ${"%{PAYLOADCOMPRESSOR} %{FILEDIGESTALGO}"} ${rpmFile}`.quiet().text()).trim()).toBe("gzip 8");
    // What rpm 4.11.3 (CentOS 7) provides (lib/rpmds.c rpmlibProvides), with each version.
    const el7: Record<string, string> = {
      "rpmlib(VersionedDependencies)": "3.0.3-1", "rpmlib(CompressedFileNames)": "3.0.4-1", "rpmlib(PayloadIsBzip2)": "3.0.5-1",
      "rpmlib(PayloadIsXz)": "5.2-1", "rpmlib(PayloadIsLzma)": "4.4.2-1", "rpmlib(PayloadFilesHavePrefix)": "4.0-1",
      "rpmlib(ExplicitPackageProvide)": "4.0-1", "rpmlib(HeaderLoadSortsTags)": "4.0.1-1", "rpmlib(ScriptletInterpreterArgs)": "4.0.3-1",
      "rpmlib(PartialHardlinkSets)": "4.0.4-1", "rpmlib(ConcurrentAccess)": "4.1-1", "rpmlib(BuiltinLuaScripts)": "4.2.2-1",
      "rpmlib(FileDigests)": "4.6.0-1", "rpmlib(FileCaps)": "4.6.1-1", "rpmlib(ScriptletExpansion)": "4.9.0-1", "rpmlib(TildeInVersions)": "4.10.0-1",
    };
    const features = (await $`rpm -qp --requires ${rpmFile}`.quiet().text()).trim().split("\n").filter((r) => r.startsWith("rpmlib("));
    expect(features.length).toBeGreaterThan(0);
    expect(features.join("\n")).not.toMatch(/Zstd|RichDependencies|CaretInVersions|LargeFiles/);
    for (const f of features) {
      const m = /^(rpmlib\([^)]+\)) <= (\S+)$/.exec(f);
      expect(m, f).not.toBeNull();
      expect(el7[m![1]!], `${f}: rpm 4.11 lacks it`).toBeDefined();
      expect(Bun.semver.order(m![2]!.replace(/-1$/, ""), el7[m![1]!]!.replace(/-1$/, "")), f).toBeLessThanOrEqual(0);
    }
  });

  it("installs a binary that runs (not broken by stripping)", async () => {
    const out = await $`${join(work, "usr/sbin/lbctl")} --version`.quiet().text();
    expect(out.trim()).toMatch(new RegExp(`^lbctl ${version.replaceAll(".", "\\.")}\\b`));
  });

  it("ships a systemd unit that systemd-analyze accepts, reading /etc/sysconfig/lbctl", async () => {
    const unit = readFileSync(join(work, "usr/lib/systemd/system/lbctl.service"), "utf8");
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/lbctl daemon \$LBCTL_OPTIONS$/m);
    expect(unit).toMatch(/^EnvironmentFile=-\/etc\/sysconfig\/lbctl$/m);
    // Point the unit at the unpacked binary so verify can check the executable exists.
    const bin = join(work, "usr/sbin/lbctl");
    const local = join(tmp, "lbctl.service");
    writeFileSync(local, unit.replaceAll("/usr/sbin/lbctl", bin));
    const r = await $`systemd-analyze verify --man=no ${local}`.nothrow().quiet();
    expect(r.stderr.toString() + r.stdout.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("ships /etc/sysconfig/lbctl with an empty LBCTL_OPTIONS, as keepalived's KEEPALIVED_OPTIONS", () => {
    const text = readFileSync(join(work, "etc/sysconfig/lbctl"), "utf8");
    expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(['LBCTL_OPTIONS=""']);
  });

  it("ships /etc/lbctl/lbctl.toml as a commented example: it sets nothing, passes `lbctl check`, and uncommented is a valid configuration", async () => {
    const bin = join(work, "usr/sbin/lbctl");
    const shipped = join(work, "etc/lbctl/lbctl.toml");
    const r = await $`${bin} check -f ${shipped}`.nothrow().quiet();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toBe(`lbctl: no problems in ${shipped} (it sets nothing: only comments)\n`);
    // The example is the lines written '#X' (prose is '# text').
    const uncommented = join(tmp, "uncommented.toml");
    const text = readFileSync(shipped, "utf8").split("\n").map((l) => (/^#[^ ]/.test(l) ? l.slice(1) : l)).join("\n");
    writeFileSync(uncommented, text);
    const u = await $`${bin} check --no-interfaces -f ${uncommented}`.nothrow().quiet();
    expect(u.stdout.toString()).toBe(`lbctl: no problems in ${uncommented}\n`);
    expect(u.exitCode).toBe(0);
    const shown = JSON.parse(await $`${bin} config show --json --no-interfaces -f ${uncommented}`.quiet().text());
    expect(Object.keys(shown.vrrp_instance)).toEqual(["VI_1"]);
    expect(shown.virtual_server[0].real_server).toHaveLength(2);
  });

  it("ships man pages that groff renders without warnings, and the current bash completion", async () => {
    for (const page of ["usr/share/man/man8/lbctl.8.gz", "usr/share/man/man5/lbctl.toml.5.gz"]) {
      const r = await $`sh -c ${`gzip -dc '${join(work, page)}' | groff -ww -man -Tutf8 -P -cbou`}`.nothrow().quiet();
      expect(r.stderr.toString(), page).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString()).toMatch(/^LBCTL(\.TOML)?\((8|5)\)/);
    }
    const man8 = await $`sh -c ${`gzip -dc '${join(work, "usr/share/man/man8/lbctl.8.gz")}' | groff -man -Tutf8 -P -cbou`}`.quiet().text();
    expect(man8.replace(/\s+/g, " ")).toContain("/etc/lbctl/lbctl.toml if it exists and sets anything");
    expect(readFileSync(join(work, "usr/share/bash-completion/completions/lbctl"), "utf8")).toBe(await generateCompletion());
    expect(readFileSync(join(work, "usr/share/licenses/lbctl/LICENSE"), "utf8")).toMatch(/^MIT License\n/);
  });

  it("passes rpmlint with no errors or warnings (EL settings and reasoned filters in rpm/)", async () => {
    const r = await $`rpmlint -c ${join(root, "rpm/rpmlint.toml")} -r ${join(root, "rpm/lbctl.rpmlintrc")} ${rpmFile}`.nothrow().quiet();
    const out = r.stdout.toString();
    expect(out).toMatch(/1 packages and 0 specfiles checked; 0 errors, 0 warnings/);
    expect(r.exitCode).toBe(0);
  }, 30_000);

  it("is reproducible: a second build from the same inputs has the same bytes", async () => {
    const out = join(tmp, "again");
    await $`make -C ${root} rpm RPM_OUT=${out}`.quiet();
    expect(sha256(join(out, `lbctl-${version}-1.x86_64.rpm`))).toBe(sha256(rpmFile));
  }, 120_000);
});

describe("rpm install, upgrade, erase in a scratch root", () => {
  beforeAll(async () => {
    // The next release, from a tree whose packaged /etc/sysconfig/lbctl changed (gzip -1: faster).
    const src = join(tmp, "src2");
    for (const p of ["rpm", "docs", "README.md", "LICENSE"]) cpSync(join(root, p), join(src, p), { recursive: true });
    appendFileSync(join(src, "rpm/lbctl.sysconfig"), "# release 2\n");
    await $`make -C ${root} rpm RPM_RELEASE=2 RPM_GZIP_LEVEL=1 RPM_SRCDIR=${src} RPM_OUT=${join(tmp, "out2")}`.quiet();
  }, 120_000);

  it("presets on first install, try-restarts on upgrade, disables on erase, and keeps edited configuration", async () => {
    const { dir, calls } = await scratchRoot("root", true);
    const at = (p: string) => join(dir, p);

    const install = await rpmIn(dir, "-i", "--nodeps", rpmFile);
    expect(install).toEqual({ code: 0, stderr: "" });
    expect(calls()).toEqual(["--no-reload preset lbctl.service", "daemon-reload"]);
    expect(readFileSync(at("etc/lbctl/lbctl.toml"), "utf8")).toBe(readFileSync(join(root, "rpm/lbctl.toml"), "utf8"));
    expect(existsSync(at("usr/share/man/man8/lbctl.8.gz"))).toBe(true);
    const check = await $`${at("usr/sbin/lbctl")} check -f ${at("etc/lbctl/lbctl.toml")}`.nothrow().quiet();
    expect(check.exitCode).toBe(0);

    // The admin edits both configuration files.
    const toml = '[global_defs]\nrouter_id = "edited"\n';
    writeFileSync(at("etc/lbctl/lbctl.toml"), toml);
    appendFileSync(at("etc/sysconfig/lbctl"), 'LBCTL_OPTIONS="-P"\n');
    const sysconfig = readFileSync(at("etc/sysconfig/lbctl"), "utf8");

    const upgrade = await rpmIn(dir, "-U", "--nodeps", upgradeFile);
    expect(upgrade.code).toBe(0);
    // The new package's %post (no preset: not a first install), then the old one's %postun.
    expect(calls()).toEqual(["daemon-reload", "daemon-reload", "try-restart lbctl.service"]);
    expect((await $`rpm --root ${dir} --dbpath /var/lib/rpm -q lbctl`.quiet().text()).trim()).toBe(`lbctl-${version}-2.x86_64`);
    // Both edits stay; the sysconfig file the package changed comes beside it as .rpmnew.
    expect(readFileSync(at("etc/lbctl/lbctl.toml"), "utf8")).toBe(toml);
    expect(existsSync(at("etc/lbctl/lbctl.toml.rpmnew"))).toBe(false);
    expect(readFileSync(at("etc/sysconfig/lbctl"), "utf8")).toBe(sysconfig);
    expect(readFileSync(at("etc/sysconfig/lbctl.rpmnew"), "utf8")).toMatch(/^# release 2$/m);

    const erase = await rpmIn(dir, "-e", "lbctl");
    expect(erase).toEqual({ code: 0, stderr: expect.stringMatching(/saved as .*lbctl\.rpmsave/) });
    expect(calls()).toEqual(["--no-reload disable --now lbctl.service", "daemon-reload"]);
    for (const gone of ["usr/sbin/lbctl", "usr/lib/systemd/system/lbctl.service", "etc/lbctl/lbctl.toml", "etc/sysconfig/lbctl", "usr/share/doc/lbctl"]) {
      expect(existsSync(at(gone)), gone).toBe(false);
    }
    expect(readFileSync(at("etc/lbctl/lbctl.toml.rpmsave"), "utf8")).toBe(toml);
    expect(readFileSync(at("etc/sysconfig/lbctl.rpmsave"), "utf8")).toBe(sysconfig);
  }, 60_000);

  it("installs and erases cleanly where there is no systemctl (a container, an image build)", async () => {
    const { dir } = await scratchRoot("nosystemd", false);
    expect(await rpmIn(dir, "-i", "--nodeps", rpmFile)).toEqual({ code: 0, stderr: "" });
    expect(existsSync(join(dir, "usr/sbin/lbctl"))).toBe(true);
    expect(await rpmIn(dir, "-e", "lbctl")).toEqual({ code: 0, stderr: "" });
    // Unedited configuration goes with the package.
    expect(existsSync(join(dir, "etc/lbctl"))).toBe(false);
    expect(existsSync(join(dir, "usr/sbin/lbctl"))).toBe(false);
  }, 60_000);
});
