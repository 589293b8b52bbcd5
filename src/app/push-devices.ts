/**
 * Device push registrations as users manage them (DeviceService, docs/spec.md §8,
 * §9): validation of targets, a per-user device limit, and only ever the calling
 * user's own devices. Endpoints must be https on a public host, so a registration
 * cannot make the server POST to its own network (local/test mode may allow
 * http and private hosts).
 */
import { DomainError } from "../domain/errors.ts";
import { checkDeviceId } from "../domain/limits.ts";
import type { Clock } from "./ports/clock.ts";
import type {
  MobileTarget,
  PushChannel,
  PushRegistration,
  PushRegistry,
  PushTarget,
  WebPushTarget,
} from "./ports/push-registry.ts";
import type { PushTargetChecks } from "./ports/push-target-checks.ts";

/** Dependencies and policy of the registration service. */
export interface PushDevicesDeps {
  readonly registry: PushRegistry;
  readonly clock: Clock;
  /** Private-address and P-256 checks of web push targets. */
  readonly checks: PushTargetChecks;
  /** Channels this server delivers through; registering another is refused. */
  readonly channels: ReadonlySet<PushChannel>;
  /** Devices per user (default 20). */
  readonly maxDevicesPerUser?: number;
  /** Accept http:// and loopback/private hosts as Web Push endpoints (local mode and tests only). */
  readonly allowInsecureEndpoints?: boolean;
}

/** A mobile SDK's token as a device registers it; the server picks the channel that delivers it. */
export interface MobileToken {
  readonly channel: "mobile";
  readonly platform: "fcm" | "apns";
  /** FCM registration token, or the APNs PushKit (VoIP) token. */
  readonly token: string;
  /** APNs only: the regular remote-notification token (stop ringing, missed calls). */
  readonly alertToken?: string;
}

/** What a device asks to be pushed at. */
export type PushTargetRequest = WebPushTarget | MobileToken;

/** Register, unregister and list the caller's own push devices. */
export interface PushDevices {
  /**
   * Validates the device's target and stores it on the channel that delivers it: a mobile
   * token goes to this server's own APNs or FCM sender when one is configured, else to the
   * gateway. Returns the stored registration.
   */
  register(userId: string, deviceId: string, target: PushTargetRequest): Promise<PushRegistration>;
  /** Removes the device; false when it was not registered. */
  unregister(userId: string, deviceId: string): Promise<boolean>;
  /** The user's devices, oldest registration first. */
  list(userId: string): Promise<readonly PushRegistration[]>;
}

const maxEndpointLength = 2048;
const tokenPattern = /^[\x21-\x7e]{1,4096}$/;
/** An APNs device token: hex, 32 bytes today; Apple says the length may grow, so up to 100 bytes. */
const apnsTokenPattern = /^(?:[0-9a-fA-F]{2}){32,100}$/;
/** An FCM registration token: base64url characters and ':' (about 160 today). */
const fcmTokenPattern = /^[A-Za-z0-9_:-]{32,4096}$/;

/** Creates the registration service. */
export function createPushDevices(deps: PushDevicesDeps): PushDevices {
  const maxDevices = deps.maxDevicesPerUser ?? 20;
  const insecure = deps.allowInsecureEndpoints ?? false;

  function invalid(message: string): DomainError {
    return new DomainError("invalid_argument", message);
  }

  function checkEndpoint(endpoint: string): void {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid("web push endpoint is not a URL");
    }
    if (endpoint.length > maxEndpointLength) throw invalid(`web push endpoint is longer than ${maxEndpointLength}`);
    if (url.username || url.password) throw invalid("web push endpoint must not carry credentials");
    if (url.protocol !== "https:" && !(insecure && url.protocol === "http:")) {
      throw invalid("web push endpoint must be https");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const local = host === "localhost" || host.endsWith(".localhost") || deps.checks.isPrivateAddress(host);
    if (local && !insecure) throw invalid("web push endpoint must be on a public host");
  }

  function checkKeys(p256dh: string, auth: string): void {
    const key = Buffer.from(p256dh, "base64url");
    if (key.length !== 65 || key[0] !== 4) throw invalid("p256dh must be a base64url uncompressed P-256 point");
    if (!deps.checks.isP256Point(key)) throw invalid("p256dh is not a point on P-256");
    if (Buffer.from(auth, "base64url").length !== 16) throw invalid("auth must be a base64url 16-byte secret");
  }

  function checkWebPush(target: WebPushTarget): WebPushTarget {
    if (!deps.channels.has("webpush")) throw invalid("web push is not enabled on this server");
    checkEndpoint(target.endpoint);
    checkKeys(target.p256dh, target.auth);
    return target;
  }

  function checkApnsToken(field: string, token: string): string {
    if (!apnsTokenPattern.test(token)) {
      throw invalid(`${field} must be an APNs device token: 64–200 hex digits (the bytes iOS gave the app)`);
    }
    return token.toLowerCase();
  }

  /** The channel for a mobile token (docs/spec.md §8 "Mobile push contract"), its token checked in that channel's form. */
  function mobileTarget(t: MobileToken): MobileTarget {
    if (t.platform !== "fcm" && t.platform !== "apns") throw invalid("platform must be fcm or apns");
    if (t.alertToken !== undefined && t.platform !== "apns") throw invalid("alert_token is for APNs devices only");
    if (t.platform === "apns" && deps.channels.has("apns")) {
      const token = checkApnsToken("token", t.token);
      if (t.alertToken === undefined) return { channel: "apns", platform: "apns", token };
      return { channel: "apns", platform: "apns", token, alertToken: checkApnsToken("alert_token", t.alertToken) };
    }
    if (t.platform === "fcm" && deps.channels.has("fcm")) {
      if (!fcmTokenPattern.test(t.token)) {
        throw invalid("token must be an FCM registration token: 32–4096 of A–Z, a–z, 0–9, '-', '_' and ':'");
      }
      return { channel: "fcm", platform: "fcm", token: t.token };
    }
    if (!deps.channels.has("gateway")) throw invalid(`${t.platform} push is not enabled on this server`);
    for (const token of [t.token, ...(t.alertToken === undefined ? [] : [t.alertToken])]) {
      if (!tokenPattern.test(token)) throw invalid("token must be 1–4096 printable ASCII characters");
    }
    return {
      channel: "gateway",
      platform: t.platform,
      token: t.token,
      ...(t.alertToken ? { alertToken: t.alertToken } : {}),
    };
  }

  function checkTarget(target: PushTargetRequest): PushTarget {
    return target.channel === "webpush" ? checkWebPush(target) : mobileTarget(target);
  }

  return {
    async register(userId, deviceId, target) {
      checkDeviceId(deviceId);
      const stored = checkTarget(target);
      const others = (await deps.registry.list(userId)).filter((r) => r.deviceId !== deviceId);
      if (others.length >= maxDevices) {
        throw new DomainError("limit_exceeded", `at most ${maxDevices} push devices per user; unregister one first`);
      }
      const registration: PushRegistration = { userId, deviceId, target: stored, registeredAtMs: deps.clock.now() };
      await deps.registry.register(registration);
      return registration;
    },
    async unregister(userId, deviceId) {
      checkDeviceId(deviceId);
      return deps.registry.unregister(userId, deviceId);
    },
    list: (userId) => deps.registry.list(userId),
  };
}
