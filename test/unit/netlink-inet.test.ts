import { describe, expect, it } from "vitest";

import { errnoName, errnoNumber } from "../../ffi/errno.ts";
import { formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6, parseIp, parseMac } from "../../src/net/inet.ts";

describe("inet text <-> bytes", () => {
  it("parses and formats IPv4", () => {
    expect([...parseIPv4("224.0.0.18")!]).toEqual([224, 0, 0, 18]);
    expect(formatIPv4(Uint8Array.of(10, 0, 0, 1))).toBe("10.0.0.1");
    for (const bad of ["1.2.3", "1.2.3.256", "a.b.c.d", "1..2.3", "1.2.3.4.5"]) expect(parseIPv4(bad)).toBeNull();
  });

  it("parses IPv6 forms and formats RFC 5952", () => {
    const cases: [string, string][] = [
      ["ff02::12", "ff02::12"], ["::", "::"], ["::1", "::1"], ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["fe80::1%eth0", "fe80::1"], ["::ffff:10.0.0.1", "::ffff:a00:1"], ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"], ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ];
    for (const [input, canon] of cases) expect(formatIPv6(parseIPv6(input)!)).toBe(canon);
    for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "g::", ""]) expect(parseIPv6(bad)).toBeNull();
    expect(parseIp("fd00::1")!.family).toBe(6);
    expect(parseIp("10.1.1.1")!.family).toBe(4);
    expect(parseIp("nope")).toBeNull();
  });

  it("parses and formats MAC addresses", () => {
    expect(formatMac(parseMac("00:00:5E:00:01:33")!)).toBe("00:00:5e:00:01:33");
    expect(parseMac("00:00:5e:00:01")).toBeNull();
  });
});

describe("errno names", () => {
  it("maps Linux numbers to symbols", () => {
    expect(errnoName(1)).toBe("EPERM");
    expect(errnoName(17)).toBe("EEXIST");
    expect(errnoName(40)).toBe("ELOOP");
    expect(errnoName(42)).toBe("ENOMSG");
    expect(errnoName(95)).toBe("EOPNOTSUPP");
    expect(errnoName(99)).toBe("EADDRNOTAVAIL");
    expect(errnoName(105)).toBe("ENOBUFS");
    expect(errnoName(110)).toBe("ETIMEDOUT");
    expect(errnoName(125)).toBe("ECANCELED");
    expect(errnoName(133)).toBe("EHWPOISON");
    expect(errnoName(524)).toBe("ENOTSUPP");
    expect(errnoName(999)).toBe("E999");
    expect(errnoNumber("ESRCH")).toBe(3);
  });
});
