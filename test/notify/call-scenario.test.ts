/**
 * Notifications decided by real calls: the call service and session hub drive the
 * push notifier, which delivers to the local gateway and the local push service.
 * A live device rings in-app only; a missed call gives exactly one missed-call
 * notification per device; an answer elsewhere stops the pushed ring.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { createSqliteCallStore } from "../../src/adapters/store/sqlite-call-store.ts";
import { type CallService, createCallService } from "../../src/app/call-service.ts";
import { createMetrics } from "../../src/app/metrics.ts";
import { createSessionHub, type SessionHub } from "../../src/app/session-hub.ts";
import { createHarness, gatewaySecret, type Stack, testVapid } from "./harness.ts";
import { type LocalGateway, startLocalGateway } from "./local-gateway.ts";
import { type LocalPushService, startLocalPushService } from "./local-push-service.ts";

const h = createHarness();
const vapid = testVapid();
let gw: LocalGateway;
let push: LocalPushService;

before(async () => {
  gw = await startLocalGateway(gatewaySecret);
  push = await startLocalPushService(vapid.publicKey);
});
after(async () => {
  await gw.close();
  await push.close();
  h.dispose();
});

interface World {
  readonly stack: Stack;
  readonly hub: SessionHub;
  readonly calls: CallService;
  close(): Promise<void>;
}

function world(): World {
  const logger = pino({ level: "silent" });
  let hub: SessionHub | undefined;
  let calls: CallService | undefined;
  const stack = h.open({
    vapid,
    gatewayUrl: gw.url,
    isLive: (userId, deviceId) => hub?.liveDevices(userId).includes(deviceId) ?? false,
  });
  hub = createSessionHub({
    clock: h.clock,
    resumeGraceMs: 30_000,
    bufferSize: 64,
    onDeviceLost: (d) => calls?.deviceLost(d),
    onDeviceOnline: (d) => calls?.deviceOnline(d),
  });
  const store = createSqliteCallStore(":memory:");
  calls = createCallService({
    clock: h.clock,
    policy: { ringTimeoutMs: 30_000, setupTimeoutMs: 30_000, maxCandidatesPerCall: 100 },
    store,
    notifier: stack.notifier,
    hub,
    metrics: createMetrics(new Registry(), { version: "test" }),
    logger,
    lingerMs: 60_000,
    maxSamplesPerCall: 10,
  });
  return {
    stack,
    hub,
    calls,
    async close() {
      await calls?.flush();
      await store.close();
      await stack.close();
    },
  };
}

const sink = { push() {}, close() {} };

async function settled(w: World, callId: string, count: number): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    await w.calls.flush();
    await w.stack.notifier.drain();
    const rows = await w.stack.outbox.listForCall(callId);
    if (rows.length >= count && rows.every((r) => r.status !== "pending")) return;
    if (Date.now() > end)
      throw new Error(`outbox of ${callId} not settled: ${JSON.stringify(rows.map((r) => [r.key, r.status]))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("notifications from calls", () => {
  it("a missed call: push ring to the device without a session, then one missed-call notification per device", async () => {
    const w = world();
    const sub = push.subscribe();
    await w.stack.registry.register({
      userId: "bob",
      deviceId: "laptop",
      target: { channel: "webpush", endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth },
      registeredAtMs: 1,
    });
    await w.stack.registry.register({
      userId: "bob",
      deviceId: "phone",
      target: { channel: "gateway", platform: "fcm", token: "bob-phone" },
      registeredAtMs: 2,
    });
    w.hub.open({ userId: "alice", deviceId: "a1" }, sink);
    w.hub.open({ userId: "bob", deviceId: "laptop" }, sink);

    const { callId } = await w.calls.start({ userId: "alice", deviceId: "a1" }, "bob", true);
    await settled(w, callId, 1);
    assert.deepEqual(
      gw.delivered.filter((d) => d.body.token === "bob-phone").map((d) => d.body.kind),
      ["incoming_call"],
    );
    assert.equal(push.received.filter((r) => r.subscriptionId === sub.id).length, 0, "the live laptop rings in-app");

    h.clock.advance(30_000); // ring timeout
    await settled(w, callId, 3);
    assert.deepEqual(
      gw.delivered.filter((d) => d.body.token === "bob-phone").map((d) => d.body.kind),
      ["incoming_call", "missed_call"],
    );
    const web = push.received.filter((r) => r.subscriptionId === sub.id);
    assert.deepEqual(
      web.map((r) => [r.payload.kind, r.payload.callId, r.payload.callerUserId]),
      [["missed_call", callId, "alice"]],
    );
    await w.close();
  });

  it("answered on one device: the pushed device gets stop-ringing with the ring's collapse key", async () => {
    const w = world();
    await w.stack.registry.register({
      userId: "carl",
      deviceId: "tablet",
      target: { channel: "gateway", platform: "apns", token: "carl-tablet" },
      registeredAtMs: 1,
    });
    w.hub.open({ userId: "alice", deviceId: "a2" }, sink);
    w.hub.open({ userId: "carl", deviceId: "desk" }, sink);
    const { callId } = await w.calls.start({ userId: "alice", deviceId: "a2" }, "carl", false);
    await settled(w, callId, 1);
    w.calls.apply(callId, { type: "accept", by: { userId: "carl", deviceId: "desk" } });
    await settled(w, callId, 2);
    const got = gw.delivered.filter((d) => d.body.token === "carl-tablet");
    assert.deepEqual(
      got.map((d) => [d.body.kind, d.body.payload.callId]),
      [
        ["incoming_call", callId],
        ["stop_ringing", callId],
      ],
    );
    assert.equal(got[0]?.body.collapseKey, got[1]?.body.collapseKey);
    assert.equal(got[1]?.body.payload.outcome, "completed");
    await w.close();
  });
});
