/** Builders shared by the call state machine tests: devices, inputs, states reached through real transitions, events, effects. */
import assert from "node:assert/strict";
import { type StartInput, startCall, transition } from "./call-machine.ts";
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

export const CALL_ID = "call-1";
export const T0 = 1_000_000;
/** When the callee answers in the default scenario. */
export const T_ANSWER = T0 + 4_000;
/** When media connects in the default scenario. */
export const T_CONNECT = T_ANSWER + 900;

export function dev(userId: string, deviceId: string): DeviceRef {
  return { userId, deviceId };
}

export const alice = dev("alice", "a-phone");
export const aliceTablet = dev("alice", "a-tablet");
export const bobPhone = dev("bob", "b-phone");
export const bobTablet = dev("bob", "b-tablet");
/** A device of the callee without a live session (reached by push only). */
export const bobLaptop = dev("bob", "b-laptop");
export const mallory = dev("mallory", "m-phone");

export function startInput(overrides: Partial<StartInput> = {}): StartInput {
  return {
    callId: CALL_ID,
    caller: alice,
    calleeUserId: "bob",
    video: true,
    calleeDevices: ["b-phone", "b-tablet"],
    calleePushable: true,
    calleeBusy: false,
    calleeBlocksCaller: false,
    waiting: false,
    ...overrides,
  };
}

export type Phase = CallState["phase"];
export type StateIn<P extends Phase> = Extract<CallState, { phase: P }>;

/** Narrows `state` to `phase`, failing the test otherwise. */
export function inPhase<P extends Phase>(state: CallState, phase: P): StateIn<P> {
  assert.equal(state.phase, phase);
  return state as StateIn<P>;
}

export function ringingState(overrides: Partial<StartInput> = {}): StateIn<"ringing"> {
  return inPhase(startCall(startInput(overrides), T0).state, "ringing");
}

export function connectingState(by: DeviceRef = bobPhone, overrides: Partial<StartInput> = {}): StateIn<"connecting"> {
  return inPhase(transition(ringingState(overrides), accept(by), T_ANSWER).state, "connecting");
}

export function connectedState(path: PathType = "p2p", setupMs = 800): StateIn<"connected"> {
  const media = mediaEvent(alice, "connected", { path, setupMs });
  return inPhase(transition(connectingState(), media, T_CONNECT).state, "connected");
}

export const accept = (by: DeviceRef): CallEvent => ({ type: "accept", by });
export const decline = (by: DeviceRef): CallEvent => ({ type: "decline", by });
export const busy = (by: DeviceRef): CallEvent => ({ type: "busy", by });
export const cancel = (by: DeviceRef): CallEvent => ({ type: "cancel", by });
export const hangup = (by: DeviceRef, reason: HangupReason = "hangup"): CallEvent => ({ type: "hangup", by, reason });
export const relay = (from: DeviceRef, signal: Signal = offer): CallEvent => ({ type: "relay", from, signal });
export const ringDevice = (deviceId: string): CallEvent => ({ type: "ring_device", deviceId });
export const deviceLost = (device: DeviceRef): CallEvent => ({ type: "device_lost", device });
export const ringTimeout: CallEvent = { type: "ring_timeout" };
export const setupTimeout: CallEvent = { type: "setup_timeout" };

export function mediaEvent(
  from: DeviceRef,
  state: MediaState,
  extra: { path?: PathType; setupMs?: number } = {},
): CallEvent {
  return { type: "media", from, state, ...extra };
}

export const offer: Signal = { id: "cmd-offer", kind: "description", sdpType: "offer", sdp: "v=0 offer" };
export const iceRestart: Signal = { id: "cmd-restart", kind: "ice_restart", sdp: "v=0 restart" };
export const mutedCameraOff: Signal = {
  id: "cmd-controls",
  kind: "media_controls",
  audioMuted: true,
  cameraOff: true,
  screenSharing: false,
};

export function candidate(n: number): Signal {
  return {
    id: `cmd-candidate-${n}`,
    kind: "ice_candidate",
    candidate: `candidate:${n} 1 udp 2122260223 192.0.2.1 5${n} typ host`,
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: "ufrag",
    endOfCandidates: false,
  };
}

export const endOfCandidates: Signal = {
  id: "cmd-end-of-candidates",
  kind: "ice_candidate",
  candidate: "",
  sdpMid: "0",
  sdpMLineIndex: 0,
  usernameFragment: "ufrag",
  endOfCandidates: true,
};

export const send = (to: DeviceRef, event: OutboundEvent): Effect => ({ kind: "send", to, event });
export const setTimer = (timer: TimerName, atMs: number): Effect => ({ kind: "set_timer", timer, atMs });
export const clearTimer = (timer: TimerName): Effect => ({ kind: "clear_timer", timer });
export const callEnded = (outcome: Outcome, reason: EndReason): OutboundEvent => ({
  type: "call_ended",
  callId: CALL_ID,
  outcome,
  reason,
});
export const stopRinging = (outcome: Outcome): Effect => ({
  kind: "notify",
  notification: { kind: "stop_ringing", userId: "bob", callId: CALL_ID, outcome },
});
export const incomingCall = (ringDeadlineMs = T0 + 30_000): OutboundEvent => ({
  type: "incoming_call",
  callId: CALL_ID,
  callerUserId: "alice",
  video: true,
  ringDeadlineMs,
});

/** Asserts that `fn` throws a DomainError with `code`. */
export function assertDomainError(fn: () => unknown, code: DomainErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Asserts a no-op: the very same state back and no effects. */
export function assertUnchanged(state: CallState, event: CallEvent, nowMs = T0 + 10_000): void {
  const result = transition(state, event, nowMs);
  assert.equal(result.state, state);
  assert.deepEqual(result.effects, []);
}

/** Asserts a transition into `ended` with exactly `end` and exactly `effects`. */
export function assertEnds(result: Transition, end: CallEnd, effects: readonly Effect[]): void {
  const ended = inPhase(result.state, "ended");
  assert.deepEqual(ended.end, end);
  assert.deepEqual(result.effects, effects);
}

/** One event of every kind sent by a user who is not in the call. */
export function nonParticipantEvents(): CallEvent[] {
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
