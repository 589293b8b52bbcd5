/**
 * Resume after a session moved (docs/cluster.md, docs/spec.md §3): three nodes in one process.
 * A session resumed on another node can be resumed again after the node that issued it died.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createTestCluster, type TestCluster, type TestDevice } from "./app-core.harness.ts";

let c: TestCluster;
beforeEach(async () => {
  c = await createTestCluster(3);
});
afterEach(async () => {
  await c.close();
});

/** Seqs of the device's events after session_ready, in arrival order. */
const seqs = (d: TestDevice) => d.events.filter((e) => e.body.type !== "session_ready").map((e) => e.seq);

describe("resume after a move (docs/cluster.md)", () => {
  test("moved 0→1 by resume, node 0 dies, resumed on node 2: every missed event, in order", async () => {
    const bob = await c.device(2, "bob", "laptop");
    const alice = await c.device(0, "alice", "phone");
    const { callId } = await bob.command({ kind: "start_call", calleeUserId: "alice", video: true });
    await alice.next("incoming_call");
    alice.drop();
    await alice.resume(1); // node 1 fetches the session from node 0, its issuer
    alice.drop();
    await c.crash(0);
    await bob.command({ kind: "cancel", callId });
    await c.settle();
    assert.equal(alice.seen("call_ended").length, 0, "nothing reaches a dropped stream");

    await alice.resume(2); // the token must lead to node 1, the holder, not to dead node 0
    assert.equal(alice.seen("session_ready").at(-1)?.resumed, true);
    await alice.next("call_ended");
    const n = seqs(alice).length;
    assert.deepEqual(
      seqs(alice),
      Array.from({ length: n }, (_, i) => i + 1),
      "seq continues without gap or repeat",
    );
  });
});
