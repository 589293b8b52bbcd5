/**
 * Unit tests of the call state machine (PRODUCT.md §3): every phase × event pair,
 * every illegal transition, stale timers, and a seeded random-walk property test.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CallPolicy, defaultCallPolicy, type StartInput, startCall, transition } from "./call-machine.ts";
import type {
  CallEnd,
  CallEvent,
  CallState,
  DeviceRef,
  Effect,
  EndReason,
  HangupReason,
  MediaState,
  OutboundEvent,
  Outcome,
  PathType,
  Signal,
  TimerName,
  Transition,
} from "./call-types.ts";
import { DomainError, type DomainErrorCode } from "./errors.ts";

// ---------------------------------------------------------------------------
// Builders: devices, inputs, states reached through real transitions, events, effects.

const CALL_ID = "call-1";
const T0 = 1_000_000;
/** When the callee answers in the default scenario. */
const T_ANSWER = T0 + 4_000;
/** When media connects in the default scenario. */
const T_CONNECT = T_ANSWER + 900;

function dev(userId: string, deviceId: string): DeviceRef {
  return { userId, deviceId };
}

const alice = dev("alice", "a-phone");
const aliceTablet = dev("alice", "a-tablet");
const bobPhone = dev("bob", "b-phone");
const bobTablet = dev("bob", "b-tablet");
/** A device of the callee without a live session (reached by push only). */
const bobLaptop = dev("bob", "b-laptop");
const mallory = dev("mallory", "m-phone");

function startInput(overrides: Partial<StartInput> = {}): StartInput {
  return {
    callId: CALL_ID,
    caller: alice,
    calleeUserId: "bob",
    video: true,
    calleeDevices: ["b-phone", "b-tablet"],
    calleePushable: true,
    calleeBusy: false,
    ...overrides,
  };
}

type Phase = CallState["phase"];
type StateIn<P extends Phase> = Extract<CallState, { phase: P }>;

/** Narrows `state` to `phase`, failing the test otherwise. */
function inPhase<P extends Phase>(state: CallState, phase: P): StateIn<P> {
  assert.equal(state.phase, phase);
  return state as StateIn<P>;
}

function ringingState(overrides: Partial<StartInput> = {}): StateIn<"ringing"> {
  return inPhase(startCall(startInput(overrides), T0).state, "ringing");
}

function connectingState(by: DeviceRef = bobPhone, overrides: Partial<StartInput> = {}): StateIn<"connecting"> {
  return inPhase(transition(ringingState(overrides), accept(by), T_ANSWER).state, "connecting");
}

function connectedState(path: PathType = "p2p", setupMs = 800): StateIn<"connected"> {
  const media = mediaEvent(alice, "connected", { path, setupMs });
  return inPhase(transition(connectingState(), media, T_CONNECT).state, "connected");
}

const accept = (by: DeviceRef): CallEvent => ({ type: "accept", by });
const decline = (by: DeviceRef): CallEvent => ({ type: "decline", by });
const busy = (by: DeviceRef): CallEvent => ({ type: "busy", by });
const cancel = (by: DeviceRef): CallEvent => ({ type: "cancel", by });
const hangup = (by: DeviceRef, reason: HangupReason = "hangup"): CallEvent => ({ type: "hangup", by, reason });
const relay = (from: DeviceRef, signal: Signal = offer): CallEvent => ({ type: "relay", from, signal });
const ringDevice = (deviceId: string): CallEvent => ({ type: "ring_device", deviceId });
const deviceLost = (device: DeviceRef): CallEvent => ({ type: "device_lost", device });
const ringTimeout: CallEvent = { type: "ring_timeout" };
const setupTimeout: CallEvent = { type: "setup_timeout" };

function mediaEvent(from: DeviceRef, state: MediaState, extra: { path?: PathType; setupMs?: number } = {}): CallEvent {
  return { type: "media", from, state, ...extra };
}

const offer: Signal = { kind: "description", sdpType: "offer", sdp: "v=0 offer" };
const iceRestart: Signal = { kind: "ice_restart", sdp: "v=0 restart" };

function candidate(n: number): Signal {
  return {
    kind: "ice_candidate",
    candidate: `candidate:${n} 1 udp 2122260223 192.0.2.1 5${n} typ host`,
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: "ufrag",
    endOfCandidates: false,
  };
}

const endOfCandidates: Signal = {
  kind: "ice_candidate",
  candidate: "",
  sdpMid: "0",
  sdpMLineIndex: 0,
  usernameFragment: "ufrag",
  endOfCandidates: true,
};

const send = (to: DeviceRef, event: OutboundEvent): Effect => ({ kind: "send", to, event });
const setTimer = (timer: TimerName, atMs: number): Effect => ({ kind: "set_timer", timer, atMs });
const clearTimer = (timer: TimerName): Effect => ({ kind: "clear_timer", timer });
const callEnded = (outcome: Outcome, reason: EndReason): OutboundEvent => ({
  type: "call_ended",
  callId: CALL_ID,
  outcome,
  reason,
});
const stopRinging = (outcome: Outcome): Effect => ({
  kind: "notify",
  notification: { kind: "stop_ringing", userId: "bob", callId: CALL_ID, outcome },
});
const incomingCall = (ringDeadlineMs = T0 + 30_000): OutboundEvent => ({
  type: "incoming_call",
  callId: CALL_ID,
  callerUserId: "alice",
  video: true,
  ringDeadlineMs,
});

/** Asserts that `fn` throws a DomainError with `code`. */
function assertDomainError(fn: () => unknown, code: DomainErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Asserts a no-op: the very same state back and no effects. */
function assertUnchanged(state: CallState, event: CallEvent, nowMs = T0 + 10_000): void {
  const result = transition(state, event, nowMs);
  assert.equal(result.state, state);
  assert.deepEqual(result.effects, []);
}

/** Asserts a transition into `ended` with exactly `end` and exactly `effects`. */
function assertEnds(result: Transition, end: CallEnd, effects: readonly Effect[]): void {
  const ended = inPhase(result.state, "ended");
  assert.deepEqual(ended.end, end);
  assert.deepEqual(result.effects, effects);
}

// ---------------------------------------------------------------------------

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
function nonParticipantEvents(): CallEvent[] {
  return [
    accept(mallory),
    decline(mallory),
    busy(mallory),
    cancel(mallory),
    hangup(mallory),
    relay(mallory),
    mediaEvent(mallory, "connected"),
  ];
}

describe("connecting (answered, no media yet)", () => {
  const answeredEnd = (outcome: Outcome, reason: EndReason, endedAtMs: number): CallEnd => ({
    outcome,
    reason,
    endedAtMs,
    answeredDeviceId: "b-phone",
    answeredAtMs: T_ANSWER,
  });
  /** Ending while connecting clears the setup timer and tells exactly the two participants. */
  const endEffects = (end: CallEnd): Effect[] => [
    clearTimer("setup"),
    send(alice, callEnded(end.outcome, end.reason)),
    send(bobPhone, callEnded(end.outcome, end.reason)),
    { kind: "record_end", call: connectingState().call, end },
  ];

  it("ring_device and ring_timeout are stale", () => {
    assertUnchanged(connectingState(), ringDevice("b-laptop"));
    assertUnchanged(connectingState(), ringTimeout);
  });

  const endings: { name: string; event: CallEvent; outcome: Outcome; reason: EndReason }[] = [
    { name: "hangup by the caller", event: hangup(alice), outcome: "completed", reason: "hangup" },
    { name: "hangup by the answering device", event: hangup(bobPhone), outcome: "completed", reason: "hangup" },
    { name: "hangup media_failed", event: hangup(bobPhone, "media_failed"), outcome: "failed", reason: "media_failed" },
    {
      name: "hangup network_lost",
      event: hangup(alice, "network_lost"),
      outcome: "completed",
      reason: "network_lost",
    },
    { name: "hangup app_closed", event: hangup(alice, "app_closed"), outcome: "completed", reason: "app_closed" },
    { name: "cancel racing the accept", event: cancel(alice), outcome: "completed", reason: "hangup" },
    { name: "decline by the answering device", event: decline(bobPhone), outcome: "completed", reason: "hangup" },
    { name: "busy by the answering device", event: busy(bobPhone), outcome: "completed", reason: "hangup" },
    {
      name: "media failed",
      event: mediaEvent(bobPhone, "failed"),
      outcome: "failed",
      reason: "media_failed",
    },
    { name: "setup_timeout", event: setupTimeout, outcome: "failed", reason: "setup_timeout" },
    { name: "device_lost of the caller", event: deviceLost(alice), outcome: "failed", reason: "participant_lost" },
    {
      name: "device_lost of the answering device",
      event: deviceLost(bobPhone),
      outcome: "failed",
      reason: "participant_lost",
    },
  ];
  for (const { name, event, outcome, reason } of endings) {
    it(`${name} ends it as ${outcome}/${reason}`, () => {
      const now = T_ANSWER + 5_000;
      const end = answeredEnd(outcome, reason, now);
      assertEnds(transition(connectingState(), event, now), end, endEffects(end));
    });
  }

  it("relays a description to the other participant without counting it", () => {
    const state = connectingState();
    const fromCaller = transition(state, relay(alice, offer), T_ANSWER + 1);
    assert.deepEqual(fromCaller.state, state);
    assert.deepEqual(fromCaller.effects, [send(bobPhone, { type: "signal", callId: CALL_ID, signal: offer })]);
    const answer: Signal = { kind: "description", sdpType: "answer", sdp: "v=0 answer" };
    const fromCallee = transition(state, relay(bobPhone, answer), T_ANSWER + 2);
    assert.deepEqual(fromCallee.effects, [send(alice, { type: "signal", callId: CALL_ID, signal: answer })]);
  });

  it("relays ICE candidates both ways, counting them; end-of-candidates is relayed but not counted", () => {
    let state: CallState = connectingState();
    const steps: [DeviceRef, Signal, DeviceRef, number][] = [
      [alice, candidate(1), bobPhone, 1],
      [bobPhone, candidate(2), alice, 2],
      [alice, endOfCandidates, bobPhone, 2],
      [bobPhone, endOfCandidates, alice, 2],
      [alice, iceRestart, bobPhone, 2],
    ];
    for (const [from, signal, to, count] of steps) {
      const result = transition(state, relay(from, signal), T_ANSWER + 1);
      assert.deepEqual(result.effects, [send(to, { type: "signal", callId: CALL_ID, signal })]);
      state = result.state;
      assert.equal(inPhase(state, "connecting").candidates, count);
    }
  });

  it("media connected moves to connected with the reported path and setupMs, clearing the setup timer", () => {
    const result = transition(
      connectingState(),
      mediaEvent(bobPhone, "connected", { path: "relay", setupMs: 750 }),
      T_CONNECT,
    );
    assert.deepEqual(result.state, {
      phase: "connected",
      call: connectingState().call,
      answeredDeviceId: "b-phone",
      answeredAtMs: T_ANSWER,
      connectedAtMs: T_CONNECT,
      path: "relay",
      setupMs: 750,
      candidates: 0,
    });
    assert.deepEqual(result.effects, [clearTimer("setup")]);
  });

  it("media connected without setupMs (or 0) derives it from the answer time; path defaults to p2p", () => {
    for (const extra of [{}, { setupMs: 0 }]) {
      const state = inPhase(
        transition(connectingState(), mediaEvent(alice, "connected", extra), T_CONNECT).state,
        "connected",
      );
      assert.equal(state.setupMs, T_CONNECT - T_ANSWER);
      assert.equal(state.path, "p2p");
    }
  });

  it("media connected keeps the candidate count", () => {
    const counted = transition(connectingState(), relay(alice, candidate(1)), T_ANSWER + 1).state;
    const state = inPhase(transition(counted, mediaEvent(alice, "connected"), T_CONNECT).state, "connected");
    assert.equal(state.candidates, 1);
  });

  it("media disconnected leaves it to ICE recovery or the setup timer", () => {
    assertUnchanged(connectingState(), mediaEvent(alice, "disconnected"));
  });

  it("device_lost of a non-answering device is a no-op", () => {
    assertUnchanged(connectingState(), deviceLost(bobTablet));
    assertUnchanged(connectingState(), deviceLost(aliceTablet));
    assertUnchanged(connectingState(), deviceLost(mallory));
  });

  describe("illegal", () => {
    const cases: { name: string; event: CallEvent; code: DomainErrorCode }[] = [
      { name: "second accept on the same device", event: accept(bobPhone), code: "illegal_transition" },
      { name: "accept on another device", event: accept(bobTablet), code: "illegal_transition" },
      { name: "caller accepting", event: accept(alice), code: "illegal_transition" },
      { name: "caller declining", event: decline(alice), code: "illegal_transition" },
      { name: "caller reporting busy", event: busy(alice), code: "illegal_transition" },
      { name: "callee cancelling", event: cancel(bobPhone), code: "illegal_transition" },
      { name: "caller's other device cancelling", event: cancel(aliceTablet), code: "illegal_transition" },
      { name: "other callee device hanging up", event: hangup(bobTablet), code: "not_participant" },
      { name: "other callee device declining", event: decline(bobTablet), code: "not_participant" },
      { name: "other callee device reporting busy", event: busy(bobTablet), code: "not_participant" },
      { name: "other callee device relaying", event: relay(bobTablet), code: "not_participant" },
      { name: "other callee device media", event: mediaEvent(bobTablet, "connected"), code: "not_participant" },
      { name: "caller's other device hanging up", event: hangup(aliceTablet), code: "not_participant" },
      { name: "caller's other device relaying", event: relay(aliceTablet), code: "not_participant" },
      ...nonParticipantEvents().map((event) => ({
        name: `a non-participant's ${event.type}`,
        event,
        code: "not_participant" as const,
      })),
    ];
    for (const { name, event, code } of cases) {
      it(`${name} → ${code}`, () => assertDomainError(() => transition(connectingState(), event, T_ANSWER + 1), code));
    }
  });
});

describe("connected", () => {
  const end = (outcome: Outcome, reason: EndReason, endedAtMs: number, path: PathType = "p2p"): CallEnd => ({
    outcome,
    reason,
    endedAtMs,
    answeredDeviceId: "b-phone",
    answeredAtMs: T_ANSWER,
    path,
    setupMs: 800,
  });

  it("stale timers and ring_device are no-ops", () => {
    assertUnchanged(connectedState(), ringDevice("b-laptop"));
    assertUnchanged(connectedState(), ringTimeout);
    assertUnchanged(connectedState(), setupTimeout);
  });

  const endings: { name: string; event: CallEvent; outcome: Outcome; reason: EndReason }[] = [
    { name: "hangup by the caller", event: hangup(alice), outcome: "completed", reason: "hangup" },
    { name: "hangup by the callee", event: hangup(bobPhone), outcome: "completed", reason: "hangup" },
    { name: "hangup media_failed", event: hangup(alice, "media_failed"), outcome: "failed", reason: "media_failed" },
    {
      name: "hangup network_lost",
      event: hangup(bobPhone, "network_lost"),
      outcome: "completed",
      reason: "network_lost",
    },
    { name: "hangup app_closed", event: hangup(bobPhone, "app_closed"), outcome: "completed", reason: "app_closed" },
    { name: "cancel by the caller", event: cancel(alice), outcome: "completed", reason: "hangup" },
    { name: "decline by the callee", event: decline(bobPhone), outcome: "completed", reason: "hangup" },
    { name: "busy by the callee", event: busy(bobPhone), outcome: "completed", reason: "hangup" },
    { name: "media failed", event: mediaEvent(alice, "failed"), outcome: "failed", reason: "media_failed" },
    { name: "device_lost of the caller", event: deviceLost(alice), outcome: "failed", reason: "participant_lost" },
    { name: "device_lost of the callee", event: deviceLost(bobPhone), outcome: "failed", reason: "participant_lost" },
  ];
  for (const { name, event, outcome, reason } of endings) {
    it(`${name} ends it as ${outcome}/${reason}, recording path and setupMs`, () => {
      const now = T_CONNECT + 60_000;
      const e = end(outcome, reason, now);
      assertEnds(transition(connectedState(), event, now), e, [
        send(alice, callEnded(outcome, reason)),
        send(bobPhone, callEnded(outcome, reason)),
        { kind: "record_end", call: connectedState().call, end: e },
      ]);
    });
  }

  it("relays signals (e.g. an ICE restart) both ways", () => {
    const state = connectedState();
    const a = transition(state, relay(alice, iceRestart), T_CONNECT + 1);
    assert.deepEqual(a.effects, [send(bobPhone, { type: "signal", callId: CALL_ID, signal: iceRestart })]);
    const b = transition(state, relay(bobPhone, candidate(3)), T_CONNECT + 1);
    assert.deepEqual(b.effects, [send(alice, { type: "signal", callId: CALL_ID, signal: candidate(3) })]);
    assert.equal(inPhase(b.state, "connected").candidates, 1);
  });

  it("the same side reporting connected again changes nothing", () => {
    assertUnchanged(connectedState(), mediaEvent(alice, "connected", { path: "p2p", setupMs: 9_999 }));
    assertUnchanged(connectedState(), mediaEvent(bobPhone, "connected"));
  });

  it("connected via p2p, then the other side reports relay → path relay, recorded at the end", () => {
    const p2p = connectedState("p2p", 800);
    const { state, effects } = transition(
      p2p,
      mediaEvent(bobPhone, "connected", { path: "relay", setupMs: 1_200 }),
      T_CONNECT + 5,
    );
    assert.deepEqual(state, { ...p2p, path: "relay" });
    assert.deepEqual(effects, []);
    // Once relayed, a later p2p report does not downgrade it.
    assertUnchanged(state, mediaEvent(alice, "connected", { path: "p2p" }));
    const ended = transition(state, hangup(alice), T_CONNECT + 10_000);
    const record = ended.effects.find((e) => e.kind === "record_end");
    assert.deepEqual(
      record?.kind === "record_end" && record.end,
      end("completed", "hangup", T_CONNECT + 10_000, "relay"),
    );
  });

  it("media disconnected leaves it to ICE recovery", () => {
    assertUnchanged(connectedState(), mediaEvent(bobPhone, "disconnected"));
  });

  it("device_lost of a non-answering device is a no-op", () => {
    assertUnchanged(connectedState(), deviceLost(bobTablet));
    assertUnchanged(connectedState(), deviceLost(mallory));
  });

  describe("illegal", () => {
    const cases: { name: string; event: CallEvent; code: DomainErrorCode }[] = [
      { name: "accept again", event: accept(bobPhone), code: "illegal_transition" },
      { name: "accept on another device", event: accept(bobTablet), code: "illegal_transition" },
      { name: "caller accepting", event: accept(alice), code: "illegal_transition" },
      { name: "caller declining", event: decline(alice), code: "illegal_transition" },
      { name: "callee cancelling", event: cancel(bobPhone), code: "illegal_transition" },
      { name: "other callee device hanging up", event: hangup(bobTablet), code: "not_participant" },
      { name: "other callee device relaying", event: relay(bobTablet, iceRestart), code: "not_participant" },
      { name: "other callee device media", event: mediaEvent(bobTablet, "failed"), code: "not_participant" },
      ...nonParticipantEvents().map((event) => ({
        name: `a non-participant's ${event.type}`,
        event,
        code: "not_participant" as const,
      })),
    ];
    for (const { name, event, code } of cases) {
      it(`${name} → ${code}`, () => assertDomainError(() => transition(connectedState(), event, T_CONNECT + 1), code));
    }
  });
});

describe("ICE candidate limit", () => {
  const policy: CallPolicy = { ...defaultCallPolicy, maxCandidatesPerCall: 3 };

  it("allows the limit across both sides, rejects one more, and never counts end-of-candidates", () => {
    let state: CallState = connectingState();
    for (const [i, from] of [alice, bobPhone, alice].entries()) {
      state = transition(state, relay(from, candidate(i)), T_ANSWER + 1, policy).state;
    }
    const full = state;
    assertDomainError(() => transition(full, relay(bobPhone, candidate(9)), T_ANSWER + 2, policy), "limit_exceeded");
    // The rejected candidate was not counted, and the rest of the signaling still flows.
    assert.equal(inPhase(full, "connecting").candidates, 3);
    assert.equal(transition(full, relay(alice, endOfCandidates), T_ANSWER + 3, policy).effects.length, 1);
    assert.equal(transition(full, relay(bobPhone, offer), T_ANSWER + 3, policy).effects.length, 1);
  });

  it("counts candidates from connecting into connected", () => {
    let state: CallState = connectingState();
    state = transition(state, relay(alice, candidate(1)), T_ANSWER + 1, policy).state;
    state = transition(state, relay(alice, candidate(2)), T_ANSWER + 1, policy).state;
    state = transition(state, mediaEvent(alice, "connected"), T_CONNECT, policy).state;
    state = transition(state, relay(bobPhone, candidate(3)), T_CONNECT + 1, policy).state;
    const full = state;
    assertDomainError(() => transition(full, relay(alice, candidate(4)), T_CONNECT + 2, policy), "limit_exceeded");
  });

  it("the default policy allows 200 candidates per call", () => {
    let state: CallState = connectingState();
    for (let i = 0; i < 200; i += 1) {
      state = transition(state, relay(i % 2 === 0 ? alice : bobPhone, candidate(i)), T_ANSWER + 1).state;
    }
    const full = state;
    assertDomainError(() => transition(full, relay(alice, candidate(200)), T_ANSWER + 2), "limit_exceeded");
  });
});

describe("ended", () => {
  const endedStates: { name: string; state: () => CallState }[] = [
    { name: "busy at start", state: () => startCall(startInput({ calleeBusy: true }), T0).state },
    {
      name: "unreachable at start",
      state: () => startCall(startInput({ calleeDevices: [], calleePushable: false }), T0).state,
    },
    { name: "declined", state: () => transition(ringingState(), decline(bobPhone), T0 + 1).state },
    { name: "missed", state: () => transition(ringingState(), ringTimeout, T0 + 30_000).state },
    { name: "failed while connecting", state: () => transition(connectingState(), setupTimeout, T0 + 40_000).state },
    { name: "completed", state: () => transition(connectedState(), hangup(alice), T0 + 90_000).state },
  ];
  const commands: CallEvent[] = [
    accept(bobPhone),
    accept(bobTablet),
    decline(bobPhone),
    busy(bobPhone),
    cancel(alice),
    hangup(alice),
    hangup(bobPhone),
    relay(alice),
    relay(bobPhone, candidate(1)),
    mediaEvent(alice, "connected"),
    mediaEvent(bobPhone, "failed"),
    accept(mallory),
    hangup(mallory),
  ];
  const noOps: CallEvent[] = [
    ringDevice("b-laptop"),
    ringTimeout,
    setupTimeout,
    deviceLost(alice),
    deviceLost(bobPhone),
    deviceLost(mallory),
  ];

  for (const { name, state } of endedStates) {
    it(`${name}: every command → illegal_transition`, () => {
      const ended = state();
      inPhase(ended, "ended");
      for (const command of commands) {
        assertDomainError(() => transition(ended, command, T0 + 100_000), "illegal_transition");
      }
    });

    it(`${name}: timers, ring_device and device_lost are no-ops`, () => {
      const ended = state();
      for (const event of noOps) assertUnchanged(ended, event, T0 + 100_000);
    });
  }
});

// ---------------------------------------------------------------------------
// Property test: seeded random walks through many calls.

/** mulberry32: a tiny deterministic PRNG so a failure reproduces from its seed. */
function createRandom(seed: number): {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)] as (typeof xs)[number], chance: (p) => next() < p };
}

type Random = ReturnType<typeof createRandom>;

/** Weighted towards the usual participants so walks get past the answer. */
const everyone = [alice, alice, alice, bobPhone, bobPhone, bobPhone, aliceTablet, bobTablet, bobLaptop, mallory];
const signals: Signal[] = [offer, iceRestart, endOfCandidates, candidate(1), candidate(2), candidate(3)];
const hangupReasons: HangupReason[] = ["hangup", "media_failed", "network_lost", "app_closed"];

/** Half the time a plausible next event for the phase (so walks reach every phase), else any event. */
function randomEvent(r: Random, state: CallState): CallEvent {
  if (r.chance(0.5)) {
    const participant = r.pick([alice, bobPhone]);
    switch (state.phase) {
      case "ringing":
        if (r.chance(0.7)) return accept(r.pick([bobPhone, bobTablet, bobLaptop]));
        break;
      case "connecting":
        if (r.chance(0.3)) return mediaEvent(participant, "connected", { path: r.pick(["p2p", "relay"] as const) });
        return relay(participant, r.pick(signals));
      case "connected":
        if (r.chance(0.2)) return mediaEvent(participant, "connected", { path: r.pick(["p2p", "relay"] as const) });
        return relay(participant, r.pick(signals));
      case "ended":
        break;
    }
  }
  return anyEvent(r);
}

function anyEvent(r: Random): CallEvent {
  const who = r.pick(everyone);
  switch (r.int(11)) {
    case 0:
      return ringDevice(r.pick(["b-phone", "b-tablet", "b-laptop"]));
    case 1:
      return accept(who);
    case 2:
      return decline(who);
    case 3:
      return busy(who);
    case 4:
      return cancel(who);
    case 5:
      return hangup(who, r.pick(hangupReasons));
    case 6:
      return relay(who, r.pick(signals));
    case 7:
      return mediaEvent(who, r.pick(["connected", "disconnected", "failed"] as const), {
        ...(r.chance(0.5) ? { path: r.pick(["p2p", "relay"] as const) } : {}),
        ...(r.chance(0.5) ? { setupMs: r.int(3_000) } : {}),
      });
    case 8:
      return ringTimeout;
    case 9:
      return setupTimeout;
    default:
      return deviceLost(who);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Timers each phase must have running, given the effects seen so far. */
const timersByPhase: Record<Phase, TimerName[]> = {
  ringing: ["ring"],
  connecting: ["setup"],
  connected: [],
  ended: [],
};

describe("property: random event sequences", () => {
  it("end each call at most once, never leave ended, keep timers consistent, throw only DomainErrors", () => {
    const r = createRandom(0xca11d409);
    const policy: CallPolicy = { ...defaultCallPolicy, maxCandidatesPerCall: 3 };
    let steps = 0;
    const outcomes = new Set<Outcome>();
    const phaseVisits: Record<Phase, number> = { ringing: 0, connecting: 0, connected: 0, ended: 0 };
    const errorCodes = new Set<DomainErrorCode>();
    for (let n = 0; steps < 6_000; n += 1) {
      let now = T0;
      const input = startInput({
        calleeDevices: ["b-phone", "b-tablet"].filter(() => r.chance(0.6)),
        calleePushable: r.chance(0.5),
        calleeBusy: r.chance(0.1),
      });
      const started = startCall(input, now, policy);
      let state = deepFreeze(started.state);
      const timers = new Set<TimerName>();
      let recordEnds = 0;
      let recordAnswers = 0;
      let callerToldEnd = 0;
      const observe = (effects: readonly Effect[]): void => {
        for (const e of effects) {
          if (e.kind === "set_timer") timers.add(e.timer);
          if (e.kind === "clear_timer") timers.delete(e.timer);
          if (e.kind === "record_answer") recordAnswers += 1;
          if (e.kind === "record_end") {
            recordEnds += 1;
            assert.equal(state.phase, "ended");
            assert.deepEqual(state.phase === "ended" && state.end, e.end);
          }
          if (e.kind === "send" && e.event.type === "call_ended" && e.to.deviceId === alice.deviceId)
            callerToldEnd += 1;
          if (e.kind === "send") assert.notEqual(e.to.userId, "mallory");
        }
      };
      observe(started.effects);
      assert.deepEqual([...timers], timersByPhase[state.phase]);
      let endedAs: CallEnd | undefined = state.phase === "ended" ? state.end : undefined;
      // Walk until a few steps after the end (or 40 steps), then start another call.
      for (let i = 0, afterEnd = 0; i < 40 && afterEnd < 4; i += 1, afterEnd += endedAs === undefined ? 0 : 1) {
        steps += 1;
        now += r.int(5_000);
        const event = deepFreeze(randomEvent(r, state));
        let result: Transition;
        try {
          result = transition(state, event, now, policy);
        } catch (e) {
          assert.ok(e instanceof DomainError, `step ${steps}: ${String(e)}`);
          errorCodes.add(e.code);
          continue;
        }
        state = deepFreeze(result.state);
        phaseVisits[state.phase] += 1;
        observe(result.effects);
        assert.deepEqual([...timers].sort(), timersByPhase[state.phase], `step ${steps}: timers in ${state.phase}`);
        if (state.phase === "connecting" || state.phase === "connected") {
          assert.ok(state.candidates <= policy.maxCandidatesPerCall);
        }
        if (endedAs !== undefined) {
          assert.equal(state.phase, "ended", `step ${steps}: left ended`);
          assert.deepEqual(state.phase === "ended" && state.end, endedAs);
          assert.deepEqual(result.effects, []);
        } else if (state.phase === "ended") {
          endedAs = state.end;
        }
      }
      assert.ok(recordEnds <= 1, `call ${n}: ${recordEnds} record_end effects`);
      assert.ok(recordAnswers <= 1, `call ${n}: ${recordAnswers} record_answer effects`);
      assert.equal(recordEnds, endedAs === undefined ? 0 : 1);
      assert.equal(callerToldEnd, recordEnds, `call ${n}: the caller learns the end exactly once`);
      if (endedAs !== undefined) outcomes.add(endedAs.outcome);
    }
    // The walk must actually exercise the machine, not just bounce off errors.
    for (const phase of ["connecting", "connected", "ended"] as const) {
      assert.ok(phaseVisits[phase] > 500, `only ${phaseVisits[phase]} steps into ${phase}`);
    }
    assert.deepEqual([...outcomes].sort(), [
      "busy",
      "cancelled",
      "completed",
      "declined",
      "failed",
      "missed",
      "unreachable",
    ]);
    assert.deepEqual([...errorCodes].sort(), ["illegal_transition", "limit_exceeded", "not_participant"]);
  });
});
