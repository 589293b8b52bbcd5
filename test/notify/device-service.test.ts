/**
 * DeviceService over a real Connect server on 127.0.0.1 with the service's JWT
 * auth: register / list / unregister own devices, validation, limits, isolation.
 */

import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { Registry } from "prom-client";
import { DeviceService, MobilePlatform } from "../../gen/calldrop/v1/device_pb.js";
import { createManualClock } from "../../src/adapters/clock/manual-clock.ts";
import { createNodePushTargetChecks } from "../../src/adapters/crypto/node-push-target-checks.ts";
import { createMetrics } from "../../src/adapters/metrics/service-metrics.ts";
import { createSqlitePushRegistry } from "../../src/adapters/notify/sqlite-push-registry.ts";
import { createPushDevices } from "../../src/app/push-devices.ts";
import { type Authenticator, createAuthenticator, createAuthInterceptor } from "../../src/transport/auth.ts";
import { createDeviceService } from "../../src/transport/device-service.ts";
import { createRpcInterceptor } from "../../src/transport/rpc-interceptor.ts";

const clock = createManualClock(1_800_000_000_000);
const registry = createSqlitePushRegistry({ path: ":memory:" });
let server: Server;
let auth: Authenticator;
let baseUrl: string;

function clientFor(userId: string): Client<typeof DeviceService> {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    interceptors: [
      (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await auth.issueDevToken?.(userId, 60)}`);
        return next(req);
      },
    ],
  });
  return createClient(DeviceService, transport);
}

function subscription() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.net/wpush/v2/${randomBytes(8).toString("hex")}`,
    p256dh: ecdh.getPublicKey().toString("base64url"),
    auth: randomBytes(16).toString("base64url"),
  };
}

async function code(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

before(async () => {
  auth = await createAuthenticator(
    { hmacSecret: randomBytes(32).toString("hex"), issuer: "test", audience: "calldrop" },
    true,
  );
  const logger = pino({ level: "silent" });
  const devices = createPushDevices({
    registry,
    clock,
    checks: createNodePushTargetChecks(),
    channels: new Set(["webpush", "gateway"]),
    maxDevicesPerUser: 3,
  });
  const handler = connectNodeAdapter({
    routes: (router) => router.service(DeviceService, createDeviceService(devices)),
    interceptors: [
      createRpcInterceptor(createMetrics(new Registry(), { version: "test" }), logger),
      createAuthInterceptor(auth),
    ],
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await registry.close();
});

describe("DeviceService", () => {
  it("registers, lists and unregisters the caller's own devices", async () => {
    const alice = clientFor("alice");
    const sub = subscription();
    const res = await alice.registerDevice({ device: { deviceId: "web-1", target: { case: "webPush", value: sub } } });
    assert.equal(res.device?.deviceId, "web-1");
    assert.equal(res.device?.target.case, "webPush");
    assert.equal(res.device?.target.value?.auth, "", "the auth secret is write-only");
    clock.advance(1_000);
    await alice.registerDevice({
      device: {
        deviceId: "ios-1",
        target: { case: "mobile", value: { platform: MobilePlatform.APNS, token: "apns-tok" } },
      },
    });
    const list = await alice.listDevices({});
    assert.deepEqual(
      list.devices.map((d) => [d.deviceId, d.target.case]),
      [
        ["web-1", "webPush"],
        ["ios-1", "mobile"],
      ],
    );
    assert.equal(Number(list.devices[0]?.registeredAt?.seconds), 1_800_000_000);
    assert.deepEqual((await clientFor("bob").listDevices({})).devices, [], "bob sees none of alice's devices");
    assert.equal((await clientFor("bob").unregisterDevice({ deviceId: "web-1" })).removed, false);
    assert.equal((await alice.unregisterDevice({ deviceId: "web-1" })).removed, true);
    assert.deepEqual(
      (await alice.listDevices({})).devices.map((d) => d.deviceId),
      ["ios-1"],
    );
    assert.equal((await registry.get("alice", "ios-1"))?.target.channel, "gateway");
  });

  it("refuses malformed targets with InvalidArgument", async () => {
    const c = clientFor("carol");
    const good = subscription();
    const bad = [
      { deviceId: "d", target: { case: undefined } },
      { deviceId: "bad id!", target: { case: "webPush", value: good } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "http://push.example.net/x" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "https://127.0.0.1/x" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "https://[::1]:8443/x" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "https://10.1.2.3/x" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "https://localhost/x" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, endpoint: "not a url" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, p256dh: "AAAA" } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, p256dh: `BA${"A".repeat(85)}` } } },
      { deviceId: "d", target: { case: "webPush", value: { ...good, auth: "c2hvcnQ" } } },
      { deviceId: "d", target: { case: "mobile", value: { platform: MobilePlatform.UNSPECIFIED, token: "t" } } },
      { deviceId: "d", target: { case: "mobile", value: { platform: MobilePlatform.FCM, token: "" } } },
      { deviceId: "d", target: { case: "mobile", value: { platform: MobilePlatform.FCM, token: "x".repeat(5000) } } },
    ] as const;
    for (const device of bad) {
      assert.equal(
        await code(c.registerDevice({ device })),
        Code.InvalidArgument,
        JSON.stringify(device).slice(0, 120),
      );
    }
    assert.deepEqual((await c.listDevices({})).devices, []);
  });

  it("limits devices per user with ResourceExhausted; re-registering a device is not a new one", async () => {
    const c = clientFor("dave");
    for (const id of ["a", "b", "c"]) {
      await c.registerDevice({ device: { deviceId: id, target: { case: "webPush", value: subscription() } } });
    }
    await c.registerDevice({ device: { deviceId: "a", target: { case: "webPush", value: subscription() } } });
    const fourth = c.registerDevice({ device: { deviceId: "d", target: { case: "webPush", value: subscription() } } });
    assert.equal(await code(fourth), Code.ResourceExhausted);
  });

  it("requires a bearer token", async () => {
    const anonymous = createClient(DeviceService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    assert.equal(await code(anonymous.listDevices({})), Code.Unauthenticated);
  });
});
