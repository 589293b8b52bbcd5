/**
 * The Presence contract (docs/style.md 5): one suite, run against every adapter.
 * Writes are visible at once on the node that made them; other nodes converge
 * (the etcd adapter through its watch), so cross-node checks poll with `eventually`.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { DeviceLocation, Presence } from "../../app/ports/presence.ts";

/** Nodes of one fresh cluster, isolated from every other harness. */
export interface PresenceHarness {
  /** Starts a node of this harness's cluster. */
  startNode(nodeId: string, address: string): Promise<Presence>;
  /** Closes every node still open and releases the cluster. */
  close(): Promise<void>;
}

/** Polls `check` until it stops throwing (or rethrows its last error after `timeoutMs`). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const loc = (userId: string, deviceId: string, nodeId: string, sessionId: string): DeviceLocation => ({
  userId,
  deviceId,
  nodeId,
  sessionId,
});

async function located(presence: Presence, userId: string): Promise<DeviceLocation[]> {
  return [...(await presence.locate(userId))].sort((x, y) => x.deviceId.localeCompare(y.deviceId));
}

/** Registers the contract tests for one adapter under `describe(title)`. */
export function presenceContract(title: string, createHarness: () => Promise<PresenceHarness>): void {
  describe(`Presence contract: ${title}`, () => {
    let h: PresenceHarness;
    let a: Presence;
    let b: Presence;
    beforeEach(async () => {
      h = await createHarness();
      a = await h.startNode("node-a", "127.0.0.1:7001");
      b = await h.startNode("node-b", "127.0.0.1:7002");
    });
    afterEach(() => h.close());

    it("locates a device on the node that announced it, at once", async () => {
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      assert.deepEqual(await located(a, "u1"), [loc("u1", "d1", "node-a", "s1")]);
      assert.equal(a.nodeId, "node-a");
    });

    it("returns no device for an unknown user", async () => {
      assert.deepEqual(await a.locate("nobody"), []);
    });

    it("locates all devices of a user across nodes, from every node", async () => {
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await b.announce({ userId: "u1", deviceId: "d2", sessionId: "s2" });
      await b.announce({ userId: "u2", deviceId: "d1", sessionId: "s3" });
      const want = [loc("u1", "d1", "node-a", "s1"), loc("u1", "d2", "node-b", "s2")];
      await eventually(async () => assert.deepEqual(await located(a, "u1"), want));
      await eventually(async () => assert.deepEqual(await located(b, "u1"), want));
    });

    it("keeps a repeated lookup correct as devices come and go elsewhere", async () => {
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 1));
      await a.announce({ userId: "u1", deviceId: "d3", sessionId: "s3" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 2));
      await a.withdraw("u1", "d1", "s1");
      await eventually(async () => assert.deepEqual(await located(b, "u1"), [loc("u1", "d3", "node-a", "s3")]));
    });

    it("withdraws a device only for its current session", async () => {
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await a.withdraw("u1", "d1", "stale-session");
      assert.deepEqual(await located(a, "u1"), [loc("u1", "d1", "node-a", "s1")]);
      await a.withdraw("u1", "d1", "s1");
      assert.deepEqual(await a.locate("u1"), []);
      await eventually(async () => assert.deepEqual(await b.locate("u1"), []));
    });

    it("moves a re-announced device to its new node; the old node's withdraw leaves it alone", async () => {
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await b.announce({ userId: "u1", deviceId: "d1", sessionId: "s2" });
      const moved = [loc("u1", "d1", "node-b", "s2")];
      await eventually(async () => assert.deepEqual(await located(a, "u1"), moved));
      await a.withdraw("u1", "d1", "s1");
      await a.withdraw("u1", "d1", "s2"); // same session id, but node-a does not hold it
      // A later write from node-a as a barrier: once it shows on node-b, the withdraws have too.
      await a.announce({ userId: "u1", deviceId: "barrier", sessionId: "s9" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 2));
      assert.deepEqual((await located(b, "u1")).slice(1), moved);
    });

    it("lists every live node with its internal address", async () => {
      const want = [
        { nodeId: "node-a", address: "127.0.0.1:7001" },
        { nodeId: "node-b", address: "127.0.0.1:7002" },
      ];
      for (const p of [a, b]) {
        await eventually(async () =>
          assert.deepEqual(
            [...(await p.nodes())].sort((x, y) => x.nodeId.localeCompare(y.nodeId)),
            want,
          ),
        );
      }
    });

    it("drops a closed node's devices and tells the other nodes it left", async () => {
      const left: string[] = [];
      const silenced: string[] = [];
      b.onNodeLeft((id) => left.push(id));
      b.onNodeLeft((id) => silenced.push(id))();
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await b.announce({ userId: "u1", deviceId: "d2", sessionId: "s2" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 2));
      await eventually(async () => assert.equal((await b.nodes()).length, 2));
      await a.close();
      await eventually(() => assert.deepEqual(left, ["node-a"]));
      await eventually(async () => assert.deepEqual(await located(b, "u1"), [loc("u1", "d2", "node-b", "s2")]));
      assert.deepEqual(await b.nodes(), [{ nodeId: "node-b", address: "127.0.0.1:7002" }]);
      assert.deepEqual(silenced, []);
    });
  });
}
