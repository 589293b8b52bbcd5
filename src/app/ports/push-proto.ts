import type { Notification } from "../../domain/call-types.ts";

/**
 * The typed form of a notification (calldrop.push.v1.PushNotification, docs/spec.md §8
 * "Mobile push contract"), as a port so the app binds no generated code (docs/style.md 1).
 */
export interface PushProto {
  /** The notification's binary encoding, base64 (standard alphabet, padded). */
  encode(notification: Notification): string;
}
