/**
 * CallEventsService against the real server over Connect and gRPC (docs/spec.md §9 "Call events"):
 * a call's events in order with their facts; a consumer killed and resumed from its cursor loses
 * nothing and gets nothing twice; two members of a group split the partitions and together see
 * every event once; user tokens and tokens without the scope are refused; bad inputs are
 * invalid_argument with a reason; events sent are counted.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { type CallEvent, CallEventsService } from "../gen/calldrop/internal/v1/events_pb.js";
import { CallOutcome, EndReason } from "../gen/calldrop/v1/call_pb.js";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { subscribeEvents } from "./support/event-consumer.ts";
import { seriesValue } from "./support/metrics-scrape.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const refusedWith = (code: Code, message: RegExp) => (err: unknown) => {
  const e = ConnectError.from(err);
  assert.equal(e.code, code, e.message);
  assert.match(e.rawMessage, message);
  return true;
};

const kinds = (events: readonly CallEvent[], callId: string) =>
  events.filter((e) => e.callId === callId).map((e) => e.kind.case);

describe("call events", () => {
  let server: ServerProcess;
  let users = 0;
  before(async () => {
    server = await startServer({
      CALLDROP_EVENTS__CONSUMER_GROUPS: JSON.stringify(["chat", "analytics", "fraud"]),
      CALLDROP_EVENTS__POLL_INTERVAL_MS: "50",
      CALLDROP_EVENTS__HEARTBEAT_INTERVAL_MS: "200",
    });
  });
  after(() => server?.stop());

  /** A fresh pair of users (the per-user call-start limit stays far away). */
  const pair = async () => {
    const n = users++;
    const [a, b] = [`caller${n}`, `callee${n}`];
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token(a),
      userId: a,
      deviceId: "p",
    });
    const bob = await webDevice({ baseUrl: server.baseUrl, token: await server.token(b), userId: b, deviceId: "w" });
    return { alice, bob };
  };
  /** A call answered on Bob's browser and hung up by Alice. */
  const answeredCall = async () => {
    const { alice, bob } = await pair();
    const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall", (v) => v.callId === callId);
    await bob.command("accept", { callId });
    await alice.next("callAccepted", (v) => v.callId === callId);
    await alice.command("hangup", { callId });
    await bob.next("callEnded", (v) => v.callId === callId);
    alice.drop();
    bob.drop();
    return callId;
  };
  /** A call to a user with no device: it starts and ends at once (unreachable). */
  const unreachableCall = async () => {
    const n = users++;
    const caller = `lonely${n}`;
    const d = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token(caller),
      userId: caller,
      deviceId: "p",
    });
    const { callId } = await d.command("startCall", { calleeUserId: `nobody${n}` });
    await d.next("callEnded", (v) => v.callId === callId);
    d.drop();
    return callId;
  };

  const transports: Record<string, (baseUrl: string) => Transport> = {
    Connect: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    gRPC: (baseUrl) => createGrpcTransport({ baseUrl }),
  };
  for (const [name, make] of Object.entries(transports)) {
    test(`${name}: a call's started, answered and ended events arrive in order, with its facts`, async () => {
      const token = await server.serviceToken("chat-backend", "calls.events:read");
      const consumer = await subscribeEvents(make(server.baseUrl), token, { group: "chat" });
      try {
        const callId = await answeredCall();
        const ended = await consumer.event((e) => e.callId === callId && e.kind.case === "ended", "the ended event");
        assert.deepEqual(kinds(consumer.events, callId), ["started", "answered", "ended"]);
        const [started, answered] = consumer.events.filter((e) => e.callId === callId);
        assert.deepEqual(
          consumer.events.filter((e) => e.callId === callId).map((e) => e.eventId),
          [`${callId}:started`, `${callId}:answered`, `${callId}:ended`],
        );
        assert.match(started?.callerUserId ?? "", /^caller/);
        assert.match(started?.calleeUserId ?? "", /^callee/);
        assert.equal(started?.kind.case === "started" && started.kind.value.callerDeviceId, "p");
        assert.equal(answered?.kind.case === "answered" && answered.kind.value.deviceId, "w");
        assert.equal(new Set(consumer.events.filter((e) => e.callId === callId).map((e) => e.partition)).size, 1);
        assert.ok(ended.kind.case === "ended");
        assert.equal(ended.kind.value.outcome, CallOutcome.COMPLETED);
        assert.equal(ended.kind.value.reason, EndReason.HANGUP);
        assert.equal(ended.kind.value.answeredDeviceId, "w");
        assert.ok(ended.occurredAt && answered?.occurredAt && ended.occurredAt.seconds >= answered.occurredAt.seconds);
      } finally {
        consumer.kill();
      }
    });

    test(`${name}: a consumer killed and resumed from its cursor loses nothing and gets nothing twice`, async () => {
      const token = await server.serviceToken("analytics", "calls.events:read");
      const first = await subscribeEvents(make(server.baseUrl), token, { group: "analytics" });
      const { alice, bob } = await pair();
      const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
      await first.event((e) => e.callId === callId, "the started event");
      const cursor = first.cursor();
      first.kill();
      // While no consumer is there: the call goes on and ends, and two more calls come and go.
      await bob.next("incomingCall", (v) => v.callId === callId);
      await bob.command("accept", { callId });
      await alice.next("callAccepted", (v) => v.callId === callId);
      await bob.command("hangup", { callId });
      await alice.next("callEnded", (v) => v.callId === callId);
      alice.drop();
      bob.drop();
      const others = [await unreachableCall(), await answeredCall()];
      const resumed = await subscribeEvents(make(server.baseUrl), token, { group: "analytics", cursor });
      try {
        for (const id of [callId, ...others]) {
          await resumed.event((e) => e.callId === id && e.kind.case === "ended", `the ended event of ${id}`);
        }
        await resumed.heartbeatAfter(resumed.received());
        assert.deepEqual(kinds(resumed.events, callId), ["answered", "ended"], "the rest of the first call, once");
        assert.deepEqual(kinds(resumed.events, others[0] as string), ["started", "ended"], "an unreachable call");
        assert.deepEqual(kinds(resumed.events, others[1] as string), ["started", "answered", "ended"]);
        const ids = resumed.events.map((e) => e.eventId);
        assert.equal(new Set(ids).size, ids.length, "no event twice");
      } finally {
        resumed.kill();
      }
    });

    test(`${name}: two members of a group split the partitions and together see every event once`, async () => {
      const token = await server.serviceToken("fraud", "calls.events:read");
      const members = [
        await subscribeEvents(make(server.baseUrl), token, { group: "fraud", memberIndex: 0, memberCount: 2 }),
        await subscribeEvents(make(server.baseUrl), token, { group: "fraud", memberIndex: 1, memberCount: 2 }),
      ];
      try {
        const calls: string[] = [];
        // Calls until each member got one (a call's partition comes from a hash of its id).
        while (calls.length < 4 || members.some((m) => m.events.length === 0)) {
          assert.ok(calls.length < 40, "40 calls all hashed to one member's partitions");
          calls.push(await unreachableCall());
        }
        const all = () => members.flatMap((m) => m.events).filter((e) => calls.includes(e.callId));
        await waitFor(() => all().length >= 2 * calls.length, { what: "every call's events at one member" });
        const seen = members.map((m) => m.received());
        await Promise.all(members.map((m, i) => m.heartbeatAfter(seen[i] ?? 0)));
        assert.deepEqual(
          all()
            .map((e) => e.eventId)
            .sort(),
          calls.flatMap((id) => [`${id}:ended`, `${id}:started`]).sort(),
          "each once",
        );
        members.forEach((m, i) => {
          for (const e of m.events) assert.equal(e.partition % 2, i, `member ${i} got only its partitions`);
        });
      } finally {
        for (const m of members) m.kill();
      }
    });

    test(`${name}: user tokens and service tokens without calls.events:read are permission_denied`, async () => {
      const client = createClient(CallEventsService, make(server.baseUrl));
      const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      const first = async (token: string) => {
        for await (const _ of client.subscribe({ group: "chat" }, as(token))) break;
      };
      await assert.rejects(
        first(await server.token("alice")),
        refusedWith(Code.PermissionDenied, /Subscribe is for services: it takes a service token/),
      );
      await assert.rejects(
        first(await server.serviceToken("support", "history:read")),
        refusedWith(Code.PermissionDenied, /lacks the "calls.events:read" scope/),
      );
    });

    test(`${name}: unknown groups, bad members and bad cursors are invalid_argument with a reason`, async () => {
      const client = createClient(CallEventsService, make(server.baseUrl));
      const token = await server.serviceToken("chat-backend", "calls.events:read");
      const first = async (request: object) => {
        for await (const _ of client.subscribe(request, { headers: { authorization: `Bearer ${token}` } })) break;
      };
      const half = await subscribeEvents(make(server.baseUrl), token, {
        group: "chat",
        memberIndex: 1,
        memberCount: 2,
      });
      const halfCursor = half.cursor();
      half.kill();
      const cases: [object, RegExp][] = [
        [{ group: "nope" }, /unknown consumer group "nope"; this server has: chat, analytics, fraud/],
        [{ group: "" }, /unknown consumer group/],
        [{ group: "chat", memberIndex: 2, memberCount: 2 }, /member_index must be 0–1 for 2 member/],
        [{ group: "chat", memberIndex: 1 }, /member_index must be 0–0/],
        [{ group: "chat", memberCount: 17 }, /member_count must be 1–16/],
        [{ group: "chat", cursor: "garbage" }, /cursor is not one this service issued/],
        [{ group: "analytics", cursor: halfCursor }, /cursor is of another consumer group/],
        [{ group: "chat", cursor: halfCursor }, /no position for partition 0 .*cursors of all old members/],
        [{ group: "chat", cursor: `${halfCursor}.${halfCursor}` }, /names partition 1 twice/],
      ];
      for (const [request, message] of cases) {
        await assert.rejects(first(request), refusedWith(Code.InvalidArgument, message), JSON.stringify(request));
      }
    });
  }

  test("events sent are counted by group and kind", async () => {
    const value = (kind: string) =>
      seriesValue(server.baseUrl, "calldrop_call_events_streamed_total", { group: "chat", kind });
    assert.ok(((await value("ended")) ?? 0) >= 2, "the ended events of the first tests");
    assert.equal(await seriesValue(server.baseUrl, "calldrop_call_event_subscribers", { group: "chat" }), 0);
  });
});
