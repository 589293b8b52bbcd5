/**
 * Contract suite of the WebhookState port (docs/spec.md §9 "Webhooks"), against the embedded
 * sqlite (file, :memory:) and Cassandra: cursors with their pending attempt, dead letters kept
 * once with the cursor past them, listed oldest first, removed after a replay; state survives a
 * reopen.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { WebhookState } from "../../app/ports/webhook-state.ts";
import { createTestKeyspace, type TestKeyspace, testContactPoint } from "../store/cassandra/test-support.ts";
import { createCassandraWebhookState } from "./cassandra-webhook-state.ts";
import { createSqliteWebhookState } from "./sqlite-webhook-state.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-wh-state-"));
let keyspace: TestKeyspace;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await keyspace?.drop();
});

/** Opens a fresh state, and a function reopening the same one. */
const adapters: Record<string, () => Promise<{ open: () => WebhookState }>> = {
  "sqlite file": async () => {
    const path = join(dir, `s-${Math.random()}.db`);
    return { open: () => createSqliteWebhookState(path) };
  },
  "sqlite :memory:": async () => {
    const one = createSqliteWebhookState(":memory:");
    return { open: () => ({ ...one, close: async () => {} }) };
  },
  cassandra: async () => {
    await keyspace.reset();
    return { open: () => createCassandraWebhookState(keyspace.config) };
  },
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`WebhookState contract: ${name}`, () => {
    it("keeps a cursor per endpoint and partition, with its pending attempt, across a reopen", async () => {
      const { open } = await make();
      const s = open();
      assert.equal(await s.cursor("chat", 3), undefined);
      const pending = { eventId: "c1:started", attempts: 2, nextAttemptAtMs: 1_700_000_000_500, lastError: "HTTP 503" };
      await s.saveCursor("chat", 3, { position: { seq: 1_700_000_000_000, eventId: "c0:ended" }, pending });
      await s.saveCursor("chat", 4, { position: { seq: 7, eventId: "" } });
      await s.saveCursor("fraud", 3, { position: { seq: 9, eventId: "" } });
      await s.close();
      const again = open();
      assert.deepEqual(await again.cursor("chat", 3), {
        position: { seq: 1_700_000_000_000, eventId: "c0:ended" },
        pending,
      });
      assert.deepEqual(await again.cursor("chat", 4), { position: { seq: 7, eventId: "" } });
      assert.deepEqual(await again.cursor("fraud", 3), { position: { seq: 9, eventId: "" } });
      await again.saveCursor("chat", 3, { position: { seq: 1_700_000_000_001, eventId: "c1:started" } });
      assert.deepEqual(await again.cursor("chat", 3), { position: { seq: 1_700_000_000_001, eventId: "c1:started" } });
      await again.close();
    });

    it("a dead letter is kept once with the cursor past it, listed oldest first, removed after a replay", async () => {
      const { open } = await make();
      const s = open();
      const letter = (eventId: string, deadAtMs: number) => ({
        endpoint: "chat",
        eventId,
        partition: 5,
        attempts: 12,
        lastError: "HTTP 500",
        deadAtMs,
      });
      await s.deadLetter(letter("c2:ended", 2000), { position: { seq: 20, eventId: "c2:ended" } });
      await s.deadLetter(letter("c1:started", 1000), { position: { seq: 10, eventId: "c1:started" } });
      await s.deadLetter(letter("c1:started", 1000), { position: { seq: 10, eventId: "c1:started" } });
      assert.deepEqual(await s.cursor("chat", 5), { position: { seq: 10, eventId: "c1:started" } });
      assert.deepEqual(
        (await s.deadLetters("chat", 10)).map((l) => l.eventId),
        ["c1:started", "c2:ended"],
      );
      assert.deepEqual((await s.deadLetters("chat", 1))[0], letter("c1:started", 1000));
      assert.deepEqual(await s.deadLetters("fraud", 10), []);
      assert.equal(await s.removeDeadLetter("chat", "c1:started"), true);
      assert.equal(await s.removeDeadLetter("chat", "c1:started"), false);
      assert.deepEqual(
        (await s.deadLetters("chat", 10)).map((l) => l.eventId),
        ["c2:ended"],
      );
      await s.close();
    });
  });
}
