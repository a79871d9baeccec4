// The command table: one line per command; a module is imported only when its command runs,
// so `lbctl check` does not pay for the console or the daemon.
import type { Command } from "./command.ts";

export const commands: Record<string, () => Promise<Command>> = {
  check: async () => (await import("./cmd-check.ts")).default,
  convert: async () => (await import("./cmd-convert.ts")).default,
  config: async () => (await import("./cmd-config.ts")).default,
  daemon: async () => (await import("./cmd-daemon.ts")).default,
  demo: async () => (await import("./cmd-demo.ts")).default,
  ipvs: async () => (await import("./cmd-ipvs.ts")).default,
  status: async () => (await import("./cmd-status.ts")).default,
  events: async () => (await import("./cmd-events.ts")).default,
  reload: async () => (await import("./cmd-reload.ts")).default,
  drain: async () => (await import("./cmd-drain.ts")).default,
  undrain: async () => (await import("./cmd-drain.ts")).undrain,
  top: async () => (await import("./cmd-top.ts")).default,
};
