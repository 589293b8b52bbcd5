/** startCall and the ringing phase: every event, every illegal one (docs/spec.md §3). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accept,
  alice,
  aliceTablet,
  assertDomainError,
  assertEnds,
  assertUnchanged,
  bobLaptop,
  bobPhone,
  bobTablet,
  busy,
  CALL_ID,
  callEnded,
  cancel,
  candidate,
  clearTimer,
  decline,
  deviceLost,
  hangup,
  incomingCall,
  inPhase,
  mallory,
  mediaEvent,
  mutedCameraOff,
  nonParticipantEvents,
  relay,
  ringDevice,
  ringingState,
  ringTimeout,
  send,
  setTimer,
  setupTimeout,
  startInput,
  stopRinging,
  T_ANSWER,
  T0,
} from "./call-machine.fixtures.ts";
import { type CallPolicy, defaultCallPolicy, startCall, transition } from "./call-machine.ts";
import type { CallEvent, Effect, EndReason, OutboundEvent, Outcome } from "./call-types.ts";
import type { DomainErrorCode } from "./errors.ts";

describe("startCall", () => {
  it("rings every live device, pushes, sets the ring timer and tells the caller", () => {
    const { state, effects } = startCall(startInput(), T0);
    const call = {
      callId: CALL_ID,
      caller: alice,
      calleeUserId: "bob",
      video: true,
      startedAtMs: T0,
      ringDeadlineMs: T0 + 30_000,
    };
    assert.deepEqual(state, { phase: "ringing", call, ringing: ["b-phone", "b-tablet"], pushed: true });
    assert.deepEqual(effects, [
      { kind: "record_start", call },
      setTimer("ring", T0 + 30_000),
      send(alice, { type: "ringing", callId: CALL_ID, calleeUserId: "bob", devices: 2 }),
      send(bobPhone, incomingCall()),
      send(bobTablet, incomingCall()),
      {
        kind: "notify",
        notification: {
          kind: "incoming_call",
          userId: "bob",
          callId: CALL_ID,
          callerUserId: "alice",
          video: true,
          ringDeadlineMs: T0 + 30_000,
        },
      },
    ]);
  });

  it("sends no push when the callee has no push target", () => {
    const { state, effects } = startCall(startInput({ calleeDevices: ["b-phone"], calleePushable: false }), T0);
    assert.equal(inPhase(state, "ringing").pushed, false);
    assert.deepEqual(
      effects.map((e) => e.kind),
      ["record_start", "set_timer", "send", "send"],
    );
    assert.deepEqual(effects[2], send(alice, { type: "ringing", callId: CALL_ID, calleeUserId: "bob", devices: 1 }));
    assert.deepEqual(effects[3], send(bobPhone, incomingCall()));
  });

  it("rings a push-only callee (no live device) and reports 0 devices to the caller", () => {
    const { state, effects } = startCall(startInput({ calleeDevices: [], calleePushable: true }), T0);
    const ringing = inPhase(state, "ringing");
    assert.deepEqual(ringing.ringing, []);
    assert.equal(ringing.pushed, true);
    assert.deepEqual(
      effects.map((e) => e.kind),
      ["record_start", "set_timer", "send", "notify"],
    );
    assert.deepEqual(effects[2], send(alice, { type: "ringing", callId: CALL_ID, calleeUserId: "bob", devices: 0 }));
  });

  it("ends at once as busy when the callee is in another call, telling the caller", () => {
    const { state, effects } = startCall(startInput({ calleeBusy: true }), T0);
    const ended = inPhase(state, "ended");
    const end = { outcome: "busy", reason: "callee_busy", endedAtMs: T0 } as const;
    assert.deepEqual(ended.end, end);
    assert.deepEqual(effects, [
      { kind: "record_start", call: ended.call },
      send(alice, callEnded("busy", "callee_busy")),
      { kind: "record_end", call: ended.call, end },
    ]);
  });

  it("a callee who blocked the caller is unreachable to them: not rung, not notified, not even busy", () => {
    for (const over of [{}, { calleeBusy: true }, { calleeDevices: [], calleePushable: true }]) {
      const { state, effects } = startCall(startInput({ ...over, calleeBlocksCaller: true }), T0);
      const ended = inPhase(state, "ended");
      const end = { outcome: "unreachable", reason: "no_devices", endedAtMs: T0 } as const;
      assert.deepEqual(ended.end, end, "the same as a user with no device");
      assert.deepEqual(effects, [
        { kind: "record_start", call: ended.call },
        send(alice, callEnded("unreachable", "no_devices")),
        { kind: "record_end", call: ended.call, end },
      ]);
    }
  });

  it("busy wins over unreachable", () => {
    const { state } = startCall(startInput({ calleeBusy: true, calleeDevices: [], calleePushable: false }), T0);
    assert.equal(inPhase(state, "ended").end.outcome, "busy");
  });

  it("ends at once as unreachable with no device and no push target", () => {
    const { state, effects } = startCall(startInput({ calleeDevices: [], calleePushable: false }), T0);
    const ended = inPhase(state, "ended");
    const end = { outcome: "unreachable", reason: "no_devices", endedAtMs: T0 } as const;
    assert.deepEqual(ended.end, end);
    assert.deepEqual(effects, [
      { kind: "record_start", call: ended.call },
      send(alice, callEnded("unreachable", "no_devices")),
      { kind: "record_end", call: ended.call, end },
    ]);
  });

  it("rejects calling yourself (even from another device)", () => {
    assertDomainError(() => startCall(startInput({ calleeUserId: "alice" }), T0), "invalid_argument");
  });

  it("uses the policy's ring timeout for the deadline, the timer and the incoming call", () => {
    const policy: CallPolicy = { ...defaultCallPolicy, ringTimeoutMs: 5_000 };
    const { state, effects } = startCall(startInput({ calleeDevices: ["b-phone"] }), T0, policy);
    assert.equal(state.call.ringDeadlineMs, T0 + 5_000);
    assert.deepEqual(effects[1], setTimer("ring", T0 + 5_000));
    assert.deepEqual(effects[3], send(bobPhone, incomingCall(T0 + 5_000)));
  });

  it("defaults to a 30 s ring timeout", () => {
    assert.equal(defaultCallPolicy.ringTimeoutMs, 30_000);
  });
});

describe("ringing", () => {
  const call = () => ringingState().call;

  it("ring_device rings a newly connected callee device", () => {
    const state = ringingState();
    const { state: next, effects } = transition(state, ringDevice("b-laptop"), T0 + 100);
    assert.deepEqual(next, { ...state, ringing: ["b-phone", "b-tablet", "b-laptop"] });
    assert.deepEqual(effects, [send(bobLaptop, incomingCall())]);
  });

  it("ring_device for a device already ringing is a no-op", () => {
    assertUnchanged(ringingState(), ringDevice("b-tablet"));
  });

  it("accept connects: clears ring, sets setup, records, tells both sides, answered_elsewhere, stop push", () => {
    const { state, effects } = transition(ringingState(), accept(bobPhone), T_ANSWER);
    assert.deepEqual(state, {
      phase: "connecting",
      call: call(),
      answeredDeviceId: "b-phone",
      answeredAtMs: T_ANSWER,
      setupDeadlineMs: T_ANSWER + 30_000,
      candidates: 0,
    });
    const accepted: OutboundEvent = { type: "call_accepted", callId: CALL_ID, answeredDeviceId: "b-phone" };
    assert.deepEqual(effects, [
      clearTimer("ring"),
      setTimer("setup", T_ANSWER + 30_000),
      { kind: "record_answer", callId: CALL_ID, deviceId: "b-phone", answeredAtMs: T_ANSWER },
      send(alice, accepted),
      send(bobPhone, accepted),
      send(bobTablet, { type: "answered_elsewhere", callId: CALL_ID, answeredDeviceId: "b-phone" }),
      stopRinging("completed"),
    ]);
  });

  it("accept without a push sends no stop-ringing push", () => {
    const { effects } = transition(ringingState({ calleePushable: false }), accept(bobTablet), T_ANSWER);
    assert.ok(!effects.some((e) => e.kind === "notify"));
    const elsewhere = effects.filter((e) => e.kind === "send" && e.event.type === "answered_elsewhere");
    assert.deepEqual(elsewhere, [
      send(bobPhone, { type: "answered_elsewhere", callId: CALL_ID, answeredDeviceId: "b-tablet" }),
    ]);
  });

  it("accept from a push-woken device tells every ringing device it was answered elsewhere", () => {
    const { state, effects } = transition(ringingState(), accept(bobLaptop), T_ANSWER);
    assert.equal(inPhase(state, "connecting").answeredDeviceId, "b-laptop");
    const elsewhere = effects.filter((e) => e.kind === "send" && e.event.type === "answered_elsewhere");
    assert.deepEqual(
      elsewhere.map((e) => e.kind === "send" && e.to),
      [bobPhone, bobTablet],
    );
  });

  it("accept uses the policy's setup timeout", () => {
    const policy: CallPolicy = { ...defaultCallPolicy, setupTimeoutMs: 7_000 };
    const { state, effects } = transition(ringingState(), accept(bobPhone), T_ANSWER, policy);
    assert.equal(inPhase(state, "connecting").setupDeadlineMs, T_ANSWER + 7_000);
    assert.deepEqual(effects[1], setTimer("setup", T_ANSWER + 7_000));
  });

  /** The effects of ending a ringing call that was pushed, for outcomes other than missed. */
  function ringingEndEffects(outcome: Outcome, reason: EndReason, nowMs: number): Effect[] {
    return [
      clearTimer("ring"),
      send(bobPhone, callEnded(outcome, reason)),
      send(bobTablet, callEnded(outcome, reason)),
      stopRinging(outcome),
      send(alice, callEnded(outcome, reason)),
      { kind: "record_end", call: call(), end: { outcome, reason, endedAtMs: nowMs } },
    ];
  }

  const endings: { name: string; event: CallEvent; outcome: Outcome; reason: EndReason }[] = [
    { name: "decline by a ringing device", event: decline(bobTablet), outcome: "declined", reason: "declined" },
    { name: "decline by a push-only device", event: decline(bobLaptop), outcome: "declined", reason: "declined" },
    { name: "busy by the callee", event: busy(bobPhone), outcome: "busy", reason: "callee_busy" },
    { name: "cancel by the caller", event: cancel(alice), outcome: "cancelled", reason: "cancelled" },
    { name: "hangup by the caller", event: hangup(alice), outcome: "cancelled", reason: "cancelled" },
    { name: "hangup by the callee", event: hangup(bobPhone), outcome: "declined", reason: "declined" },
    {
      name: "hangup by the callee with another reason",
      event: hangup(bobTablet, "app_closed"),
      outcome: "declined",
      reason: "declined",
    },
    { name: "device_lost of the caller", event: deviceLost(alice), outcome: "failed", reason: "participant_lost" },
  ];
  for (const { name, event, outcome, reason } of endings) {
    it(`${name} ends it as ${outcome}/${reason}, telling the ringing devices and the caller`, () => {
      const now = T0 + 3_000;
      const result = transition(ringingState(), event, now);
      assertEnds(result, { outcome, reason, endedAtMs: now }, ringingEndEffects(outcome, reason, now));
    });
  }

  it("ending without a push sends no stop-ringing push", () => {
    const { effects } = transition(ringingState({ calleePushable: false }), decline(bobPhone), T0 + 1);
    assert.ok(!effects.some((e) => e.kind === "notify"));
  });

  it("ring_timeout ends it as missed: missed_call event and notification exactly once, no stop push", () => {
    const deadline = T0 + 30_000;
    const result = transition(ringingState(), ringTimeout, deadline);
    const missed = { callId: CALL_ID, callerUserId: "alice", startedAtMs: T0 };
    assertEnds(result, { outcome: "missed", reason: "ring_timeout", endedAtMs: deadline }, [
      clearTimer("ring"),
      send(bobPhone, callEnded("missed", "ring_timeout")),
      send(bobTablet, callEnded("missed", "ring_timeout")),
      { kind: "send_user", userId: "bob", event: { type: "missed_call", ...missed } },
      { kind: "notify", notification: { kind: "missed_call", userId: "bob", ...missed } },
      send(alice, callEnded("missed", "ring_timeout")),
      { kind: "record_end", call: call(), end: { outcome: "missed", reason: "ring_timeout", endedAtMs: deadline } },
    ]);
  });

  it("ring_timeout acted on after the deadline (a takeover) ends the call at the deadline", () => {
    const deadline = T0 + 30_000;
    const { state } = transition(ringingState(), ringTimeout, deadline + 45_000);
    assert.equal(inPhase(state, "ended").end.endedAtMs, deadline);
  });

  it("ring_timeout of a push-only callee still sends the missed call", () => {
    const state = ringingState({ calleeDevices: [] });
    const { effects } = transition(state, ringTimeout, T0 + 30_000);
    assert.deepEqual(
      effects.map((e) => e.kind),
      ["clear_timer", "send_user", "notify", "send", "record_end"],
    );
  });

  it("call_ended goes only to devices still ringing", () => {
    const afterLoss = transition(ringingState(), deviceLost(bobTablet), T0 + 1).state;
    const { effects } = transition(afterLoss, cancel(alice), T0 + 2);
    const targets = effects.flatMap((e) => (e.kind === "send" ? [e.to] : []));
    assert.deepEqual(targets, [bobPhone, alice]);
  });

  it("setup_timeout is stale while ringing", () => {
    assertUnchanged(ringingState(), setupTimeout);
  });

  it("device_lost of a ringing callee device stops ringing it, silently", () => {
    const state = ringingState();
    const { state: next, effects } = transition(state, deviceLost(bobPhone), T0 + 1);
    assert.deepEqual(next, { ...state, ringing: ["b-tablet"] });
    assert.deepEqual(effects, []);
  });

  it("device_lost of a callee device that was not ringing changes nothing", () => {
    const state = ringingState();
    const { state: next, effects } = transition(state, deviceLost(bobLaptop), T0 + 1);
    assert.deepEqual(next, state);
    assert.deepEqual(effects, []);
  });

  it("device_lost of an unrelated device or of another device of the caller is a no-op", () => {
    assertUnchanged(ringingState(), deviceLost(mallory));
    assertUnchanged(ringingState(), deviceLost(aliceTablet));
  });

  describe("illegal", () => {
    const cases: { name: string; event: CallEvent; code: DomainErrorCode }[] = [
      { name: "caller accepting", event: accept(alice), code: "illegal_transition" },
      { name: "caller's other device accepting", event: accept(aliceTablet), code: "illegal_transition" },
      { name: "caller declining", event: decline(alice), code: "illegal_transition" },
      { name: "caller reporting busy", event: busy(alice), code: "illegal_transition" },
      { name: "callee cancelling", event: cancel(bobPhone), code: "illegal_transition" },
      { name: "caller's other device cancelling", event: cancel(aliceTablet), code: "illegal_transition" },
      { name: "caller's other device hanging up", event: hangup(aliceTablet), code: "illegal_transition" },
      { name: "caller relaying before answer", event: relay(alice), code: "illegal_transition" },
      { name: "callee relaying before answer", event: relay(bobPhone, candidate(1)), code: "illegal_transition" },
      {
        name: "caller's media controls before answer",
        event: relay(alice, mutedCameraOff),
        code: "illegal_transition",
      },
      { name: "caller media before answer", event: mediaEvent(alice, "connected"), code: "illegal_transition" },
      { name: "callee media before answer", event: mediaEvent(bobPhone, "failed"), code: "illegal_transition" },
      ...nonParticipantEvents().map((event) => ({
        name: `a non-participant's ${event.type}`,
        event,
        code: "not_participant" as const,
      })),
    ];
    for (const { name, event, code } of cases) {
      it(`${name} → ${code}`, () => assertDomainError(() => transition(ringingState(), event, T0 + 1), code));
    }
  });
});

/** Every participant action, sent by a user who is not in the call. */
