/** The PushTargetChecks port on node:net's BlockList and node:crypto's key import. */
import { createPublicKey } from "node:crypto";
import { BlockList, isIP } from "node:net";
import type { PushTargetChecks } from "../../app/ports/push-target-checks.ts";

function privateRanges(): BlockList {
  const b = new BlockList();
  for (const [net, bits] of [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
  ] as const) {
    b.addSubnet(net, bits, "ipv4");
  }
  for (const [net, bits] of [
    ["::", 127],
    ["fc00::", 7],
    ["fe80::", 10],
    ["::ffff:0:0", 96],
  ] as const) {
    b.addSubnet(net, bits, "ipv6");
  }
  return b;
}

/** Creates the production checks. */
export function createNodePushTargetChecks(): PushTargetChecks {
  const blocked = privateRanges();
  return {
    isPrivateAddress(host) {
      const family = isIP(host);
      return family !== 0 && blocked.check(host, family === 4 ? "ipv4" : "ipv6");
    },
    isP256Point(key) {
      if (key.length !== 65 || key[0] !== 4) return false;
      const b = Buffer.from(key);
      const jwk = {
        kty: "EC",
        crv: "P-256",
        x: b.subarray(1, 33).toString("base64url"),
        y: b.subarray(33).toString("base64url"),
      };
      try {
        createPublicKey({ key: jwk, format: "jwk" });
        return true;
      } catch {
        return false;
      }
    },
  };
}
