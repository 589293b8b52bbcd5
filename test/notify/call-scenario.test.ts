/**
 * Notifications decided by real calls: the call service and session hub drive the
 * push notifier, which delivers to the local gateway and the local push service.
 * A live device rings in-app only; a missed call gives exactly one missed-call
 * notification per device; an answer elsewhere stops the pushed ring.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { RingEndReason } from "../../gen/calldrop/push/v1/push_pb.js";
import { createMemoryCallDirectory } from "../../src/adapters/directory/memory-call-directory.ts";
import { createMetrics } from "../../src/adapters/metrics/service-metrics.ts";
import { createSqliteBlockList } from "../../src/adapters/store/sqlite-block-list.ts";
import { createSqliteCallSettings } from "../../src/adapters/store/sqlite-call-settings.ts";
import { createSqliteCallStore } from "../../src/adapters/store/sqlite-call-store.ts";
import { createBlocking } from "../../src/app/blocking.ts";
import type { CallService } from "../../src/app/call-service.ts";
import { createCallSettings } from "../../src/app/call-settings.ts";
import type { SessionHub } from "../../src/app/session-hub.ts";
import { type ClusterStack, createClusterStack } from "../../src/cluster-stack.ts";
import { loadConfig } from "../../src/config.ts";
import { waitFor } from "../support/wait-for.ts";
import { createHarness, type Stack, testVapid, usePushPeers } from "./harness.ts";
import { hex, iphone, useMobilePeers } from "./mobile-peers.ts";

const h = createHarness();
const vapid = testVapid();
const peers = usePushPeers(h, vapid);
const mobile = useMobilePeers(h);

interface World {
  readonly stack: Stack;
  readonly hub: SessionHub;
  readonly calls: CallService;
  /** Opens a session and waits until it is announced. */
  open(userId: string, deviceId: string): Promise<void>;
  close(): Promise<void>;
}

const sink = { push() {}, close() {} };

async function world(): Promise<World> {
  const logger = pino({ level: "silent" });
  let node: ClusterStack | undefined;
  const stack = h.open({
    vapid,
    gatewayUrl: peers.gw.url,
    senders: mobile.senders(),
    isLive: (userId, deviceId) => node?.isLive(userId, deviceId) ?? false,
  });
  const store = createSqliteCallStore(":memory:");
  const config = loadConfig(
    {},
    {
      calls: {
        ringTimeoutMs: 30_000,
        setupTimeoutMs: 30_000,
        maxCandidatesPerCall: 100,
        maxSamplesPerCall: 10,
        relayMaxBitrateBps: 0,
      },
      sessions: { resumeGraceMs: 30_000, bufferSize: 64 },
    },
  );
  const registry = new Registry();
  node = await createClusterStack(config, {
    clock: h.clock,
    store,
    notifier: stack.notifier,
    blocking: createBlocking({ list: createSqliteBlockList(":memory:"), clock: h.clock, logger }),
    settings: createCallSettings({ store: createSqliteCallSettings(":memory:"), logger }),
    metrics: createMetrics(registry, { version: "test" }),
    logger,
    registry,
    directory: createMemoryCallDirectory(),
  });
  const { hub, calls } = node;
  return {
    stack,
    hub,
    calls,
    async open(userId, deviceId) {
      await node.sessions.announced(hub.open({ userId, deviceId }, sink).id);
    },
    async close() {
      await calls.flush();
      await node.close();
      await store.close();
      await stack.close();
    },
  };
}

/** Waits until the call has `count` outbox rows and none is pending (the calls' effects run in the background). */
async function settled(w: World, callId: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      await w.calls.flush();
      await w.stack.notifier.drain();
      const rows = await w.stack.outbox.listForCall(callId);
      return rows.length >= count && rows.every((r) => r.status !== "pending");
    },
    {
      what: `${count} settled outbox rows of ${callId}`,
      state: async () => (await w.stack.outbox.listForCall(callId)).map((r) => [r.key, r.status]),
    },
  );
}

describe("notifications from calls", () => {
  it("a missed call: push ring to the device without a session, then one missed-call notification per device", async () => {
    const w = await world();
    const sub = peers.push.subscribe();
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
    await w.open("alice", "a1");
    await w.open("bob", "laptop");

    const { callId } = await w.calls.start({ userId: "alice", deviceId: "a1" }, "bob", true);
    await settled(w, callId, 1);
    assert.deepEqual(
      peers.gw.delivered.filter((d) => d.body.token === "bob-phone").map((d) => d.body.kind),
      ["incoming_call"],
    );
    assert.equal(
      peers.push.received.filter((r) => r.subscriptionId === sub.id).length,
      0,
      "the live laptop rings in-app",
    );

    h.clock.advance(30_000); // ring timeout
    await settled(w, callId, 3);
    assert.deepEqual(
      peers.gw.delivered.filter((d) => d.body.token === "bob-phone").map((d) => d.body.kind),
      ["incoming_call", "missed_call"],
    );
    const web = peers.push.received.filter((r) => r.subscriptionId === sub.id);
    assert.deepEqual(
      web.map((r) => [r.payload.kind, r.payload.callId, r.payload.callerUserId]),
      [["missed_call", callId, "alice"]],
    );
    await w.close();
  });

  it("answered on one device: the pushed device gets stop-ringing with the ring's collapse key", async () => {
    const w = await world();
    await w.stack.registry.register({
      userId: "carl",
      deviceId: "tablet",
      target: { channel: "gateway", platform: "apns", token: "carl-tablet" },
      registeredAtMs: 1,
    });
    await w.open("alice", "a2");
    await w.open("carl", "desk");
    const { callId } = await w.calls.start({ userId: "alice", deviceId: "a2" }, "carl", false);
    await settled(w, callId, 1);
    await w.calls.apply(callId, { type: "accept", by: { userId: "carl", deviceId: "desk" } });
    await settled(w, callId, 2);
    const got = peers.gw.delivered.filter((d) => d.body.token === "carl-tablet");
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

  it("an iPhone rung by a VoIP push, answered on the desk: a background stop (never VoIP), and declined elsewhere says so", async () => {
    const w = await world();
    await w.stack.registry.register({ userId: "dina", deviceId: "iphone", target: iphone(21, 22), registeredAtMs: 1 });
    await w.open("alice", "a3");
    await w.open("dina", "desk");
    const answered = await w.calls.start({ userId: "alice", deviceId: "a3" }, "dina", true);
    await settled(w, answered.callId, 1);
    await w.calls.apply(answered.callId, { type: "accept", by: { userId: "dina", deviceId: "desk" } });
    await settled(w, answered.callId, 2);
    await w.calls.apply(answered.callId, { type: "hangup", by: { userId: "alice", deviceId: "a3" }, reason: "hangup" });
    const declined = await w.calls.start({ userId: "alice", deviceId: "a3" }, "dina", false);
    await settled(w, declined.callId, 1);
    await w.calls.apply(declined.callId, { type: "decline", by: { userId: "dina", deviceId: "desk" } });
    await settled(w, declined.callId, 2);
    assert.deepEqual(mobile.apns.refused, []);
    const pushes = (callId: string) =>
      mobile.apns.delivered
        .filter((d) => d.decoded.callId === callId)
        .map((d) => [
          d.token,
          d.headers["apns-push-type"],
          d.decoded.kind.case === "stopRinging" ? d.decoded.kind.value.reason : d.decoded.kind.case,
        ]);
    assert.deepEqual(pushes(answered.callId), [
      [hex(21), "voip", "incomingCall"],
      [hex(22), "background", RingEndReason.ANSWERED_ELSEWHERE],
    ]);
    assert.deepEqual(pushes(declined.callId), [
      [hex(21), "voip", "incomingCall"],
      [hex(22), "background", RingEndReason.DECLINED_ELSEWHERE],
    ]);
    await w.close();
  });
});
