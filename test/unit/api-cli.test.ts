// The control commands' argument handling and their answer when no daemon runs (no root needed).
import { describe, expect, it } from "vitest";
import { runInProcess } from "../helpers/lbctl-run.ts";

const NO_SOCKET = "/nonexistent-lbt-ct/lbctl.sock";

describe("control commands", () => {
  it.each([
    [["status", "--bogus"], "lbctl: Unknown option '--bogus'\nusage: lbctl status [--json] [--socket PATH] [--namespace NS] [--instance NAME]\n"],
    [["events", "--since", "x"], "lbctl: --since takes an event sequence number\nusage: lbctl events [--json] [--since SEQ] [--no-follow] [--socket PATH] [--namespace NS] [--instance NAME]\n"],
    [["drain", "10.0.0.1:80"], "lbctl: drain needs a virtual server and a real server\nusage: lbctl drain VIRTUAL_SERVER REAL_SERVER [--socket PATH] [--namespace NS] [--instance NAME]\n"],
    [["undrain", "a", "b", "c"], "lbctl: unexpected argument 'c'\nusage: lbctl undrain VIRTUAL_SERVER REAL_SERVER [--socket PATH] [--namespace NS] [--instance NAME]\n"],
    [["top", "--interval", "0"], "lbctl: --interval takes seconds (at least 0.1)\nusage: lbctl top [--interval SECONDS] [--socket PATH] [--namespace NS] [--instance NAME] [--note-file PATH]\n"],
    [["reload", "now"], "lbctl: unexpected argument 'now'\nusage: lbctl reload [--json] [--socket PATH] [--namespace NS] [--instance NAME]\n"],
  ])("%j is a usage error (64)", async (argv, stderr) => {
    const r = await runInProcess(argv);
    expect(r).toEqual({ code: 64, stdout: "", stderr });
  });

  it.each([["status"], ["reload"], ["events", "--no-follow"], ["drain", "a:1", "b:2"], ["undrain", "a:1", "b:2"]])("%s without a daemon says so (69)", async (...argv) => {
    const r = await runInProcess([...argv, "--socket", NO_SOCKET]);
    expect(r).toEqual({ code: 69, stdout: "", stderr: `lbctl: lbctl daemon is not running (no socket at ${NO_SOCKET})\n` });
  });

  it("takes the socket from LBCTL_SOCKET when --socket is not given", async () => {
    const saved = process.env.LBCTL_SOCKET;
    process.env.LBCTL_SOCKET = NO_SOCKET;
    try {
      expect((await runInProcess(["status"])).stderr).toBe(`lbctl: lbctl daemon is not running (no socket at ${NO_SOCKET})\n`);
    } finally {
      if (saved === undefined) delete process.env.LBCTL_SOCKET; else process.env.LBCTL_SOCKET = saved;
    }
  });

  it("every control command is registered with a usage line", async () => {
    const { commands } = await import("../../src/cli/commands.ts");
    for (const name of ["status", "events", "reload", "drain", "undrain", "top"]) {
      const c = await commands[name]!();
      expect(c.usage.startsWith(`lbctl ${name}`), name).toBe(true);
    }
  });
});
