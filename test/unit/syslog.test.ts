import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SOCK_DGRAM, bind, close, recvfrom, setNonBlocking, socket } from "../../ffi/libc.ts";
import { sockaddrUn } from "../../src/daemon/sd-notify.ts";
import { Logger } from "../../src/util/log.ts";
import { SyslogSink, parseFacility, syslogDatagram } from "../../src/util/syslog.ts";

const cleanup: (() => void)[] = [];
afterEach(() => { for (const f of cleanup.splice(0)) f(); });

describe("syslog", () => {
  it("folds the facility into the line's priority, RFC 3164 style", () => {
    expect(syslogDatagram("<3>VI_1 failed\n", 3, "lbctl", 42)).toBe("<27>lbctl[42]: VI_1 failed");
    expect(syslogDatagram("<6>hello", 16, "lbctl", 1)).toBe("<134>lbctl[1]: hello");
  });

  it("takes keepalived's -S digits and facility names", () => {
    expect(parseFacility("0")).toBe(16);
    expect(parseFacility("7")).toBe(23);
    expect(parseFacility("daemon")).toBe(3);
    expect(parseFacility("8")).toBeUndefined();
    expect(parseFacility("bogus")).toBeUndefined();
  });

  it("delivers logger lines to a datagram socket, and survives one that is not there", () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-syslog-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "log");
    const fd = socket(1, SOCK_DGRAM, 0);
    cleanup.push(() => close(fd));
    bind(fd, sockaddrUn(path));
    setNonBlocking(fd);
    const sink = new SyslogSink(3, "lbctl", path);
    cleanup.push(() => sink.close());
    new Logger(sink, () => 0, undefined, "info").warning("(VI_1) Entering FAULT STATE");
    const buf = new Uint8Array(1024);
    const r = recvfrom(fd, buf);
    expect(new TextDecoder().decode(buf.subarray(0, r!.length))).toBe(`<28>lbctl[${process.pid}]: (VI_1) Entering FAULT STATE`);
    expect(() => new SyslogSink(3, "lbctl", join(dir, "absent")).write("<6>x\n")).not.toThrow();
  });
});
