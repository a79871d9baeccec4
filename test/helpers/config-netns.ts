// Network namespaces for the configuration checks: `keepalived -t` and `lbctl check` look at
// the interfaces of the namespace they run in, so both run in one the test builds, holding
// exactly the interfaces wanted (veth pairs: this kernel has no dummy driver).
export function sh(cmd: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** Creates namespace `name` with the given interfaces; names the kernel refuses are skipped and returned. */
export function createNetns(name: string, interfaces: readonly string[]): { refused: string[] } {
  deleteNetns(name);
  const made = sh(["ip", "netns", "add", name]);
  if (made.code !== 0) throw new Error(`ip netns add ${name}: ${made.out}`);
  sh(["ip", "-n", name, "link", "set", "lo", "up"]);
  const refused: string[] = [];
  interfaces.forEach((ifname, i) => {
    const r = sh(["ip", "-n", name, "link", "add", ifname, "type", "veth", "peer", "name", `lbtcfp${i}`]);
    if (r.code !== 0) refused.push(ifname);
  });
  return { refused };
}

export function deleteNetns(name: string): void {
  sh(["ip", "netns", "delete", name]);
}

/** Runs a command inside the namespace with a timeout; exit code null when it timed out. */
export function inNetns(name: string, cmd: string[], opts: { cwd?: string; timeoutMs?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = Bun.spawnSync(["ip", "netns", "exec", name, ...cmd], {
    stdout: "pipe", stderr: "pipe", cwd: opts.cwd, timeout: opts.timeoutMs ?? 20_000,
    env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
