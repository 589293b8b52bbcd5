/**
 * The call lifecycle across two nodes in one process (docs/spec.md §3, §10; docs/cluster.md):
 * the real node wiring on in-process presence and relay, driven through the signaling facade,
 * with time moved by the manual clock (nothing sleeps). What each device receives is asserted.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createTestCluster, type TestCluster, type TestDevice } from "./app-core.harness.ts";
import type { SignalBody } from "./domain/call-types.ts";

const ringTimeoutMs = 30_000; // config.calls.ringTimeoutMs default (docs/spec.md §3)

let c: TestCluster;
beforeEach(async () => {
  c = await createTestCluster(2);
});
afterEach(async () => {
  await c.close();
});

let signals = 0;
/** A signal command for `callId`, under a fresh signal id. */
function signal(callId: string, body: SignalBody) {
  return { kind: "signal", callId, signal: { ...body, id: `sig-${++signals}` } } as const;
}
const candidate = (tag: string): SignalBody => ({
  kind: "ice_candidate",
  candidate: `candidate:${tag} 1 udp 1 127.0.0.1 9 typ host`,
  sdpMid: "0",
  sdpMLineIndex: 0,
  usernameFragment: "",
  endOfCandidates: false,
});
const relayed = (d: TestDevice) =>
  d.seen("signal").map((s) => (s.signal.kind === "ice_candidate" ? s.signal.candidate.split(" ")[0] : s.signal.kind));
/** Seqs of the device's events after session_ready, in arrival order. */
const seqs = (d: TestDevice) => d.events.filter((e) => e.body.type !== "session_ready").map((e) => e.seq);
const start = (d: TestDevice, callee: string) => d.command({ kind: "start_call", calleeUserId: callee, video: true });

/** Alice on node 0 calls Bob on node 1, who accepts: the call runs on node 0. */
async function answeredCall() {
  const alice = await c.device(0, "alice", "phone");
  const bob = await c.device(1, "bob", "laptop");
  const { callId } = await start(alice, "bob");
  await bob.next("incoming_call");
  await bob.command({ kind: "accept", callId });
  await alice.next("call_accepted");
  return { alice, bob, callId };
}

describe("app core on two nodes in one process (docs/spec.md §3, §10)", () => {
  test("§3 missed: an unanswered call rings out at 30 s on the manual clock, recorded and notified exactly once", async () => {
    const alice = await c.device(0, "alice", "phone");
    const phone = await c.device(0, "bob", "phone");
    const laptop = await c.device(1, "bob", "laptop");
    const { callId } = await start(alice, "bob");
    const incoming = await laptop.next("incoming_call");
    await phone.next("incoming_call");
    assert.equal(incoming.ringDeadlineMs, c.clock.now() + ringTimeoutMs);

    await c.advance(ringTimeoutMs - 1_000);
    assert.deepEqual(alice.seen("call_ended"), [], "still ringing 1 s before the deadline");

    await c.advance(1_000);
    for (const d of [alice, phone, laptop]) {
      assert.deepEqual(await d.next("call_ended"), {
        type: "call_ended",
        callId,
        outcome: "missed",
        reason: "ring_timeout",
      });
    }
    await phone.next("missed_call");
    await laptop.next("missed_call");
    // Later sweeps and timers add nothing: once per device, once in the store, one notification.
    await c.advance(60_000, 5_000);
    for (const d of [alice, phone, laptop]) assert.equal(d.seen("call_ended").length, 1);
    for (const d of [phone, laptop]) assert.equal(d.seen("missed_call").length, 1);
    assert.equal(alice.seen("missed_call").length, 0);
    assert.deepEqual(
      c.notifier.sent.filter((n) => n.kind === "missed_call").map((n) => [n.userId, n.callId]),
      [["bob", callId]],
    );
    const record = await c.store.get(callId);
    assert.equal(record?.outcome, "missed");
    assert.equal(record?.endedAtMs, incoming.ringDeadlineMs, "ended at the ring deadline");
    // §7 the callee's missed-only history lists it; the caller's does not.
    const missedOnly = async (userId: string) =>
      (await c.store.listForUser({ userId, limit: 10, missedOnly: true })).calls.map((r) => r.callId);
    assert.deepEqual(await missedOnly("bob"), [callId]);
    assert.deepEqual(await missedOnly("alice"), []);
  });

  test("§3 completed: the record holds the answering device, path, setup time and the answer-to-hang-up duration on the manual clock", async () => {
    const { alice, bob, callId } = await answeredCall();
    await alice.command({ kind: "media_state", callId, state: "connected", path: "p2p", setupMs: 420 });
    await bob.command({ kind: "media_state", callId, state: "connected", path: "p2p", setupMs: 440 });
    await c.advance(100); // the call lasts 100 ms
    await bob.command({ kind: "hangup", callId, reason: "hangup" });
    assert.equal((await alice.next("call_ended")).outcome, "completed");
    await c.settle();
    const record = await c.store.get(callId);
    assert.equal(record?.outcome, "completed");
    assert.equal(record?.answeredDeviceId, "laptop");
    assert.equal(record?.path, "p2p");
    assert.equal(record?.setupMs, 420);
    assert.equal((record?.endedAtMs ?? 0) - (record?.answeredAtMs ?? 0), 100);
  });

  test("§3 glare across nodes: A calls B while B calls A → one call, answered, no half-call", async () => {
    const alice = await c.device(0, "alice", "phone");
    const bob = await c.device(1, "bob", "laptop");
    const [a, b] = await Promise.all([start(alice, "bob"), start(bob, "alice")]);
    assert.equal(a.callId, b.callId, "both starts resolve into one call");
    assert.deepEqual(
      [a.mergedIntoExisting, b.mergedIntoExisting].sort(),
      [false, true],
      "the second start joins the first",
    );
    const { callId } = a;
    await alice.next("call_accepted");
    await bob.next("call_accepted");
    await c.settle();
    for (const d of [alice, bob]) {
      assert.equal(d.seen("call_accepted").length, 1);
      assert.deepEqual(d.seen("call_ended"), []);
      assert.deepEqual(
        new Set(d.events.flatMap((e) => ("callId" in e.body && e.body.callId !== "" ? [e.body.callId] : []))),
        new Set([callId]),
        "no event of any other call",
      );
    }
    assert.equal((await c.directory.findByUser("alice"))?.callId, callId);
    assert.equal((await c.directory.findByUser("bob"))?.callId, callId);
  });

  test("§3 several devices on different nodes: the first accept wins, the other gets answered_elsewhere", async () => {
    const alice = await c.device(0, "alice", "phone");
    const phone = await c.device(0, "bob", "phone");
    const laptop = await c.device(1, "bob", "laptop");
    const { callId } = await start(alice, "bob");
    await phone.next("incoming_call");
    await laptop.next("incoming_call");

    await laptop.command({ kind: "accept", callId }); // forwarded from node 1 to node 0, which runs the call
    assert.deepEqual(await alice.next("call_accepted"), { type: "call_accepted", callId, answeredDeviceId: "laptop" });
    assert.deepEqual(await phone.next("answered_elsewhere"), {
      type: "answered_elsewhere",
      callId,
      answeredDeviceId: "laptop",
    });
    await assert.rejects(phone.command({ kind: "accept", callId }), { code: "illegal_transition" });
    await c.settle();
    assert.equal(laptop.seen("answered_elsewhere").length, 0);
    assert.equal(phone.seen("call_ended").length, 0, "the other device only stops ringing");

    await laptop.command(signal(callId, { kind: "description", sdpType: "offer", sdp: "v=0 offer" }));
    await alice.next("signal");
    assert.equal(phone.seen("signal").length, 0, "signals go to the answering device only");
  });

  test("§3 missed exactly once when the ringing node dies: the other node takes the call over and rings it out at the deadline", async () => {
    const alice = await c.device(0, "alice", "phone");
    const bob = await c.device(1, "bob", "laptop");
    const { callId } = await start(alice, "bob");
    const { ringDeadlineMs } = await bob.next("incoming_call");
    await c.advance(10_000);

    await c.crash(0);
    await c.advance(3_000); // the survivor's share pass, then the leftover pass (takeover.secondPassMs)
    assert.equal((await c.directory.find(callId))?.ownerNodeId, c.node(1).stack.nodeId);
    assert.deepEqual(c.node(1).stack.calls.running(), [callId]);
    assert.equal(bob.seen("call_ended").length, 0, "still ringing until the original deadline");

    await c.advance(ringDeadlineMs - c.clock.now());
    assert.deepEqual(await bob.next("call_ended"), {
      type: "call_ended",
      callId,
      outcome: "missed",
      reason: "ring_timeout",
    });
    await bob.next("missed_call");
    await c.advance(60_000, 5_000);
    assert.equal(bob.seen("call_ended").length, 1);
    assert.equal(bob.seen("missed_call").length, 1);
    assert.equal(c.notifier.sent.filter((n) => n.kind === "missed_call").length, 1);
    const record = await c.store.get(callId);
    assert.equal(record?.outcome, "missed");
    assert.equal(record?.endedAtMs, ringDeadlineMs);
  });

  test("§3 resume on the other node: the dropped stream gets every event it missed, in order, and the call goes on there", async () => {
    const { alice, bob, callId } = await answeredCall();
    alice.drop();
    await bob.command(signal(callId, { kind: "description", sdpType: "offer", sdp: "v=0 offer" }));
    for (const tag of ["b0", "b1", "b2"]) await bob.command(signal(callId, candidate(tag)));
    await c.settle();
    assert.equal(alice.seen("signal").length, 0, "nothing reaches a dropped stream");

    await alice.resume(1); // node 1 fetches the session from node 0 (handoff)
    const ready = alice.seen("session_ready").at(-1);
    assert.equal(ready?.resumed, true);
    assert.deepEqual(relayed(alice), ["description", "candidate:b0", "candidate:b1", "candidate:b2"]);
    const n = seqs(alice).length;
    assert.deepEqual(
      seqs(alice),
      Array.from({ length: n }, (_, i) => i + 1),
      "seq continues without gap or repeat",
    );

    await bob.command(signal(callId, candidate("b3")));
    await alice.next("signal", 5);
    await alice.command(signal(callId, candidate("a0"))); // from node 1 now, to the owner on node 0
    await bob.next("signal");
    assert.deepEqual(relayed(alice).at(-1), "candidate:b3");
    assert.deepEqual(
      seqs(alice),
      Array.from({ length: seqs(alice).length }, (_, i) => i + 1),
    );
  });

  test("§3 resync: after the call's node died, a fresh session re-learns the answered call and both sides resend", async () => {
    const { alice, bob, callId } = await answeredCall();
    await c.crash(0);
    await c.advance(3_000);
    assert.equal((await c.directory.find(callId))?.ownerNodeId, c.node(1).stack.nodeId);
    await bob.next("resync"); // the adopter asks the connected participant to resend (docs/cluster.md)

    await assert.rejects(alice.resume(1), { code: "resume_expired" });
    await alice.reopen(1);
    await alice.next("resync");
    const afterReopen = alice.events.slice(alice.events.findLastIndex((e) => e.body.type === "session_ready"));
    assert.deepEqual(
      afterReopen.map((e) => e.body.type),
      ["session_ready", "call_accepted", "resync"],
      "the fresh session is put where the call is, then asked to resend",
    );
    await bob.next("resync", 2); // and again when a participant comes back with a fresh session
    await c.settle();
    assert.equal(bob.seen("resync").length, 2);
    assert.equal(alice.seen("resync").length, 1);

    await alice.command(signal(callId, candidate("a0")));
    await bob.next("signal");
    await bob.command(signal(callId, candidate("b0")));
    await alice.next("signal");
    assert.equal(bob.seen("call_ended").length + alice.seen("call_ended").length, 0);
  });

  test("§10 a takeover keeps the media path and setup time of a connected call (the directory holds its connected state)", async () => {
    const connected = { kind: "media_state", state: "connected", path: "p2p", setupMs: 700 } as const;
    // The report landed before the node died: the directory's connected state carries it.
    const first = await answeredCall();
    await first.bob.command({ ...connected, callId: first.callId });
    await c.crash(0);
    await c.advance(3_000);
    assert.equal((await c.directory.find(first.callId))?.ownerNodeId, c.node(1).stack.nodeId);
    await first.bob.next("resync");
    await first.bob.command({ kind: "hangup", callId: first.callId, reason: "hangup" });
    await c.settle();
    const kept = await c.store.get(first.callId);
    assert.equal(kept?.outcome, "completed");
    assert.equal(kept?.path, "p2p");
    assert.equal(kept?.setupMs, 700);
  });

  test("§10 a media report lost with the call's node is applied when the participant re-reports after the resync", async () => {
    const { bob, callId } = await answeredCall();
    await c.crash(0); // before any media report reached node 0: the directory says connecting
    await c.advance(3_000);
    await bob.next("resync");
    assert.equal((await c.directory.find(callId))?.state.phase, "connecting");
    // The web client answers a resync in call with its media state again (web/src/call-state.ts).
    await bob.command({ kind: "media_state", callId, state: "connected", path: "p2p", setupMs: 700 });
    await bob.command({ kind: "hangup", callId, reason: "hangup" });
    await c.settle();
    const record = await c.store.get(callId);
    assert.equal(record?.outcome, "completed");
    assert.equal(record?.path, "p2p");
    assert.equal(record?.setupMs, 700);
  });

  test("§3 idempotency: a command retried under the same id has no second effect, locally and forwarded", async () => {
    const alice = await c.device(0, "alice", "phone");
    const bob = await c.device(1, "bob", "laptop");
    const first = await alice.command({ kind: "start_call", calleeUserId: "bob", video: true }, "start-1");
    const again = await alice.command({ kind: "start_call", calleeUserId: "bob", video: true }, "start-1");
    assert.deepEqual(again, first);
    const { callId } = first;
    await bob.next("incoming_call");

    const accepted = await bob.command({ kind: "accept", callId }, "accept-1");
    assert.deepEqual(await bob.command({ kind: "accept", callId }, "accept-1"), accepted);
    await alice.next("call_accepted");
    await c.settle();
    assert.equal(bob.seen("incoming_call").length, 1, "one call rang");
    assert.equal(alice.seen("ringing").length, 1);
    assert.equal(alice.seen("call_accepted").length, 1, "the accept ran once");
    // A fresh id is a new command: accepting again is now illegal.
    await assert.rejects(bob.command({ kind: "accept", callId }, "accept-2"), { code: "illegal_transition" });
  });

  test("§4 a non-participant is refused and the call goes on; an unknown call is not_found", async () => {
    const alice = await c.device(0, "alice", "phone");
    const bob = await c.device(1, "bob", "laptop");
    const carol = await c.device(1, "carol", "tablet");
    const { callId } = await start(alice, "bob");
    await bob.next("incoming_call");

    for (const command of [
      { kind: "accept", callId },
      { kind: "decline", callId },
      { kind: "hangup", callId, reason: "hangup" },
      signal(callId, candidate("c0")),
    ] as const) {
      await assert.rejects(carol.command(command), { code: "not_participant" }, command.kind);
    }
    await assert.rejects(carol.command({ kind: "accept", callId: "00000000-0000-7000-8000-000000000000" }), {
      code: "not_found",
    });
    await bob.command({ kind: "accept", callId });
    await alice.next("call_accepted");
    await c.settle();
    assert.deepEqual(
      carol.events.map((e) => e.body.type),
      ["session_ready"],
      "carol got nothing of the call",
    );
    assert.equal(alice.seen("call_ended").length + bob.seen("call_ended").length, 0);
  });
});
