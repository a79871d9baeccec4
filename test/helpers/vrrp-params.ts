// The VRRP instance the unit tests start from: keepalived's defaults, VRID 51 and VIP 10.77.1.100
// (the addresses of the keepalived captures in test/fixtures/captures).
import { VRRP_DEFAULTS, type VrrpInstanceParams } from "../../src/vrrp/types.ts";

export const vrrpParams = (over: Partial<VrrpInstanceParams> = {}): VrrpInstanceParams => ({
  ...VRRP_DEFAULTS,
  name: "VI_1",
  vrid: 51,
  family: 4,
  interface: "veth0",
  vips: ["10.77.1.100"],
  primaryIp: "10.77.1.2",
  ...over,
});
