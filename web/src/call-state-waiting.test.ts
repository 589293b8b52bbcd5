/** The web client's call waiting (docs/spec.md §14 "Call waiting"): the pure machine of call-state.ts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";
import { HangupReason } from "../../gen/calldrop/v1/signal_pb.js";
import { type CallEffect, type CallEvent, type CallState, IDLE, isAnswered, transition } from "./call-state.ts";

function run(from: CallState, events: readonly CallEvent[]) {
  let state = from;
  const effects: CallEffect[] = [];
  let now = 0;
  for (const e of events) {
    now += 1000;
    const t = transition(state, e, now);
    state = t.state;
    effects.push(...t.effects);
  }
  return { state, effects };
}
const types = (effects: readonly CallEffect[]) => effects.map((e) => e.type);
const sent = (effects: readonly CallEffect[]) => effects.flatMap((e) => (e.type === "send" ? [e.command] : []));

/** Bob answered alice's call c1 and the media is up. */
const inCall = run(IDLE, [
  { type: "incoming_call", callId: "c1", peer: "alice", video: true },
  { type: "accept" },
  { type: "media_up" },
  { type: "path_known", path: "p2p" },
]).state;
const carol: CallEvent = { type: "incoming_call", callId: "c2", peer: "carol", video: false, waiting: true };
const withCarol = run(inCall, [carol]);
const ended = (callId: string, outcome: CallOutcome): CallEvent => ({
  type: "call_ended",
  callId,
  outcome,
  reason: EndReason.UNSPECIFIED,
});

describe("call state: call waiting (docs/spec.md §14)", () => {
  it("a waiting call rings quietly over the call in progress, which goes on", () => {
    assert.equal(withCarol.state.tag, "in_call");
    assert.ok(isAnswered(withCarol.state));
    assert.deepEqual(isAnswered(withCarol.state) && withCarol.state.waiting, {
      peer: "carol",
      callId: "c2",
      video: false,
    });
    assert.deepEqual(types(withCarol.effects), ["ring_waiting"]);
    assert.deepEqual(sent(withCarol.effects), []);
  });

  it("a call not rung as waiting, or a second waiting call, is told busy", () => {
    const plain = run(inCall, [{ ...carol, waiting: false }]);
    assert.deepEqual(sent(plain.effects), [{ case: "busy", callId: "c2" }]);
    const third = run(withCarol.state, [
      { type: "incoming_call", callId: "c3", peer: "dave", video: true, waiting: true },
    ]);
    assert.deepEqual(sent(third.effects), [{ case: "busy", callId: "c3" }]);
    assert.equal(isAnswered(third.state) && third.state.waiting?.callId, "c2");
    const ringing = run(IDLE, [{ type: "incoming_call", callId: "c1", peer: "alice", video: true }, carol]);
    assert.deepEqual(sent(ringing.effects), [{ case: "busy", callId: "c2" }], "not while ringing");
    const replay = run(withCarol.state, [carol]);
    assert.deepEqual(replay.effects, [], "the same waiting call again changes nothing");
  });

  it("End & accept hangs up the first call, tears it down and answers the waiting one", () => {
    const t = run(withCarol.state, [{ type: "end_and_accept" }]);
    assert.deepEqual(t.state, { tag: "incoming", peer: "carol", callId: "c2", video: false });
    assert.deepEqual(sent(t.effects), [{ case: "hangup", callId: "c1", reason: HangupReason.NORMAL }]);
    assert.deepEqual(types(t.effects), ["send", "silence", "teardown", "accept_now"]);
    const answered = run(t.state, [{ type: "accept" }]);
    assert.equal(answered.state.tag, "connecting");
    assert.equal(isAnswered(answered.state) && answered.state.callId, "c2");
  });

  it("Decline declines the waiting call and keeps the first", () => {
    const t = run(withCarol.state, [{ type: "decline_waiting" }]);
    assert.deepEqual(sent(t.effects), [{ case: "decline", callId: "c2" }]);
    assert.equal(t.state.tag, "in_call");
    assert.equal(isAnswered(t.state) && t.state.waiting, undefined);
    assert.equal(isAnswered(t.state) && t.state.callId, "c1");
  });

  it("the waiting call ending (cancelled, missed, answered elsewhere) takes the banner away", () => {
    for (const e of [
      ended("c2", CallOutcome.CANCELLED),
      ended("c2", CallOutcome.MISSED),
      { type: "answered_elsewhere", callId: "c2" } as const,
    ]) {
      const t = run(withCarol.state, [e]);
      assert.equal(t.state.tag, "in_call");
      assert.equal(isAnswered(t.state) && t.state.waiting, undefined);
      assert.deepEqual(types(t.effects), ["silence"]);
    }
  });

  it("the call in progress moves on with the waiting call kept; when it ends, the waiting call rings as any", () => {
    const down = run(withCarol.state, [{ type: "media_down", state: "disconnected" }]);
    assert.equal(down.state.tag, "reconnecting");
    assert.equal(isAnswered(down.state) && down.state.waiting?.callId, "c2");
    const over = run(withCarol.state, [ended("c1", CallOutcome.COMPLETED)]);
    assert.deepEqual(over.state, { tag: "incoming", peer: "carol", callId: "c2", video: false });
    assert.deepEqual(types(over.effects).slice(-1), ["ring"]);
    assert.ok(types(over.effects).includes("teardown"));
    const hungUp = run(withCarol.state, [{ type: "hangup" }]);
    assert.equal(hungUp.state.tag, "incoming");
    assert.deepEqual(sent(hungUp.effects), [{ case: "hangup", callId: "c1", reason: HangupReason.NORMAL }]);
  });

  it("End & accept or Decline with no waiting call changes nothing", () => {
    for (const e of [{ type: "end_and_accept" }, { type: "decline_waiting" }] as const) {
      assert.deepEqual(run(inCall, [e]).effects, []);
      assert.deepEqual(run(IDLE, [e]), { state: IDLE, effects: [] });
    }
  });
});
