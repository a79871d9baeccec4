import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { createLab } from "../helpers/netns.ts";

const lab = createLab("lbt-nl-");
const dirs: string[] = [];
afterAll(async () => {
  await lab.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The receive worker must work in a `bun build --compile` binary built like the product
// (--bytecode, entrypoints src/cli/<main>.ts + src/net/rx-worker.ts), without the sources on disk.
describe("receive worker in a compiled binary", () => {
  it("delivers an rtnetlink event when src/net/rx-worker.ts is an extra entrypoint", async () => {
    const repo = new URL("../../", import.meta.url).pathname;
    const build = mkdtempSync(join(tmpdir(), "lbt-nl-build-"));
    const out = mkdtempSync(join(tmpdir(), "lbt-nl-bin-"));
    dirs.push(build, out);
    cpSync(join(repo, "src"), join(build, "src"), { recursive: true });
    cpSync(join(repo, "ffi"), join(build, "ffi"), { recursive: true });
    cpSync(join(repo, "package.json"), join(build, "package.json"));
    writeFileSync(join(build, "src/cli/rx-probe.ts"), `
      import { subscribeRtnlEvents } from "../netlink/events.ts";
      const timer = setTimeout(() => { console.log("no event"); process.exit(2); }, 5000);
      const sub = subscribeRtnlEvents((e) => {
        if (e.kind !== "address") return;
        console.log("event " + e.op + " " + e.address.address);
        clearTimeout(timer);
        void sub.close();
      }, { onError: (e) => { console.log("error " + e.message); process.exit(3); } });
      Bun.spawn(["ip", "addr", "add", "10.74.0.1/32", "dev", "lo"]);
    `);
    const bin = join(out, "rx-probe");
    const compile = Bun.spawnSync([process.execPath, "build", "--compile", "--bytecode", "--minify-syntax", "--outfile", bin, "src/cli/rx-probe.ts", "src/net/rx-worker.ts"], { cwd: build, env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" } });
    expect(compile.exitCode, compile.stderr.toString()).toBe(0);
    rmSync(build, { recursive: true, force: true }); // the binary must not find the sources on disk
    const [ns] = await lab.namespaces("bin");
    const r = await lab.exec(ns, [bin], { timeoutMs: 15_000 });
    expect(r.stdout.trim()).toBe("event new 10.74.0.1");
    expect(r.code).toBe(0);
  });
});
