/**
 * The page's call state as a pure machine (docs/style.md 19): `transition(state, event, now)`
 * returns the next state and the effects the call flow runs (tones, commands, notices, the
 * peer connection's start and teardown). No DOM, no timers, no I/O here: time comes in as
 * `now`, and a timer is an effect (`dismissAfter`) whose expiry comes back as an event.
 * The page renders the state (`phaseOf`, `statusOf`) and nothing else decides where a call is.
 */
import type { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";
import { HangupReason } from "../../gen/calldrop/v1/signal_pb.js";
import { callEndedNotice, endedNotice, type Notice, type Role } from "./messages.ts";

/** How long an ended call's sentence stays on screen before the page is back to idle. */
export const ENDED_SHOW_MS = 8_000;

/** The media path of a connected call. */
export type MediaPath = "p2p" | "relay";

/** What every state with a call in it knows. */
interface Base {
  readonly peer: string;
  /** "" for an outgoing call until the server names it. */
  readonly callId: string;
  readonly video: boolean;
}

/** A second call ringing while in a call (docs/spec.md §14 "Call waiting"). */
export interface WaitingCall {
  readonly peer: string;
  readonly callId: string;
  readonly video: boolean;
}

/** An answered call (both sides agreed): the media is being set up, or flows, or is being got back. */
interface Answered extends Base {
  readonly role: Role;
  /** Date.now() at accept (callee click, caller's call_accepted, or a reloaded page's rejoin). */
  readonly acceptAtMs: number;
  /** A call waiting to be answered ("End & accept") or declined; at most one. */
  readonly waiting?: WaitingCall;
}

/** Where the call is, from this device's point of view. */
export type CallState =
  | { readonly tag: "idle" }
  | (Base & { readonly tag: "outgoing"; readonly ringing: boolean })
  | (Base & { readonly tag: "incoming" })
  | (Answered & {
      readonly tag: "connecting";
      /** A reloaded page rejoining a call that had media. */
      readonly rejoined: boolean;
      /** The connection came up at this time; its path is being read. */
      readonly connectedAtMs?: number;
      /** The connection broke before it ever connected (the server ends the call on "failed"). */
      readonly trouble?: "disconnected" | "failed";
    })
  | (Answered & {
      readonly tag: "in_call";
      readonly connectedAtMs: number;
      readonly setupMs: number;
      readonly path: MediaPath;
    })
  | (Answered & {
      readonly tag: "reconnecting";
      readonly connectedAtMs: number;
      readonly setupMs: number;
      readonly path: MediaPath;
    })
  | {
      readonly tag: "ended";
      readonly peer: string;
      readonly callId: string;
      /** The sentence saying how it ended (none: the user declined, nothing to tell). */
      readonly notice?: Notice;
      readonly atMs: number;
    };

/** The tag of a state. */
export type CallTag = CallState["tag"];

/** What happens: user actions, server events, media and command results, timer expiries. */
export type CallEvent =
  | { readonly type: "dial"; readonly peer: string; readonly video: boolean }
  /** StartCall's result; `merged`: the callee was calling us at once and the server answered their call here. */
  | { readonly type: "started"; readonly callId: string; readonly merged: boolean }
  | { readonly type: "ringing"; readonly callId: string }
  | {
      readonly type: "incoming_call";
      readonly callId: string;
      readonly peer: string;
      readonly video: boolean;
      /** The server rings it as a waiting call: this user is in a call (docs/spec.md §14). */
      readonly waiting?: boolean;
    }
  /** Hang up the call in progress and answer the waiting one. */
  | { readonly type: "end_and_accept" }
  /** Decline the waiting call; the call in progress goes on. */
  | { readonly type: "decline_waiting" }
  | { readonly type: "accept" }
  | { readonly type: "decline" }
  /** Hang up, cancel while ringing out, or decline while ringing in. */
  | { readonly type: "hangup" }
  | { readonly type: "call_accepted"; readonly callId: string }
  | { readonly type: "answered_elsewhere"; readonly callId: string }
  /** The server lost what was in flight (its node died, or this device's session did): catch it up. */
  | { readonly type: "resync"; readonly callId: string }
  | {
      readonly type: "call_ended";
      readonly callId: string;
      readonly outcome: CallOutcome;
      readonly reason: EndReason;
    }
  /** A reloaded page gets back into the call it was in. */
  | {
      readonly type: "rejoin";
      readonly callId: string;
      readonly role: Role;
      readonly peer: string;
      readonly video: boolean;
    }
  /** The peer connection is connected (first time: its path is read next; later: the media is back). */
  | { readonly type: "media_up" }
  | { readonly type: "path_known"; readonly path: MediaPath }
  | { readonly type: "media_down"; readonly state: "disconnected" | "failed" | "closed" }
  /** The camera or microphone could not be opened. */
  | { readonly type: "media_error"; readonly notice: Notice }
  /** A command (StartCall, Accept) failed. */
  | { readonly type: "command_failed"; readonly notice: Notice }
  /** A peer-connection step (description, candidate) failed. */
  | { readonly type: "peer_failed"; readonly notice: Notice }
  /** An `ended` state's time on screen is over. */
  | { readonly type: "dismiss"; readonly endedAtMs: number };

/** A command the flow sends for the machine. */
export type CallCommand =
  | { readonly case: "accept" | "decline" | "cancel" | "busy"; readonly callId: string }
  | { readonly case: "hangup"; readonly callId: string; readonly reason: HangupReason };

/** What the flow does for a transition, in order. */
export type CallEffect =
  | { readonly type: "ring" }
  /** The quiet call-waiting tone (docs/spec.md §14); the banner over the call screen says who calls. */
  | { readonly type: "ring_waiting" }
  | { readonly type: "ringback" }
  | { readonly type: "silence" }
  | { readonly type: "send"; readonly command: CallCommand }
  /** Keep the answered call for a page reload. */
  | { readonly type: "save" }
  /** Answer the call now in `incoming` (End & accept: after the first call's teardown). */
  | { readonly type: "accept_now" }
  /** Create the peer connection; `offer`: this side makes the first offer. */
  | { readonly type: "connect_peer"; readonly offer: boolean }
  /** Read the connected path from the connection's stats (answered with `path_known`). */
  | { readonly type: "read_path" }
  /** The media connected: start recovery and the quality loop, report it to the server. */
  | { readonly type: "media_connected"; readonly path: MediaPath; readonly setupMs: number }
  /** The media is back after a loss: stop recovering, report it. */
  | { readonly type: "media_back"; readonly path: MediaPath }
  /** Send every signal of the call again (after a `resync`). */
  | { readonly type: "resend" }
  /**
   * Tell the other side this device's microphone and camera, the whole state (docs/spec.md §14):
   * when the media connects or comes back (the other page may have reloaded and know nothing) and
   * after a `resync` (the old node may have lost what was sent).
   */
  | { readonly type: "tell_controls" }
  /** Tell the server again that the media is connected (after a `resync`). */
  | { readonly type: "report_connected"; readonly path: MediaPath; readonly setupMs: number }
  /** The media of a connected call went down: recover it. */
  | { readonly type: "recover"; readonly state: "disconnected" | "failed" | "closed" }
  /** Before it ever connected: tell the server (it ends the call as failed). */
  | { readonly type: "report_trouble"; readonly state: "disconnected" | "failed" }
  /** Close the connection, stop the media and timers, forget the saved call, refresh the history. */
  | { readonly type: "teardown" }
  | { readonly type: "notify"; readonly notice: Notice }
  | { readonly type: "dismiss_after"; readonly ms: number; readonly endedAtMs: number }
  /** The ended call's sentence is no longer current. */
  | { readonly type: "clear_notice"; readonly notice: Notice };

/** A transition's result. */
export interface Transition {
  readonly state: CallState;
  readonly effects: readonly CallEffect[];
}

/** No call. */
export const IDLE: CallState = { tag: "idle" };

const stay = (state: CallState): Transition => ({ state, effects: [] });

/** A state with a call in it. */
export type LiveState = Exclude<CallState, { tag: "idle" } | { tag: "ended" }>;

/** A state with an answered call in it. */
export type AnsweredState = Extract<CallState, { tag: "connecting" | "in_call" | "reconnecting" }>;

/** The state has an answered call in it. */
export function isAnswered(s: CallState): s is AnsweredState {
  return s.tag === "connecting" || s.tag === "in_call" || s.tag === "reconnecting";
}

/** The state without its waiting call, and the tone of the call in progress back (none). */
function withoutWaiting(s: AnsweredState, before: CallEffect[] = []): Transition {
  const { waiting: _gone, ...rest } = s;
  return { state: rest, effects: [...before, { type: "silence" }] };
}

/** Events about the waiting call (docs/spec.md §14 "Call waiting"); undefined when `e` is not about it. */
function waitingTransition(s: CallState, e: CallEvent, now: number): Transition | undefined {
  if (!isAnswered(s)) return undefined;
  const w = s.waiting;
  switch (e.type) {
    case "incoming_call":
      if (s.callId === e.callId || w?.callId === e.callId) return stay(s);
      // One waiting call at most, and only one the server rings as such: anything else is busy.
      if (!e.waiting || w)
        return { state: s, effects: [{ type: "send", command: { case: "busy", callId: e.callId } }] };
      return {
        state: { ...s, waiting: { peer: e.peer, callId: e.callId, video: e.video } },
        effects: [{ type: "ring_waiting" }],
      };
    case "call_ended":
    case "answered_elsewhere":
      return w?.callId === e.callId ? withoutWaiting(s) : undefined;
    case "decline_waiting":
      if (!w) return stay(s);
      return withoutWaiting(s, [{ type: "send", command: { case: "decline", callId: w.callId } }]);
    case "end_and_accept": {
      if (!w) return stay(s);
      // The first call ends completed (a hangup); then the waiting call is answered like any.
      const hungUp = end(s, now, undefined, [
        { type: "send", command: { case: "hangup", callId: s.callId, reason: HangupReason.NORMAL } },
      ]);
      return {
        state: { tag: "incoming", peer: w.peer, callId: w.callId, video: w.video },
        effects: [...hungUp.effects, { type: "accept_now" }],
      };
    }
    default:
      return undefined;
  }
}

/** The state has a call in it (not idle, not ended). */
export function hasCall(s: CallState): s is LiveState {
  return s.tag !== "idle" && s.tag !== "ended";
}

/** The event names this call; an outgoing call without an id yet claims it (events may overtake StartCall's result). */
function claim(s: CallState, callId: string): LiveState | undefined {
  if (!hasCall(s)) return undefined;
  if (s.tag === "outgoing" && s.callId === "") return { ...s, callId };
  return s.callId === callId ? s : undefined;
}

/** Ends the call: teardown, the sentence, and the timer that clears it. */
function end(s: LiveState, now: number, notice: Notice | undefined, before: CallEffect[] = []): Transition {
  const effects: CallEffect[] = [...before, { type: "silence" }, { type: "teardown" }];
  if (!notice) return { state: IDLE, effects };
  effects.push({ type: "notify", notice }, { type: "dismiss_after", ms: ENDED_SHOW_MS, endedAtMs: now });
  return { state: { tag: "ended", peer: s.peer, callId: s.callId, notice, atMs: now }, effects };
}

/** The next state and its effects; an event the state does not take changes nothing. */
export function transition(s: CallState, e: CallEvent, now: number): Transition {
  const aboutWaiting = waitingTransition(s, e, now);
  if (aboutWaiting) return aboutWaiting;
  if (isAnswered(s) && s.waiting) {
    // The call in progress moves on as if nothing waited; when it ends, the waiting call rings as any.
    const { waiting, ...alone } = s;
    const t = transition(alone, e, now);
    if (!hasCall(t.state)) {
      return { state: { tag: "incoming", ...waiting }, effects: [...t.effects, { type: "ring" }] };
    }
    return isAnswered(t.state) ? { state: { ...t.state, waiting }, effects: t.effects } : t;
  }
  switch (e.type) {
    case "dial":
      if (hasCall(s) || e.peer === "") return stay(s);
      return { state: { tag: "outgoing", peer: e.peer, callId: "", video: e.video, ringing: false }, effects: [] };
    case "rejoin":
      if (hasCall(s)) return stay(s);
      return {
        state: {
          tag: "connecting",
          role: e.role,
          peer: e.peer,
          callId: e.callId,
          video: e.video,
          acceptAtMs: now,
          rejoined: true,
        },
        effects: [],
      };
    case "incoming_call":
      // Glare: the person we are calling calls us; the server merges the two when our StartCall lands.
      if (s.tag === "outgoing" && s.peer === e.peer) return stay(s);
      if (hasCall(s)) {
        if (s.callId === e.callId) return stay(s);
        return { state: s, effects: [{ type: "send", command: { case: "busy", callId: e.callId } }] };
      }
      return {
        state: { tag: "incoming", peer: e.peer, callId: e.callId, video: e.video },
        effects: [{ type: "ring" }],
      };
    case "dismiss":
      if (s.tag !== "ended" || s.atMs !== e.endedAtMs) return stay(s);
      return { state: IDLE, effects: s.notice ? [{ type: "clear_notice", notice: s.notice }] : [] };
    case "call_accepted": {
      if (!hasCall(s)) {
        // A fresh session re-learns a call this page does not know (its state is gone): end it,
        // so neither user stays "in a call" nobody can see.
        const command = { case: "hangup", callId: e.callId, reason: HangupReason.APP_CLOSED } as const;
        return { state: s, effects: [{ type: "send", command }] };
      }
      const c = claim(s, e.callId);
      if (c?.tag !== "outgoing") return stay(s);
      const { peer, callId, video } = c;
      return {
        state: { tag: "connecting", role: "caller", peer, callId, video, acceptAtMs: now, rejoined: false },
        effects: [{ type: "silence" }, { type: "save" }, { type: "connect_peer", offer: true }],
      };
    }
    case "call_ended": {
      const c = claim(s, e.callId);
      if (!c) return stay(s);
      const role: Role = c.tag === "outgoing" ? "caller" : c.tag === "incoming" ? "callee" : c.role;
      const hadMedia = c.tag === "in_call" || c.tag === "reconnecting" || (c.tag === "connecting" && c.rejoined);
      const notice = callEndedNotice(e.outcome, e.reason, role, c.peer, hadMedia, durationOf(c, now));
      return end(c, now, notice);
    }
    case "answered_elsewhere": {
      const c = claim(s, e.callId);
      return c ? end(c, now, { text: "Answered on another device.", kind: "info" }) : stay(s);
    }
    default:
      return callTransition(s, e, now);
  }
}

/** The events that only act on the call in progress. */
function callTransition(s: CallState, e: CallEvent, now: number): Transition {
  if (!hasCall(s)) return stay(s);
  switch (e.type) {
    case "started": {
      if (s.tag !== "outgoing") return stay(s);
      const callId = s.callId || e.callId;
      if (!e.merged) return stay({ ...s, callId });
      const { peer, video } = s;
      return {
        state: { tag: "connecting", role: "callee", peer, callId: e.callId, video, acceptAtMs: now, rejoined: false },
        effects: [{ type: "save" }, { type: "connect_peer", offer: false }],
      };
    }
    case "ringing": {
      const c = claim(s, e.callId);
      if (c?.tag !== "outgoing" || c.ringing) return c ? stay(c) : stay(s);
      return { state: { ...c, ringing: true }, effects: [{ type: "ringback" }] };
    }
    case "resync": {
      const c = claim(s, e.callId);
      if (!c) return stay(s);
      // A node that took the call over knows only its last durable phase: the report that the
      // media connected (path, setup time) may have been lost with the old node, so it goes again.
      const report: CallEffect[] =
        c.tag === "in_call" ? [{ type: "report_connected", path: c.path, setupMs: c.setupMs }] : [];
      return { state: c, effects: [{ type: "resend" }, ...report, { type: "tell_controls" }] };
    }
    case "accept": {
      if (s.tag !== "incoming") return stay(s);
      const { peer, callId, video } = s;
      return {
        state: { tag: "connecting", role: "callee", peer, callId, video, acceptAtMs: now, rejoined: false },
        effects: [{ type: "silence" }, { type: "save" }],
      };
    }
    case "decline":
      if (s.tag !== "incoming") return stay(s);
      return end(s, now, undefined, [{ type: "send", command: { case: "decline", callId: s.callId } }]);
    case "hangup":
      if (s.tag === "incoming") return transition(s, { type: "decline" }, now);
      if (s.tag === "outgoing") {
        const cancel: CallEffect[] = s.callId ? [{ type: "send", command: { case: "cancel", callId: s.callId } }] : [];
        return end(s, now, { text: "Call cancelled.", kind: "info" }, cancel);
      }
      return end(s, now, endedNotice(s.peer, durationOf(s, now) ?? 0), [
        { type: "send", command: { case: "hangup", callId: s.callId, reason: HangupReason.NORMAL } },
      ]);
    case "media_error":
      // Before StartCall nothing exists on the server; an accepting callee declines; a rejoin hangs up.
      if (s.tag === "outgoing") return end(s, now, e.notice);
      if (s.tag === "connecting" && s.role === "callee" && !s.rejoined) {
        return end(s, now, e.notice, [{ type: "send", command: { case: "decline", callId: s.callId } }]);
      }
      return end(s, now, e.notice, [
        { type: "send", command: { case: "hangup", callId: s.callId, reason: HangupReason.MEDIA_FAILED } },
      ]);
    case "command_failed":
      return end(s, now, e.notice);
    case "peer_failed":
      return end(s, now, e.notice, [
        { type: "send", command: { case: "hangup", callId: s.callId, reason: HangupReason.MEDIA_FAILED } },
      ]);
    default:
      return mediaTransition(s, e, now);
  }
}

/** The peer connection's ups and downs. */
function mediaTransition(s: CallState, e: CallEvent, now: number): Transition {
  switch (e.type) {
    case "media_up":
      if (s.tag === "connecting" && s.connectedAtMs === undefined) {
        return { state: { ...s, connectedAtMs: now, trouble: undefined }, effects: [{ type: "read_path" }] };
      }
      if (s.tag === "reconnecting") {
        return {
          state: { ...s, tag: "in_call" },
          effects: [{ type: "media_back", path: s.path }, { type: "tell_controls" }],
        };
      }
      return stay(s);
    case "path_known": {
      if (s.tag === "in_call" || s.tag === "reconnecting") return stay({ ...s, path: e.path });
      if (s.tag !== "connecting" || s.connectedAtMs === undefined) return stay(s);
      const { role, peer, callId, video, acceptAtMs, connectedAtMs } = s;
      const setupMs = connectedAtMs - acceptAtMs;
      return {
        state: { tag: "in_call", role, peer, callId, video, acceptAtMs, connectedAtMs, setupMs, path: e.path },
        effects: [{ type: "media_connected", path: e.path, setupMs }, { type: "tell_controls" }],
      };
    }
    case "media_down":
      if (s.tag === "in_call" || s.tag === "reconnecting") {
        return { state: { ...s, tag: "reconnecting" }, effects: [{ type: "recover", state: e.state }] };
      }
      // Closed before connecting: the other side's fresh connection will offer again.
      if (s.tag !== "connecting" || e.state === "closed") return stay(s);
      return { state: { ...s, trouble: e.state }, effects: [{ type: "report_trouble", state: e.state }] };
    default:
      return stay(s);
  }
}

/** How long the media has been connected, if it has. */
function durationOf(s: LiveState, now: number): number | undefined {
  return s.tag === "in_call" || s.tag === "reconnecting" ? now - s.connectedAtMs : undefined;
}

/** The coarse phase the page (and its tests) read: a reconnecting call is still connected, an ended one idle. */
export type Phase = "idle" | "outgoing" | "incoming" | "connecting" | "connected";

/** The phase of a state. */
export function phaseOf(s: CallState): Phase {
  switch (s.tag) {
    case "idle":
    case "ended":
      return "idle";
    case "in_call":
    case "reconnecting":
      return "connected";
    default:
      return s.tag;
  }
}

/** The status line: words for where the call is. */
export function statusOf(s: CallState): string {
  switch (s.tag) {
    case "idle":
      return "";
    case "ended":
      return s.notice?.text ?? "";
    case "outgoing":
      return s.ringing ? `Ringing ${s.peer}…` : `Calling ${s.peer}…`;
    case "incoming":
      return "Incoming call";
    case "connecting":
      if (s.trouble === "failed") return "Connection failed";
      return s.trouble || s.rejoined ? "Reconnecting…" : "Connecting…";
    case "in_call":
      return "Connected";
    case "reconnecting":
      return "Reconnecting…";
  }
}
