import { existsSync } from "node:fs";

import { afterAll, describe, expect, it } from "vitest";

import { createLab } from "../helpers/netns.ts";

const nsExists = (name: string) => existsSync(`/run/netns/${name}`);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe("test/helpers/netns.ts", () => {
  const lab = createLab("lbt-nl-");
  afterAll(() => lab.cleanup());

  it("builds namespaces, veth, a bridged LAN, addresses; runs commands; cleans up processes and namespaces", async () => {
    const [h1, h2, h3] = await lab.namespaces("h1", "h2", "h3");
    expect(h1.startsWith(lab.tag)).toBe(true);
    const br = await lab.lan("lan", [
      { ns: h1, ifname: "eth0", address: "10.73.0.1/24" },
      { ns: h2, ifname: "eth0", address: "10.73.0.2/24" },
      { ns: h3, ifname: "eth0", address: "fd73::3/64" },
    ]);
    await lab.addr(h3, "eth0", "10.73.0.3/24");
    await lab.addr(h1, "eth0", "fd73::1/64");
    // Bridged: h1 reaches h2 and h3 over IPv4, and h3 over IPv6 without waiting for DAD. (No ping in
    // CI: a TCP connect to a closed port answered by "Connection refused" proves the round trip.)
    for (const dst of ["10.73.0.2", "10.73.0.3", "fd73::3"]) {
      const r = await lab.exec(h1, ["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${dst}/9`]);
      expect(r.stderr, dst).toMatch(/Connection refused/);
    }
    const unreachable = await lab.exec(h1, ["timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/10.73.0.99/9"]);
    expect(unreachable.stderr).not.toMatch(/Connection refused/);
    const links = await lab.ipJson<{ ifname: string; master?: string }[]>(br, ["link", "show"]);
    expect(links.filter((l) => l.master === "br0").map((l) => l.ifname).sort()).toEqual(["p0", "p1", "p2"]);
    await expect(lab.run(h1, ["false"])).rejects.toThrow(/false exited 1/);
    await expect(lab.veth(h1, "a-very-long-ifname", h2, "x")).rejects.toThrow(/1\.\.15/);

    const sleeper = lab.spawnIn(h2, ["sleep", "600"]);
    expect(alive(sleeper.pid)).toBe(true);
    const printer = lab.spawnIn(h2, ["sh", "-c", "echo hello; ip -o link show lo"]);
    expect(await printer.exited).toBe(0);
    expect(printer.output().stdout).toMatch(/hello\n1: lo:/);

    await lab.cleanup();
    expect(await sleeper.exited).not.toBe(0);
    expect(alive(sleeper.pid)).toBe(false);
    for (const ns of [h1, h2, h3, br]) expect(nsExists(ns)).toBe(false);
    await lab.cleanup(); // idempotent
  });

  it("removes namespaces left by a test process that died, via the process-exit hook", async () => {
    const script = `
      import { createLab } from ${JSON.stringify(new URL("../helpers/netns.ts", import.meta.url).pathname)};
      const lab = createLab("lbt-nl-");
      const [n] = await lab.namespaces("exit");
      lab.spawnIn(n, ["sleep", "600"]);
      console.log(n);
      process.exit(0);
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    const name = out.trim();
    expect(name, err).toMatch(/^lbt-nl-[0-9a-z]+-exit$/);
    expect(nsExists(name)).toBe(false);
  });
});
