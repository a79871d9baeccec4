// rpm/lbctl.service must keep its meaning on EL7's systemd 219: every directive is listed here with the
// systemd version that introduced it (systemd's NEWS; table in docs/systemd.md). A directive 219 lacks
// is only a warning there ("Unknown lvalue ... ignoring"), so such directives may only be hardening:
// ignored, the service runs the same with less protection. Directives that carry meaning must exist in
// 219, with values 219 understands.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SystemdNotifier } from "../../src/daemon/sd-notify.ts";
import { Supervisor } from "../../src/daemon/supervisor.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { Logger } from "../../src/util/log.ts";

const EL7_SYSTEMD = 219;

interface Directive {
  section: "Unit" | "Service" | "Install";
  since: number;
  /** hardening: ignoring it only removes protection. behaviour: it changes what the service does. */
  kind: "behaviour" | "hardening";
  /** For behaviour directives: the values whose meaning is the same in 219 as today. */
  values?: RegExp;
}

const DIRECTIVES: Record<string, Directive> = {
  Description: { section: "Unit", since: 1, kind: "behaviour" },
  Documentation: { section: "Unit", since: 1, kind: "behaviour", values: /^(file|man|https?):/ },
  After: { section: "Unit", since: 1, kind: "behaviour" },
  Wants: { section: "Unit", since: 1, kind: "behaviour" },
  Conflicts: { section: "Unit", since: 1, kind: "behaviour" },
  // Type=notify-reload (253) or exec (240) would change the start/reload protocol.
  Type: { section: "Service", since: 1, kind: "behaviour", values: /^notify$/ },
  // NotifyAccess=exec is 233.
  NotifyAccess: { section: "Service", since: 1, kind: "behaviour", values: /^(main|all|none)$/ },
  EnvironmentFile: { section: "Service", since: 1, kind: "behaviour" },
  ExecStart: { section: "Service", since: 1, kind: "behaviour", values: /^\/\S+( .*)?$/ }, // an absolute path first: no +, !, !! (231+) prefixes
  ExecReload: { section: "Service", since: 1, kind: "behaviour", values: /^\/\S+( .*)?$/ },
  KillMode: { section: "Service", since: 1, kind: "behaviour", values: /^(control-group|process|mixed)$/ }, // mixed: 209
  TimeoutStopSec: { section: "Service", since: 1, kind: "behaviour", values: /^\d+s?$/ },
  Restart: { section: "Service", since: 1, kind: "behaviour", values: /^(no|on-success|on-failure|on-abnormal|on-watchdog|on-abort|always)$/ },
  RestartSec: { section: "Service", since: 1, kind: "behaviour", values: /^\d+s?$/ },
  WatchdogSec: { section: "Service", since: 1, kind: "behaviour", values: /^\d+s?$/ },
  RuntimeDirectory: { section: "Service", since: 211, kind: "behaviour" },
  RuntimeDirectoryMode: { section: "Service", since: 211, kind: "behaviour" },
  CapabilityBoundingSet: { section: "Service", since: 1, kind: "hardening" },
  ProtectSystem: { section: "Service", since: 214, kind: "hardening" }, // full: 214, strict: 232
  ProtectHome: { section: "Service", since: 214, kind: "hardening" },
  SystemCallArchitectures: { section: "Service", since: 209, kind: "hardening" },
  PrivateDevices: { section: "Service", since: 209, kind: "hardening" },
  SystemCallFilter: { section: "Service", since: 1, kind: "hardening" }, // @groups: 231 (ignored per entry before)
  SystemCallErrorNumber: { section: "Service", since: 209, kind: "hardening" },
  RestrictAddressFamilies: { section: "Service", since: 211, kind: "hardening" },
  ProtectKernelModules: { section: "Service", since: 232, kind: "hardening" },
  ProtectControlGroups: { section: "Service", since: 232, kind: "hardening" },
  RestrictNamespaces: { section: "Service", since: 233, kind: "hardening" },
  LockPersonality: { section: "Service", since: 235, kind: "hardening" },
  ProtectHostname: { section: "Service", since: 242, kind: "hardening" },
  RestrictSUIDSGID: { section: "Service", since: 242, kind: "hardening" },
  ProtectKernelLogs: { section: "Service", since: 244, kind: "hardening" },
  ProtectClock: { section: "Service", since: 245, kind: "hardening" },
  WantedBy: { section: "Install", since: 1, kind: "behaviour", values: /^multi-user\.target$/ },
};

/** [section, key, value] of every assignment, comments and blank lines skipped. */
function parseUnit(text: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) { section = head[1]!; continue; }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not an assignment: ${line}`);
    out.push([section, line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

const unit = readFileSync(join(import.meta.dirname, "../../rpm/lbctl.service"), "utf8");
const assignments = parseUnit(unit);

describe("rpm/lbctl.service on systemd 219 (EL7)", () => {
  it("uses only directives whose version and role are known", () => {
    const unknown = assignments.filter(([, k]) => !(k in DIRECTIVES)).map(([s, k]) => `[${s}] ${k}`);
    expect(unknown, "add them to DIRECTIVES and to docs/systemd.md's table").toEqual([]);
    for (const [section, key] of assignments) expect(`[${section}] ${key}`).toBe(`[${DIRECTIVES[key]!.section}] ${key}`);
  });

  it("every directive newer than 219 is hardening (ignored there: less protection, same behaviour)", () => {
    const newer = assignments.filter(([, k]) => DIRECTIVES[k]!.since > EL7_SYSTEMD);
    expect(newer.length).toBeGreaterThan(0); // the table is in use: the unit does carry newer hardening
    expect(newer.filter(([, k]) => DIRECTIVES[k]!.kind !== "hardening").map(([, k]) => k)).toEqual([]);
  });

  it("directives that change behaviour use values systemd 219 reads the same way", () => {
    for (const [, key, value] of assignments) {
      const d = DIRECTIVES[key]!;
      if (d.kind === "behaviour" && d.values) expect(value, key).toMatch(d.values);
    }
  });

  it("keeps the capabilities the daemon and its scripts need", () => {
    const caps = assignments.find(([, k]) => k === "CapabilityBoundingSet")![2].split(/\s+/).sort();
    expect(caps).toEqual(["CAP_IPC_LOCK", "CAP_KILL", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SYS_NICE"]);
    // JIT (no MemoryDenyWriteExecute), SCHED_RR (no RestrictRealtime), scripts as other users and
    // setuid helpers such as ping for MISC_CHECK (no NoNewPrivileges): see docs/systemd.md.
    const keys = new Set(assignments.map(([, k]) => k));
    for (const k of ["MemoryDenyWriteExecute", "RestrictRealtime", "NoNewPrivileges", "PrivateNetwork", "User", "DynamicUser"]) expect(keys.has(k), k).toBe(false);
  });

  it("filters system calls only by deny list (an allow list that 219 cannot parse would deny everything)", () => {
    const filters = assignments.filter(([, k]) => k === "SystemCallFilter").map(([, , v]) => v);
    expect(filters.length).toBeGreaterThan(0);
    for (const f of filters) expect(f.startsWith("~"), f).toBe(true);
    // Never the groups lbctl uses: setuid/setgid for scripts, SCHED_RR and mlockall, sockets.
    for (const f of filters) for (const g of ["@privileged", "@setuid", "@resources", "@network-io", "@process", "@system-service"]) expect(f.split(/[\s~]+/)).not.toContain(g);
  });

  it("runs the binary the package installs, with the sysconfig options", () => {
    const get = (k: string) => assignments.find(([, key]) => key === k)?.[2];
    expect(get("ExecStart")).toBe("/usr/sbin/lbctl daemon $LBCTL_OPTIONS");
    expect(get("EnvironmentFile")).toBe("-/etc/sysconfig/lbctl");
    expect(get("ExecReload")).toBe("/usr/sbin/lbctl reload");
  });
});

describe("the supervisor's systemd watchdog", () => {
  class Recorder extends SystemdNotifier {
    pings = 0;
    constructor(private readonly every: number | undefined) { super("@lbctl-test-unused"); }
    override watchdog(): void { this.pings++; }
    override notify(): string | undefined { return undefined; }
    override watchdogIntervalMs(): number | undefined { return this.every; }
  }
  const make = (n: Recorder) => new Supervisor({
    configPath: "test.conf",
    load: () => loadConfigText("global_defs {\n  router_id t\n}\n", "test.conf"),
    rolesFor: () => [], // no children: only the supervisor's own loop is under test
    log: new Logger({ write: () => {} }),
    notifier: n,
  });

  it("pings at the interval systemd asked for from the supervisor's loop, with no child ready yet, and stops at stop()", async () => {
    const n = new Recorder(20);
    const sup = make(n);
    expect(sup.start().ok).toBe(true);
    await Bun.sleep(150);
    const during = n.pings;
    expect(during).toBeGreaterThanOrEqual(4);
    await sup.stop();
    await Bun.sleep(80);
    expect(n.pings).toBe(during);
  });

  it("does not ping when systemd asked for no watchdog", async () => {
    const n = new Recorder(undefined);
    const sup = make(n);
    sup.start();
    await Bun.sleep(60);
    await sup.stop();
    expect(n.pings).toBe(0);
  });

  it("half of WATCHDOG_USEC, only for the process systemd named", () => {
    const env = { ...process.env };
    try {
      process.env.WATCHDOG_USEC = "10000000";
      process.env.WATCHDOG_PID = String(process.pid);
      expect(new SystemdNotifier(undefined).watchdogIntervalMs()).toBe(5000);
      process.env.WATCHDOG_PID = String(process.pid + 1);
      expect(new SystemdNotifier(undefined).watchdogIntervalMs()).toBeUndefined();
    } finally {
      process.env = env;
    }
  });
});
