/** Connecting, connected and ended phases: every event, every illegal one, the ICE candidate limit. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accept,
  alice,
  aliceTablet,
  assertDomainError,
  assertEnds,
  assertUnchanged,
  bobPhone,
  bobTablet,
  busy,
  CALL_ID,
  callEnded,
  cancel,
  candidate,
  clearTimer,
  connectedState,
  connectingState,
  decline,
  deviceLost,
  endOfCandidates,
  hangup,
  iceRestart,
  inPhase,
  mallory,
  mediaEvent,
  mutedCameraOff,
  nonParticipantEvents,
  offer,
  relay,
  ringDevice,
  ringingState,
  ringTimeout,
  send,
  setupTimeout,
  startInput,
  T_ANSWER,
  T_CONNECT,
  T0,
} from "./call-machine.fixtures.ts";
import { armedTimer, type CallPolicy, defaultCallPolicy, startCall, transition } from "./call-machine.ts";
import type {
  CallEnd,
  CallEvent,
  CallState,
  DeviceRef,
  Effect,
  EndReason,
  Outcome,
  PathType,
  Signal,
} from "./call-types.ts";
import type { DomainErrorCode } from "./errors.ts";

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
    const answer: Signal = { id: "cmd-answer", kind: "description", sdpType: "answer", sdp: "v=0 answer" };
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

  it("relays media controls (mute, camera off) to the other side, uncounted, from either side", () => {
    for (const state of [connectingState(), connectedState()]) {
      const a = transition(state, relay(alice, mutedCameraOff), T_CONNECT + 1);
      assert.deepEqual(a.effects, [send(bobPhone, { type: "signal", callId: CALL_ID, signal: mutedCameraOff })]);
      assert.deepEqual(a.state, state, "nothing counted or changed");
      const b = transition(state, relay(bobPhone, mutedCameraOff), T_CONNECT + 1);
      assert.deepEqual(b.effects, [send(alice, { type: "signal", callId: CALL_ID, signal: mutedCameraOff })]);
      assert.throws(() => transition(state, relay(bobTablet, mutedCameraOff), T_CONNECT + 1), {
        code: "not_participant",
      });
    }
  });

  it("the same side reporting connected again changes nothing", () => {
    assertUnchanged(connectedState(), mediaEvent(alice, "connected", { path: "p2p", setupMs: 9_999 }));
    assertUnchanged(connectedState(), mediaEvent(bobPhone, "connected"));
  });

  it("a relay path hints the relay bitrate cap to both participants, once, when the policy sets one", () => {
    const policy: CallPolicy = { ...defaultCallPolicy, relayMaxBitrateBps: 1_500_000 };
    const hint = { type: "quality_hint", callId: CALL_ID, maxBitrateBps: 1_500_000 } as const;
    const hints = [
      { kind: "send", to: alice, event: hint },
      { kind: "send", to: bobPhone, event: hint },
    ];
    const direct = transition(connectingState(), mediaEvent(alice, "connected", { path: "relay" }), T_CONNECT, policy);
    assert.deepEqual(direct.effects, [clearTimer("setup"), ...hints]);
    const p2p = transition(connectingState(), mediaEvent(alice, "connected", { path: "p2p" }), T_CONNECT, policy);
    assert.deepEqual(p2p.effects, [clearTimer("setup")]);
    const upgraded = transition(p2p.state, mediaEvent(bobPhone, "connected", { path: "relay" }), T_CONNECT + 1, policy);
    assert.deepEqual(upgraded.effects, hints);
    const again = transition(upgraded.state, mediaEvent(alice, "connected", { path: "relay" }), T_CONNECT + 2, policy);
    assert.deepEqual(again.effects, []);
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

describe("armedTimer: what a node taking the call over arms again", () => {
  it("the ring deadline while ringing, the setup deadline while connecting, nothing after", () => {
    const ringing = ringingState();
    assert.deepEqual(armedTimer(ringing), { timer: "ring", atMs: ringing.call.ringDeadlineMs });
    const connecting = connectingState();
    assert.deepEqual(armedTimer(connecting), { timer: "setup", atMs: connecting.setupDeadlineMs });
    assert.equal(armedTimer(connectedState()), undefined);
    assert.equal(armedTimer(transition(connectedState(), hangup(alice), T_CONNECT + 1).state), undefined);
  });
});
