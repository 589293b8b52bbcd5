/**
 * Quality samples rolled up per call on its owner (docs/spec.md §7 "Sample windows"), on three
 * nodes in one process and the manual clock: reports reach the owner wherever the reporting
 * device is, are stored a window at a time, and the call's summary covers them all; when the
 * owner dies, what is lost is its open window, and the adopter's summary covers the rest.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createTestCluster, type TestCluster, type TestDevice } from "./app-core.harness.ts";
import { summarizeQuality } from "./domain/quality.ts";

const windowMs = 30_000; // config.calls.sampleWindowMs default
const reportEveryMs = 5_000;

let c: TestCluster;
beforeEach(async () => {
  c = await createTestCluster(3);
});
afterEach(async () => {
  await c.close();
});

/** A report of `d` stamped with the manual clock's time. */
function report(d: TestDevice, callId: string, rttMs = 40) {
  return d.command({
    kind: "quality_report",
    callId,
    sample: {
      atMs: c.clock.now(),
      fractionLost: 0.01,
      jitterMs: 3,
      rttMs,
      availableOutgoingBitrateBps: 1_200_000,
      sentBitrateBps: 1_000_000,
      frameWidth: 1280,
      frameHeight: 720,
      framesPerSecond: 30,
      qualityStep: 0,
      qualityLimitationReason: "none",
    },
  });
}

/** Both participants report every 5 s for `ms`; returns the report times. */
async function reportFor(ms: number, callId: string, ...devices: TestDevice[]): Promise<number[]> {
  const times: number[] = [];
  for (let t = 0; t < ms; t += reportEveryMs) {
    await c.advance(reportEveryMs);
    for (const d of devices) await report(d, callId);
    times.push(c.clock.now());
  }
  return times;
}

/** Alice on node 0 calls Bob on node 2, who accepts; media flows: the call runs on node 0, Bob's reports are forwarded. */
async function answeredCall() {
  const alice = await c.device(0, "alice", "phone");
  const bob = await c.device(2, "bob", "laptop");
  const { callId } = await alice.command({ kind: "start_call", calleeUserId: "bob", video: true });
  await bob.next("incoming_call");
  await bob.command({ kind: "accept", callId });
  await alice.next("call_accepted");
  await alice.command({ kind: "media_state", callId, state: "connected", path: "p2p", setupMs: 500 });
  return { alice, bob, callId };
}

describe("quality samples rolled up on the call's owner (docs/spec.md §7)", () => {
  test("reports are stored a window at a time; at the end the open window is written before the summary", async () => {
    const { alice, bob, callId } = await answeredCall();
    await reportFor(25_000, callId, alice, bob);
    await c.settle();
    assert.equal((await c.store.listSamples(callId)).length, 0, "the first window is still open");
    await reportFor(10_000, callId, alice, bob); // a report at ≥ 30 s seals it
    await c.settle();
    const firstWindow = (await c.store.listSamples(callId)).length;
    assert.equal(firstWindow, 13, "opened by Alice's report at 5 s, sealed by her 7th at 35 s: 7 of hers, 6 of Bob's");
    await reportFor(15_000, callId, alice, bob);
    await bob.command({ kind: "hangup", callId, reason: "hangup" });
    await c.settle();

    const stored = await c.store.listSamples(callId);
    assert.equal(stored.length, 20, "the open window written at the end");
    assert.deepEqual(
      stored.map((s) => s.atMs),
      [...stored.map((s) => s.atMs)].sort((a, b) => a - b),
    );
    const record = await c.store.get(callId);
    assert.deepEqual(record?.quality, summarizeQuality(stored), "the summary of every sample, as before windows");
    assert.equal(record?.quality?.samples, 20);
  });

  test("a late report of an ended call is stored at once", async () => {
    const { alice, bob, callId } = await answeredCall();
    await bob.command({ kind: "hangup", callId, reason: "hangup" });
    await c.settle();
    await report(alice, callId);
    await c.settle();
    assert.equal((await c.store.listSamples(callId)).length, 1);
  });

  test("a drain writes the open windows", async () => {
    const { alice, bob, callId } = await answeredCall();
    await reportFor(10_000, callId, alice, bob);
    await c.node(0).stack.calls.flush();
    assert.equal((await c.store.listSamples(callId)).length, 4);
  });

  test("the owner dies: at most its open window is lost, and the adopter's summary covers what was stored and what it received", async () => {
    const { alice, bob, callId } = await answeredCall();
    const before = await reportFor(60_000, callId, alice, bob);
    await c.settle();
    const storedAtDeath = (await c.store.listSamples(callId)).map((s) => s.atMs);
    await c.crash(0);
    await c.advance(3_000);
    const adopter = (await c.directory.find(callId))?.ownerNodeId;
    assert.ok(adopter && adopter !== c.node(0).stack.nodeId, "taken over");
    await bob.next("resync");
    await alice.reopen(1);
    const after = await reportFor(20_000, callId, alice, bob);
    await bob.command({ kind: "hangup", callId, reason: "hangup" });
    await c.settle();

    // What was lost: the reports in the dead owner's open window, all within one window of its death.
    const lost = before.filter((t) => !storedAtDeath.includes(t));
    const deathMs = before.at(-1) ?? 0;
    assert.ok(lost.length > 0, "this test kills the owner with a window open");
    assert.ok(
      lost.every((t) => deathMs - t < windowMs),
      `lost reports from ${lost.map((t) => deathMs - t)} ms before the death`,
    );
    assert.ok(2 * lost.length <= 2 * (windowMs / reportEveryMs + 1), "at most one window of both sides");

    const stored = await c.store.listSamples(callId);
    assert.equal(stored.length, storedAtDeath.length + 2 * after.length);
    const record = await c.store.get(callId);
    assert.equal(record?.outcome, "completed");
    assert.equal(record?.quality?.samples, stored.length, "stored before the death + received by the adopter");
    assert.deepEqual(record?.quality, summarizeQuality(stored));
  });
});
