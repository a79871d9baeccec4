// The systemd suite that runs INSIDE the test VM booted with a real systemd as PID 1 (init-systemd.sh,
// bundled, one boot): installs the RPM with rpm -i, runs lbctl.service from an unchanged keepalived.conf
// and checks what an admin relies on (enable --now, reload, restart after SIGKILL, the watchdog against a
// stopped supervisor, journald priorities, stop releasing the VIPs and leaving IPVS as configured,
// systemd-analyze verify/security). The cases run in order on one service; each prints
// "LBCTL-SYSTEMD-VM-RESULT {json}" and test/integration/systemd-vm.test.ts makes one `it` per case.
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";

export const SYSTEMD_RESULT_PREFIX = "LBCTL-SYSTEMD-VM-RESULT ";
/** systemd-analyze security's table, one line each, for docs/systemd.md. */
export const SYSTEMD_SECURITY_PREFIX = "LBCTL-SYSTEMD-VM-SECURITY ";
export interface SystemdCaseResult { name: string; ok: boolean; error?: string; ms: number; detail?: string }

export const CASE_PID1 = "the guest runs systemd as PID 1 on cgroup v2 and reached the test target";
export const CASE_RPM = "rpm -i installs the package: binary in /usr/sbin, the unit loaded by %post's daemon-reload, disabled";
export const CASE_VERIFY = "systemd-analyze verify accepts the installed unit in the guest";
export const CASE_ENABLE = "systemctl enable --now with an unchanged keepalived.conf: active only after READY=1, VIP up, IPVS service added beside the admin's own, LBCTL_OPTIONS from /etc/sysconfig/lbctl used, capabilities bounded";
export const CASE_SCRIPTS = "scripts still run inside the sandbox: notify script and MISC_CHECK as script_user nobody";
export const CASE_RELOAD = "systemctl reload applies a change in place: a second VIP, a new weight, same MainPID, no restart";
export const CASE_CHILD = "a killed child is restarted by the supervisor, not by systemd (MainPID and NRestarts unchanged)";
export const CASE_JOURNAL = "journalctl -u lbctl shows the daemon's lines at their priorities (err 3, warning 4, notice 5, info 6) without the <N> prefix";
export const CASE_KILL = "systemctl kill -s KILL lbctl: systemd restarts the service (NRestarts + 1, new MainPID, VRRP master again)";
export const CASE_WATCHDOG = "a stopped supervisor (SIGSTOP) misses its watchdog pings: systemd aborts and restarts it";
export const CASE_STOP = "systemctl stop releases every VIP and leaves IPVS as configured (the admin's service stays, lbctl's are removed), no process left";
export const CASE_SECURITY = "systemd-analyze security lbctl: exposure 3.8 (OK) or lower, with the hardening the unit declares in effect";
export const systemdCaseNames = [CASE_PID1, CASE_RPM, CASE_VERIFY, CASE_ENABLE, CASE_SCRIPTS, CASE_RELOAD, CASE_CHILD, CASE_JOURNAL, CASE_KILL, CASE_WATCHDOG, CASE_STOP, CASE_SECURITY];

/** The score measured with systemd 252 (docs/systemd.md): dropping any hardening line raises it. */
export const MAX_EXPOSURE = 3.8;

const IF = "lbv0", PEER = "lbv1";
const VIP1 = "192.168.77.100", VIP2 = "192.168.77.101";
const RS = "192.168.77.2";
const NOTIFY_LOG = "/tmp/lbctl-vm-notify.log", CHECK_LOG = "/tmp/lbctl-vm-check.log";
const PID_FILE = "/run/lbctl/lbctl.pid";
const CONF = "/etc/keepalived/keepalived.conf";
/** The admin's own IPVS service, added before lbctl starts: keepalived leaves such services alone at stop. */
const FOREIGN = ["-A -t 10.9.9.9:443 -s wlc", "-a -t 10.9.9.9:443 -r 10.9.9.10:443 -m -w 3"];
const NOBODY_UID = "65534";

// The capabilities the unit's CapabilityBoundingSet= names (linux/capability.h numbers).
const CAPS: Record<string, number> = {
  CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14, CAP_SYS_NICE: 23,
};

// ---------- helpers ----------

function sh(cmd: string): { code: number; out: string; err: string } {
  const t0 = performance.now();
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  // Where the minutes go under TCG: every slow command on stderr (the host keeps it).
  const ms = performance.now() - t0;
  if (ms > 1500) console.error(`slow (${Math.round(ms)} ms): ${cmd}`);
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}
function shOk(cmd: string): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`'${cmd}' exited ${r.code}: ${(r.err + r.out).trim()}`);
  return r.out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function check(cond: boolean, what: string): void { if (!cond) throw new Error(what); }

/** Polls `get` until `ok` holds; throws with the last value seen. */
async function waitFor<T>(what: string, get: () => T, ok: (v: T) => boolean, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let v = get();
  while (!ok(v)) {
    if (performance.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await sleep(everyMs);
    v = get();
  }
  return v;
}

function prop(name: string): string { return shOk(`systemctl show -p ${name} --value lbctl.service`).trim(); }
/** Several properties in one systemctl call (each call costs 0.3-1.5 s in the guest). */
function props(...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of shOk(`systemctl show ${names.map((n) => `-p ${n}`).join(" ")} lbctl.service`).split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
/** [ActiveState, MainPID, NRestarts] */
function runState(): [string, number, number] {
  const p = props("ActiveState", "MainPID", "NRestarts");
  return [p.ActiveState ?? "", Number(p.MainPID), Number(p.NRestarts)];
}
function mainPid(): number { return Number(prop("MainPID")); }
function nRestarts(): number { return Number(prop("NRestarts")); }
function activeState(): string { return prop("ActiveState"); }
function addresses(): string[] {
  return [...shOk(`ip -4 -o addr show dev ${IF}`).matchAll(/inet (\S+)/g)].map((m) => m[1]!.split("/")[0]!);
}
function ipvsTable(): string[] {
  return shOk("ipvsadm -Ln").split("\n").slice(3).map((l) => l.trim().replace(/\s+/g, " ")).filter(Boolean)
    .map((l) => l.split(" ").slice(0, 4).join(" ")); // without the connection counters
}
function notifyLines(): string[] { return existsSync(NOTIFY_LOG) ? readFileSync(NOTIFY_LOG, "utf8").trim().split("\n").filter(Boolean) : []; }
function masterNotifications(): number { return notifyLines().filter((l) => l.includes("INSTANCE VI_1 MASTER")).length; }
/** The children of the supervisor, by role (argv: lbctl __role ROLE ...). */
function children(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of sh(`ps -o pid=,args= --ppid ${pid}`).out.split("\n")) {
    const m = /^\s*(\d+)\s+\S+\s+__role\s+(\w+)/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}
interface JournalEntry { MESSAGE?: string | number[]; PRIORITY?: string; _PID?: string; SYSLOG_IDENTIFIER?: string }
function journal(): JournalEntry[] {
  return shOk("journalctl -u lbctl.service -o json --no-pager").split("\n").filter(Boolean).map((l) => JSON.parse(l) as JournalEntry);
}
function message(e: JournalEntry): string { return typeof e.MESSAGE === "string" ? e.MESSAGE : Buffer.from(e.MESSAGE ?? []).toString(); }

function keepalivedConf(reloaded: boolean): string {
  // What an admin has in /etc/keepalived/keepalived.conf; the reload adds a VIP, reweights the real
  // server and adds a keyword lbctl (like keepalived) only warns about.
  return `! Configuration File for keepalived
global_defs {
   router_id lbctl-vm
   enable_script_security
   script_user nobody nogroup
${reloaded ? "   frobnicate_widgets 3\n" : ""}}

vrrp_instance VI_1 {
    state MASTER
    interface ${IF}
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    notify /etc/keepalived/notify.sh
    virtual_ipaddress {
        ${VIP1}/24
${reloaded ? `        ${VIP2}/24\n` : ""}    }
}

virtual_server ${VIP1} 80 {
    delay_loop 2
    lb_algo rr
    lb_kind NAT
    protocol TCP

    real_server ${RS} 80 {
        weight ${reloaded ? 2 : 1}
        MISC_CHECK {
            misc_path /etc/keepalived/check.sh
        }
    }
}
`;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o755 });
}

// ---------- state shared by the ordered cases ----------

let foreignTable: string[] = [];
let pidAtStart = 0;

const cases: Record<string, () => Promise<string | void>> = {
  [CASE_PID1]: async () => {
    check(readFileSync("/proc/1/comm", "utf8").trim() === "systemd", `PID 1 is ${readFileSync("/proc/1/comm", "utf8").trim()}`);
    check(shOk("stat -f -c %T /sys/fs/cgroup").trim() === "cgroup2fs", "/sys/fs/cgroup is not cgroup2");
    check(sh("systemctl is-active lbctl-vm-test.target").out.trim() === "active", "lbctl-vm-test.target is not active");
    // No host service leaked in (nginx, keepalived, postgresql...): only what the test target pulls.
    const running = shOk("systemctl list-units --type=service --state=running --no-legend --plain").split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    check(!running.some((u) => /nginx|keepalived|postgres|dnsmasq|ipvsadm/.test(u!)), `host services running: ${running.join(" ")}`);
    // (not `systemd-analyze blame`: it took 63 s here under TCG)
    return shOk("systemd-analyze time").trim().split("\n")[0];
  },

  [CASE_RPM]: async () => {
    const rpmFile = process.env.LBCTL_RPM;
    check(!!rpmFile && existsSync(rpmFile), `LBCTL_RPM '${rpmFile}' is not a file`);
    // Debian's rpm keeps no database here; the overlay is throw-away.
    shOk("rpm --initdb");
    // EL's presets disable what they do not name (90-default.preset ends in `disable *`); Debian's
    // enable everything. Give the guest EL's policy: %post's `systemctl preset` must then leave
    // the fresh install disabled, as on EL.
    mkdirSync("/etc/systemd/system-preset", { recursive: true });
    writeFileSync("/etc/systemd/system-preset/99-el-default.preset", "disable *\n");
    const reloads = () => (shOk("journalctl -b _PID=1 -o cat --no-pager").match(/^Reloading/gm) ?? []).length;
    const reloadsBefore = reloads();
    const install = sh(`rpm -i --nodeps '${rpmFile}'`);
    check(install.code === 0, `rpm -i exited ${install.code}: ${install.err}`);
    check(sh("rpm -q lbctl").code === 0, "rpm -q lbctl: not installed");
    check(existsSync("/usr/sbin/lbctl"), "/usr/sbin/lbctl missing");
    check(sh("/usr/sbin/lbctl --version").out.startsWith("lbctl "), "lbctl --version does not answer");
    // Debian's merged /usr shows it as /lib/systemd/system/lbctl.service: the same file.
    check(realpathSync(prop("FragmentPath")) === realpathSync("/usr/lib/systemd/system/lbctl.service"), `FragmentPath ${prop("FragmentPath")}`);
    check(prop("LoadState") === "loaded", `LoadState ${prop("LoadState")}`);
    // %post ran `systemctl daemon-reload`: PID 1 logged one more "Reloading".
    check(reloads() > reloadsBefore, `no daemon-reload (%post) in PID 1's journal (${reloadsBefore} before and after)`);
    check(sh("systemctl is-enabled lbctl").out.trim() === "disabled", "a fresh install is not disabled (EL's presets)");
  },

  [CASE_VERIFY]: async () => {
    const r = sh("systemd-analyze verify /usr/lib/systemd/system/lbctl.service");
    check(r.code === 0 && (r.out + r.err).trim() === "", `systemd-analyze verify exited ${r.code}:\n${r.out}${r.err}`);
  },

  [CASE_ENABLE]: async () => {
    // The comment-only /etc/lbctl/lbctl.toml of newer packages would be chosen over keepalived.conf here.
    rmSync("/etc/lbctl/lbctl.toml", { force: true });
    shOk("mkdir -p /etc/keepalived /etc/sysconfig");
    writeFileSync(CONF, keepalivedConf(false));
    // logger: a script's syslog line must reach journald from inside the sandbox (PrivateDevices=).
    writeExecutable("/etc/keepalived/notify.sh", `#!/bin/sh\necho "$(id -u) $*" >> ${NOTIFY_LOG}\nlogger -t lbctl-vm-notify "notify $*"\n`);
    writeExecutable("/etc/keepalived/check.sh", `#!/bin/sh\nid -u >> ${CHECK_LOG}\nexit 0\n`);
    rmSync(NOTIFY_LOG, { force: true });
    rmSync(CHECK_LOG, { force: true });
    writeFileSync("/etc/sysconfig/lbctl", `# lbctl daemon options\nLBCTL_OPTIONS="--pid ${PID_FILE}"\n`);
    // The VRRP interface exists before lbctl starts, as on a real host.
    shOk(`ip link add ${IF} type veth peer name ${PEER} && ip addr add 192.168.77.1/24 dev ${IF} && ip link set ${IF} up && ip link set ${PEER} up`);
    for (const a of FOREIGN) shOk(`ipvsadm ${a}`);
    foreignTable = ipvsTable();
    check(foreignTable.length === 2, `foreign table: ${foreignTable.join(" | ")}`);

    // Type=notify: the start job (and so this command) ends only once the supervisor said READY=1.
    shOk("timeout 90 systemctl enable --now lbctl");
    check(activeState() === "active", `ActiveState ${activeState()} right after enable --now`);
    check(prop("SubState") === "running", `SubState ${prop("SubState")}`);
    check(prop("StatusText") === "running", `StatusText '${prop("StatusText")}' (the READY=1 STATUS=)`);
    check(sh("systemctl is-enabled lbctl").out.trim() === "enabled", "not enabled");
    check(prop("WatchdogUSec") === "10s", `WatchdogUSec ${prop("WatchdogUSec")}: the watchdog is not armed`);
    pidAtStart = mainPid();
    check(readFileSync(`/proc/${pidAtStart}/comm`, "utf8").trim() === "lbctl", "MainPID is not lbctl");
    check(readFileSync(PID_FILE, "utf8").trim() === String(pidAtStart), `${PID_FILE} (LBCTL_OPTIONS) does not hold MainPID ${pidAtStart}`);
    await waitFor(`VIP ${VIP1} on ${IF}`, addresses, (a) => a.includes(VIP1));
    const table = await waitFor("lbctl's virtual server beside the admin's", ipvsTable,
      (t) => t.includes(`TCP ${VIP1}:80 rr`) && t.includes(`-> ${RS}:80 Masq 1`) && foreignTable.every((l) => t.includes(l)));
    // The bounding set the unit declares, exactly (and so no CAP_SYS_ADMIN, CAP_SYS_MODULE...).
    const bnd = BigInt("0x" + /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pidAtStart}/status`, "utf8"))![1]);
    const want = Object.values(CAPS).reduce((m, c) => m | (1n << BigInt(c)), 0n);
    check(bnd === want, `CapBnd ${bnd.toString(16)}, want ${want.toString(16)}`);
    // SystemCallFilter= must not have brought NoNewPrivileges= (scripts may use setuid helpers).
    check(/NoNewPrivs:\s*0/.test(readFileSync(`/proc/${pidAtStart}/status`, "utf8")), "NoNewPrivs is set");
    return table.join(" | ");
  },

  [CASE_SCRIPTS]: async () => {
    // keepalived's notify arguments: INSTANCE NAME STATE PRIORITY; run as script_user nobody (SETUID/SETGID).
    const lines = await waitFor("notify script MASTER line", notifyLines, (l) => l.some((x) => x === `${NOBODY_UID} INSTANCE VI_1 MASTER 150`));
    const checks = await waitFor("MISC_CHECK runs", () => existsSync(CHECK_LOG) ? readFileSync(CHECK_LOG, "utf8").trim().split("\n") : [], (l) => l.length >= 1);
    check(checks.every((u) => u === NOBODY_UID), `MISC_CHECK ran as uid ${checks.join(",")}`);
    await waitFor("the notify script's logger line in the journal", () => sh("journalctl -t lbctl-vm-notify -o cat --no-pager").out,
      (o) => o.includes("notify INSTANCE VI_1 MASTER 150"), 10_000, 500);
    return `${lines.length} notify line(s), ${checks.length} check run(s)`;
  },

  [CASE_RELOAD]: async () => {
    writeFileSync(CONF, keepalivedConf(true));
    const r = sh("timeout 60 systemctl reload lbctl");
    check(r.code === 0, `systemctl reload exited ${r.code}: ${r.err}`);
    await waitFor(`VIP ${VIP2} added`, addresses, (a) => a.includes(VIP1) && a.includes(VIP2));
    await waitFor("real server reweighted to 2", ipvsTable, (t) => t.includes(`-> ${RS}:80 Masq 2`));
    check(mainPid() === pidAtStart, `MainPID ${mainPid()} != ${pidAtStart}: restarted instead of reloaded`);
    // Also the proof that the watchdog pings arrive: the service has run for longer than WatchdogSec by now.
    check(nRestarts() === 0, `NRestarts ${nRestarts()}`);
    check(activeState() === "active", `ActiveState ${activeState()} after reload`);
    check(prop("StatusText") === "running", `StatusText '${prop("StatusText")}' after reload`);
  },

  [CASE_CHILD]: async () => {
    const before = children(pidAtStart);
    const vrrp = before.get("vrrp");
    check(vrrp !== undefined, `no vrrp child of ${pidAtStart}: ${JSON.stringify([...before])}`);
    shOk(`kill -KILL ${vrrp}`);
    const after = await waitFor("a new vrrp child", () => children(pidAtStart), (c) => c.has("vrrp") && c.get("vrrp") !== vrrp);
    check(mainPid() === pidAtStart && nRestarts() === 0, `systemd restarted the service (MainPID ${mainPid()}, NRestarts ${nRestarts()})`);
    await waitFor("VIPs kept", addresses, (a) => a.includes(VIP1) && a.includes(VIP2));
    return `vrrp ${vrrp} -> ${after.get("vrrp")}`;
  },

  [CASE_JOURNAL]: async () => {
    const want: [RegExp, string][] = [
      [/vrrp process \d+ exited \(code .*\); restarting/, "3"],
      [/unknown keyword 'frobnicate_widgets'/, "4"],
      [/^lbctl running with \/etc\/keepalived\/keepalived\.conf/, "5"],
      [/process applied the configuration in \d+ ms/, "6"],
    ];
    const entries = await waitFor("the daemon's lines in the journal", journal,
      (es) => want.every(([re]) => es.some((e) => re.test(message(e)))), 10_000, 500);
    for (const [re, priority] of want) {
      const e = entries.find((x) => re.test(message(x)))!;
      check(e.PRIORITY === priority, `'${message(e)}' has PRIORITY ${e.PRIORITY}, want ${priority}`);
    }
    const prefixed = entries.filter((e) => Number(e._PID) === pidAtStart && /^<\d>/.test(message(e)));
    check(prefixed.length === 0, `lines still carry their <N> prefix: ${prefixed.map(message).slice(0, 3).join(" | ")}`);
  },

  [CASE_KILL]: async () => {
    const pid = mainPid(), restarts = nRestarts(), masters = masterNotifications();
    shOk("systemctl kill -s KILL lbctl");
    await waitFor("restarted with a new MainPID", runState,
      ([s, p, n]) => s === "active" && p !== 0 && p !== pid && n === restarts + 1, 30_000);
    // The new VRRP child became master itself (the old VIPs could simply have been left behind).
    await waitFor("a new MASTER notification", masterNotifications, (n) => n > masters);
    await waitFor("VIPs", addresses, (a) => a.includes(VIP1) && a.includes(VIP2));
    await waitFor("lbctl's virtual server", ipvsTable, (t) => t.includes(`-> ${RS}:80 Masq 2`));
    return `MainPID ${pid} -> ${mainPid()}, NRestarts ${nRestarts()}`;
  },

  [CASE_WATCHDOG]: async () => {
    const pid = mainPid(), restarts = nRestarts(), masters = masterNotifications();
    const t0 = performance.now();
    shOk(`kill -STOP ${pid}`);
    await waitFor("restarted after the watchdog fired", runState,
      ([s, p, n]) => s === "active" && p !== 0 && p !== pid && n === restarts + 1, 45_000, 500);
    const ms = Math.round(performance.now() - t0);
    check(!existsSync(`/proc/${pid}`), `the stopped supervisor ${pid} is still there`);
    const log = shOk("journalctl -u lbctl.service --no-pager -o cat");
    check(/Watchdog timeout/.test(log), "no 'Watchdog timeout' from systemd in the journal");
    await waitFor("a new MASTER notification", masterNotifications, (n) => n > masters);
    await waitFor("VIPs", addresses, (a) => a.includes(VIP1) && a.includes(VIP2));
    return `SIGSTOP to active again in ${ms} ms (WatchdogSec ${prop("WatchdogUSec")})`;
  },

  [CASE_STOP]: async () => {
    const pid = mainPid();
    const kids = [...children(pid).values()];
    shOk("timeout 60 systemctl stop lbctl");
    check(activeState() === "inactive", `ActiveState ${activeState()} after stop`);
    check(prop("Result") === "success", `Result ${prop("Result")}: the daemon did not exit cleanly on SIGTERM`);
    const left = addresses().filter((a) => a === VIP1 || a === VIP2);
    check(left.length === 0, `VIPs left on ${IF}: ${left.join(" ")}`);
    // keepalived's default (no lvs_flush_onstop): its own virtual servers removed, the admin's untouched.
    const table = ipvsTable();
    check(JSON.stringify(table) === JSON.stringify(foreignTable), `IPVS after stop:\n${table.join("\n")}\nwant:\n${foreignTable.join("\n")}`);
    const alive = [pid, ...kids].filter((p) => existsSync(`/proc/${p}`));
    check(alive.length === 0, `processes left: ${alive.join(" ")}`);
    check(sh("pgrep -x lbctl").out.trim() === "", `lbctl processes left: ${sh("pgrep -x lbctl").out.trim()}`);
    check(!existsSync(PID_FILE), `${PID_FILE} left behind`);
  },

  [CASE_SECURITY]: async () => {
    const r = sh("systemd-analyze security --no-pager lbctl.service");
    for (const line of r.out.split("\n")) console.log(SYSTEMD_SECURITY_PREFIX + line);
    const m = /Overall exposure level for lbctl\.service: ([\d.]+) (\S+)/.exec(r.out);
    check(m !== null, `no exposure level in:\n${r.out}${r.err}`);
    const score = Number(m![1]);
    // Items the unit declares must show as applied (✓), so the score is not good by accident.
    // (ProtectSystem=full and ProtectHome=read-only count as partial: only strict/yes get a check mark.)
    check(prop("ProtectSystem") === "full" && prop("ProtectHome") === "read-only", `ProtectSystem=${prop("ProtectSystem")} ProtectHome=${prop("ProtectHome")}`);
    for (const item of ["ProtectKernelModules=", "ProtectControlGroups=", "RestrictNamespaces=~user", "RestrictNamespaces=~mnt", "LockPersonality=", "PrivateDevices=", "SystemCallFilter=~@mount", "SystemCallFilter=~@module", "RestrictSUIDSGID=", "SystemCallArchitectures=", "CapabilityBoundingSet=~CAP_SYS_ADMIN"]) {
      const line = r.out.split("\n").find((l) => l.includes(item));
      check(line !== undefined && line.trim().startsWith("✓"), `'${item}' is not applied: ${line}`);
    }
    check(score <= MAX_EXPOSURE, `exposure ${score} ${m![2]} > ${MAX_EXPOSURE}`);
    return `${score} ${m![2]}`;
  },
};

export async function runSystemdSuite(): Promise<SystemdCaseResult[]> {
  const results: SystemdCaseResult[] = [];
  for (const name of systemdCaseNames) {
    const t0 = performance.now();
    let r: SystemdCaseResult;
    try {
      const detail = await cases[name]!();
      r = { name, ok: true, ms: Math.round(performance.now() - t0), ...(detail ? { detail } : {}) };
    } catch (e) {
      // What systemd saw, for a failure read only from the host's report.
      const context = sh("systemctl status --no-pager -n 0 lbctl.service; journalctl -u lbctl.service --no-pager -n 25 -o short-monotonic").out;
      r = { name, ok: false, ms: Math.round(performance.now() - t0), error: `${(e as Error).stack ?? String(e)}\n--- systemd:\n${context}` };
    }
    results.push(r);
    console.log(SYSTEMD_RESULT_PREFIX + JSON.stringify(r));
  }
  return results;
}

if (import.meta.main) {
  const results = await runSystemdSuite();
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
