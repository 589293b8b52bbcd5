import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGlare } from "./call-guards.ts";
import { alice, bobPhone, connectingState, mallory, ringingState } from "./call-machine.fixtures.ts";

describe("isGlare", () => {
  it("is the callee's call ringing the caller's user, and nothing else", () => {
    // Bob's call to Alice rings while Alice calls Bob: glare.
    const bobCallsAlice = ringingState({ caller: bobPhone, calleeUserId: "alice", calleeDevices: ["a-phone"] });
    assert.equal(isGlare(bobCallsAlice, alice, "bob"), true);
    // Alice calling Mallory finds Bob's call to her: busy, not glare.
    assert.equal(isGlare(bobCallsAlice, alice, "mallory"), false);
    // Alice's own ringing call to Bob: she is already in a call.
    assert.equal(isGlare(ringingState(), alice, "bob"), false);
    // Bob's call to Alice answered already: not glare.
    const answered = connectingState(alice, { caller: bobPhone, calleeUserId: "alice", calleeDevices: ["a-phone"] });
    assert.equal(isGlare(answered, alice, "bob"), false);
    assert.equal(isGlare(bobCallsAlice, mallory, "bob"), false);
  });
});
