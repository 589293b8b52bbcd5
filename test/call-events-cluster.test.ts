/**
 * Call events on a 3-node cluster (docs/spec.md §9 "Call events"): the events come from the
 * durable log, not from a node's memory. A consumer streaming from the node that runs a call is
 * cut off when that node is killed (SIGKILL), resumes from its cursor on another node, and still
 * gets exactly one `ended` event: the survivor's takeover rings the call out (§3) and that
 * outcome is logged once, nothing is replayed twice.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { CallEvent } from "../gen/calldrop/internal/v1/events_pb.js";
import { CallOutcome } from "../gen/calldrop/v1/call_pb.js";
import { type Topology, threeNodes } from "./scenarios/topology.ts";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { subscribeEvents } from "./support/event-consumer.ts";

let topo: Topology;
before(async () => {
  topo = await threeNodes({
    CALLDROP_EVENTS__CONSUMER_GROUPS: JSON.stringify(["chat"]),
    CALLDROP_EVENTS__POLL_INTERVAL_MS: "50",
    CALLDROP_EVENTS__HEARTBEAT_INTERVAL_MS: "200",
  });
});
after(() => topo?.close());

const ofCall = (events: readonly CallEvent[], callId: string) =>
  events.filter((e) => e.callId === callId).map((e) => e.kind.case);

test("the node running a ringing call and serving the consumer dies: resumed elsewhere, exactly one ended", async () => {
  const node0 = topo.node(0);
  const token = await node0.serviceToken("chat-backend", "calls.events:read");
  const first = await subscribeEvents(createGrpcTransport({ baseUrl: node0.baseUrl }), token, { group: "chat" });
  const alice = await mobileDevice({
    baseUrl: node0.baseUrl,
    token: await node0.token("alice"),
    userId: "alice",
    deviceId: "phone",
  });
  const node1 = topo.node(1);
  const bob = await mobileDevice({
    baseUrl: node1.baseUrl,
    token: await node1.token("bob"),
    userId: "bob",
    deviceId: "p",
  });
  try {
    const { callId } = await alice.command("startCall", { calleeUserId: "bob" }); // run by node 0
    await bob.next("incomingCall", (v) => v.callId === callId);
    await first.event((e) => e.callId === callId && e.kind.case === "started", "the started event");
    const cursor = first.cursor();
    await topo.kill(0);
    assert.ok((await first.ended()) !== undefined, "the stream from the dead node failed");

    const node2 = topo.node(2);
    const resumed = await subscribeEvents(createGrpcTransport({ baseUrl: node2.baseUrl }), token, {
      group: "chat",
      cursor,
    });
    try {
      // The ring times out with nobody running the call: a survivor takes it over and rings it out.
      const ended = await resumed.event(
        (e) => e.callId === callId && e.kind.case === "ended",
        "the ended event from the takeover",
        20_000,
      );
      assert.equal(ended.kind.case === "ended" && ended.kind.value.outcome, CallOutcome.MISSED);
      await bob.next("callEnded", (v) => v.callId === callId);
      // A heartbeat after it: every partition was read past the end, so a second `ended` would be here.
      await resumed.heartbeatAfter(resumed.received());
      assert.deepEqual(ofCall(first.events, callId), ["started"]);
      assert.deepEqual(ofCall(resumed.events, callId), ["ended"], "the rest, once");
    } finally {
      resumed.kill();
    }
  } finally {
    alice.drop();
    bob.drop();
  }
});

test("the node running an answered call dies mid-call: the hang-up on a survivor is logged as one ended", async () => {
  await topo.heal();
  const node2 = topo.node(2);
  const token = await node2.serviceToken("chat-backend", "calls.events:read");
  const consumer = await subscribeEvents(createGrpcTransport({ baseUrl: node2.baseUrl }), token, { group: "chat" });
  const node0 = topo.node(0);
  const node1 = topo.node(1);
  const alice = await mobileDevice({
    baseUrl: node0.baseUrl,
    token: await node0.token("ann"),
    userId: "ann",
    deviceId: "p",
  });
  const bob = await webDevice({
    baseUrl: node1.baseUrl,
    token: await node1.token("ben"),
    userId: "ben",
    deviceId: "w",
  });
  try {
    const { callId } = await alice.command("startCall", { calleeUserId: "ben" });
    await bob.next("incomingCall", (v) => v.callId === callId);
    await bob.command("accept", { callId });
    await consumer.event((e) => e.callId === callId && e.kind.case === "answered", "the answered event");
    await topo.kill(0);
    // Ben hangs up on his node; the call's new owner (after the takeover) records the end.
    await bob.command("hangup", { callId });
    const ended = await consumer.event(
      (e) => e.callId === callId && e.kind.case === "ended",
      "the ended event",
      20_000,
    );
    assert.ok(ended.kind.case === "ended");
    await consumer.heartbeatAfter(consumer.received());
    assert.deepEqual(ofCall(consumer.events, callId), ["started", "answered", "ended"]);
  } finally {
    consumer.kill();
    alice.drop();
    bob.drop();
  }
});
