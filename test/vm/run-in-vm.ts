// Host side of the IPVS test VM: build (cached) and boot it once per command under QEMU/TCG.
// The guest sees the host's / read-only (with a tmpfs overlay), so the command can use any host path.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");

export interface VmRunOptions {
  /** Shell command run by /bin/sh inside the guest (chrooted into the host's filesystem). */
  command: string;
  /** Working directory for the command (a host path, visible in the guest). Default: the repo root. */
  cwd?: string;
  /** QEMU is killed (by PID) after this long. */
  timeoutMs: number;
  cacheDir?: string;
  memoryMb?: number;
  cpus?: number;
  /** Boot a real systemd as PID 1 (init-systemd.sh); the command runs as lbctl-vm-test.service. */
  systemd?: boolean;
}

export interface VmRunResult {
  /** Exit status of the command; null when the guest never reported one (timeout, boot failure). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Kernel/init console log: look here when exitCode is null. */
  console: string;
  timedOut: boolean;
  durationMs: number;
}

export function vmCacheDir(): string {
  return process.env.LBCTL_VM_CACHE ?? join(repoRoot, ".cache/vm");
}

/** Builds the VM image (kernel + initramfs) unless cached. Throws with the script's output on failure. */
export function buildVm(cacheDir: string = vmCacheDir()): string {
  const result = spawnSync("bash", [join(repoRoot, "test/vm/build-vm.sh"), cacheDir], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`build-vm.sh failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return cacheDir;
}

/**
 * Bundles an in-VM program into one JS file (reading thousands of small files over 9p is slow) and
 * returns the command that runs it with this Bun, which the guest sees at the same path.
 */
export function bundleForVm(entry: string, outFile: string): string {
  const bun = realpathSync(join(repoRoot, "node_modules/.bin/bun"));
  const result = spawnSync(bun, ["build", "--target=bun", "--outfile", outFile, entry], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`bun build ${entry} failed:\n${result.stdout}\n${result.stderr}`);
  return `${shellQuote(bun)} ${shellQuote(outFile)}`;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** Kernel command line of the systemd boot: cgroup v2 only, straight to the test target. */
const SYSTEMD_APPEND = "rdinit=/init-systemd systemd.unified_cgroup_hierarchy=1 systemd.unit=lbctl-vm-test.target systemd.show_status=0";

export function qemuArgs(cacheDir: string, share: string, memoryMb: number, cpus: number, systemd = false): string[] {
  const append = "console=ttyS0 panic=-1 mitigations=off cryptomgr.notests rdinit=/init quiet";
  return [
    "-M", "q35", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", String(cpus), "-m", String(memoryMb),
    "-kernel", join(cacheDir, "vmlinux"),
    "-initrd", join(cacheDir, "initramfs.cpio"),
    "-append", systemd ? `${append.replace("rdinit=/init ", "")} ${SYSTEMD_APPEND}` : append,
    "-chardev", `file,id=con,path=${join(share, "console.log")}`,
    "-serial", "chardev:con",
    "-fsdev", "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap",
    "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
    "-fsdev", `local,id=results,path=${share},security_model=none`,
    "-device", "virtio-9p-pci,fsdev=results,mount_tag=results",
    "-device", "virtio-serial-pci",
    "-chardev", `file,id=out,path=${join(share, "stdout.log")}`,
    "-device", "virtserialport,chardev=out,name=stdout",
    "-chardev", `file,id=err,path=${join(share, "stderr.log")}`,
    "-device", "virtserialport,chardev=err,name=stderr",
  ];
}

/**
 * One VM at a time on this machine: two TCG guests on 2 cores would each run at half speed
 * and both miss their timeouts. The lock file holds the owner's pid; a dead owner's lock is
 * taken over.
 */
async function acquireVmLock(cacheDir: string): Promise<() => void> {
  const path = join(cacheDir, "run.lock");
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* already gone */ } };
    } catch {
      const owner = Number(readIfExists(path).trim());
      if (!Number.isInteger(owner) || owner <= 0 || !existsSync(`/proc/${owner}`)) {
        try { unlinkSync(path); } catch { /* raced with another waiter */ }
        continue;
      }
      await Bun.sleep(250);
    }
  }
}

/** The in-VM suite's case results: one `PREFIX{json}` line per case on its stdout, by case name. */
export function caseResults<T extends { name: string }>(stdout: string, prefix: string): Map<string, T> {
  const results = new Map<string, T>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const r = JSON.parse(line.slice(prefix.length)) as T;
    results.set(r.name, r);
  }
  return results;
}

/**
 * Host paths the guest's own tmpfs on /tmp would hide (a checkout in /tmp/x): init.sh binds them
 * back. Real paths, outermost only.
 */
export function hiddenInGuest(paths: string[]): string[] {
  const real = [...new Set(paths.map((p) => realpathSync(p)))].filter((p) => p === "/tmp" || p.startsWith("/tmp/")).sort();
  return real.filter((p) => !real.some((q) => q !== p && p.startsWith(`${q}/`)));
}

/** Boots the VM, runs one command, powers off. Never leaves QEMU running. Waits for other runs first. */
export async function runInVm(options: VmRunOptions): Promise<VmRunResult> {
  const cacheDir = options.cacheDir ?? vmCacheDir();
  const release = await acquireVmLock(cacheDir);
  try {
    return await runLocked(cacheDir, options);
  } finally {
    release();
  }
}

async function runLocked(cacheDir: string, options: VmRunOptions): Promise<VmRunResult> {
  const share = mkdtempSync(join(tmpdir(), "lbctl-vm-"));
  const started = performance.now();
  try {
    const cwd = options.cwd ?? repoRoot;
    writeFileSync(join(share, "cmd.sh"), `cd ${shellQuote(cwd)} || exit 125\n${options.command}\n`);
    writeFileSync(join(share, "keep"), hiddenInGuest([repoRoot, cwd, cacheDir]).map((p) => `${p}\n`).join(""));
    const qemu = spawn("qemu-system-x86_64", qemuArgs(cacheDir, share, options.memoryMb ?? 1024, options.cpus ?? 2, options.systemd), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let qemuOutput = "";
    qemu.stdout.on("data", (d: Buffer) => (qemuOutput += d.toString()));
    qemu.stderr.on("data", (d: Buffer) => (qemuOutput += d.toString()));
    let timedOut = false;
    const exited = new Promise<void>((resolveExit) => {
      qemu.on("exit", () => resolveExit());
      qemu.on("error", (err) => {
        qemuOutput += `\nspawn qemu-system-x86_64: ${err.message}`;
        resolveExit();
      });
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (qemu.pid !== undefined) process.kill(qemu.pid, "SIGKILL");
    }, options.timeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
      if (qemu.exitCode === null && qemu.signalCode === null && qemu.pid !== undefined) {
        process.kill(qemu.pid, "SIGKILL");
      }
    }
    const status = readIfExists(join(share, "exit-status")).trim();
    return {
      exitCode: status === "" ? null : Number(status),
      stdout: readIfExists(join(share, "stdout.log")),
      stderr: readIfExists(join(share, "stderr.log")),
      console: readIfExists(join(share, "console.log")) + qemuOutput,
      timedOut,
      durationMs: performance.now() - started,
    };
  } finally {
    rmSync(share, { recursive: true, force: true });
  }
}
