import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertRelaySecret, signRelayToken, verifyRelayToken } from "./relay-auth.ts";

const secret = "0123456789abcdef-test-secret";
const claims = { from: "node-a", to: "node-b", link: "l1" };
const now = 1_700_000_000_000;

describe("relay auth tokens", () => {
  it("accepts a token signed for the same claims within the skew", () => {
    assert.equal(verifyRelayToken([secret], signRelayToken(secret, claims, now), claims, now + 1_000, 60_000), true);
  });

  it("refuses another secret, other claims, stale or malformed tokens", () => {
    const token = signRelayToken(secret, claims, now);
    assert.equal(verifyRelayToken(["another-secret-of-16b"], token, claims, now, 60_000), false);
    assert.equal(verifyRelayToken([secret], token, { ...claims, to: "node-c" }, now, 60_000), false);
    assert.equal(verifyRelayToken([secret], token, { ...claims, from: "node-x" }, now, 60_000), false);
    assert.equal(verifyRelayToken([secret], token, { ...claims, link: "l2" }, now, 60_000), false);
    assert.equal(verifyRelayToken([secret], token, claims, now + 60_001, 60_000), false);
    for (const bad of ["", "x", `${now}.zz`, `${now}.${"0".repeat(64)}`, token.slice(0, -2)]) {
      assert.equal(verifyRelayToken([secret], bad, claims, now, 60_000), false, bad);
    }
  });

  it("accepts a token signed with any of the accepted secrets (a rotation in progress)", () => {
    const previous = "the-previous-secret-0123";
    const next = "the-next-secret-01234567";
    const now2 = now + 1;
    for (const signer of [previous, secret, next]) {
      assert.equal(
        verifyRelayToken([secret, previous, next], signRelayToken(signer, claims, now2), claims, now2, 1),
        true,
      );
    }
    assert.equal(verifyRelayToken([secret, next], signRelayToken(previous, claims, now2), claims, now2, 1), false);
    assert.equal(verifyRelayToken([], signRelayToken(secret, claims, now2), claims, now2, 1), false);
  });

  it("rejects secrets too short to be secrets", () => {
    assert.throws(() => assertRelaySecret("short"), /at least 16 bytes/);
    assertRelaySecret(secret);
  });
});
