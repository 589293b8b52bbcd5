/**
 * Contract suite of the PushRegistry port, run against every adapter: embedded sqlite (file and
 * :memory:) and Cassandra (a migrated test keyspace, emptied before each case).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSqlitePushRegistry } from "../../src/adapters/notify/sqlite-push-registry.ts";
import { createCassandraPushRegistry } from "../../src/adapters/store/cassandra/cassandra-push-registry.ts";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../../src/adapters/store/cassandra/test-support.ts";
import type { PushRegistration, PushRegistry, WebPushTarget } from "../../src/app/ports/push-registry.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-registry-"));
let keyspace: TestKeyspace;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await keyspace?.drop();
});

const web = (n: number): WebPushTarget => ({
  channel: "webpush",
  endpoint: `https://push.example/sub/${n}`,
  p256dh: `key${n}`,
  auth: `auth${n}`,
});
const reg = (userId: string, deviceId: string, n: number, at = n): PushRegistration => ({
  userId,
  deviceId,
  target: web(n),
  registeredAtMs: at,
});

const adapters: Record<string, () => Promise<PushRegistry>> = {
  "sqlite file": async () => createSqlitePushRegistry({ path: join(dir, `r-${Math.random()}.db`) }),
  "sqlite :memory:": async () => createSqlitePushRegistry({ path: ":memory:" }),
  cassandra: async () => {
    await keyspace.reset();
    return createCassandraPushRegistry(keyspace.config);
  },
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`PushRegistry contract: ${name}`, () => {
    it("registers, gets, lists oldest first, and replaces a device's target", async () => {
      const r = await make();
      await r.register(reg("alice", "d2", 2, 20));
      await r.register(reg("alice", "d1", 1, 10));
      await r.register(reg("bob", "d1", 3));
      assert.deepEqual(
        (await r.list("alice")).map((x) => x.deviceId),
        ["d1", "d2"],
      );
      await r.register(reg("alice", "d1", 4, 30));
      assert.deepEqual(await r.get("alice", "d1"), reg("alice", "d1", 4, 30));
      assert.equal((await r.list("alice")).length, 2);
      assert.equal(await r.get("alice", "nope"), undefined);
      assert.deepEqual(await r.list("carol"), []);
      await r.close();
    });

    it("moves an address to the device that registers it last, across users", async () => {
      const r = await make();
      await r.register(reg("alice", "browser", 7));
      await r.register(reg("bob", "browser", 7));
      assert.deepEqual(await r.list("alice"), []);
      assert.equal((await r.list("bob")).length, 1);
      await r.close();
    });

    it("a device's replaced address is free for another device, and taking it leaves the first device alone", async () => {
      const r = await make();
      await r.register(reg("alice", "d", 1));
      await r.register(reg("alice", "d", 2));
      await r.register(reg("bob", "e", 1));
      assert.deepEqual(await r.get("alice", "d"), reg("alice", "d", 2));
      assert.deepEqual(await r.get("bob", "e"), reg("bob", "e", 1));
      // Handed back: the address moves again, and an unregister of the old holder removes nothing of it.
      await r.register(reg("alice", "d", 1, 9));
      assert.deepEqual(await r.list("bob"), []);
      assert.equal(await r.unregister("bob", "e"), false);
      assert.deepEqual(await r.list("alice"), [reg("alice", "d", 1, 9)]);
      await r.register(reg("carol", "f", 2));
      assert.deepEqual(await r.get("carol", "f"), reg("carol", "f", 2), "alice's old address 2 was free");
      await r.close();
    });

    it("unregisters idempotently and keeps a gateway target's platform and token", async () => {
      const r = await make();
      const target = { channel: "gateway", platform: "apns", token: "tok" } as const;
      await r.register({ userId: "u", deviceId: "phone", target, registeredAtMs: 1 });
      assert.deepEqual((await r.get("u", "phone"))?.target, target);
      assert.equal(await r.unregister("u", "phone"), true);
      assert.equal(await r.unregister("u", "phone"), false);
      await r.close();
    });

    it("removes a gone target only while the device still points at it", async () => {
      const r = await make();
      await r.register(reg("u", "d", 1));
      await r.register(reg("u", "d", 2));
      assert.equal(await r.removeGone("u", "d", web(1).endpoint), false);
      assert.ok(await r.get("u", "d"));
      assert.equal(await r.removeGone("u", "d", web(2).endpoint), true);
      assert.equal(await r.get("u", "d"), undefined);
      await r.close();
    });
  });
}

describe("sqlite push registry", () => {
  it("keeps registrations across reopen", async () => {
    const path = join(dir, "reopen.db");
    const a = createSqlitePushRegistry({ path });
    await a.register(reg("u", "d", 1));
    await a.close();
    const b = createSqlitePushRegistry({ path });
    assert.deepEqual(await b.list("u"), [reg("u", "d", 1)]);
    await b.close();
  });
});
