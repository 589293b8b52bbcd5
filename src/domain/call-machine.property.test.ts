/** Seeded random walks through many calls: one end record per call, ended is terminal, only DomainErrors. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accept,
  alice,
  aliceTablet,
  bobLaptop,
  bobPhone,
  bobTablet,
  busy,
  cancel,
  candidate,
  decline,
  deviceLost,
  endOfCandidates,
  hangup,
  iceRestart,
  mallory,
  mediaEvent,
  offer,
  type Phase,
  relay,
  ringDevice,
  ringTimeout,
  setupTimeout,
  startInput,
  T0,
} from "./call-machine.fixtures.ts";
import { type CallPolicy, defaultCallPolicy, startCall, transition } from "./call-machine.ts";
import type {
  CallEnd,
  CallEvent,
  CallState,
  Effect,
  HangupReason,
  Outcome,
  Signal,
  TimerName,
  Transition,
} from "./call-types.ts";
import { DomainError, type DomainErrorCode } from "./errors.ts";

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
        calleeBlocksCaller: r.chance(0.05),
        waiting: r.chance(0.2),
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
          // A waiting call rings quietly on every device it rings, an ordinary one never (§14 "Call waiting").
          if (e.kind === "send" && e.event.type === "incoming_call")
            assert.equal(e.event.waiting, input.waiting || undefined);
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
