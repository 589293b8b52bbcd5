/**
 * The call state machine (docs/spec.md §3): pure functions from (state, event, now)
 * to the next state and the effects to run. No I/O, no clock, no randomness.
 * Illegal transitions throw a DomainError; they never assign state silently.
 */

import {
  type Answered,
  device,
  isAnsweredParticipant,
  isCallerDevice,
  otherParticipant,
  requireAnsweredParticipant,
  requireCallee,
  requireCaller,
  requireParticipantUser,
} from "./call-guards.ts";
import type {
  CallEnd,
  CallEvent,
  CallInfo,
  CallState,
  DeviceRef,
  Effect,
  EndReason,
  Outcome,
  PathType,
  TimerName,
  Transition,
} from "./call-types.ts";
import { DomainError } from "./errors.ts";

/** Tunables of the lifecycle. */
export interface CallPolicy {
  /** Unanswered for this long → missed. */
  readonly ringTimeoutMs: number;
  /** Answered but no media connection for this long → failed. */
  readonly setupTimeoutMs: number;
  /** Trickled ICE candidates allowed per call (both sides together). */
  readonly maxCandidatesPerCall: number;
  /**
   * Sending bitrate cap hinted to both participants when their media goes through
   * TURN (the relay's per-session budget, docs/spec.md §5, §6); 0 sends no hint.
   */
  readonly relayMaxBitrateBps: number;
}

/** The policy of docs/spec.md §3: 30 s to answer. */
export const defaultCallPolicy: CallPolicy = {
  ringTimeoutMs: 30_000,
  setupTimeoutMs: 30_000,
  maxCandidatesPerCall: 200,
  relayMaxBitrateBps: 0,
};

/** What the application knows about the callee when a call starts. */
export interface StartInput {
  readonly callId: string;
  readonly caller: DeviceRef;
  readonly calleeUserId: string;
  readonly video: boolean;
  /** Devices of the callee with a live signaling session. */
  readonly calleeDevices: readonly string[];
  /** Whether the callee has any push target (device without a live session). */
  readonly calleePushable: boolean;
  /** Whether the callee is already in (or being rung for) another call. */
  readonly calleeBusy: boolean;
  /** Whether the callee blocked the caller (docs/spec.md §14 "Blocking"). */
  readonly calleeBlocksCaller: boolean;
  /**
   * Whether the call rings as a waiting call: the callee is in another answered call, takes call
   * waiting, and the directory let this call wait (docs/spec.md §14 "Call waiting").
   */
  readonly waiting: boolean;
}

/**
 * Starts a call: rings the callee, or ends at once as busy or unreachable. A callee who blocked
 * the caller is unreachable to them, before anything else (not even busy is revealed), and is
 * neither rung nor notified.
 */
export function startCall(input: StartInput, nowMs: number, policy: CallPolicy = defaultCallPolicy): Transition {
  if (input.caller.userId === input.calleeUserId) {
    throw new DomainError("invalid_argument", "cannot call yourself");
  }
  const call: CallInfo = {
    callId: input.callId,
    caller: input.caller,
    calleeUserId: input.calleeUserId,
    video: input.video,
    startedAtMs: nowMs,
    ringDeadlineMs: nowMs + policy.ringTimeoutMs,
    ...(input.waiting ? { waiting: true as const } : {}),
  };
  const record: Effect = { kind: "record_start", call };
  const unreachable: CallEnd = { outcome: "unreachable", reason: "no_devices", endedAtMs: nowMs };
  if (input.calleeBlocksCaller) return endNow(call, [record], unreachable, [call.caller]);
  if (input.calleeBusy) {
    return endNow(call, [record], { outcome: "busy", reason: "callee_busy", endedAtMs: nowMs }, [call.caller]);
  }
  if (input.calleeDevices.length === 0 && !input.calleePushable)
    return endNow(call, [record], unreachable, [call.caller]);
  const incoming = incomingCall(call);
  const effects: Effect[] = [
    record,
    { kind: "set_timer", timer: "ring", atMs: call.ringDeadlineMs },
    {
      kind: "send",
      to: call.caller,
      event: {
        type: "ringing",
        callId: call.callId,
        calleeUserId: call.calleeUserId,
        devices: input.calleeDevices.length,
      },
    },
    ...input.calleeDevices.map(
      (deviceId): Effect => ({ kind: "send", to: device(call.calleeUserId, deviceId), event: incoming }),
    ),
  ];
  if (input.calleePushable) {
    // A push rings a device that is not in the call: as today, waiting or not.
    const { type: _type, waiting: _waiting, ...fields } = incoming;
    effects.push({ kind: "notify", notification: { kind: "incoming_call", userId: call.calleeUserId, ...fields } });
  }
  return { state: { phase: "ringing", call, ringing: input.calleeDevices, pushed: input.calleePushable }, effects };
}

/** The event that rings a callee device: quietly, as a waiting call, when the call is one (§14 "Call waiting"). */
function incomingCall(call: CallInfo) {
  return {
    type: "incoming_call",
    callId: call.callId,
    callerUserId: call.caller.userId,
    video: call.video,
    ringDeadlineMs: call.ringDeadlineMs,
    ...(call.waiting ? { waiting: true as const } : {}),
  } as const;
}

/**
 * The timer a call in `state` has armed and when it fires: the ring timer while ringing,
 * the setup timer while connecting; none once connected or ended. A node that takes the
 * call over arms it again.
 */
export function armedTimer(state: CallState): { readonly timer: TimerName; readonly atMs: number } | undefined {
  switch (state.phase) {
    case "ringing":
      return { timer: "ring", atMs: state.call.ringDeadlineMs };
    case "connecting":
      return { timer: "setup", atMs: state.setupDeadlineMs };
    default:
      return undefined;
  }
}

/** Applies one event to a call. Throws DomainError for an illegal event. */
export function transition(
  state: CallState,
  event: CallEvent,
  nowMs: number,
  policy: CallPolicy = defaultCallPolicy,
): Transition {
  switch (state.phase) {
    case "ringing":
      return fromRinging(state, event, nowMs, policy);
    case "connecting":
    case "connected":
      return fromAnswered(state, event, nowMs, policy);
    case "ended":
      return fromEnded(state, event);
  }
}

type Ringing = Extract<CallState, { phase: "ringing" }>;

function fromRinging(state: Ringing, event: CallEvent, nowMs: number, policy: CallPolicy): Transition {
  const { call } = state;
  switch (event.type) {
    case "ring_device": {
      if (state.ringing.includes(event.deviceId)) return unchanged(state);
      const incoming = incomingCall(call);
      return {
        state: { ...state, ringing: [...state.ringing, event.deviceId] },
        effects: [{ kind: "send", to: device(call.calleeUserId, event.deviceId), event: incoming }],
      };
    }
    case "accept": {
      requireCallee(call, event.by, "accept");
      const next: CallState = {
        phase: "connecting",
        call,
        answeredDeviceId: event.by.deviceId,
        answeredAtMs: nowMs,
        setupDeadlineMs: nowMs + policy.setupTimeoutMs,
        candidates: 0,
      };
      const accepted = { type: "call_accepted", callId: call.callId, answeredDeviceId: event.by.deviceId } as const;
      const elsewhere = {
        type: "answered_elsewhere",
        callId: call.callId,
        answeredDeviceId: event.by.deviceId,
      } as const;
      const effects: Effect[] = [
        { kind: "clear_timer", timer: "ring" },
        { kind: "set_timer", timer: "setup", atMs: next.setupDeadlineMs },
        { kind: "record_answer", callId: call.callId, deviceId: event.by.deviceId, answeredAtMs: nowMs },
        { kind: "send", to: call.caller, event: accepted },
        { kind: "send", to: event.by, event: accepted },
        ...state.ringing
          .filter((d) => d !== event.by.deviceId)
          .map((d): Effect => ({ kind: "send", to: device(call.calleeUserId, d), event: elsewhere })),
        ...stopRinging(state, "completed"),
      ];
      return { state: next, effects };
    }
    case "decline":
      requireCallee(call, event.by, "decline");
      return endRinging(state, "declined", "declined", nowMs);
    case "busy":
      requireCallee(call, event.by, "report busy for");
      return endRinging(state, "busy", "callee_busy", nowMs);
    case "cancel":
      requireCaller(call, event.by, "cancel");
      return endRinging(state, "cancelled", "cancelled", nowMs);
    case "hangup":
      if (isCallerDevice(call, event.by)) return endRinging(state, "cancelled", "cancelled", nowMs);
      requireCallee(call, event.by, "hang up");
      return endRinging(state, "declined", "declined", nowMs);
    case "relay":
    case "media":
      requireParticipantUser(call, event.from);
      throw new DomainError("illegal_transition", "the call has not been answered yet");
    case "ring_timeout":
      // The ring ended at its deadline, even when the timeout is acted on later (a node that
      // took the call over from a dead one, or a restarted one, rings it out after the fact).
      return endRinging(state, "missed", "ring_timeout", Math.min(nowMs, call.ringDeadlineMs));
    case "setup_timeout":
      return unchanged(state);
    case "device_lost":
      if (isCallerDevice(call, event.device)) return endRinging(state, "failed", "participant_lost", nowMs);
      if (event.device.userId !== call.calleeUserId) return unchanged(state);
      return { state: { ...state, ringing: state.ringing.filter((d) => d !== event.device.deviceId) }, effects: [] };
  }
}

function fromAnswered(state: Answered, event: CallEvent, nowMs: number, policy: CallPolicy): Transition {
  const { call } = state;
  switch (event.type) {
    case "ring_device":
    case "ring_timeout":
      return unchanged(state);
    case "accept":
      requireCallee(call, event.by, "accept");
      throw new DomainError(
        "illegal_transition",
        event.by.deviceId === state.answeredDeviceId ? "call already accepted" : "call was answered on another device",
      );
    // A decline/busy/cancel that raced with the accept ends the call like a hangup,
    // but only from the side that may send it.
    case "decline":
    case "busy":
      requireCallee(call, event.by, event.type === "busy" ? "report busy for" : "decline");
      requireAnsweredParticipant(state, event.by);
      return endAnswered(state, "completed", "hangup", nowMs);
    case "cancel":
      requireCaller(call, event.by, "cancel");
      return endAnswered(state, "completed", "hangup", nowMs);
    case "hangup": {
      requireAnsweredParticipant(state, event.by);
      const outcome: Outcome = event.reason === "media_failed" ? "failed" : "completed";
      return endAnswered(state, outcome, event.reason, nowMs);
    }
    case "relay": {
      requireAnsweredParticipant(state, event.from);
      let candidates = state.candidates;
      if (event.signal.kind === "ice_candidate" && !event.signal.endOfCandidates) {
        candidates += 1;
        if (candidates > policy.maxCandidatesPerCall) {
          throw new DomainError(
            "limit_exceeded",
            `too many ICE candidates: at most ${policy.maxCandidatesPerCall} per call`,
          );
        }
      }
      const to = otherParticipant(state, event.from);
      return {
        state: { ...state, candidates },
        effects: [{ kind: "send", to, event: { type: "signal", callId: call.callId, signal: event.signal } }],
      };
    }
    case "media":
      requireAnsweredParticipant(state, event.from);
      return onMedia(state, event, nowMs, policy);
    case "setup_timeout":
      if (state.phase === "connected") return unchanged(state);
      return endAnswered(state, "failed", "setup_timeout", nowMs);
    case "device_lost":
      if (!isAnsweredParticipant(state, event.device)) return unchanged(state);
      return endAnswered(state, "failed", "participant_lost", nowMs);
  }
}

function onMedia(
  state: Answered,
  event: Extract<CallEvent, { type: "media" }>,
  nowMs: number,
  policy: CallPolicy,
): Transition {
  switch (event.state) {
    case "failed":
      return endAnswered(state, "failed", "media_failed", nowMs);
    case "disconnected":
      // ICE may recover on its own or through an ICE restart; the setup/hangup paths decide.
      return unchanged(state);
    case "connected": {
      const reported: PathType = event.path ?? "p2p";
      if (state.phase === "connected") {
        // Either side seeing a relay means the media is relayed.
        const path: PathType = state.path === "relay" || reported === "relay" ? "relay" : "p2p";
        return path === state.path
          ? unchanged(state)
          : { state: { ...state, path }, effects: relayHint(state, policy) };
      }
      const setupMs = event.setupMs && event.setupMs > 0 ? event.setupMs : nowMs - state.answeredAtMs;
      return {
        state: {
          phase: "connected",
          call: state.call,
          answeredDeviceId: state.answeredDeviceId,
          answeredAtMs: state.answeredAtMs,
          connectedAtMs: nowMs,
          path: reported,
          setupMs,
          candidates: state.candidates,
        },
        effects: [{ kind: "clear_timer", timer: "setup" }, ...(reported === "relay" ? relayHint(state, policy) : [])],
      };
    }
  }
}

/** The relay bitrate cap, sent to both participants when their media starts going through TURN. */
function relayHint(state: Answered, policy: CallPolicy): Effect[] {
  if (policy.relayMaxBitrateBps <= 0) return [];
  const event = { type: "quality_hint", callId: state.call.callId, maxBitrateBps: policy.relayMaxBitrateBps } as const;
  const callee = device(state.call.calleeUserId, state.answeredDeviceId);
  return [
    { kind: "send", to: state.call.caller, event },
    { kind: "send", to: callee, event },
  ];
}

function fromEnded(state: Extract<CallState, { phase: "ended" }>, event: CallEvent): Transition {
  switch (event.type) {
    case "ring_device":
    case "ring_timeout":
    case "setup_timeout":
    case "device_lost":
      return unchanged(state);
    default:
      throw new DomainError("illegal_transition", "the call has ended");
  }
}

function endRinging(state: Ringing, outcome: Outcome, reason: EndReason, nowMs: number): Transition {
  const { call } = state;
  const ended = { type: "call_ended", callId: call.callId, outcome, reason } as const;
  const effects: Effect[] = [
    { kind: "clear_timer", timer: "ring" },
    ...state.ringing.map((d): Effect => ({ kind: "send", to: device(call.calleeUserId, d), event: ended })),
  ];
  if (outcome === "missed") {
    const missed = { callId: call.callId, callerUserId: call.caller.userId, startedAtMs: call.startedAtMs };
    effects.push(
      { kind: "send_user", userId: call.calleeUserId, event: { type: "missed_call", ...missed } },
      { kind: "notify", notification: { kind: "missed_call", userId: call.calleeUserId, ...missed } },
    );
  } else {
    effects.push(...stopRinging(state, outcome));
  }
  return endNow(call, effects, { outcome, reason, endedAtMs: nowMs }, [call.caller]);
}

function endAnswered(state: Answered, outcome: Outcome, reason: EndReason, nowMs: number): Transition {
  const end: CallEnd = {
    outcome,
    reason,
    endedAtMs: nowMs,
    answeredDeviceId: state.answeredDeviceId,
    answeredAtMs: state.answeredAtMs,
    ...(state.phase === "connected" ? { path: state.path, setupMs: state.setupMs } : {}),
  };
  const timers: Effect[] = state.phase === "connecting" ? [{ kind: "clear_timer", timer: "setup" }] : [];
  return endNow(state.call, timers, end, [state.call.caller, device(state.call.calleeUserId, state.answeredDeviceId)]);
}

/** Ends a call: tells `notify` devices, records the end exactly once. */
function endNow(call: CallInfo, before: readonly Effect[], end: CallEnd, notify: readonly DeviceRef[]): Transition {
  const ended = { type: "call_ended", callId: call.callId, outcome: end.outcome, reason: end.reason } as const;
  return {
    state: { phase: "ended", call, end },
    effects: [
      ...before,
      ...notify.map((to): Effect => ({ kind: "send", to, event: ended })),
      { kind: "record_end", call, end },
    ],
  };
}

function stopRinging(state: Ringing, outcome: Outcome): Effect[] {
  if (!state.pushed) return [];
  return [
    {
      kind: "notify",
      notification: { kind: "stop_ringing", userId: state.call.calleeUserId, callId: state.call.callId, outcome },
    },
  ];
}

function unchanged(state: CallState): Transition {
  return { state, effects: [] };
}
