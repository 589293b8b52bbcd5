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
}

/** Where a device's notifications go. */
export type PushTarget = WebPushTarget | GatewayTarget;

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
