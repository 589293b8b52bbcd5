/**
 * Web Push end to end against a local push service on 127.0.0.1 that checks the
 * VAPID JWT and decrypts the RFC 8291 payload with the subscription's private key.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { callTopic } from "../../src/app/push-notifier.ts";
import { encodePushNotification } from "../../src/codec/push-notification.ts";
import { createHarness, notificationCount, testVapid } from "./harness.ts";
import { type LocalPushService, startLocalPushService } from "./local-push-service.ts";

const vapid = testVapid();
const h = createHarness();
let push: LocalPushService;

before(async () => {
  push = await startLocalPushService(vapid.publicKey);
});
after(async () => {
  await push.close();
  h.dispose();
});

function web(sub: { endpoint: string; p256dh: string; auth: string }) {
  return { channel: "webpush", endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } as const;
}

describe("Web Push delivery", () => {
  it("pushes an incoming call to devices without a live session, encrypted and VAPID-signed", async () => {
    const s = h.open({ vapid, live: new Set(["bob/laptop"]) });
    const phone = push.subscribe();
    const laptop = push.subscribe();
    await s.registry.register({ userId: "bob", deviceId: "phone", target: web(phone), registeredAtMs: 1 });
    await s.registry.register({ userId: "bob", deviceId: "laptop", target: web(laptop), registeredAtMs: 2 });
    assert.equal(await s.notifier.hasPushTarget("bob"), true);
    assert.equal(await s.notifier.hasPushTarget("carol"), false);

    const ringDeadlineMs = h.clock.now() + 30_000;
    const incoming = {
      kind: "incoming_call",
      userId: "bob",
      callId: "call-1",
      callerUserId: "alice",
      video: true,
      ringDeadlineMs,
    } as const;
    await s.notifier.notify(incoming);
    assert.equal(await s.notifier.drain(), 1);

    assert.deepEqual(push.refused, []);
    assert.equal(push.received.length, 1, "the live laptop rings in-app, not by push");
    const got = push.received[0];
    assert.equal(got?.subscriptionId, phone.id);
    assert.deepEqual(got?.payload, {
      v: 1,
      proto: encodePushNotification(incoming),
      kind: "incoming_call",
      tag: "call-call-1",
      userId: "bob",
      callId: "call-1",
      callerUserId: "alice",
      video: true,
      ringDeadlineMs,
    });
    assert.equal(got?.urgency, "high");
    assert.equal(got?.topic, callTopic("call-1", nodeDigests));
    assert.ok(got && got.ttl > 0 && got.ttl <= 30, `short TTL, got ${got?.ttl}`);
    assert.equal(got?.jwt.aud, push.origin);
    assert.equal(got?.jwt.sub, vapid.subject);
    assert.equal((await s.outbox.listForCall("call-1"))[0]?.status, "sent");
    assert.equal(await notificationCount(s.metrics, "incoming_call", "webpush", "sent"), 1);

    // Answered elsewhere: the pushed phone gets stop-ringing under the same topic.
    const stopRinging = { kind: "stop_ringing", userId: "bob", callId: "call-1", outcome: "completed" } as const;
    await s.notifier.notify(stopRinging);
    await s.notifier.drain();
    assert.equal(push.received.length, 2);
    const stop = push.received[1];
    assert.equal(stop?.subscriptionId, phone.id);
    assert.deepEqual(stop?.payload, {
      v: 1,
      proto: encodePushNotification(stopRinging),
      kind: "stop_ringing",
      tag: "call-call-1",
      userId: "bob",
      callId: "call-1",
      outcome: "completed",
    });
    assert.equal(stop?.topic, got?.topic);
    assert.equal(stop?.urgency, "high");
    await s.close();
  });

  it("is refused by the push service when signed with another VAPID key, and does not retry", async () => {
    const s = h.open({ vapid: testVapid() });
    const sub = push.subscribe();
    await s.registry.register({ userId: "dave", deviceId: "d", target: web(sub), registeredAtMs: 1 });
    await s.notifier.notify({
      kind: "missed_call",
      userId: "dave",
      callId: "call-2",
      callerUserId: "alice",
      startedAtMs: 5,
    });
    await s.notifier.drain();
    h.clock.advance(600_000);
    await s.notifier.drain();
    assert.equal(push.attempts(sub.id), 1);
    assert.equal(push.received.filter((r) => r.subscriptionId === sub.id).length, 0);
    assert.match(push.refused.at(-1) ?? "", /application server key/);
    push.refused.length = 0;
    assert.equal((await s.outbox.listForCall("call-2"))[0]?.status, "failed");
    assert.equal(await notificationCount(s.metrics, "missed_call", "webpush", "failed"), 1);
    await s.close();
  });

  it("removes a subscription the push service reports gone (410 and 404)", async () => {
    const s = h.open({ vapid });
    const gone = push.subscribe();
    const missing = push.subscribe();
    await s.registry.register({ userId: "erin", deviceId: "a", target: web(gone), registeredAtMs: 1 });
    await s.registry.register({
      userId: "erin",
      deviceId: "b",
      target: web({ ...missing, endpoint: `${push.origin}/push/unknown-subscription` }),
      registeredAtMs: 2,
    });
    push.expire(gone.id);
    await s.notifier.notify({
      kind: "missed_call",
      userId: "erin",
      callId: "call-3",
      callerUserId: "alice",
      startedAtMs: 5,
    });
    await s.notifier.drain();
    assert.deepEqual(await s.registry.list("erin"), []);
    assert.equal(await s.notifier.hasPushTarget("erin"), false);
    assert.deepEqual(
      (await s.outbox.listForCall("call-3")).map((r) => r.status),
      ["failed", "failed"],
    );
    await s.close();
  });

  it("retries a 503 and a timeout with backoff, then delivers once", async () => {
    const s = h.open({ vapid, timeoutMs: 300 });
    const sub = push.subscribe();
    await s.registry.register({ userId: "fay", deviceId: "d", target: web(sub), registeredAtMs: 1 });
    push.failNext(sub.id, 503, "timeout");
    await s.notifier.notify({
      kind: "missed_call",
      userId: "fay",
      callId: "call-4",
      callerUserId: "alice",
      startedAtMs: 5,
    });
    await s.notifier.drain();
    const key = (await s.outbox.listForCall("call-4"))[0]?.key ?? "";
    const first = await s.outbox.get(key);
    assert.equal(first?.attempts, 1);
    assert.equal(first?.lastError, "HTTP 503");
    assert.equal(first?.nextAttemptAtMs, h.clock.now() + 1_000);
    h.clock.advance(1_000);
    await s.notifier.drain();
    const second = await s.outbox.get(key);
    assert.equal(second?.lastError, "timeout");
    assert.equal(second?.nextAttemptAtMs, h.clock.now() + 2_000, "backoff doubles");
    h.clock.advance(2_000);
    await s.notifier.drain();
    assert.equal((await s.outbox.get(key))?.status, "sent");
    assert.equal(push.attempts(sub.id), 3);
    assert.equal(push.received.filter((r) => r.subscriptionId === sub.id).length, 1);
    await s.close();
  });
});
