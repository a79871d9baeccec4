#!/usr/bin/env bun
// lbctl: one binary, subcommands. Each command lives in its own module and is loaded lazily,
// so `lbctl check` does not pay for the console or the daemon.
import { VERSION, versionLine } from "../version.ts";

import { commands } from "./commands.ts";
import { ROLE_COMMAND } from "../daemon/child.ts";
import { DEMO_CLIENT_COMMAND, DEMO_HTTP_COMMAND } from "../demo/agents.ts";

function printHelp(): void {
  const lines = [`lbctl ${VERSION} — keepalived-compatible load balancer`, "", "usage: lbctl COMMAND [ARGS]", "", "commands:"];
  for (const name of Object.keys(commands).sort()) lines.push(`  ${name}`);
  lines.push("", "lbctl help COMMAND shows a command's usage.");
  process.stdout.write(lines.join("\n") + "\n");
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "-h" || cmd === "--help") { printHelp(); return 0; }
  if (cmd === "--version" || cmd === "-v" || cmd === "version") { process.stdout.write(`${versionLine()}\n`); return 0; }
  if (cmd === "help") {
    const target = rest[0];
    if (!target) { printHelp(); return 0; }
    const load = commands[target];
    if (!load) { process.stderr.write(`lbctl: unknown command '${target}'\n`); return 64; }
    const c = await load();
    process.stdout.write(`${c.usage}\n\n${c.summary}\n`);
    return 0;
  }
  // Children of `lbctl daemon` are this binary started with a hidden role argument.
  if (cmd === ROLE_COMMAND) return (await import("../daemon/role.ts")).runRole(rest);
  // `lbctl demo`'s HTTP servers and client are this binary too, inside the demo's namespaces.
  if (cmd === DEMO_HTTP_COMMAND) return (await import("../demo/agents.ts")).runDemoHttp(rest);
  if (cmd === DEMO_CLIENT_COMMAND) return (await import("../demo/agents.ts")).runDemoClient(rest);
  const load = commands[cmd];
  if (!load) { process.stderr.write(`lbctl: unknown command '${cmd}' (try 'lbctl help')\n`); return 64; }
  const c = await load();
  if (rest.includes("-h") || rest.includes("--help")) { process.stdout.write(`${c.usage}\n\n${c.summary}\n`); return 0; }
  return c.run(rest);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Let the process end on its own so every pending write to a pipe is flushed first
      // (process.exit() here cut long reports short); a command that left something running
      // is still ended after a grace period.
      process.exitCode = code;
      setTimeout(() => process.exit(code), 5000).unref();
    },
    (err: unknown) => {
      // Last resort: never a stack trace for the user, unless debugging.
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`lbctl: ${msg}\n`);
      if (process.env.LBCTL_DEBUG) console.error(err);
      process.exitCode = 70;
      setTimeout(() => process.exit(70), 5000).unref();
    },
  );
}
