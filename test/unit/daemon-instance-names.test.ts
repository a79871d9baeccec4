// How a daemon is named by net_namespace/instance (control socket, dump and drain files), how a
// client command finds it, and what a reload may not change. keepalived 2.2.7's names, checked by
// running it: /run/keepalived/NS/keepalived_INST.pid (test/integration/daemon-netns.test.ts runs it),
// and with data_use_instance /tmp/keepalived.NS_INST.data (seen by hand; .stats and .json keep their names).
import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { CheckEnv } from "../../src/config/env.ts";
import { ApiClientError, socketFrom } from "../../src/cli/api-client.ts";
import {
  daemonSockets, defaultSocketPath, discoverSocket, drainFilePath, dumpFileName, identityChange, identityOf,
  ipvsNamespaceName, ipvsNamespacePath, resolveSocketPath, type RunDirReader,
} from "../../src/daemon/instance-names.ts";

function load(text: string, env: Partial<CheckEnv> = {}) {
  return loadConfigText(text, "k.conf", { env: { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "h", ...env } });
}

const VI = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 7\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n";

/** A fake /run/lbctl: paths of the files in it. */
function runDir(...files: string[]): RunDirReader {
  return {
    list(dir) {
      const names = new Map<string, boolean>();
      for (const f of files) {
        if (!f.startsWith(`${dir}/`)) continue;
        const [first, ...rest] = f.slice(dir.length + 1).split("/");
        names.set(first!, rest.length > 0 || names.get(first!) === true);
      }
      return [...names].map(([name, isDir]) => ({ name, dir: isDir }));
    },
  };
}

describe("daemon names", () => {
  it("takes net_namespace and instance from the top level of the file, --namespace over the file's", () => {
    const { effective } = load(`net_namespace blue\ninstance one\n${VI}`);
    expect(identityOf(effective)).toEqual({ namespace: "blue", instance: "one" });
    expect(identityOf(effective, "red")).toEqual({ namespace: "red", instance: "one" });
    expect(identityOf(load(VI).effective)).toEqual({});
  });

  it("names the control socket as keepalived names its pid files: a directory per namespace, a suffix per instance", () => {
    expect(defaultSocketPath({})).toBe("/run/lbctl/lbctl.sock");
    expect(defaultSocketPath({ namespace: "blue" })).toBe("/run/lbctl/blue/lbctl.sock");
    expect(defaultSocketPath({ instance: "one" })).toBe("/run/lbctl/lbctl_one.sock");
    expect(defaultSocketPath({ namespace: "blue", instance: "one" })).toBe("/run/lbctl/blue/lbctl_one.sock");
    expect(drainFilePath({})).toBe("/run/lbctl/drains.json");
    expect(drainFilePath({ namespace: "blue", instance: "one" })).toBe("/run/lbctl/blue/drains_one.json");
    // Two daemons told apart only by their sockets do not share their drains (issue 13).
    expect(drainFilePath({}, "/run/lbctl/lbctl.sock")).toBe("/run/lbctl/drains.json");
    expect(drainFilePath({}, "/tmp/a/h1.sock")).toBe("/tmp/a/h1.drains.json");
    expect(drainFilePath({ namespace: "blue" }, "/run/lbctl/blue/lbctl.sock")).toBe("/run/lbctl/blue/drains.json");
  });

  it("names the dump files as keepalived's open_dump_file does with data_use_instance (all of them, not only .data)", () => {
    expect(dumpFileName("keepalived.data", {})).toBe("keepalived.data");
    expect(dumpFileName("keepalived.data", { namespace: "blue", instance: "one" })).toBe("keepalived.blue_one.data");
    expect(dumpFileName("keepalived_check.data", { namespace: "blue" })).toBe("keepalived_check.blue.data");
    expect(dumpFileName("keepalived.stats", { instance: "one" })).toBe("keepalived.one.stats");
    expect(dumpFileName("keepalived.json", { namespace: "blue" })).toBe("keepalived.blue.json");
  });

  it("chooses the socket: --socket, then --namespace/--instance, then $LBCTL_SOCKET, then the configuration's names", () => {
    const identity = { namespace: "blue" };
    expect(resolveSocketPath({ socket: "/s", explicitIdentity: { namespace: "red" }, env: "/e", identity })).toBe("/s");
    expect(resolveSocketPath({ explicitIdentity: { namespace: "red" }, env: "/e", identity })).toBe("/run/lbctl/red/lbctl.sock");
    expect(resolveSocketPath({ explicitIdentity: {}, env: "/e", identity })).toBe("/e");
    expect(resolveSocketPath({ identity })).toBe("/run/lbctl/blue/lbctl.sock");
  });

  it("client commands: --namespace and --instance select a daemon; a name that cannot be a file name is a usage error", () => {
    const none = runDir();
    expect(socketFrom({ namespace: "blue" }, undefined, none)).toBe("/run/lbctl/blue/lbctl.sock");
    expect(socketFrom({ namespace: "blue", instance: "one" }, "/env.sock", none)).toBe("/run/lbctl/blue/lbctl_one.sock");
    expect(socketFrom({}, "/env.sock", none)).toBe("/env.sock");
    expect(socketFrom({ socket: "/x.sock", namespace: "blue" }, undefined, none)).toBe("/x.sock");
    expect(() => socketFrom({ namespace: "../etc" }, undefined, none)).toThrow(ApiClientError);
    try { socketFrom({ instance: "a/b" }, undefined, none); } catch (e) { expect((e as ApiClientError).exitCode).toBe(64); }
  });

  it("client commands told nothing use the default socket, else the only daemon socket, else name the choices", () => {
    expect(socketFrom({}, undefined, runDir())).toBe("/run/lbctl/lbctl.sock");
    expect(socketFrom({}, undefined, runDir("/run/lbctl/drains.json", "/run/lbctl/blue/lbctl.sock"))).toBe("/run/lbctl/blue/lbctl.sock");
    expect(socketFrom({}, undefined, runDir("/run/lbctl/lbctl.sock", "/run/lbctl/blue/lbctl.sock"))).toBe("/run/lbctl/lbctl.sock");
    const two = runDir("/run/lbctl/blue/lbctl.sock", "/run/lbctl/blue/lbctl_one.sock", "/run/lbctl/blue/drains.json");
    expect(daemonSockets(two)).toEqual([
      { path: "/run/lbctl/blue/lbctl.sock", select: "--namespace blue" },
      { path: "/run/lbctl/blue/lbctl_one.sock", select: "--namespace blue --instance one" },
    ]);
    const r = discoverSocket(two);
    expect(r).toEqual({ error: expect.stringContaining("/run/lbctl/blue/lbctl_one.sock (--namespace blue --instance one)") });
    expect(() => socketFrom({}, undefined, two)).toThrow(/several lbctl daemons/);
  });

  it("refuses at a reload what keepalived refuses: another net_namespace, net_namespace_ipvs or instance", () => {
    expect(identityChange({ namespace: "blue" }, { namespace: "blue" }, { before: "", after: "" })).toEqual([]);
    const out = identityChange({ namespace: "blue", instance: "one" }, { instance: "two" }, { before: undefined, after: "x" });
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^net_namespace_ipvs cannot change at a reload/);
    expect(out[1]).toMatch(/^net_namespace cannot change at a reload \(running in blue, the file now says none\)/);
    expect(out[2]).toMatch(/^instance cannot change at a reload/);
  });

  it("net_namespace_ipvs: a name is /run/netns/NAME, the keyword alone the main namespace, none the daemon's own", () => {
    expect(ipvsNamespacePath(load(`net_namespace_ipvs lvs\n${VI}`).effective)).toBe("/run/netns/lvs");
    expect(ipvsNamespacePath(load(`net_namespace_ipvs\n${VI}`).effective)).toBe("/proc/1/ns/net");
    expect(ipvsNamespaceName(load(`net_namespace_ipvs\n${VI}`).effective)).toBe("");
    expect(ipvsNamespacePath(load(VI).effective)).toBeUndefined();
  });
});

describe("lbctl check of net_namespace, instance and net_namespace_ipvs", () => {
  it("is an error, at its line, when net_namespace does not exist on this machine (keepalived -t says nothing)", () => {
    const r = load(`# blue\nnet_namespace blue\n${VI}`, { netnsExists: () => false, interfaceExists: () => true });
    expect(r.diag.list.map((d) => [d.severity, d.loc?.line, d.message])).toEqual([
      ["error", 2, "net_namespace 'blue' does not exist on this machine (no /run/netns/blue; create it with 'ip netns add blue'); the daemon would not start"],
    ]);
  });

  it("at a reload, the namespace the daemon runs in may have lost its name (ip netns del leaves it alive)", () => {
    const r = loadConfigText(`net_namespace blue\n${VI}`, "k.conf", {
      enteredNamespace: "blue",
      env: { fileExists: () => true, isExecutable: () => true, userExists: () => true, hostname: "h", netnsExists: () => false, interfaceExists: () => true },
    });
    expect(r.diag.list).toEqual([]);
  });

  it("checks interfaces in the namespace the daemon will run in", () => {
    const asked: string[] = [];
    let ns = "(caller)";
    const r = load(`net_namespace blue\n${VI}`, {
      netnsExists: () => true,
      useNamespace: (n) => { ns = n; },
      interfaceExists: (name) => { asked.push(`${ns}:${name}`); return ns === "blue"; },
    });
    expect(asked).toContain("blue:eth0");
    expect(r.diag.list).toEqual([]);
  });

  it("keeps the first of a repeated net_namespace, instance or net_namespace_ipvs, as keepalived does, and says so", () => {
    const r = load(`net_namespace blue\nnet_namespace red\ninstance one\ninstance two\n${VI}`);
    expect(identityOf(r.effective)).toEqual({ namespace: "blue", instance: "one" });
    expect(r.diag.list.map((d) => `${d.severity} ${d.loc?.line}: ${d.message}`)).toEqual([
      'warning 2: Duplicate net_namespace definition red - ignoring (the first, "blue", stays)',
      'warning 4: Duplicate instance definition two - ignoring (the first, "one", stays)',
    ]);
  });

  it("rejects names that cannot be file names, and warns of a missing IPVS namespace", () => {
    const r = load(`net_namespace a/b\ninstance ..\nnet_namespace_ipvs lvs\n${VI}`, { netnsExists: (n) => n !== "lvs" });
    expect(r.diag.list.map((d) => `${d.severity} ${d.loc?.line}: ${d.message.split(":")[0]}`)).toEqual([
      "error 1: net_namespace 'a/b'",
      "error 2: instance '..'",
      "warning 3: net_namespace_ipvs 'lvs' does not exist on this machine (no /run/netns/lvs); IPVS cannot be programmed until it does",
    ]);
  });
});
