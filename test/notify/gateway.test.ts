/**
 * The mobile push gateway webhook end to end against a local gateway on 127.0.0.1
 * that verifies the HMAC signature and fails on demand: retries with backoff,
 * no retry on 4xx, removal on 410, dedupe, restart from the outbox, expired rings.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSystemClock } from "../../src/adapters/clock/system-clock.ts";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { callTopic } from "../../src/app/push-notifier.ts";
import { encodePushNotification } from "../../src/codec/push-notification.ts";
import { waitFor } from "../support/wait-for.ts";
import { createHarness, notificationCount, testVapid, usePushPeers } from "./harness.ts";

const h = createHarness();
const vapid = testVapid();
const peers = usePushPeers(h, vapid);

const phone = (token: string, platform: "fcm" | "apns" = "fcm") => ({ channel: "gateway", platform, token }) as const;
const ring = (userId: string, callId: string, inMs = 30_000) =>
  ({
    kind: "incoming_call",
    userId,
    callId,
    callerUserId: "alice",
    video: false,
    ringDeadlineMs: h.clock.now() + inMs,
  }) as const;
const missed = (userId: string, callId: string) =>
  ({ kind: "missed_call", userId, callId, callerUserId: "alice", startedAtMs: 1_000 }) as const;
const deliveredTo = (token: string) => peers.gw.delivered.filter((d) => d.body.token === token);

describe("mobile push gateway", () => {
  it("posts a signed JSON request with an idempotency key per device notification", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url });
    await s.registry.register({ userId: "bob", deviceId: "ios", target: phone("tok-ios", "apns"), registeredAtMs: 1 });
    const n = ring("bob", "g-1");
    await s.notifier.notify(n);
    await s.notifier.drain();
    assert.deepEqual(peers.gw.refused, []);
    const [d] = deliveredTo("tok-ios");
    assert.ok(d);
    assert.equal(d.idempotencyKey, "g-1:incoming_call:bob:ios");
    assert.deepEqual(
      { ...d.body, ttlSeconds: undefined },
      {
        id: "g-1:incoming_call:bob:ios",
        platform: "apns",
        token: "tok-ios",
        kind: "incoming_call",
        priority: "high",
        collapseKey: callTopic("g-1", nodeDigests),
        ttlSeconds: undefined,
        payload: {
          v: 1,
          proto: encodePushNotification(n),
          kind: "incoming_call",
          tag: "call-g-1",
          userId: "bob",
          callId: "g-1",
          callerUserId: "alice",
          video: false,
          ringDeadlineMs: n.ringDeadlineMs,
        },
      },
    );
    assert.equal(d.body.ttlSeconds, 30);
    await s.close();
  });

  it("retries 5xx, 429 and timeouts with exponential backoff; never retries a 4xx", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url, timeoutMs: 300 });
    await s.registry.register({ userId: "cat", deviceId: "a", target: phone("tok-retry"), registeredAtMs: 1 });
    await s.registry.register({ userId: "cat", deviceId: "b", target: phone("tok-400"), registeredAtMs: 2 });
    peers.gw.failNext("tok-retry", 500, 429, "timeout", 503);
    peers.gw.failNext("tok-400", 400);
    await s.notifier.notify(missed("cat", "g-2"));
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await s.notifier.drain();
      const row = (await s.outbox.listForCall("g-2")).find((r) => r.deviceId === "a");
      if (row?.status !== "pending") break;
      delays.push(row.nextAttemptAtMs - h.clock.now());
      h.clock.advance(row.nextAttemptAtMs - h.clock.now());
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000]);
    assert.equal(peers.gw.attempts("tok-retry"), 5);
    assert.equal(deliveredTo("tok-retry").length, 1);
    assert.equal(peers.gw.attempts("tok-400"), 1, "a 4xx is not retried");
    const rows = await s.outbox.listForCall("g-2");
    assert.deepEqual(
      rows.map((r) => [r.deviceId, r.status, r.attempts]),
      [
        ["a", "sent", 5],
        ["b", "failed", 1],
      ],
    );
    assert.ok(await s.registry.get("cat", "b"), "a plain 4xx keeps the registration");
    await s.close();
  });

  it("unregisters a token the gateway reports gone (410)", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url });
    await s.registry.register({ userId: "dan", deviceId: "old", target: phone("tok-gone"), registeredAtMs: 1 });
    peers.gw.failNext("tok-gone", 410);
    await s.notifier.notify(missed("dan", "g-3"));
    await s.notifier.drain();
    assert.equal(await s.registry.get("dan", "old"), undefined);
    assert.equal(await s.notifier.hasPushTarget("dan"), false);
    assert.equal(await notificationCount(s.metrics, "missed_call", "gateway", "failed"), 1);
    await s.close();
  });

  it("sends exactly one missed-call notification per device, however often it is decided", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url, vapid });
    const sub = peers.push.subscribe();
    await s.registry.register({ userId: "eve", deviceId: "android", target: phone("tok-eve"), registeredAtMs: 1 });
    await s.registry.register({
      userId: "eve",
      deviceId: "web",
      target: { channel: "webpush", endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth },
      registeredAtMs: 2,
    });
    peers.gw.failNext("tok-eve", 503);
    await Promise.all([s.notifier.notify(missed("eve", "g-4")), s.notifier.notify(missed("eve", "g-4"))]);
    await s.notifier.drain();
    await s.notifier.notify(missed("eve", "g-4")); // e.g. a takeover node deciding it again
    h.clock.advance(60_000);
    await s.notifier.drain();
    // A second server on the same outbox decides it too.
    const other = h.open({ gatewayUrl: peers.gw.url, vapid });
    await other.notifier.notify(missed("eve", "g-4"));
    await other.notifier.drain();
    assert.equal(deliveredTo("tok-eve").length, 1);
    assert.equal(peers.push.received.filter((r) => r.subscriptionId === sub.id).length, 1);
    assert.equal(peers.push.received.find((r) => r.subscriptionId === sub.id)?.payload.kind, "missed_call");
    assert.equal(await notificationCount(s.metrics, "missed_call", "gateway", "sent"), 1);
    assert.equal(await notificationCount(s.metrics, "missed_call", "webpush", "sent"), 1);
    await other.close();
    await s.close();
  });

  it("drops an expired ring instead of delivering it late, and supersedes a pending ring", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url });
    await s.registry.register({ userId: "fox", deviceId: "p", target: phone("tok-late"), registeredAtMs: 1 });
    peers.gw.setOutage(503);
    await s.notifier.notify(ring("fox", "g-5", 2_500));
    await s.notifier.drain(); // attempt 1 fails, retry due in 1 s
    h.clock.advance(1_000);
    await s.notifier.drain(); // attempt 2 fails; the next one (in 2 s) would be past the deadline
    peers.gw.setOutage(undefined);
    h.clock.advance(5_000);
    await s.notifier.drain();
    assert.equal(deliveredTo("tok-late").length, 0);
    assert.equal(peers.gw.attempts("tok-late"), 2);
    const [row] = await s.outbox.listForCall("g-5");
    assert.equal(row?.status, "dropped");
    assert.match(row?.lastError ?? "", /expired while retrying: HTTP 503/);
    assert.equal(await notificationCount(s.metrics, "incoming_call", "gateway", "dropped"), 1);

    // A ring still pending when the call is answered elsewhere is dropped; the stop goes out.
    peers.gw.setOutage(503);
    await s.notifier.notify(ring("fox", "g-6"));
    await s.notifier.drain();
    peers.gw.setOutage(undefined);
    await s.notifier.notify({ kind: "stop_ringing", userId: "fox", callId: "g-6", outcome: "completed" });
    h.clock.advance(1_000);
    await s.notifier.drain();
    assert.deepEqual(
      deliveredTo("tok-late").map((d) => d.body.kind),
      ["stop_ringing"],
    );
    assert.deepEqual(
      (await s.outbox.listForCall("g-6")).map((r) => [r.kind, r.status]),
      [
        ["incoming_call", "dropped"],
        ["stop_ringing", "sent"],
      ],
    );
    await s.close();
  });

  it("resumes pending notifications after a restart, from the same sqlite file", async () => {
    const first = h.open({ gatewayUrl: peers.gw.url });
    await first.registry.register({ userId: "gus", deviceId: "p", target: phone("tok-restart"), registeredAtMs: 1 });
    await first.registry.register({ userId: "gus", deviceId: "q", target: phone("tok-crash"), registeredAtMs: 2 });
    peers.gw.setOutage(503);
    await first.notifier.notify(missed("gus", "g-7"));
    await first.notifier.drain();
    // Simulate a crash mid-send for q: claimed (leased) but never settled.
    await first.notifier.close();
    await first.outbox.reschedule("g-7:missed_call:gus:q", h.clock.now(), "HTTP 503");
    assert.equal((await first.outbox.claimDue(h.clock.now(), 10, 60_000)).length, 1);
    await first.close();
    peers.gw.setOutage(undefined);

    const second = h.open({ gatewayUrl: peers.gw.url, dispatch: { leaseMs: 60_000 } });
    h.clock.advance(1_000);
    await second.notifier.drain();
    assert.equal(deliveredTo("tok-restart").length, 1, "pending row resumed");
    assert.equal(deliveredTo("tok-crash").length, 0, "a leased row waits for its lease");
    h.clock.advance(60_000);
    await second.notifier.drain();
    assert.equal(deliveredTo("tok-crash").length, 1, "delivered after the crashed claim's lease ended");
    assert.equal(deliveredTo("tok-restart").length, 1);
    await second.close();
  });

  it("delivers on its own once started: kicks on enqueue and retries on real timers", async () => {
    const s = h.open({ gatewayUrl: peers.gw.url, clock: createSystemClock(), dispatch: { initialBackoffMs: 50 } });
    await s.registry.register({ userId: "hal", deviceId: "p", target: phone("tok-loop"), registeredAtMs: 1 });
    peers.gw.failNext("tok-loop", 502, 503);
    s.notifier.start();
    await s.notifier.notify(missed("hal", "g-8"));
    // The gateway records the delivery before its reply reaches the sender: wait for the row, not the delivery.
    const row = await waitFor(
      async () => {
        const r = await s.outbox.get("g-8:missed_call:hal:p");
        return r?.status === "sent" && r;
      },
      { what: "the outbox row marked sent", state: () => s.outbox.get("g-8:missed_call:hal:p") },
    );
    assert.equal(row.attempts, 3);
    assert.equal(peers.gw.attempts("tok-loop"), 3);
    assert.equal(deliveredTo("tok-loop").length, 1);
    await s.close();
  });
});
