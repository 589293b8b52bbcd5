/**
 * The push notifier's decisions, with recording senders in process (the wire is
 * covered by web-push.test.ts and gateway.test.ts): who is pushed what, expiry at
 * enqueue, devices gone between enqueue and send, disabled channels, metrics.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { createManualClock } from "../../src/adapters/clock/manual-clock.ts";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { createNotificationMetrics } from "../../src/adapters/metrics/notification-metrics.ts";
import { createLogNotifier } from "../../src/adapters/notify/log-notifier.ts";
import { createSqliteNotificationOutbox } from "../../src/adapters/notify/sqlite-notification-outbox.ts";
import { createSqlitePushRegistry } from "../../src/adapters/notify/sqlite-push-registry.ts";
import type { PushSenders } from "../../src/app/notification-dispatcher.ts";
import type { GatewayTarget } from "../../src/app/ports/push-registry.ts";
import type { PushMessage, PushSender } from "../../src/app/ports/push-sender.ts";
import { createPushNotifier } from "../../src/app/push-notifier.ts";
import { pushProto } from "../../src/codec/push-notification.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { notificationCount } from "./harness.ts";

function recorder(): PushSender<GatewayTarget> & { sent: PushMessage<GatewayTarget>[] } {
  const sent: PushMessage<GatewayTarget>[] = [];
  return {
    sent,
    async send(m) {
      sent.push(m);
      return { result: "sent" };
    },
  };
}

function setup(senders: (gw: ReturnType<typeof recorder>) => PushSenders = (gw) => ({ gateway: gw })) {
  const clock = createManualClock(1_000_000);
  const registry = createSqlitePushRegistry({ path: ":memory:" });
  const outbox = createSqliteNotificationOutbox({ path: ":memory:" });
  const metrics = new Registry();
  const gw = recorder();
  const notifier = createPushNotifier({
    registry,
    outbox,
    senders: senders(gw),
    isLive: () => false,
    clock,
    digests: nodeDigests,
    proto: pushProto,
    metrics: createNotificationMetrics(metrics),
    logger: pino({ level: "silent" }),
  });
  const phone = (userId: string, deviceId: string) =>
    registry.register({
      userId,
      deviceId,
      target: { channel: "gateway", platform: "fcm", token: `${userId}-${deviceId}` },
      registeredAtMs: 1,
    });
  return { clock, registry, outbox, metrics, gw, notifier, phone };
}

describe("push notifier", () => {
  it("initialises every kind × channel × result series at 0", async () => {
    const { metrics } = setup();
    const values = (await metrics.getSingleMetric("calldrop_notifications_total")?.get())?.values ?? [];
    assert.equal(values.length, 45); // 3 kinds × 5 channels (webpush, gateway, apns, fcm, log) × 3 results
    assert.ok(values.every((v) => v.value === 0));
    createNotificationMetrics(metrics); // a second user of the same registry reuses the metrics
  });

  it("drops a ring whose deadline passed before it could be sent, without sending", async () => {
    const s = setup();
    await s.phone("bob", "p");
    await s.notifier.notify({
      kind: "incoming_call",
      userId: "bob",
      callId: "c1",
      callerUserId: "a",
      video: true,
      ringDeadlineMs: s.clock.now() + 500,
    });
    s.clock.advance(500);
    await s.notifier.drain();
    assert.equal(s.gw.sent.length, 0);
    assert.equal((await s.outbox.listForCall("c1"))[0]?.status, "dropped");
    assert.equal(await notificationCount(s.metrics, "incoming_call", "gateway", "dropped"), 1);
  });

  it("sends the remaining ring time as TTL and high urgency; missed calls are normal urgency", async () => {
    const s = setup();
    await s.phone("bob", "p");
    await s.notifier.notify({
      kind: "incoming_call",
      userId: "bob",
      callId: "c2",
      callerUserId: "a",
      video: true,
      ringDeadlineMs: s.clock.now() + 30_000,
    });
    s.clock.advance(12_500);
    await s.notifier.drain();
    await s.notifier.notify({ kind: "missed_call", userId: "bob", callId: "c2", callerUserId: "a", startedAtMs: 1 });
    await s.notifier.drain();
    assert.deepEqual(
      s.gw.sent.map((m) => [m.kind, m.ttlSeconds, m.urgency, m.key]),
      [
        ["incoming_call", 18, "high", "c2:incoming_call:bob:p"],
        ["missed_call", 86_400, "normal", "c2:missed_call:bob:p"],
      ],
    );
  });

  it("drops notifications for a device unregistered after enqueue", async () => {
    const s = setup();
    await s.phone("bob", "p");
    await s.notifier.notify({ kind: "missed_call", userId: "bob", callId: "c3", callerUserId: "a", startedAtMs: 1 });
    await s.registry.unregister("bob", "p");
    await s.notifier.drain();
    assert.equal(s.gw.sent.length, 0);
    assert.equal((await s.outbox.listForCall("c3"))[0]?.lastError, "device unregistered");
  });

  it("sends no stop-ringing to devices that were never pushed the ring", async () => {
    const s = setup();
    await s.phone("bob", "p");
    await s.notifier.notify({ kind: "stop_ringing", userId: "bob", callId: "c4", outcome: "cancelled" });
    await s.notifier.drain();
    assert.deepEqual(s.gw.sent, []);
  });

  it("ignores registrations of a disabled channel: no push target", async () => {
    const s = setup(() => ({}));
    await s.phone("bob", "p");
    assert.equal(await s.notifier.hasPushTarget("bob"), false);
    await s.notifier.notify({ kind: "missed_call", userId: "bob", callId: "c5", callerUserId: "a", startedAtMs: 1 });
    assert.deepEqual(await s.outbox.listForCall("c5"), []);
  });

  it("a registry that cannot be read (Cassandra down) means no push target, not a failed call start", async () => {
    const { registry, outbox, metrics } = setup();
    const failing = (err: Error) =>
      createPushNotifier({
        registry: { ...registry, list: () => Promise.reject(err) },
        outbox,
        senders: { gateway: recorder() },
        isLive: () => false,
        digests: nodeDigests,
        proto: pushProto,
        clock: createManualClock(1),
        metrics: createNotificationMetrics(metrics),
        logger: pino({ level: "silent" }),
      });
    const down = new DomainError("unavailable", "push registry unavailable");
    assert.equal(await failing(down).hasPushTarget("bob"), false);
    // Anything else is a bug and stays visible.
    await assert.rejects(failing(new Error("bad CQL")).hasPushTarget("bob"), /bad CQL/);
  });

  it("the logging notifier counts its notifications on channel log", async () => {
    const metrics = new Registry();
    const log = createLogNotifier(pino({ level: "silent" }), 10, createNotificationMetrics(metrics));
    assert.equal(await log.hasPushTarget("bob"), false);
    await log.notify({ kind: "missed_call", userId: "bob", callId: "c6", callerUserId: "a", startedAtMs: 1 });
    assert.equal(await notificationCount(metrics, "missed_call", "log", "sent"), 1);
  });
});
