import type { Notification } from "../../domain/call-types.ts";

/**
 * Push notifications to devices without a live signaling session (docs/spec.md §8):
 * incoming call, missed call, stop ringing. Delivery is at least once.
 */
export interface Notifier {
  /** Whether the user has any push target (e.g. a registered device). */
  hasPushTarget(userId: string): Promise<boolean>;
  /** Accepts a notification for delivery; resolves once it is durably queued or sent. */
  notify(notification: Notification): Promise<void>;
}
