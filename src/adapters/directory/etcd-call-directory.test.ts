import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { sharedEtcdEndpoint } from "../../../test/support/etcd-control.ts";
import type { CallDirectory, LiveCall } from "../../app/ports/call-directory.ts";
import { callDirectoryContract, ringing } from "./call-directory.contract.ts";
import { createEtcdCallDirectory, type DirectoryLayoutName } from "./etcd-call-directory.ts";

/** Directories on one fresh prefix of the shared etcd, writing new calls in `layout`. */
function harness(layout: DirectoryLayoutName) {
  const endpoint = sharedEtcdEndpoint();
  const keyPrefix = `/calldrop-test-${randomUUID()}/`;
  const opened: CallDirectory[] = [];
  return {
    keyPrefix,
    open(as: DirectoryLayoutName = layout) {
      const d = createEtcdCallDirectory({ endpoints: [endpoint], keyPrefix, writeLayout: as });
      opened.push(d);
      return d;
    },
    async close() {
      for (const d of opened) await d.close();
      const client = new Etcd3({ hosts: `http://${endpoint}` });
      await client.delete().prefix(keyPrefix).exec();
      client.close();
    },
  };
}

callDirectoryContract("etcd (clients sharing one etcd)", () => harness("compact"));
callDirectoryContract("etcd, the layout before (clients sharing one etcd)", () => harness("legacy"));

describe("etcd call directory during a rolling upgrade (calls in both layouts)", () => {
  const h = harness("compact");
  after(() => h.close());
  const upgraded = h.open();
  const old = h.open("legacy");

  it("stores a call in the compact layout in under half the bytes of the one before (this long test prefix included)", async () => {
    const client = new Etcd3({ hosts: `http://${sharedEtcdEndpoint()}` });
    try {
      const bytes = async (d: CallDirectory) => {
        const before = await client.getAll().prefix(h.keyPrefix).exec();
        const s = ringing(randomUUID(), randomUUID());
        await d.claim(s, "calldrop-signaling-3-1a2b3c4d");
        const kvs = (await client.getAll().prefix(h.keyPrefix).exec()).kvs;
        const size = kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0);
        await d.release(s.call.callId);
        return size - before.kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0);
      };
      const [compact, legacy] = [await bytes(upgraded), await bytes(old)];
      assert.ok(compact * 2 < legacy, `compact ${compact} B, before ${legacy} B`);
    } finally {
      client.close();
    }
  });

  it("an upgraded node finds, updates, takes over and releases calls an old node claimed", async () => {
    const s = ringing("u-alice", "u-bob");
    assert.deepEqual(await old.claim(s, "old-node"), { ok: true });
    const live: LiveCall = { callId: s.call.callId, ownerNodeId: "old-node", state: s };
    assert.deepEqual(await upgraded.find(s.call.callId), live);
    assert.deepEqual(await upgraded.findByUser("u-bob"), live);
    assert.deepEqual(await upgraded.ownedBy("old-node", 10), [live]);
    assert.ok((await upgraded.list("", 100)).some((c) => c.callId === s.call.callId));
    assert.equal(await upgraded.takeOver(s.call.callId, "old-node", "new-node"), true);
    const ended: LiveCall["state"] = {
      phase: "ended",
      call: s.call,
      end: { outcome: "cancelled", reason: "cancelled", endedAtMs: 3_000 },
    };
    await upgraded.update(ended);
    // The old node still reads it: the call stayed in its layout.
    assert.deepEqual(await old.find(s.call.callId), { callId: s.call.callId, ownerNodeId: "new-node", state: ended });
    await upgraded.release(s.call.callId);
    assert.equal(await old.find(s.call.callId), undefined);
    assert.equal(await old.findByUser("u-alice"), undefined);
  });

  it("an upgraded node's claim sees users busy in an old node's call (busy and glare)", async () => {
    const first = ringing("u-carol", "u-dave");
    await old.claim(first, "old-node");
    const busy = await upgraded.claim(ringing("u-erin", "u-dave"), "new-node");
    assert.equal(!busy.ok && busy.callee?.callId, first.call.callId);
    const glare = await upgraded.claim(ringing("u-dave", "u-carol"), "new-node");
    assert.equal(!glare.ok && glare.caller?.callId, first.call.callId);
    assert.equal(!glare.ok && glare.callee?.callId, first.call.callId);
    await old.release(first.call.callId);
    const next = ringing("u-dave", "u-carol");
    assert.deepEqual(await upgraded.claim(next, "new-node"), { ok: true });
    assert.equal((await upgraded.findByUser("u-carol"))?.callId, next.call.callId);
  });

  it("lists calls of both layouts in call id order across pages", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = ringing(`lister-${i}`, `listee-${i}`);
      await (i % 2 ? old : upgraded).claim(s, "n1");
      ids.push(s.call.callId);
    }
    const seen: string[] = [];
    for (let page = await upgraded.list("", 4); page.length > 0; ) {
      seen.push(...page.map((c) => c.callId));
      page = await upgraded.list(page.at(-1)?.callId ?? "", 4);
    }
    assert.deepEqual(
      seen.filter((id) => ids.includes(id)),
      ids,
    );
    assert.deepEqual(seen, [...seen].sort());
  });
});
