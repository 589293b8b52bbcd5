import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alice, offer } from "./call-machine.fixtures.ts";
import { commandEvent } from "./commands.ts";

describe("commandEvent", () => {
  it("maps each call command to the machine event, by the device that sent it", () => {
    for (const kind of ["accept", "decline", "cancel", "busy"] as const) {
      assert.deepEqual(commandEvent(alice, { kind, callId: "c" }), { type: kind, by: alice });
    }
    assert.deepEqual(commandEvent(alice, { kind: "hangup", callId: "c", reason: "hangup" }), {
      type: "hangup",
      by: alice,
      reason: "hangup",
    });
    assert.deepEqual(commandEvent(alice, { kind: "signal", callId: "c", signal: offer }), {
      type: "relay",
      from: alice,
      signal: offer,
    });
  });

  it("carries a media report's path and setup time only when given", () => {
    assert.deepEqual(commandEvent(alice, { kind: "media_state", callId: "c", state: "connected" }), {
      type: "media",
      from: alice,
      state: "connected",
    });
    assert.deepEqual(
      commandEvent(alice, { kind: "media_state", callId: "c", state: "connected", path: "relay", setupMs: 900 }),
      { type: "media", from: alice, state: "connected", path: "relay", setupMs: 900 },
    );
  });
});
