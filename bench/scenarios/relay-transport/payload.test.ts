import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pairDevices, peerDevice, sdpLike } from "./payload.ts";

describe("sdpLike", () => {
  it("has exactly the asked size and looks like SDP", () => {
    for (const n of [100, 950, 4000]) assert.equal(sdpLike(n, 3).length, n);
    assert.match(sdpLike(950, 3), /^v=0\r\no=- \d+ 2 IN IP4/);
    assert.notEqual(sdpLike(950, 1), sdpLike(950, 2));
  });
});

describe("pair ids", () => {
  it("maps each side to the other", () => {
    const { a, b, callId } = pairDevices(17);
    assert.deepEqual([a, b, callId], ["p17.a", "p17.b", "p17"]);
    assert.equal(peerDevice(a), b);
    assert.equal(peerDevice(b), a);
    assert.equal(peerDevice("p17"), undefined);
  });
});
