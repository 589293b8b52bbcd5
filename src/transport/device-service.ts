/** DeviceService handlers: the caller manages only their own push devices (docs/spec.md §8, §9). */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type DeviceService,
  MobilePlatform,
  type PushDevice,
  type PushDeviceSchema,
} from "../../gen/calldrop/v1/device_pb.js";
import type { PushRegistration } from "../app/ports/push-registry.ts";
import type { PushDevices, PushTargetRequest } from "../app/push-devices.ts";
import { DomainError } from "../domain/errors.ts";
import { callerOf } from "./signal-service.ts";

/** Maps a request's device to the domain target; invalid_argument when it has none. */
function targetOf(device: PushDevice | undefined): PushTargetRequest {
  const t = device?.target;
  switch (t?.case) {
    case "webPush":
      return { channel: "webpush", endpoint: t.value.endpoint, p256dh: t.value.p256dh, auth: t.value.auth };
    case "mobile": {
      const platform =
        t.value.platform === MobilePlatform.FCM ? "fcm" : t.value.platform === MobilePlatform.APNS ? "apns" : undefined;
      if (!platform) throw new DomainError("invalid_argument", "mobile.platform must be FCM or APNS");
      const { token, alertToken } = t.value;
      return { channel: "mobile", platform, token, ...(alertToken ? { alertToken } : {}) };
    }
    default:
      throw new DomainError("invalid_argument", "device needs a web_push or mobile target");
  }
}

/** Maps a registration to the wire; the Web Push auth secret is never returned. */
function toProto(r: PushRegistration): MessageInitShape<typeof PushDeviceSchema> {
  const t = r.target;
  return {
    deviceId: r.deviceId,
    registeredAt: timestampFromMs(r.registeredAtMs),
    target:
      t.channel === "webpush"
        ? { case: "webPush", value: { endpoint: t.endpoint, p256dh: t.p256dh, auth: "" } }
        : {
            case: "mobile",
            value: {
              platform: t.platform === "fcm" ? MobilePlatform.FCM : MobilePlatform.APNS,
              token: t.token,
              alertToken: t.channel === "fcm" ? "" : (t.alertToken ?? ""),
            },
          },
  };
}

/** Creates the DeviceService implementation; the user is the authenticated caller (`callerOf`). */
export function createDeviceService(
  devices: PushDevices,
  userOf: (ctx: HandlerContext) => string = (ctx) => callerOf(ctx).userId,
): ServiceImpl<typeof DeviceService> {
  return {
    async registerDevice(req, ctx) {
      const userId = userOf(ctx);
      const registration = await devices.register(userId, req.device?.deviceId ?? "", targetOf(req.device));
      return { device: toProto(registration) };
    },
    async unregisterDevice(req, ctx) {
      return { removed: await devices.unregister(userOf(ctx), req.deviceId) };
    },
    async listDevices(_req, ctx) {
      return { devices: (await devices.list(userOf(ctx))).map(toProto) };
    },
  };
}
