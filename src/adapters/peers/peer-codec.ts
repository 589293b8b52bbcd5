/**
 * PeerMessage ↔ relay frame bodies (proto/calldrop/internal/v1/relay.proto). Events
 * travel as calldrop.v1.ServerEvent and commands as calldrop.v1.ClientMessage, the
 * client API's own encodings, mapped with src/codec/proto-mapping.ts in one direction
 * and its inverse here.
 */
import { create } from "@bufbuild/protobuf";
import {
  DeviceNoticeKind as DeviceNoticeKindPb,
  type SessionSnapshot as SessionSnapshotPb,
  SessionSnapshotSchema,
} from "../../../gen/calldrop/internal/v1/relay_pb.js";
import {
  CallOutcome,
  EndReason as EndReasonPb,
  type QualitySample as QualitySamplePb,
} from "../../../gen/calldrop/v1/call_pb.js";
import {
  type ClientMessage,
  ClientMessageSchema,
  HangupReason as HangupReasonPb,
  MediaConnectionState,
  SdpType,
  type ServerEvent,
} from "../../../gen/calldrop/v1/signal_pb.js";
import type { CallCommand, DeviceNoticeKind, PeerMessage, SessionSnapshot } from "../../app/ports/peers.ts";
import type { SessionEvent, SessionEventBody } from "../../app/session-events.ts";
import {
  commandFromProto,
  eventToProto,
  mediaControlsToPb,
  pathToPb,
  relayProtocolToPb,
} from "../../codec/proto-mapping.ts";
import { domainCodeOfName } from "../../codec/status-codes.ts";
import type { EndReason, HangupReason, Outcome, Signal } from "../../domain/call-types.ts";
import { asDomainErrorCode, type DomainErrorCode } from "../../domain/errors.ts";
import type { RelayBody } from "../relay/relay-grpc.ts";

const lower = <E extends Record<string, string | number>>(e: E, v: number) => String(e[v] ?? "").toLowerCase();

const noticeKinds: Record<DeviceNoticeKind, DeviceNoticeKindPb> = {
  online: DeviceNoticeKindPb.ONLINE,
  resumed: DeviceNoticeKindPb.RESUMED,
  lost: DeviceNoticeKindPb.LOST,
};

const hangupReasons: Record<HangupReason, HangupReasonPb> = {
  hangup: HangupReasonPb.NORMAL,
  media_failed: HangupReasonPb.MEDIA_FAILED,
  network_lost: HangupReasonPb.NETWORK_LOST,
  app_closed: HangupReasonPb.APP_CLOSED,
};

/** Encodes a session event (seq 0 for a `deliver`: the receiving session assigns it). */
export function eventToPb(event: SessionEvent): ServerEvent {
  return eventToProto(event);
}

/** Decodes a ServerEvent into a session event. */
export function eventFromPb(e: ServerEvent): SessionEvent {
  return { seq: Number(e.seq), sentAtMs: Number(e.sentAtMs), body: bodyFromPb(e) };
}

function bodyFromPb(e: ServerEvent): SessionEventBody {
  const k = e.kind;
  const id = e.originCommandId;
  switch (k.case) {
    case "sessionReady": {
      const { $typeName: _, ...v } = k.value;
      return { type: "session_ready", ...v };
    }
    case "commandResult":
      return {
        type: "command_result",
        commandId: k.value.commandId,
        result: { callId: k.value.callId, mergedIntoExisting: k.value.mergedIntoExisting },
      };
    case "error": {
      const code = domainCodeOfName(k.value.code) ?? "unavailable";
      return { type: "command_error", commandId: k.value.commandId, code, message: k.value.message };
    }
    case "pong":
      return { type: "pong", nonce: k.value.nonce };
    case "ringing":
      return { type: "ringing", callId: k.value.callId, calleeUserId: k.value.calleeUserId, devices: k.value.devices };
    case "incomingCall":
      return {
        type: "incoming_call",
        callId: k.value.callId,
        callerUserId: k.value.callerUserId,
        video: k.value.video,
        ringDeadlineMs: Number(k.value.ringDeadlineMs),
      };
    case "callAccepted":
    case "answeredElsewhere":
      return {
        type: k.case === "callAccepted" ? "call_accepted" : "answered_elsewhere",
        callId: k.value.callId,
        answeredDeviceId: k.value.answeredDeviceId,
      };
    case "callEnded":
      return {
        type: "call_ended",
        callId: k.value.callId,
        outcome: lower(CallOutcome, k.value.outcome) as Outcome,
        reason: lower(EndReasonPb, k.value.reason) as EndReason,
      };
    case "missedCall":
      return {
        type: "missed_call",
        callId: k.value.callId,
        callerUserId: k.value.callerUserId,
        startedAtMs: Number(k.value.startedAtMs),
      };
    case "qualityHint":
      return { type: "quality_hint", callId: k.value.callId, maxBitrateBps: k.value.maxBitrateBps };
    case "description": {
      const sdpType = lower(SdpType, k.value.type) as Extract<Signal, { kind: "description" }>["sdpType"];
      return {
        type: "signal",
        callId: k.value.callId,
        signal: { id, kind: "description", sdpType, sdp: k.value.sdp },
      };
    }
    case "iceCandidate": {
      const { $typeName: _, callId, ...c } = k.value;
      return { type: "signal", callId, signal: { id, kind: "ice_candidate", ...c } };
    }
    case "iceRestart":
      return { type: "signal", callId: k.value.callId, signal: { id, kind: "ice_restart", sdp: k.value.sdp } };
    case "mediaControls": {
      const { $typeName: _, callId, ...controls } = k.value;
      return { type: "signal", callId, signal: { id, kind: "media_controls", ...controls } };
    }
    case "resync":
      return { type: "resync", callId: k.value.callId };
    case undefined:
      throw new Error("server event without a kind");
  }
}

/** Encodes a call command. */
export function commandToPb(commandId: string, c: CallCommand): ClientMessage {
  const resendOf = c.kind === "signal" && c.signal.id !== commandId ? c.signal.id : "";
  return create(ClientMessageSchema, { commandId, resendOf, kind: commandKind(c) });
}

function commandKind(c: CallCommand): ClientMessage["kind"] {
  const $ = <T extends string>(typeName: T) => ({ $typeName: typeName, callId: c.callId });
  switch (c.kind) {
    case "accept":
      return { case: "accept", value: $("calldrop.v1.Accept") };
    case "decline":
      return { case: "decline", value: $("calldrop.v1.Decline") };
    case "cancel":
      return { case: "cancel", value: $("calldrop.v1.Cancel") };
    case "busy":
      return { case: "busy", value: $("calldrop.v1.Busy") };
    case "hangup":
      return { case: "hangup", value: { ...$("calldrop.v1.Hangup"), reason: hangupReasons[c.reason] } };
    case "signal":
      return signalKind(c.callId, c.signal);
    case "media_state": {
      const state = {
        connected: MediaConnectionState.CONNECTED,
        disconnected: MediaConnectionState.DISCONNECTED,
        failed: MediaConnectionState.FAILED,
      }[c.state];
      return {
        case: "mediaState",
        value: { ...$("calldrop.v1.MediaState"), state, path: pathToPb(c.path), setupMs: c.setupMs ?? 0 },
      };
    }
    case "quality_report": {
      const { path, relayProtocol, atMs, ...s } = c.sample;
      const sample: QualitySamplePb = {
        $typeName: "calldrop.v1.QualitySample",
        ...s,
        atMs: BigInt(atMs),
        path: pathToPb(path),
        relayProtocol: relayProtocolToPb(relayProtocol),
      };
      return { case: "qualityReport", value: { ...$("calldrop.v1.QualityReport"), sample } };
    }
  }
}

function signalKind(callId: string, s: Signal): ClientMessage["kind"] {
  switch (s.kind) {
    case "description": {
      const type = {
        offer: SdpType.OFFER,
        answer: SdpType.ANSWER,
        pranswer: SdpType.PRANSWER,
        rollback: SdpType.ROLLBACK,
      }[s.sdpType];
      return { case: "description", value: { $typeName: "calldrop.v1.SessionDescription", callId, type, sdp: s.sdp } };
    }
    case "ice_candidate": {
      const { kind: _, id: _id, ...c } = s;
      return { case: "iceCandidate", value: { $typeName: "calldrop.v1.IceCandidate", callId, ...c } };
    }
    case "ice_restart":
      return { case: "iceRestart", value: { $typeName: "calldrop.v1.IceRestart", callId, sdp: s.sdp } };
    case "media_controls":
      return { case: "mediaControls", value: mediaControlsToPb(callId, s) };
  }
}

/** Decodes a forwarded call command (the same checks as a client's). */
export function commandFromPb(m: ClientMessage): CallCommand {
  const command = commandFromProto(m);
  if (command.kind === "start_call" || command.kind === "ping") throw new Error(`${command.kind} is not forwarded`);
  return command;
}

function snapshotToPb(s: SessionSnapshot): SessionSnapshotPb {
  return create(SessionSnapshotSchema, {
    sessionId: s.sessionId,
    resumeToken: s.resumeToken,
    nextSeq: BigInt(s.nextSeq),
    events: s.events.map(eventToPb),
    userId: s.userId,
    deviceId: s.deviceId,
  });
}

/** Encodes a message as a relay frame body. */
export function messageToBody(m: PeerMessage): RelayBody {
  switch (m.kind) {
    case "deliver": {
      const event = eventToPb({ seq: 0, sentAtMs: 0, body: m.body });
      const value = { userId: m.userId, deviceId: m.deviceId ?? "", event, originNodeId: m.origin };
      return { case: "deliver", value: { $typeName: "calldrop.internal.v1.Deliver", ...value } };
    }
    case "command": {
      const { userId, deviceId } = m.from;
      const message = commandToPb(m.commandId, m.command);
      const value = { requestId: m.requestId, userId, deviceId, message };
      return { case: "commandForward", value: { $typeName: "calldrop.internal.v1.CommandForward", ...value } };
    }
    case "notice": {
      const { requestId, callId, sessionId } = m;
      const value = { requestId, callId, ...m.device, sessionId, kind: noticeKinds[m.notice] };
      return { case: "deviceNotice", value: { $typeName: "calldrop.internal.v1.DeviceNotice", ...value } };
    }
    case "reply": {
      const o = m.outcome;
      const outcome = o.ok
        ? {
            case: "result" as const,
            value: { $typeName: "calldrop.v1.CommandResult" as const, commandId: "", ...o.result },
          }
        : { case: "failure" as const, value: failure(o.code, o.message) };
      return {
        case: "commandReply",
        value: { $typeName: "calldrop.internal.v1.CommandReply", requestId: m.requestId, outcome },
      };
    }
    case "handoff": {
      const { kind: _, lastSeq, ...v } = m;
      const value = { ...v, lastSeq: BigInt(lastSeq) };
      return { case: "sessionHandoff", value: { $typeName: "calldrop.internal.v1.SessionHandoff", ...value } };
    }
    case "handoff_reply": {
      const o = m.outcome;
      const outcome = o.ok
        ? { case: "session" as const, value: snapshotToPb(o.session) }
        : { case: "failure" as const, value: failure(o.code, o.message) };
      const value = { requestId: m.requestId, outcome };
      return {
        case: "sessionHandoffReply",
        value: { $typeName: "calldrop.internal.v1.SessionHandoffReply", ...value },
      };
    }
    case "replaced": {
      const { kind: _, ...value } = m;
      return { case: "sessionReplaced", value: { $typeName: "calldrop.internal.v1.SessionReplaced", ...value } };
    }
  }
}

function failure(code: DomainErrorCode, message: string) {
  return { $typeName: "calldrop.internal.v1.CommandFailure" as const, code, message };
}

const failureOf = (f: { code: string; message: string }) => ({
  ok: false as const,
  code: asDomainErrorCode(f.code) ?? "unavailable",
  message: f.message,
});

/** Decodes a relay frame body; `undefined` for a body this node does not know. */
export function messageFromBody(b: RelayBody): PeerMessage | undefined {
  switch (b.case) {
    case "deliver": {
      const v = b.value;
      if (!v.event) return undefined;
      return {
        kind: "deliver",
        userId: v.userId,
        ...(v.deviceId ? { deviceId: v.deviceId } : {}),
        body: bodyFromPb(v.event),
        origin: v.originNodeId,
      };
    }
    case "commandForward": {
      const v = b.value;
      if (!v.message) return undefined;
      const from = { userId: v.userId, deviceId: v.deviceId };
      return {
        kind: "command",
        requestId: v.requestId,
        from,
        commandId: v.message.commandId,
        command: commandFromPb(v.message),
      };
    }
    case "deviceNotice": {
      const v = b.value;
      const notice = (Object.entries(noticeKinds).find(([, pb]) => pb === v.kind)?.[0] ?? "online") as DeviceNoticeKind;
      const device = { userId: v.userId, deviceId: v.deviceId };
      return { kind: "notice", requestId: v.requestId, callId: v.callId, device, sessionId: v.sessionId, notice };
    }
    case "commandReply": {
      const o = b.value.outcome;
      const outcome =
        o.case === "result"
          ? { ok: true as const, result: { callId: o.value.callId, mergedIntoExisting: o.value.mergedIntoExisting } }
          : failureOf(o.value ?? { code: "unavailable", message: "no outcome" });
      return { kind: "reply", requestId: b.value.requestId, outcome };
    }
    case "sessionHandoff": {
      const { $typeName: _, lastSeq, ...v } = b.value;
      return { kind: "handoff", ...v, lastSeq: Number(lastSeq) };
    }
    case "sessionHandoffReply": {
      const o = b.value.outcome;
      if (o.case === "session") {
        const s = o.value;
        const session: SessionSnapshot = {
          sessionId: s.sessionId,
          resumeToken: s.resumeToken,
          userId: s.userId,
          deviceId: s.deviceId,
          nextSeq: Number(s.nextSeq),
          events: s.events.map(eventFromPb),
        };
        return { kind: "handoff_reply", requestId: b.value.requestId, outcome: { ok: true, session } };
      }
      const f = o.case === "failure" ? o.value : { code: "resume_expired", message: "session not available" };
      return { kind: "handoff_reply", requestId: b.value.requestId, outcome: failureOf(f) };
    }
    case "sessionReplaced": {
      const { $typeName: _, ...v } = b.value;
      return { kind: "replaced", ...v };
    }
  }
}
