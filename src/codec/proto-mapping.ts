/** Protobuf ↔ domain mapping for signaling and history (the transport stays thin: docs/style.md 8), shared by the
 * client API (src/transport) and the relay between nodes (src/adapters/peers). */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  CallOutcome,
  type CallRating as CallRatingPb,
  type CallRecord as CallRecordPb,
  CallRecordSchema,
  EndReason as EndReasonPb,
  PathType as PathTypePb,
  type QualitySample as QualitySamplePb,
  type QualityScore as QualityScorePb,
  QualityVerdict,
  RatingReason as RatingReasonPb,
  RelayProtocol as RelayProtocolPb,
} from "../../gen/calldrop/v1/call_pb.js";
import {
  type ClientMessage,
  HangupReason as HangupReasonPb,
  MediaConnectionState,
  type MediaControls,
  SdpType,
  type ServerEvent,
  ServerEventSchema,
} from "../../gen/calldrop/v1/signal_pb.js";
import type { CallRecord } from "../app/ports/call-store.ts";
import type { SessionEvent } from "../app/session-events.ts";
import type { EndReason, HangupReason, Outcome, PathType, RelayProtocol, Signal } from "../domain/call-types.ts";
import type { Command } from "../domain/commands.ts";
import { DomainError } from "../domain/errors.ts";
import type { Verdict } from "../domain/mos.ts";
import type { QualitySample } from "../domain/quality.ts";
import type { QualityScore } from "../domain/quality-score.ts";
import type { CallRating, RatingReason } from "../domain/rating.ts";
import { codeName, codeOf } from "./status-codes.ts";

const outcomes: Record<Outcome, CallOutcome> = {
  completed: CallOutcome.COMPLETED,
  missed: CallOutcome.MISSED,
  declined: CallOutcome.DECLINED,
  cancelled: CallOutcome.CANCELLED,
  busy: CallOutcome.BUSY,
  unreachable: CallOutcome.UNREACHABLE,
  failed: CallOutcome.FAILED,
};

const reasons: Record<EndReason, EndReasonPb> = {
  hangup: EndReasonPb.HANGUP,
  ring_timeout: EndReasonPb.RING_TIMEOUT,
  declined: EndReasonPb.DECLINED,
  cancelled: EndReasonPb.CANCELLED,
  callee_busy: EndReasonPb.CALLEE_BUSY,
  no_devices: EndReasonPb.NO_DEVICES,
  setup_timeout: EndReasonPb.SETUP_TIMEOUT,
  media_failed: EndReasonPb.MEDIA_FAILED,
  participant_lost: EndReasonPb.PARTICIPANT_LOST,
  network_lost: EndReasonPb.NETWORK_LOST,
  app_closed: EndReasonPb.APP_CLOSED,
};

const verdicts: Record<Verdict, QualityVerdict> = {
  good: QualityVerdict.GOOD,
  fair: QualityVerdict.FAIR,
  poor: QualityVerdict.POOR,
};

/** A call's quality score for the history API (docs/spec.md §15). */
function scoreToPb(s: QualityScore): Omit<QualityScorePb, "$typeName"> {
  return {
    medianMos: s.medianMos,
    worstMos: s.worstMos,
    verdict: verdicts[s.verdict],
    poorNetworkUserId: s.poorNetworkUserId ?? "",
  };
}

const ratingReasonsPb: Record<RatingReason, RatingReasonPb> = {
  audio_choppy: RatingReasonPb.AUDIO_CHOPPY,
  video_frozen: RatingReasonPb.VIDEO_FROZEN,
  echo: RatingReasonPb.ECHO,
  could_not_hear: RatingReasonPb.COULD_NOT_HEAR,
  dropped: RatingReasonPb.DROPPED,
  other: RatingReasonPb.OTHER,
};

/**
 * Rating reasons from protobuf as the domain names them; a value outside the set (UNSPECIFIED,
 * or a number this build does not know) comes back as its number, which `checkRating` refuses.
 */
export function ratingReasonsFromPb(reasons: readonly RatingReasonPb[]): string[] {
  const names = Object.entries(ratingReasonsPb) as [RatingReason, RatingReasonPb][];
  return reasons.map((r) => names.find(([, pb]) => pb === r)?.[0] ?? String(r));
}

function ratingToPb(r: CallRating): Omit<CallRatingPb, "$typeName"> {
  return {
    score: r.score,
    reasons: r.reasons.map((x) => ratingReasonsPb[x]),
    comment: r.comment ?? "",
    ratedAt: timestampFromMs(r.ratedAtMs),
  };
}

const hangupReasons: Record<HangupReasonPb, HangupReason> = {
  [HangupReasonPb.UNSPECIFIED]: "hangup",
  [HangupReasonPb.NORMAL]: "hangup",
  [HangupReasonPb.MEDIA_FAILED]: "media_failed",
  [HangupReasonPb.NETWORK_LOST]: "network_lost",
  [HangupReasonPb.APP_CLOSED]: "app_closed",
};

const sdpTypes: Record<SdpType, Extract<Signal, { kind: "description" }>["sdpType"] | undefined> = {
  [SdpType.UNSPECIFIED]: undefined,
  [SdpType.OFFER]: "offer",
  [SdpType.ANSWER]: "answer",
  [SdpType.PRANSWER]: "pranswer",
  [SdpType.ROLLBACK]: "rollback",
};

/** The media path from protobuf (unspecified: not known). */
export function pathFromPb(p: PathTypePb): PathType | undefined {
  return p === PathTypePb.RELAY ? "relay" : p === PathTypePb.P2P ? "p2p" : undefined;
}

const relayProtocols: Record<RelayProtocol, RelayProtocolPb> = {
  udp: RelayProtocolPb.UDP,
  tcp: RelayProtocolPb.TCP,
  tls: RelayProtocolPb.TLS,
};

/** A relay protocol from protobuf (unspecified: not relayed, or not known). */
function relayProtocolFromPb(p: RelayProtocolPb): RelayProtocol | undefined {
  return (Object.keys(relayProtocols) as RelayProtocol[]).find((k) => relayProtocols[k] === p);
}

/** A relay protocol as protobuf (unspecified when absent). */
export function relayProtocolToPb(p: RelayProtocol | undefined): RelayProtocolPb {
  return p ? relayProtocols[p] : RelayProtocolPb.UNSPECIFIED;
}

/** The media path as protobuf. */
export function pathToPb(p: PathType | undefined): PathTypePb {
  return p === "relay" ? PathTypePb.RELAY : p === "p2p" ? PathTypePb.P2P : PathTypePb.UNSPECIFIED;
}

function invalid(message: string): DomainError {
  return new DomainError("invalid_argument", message);
}

/** Decodes a client command (everything but hello); throws invalid_argument when malformed. */
export function commandFromProto(m: ClientMessage): Command {
  const k = m.kind;
  // A signal's id is the command id it was first sent with (resend_of on a resend).
  const id = m.resendOf || m.commandId;
  if (m.resendOf && k.case !== "description" && k.case !== "iceCandidate" && k.case !== "iceRestart") {
    throw invalid("resend_of is only for description, ice_candidate and ice_restart");
  }
  switch (k.case) {
    case "startCall":
      return { kind: "start_call", calleeUserId: k.value.calleeUserId, video: k.value.video };
    case "accept":
    case "decline":
    case "cancel":
    case "busy":
      return { kind: k.case, callId: k.value.callId };
    case "hangup":
      return { kind: "hangup", callId: k.value.callId, reason: hangupReasons[k.value.reason] ?? "hangup" };
    case "description": {
      const sdpType = sdpTypes[k.value.type];
      if (!sdpType) throw invalid("description.type must be offer, answer, pranswer or rollback");
      return { kind: "signal", callId: k.value.callId, signal: { id, kind: "description", sdpType, sdp: k.value.sdp } };
    }
    case "iceCandidate": {
      const c = k.value;
      const signal: Signal = {
        id,
        kind: "ice_candidate",
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
        usernameFragment: c.usernameFragment,
        endOfCandidates: c.endOfCandidates,
      };
      return { kind: "signal", callId: c.callId, signal };
    }
    case "iceRestart":
      return { kind: "signal", callId: k.value.callId, signal: { id, kind: "ice_restart", sdp: k.value.sdp } };
    case "mediaControls": {
      const { $typeName: _, callId, ...controls } = k.value;
      return { kind: "signal", callId, signal: { id, kind: "media_controls", ...controls } };
    }
    case "mediaState": {
      const s = k.value;
      const state =
        s.state === MediaConnectionState.CONNECTED
          ? "connected"
          : s.state === MediaConnectionState.DISCONNECTED
            ? "disconnected"
            : s.state === MediaConnectionState.FAILED
              ? "failed"
              : undefined;
      if (!state) throw invalid("media_state.state is required");
      const path = pathFromPb(s.path);
      return {
        kind: "media_state",
        callId: s.callId,
        state,
        ...(path ? { path } : {}),
        ...(s.setupMs ? { setupMs: s.setupMs } : {}),
      };
    }
    case "qualityReport": {
      if (!k.value.sample) throw invalid("quality_report.sample is required");
      return { kind: "quality_report", callId: k.value.callId, sample: sampleFromProto(k.value.sample) };
    }
    case "ping":
      return { kind: "ping", nonce: k.value.nonce };
    case "hello":
      throw invalid("hello is only valid as the first message of a stream");
    case undefined:
      throw invalid("message has no command");
  }
}

function sampleFromProto(s: QualitySamplePb): QualitySample {
  const path = pathFromPb(s.path);
  const relayProtocol = relayProtocolFromPb(s.relayProtocol);
  return {
    atMs: Number(s.atMs),
    fractionLost: s.fractionLost,
    jitterMs: s.jitterMs,
    rttMs: s.rttMs,
    availableOutgoingBitrateBps: s.availableOutgoingBitrateBps,
    sentBitrateBps: s.sentBitrateBps,
    frameWidth: s.frameWidth,
    frameHeight: s.frameHeight,
    framesPerSecond: s.framesPerSecond,
    qualityStep: s.qualityStep,
    qualityLimitationReason: s.qualityLimitationReason.slice(0, 32),
    ...(path ? { path } : {}),
    ...(relayProtocol ? { relayProtocol } : {}),
  };
}

/** Encodes a session event as a ServerEvent. */
export function eventToProto(e: SessionEvent): ServerEvent {
  return create(ServerEventSchema, {
    seq: BigInt(e.seq),
    sentAtMs: BigInt(e.sentAtMs),
    originCommandId: e.body.type === "signal" ? e.body.signal.id : "",
    kind: kindToProto(e),
  });
}

function kindToProto({ body: b }: SessionEvent): ServerEvent["kind"] {
  switch (b.type) {
    case "session_ready":
      return { case: "sessionReady", value: { $typeName: "calldrop.v1.SessionReady", ...stripType(b) } };
    case "command_result":
      return {
        case: "commandResult",
        value: { $typeName: "calldrop.v1.CommandResult", commandId: b.commandId, ...b.result },
      };
    case "command_error":
      return {
        case: "error",
        value: {
          $typeName: "calldrop.v1.CommandError",
          commandId: b.commandId,
          code: domainCodeName(b.code),
          message: b.message,
        },
      };
    case "pong":
      return { case: "pong", value: { $typeName: "calldrop.v1.Pong", nonce: b.nonce } };
    case "ringing":
      return { case: "ringing", value: { $typeName: "calldrop.v1.Ringing", ...stripType(b) } };
    case "incoming_call":
      return {
        case: "incomingCall",
        value: { $typeName: "calldrop.v1.IncomingCall", ...stripType(b), ringDeadlineMs: BigInt(b.ringDeadlineMs) },
      };
    case "call_accepted":
      return { case: "callAccepted", value: { $typeName: "calldrop.v1.CallAccepted", ...stripType(b) } };
    case "answered_elsewhere":
      return { case: "answeredElsewhere", value: { $typeName: "calldrop.v1.AnsweredElsewhere", ...stripType(b) } };
    case "call_ended":
      return {
        case: "callEnded",
        value: {
          $typeName: "calldrop.v1.CallEnded",
          callId: b.callId,
          outcome: outcomes[b.outcome],
          reason: reasons[b.reason],
        },
      };
    case "missed_call":
      return {
        case: "missedCall",
        value: {
          $typeName: "calldrop.v1.MissedCall",
          callId: b.callId,
          callerUserId: b.callerUserId,
          startedAtMs: BigInt(b.startedAtMs),
        },
      };
    case "quality_hint":
      return { case: "qualityHint", value: { $typeName: "calldrop.v1.QualityHint", ...stripType(b) } };
    case "resync":
      return { case: "resync", value: { $typeName: "calldrop.v1.Resync", callId: b.callId } };
    case "signal":
      return signalToProto(b.callId, b.signal);
  }
}

function signalToProto(callId: string, s: Signal): ServerEvent["kind"] {
  switch (s.kind) {
    case "description": {
      const type = Number(Object.entries(sdpTypes).find(([, v]) => v === s.sdpType)?.[0]) as SdpType;
      return { case: "description", value: { $typeName: "calldrop.v1.SessionDescription", callId, type, sdp: s.sdp } };
    }
    case "ice_candidate": {
      const { kind: _kind, id: _id, ...fields } = s;
      return { case: "iceCandidate", value: { $typeName: "calldrop.v1.IceCandidate", callId, ...fields } };
    }
    case "ice_restart":
      return { case: "iceRestart", value: { $typeName: "calldrop.v1.IceRestart", callId, sdp: s.sdp } };
    case "media_controls":
      return { case: "mediaControls", value: mediaControlsToPb(callId, s) };
  }
}

/** A media_controls signal as its proto message (a client event here, a forwarded command between nodes). */
export function mediaControlsToPb(callId: string, s: Extract<Signal, { kind: "media_controls" }>): MediaControls {
  const { audioMuted, cameraOff, screenSharing } = s;
  return { $typeName: "calldrop.v1.MediaControls", callId, audioMuted, cameraOff, screenSharing };
}

function stripType<T extends { type: string }>(b: T): Omit<T, "type"> {
  const { type: _type, ...rest } = b;
  return rest;
}

/** The snake_case Connect code name clients see in CommandError.code, e.g. "permission_denied". */
function domainCodeName(code: DomainError["code"]): string {
  return codeName(codeOf(code));
}

/** How a record is shown: whether it is asked for a rating, and to whom (docs/spec.md §15). */
export interface RecordView {
  readonly ratingRequested: boolean;
  /** The reading user: only their own rating is shown. Absent: both (a service reading). */
  readonly readerUserId?: string;
}

/** Encodes a stored call for the history API. */
export function recordToProto(r: CallRecord, view: RecordView = { ratingRequested: false }): CallRecordPb {
  const q = r.quality;
  const shows = (userId: string) => view.readerUserId === undefined || view.readerUserId === userId;
  return create(CallRecordSchema, {
    callId: r.callId,
    callerUserId: r.caller.userId,
    calleeUserId: r.calleeUserId,
    callerDeviceId: r.caller.deviceId,
    answeredDeviceId: r.answeredDeviceId ?? "",
    startedAt: timestampFromMs(r.startedAtMs),
    ...(r.answeredAtMs !== undefined ? { answeredAt: timestampFromMs(r.answeredAtMs) } : {}),
    ...(r.endedAtMs !== undefined ? { endedAt: timestampFromMs(r.endedAtMs) } : {}),
    durationMs: BigInt(r.answeredAtMs !== undefined && r.endedAtMs !== undefined ? r.endedAtMs - r.answeredAtMs : 0),
    outcome: r.outcome ? outcomes[r.outcome] : CallOutcome.UNSPECIFIED,
    endReason: r.endReason ? reasons[r.endReason] : EndReasonPb.UNSPECIFIED,
    path: pathToPb(r.path),
    video: r.video,
    setupMs: r.setupMs ?? 0,
    ...(q
      ? {
          quality: {
            samples: q.samples,
            avgFractionLost: q.avgFractionLost,
            avgJitterMs: q.avgJitterMs,
            avgRttMs: q.avgRttMs,
            avgBitrateBps: q.avgBitrateBps,
            resolutionChanges: q.resolutionChanges,
            ...(q.score ? { score: scoreToPb(q.score) } : {}),
            relayProtocol: relayProtocolToPb(q.relayProtocol),
          },
        }
      : {}),
    ratingRequested: view.ratingRequested,
    ...(r.callerRating && shows(r.caller.userId) ? { callerRating: ratingToPb(r.callerRating) } : {}),
    ...(r.calleeRating && shows(r.calleeUserId) ? { calleeRating: ratingToPb(r.calleeRating) } : {}),
  });
}
