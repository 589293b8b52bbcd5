/** Sessions moving between nodes: release on the node that held it, adopt on the new one. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { createRandomIds } from "../adapters/ids/random-ids.ts";
import { isDomainError } from "../domain/errors.ts";
import type { SessionEvent } from "./session-events.ts";
import { createSessionHub, type SessionSink, tokenHome } from "./session-hub.ts";

function node(nodeId: string) {
  const clock = createManualClock();
  const lost: string[] = [];
  const hub = createSessionHub({
    clock,
    ids: createRandomIds(),
    nodeId,
    resumeGraceMs: 1000,
    bufferSize: 8,
    maxQueuedEvents: 0,
    onDeviceLost: (s) => lost.push(s.id),
    onDeviceOnline: () => {},
  });
  return { clock, hub, lost };
}

function sink() {
  const events: SessionEvent[] = [];
  const closed: unknown[] = [];
  const s: SessionSink = { push: (e) => events.push(e), close: (err) => closed.push(err ?? "clean") };
  return { s, events, closed };
}

const alice = { userId: "alice", deviceId: "phone" };
const missed = (n: number) => ({ type: "missed_call", callId: `c${n}`, callerUserId: "x", startedAtMs: n }) as const;

describe("session handoff", () => {
  test("a resume token names the node that issued it", () => {
    const { hub } = node("node-a.1");
    const a = sink();
    hub.open(alice, a.s);
    const ready = a.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    assert.equal(tokenHome(ready.resumeToken), "node-a.1");
    assert.equal(hub.holds(ready.resumeToken), true);
    assert.equal(tokenHome("no-dot"), undefined);
  });

  test("release checks like a resume, then the session leaves without being lost", () => {
    const a = node("a");
    const b = node("b");
    const first = sink();
    const session = a.hub.open(alice, first.s);
    const ready = first.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    a.hub.deliver(alice, missed(1));
    a.hub.deliver(alice, missed(2));
    assert.throws(
      () => a.hub.release({ userId: "mallory", deviceId: "phone", resumeToken: ready.resumeToken, lastSeq: 0 }),
      (e) => isDomainError(e, "resume_expired"),
    );
    const snapshot = a.hub.release({ ...alice, resumeToken: ready.resumeToken, lastSeq: 1 });
    assert.equal(first.closed.length, 1, "the old stream is ended");
    assert.equal(a.hub.deliver(alice, missed(3)), false, "gone from the old node");
    a.clock.advance(5000);
    assert.deepEqual(a.lost, [], "not reported lost");

    b.hub.adopt(snapshot);
    b.hub.deliver(alice, missed(3));
    const second = sink();
    const resumed = b.hub.open({ ...alice, resumeToken: ready.resumeToken, lastSeq: 1 }, second.s);
    assert.equal(resumed.id, session.id);
    assert.deepEqual(
      second.events.map((e) => e.seq),
      [0, 2, 3],
    );
  });

  test("an adopted session nobody attaches to is lost after the grace period", () => {
    const a = node("a");
    const b = node("b");
    const first = sink();
    a.hub.open(alice, first.s);
    const ready = first.events[0]?.body;
    assert.ok(ready?.type === "session_ready");
    const snapshot = a.hub.release({ ...alice, resumeToken: ready.resumeToken, lastSeq: 0 });
    b.hub.adopt(snapshot);
    b.clock.advance(1000);
    assert.deepEqual(b.lost, [snapshot.sessionId]);
  });

  test("forget drops only the named session, silently", () => {
    const { hub, lost, clock } = node("a");
    const first = sink();
    const session = hub.open(alice, first.s);
    hub.forget("alice", "phone", "another-session");
    assert.equal(hub.deliver(alice, missed(1)), true);
    hub.forget("alice", "phone", session.id);
    assert.equal(hub.deliver(alice, missed(2)), false);
    assert.equal(first.closed.length, 1);
    clock.advance(5000);
    assert.deepEqual(lost, []);
  });
});
