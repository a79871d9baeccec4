import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SOCK_DGRAM, bind, close, recvfrom, socket, setNonBlocking } from "../../ffi/libc.ts";
import { SystemdNotifier, sockaddrUn } from "../../src/daemon/sd-notify.ts";

const AF_UNIX = 1;
let cleanup: (() => void)[] = [];
afterEach(() => { for (const f of cleanup.splice(0)) f(); });

function listener(path: string): () => string | undefined {
  const fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(fd, sockaddrUn(path));
  setNonBlocking(fd);
  cleanup.push(() => close(fd));
  return () => {
    const buf = new Uint8Array(4096);
    const r = recvfrom(fd, buf);
    return r ? new TextDecoder().decode(buf.subarray(0, r.length)) : undefined;
  };
}

describe("sd_notify", () => {
  it("encodes path and abstract socket addresses", () => {
    expect([...sockaddrUn("/run/x")]).toEqual([1, 0, ...new TextEncoder().encode("/run/x"), 0]);
    expect([...sockaddrUn("@abc")]).toEqual([1, 0, 0, 0x61, 0x62, 0x63]);
  });

  it("delivers READY, STATUS and STOPPING to a path socket", () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-notify-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "notify");
    const read = listener(path);
    const n = new SystemdNotifier(path);
    cleanup.push(() => n.close());
    n.ready("2 instances");
    n.stopping();
    expect(read()).toBe("READY=1\nSTATUS=2 instances");
    expect(read()).toBe("STOPPING=1");
  });

  it("works with an abstract socket and is a no-op without NOTIFY_SOCKET", () => {
    const name = `@lbctl-test-${process.pid}`;
    const read = listener(name);
    const n = new SystemdNotifier(name);
    cleanup.push(() => n.close());
    n.status("hello");
    expect(read()).toBe("STATUS=hello");
    const off = new SystemdNotifier("");
    expect(off.enabled).toBe(false);
    expect(off.notify({ READY: 1 })).toBeUndefined();
  });
});
