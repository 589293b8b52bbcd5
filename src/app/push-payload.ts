import type { Notification } from "../domain/call-types.ts";

/**
 * The JSON a device receives (Web Push message data, and `payload` of a gateway
 * request). Version 1; fields are only ever added. `tag` is the same for every
 * notification of a call, so a client shows one notification per call and each
 * later one (stop ringing, missed) replaces the ring. `proto` is the same
 * notification as a typed message (calldrop.push.v1.PushNotification, base64 of
 * its binary form), the one field the direct APNs and FCM pushes carry
 * (docs/spec.md §8 "Mobile push contract").
 */
export type PushPayload =
  | {
      readonly v: 1;
      readonly proto: string;
      readonly kind: "incoming_call";
      readonly tag: string;
      readonly userId: string;
      readonly callId: string;
      readonly callerUserId: string;
      readonly video: boolean;
      readonly ringDeadlineMs: number;
    }
  | {
      readonly v: 1;
      readonly proto: string;
      readonly kind: "missed_call";
      readonly tag: string;
      readonly userId: string;
      readonly callId: string;
      readonly callerUserId: string;
      readonly startedAtMs: number;
    }
  | {
      readonly v: 1;
      readonly proto: string;
      readonly kind: "stop_ringing";
      readonly tag: string;
      readonly userId: string;
      readonly callId: string;
      readonly outcome: Extract<Notification, { kind: "stop_ringing" }>["outcome"];
    };

/** Maps a notification and its typed form (`proto`, base64) to the payload its devices receive. */
export function pushPayload(n: Notification, proto: string): PushPayload {
  const common = { v: 1, proto, tag: `call-${n.callId}`, userId: n.userId, callId: n.callId } as const;
  switch (n.kind) {
    case "incoming_call":
      return {
        ...common,
        kind: n.kind,
        callerUserId: n.callerUserId,
        video: n.video,
        ringDeadlineMs: n.ringDeadlineMs,
      };
    case "missed_call":
      return { ...common, kind: n.kind, callerUserId: n.callerUserId, startedAtMs: n.startedAtMs };
    case "stop_ringing":
      return { ...common, kind: n.kind, outcome: n.outcome };
  }
}
