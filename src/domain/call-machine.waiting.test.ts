/** A waiting call (docs/spec.md §14 "Call waiting"): rings quietly, then ends like any call. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accept,
  alice,
  bobPhone,
  bobTablet,
  CALL_ID,
  callEnded,
  decline,
  incomingCall,
  inPhase,
  ringDevice,
  ringingState,
  ringTimeout,
  send,
  startInput,
  T_ANSWER,
  T0,
} from "./call-machine.fixtures.ts";
import { startCall, transition } from "./call-machine.ts";
import type { OutboundEvent } from "./call-types.ts";

const waitingIncoming: OutboundEvent = { ...incomingCall(), waiting: true } as OutboundEvent;

describe('call waiting (docs/spec.md §14 "Call waiting")', () => {
  it("rings every live device as a waiting call and tells the caller it rings, as usual", () => {
    const { state, effects } = startCall(startInput({ waiting: true }), T0);
    const ringing = inPhase(state, "ringing");
    assert.equal(ringing.call.waiting, true);
    assert.deepEqual(effects[2], send(alice, { type: "ringing", callId: CALL_ID, calleeUserId: "bob", devices: 2 }));
    assert.deepEqual(effects.slice(3, 5), [send(bobPhone, waitingIncoming), send(bobTablet, waitingIncoming)]);
  });

  it("pushes devices without a session as today (they are not in the other call)", () => {
    const { effects } = startCall(startInput({ waiting: true }), T0);
    const push = effects.find((e) => e.kind === "notify");
    assert.ok(push?.kind === "notify" && push.notification.kind === "incoming_call");
    assert.equal("waiting" in push.notification, false);
  });

  it("rings a device that comes online later as a waiting call too", () => {
    const state = ringingState({ waiting: true, calleeDevices: ["b-phone"] });
    const { effects } = transition(state, ringDevice("b-tablet"), T0 + 1_000);
    assert.deepEqual(effects, [send(bobTablet, waitingIncoming)]);
  });

  it("an ordinary call carries no waiting mark", () => {
    const state = ringingState();
    assert.equal("waiting" in state.call, false);
    assert.equal("waiting" in incomingCall(), false);
  });

  it("End & accept answers it: connecting, and the answer is recorded", () => {
    const { state, effects } = transition(ringingState({ waiting: true }), accept(bobPhone), T_ANSWER);
    assert.equal(inPhase(state, "connecting").answeredDeviceId, "b-phone");
    assert.ok(effects.some((e) => e.kind === "record_answer"));
  });

  it("Decline ends it declined; no answer ends it missed with the missed-call notification", () => {
    const declined = transition(ringingState({ waiting: true }), decline(bobPhone), T0 + 2_000);
    assert.equal(inPhase(declined.state, "ended").end.outcome, "declined");
    assert.deepEqual(
      declined.effects.find((e) => e.kind === "send" && e.to === alice),
      send(alice, callEnded("declined", "declined")),
    );
    const missed = transition(ringingState({ waiting: true }), ringTimeout, T0 + 30_000);
    assert.equal(inPhase(missed.state, "ended").end.outcome, "missed");
    assert.ok(missed.effects.some((e) => e.kind === "notify" && e.notification.kind === "missed_call"));
  });
});
