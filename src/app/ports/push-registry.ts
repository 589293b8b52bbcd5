import type { Notification } from "../../domain/call-types.ts";

/** A browser's Web Push subscription (W3C Push API, RFC 8030/8291). */
export interface WebPushTarget {
  readonly channel: "webpush";
  /** The push service URL. */
  readonly endpoint: string;
  /** The subscription's P-256 public key, base64url. */
  readonly p256dh: string;
  /** The subscription's 16-byte auth secret, base64url. */
  readonly auth: string;
}

/** A mobile app's FCM/APNs token, delivered through the mobile push gateway. */
export interface GatewayTarget {
  readonly channel: "gateway";
  readonly platform: "fcm" | "apns";
  readonly token: string;
  /** APNs: the regular (non-VoIP) device token, when the app registered one. */
  readonly alertToken?: string;
}

/**
 * An iOS app pushed through APNs by this server (docs/spec.md §8 "Mobile push contract"):
 * incoming calls go to the PushKit token as VoIP pushes, everything else to the regular
 * token as alert/background pushes; without one the device gets only incoming calls.
 */
export interface ApnsTarget {
  readonly channel: "apns";
  readonly platform: "apns";
  /** The PushKit (VoIP) device token, lowercase hex. */
  readonly token: string;
  /** The regular remote-notification device token, lowercase hex. */
  readonly alertToken?: string;
}

/** An Android app pushed through FCM HTTP v1 by this server. */
export interface FcmTarget {
  readonly channel: "fcm";
  readonly platform: "fcm";
  /** The FCM registration token. */
  readonly token: string;
}

/** A mobile token in whichever channel delivers it. */
export type MobileTarget = GatewayTarget | ApnsTarget | FcmTarget;

/** Where a device's notifications go. */
export type PushTarget = WebPushTarget | MobileTarget;

/**
 * Whether a target can be pushed a kind of notification: an APNs device without a regular
 * token gets only incoming calls, because a VoIP push must always be a call to ring.
 */
export function carries(target: PushTarget, kind: Notification["kind"]): boolean {
  return target.channel !== "apns" || kind === "incoming_call" || target.alertToken !== undefined;
}

/** The delivery channels, as used in metrics labels. */
export type PushChannel = PushTarget["channel"];

/** One device's push registration. */
export interface PushRegistration {
  readonly userId: string;
  readonly deviceId: string;
  readonly target: PushTarget;
  readonly registeredAtMs: number;
}

/** The address that identifies a target across users: its endpoint or token. */
export function targetAddress(target: PushTarget): string {
  return target.channel === "webpush" ? target.endpoint : `${target.platform}:${target.token}`;
}

/**
 * Device push registrations (docs/spec.md §8), keyed by (userId, deviceId).
 * A target address (endpoint or token) belongs to at most one device: registering
 * it again moves it, so a browser or phone handed to another account stops
 * receiving the previous account's calls.
 */
export interface PushRegistry {
  /** Adds or replaces the device's target; removes the same address from any other device. */
  register(registration: PushRegistration): Promise<void>;
  /** Removes the device's registration; true when one existed. */
  unregister(userId: string, deviceId: string): Promise<boolean>;
  /**
   * Removes the device's registration only while it still points at `address`
   * (a push service reported it gone); a newer registration survives. True when removed.
   */
  removeGone(userId: string, deviceId: string, address: string): Promise<boolean>;
  /** The device's registration, or undefined. */
  get(userId: string, deviceId: string): Promise<PushRegistration | undefined>;
  /** The user's registrations, oldest first. */
  list(userId: string): Promise<readonly PushRegistration[]>;
  /** Releases connections/files. */
  close(): Promise<void>;
}
