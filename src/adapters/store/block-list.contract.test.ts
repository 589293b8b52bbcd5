/** Contract suite of the BlockList port, against the embedded sqlite (file, :memory:) and Cassandra. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BlockList } from "../../app/ports/block-list.ts";
import { createCassandraBlockList } from "./cassandra/cassandra-block-list.ts";
import { createTestKeyspace, type TestKeyspace, testContactPoint } from "./cassandra/test-support.ts";
import { createSqliteBlockList } from "./sqlite-block-list.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-blocks-"));
let keyspace: TestKeyspace;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await keyspace?.drop();
});

const adapters: Record<string, () => Promise<BlockList>> = {
  "sqlite file": async () => createSqliteBlockList(join(dir, `b-${Math.random()}.db`)),
  "sqlite :memory:": async () => createSqliteBlockList(":memory:"),
  cassandra: async () => {
    await keyspace.reset();
    return createCassandraBlockList(keyspace.config);
  },
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`BlockList contract: ${name}`, () => {
    it("blocks per user and direction, lists most recent first, keeps the first entry", async () => {
      const b = await make();
      assert.deepEqual(await b.block("alice", "mallory", 10), { userId: "mallory", blockedAtMs: 10 });
      await b.block("alice", "eve", 20);
      assert.deepEqual(await b.block("alice", "mallory", 30), { userId: "mallory", blockedAtMs: 10 }, "kept");
      assert.deepEqual(await b.list("alice"), [
        { userId: "eve", blockedAtMs: 20 },
        { userId: "mallory", blockedAtMs: 10 },
      ]);
      assert.equal(await b.isBlocked("alice", "mallory"), true);
      assert.equal(await b.isBlocked("mallory", "alice"), false, "one direction only");
      assert.equal(await b.isBlocked("bob", "mallory"), false, "one user's list only");
      assert.deepEqual(await b.list("bob"), []);
      await b.close();
    });

    it("unblocks idempotently", async () => {
      const b = await make();
      await b.block("alice", "mallory", 1);
      assert.equal(await b.unblock("alice", "mallory"), true);
      assert.equal(await b.unblock("alice", "mallory"), false);
      assert.equal(await b.isBlocked("alice", "mallory"), false);
      assert.deepEqual(await b.block("alice", "mallory", 5), { userId: "mallory", blockedAtMs: 5 }, "a new entry");
      await b.close();
    });
  });
}
