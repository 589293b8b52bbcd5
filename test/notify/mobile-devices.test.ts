/**
 * Registering mobile tokens on a server with its own APNs and FCM senders (docs/spec.md §8
 * "Mobile push contract"): DeviceService handlers over the real registration service and an
 * embedded registry. Tokens are checked in the form the platform issues them, a refused one
 * is invalid_argument with a message that says what was expected.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { MobilePlatform, RegisterDeviceRequestSchema } from "../../gen/calldrop/v1/device_pb.js";
import { createManualClock } from "../../src/adapters/clock/manual-clock.ts";
import { createNodePushTargetChecks } from "../../src/adapters/crypto/node-push-target-checks.ts";
import { createSqlitePushRegistry } from "../../src/adapters/notify/sqlite-push-registry.ts";
import type { PushChannel } from "../../src/app/ports/push-registry.ts";
import { createPushDevices } from "../../src/app/push-devices.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { createDeviceService } from "../../src/transport/device-service.ts";

const voip = "ab".repeat(32);
const alert = "CD".repeat(32);
const fcm = `dGVzdA:APA91b${"Q".repeat(140)}`;

function service(channels: PushChannel[]) {
  const registry = createSqlitePushRegistry({ path: ":memory:" });
  const devices = createPushDevices({
    registry,
    clock: createManualClock(1_000),
    checks: createNodePushTargetChecks(),
    channels: new Set(channels),
  });
  const svc = createDeviceService(devices, () => "una");
  const ctx = {} as HandlerContext;
  return {
    registry,
    register: async (deviceId: string, platform: MobilePlatform, token: string, alertToken = "") =>
      svc.registerDevice(
        create(RegisterDeviceRequestSchema, {
          device: { deviceId, target: { case: "mobile", value: { platform, token, alertToken } } },
        }),
        ctx,
      ),
  };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DomainError, String(err));
    assert.equal(err.code, "invalid_argument");
    return err.message;
  }
  assert.fail("registered");
}

describe("mobile device registration", () => {
  it("an iOS device goes to the APNs sender with its PushKit and regular tokens (lowercased); an Android one to FCM", async () => {
    const s = service(["apns", "fcm", "gateway"]);
    const ios = await s.register("ios", MobilePlatform.APNS, voip, alert);
    assert.deepEqual(ios.device?.target?.value, {
      platform: MobilePlatform.APNS,
      token: voip,
      alertToken: alert.toLowerCase(),
    });
    assert.deepEqual((await s.registry.get("una", "ios"))?.target, {
      channel: "apns",
      platform: "apns",
      token: voip,
      alertToken: alert.toLowerCase(),
    });
    await s.register("pixel", MobilePlatform.FCM, fcm);
    assert.deepEqual((await s.registry.get("una", "pixel"))?.target, { channel: "fcm", platform: "fcm", token: fcm });
    await s.register("ios-voip-only", MobilePlatform.APNS, voip.replace("ab", "ef"));
    assert.equal((await s.registry.get("una", "ios-voip-only"))?.target.channel, "apns");
  });

  it("without a direct sender for the platform the token goes to the gateway, as before", async () => {
    const s = service(["apns", "gateway"]);
    await s.register("pixel", MobilePlatform.FCM, "any-gateway-token");
    assert.deepEqual((await s.registry.get("una", "pixel"))?.target, {
      channel: "gateway",
      platform: "fcm",
      token: "any-gateway-token",
    });
  });

  it("refuses tokens not in the platform's form, and platforms no channel delivers", async () => {
    const s = service(["apns", "fcm"]);
    assert.match(await refusal(s.register("d", MobilePlatform.APNS, "apns-tok")), /APNs device token: 64–200 hex/);
    assert.match(await refusal(s.register("d", MobilePlatform.APNS, voip.slice(1))), /^token must be an APNs/);
    assert.match(await refusal(s.register("d", MobilePlatform.APNS, voip, "zz")), /^alert_token must be an APNs/);
    assert.match(await refusal(s.register("d", MobilePlatform.FCM, "short")), /FCM registration token/);
    assert.match(await refusal(s.register("d", MobilePlatform.FCM, `${fcm} `)), /FCM registration token/);
    assert.match(
      await refusal(s.register("d", MobilePlatform.FCM, fcm, alert)),
      /alert_token is for APNs devices only/,
    );
    assert.match(await refusal(s.register("d", MobilePlatform.UNSPECIFIED, fcm)), /FCM or APNS/);
    assert.match(
      await refusal(service(["webpush"]).register("d", MobilePlatform.APNS, voip)),
      /apns push is not enabled/,
    );
    assert.deepEqual(await s.registry.list("una"), []);
  });
});
