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
import type { PushChannel, PushRegistration, PushRegistry, PushTarget } from "./ports/push-registry.ts";
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

/** Register, unregister and list the caller's own push devices. */
export interface PushDevices {
  /** Validates and stores the device's target; returns the stored registration. */
  register(userId: string, deviceId: string, target: PushTarget): Promise<PushRegistration>;
  /** Removes the device; false when it was not registered. */
  unregister(userId: string, deviceId: string): Promise<boolean>;
  /** The user's devices, oldest registration first. */
  list(userId: string): Promise<readonly PushRegistration[]>;
}

const maxEndpointLength = 2048;
const tokenPattern = /^[\x21-\x7e]{1,4096}$/;

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

  function checkTarget(target: PushTarget): void {
    if (!deps.channels.has(target.channel)) {
      throw invalid(
        target.channel === "webpush"
          ? "web push is not enabled on this server"
          : "mobile push is not enabled on this server",
      );
    }
    if (target.channel === "webpush") {
      checkEndpoint(target.endpoint);
      checkKeys(target.p256dh, target.auth);
    } else {
      if (target.platform !== "fcm" && target.platform !== "apns") throw invalid("platform must be fcm or apns");
      if (!tokenPattern.test(target.token)) throw invalid("token must be 1–4096 printable ASCII characters");
    }
  }

  return {
    async register(userId, deviceId, target) {
      checkDeviceId(deviceId);
      checkTarget(target);
      const others = (await deps.registry.list(userId)).filter((r) => r.deviceId !== deviceId);
      if (others.length >= maxDevices) {
        throw new DomainError("limit_exceeded", `at most ${maxDevices} push devices per user; unregister one first`);
      }
      const registration: PushRegistration = { userId, deviceId, target, registeredAtMs: deps.clock.now() };
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
