import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";
import { HangupReason } from "../../gen/calldrop/v1/signal_pb.js";
import {
  type CallEffect,
  type CallEvent,
  type CallState,
  ENDED_SHOW_MS,
  IDLE,
  phaseOf,
  statusOf,
  transition,
} from "./call-state.ts";

/** Runs events from `from`, each at its own time (default: 1000 ms apart); returns the last state and all effects. */
function run(from: CallState, events: readonly (CallEvent | [CallEvent, number])[]) {
  let state = from;
  const effects: CallEffect[] = [];
  let now = 0;
  for (const item of events) {
    const [e, at] = Array.isArray(item) ? item : [item, now + 1000];
    now = at;
    const t = transition(state, e, now);
    state = t.state;
    effects.push(...t.effects);
  }
  return { state, effects };
}

const types = (effects: readonly CallEffect[]) => effects.map((e) => e.type);
const sent = (effects: readonly CallEffect[]) => effects.flatMap((e) => (e.type === "send" ? [e.command] : []));
const noticeOf = (effects: readonly CallEffect[]) =>
  effects.flatMap((e) => (e.type === "notify" ? [e.notice.text] : []));

const dial: CallEvent = { type: "dial", peer: "bob", video: true };
const ring: CallEvent = { type: "incoming_call", callId: "c1", peer: "ann", video: true };
const ended = (outcome: CallOutcome, reason = EndReason.UNSPECIFIED, callId = "c1"): CallEvent => ({
  type: "call_ended",
  callId,
  outcome,
  reason,
});

/** Alice called bob, bob answered, the media is up on `path` (accept at 3000, up at 4000). */
const inCall = run(IDLE, [
  [dial, 1000],
  [{ type: "started", callId: "c1", merged: false }, 2000],
  [{ type: "call_accepted", callId: "c1" }, 3000],
  [{ type: "media_up" }, 4000],
  [{ type: "path_known", path: "p2p" }, 4500],
]).state;

describe("call state: calling out", () => {
  it("dial → outgoing (calling), StartCall names it, ringing starts the ringback", () => {
    const a = run(IDLE, [dial]);
    assert.deepEqual(a.state, { tag: "outgoing", peer: "bob", callId: "", video: true, ringing: false });
    assert.equal(statusOf(a.state), "Calling bob…");
    assert.equal(phaseOf(a.state), "outgoing");
    const b = run(a.state, [
      { type: "started", callId: "c1", merged: false },
      { type: "ringing", callId: "c1" },
    ]);
    assert.deepEqual(b.state, { tag: "outgoing", peer: "bob", callId: "c1", video: true, ringing: true });
    assert.deepEqual(types(b.effects), ["ringback"]);
    assert.equal(statusOf(b.state), "Ringing bob…");
    // A repeated ringing (a replay) does not restart the tone.
    assert.deepEqual(run(b.state, [{ type: "ringing", callId: "c1" }]).effects, []);
  });

  it("events that overtake StartCall's result claim the outgoing call", () => {
    const a = run(IDLE, [dial, { type: "ringing", callId: "c9" }]);
    assert.equal(a.state.tag === "outgoing" && a.state.callId, "c9");
    // The later result keeps the claimed id.
    const b = run(a.state, [{ type: "started", callId: "c9", merged: false }]);
    assert.equal(b.state.tag === "outgoing" && b.state.callId, "c9");
    // Another call's events do not touch a named call.
    assert.deepEqual(run(b.state, [{ type: "ringing", callId: "other" }]).state, b.state);
  });

  it("no dial while in a call, nor to nobody", () => {
    assert.deepEqual(run(inCall, [dial]).state, inCall);
    assert.deepEqual(run(IDLE, [{ type: "dial", peer: "", video: true }]).state, IDLE);
  });

  it("call_accepted → connecting as caller: silence, save, make the peer and offer", () => {
    const a = run(IDLE, [dial, [{ type: "started", callId: "c1", merged: false }, 2000]]);
    const b = run(a.state, [[{ type: "call_accepted", callId: "c1" }, 3000]]);
    assert.deepEqual(b.state, {
      tag: "connecting",
      role: "caller",
      peer: "bob",
      callId: "c1",
      video: true,
      acceptAtMs: 3000,
      rejoined: false,
    });
    assert.deepEqual(b.effects, [{ type: "silence" }, { type: "save" }, { type: "connect_peer", offer: true }]);
    assert.equal(statusOf(b.state), "Connecting…");
  });

  it("glare: StartCall merged into their call → connecting as callee, no offer", () => {
    const a = run(IDLE, [dial, [{ type: "started", callId: "theirs", merged: true }, 5000]]);
    assert.equal(a.state.tag, "connecting");
    assert.ok(a.state.tag === "connecting" && a.state.role === "callee" && a.state.callId === "theirs");
    assert.ok(a.state.tag === "connecting" && a.state.acceptAtMs === 5000);
    assert.deepEqual(types(a.effects), ["save", "connect_peer"]);
    // Their ring while ours is in flight is not "busy": the server merges the two.
    const b = run(IDLE, [dial, { type: "incoming_call", callId: "theirs", peer: "bob", video: true }]);
    assert.equal(b.state.tag, "outgoing");
    assert.deepEqual(b.effects, []);
  });

  it("cancel while ringing out: cancelled, the call is torn down, the id is cancelled if known", () => {
    const named = run(IDLE, [dial, { type: "started", callId: "c1", merged: false }]).state;
    const a = run(named, [{ type: "hangup" }]);
    assert.equal(a.state.tag, "ended");
    assert.deepEqual(sent(a.effects), [{ case: "cancel", callId: "c1" }]);
    assert.deepEqual(noticeOf(a.effects), ["Call cancelled."]);
    assert.ok(types(a.effects).includes("teardown") && types(a.effects).includes("silence"));
    // Not named yet: nothing to cancel (the flow cancels StartCall's result when it lands).
    assert.deepEqual(sent(run(IDLE, [dial, { type: "hangup" }]).effects), []);
  });

  it("the camera cannot open before StartCall: ended with the sentence, nothing sent", () => {
    const notice = { text: "Camera or microphone access was denied.", kind: "error" } as const;
    const a = run(IDLE, [dial, { type: "media_error", notice }]);
    assert.equal(a.state.tag, "ended");
    assert.deepEqual(sent(a.effects), []);
    assert.deepEqual(noticeOf(a.effects), [notice.text]);
  });

  it("StartCall fails: ended with the failure's sentence", () => {
    const notice = { text: "No connection — check your network.", kind: "error" } as const;
    const a = run(IDLE, [dial, { type: "command_failed", notice }]);
    assert.deepEqual(noticeOf(a.effects), [notice.text]);
    assert.equal(phaseOf(a.state), "idle");
  });

  it("every way a call out ends says why, in words", () => {
    const out = run(IDLE, [dial, { type: "started", callId: "c1", merged: false }]).state;
    const says = (e: CallEvent) => noticeOf(run(out, [e]).effects)[0];
    assert.match(says(ended(CallOutcome.MISSED, EndReason.RING_TIMEOUT)) ?? "", /No answer: bob did not pick up/);
    assert.match(says(ended(CallOutcome.BUSY, EndReason.CALLEE_BUSY)) ?? "", /bob is busy/);
    assert.match(says(ended(CallOutcome.DECLINED)) ?? "", /bob declined/);
    assert.match(says(ended(CallOutcome.UNREACHABLE)) ?? "", /bob cannot be reached/);
    assert.equal(says({ type: "answered_elsewhere", callId: "c1" }), "Answered on another device.");
    // Another call's end changes nothing.
    assert.deepEqual(run(out, [ended(CallOutcome.MISSED, EndReason.RING_TIMEOUT, "other")]).state, out);
  });
});

describe("call state: ringing in", () => {
  it("incoming_call → incoming with the ringtone; a second call meanwhile is told busy", () => {
    const a = run(IDLE, [ring]);
    assert.deepEqual(a.state, { tag: "incoming", peer: "ann", callId: "c1", video: true });
    assert.deepEqual(a.effects, [{ type: "ring" }]);
    assert.equal(phaseOf(a.state), "incoming");
    const b = run(a.state, [{ type: "incoming_call", callId: "c2", peer: "zed", video: false }]);
    assert.deepEqual(b.state, a.state);
    assert.deepEqual(sent(b.effects), [{ case: "busy", callId: "c2" }]);
    // The same call again (a replay) is neither busy nor a second ring.
    assert.deepEqual(run(a.state, [ring]).effects, []);
  });

  it("accept → connecting as callee: silence and save (the flow opens media, then accepts)", () => {
    const a = run(IDLE, [ring, [{ type: "accept" }, 7000]]);
    assert.deepEqual(a.state, {
      tag: "connecting",
      role: "callee",
      peer: "ann",
      callId: "c1",
      video: true,
      acceptAtMs: 7000,
      rejoined: false,
    });
    assert.deepEqual(types(a.effects), ["ring", "silence", "save"]);
  });

  it("decline (or hang up while ringing) → idle at once, declined, no sentence", () => {
    for (const e of [{ type: "decline" }, { type: "hangup" }] as const) {
      const a = run(IDLE, [ring, e]);
      assert.deepEqual(a.state, IDLE);
      assert.deepEqual(sent(a.effects), [{ case: "decline", callId: "c1" }]);
      assert.deepEqual(noticeOf(a.effects), []);
      assert.ok(types(a.effects).includes("silence"));
    }
  });

  it("the caller gives up or the ring times out: a missed call, in words", () => {
    const a = run(IDLE, [ring, ended(CallOutcome.CANCELLED, EndReason.CANCELLED)]);
    assert.match(noticeOf(a.effects)[0] ?? "", /Missed call from ann/);
    assert.equal(a.state.tag, "ended");
  });

  it("accepting fails to open the camera: the call is declined", () => {
    const notice = { text: "No camera or microphone was found.", kind: "error" } as const;
    const a = run(IDLE, [ring, { type: "accept" }, { type: "media_error", notice }]);
    assert.deepEqual(sent(a.effects), [{ case: "decline", callId: "c1" }]);
    assert.equal(a.state.tag, "ended");
  });

  it("accept, decline and a second accept do nothing when nothing rings", () => {
    for (const e of [{ type: "accept" }, { type: "decline" }, { type: "hangup" }] as const) {
      assert.deepEqual(run(IDLE, [e]), { state: IDLE, effects: [] });
    }
  });
});

describe("call state: media", () => {
  it("media up → path read → in call with setup time; the media is reported connected", () => {
    const a = run(IDLE, [ring, [{ type: "accept" }, 1000], [{ type: "media_up" }, 1800]]);
    assert.ok(a.state.tag === "connecting" && a.state.connectedAtMs === 1800);
    assert.equal(types(a.effects).at(-1), "read_path");
    // A second "connected" while the path is read does nothing.
    assert.deepEqual(run(a.state, [{ type: "media_up" }]).effects, []);
    const b = run(a.state, [[{ type: "path_known", path: "relay" }, 1900]]);
    assert.equal(b.state.tag, "in_call");
    assert.ok(b.state.tag === "in_call" && b.state.setupMs === 800 && b.state.connectedAtMs === 1800);
    assert.deepEqual(b.effects, [{ type: "media_connected", path: "relay", setupMs: 800 }, { type: "tell_controls" }]);
    assert.equal(statusOf(b.state), "Connected");
    assert.equal(phaseOf(b.state), "connected");
  });

  it("in call: the media drops → reconnecting (recover), comes back → in call (media back)", () => {
    const a = run(inCall, [{ type: "media_down", state: "disconnected" }]);
    assert.equal(a.state.tag, "reconnecting");
    assert.deepEqual(a.effects, [{ type: "recover", state: "disconnected" }]);
    assert.equal(statusOf(a.state), "Reconnecting…");
    assert.equal(phaseOf(a.state), "connected");
    const closed = run(inCall, [{ type: "media_down", state: "closed" }]);
    assert.deepEqual(closed.effects, [{ type: "recover", state: "closed" }]);
    const b = run(a.state, [{ type: "media_up" }]);
    assert.equal(b.state.tag, "in_call");
    // Back: the other side hears this side's mute and camera again (its page may have reloaded).
    assert.deepEqual(b.effects, [{ type: "media_back", path: "p2p" }, { type: "tell_controls" }]);
    // "connected" again while in call: nothing.
    assert.deepEqual(run(b.state, [{ type: "media_up" }]).effects, []);
  });

  it("a resync resends the signals, tells the media controls and, in call, reports the media connected again", () => {
    const a = run(inCall, [
      { type: "path_known", path: "relay" },
      { type: "resync", callId: "c1" },
    ]);
    assert.ok(a.state.tag === "in_call");
    assert.deepEqual(a.effects, [
      { type: "resend" },
      { type: "report_connected", path: "relay", setupMs: a.state.setupMs },
      { type: "tell_controls" },
    ]);
    // Not connected yet, or the media is down: no report (the media reports itself when it is up).
    const connecting = run(IDLE, [ring, { type: "accept" }]).state;
    const resendAndTell = [{ type: "resend" }, { type: "tell_controls" }];
    assert.deepEqual(run(connecting, [{ type: "resync", callId: "c1" }]).effects, resendAndTell);
    const down = run(inCall, [{ type: "media_down", state: "disconnected" }]).state;
    assert.deepEqual(run(down, [{ type: "resync", callId: "c1" }]).effects, resendAndTell);
    // Another call's resync, or none in progress: nothing.
    assert.deepEqual(run(inCall, [{ type: "resync", callId: "c2" }]).effects, []);
    assert.deepEqual(run(IDLE, [{ type: "resync", callId: "c1" }]).effects, []);
  });

  it("a quality reading's path updates the call's path", () => {
    const a = run(inCall, [{ type: "path_known", path: "relay" }]);
    assert.ok(a.state.tag === "in_call" && a.state.path === "relay");
    assert.deepEqual(a.effects, []);
  });

  it("trouble before the media ever connected is reported; the server ends the call", () => {
    const connecting = run(IDLE, [ring, { type: "accept" }]).state;
    const a = run(connecting, [{ type: "media_down", state: "failed" }]);
    assert.ok(a.state.tag === "connecting" && a.state.trouble === "failed");
    assert.deepEqual(a.effects, [{ type: "report_trouble", state: "failed" }]);
    assert.equal(statusOf(a.state), "Connection failed");
    assert.equal(statusOf(run(connecting, [{ type: "media_down", state: "disconnected" }]).state), "Reconnecting…");
    // The other side closing before we connected: its fresh connection offers again; nothing to do.
    assert.deepEqual(run(connecting, [{ type: "media_down", state: "closed" }]).effects, []);
    const failed = run(a.state, [ended(CallOutcome.FAILED, EndReason.SETUP_TIMEOUT)]);
    assert.match(noticeOf(failed.effects)[0] ?? "", /^Connection failed: could not connect media with ann/);
  });

  it("a peer step fails: hang up as media failed, with the sentence", () => {
    const notice = { text: "Something went wrong on our side — try again in a moment.", kind: "error" } as const;
    const a = run(inCall, [{ type: "peer_failed", notice }]);
    assert.deepEqual(sent(a.effects), [{ case: "hangup", callId: "c1", reason: HangupReason.MEDIA_FAILED }]);
    assert.equal(a.state.tag, "ended");
  });
});

describe("call state: ending", () => {
  it("hang up in a call: hangup sent, torn down, the duration said, and a timer to clear it", () => {
    const a = run(inCall, [[{ type: "hangup" }, 67_000]]);
    assert.deepEqual(a.state, {
      tag: "ended",
      peer: "bob",
      callId: "c1",
      notice: { text: "Call with bob ended (1:03).", kind: "info" },
      atMs: 67_000,
    });
    assert.deepEqual(a.effects, [
      { type: "send", command: { case: "hangup", callId: "c1", reason: HangupReason.NORMAL } },
      { type: "silence" },
      { type: "teardown" },
      { type: "notify", notice: { text: "Call with bob ended (1:03).", kind: "info" } },
      { type: "dismiss_after", ms: ENDED_SHOW_MS, endedAtMs: 67_000 },
    ]);
    assert.equal(phaseOf(a.state), "idle");
    assert.equal(statusOf(a.state), "Call with bob ended (1:03).");
  });

  it("the other side hangs up: completed, with the duration", () => {
    const a = run(inCall, [[ended(CallOutcome.COMPLETED, EndReason.HANGUP), 10_500]]);
    assert.deepEqual(noticeOf(a.effects), ["Call with bob ended (0:06)."]);
    // A connection lost after the media had flowed is not a setup problem.
    const lost = run(inCall, [ended(CallOutcome.FAILED, EndReason.MEDIA_FAILED)]);
    assert.match(noticeOf(lost.effects)[0] ?? "", /Connection to bob was lost/);
  });

  it("the ended sentence clears after its time; a newer call's end is not cleared by the old timer", () => {
    const a = run(inCall, [[{ type: "hangup" }, 10_000]]);
    const b = run(a.state, [[{ type: "dismiss", endedAtMs: 10_000 }, 18_000]]);
    assert.deepEqual(b.state, IDLE);
    assert.deepEqual(b.effects, [
      { type: "clear_notice", notice: { text: "Call with bob ended (0:06).", kind: "info" } },
    ]);
    const later = run(a.state, [ring, [{ type: "hangup" }, 12_000], [{ type: "dismiss", endedAtMs: 10_000 }, 18_000]]);
    assert.deepEqual(later.state, IDLE, "declining goes straight to idle");
    const again = run(a.state, [
      ring,
      [ended(CallOutcome.CANCELLED), 12_000],
      [{ type: "dismiss", endedAtMs: 10_000 }, 18_000],
    ]);
    assert.equal(again.state.tag, "ended", "the old timer leaves the newer sentence");
  });

  it("from an ended call a new call can start or ring at once", () => {
    const a = run(inCall, [{ type: "hangup" }]).state;
    assert.equal(run(a, [dial]).state.tag, "outgoing");
    assert.equal(run(a, [ring]).state.tag, "incoming");
  });

  it("a call this page does not know is accepted: hang it up as the app closed", () => {
    for (const from of [IDLE, run(inCall, [{ type: "hangup" }]).state]) {
      const a = run(from, [{ type: "call_accepted", callId: "ghost" }]);
      assert.deepEqual(a.state, from);
      assert.deepEqual(sent(a.effects), [{ case: "hangup", callId: "ghost", reason: HangupReason.APP_CLOSED }]);
    }
  });

  it("media and call events without a call change nothing", () => {
    const events: CallEvent[] = [
      { type: "media_up" },
      { type: "media_down", state: "failed" },
      { type: "path_known", path: "p2p" },
      { type: "started", callId: "c1", merged: false },
      { type: "ringing", callId: "c1" },
      ended(CallOutcome.COMPLETED),
      { type: "answered_elsewhere", callId: "c1" },
      { type: "peer_failed", notice: { text: "x", kind: "error" } },
      { type: "dismiss", endedAtMs: 0 },
    ];
    for (const e of events) assert.deepEqual(run(IDLE, [e]), { state: IDLE, effects: [] }, e.type);
  });
});

describe("call state: a reloaded page rejoins", () => {
  const rejoin: CallEvent = { type: "rejoin", callId: "c1", role: "callee", peer: "ann", video: true };

  it("rejoin → connecting (rejoined) says Reconnecting…, then connects like any call", () => {
    const a = run(IDLE, [[rejoin, 500]]);
    assert.deepEqual(a.state, {
      tag: "connecting",
      role: "callee",
      peer: "ann",
      callId: "c1",
      video: true,
      acceptAtMs: 500,
      rejoined: true,
    });
    assert.equal(statusOf(a.state), "Reconnecting…");
    assert.equal(phaseOf(a.state), "connecting");
    const b = run(a.state, [{ type: "media_up" }, { type: "path_known", path: "p2p" }]);
    assert.equal(b.state.tag, "in_call");
    // Not while already in a call.
    assert.deepEqual(run(inCall, [rejoin]).state, inCall);
  });

  it("a rejoined call that fails is a lost connection; its camera failing hangs up", () => {
    const a = run(IDLE, [rejoin]).state;
    assert.match(noticeOf(run(a, [ended(CallOutcome.FAILED, EndReason.MEDIA_FAILED)]).effects)[0] ?? "", /was lost/);
    const notice = { text: "Camera or microphone access was denied.", kind: "error" } as const;
    const b = run(a, [{ type: "media_error", notice }]);
    assert.deepEqual(sent(b.effects), [{ case: "hangup", callId: "c1", reason: HangupReason.MEDIA_FAILED }]);
  });
});
