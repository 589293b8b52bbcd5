/**
 * Call waiting across two nodes in one process (docs/spec.md §14 "Call waiting"), on the manual
 * clock: what hangs on time (an unanswered waiting call) and the directory outage fallback.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createTestCluster, type TestCluster, type TestDevice } from "./app-core.harness.ts";

const ringTimeoutMs = 30_000; // config.calls.ringTimeoutMs default (docs/spec.md §3)

let c: TestCluster;
beforeEach(async () => {
  c = await createTestCluster(2);
});
afterEach(async () => {
  await c.close();
});

const start = (d: TestDevice, callee: string) => d.command({ kind: "start_call", calleeUserId: callee, video: true });

/** Alice on node 0 calls Bob on node 1, who accepts; carol on node 1 then calls bob. */
async function waitingCall() {
  const alice = await c.device(0, "alice", "phone");
  const bob = await c.device(1, "bob", "laptop");
  const carol = await c.device(1, "carol", "phone");
  const first = await start(alice, "bob");
  await bob.next("incoming_call");
  await bob.command({ kind: "accept", callId: first.callId });
  await alice.next("call_accepted");
  await alice.command({ kind: "media_state", callId: first.callId, state: "connected", path: "p2p", setupMs: 400 });
  const second = await start(carol, "bob");
  return { alice, bob, carol, first: first.callId, second: second.callId };
}

describe('call waiting on two nodes (docs/spec.md §14 "Call waiting")', () => {
  test("no answer: the waiting call is missed at its deadline and notified once; the first call runs on", async () => {
    const { alice, bob, carol, first, second } = await waitingCall();
    const incoming = await bob.next("incoming_call", 2);
    assert.equal(incoming.callId, second);
    assert.equal(incoming.waiting, true);
    assert.equal((await carol.next("ringing")).devices, 1);
    await c.advance(ringTimeoutMs);
    assert.equal((await carol.next("call_ended")).outcome, "missed");
    assert.equal((await bob.next("missed_call")).callId, second);
    assert.deepEqual(
      c.notifier.sent.filter((n) => n.kind === "missed_call").map((n) => n.callId),
      [second],
    );
    assert.equal((await c.store.get(second))?.outcome, "missed");
    assert.deepEqual(alice.seen("call_ended"), [], "the first call is not touched");
    assert.equal((await c.directory.find(first))?.state.phase, "connected");
    await alice.command({ kind: "hangup", callId: first, reason: "hangup" });
    assert.equal((await bob.next("call_ended", 2)).callId, first);
    assert.equal((await c.store.get(first))?.outcome, "completed");
  });

  test("a device of the callee that comes online while a call waits rings it as a waiting call", async () => {
    const { bob, second } = await waitingCall();
    await bob.next("incoming_call", 2);
    const tablet = await c.device(0, "bob", "tablet");
    const rung = await tablet.next("incoming_call");
    assert.equal(rung.callId, second);
    assert.equal(rung.waiting, true);
  });

  test("auto-busy: a callee who turned call waiting off is busy, and nothing rings", async () => {
    await c.settings.update("bob", { callWaiting: false });
    const { bob, carol, second } = await waitingCall();
    assert.equal((await carol.next("call_ended")).outcome, "busy");
    assert.equal((await c.store.get(second))?.outcome, "busy");
    assert.ok(!bob.seen("incoming_call").some((e) => e.callId === second));
  });

  test("a ringing callee gets no waiting call: busy as before", async () => {
    const alice = await c.device(0, "alice", "phone");
    const bob = await c.device(1, "bob", "laptop");
    const carol = await c.device(1, "carol", "phone");
    await start(alice, "bob");
    await bob.next("incoming_call");
    const second = await start(carol, "bob");
    assert.equal((await carol.next("call_ended")).outcome, "busy");
    assert.equal((await c.store.get(second.callId))?.outcome, "busy");
  });
});
