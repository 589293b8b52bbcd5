/** Contract suite of the CallSettingsStore port, against the embedded sqlite (file, :memory:) and Cassandra. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CallSettingsStore } from "../../app/ports/call-settings-store.ts";
import { createCassandraCallSettings } from "./cassandra/cassandra-call-settings.ts";
import { createTestKeyspace, type TestKeyspace, testContactPoint } from "./cassandra/test-support.ts";
import { createSqliteCallSettings } from "./sqlite-call-settings.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-settings-"));
let keyspace: TestKeyspace;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await keyspace?.drop();
});

const file = join(dir, "settings.db");
const adapters: Record<string, { make: () => Promise<CallSettingsStore>; reopen: () => Promise<CallSettingsStore> }> = {
  "sqlite file": {
    make: async () => createSqliteCallSettings(file),
    reopen: async () => createSqliteCallSettings(file),
  },
  "sqlite :memory:": { make: async () => createSqliteCallSettings(":memory:"), reopen: async () => undefined as never },
  cassandra: {
    make: async () => {
      await keyspace.reset();
      return createCassandraCallSettings(keyspace.config);
    },
    reopen: async () => createCassandraCallSettings(keyspace.config),
  },
};

for (const [name, { make, reopen }] of Object.entries(adapters)) {
  describe(`CallSettingsStore contract (docs/spec.md §14 "Call waiting"): ${name}`, () => {
    it("has nothing for a user who set nothing, and keeps what each user set", async () => {
      const s = await make();
      assert.deepEqual(await s.get("alice"), {});
      assert.deepEqual(await s.update("alice", { callWaiting: false }), { callWaiting: false });
      assert.deepEqual(await s.get("alice"), { callWaiting: false });
      assert.deepEqual(await s.get("bob"), {}, "one user's settings only");
      assert.deepEqual(await s.update("alice", {}), { callWaiting: false }, "an empty change keeps the setting");
      assert.deepEqual(await s.update("alice", { callWaiting: true }), { callWaiting: true });
      if (name !== "sqlite :memory:") {
        await s.update("carol", { callWaiting: false });
        const again = await reopen();
        assert.deepEqual(await again.get("carol"), { callWaiting: false }, "persisted");
        await again.close();
      }
      await s.close();
    });
  });
}
