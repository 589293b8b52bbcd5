/**
 * The typed push payload (calldrop.push.v1.PushNotification, docs/spec.md §8 "Mobile push
 * contract"): a domain notification to the base64 of its binary encoding and back. Binary,
 * not canonical JSON: an app's JSON parser refuses unknown fields by default, so adding a
 * field would break apps; the binary form skips them, and it is smaller.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type PushNotification, PushNotificationSchema, RingEndReason } from "../../gen/calldrop/push/v1/push_pb.js";
import type { PushProto } from "../app/ports/push-proto.ts";
import type { Notification, Outcome } from "../domain/call-types.ts";

/** Why the ringing ended on a device, from the call's outcome (the names CallKit and Android use). */
const ringEnds: Record<Outcome, RingEndReason> = {
  completed: RingEndReason.ANSWERED_ELSEWHERE,
  declined: RingEndReason.DECLINED_ELSEWHERE,
  cancelled: RingEndReason.CALLER_CANCELLED,
  missed: RingEndReason.UNANSWERED,
  busy: RingEndReason.FAILED,
  unreachable: RingEndReason.FAILED,
  failed: RingEndReason.FAILED,
};

/** The typed message of a notification. */
export function pushNotificationToProto(n: Notification): PushNotification {
  const common = { callId: n.callId, userId: n.userId };
  switch (n.kind) {
    case "incoming_call":
      return create(PushNotificationSchema, {
        ...common,
        kind: {
          case: "incomingCall",
          value: { callerUserId: n.callerUserId, video: n.video, ringDeadline: timestampFromMs(n.ringDeadlineMs) },
        },
      });
    case "stop_ringing":
      return create(PushNotificationSchema, {
        ...common,
        kind: { case: "stopRinging", value: { reason: ringEnds[n.outcome] } },
      });
    case "missed_call":
      return create(PushNotificationSchema, {
        ...common,
        kind: {
          case: "missedCall",
          value: { callerUserId: n.callerUserId, startedAt: timestampFromMs(n.startedAtMs) },
        },
      });
  }
}

/** Base64 of the binary encoding, as it travels in the push's `proto` field. */
export function encodePushNotification(n: Notification): string {
  return Buffer.from(toBinary(PushNotificationSchema, pushNotificationToProto(n))).toString("base64");
}

/** Decodes a `proto` field (what apps do with their stubs); throws on malformed input. */
export function decodePushNotification(base64: string): PushNotification {
  return fromBinary(PushNotificationSchema, Buffer.from(base64, "base64"));
}

/** The PushProto port over this codec. */
export const pushProto: PushProto = { encode: encodePushNotification };
