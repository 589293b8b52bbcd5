import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { createRandomIds } from "../adapters/ids/random-ids.ts";
import type { DeviceRef } from "../domain/call-types.ts";
import { isDomainError } from "../domain/errors.ts";
import type { SessionEvent } from "./session-events.ts";
import { createSessionHub, type SessionSink } from "./session-hub.ts";

function setup(bufferSize = 4, maxQueuedEvents = 0) {
  const clock = createManualClock();
  const lost: DeviceRef[] = [];
  const online: DeviceRef[] = [];
  const hub = createSessionHub({
    clock,
    ids: createRandomIds(),
    resumeGraceMs: 1000,
    bufferSize,
    maxQueuedEvents,
    onDeviceLost: (s) => lost.push({ userId: s.userId, deviceId: s.deviceId }),
    onDeviceOnline: (s) => online.push({ userId: s.userId, deviceId: s.deviceId }),
  });
  return { clock, hub, lost, online };
}

function sink() {
  const events: SessionEvent[] = [];
  const closed: unknown[] = [];
  const s: SessionSink = { push: (e) => events.push(e), close: (err) => closed.push(err ?? "clean") };
  return { s, events, closed };
}

const missed = (n: number) => ({ type: "missed_call", callId: `c${n}`, callerUserId: "x", startedAtMs: n }) as const;
const alice = { userId: "alice", deviceId: "phone" };

describe("session hub", () => {
  test("a fresh session starts with session_ready (seq 0) and numbers events from 1", () => {
    const { hub, online } = setup();
    const a = sink();
    hub.open(alice, a.s);
    hub.deliver(alice, missed(1));
    hub.deliverToUser("alice", missed(2));
    assert.deepEqual(
      a.events.map((e) => [e.seq, e.body.type]),
      [
        [0, "session_ready"],
        [1, "missed_call"],
        [2, "missed_call"],
      ],
    );
    assert.deepEqual(online, [alice]);
    assert.equal(hub.deliver({ userId: "alice", deviceId: "tablet" }, missed(3)), false);
  });

  test("resume within the grace period replays exactly the events after last_seq, in order", () => {
    const { hub, clock, lost } = setup();
    const a = sink();
    const session = hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    hub.deliver(alice, missed(1));
    hub.detach(session.id, a.s);
    assert.equal(hub.isAttached("alice", "phone"), false);
    assert.deepEqual(hub.liveDevices("alice"), ["phone"]);
    hub.deliver(alice, missed(2));
    hub.deliver(alice, missed(3));
    clock.advance(999);
    const b = sink();
    const resumed = hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 1 }, b.s);
    assert.equal(resumed.id, session.id);
    assert.deepEqual(
      b.events.map((e) => e.seq),
      [0, 2, 3],
    );
    assert.equal(b.events[0]?.body.type === "session_ready" && b.events[0].body.resumed, true);
    clock.advance(5000);
    assert.deepEqual(lost, []);
  });

  test("the grace period expiring loses the device and the token", () => {
    const { hub, clock, lost } = setup();
    const a = sink();
    const session = hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    hub.detach(session.id, a.s);
    clock.advance(1000);
    assert.deepEqual(lost, [alice]);
    assert.deepEqual(hub.liveDevices("alice"), []);
    assert.throws(
      () => hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 0 }, sink().s),
      (e) => isDomainError(e, "resume_expired"),
    );
  });

  test("a resume whose events fell out of the buffer is refused, not silently lossy", () => {
    const { hub } = setup(2);
    const a = sink();
    const session = hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    for (let i = 1; i <= 5; i++) hub.deliver(alice, missed(i));
    hub.detach(session.id, a.s);
    assert.throws(
      () => hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 1 }, sink().s),
      (e) => isDomainError(e, "resume_expired"),
    );
    assert.throws(
      () => hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 9 }, sink().s),
      (e) => isDomainError(e, "invalid_argument"),
    );
    const c = sink();
    hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 3 }, c.s);
    assert.deepEqual(
      c.events.map((e) => e.seq),
      [0, 4, 5],
    );
  });

  test("a session keeps bufferSize + maxQueuedEvents events, so a reader cut off as slow can resume", () => {
    const { hub } = setup(2, 3);
    const a = sink();
    const opened = hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    const token = ready.resumeToken;
    for (let n = 1; n <= 6; n++) hub.deliver(alice, missed(n));
    hub.detach(opened.id, a.s);
    const late = sink();
    assert.throws(
      () => hub.open({ ...alice, resumeToken: token, lastSeq: 0 }, late.s),
      (e: unknown) => isDomainError(e) && e.code === "resume_expired",
    );
    const b = sink();
    hub.open({ ...alice, resumeToken: token, lastSeq: 1 }, b.s);
    assert.deepEqual(
      b.events.slice(1).map((e) => e.seq),
      [2, 3, 4, 5, 6],
    );
  });

  test("resuming on a new stream closes the old one; a fresh session replaces the device's old one", () => {
    const { hub, lost, online } = setup();
    const a = sink();
    hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    const b = sink();
    hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 0 }, b.s);
    assert.equal(a.closed.length, 1);
    const c = sink();
    hub.open(alice, c.s);
    assert.equal(b.closed.length, 1);
    // The device is not lost: it came back with a fresh session (its call, if any, goes on).
    assert.deepEqual(lost, []);
    assert.deepEqual(online, [alice, alice]);
    assert.equal(hub.stats().sessions, 1);
    assert.deepEqual(hub.liveDevices("alice"), ["phone"], "the replacing session is reachable");
    assert.equal(hub.deliver(alice, missed(1)), true);
  });

  test("drain closes every attached stream but keeps sessions resumable", () => {
    const { hub } = setup();
    const a = sink();
    hub.open(alice, a.s);
    hub.drain(new Error("bye") as never);
    assert.equal(a.closed.length, 1);
    assert.deepEqual(hub.stats(), { sessions: 1, attached: 0 });
  });
});
