import { describe, expect, it } from "vitest";
import { tomlLocator } from "../../src/config/toml-locate.ts";

const TEXT = `# comment
title = "x"   # trailing
[global_defs]
router_id = "r1"
notification_email = [
  "a@example.com",
  "b@example.com",
]

[vrrp_instance.VI_1]
priority = 150
authentication = { auth_type = "PASS", auth_pass = "secret" }
"quoted key" = 1
a.b.c = true

[[virtual_server]]
ip = "10.0.0.1"
  [[virtual_server.real_server]]
  ip = "10.0.0.2"
  [[virtual_server.real_server]]
  ip = "10.0.0.3"
  weight = 7

[[virtual_server]]
ip = "10.0.0.9"
real_server = [ { ip = "10.0.0.10", weight = 2 },
                { ip = "10.0.0.11", weight = 3 } ]
s = """multi
[not a header]
line"""
`;

const at = (line: number, col: number) => ({ file: "t.toml", line, col });

describe("tomlLocator", () => {
  const locate = tomlLocator(TEXT, "t.toml");

  it("finds plain keys, table headers and quoted keys", () => {
    expect(locate(["title"])).toEqual(at(2, 1));
    expect(locate(["global_defs"])).toEqual(at(3, 2));
    expect(locate(["global_defs", "router_id"])).toEqual(at(4, 1));
    expect(locate(["vrrp_instance", "VI_1", "priority"])).toEqual(at(11, 1));
    expect(locate(["vrrp_instance", "VI_1", "quoted key"])).toEqual(at(13, 1));
  });

  it("gives each element of a multi-line array its own line", () => {
    expect(locate(["global_defs", "notification_email"])).toEqual(at(5, 1));
    expect(locate(["global_defs", "notification_email", 1])).toEqual(at(7, 3));
  });

  it("reads inline tables and dotted keys", () => {
    expect(locate(["vrrp_instance", "VI_1", "authentication", "auth_pass"])).toEqual(at(12, 40));
    expect(locate(["vrrp_instance", "VI_1", "a", "b", "c"])).toEqual(at(14, 5));
  });

  it("counts arrays of tables, nested ones per parent element", () => {
    expect(locate(["virtual_server", 0, "ip"])).toEqual(at(17, 1));
    expect(locate(["virtual_server", 0, "real_server", 1, "weight"])).toEqual(at(22, 3));
    expect(locate(["virtual_server", 0, "real_server", 1])).toEqual(at(20, 3));
    expect(locate(["virtual_server", 1, "ip"])).toEqual(at(25, 1));
    expect(locate(["virtual_server", 1, "real_server", 1, "weight"])).toEqual(at(27, 37));
  });

  it("is not fooled by a header-like line inside a multi-line string", () => {
    expect(locate(["not a header"])).toEqual(at(1, 1));
  });

  it("falls back to the nearest known parent, then the top of the file", () => {
    expect(locate(["vrrp_instance", "VI_1", "nope"])).toEqual(at(10, 16));
    expect(locate(["nothing"])).toEqual(at(1, 1));
  });
});
