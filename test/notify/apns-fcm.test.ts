/**
 * The direct mobile senders against local protocol peers (docs/spec.md §8 "Mobile push
 * contract"), through the durable outbox like every push: an HTTP/2 + TLS APNs peer that
 * verifies the ES256 provider token and the headers, and an FCM HTTP v1 peer that serves
 * the service account's token endpoint and messages:send. Time is the harness's manual clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { RingEndReason } from "../../gen/calldrop/push/v1/push_pb.js";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { callTopic } from "../../src/app/push-notifier.ts";
import { createHarness, notificationCount } from "./harness.ts";
import { android, bundleId, hex, iphone, useMobilePeers } from "./mobile-peers.ts";

const h = createHarness();
const peers = useMobilePeers(h);

/** A stack whose only channels are fresh APNs and FCM senders (fresh token caches). */
const open = () => h.open({ senders: peers.senders() });
const ring = (userId: string, callId: string, inMs = 30_000) =>
  ({
    kind: "incoming_call",
    userId,
    callId,
    callerUserId: "alice",
    video: true,
    ringDeadlineMs: h.clock.now() + inMs,
  }) as const;

describe("APNs", () => {
  it("rings with a VoIP push: voip type and topic, priority 10, expiring at the ring deadline, collapsed per call", async () => {
    const s = open();
    await s.registry.register({ userId: "bob", deviceId: "ios", target: iphone(1, 2), registeredAtMs: 1 });
    const n = ring("bob", "a-1", 27_000);
    await s.notifier.notify(n);
    await s.notifier.drain();
    assert.deepEqual(peers.apns.refused, []);
    const [d] = peers.apns.delivered.filter((x) => x.decoded.callId === "a-1");
    assert.ok(d);
    assert.equal(d.token, hex(1), "the PushKit token");
    assert.equal(d.headers["apns-push-type"], "voip");
    assert.equal(d.headers["apns-topic"], `${bundleId}.voip`);
    assert.equal(d.headers["apns-priority"], "10");
    assert.equal(Number(d.headers["apns-expiration"]), Math.floor(h.clock.now() / 1000) + 27);
    assert.equal(d.headers["apns-collapse-id"], callTopic("a-1", nodeDigests));
    assert.equal(d.decoded.userId, "bob");
    assert.equal(d.decoded.kind.case, "incomingCall");
    if (d.decoded.kind.case !== "incomingCall") return;
    assert.equal(d.decoded.kind.value.callerUserId, "alice");
    assert.equal(d.decoded.kind.value.video, true);
    const deadline = d.decoded.kind.value.ringDeadline;
    assert.equal(deadline && timestampDate(deadline).getTime(), n.ringDeadlineMs);
    assert.equal(await notificationCount(s.metrics, "incoming_call", "apns", "sent"), 1);
    await s.close();
  });

  it("answered elsewhere: the stop goes as a background push to the regular token, never as VoIP", async () => {
    const s = open();
    await s.registry.register({ userId: "cy", deviceId: "ios", target: iphone(3, 4), registeredAtMs: 1 });
    await s.registry.register({ userId: "cy", deviceId: "ios-voip-only", target: iphone(5), registeredAtMs: 2 });
    await s.notifier.notify(ring("cy", "a-2"));
    await s.notifier.drain();
    await s.notifier.notify({ kind: "stop_ringing", userId: "cy", callId: "a-2", outcome: "completed" });
    await s.notifier.drain();
    assert.deepEqual(peers.apns.refused, []);
    const got = peers.apns.delivered.filter((x) => x.decoded.callId === "a-2");
    assert.deepEqual(
      got.map((x) => [x.token, x.headers["apns-push-type"]]),
      [
        [hex(3), "voip"],
        [hex(5), "voip"],
        [hex(4), "background"],
      ],
      "both ring; only the device with a regular token is pushed the stop",
    );
    const stop = got[2];
    assert.equal(stop?.headers["apns-topic"], bundleId);
    assert.equal(stop?.headers["apns-priority"], "5");
    assert.equal(stop?.headers["apns-collapse-id"], got[0]?.headers["apns-collapse-id"]);
    assert.deepEqual(stop?.body.aps, { "content-available": 1 });
    assert.equal(
      stop?.decoded.kind.case === "stopRinging" && stop.decoded.kind.value.reason,
      RingEndReason.ANSWERED_ELSEWHERE,
    );
    const rows = await s.outbox.listForCall("a-2");
    assert.deepEqual(
      rows.filter((r) => r.kind === "stop_ringing").map((r) => r.deviceId),
      ["ios"],
    );
    await s.close();
  });

  it("a missed call is an alert the app localizes, to the regular token", async () => {
    const s = open();
    await s.registry.register({ userId: "di", deviceId: "ios", target: iphone(6, 7), registeredAtMs: 1 });
    await s.notifier.notify({
      kind: "missed_call",
      userId: "di",
      callId: "a-3",
      callerUserId: "alice",
      startedAtMs: 5,
    });
    await s.notifier.drain();
    const [d] = peers.apns.delivered.filter((x) => x.decoded.callId === "a-3");
    assert.equal(d?.token, hex(7));
    assert.equal(d?.headers["apns-push-type"], "alert");
    assert.deepEqual(d?.body.aps?.alert, { "loc-key": "CALLDROP_MISSED_CALL", "loc-args": ["alice"] });
    assert.equal(d?.decoded.kind.case, "missedCall");
    await s.close();
  });

  it("410 Unregistered and 400 BadDeviceToken remove the device; a 500 is retried from the outbox and delivered once", async () => {
    const s = open();
    await s.registry.register({ userId: "ed", deviceId: "gone", target: iphone(8), registeredAtMs: 1 });
    await s.registry.register({ userId: "ed", deviceId: "bad", target: iphone(9), registeredAtMs: 2 });
    await s.registry.register({ userId: "ed", deviceId: "flaky", target: iphone(10), registeredAtMs: 3 });
    peers.apns.failNext(hex(8), { status: 410, reason: "Unregistered" });
    peers.apns.failNext(hex(9), { status: 400, reason: "BadDeviceToken" });
    peers.apns.failNext(
      hex(10),
      { status: 500, reason: "InternalServerError" },
      { status: 429, reason: "TooManyRequests" },
    );
    await s.notifier.notify(ring("ed", "a-4"));
    await s.notifier.drain();
    assert.equal(await s.registry.get("ed", "gone"), undefined);
    assert.equal(await s.registry.get("ed", "bad"), undefined);
    assert.ok(await s.registry.get("ed", "flaky"));
    const flaky = async () => (await s.outbox.listForCall("a-4")).find((r) => r.deviceId === "flaky");
    assert.equal((await flaky())?.status, "pending");
    assert.match((await flaky())?.lastError ?? "", /APNs 500 InternalServerError/);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5_000);
      await s.notifier.drain();
    }
    assert.equal((await flaky())?.status, "sent");
    assert.equal((await flaky())?.attempts, 3);
    assert.equal(peers.apns.delivered.filter((x) => x.decoded.callId === "a-4").length, 1, "delivered once");
    assert.equal(await notificationCount(s.metrics, "incoming_call", "apns", "failed"), 2);
    await s.close();
  });

  it("reuses one provider token for 40 minutes, then signs a new one; an expired one is renewed", async () => {
    const s = open();
    await s.registry.register({ userId: "fa", deviceId: "ios", target: iphone(11), registeredAtMs: 1 });
    const before = peers.apns.providerTokens.size;
    for (const id of ["t-1", "t-2", "t-3"]) {
      await s.notifier.notify(ring("fa", id));
      await s.notifier.drain();
    }
    assert.equal(peers.apns.providerTokens.size, before + 1, "one token for three pushes");
    h.clock.advance(41 * 60_000);
    await s.notifier.notify(ring("fa", "t-4"));
    await s.notifier.drain();
    assert.equal(peers.apns.providerTokens.size, before + 2, "a new token after 40 minutes");
    // 21 minutes later APNs calls it expired: renewed at once (Apple allows it after 20).
    h.clock.advance(21 * 60_000);
    peers.apns.failNext(hex(11), { status: 403, reason: "ExpiredProviderToken" });
    await s.notifier.notify(ring("fa", "t-5"));
    await s.notifier.drain();
    h.clock.advance(5_000);
    await s.notifier.drain();
    assert.equal(peers.apns.providerTokens.size, before + 3, "renewed after ExpiredProviderToken");
    assert.equal(peers.apns.delivered.filter((x) => x.decoded.callId.startsWith("t-")).length, 5);
    await s.close();
  });
});

describe("FCM HTTP v1", () => {
  it("rings with a HIGH data message: ttl = seconds to the ring deadline, collapse key per call; one token request for several pushes", async () => {
    const s = open();
    await s.registry.register({ userId: "gus", deviceId: "pixel", target: android("gus"), registeredAtMs: 1 });
    const tokensBefore = peers.fcm.tokenRequests();
    await s.notifier.notify(ring("gus", "f-1", 25_000));
    await s.notifier.drain();
    await s.notifier.notify({ kind: "stop_ringing", userId: "gus", callId: "f-1", outcome: "cancelled" });
    await s.notifier.notify({
      kind: "missed_call",
      userId: "gus",
      callId: "f-2",
      callerUserId: "alice",
      startedAtMs: 1,
    });
    await s.notifier.drain();
    assert.deepEqual(peers.fcm.refused, []);
    const got = peers.fcm.delivered.filter((d) => d.token === android("gus").token);
    assert.deepEqual(
      got.map((d) => [d.decoded.kind.case, d.android.priority, d.android.ttl]),
      [
        ["incomingCall", "HIGH", "25s"],
        ["stopRinging", "HIGH", "60s"],
        ["missedCall", "NORMAL", "86400s"],
      ],
    );
    assert.equal(got[0]?.android.collapse_key, callTopic("f-1", nodeDigests));
    assert.equal(got[1]?.android.collapse_key, got[0]?.android.collapse_key);
    assert.equal(
      got[1]?.decoded.kind.case === "stopRinging" && got[1].decoded.kind.value.reason,
      RingEndReason.CALLER_CANCELLED,
    );
    assert.equal(peers.fcm.tokenRequests() - tokensBefore, 1, "the access token is cached");
    await s.close();
  });

  it("UNREGISTERED (404) removes the device; a 500 is retried and delivered once; a revoked token is renewed", async () => {
    const s = open();
    await s.registry.register({ userId: "hal", deviceId: "old", target: android("hal-old"), registeredAtMs: 1 });
    await s.registry.register({ userId: "hal", deviceId: "new", target: android("hal-new"), registeredAtMs: 2 });
    peers.fcm.failNext(android("hal-old").token, { status: 404, errorCode: "UNREGISTERED" });
    peers.fcm.failNext(android("hal-new").token, { status: 500 });
    await s.notifier.notify(ring("hal", "f-3"));
    await s.notifier.drain();
    assert.equal(await s.registry.get("hal", "old"), undefined);
    const row = async () => (await s.outbox.listForCall("f-3")).find((r) => r.deviceId === "new");
    assert.equal((await row())?.status, "pending");
    peers.fcm.revokeTokens();
    const tokens = peers.fcm.tokenRequests();
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5_000);
      await s.notifier.drain();
    }
    assert.equal((await row())?.status, "sent");
    assert.equal(peers.fcm.tokenRequests(), tokens + 1, "one new token after the 401");
    assert.equal(peers.fcm.delivered.filter((d) => d.decoded.callId === "f-3").length, 1, "delivered once");
    await s.close();
  });
});
