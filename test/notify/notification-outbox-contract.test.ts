/** Contract suite of the NotificationOutbox port, run against every adapter (embedded sqlite: file and :memory:). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createSqliteNotificationOutbox } from "../../src/adapters/notify/sqlite-notification-outbox.ts";
import type { NotificationOutbox, OutboxNotification } from "../../src/app/ports/notification-outbox.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-outbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const note = (
  callId: string,
  deviceId: string,
  kind: OutboxNotification["kind"] = "incoming_call",
): OutboxNotification => ({
  key: `${callId}:${kind}:${deviceId}`,
  userId: "bob",
  deviceId,
  callId,
  kind,
  channel: "gateway",
  payload: JSON.stringify({ kind, callId }),
  urgency: "high",
  topic: `t-${callId}`,
  expiresAtMs: 100_000,
});

const adapters: Record<string, () => NotificationOutbox> = {
  "sqlite file": () => createSqliteNotificationOutbox({ path: join(dir, `o-${Math.random()}.db`) }),
  "sqlite :memory:": () => createSqliteNotificationOutbox({ path: ":memory:" }),
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`NotificationOutbox contract: ${name}`, () => {
    it("enqueues once per key and reports only the new keys", async () => {
      const o = make();
      assert.deepEqual(await o.enqueue([note("c1", "d1"), note("c1", "d2")], 10), [
        "c1:incoming_call:d1",
        "c1:incoming_call:d2",
      ]);
      assert.deepEqual(await o.enqueue([note("c1", "d1"), note("c1", "d3")], 11), ["c1:incoming_call:d3"]);
      assert.equal(await o.pendingCount(), 3);
      const rec = await o.get("c1:incoming_call:d1");
      assert.equal(rec?.status, "pending");
      assert.equal(rec?.attempts, 0);
      assert.equal(rec?.createdAtMs, 10);
      assert.deepEqual(
        { ...rec, status: undefined, attempts: undefined, createdAtMs: undefined, nextAttemptAtMs: undefined },
        {
          ...note("c1", "d1"),
          status: undefined,
          attempts: undefined,
          createdAtMs: undefined,
          nextAttemptAtMs: undefined,
        },
      );
      await o.close();
    });

    it("claims due rows with a lease, reschedules with an attempt, releases without one", async () => {
      const o = make();
      await o.enqueue([note("c1", "d1")], 10);
      await o.enqueue([note("c2", "d1")], 20);
      assert.deepEqual(
        (await o.claimDue(15, 10, 1000)).map((r) => r.key),
        ["c1:incoming_call:d1"],
      );
      assert.deepEqual(
        (await o.claimDue(20, 10, 1000)).map((r) => r.key),
        ["c2:incoming_call:d1"],
      );
      assert.deepEqual(await o.claimDue(500, 10, 1000), [], "leased rows are not due again");
      assert.equal(await o.nextDueAtMs(), 1015);
      assert.deepEqual(
        (await o.claimDue(1015, 10, 1000)).map((r) => r.key),
        ["c1:incoming_call:d1"],
        "lease ended",
      );
      await o.reschedule("c1:incoming_call:d1", 3000, "HTTP 503");
      await o.release("c2:incoming_call:d1", 40);
      assert.deepEqual(
        (await o.claimDue(2999, 10, 1000)).map((r) => r.key),
        ["c2:incoming_call:d1"],
      );
      const c1 = await o.get("c1:incoming_call:d1");
      assert.equal(c1?.attempts, 1);
      assert.equal(c1?.lastError, "HTTP 503");
      assert.equal(c1?.nextAttemptAtMs, 3000);
      assert.equal((await o.get("c2:incoming_call:d1"))?.attempts, 0);
      assert.equal((await o.claimDue(3000, 1, 1000))[0]?.key, "c1:incoming_call:d1", "limit respected");
      await o.close();
    });

    it("settles once; a settled key stays deduplicated until purged", async () => {
      const o = make();
      await o.enqueue([note("c1", "d1")], 10);
      await o.settle("c1:incoming_call:d1", "sent", 50, true);
      await o.settle("c1:incoming_call:d1", "failed", 60, true, "late");
      const rec = await o.get("c1:incoming_call:d1");
      assert.equal(rec?.status, "sent");
      assert.equal(rec?.attempts, 1);
      assert.equal(rec?.settledAtMs, 50);
      assert.equal(await o.pendingCount(), 0);
      assert.equal(await o.nextDueAtMs(), undefined);
      assert.deepEqual(await o.claimDue(1e9, 10, 1), []);
      assert.deepEqual(await o.enqueue([note("c1", "d1")], 70), []);
      assert.equal(await o.purgeSettled(50), 0);
      assert.equal(await o.purgeSettled(51), 1);
      assert.deepEqual(await o.enqueue([note("c1", "d1")], 80), ["c1:incoming_call:d1"]);
      await o.close();
    });

    it("drops the pending rows of one call and kind, leaving settled and other rows", async () => {
      const o = make();
      await o.enqueue([note("c1", "d1"), note("c1", "d2"), note("c1", "d1", "missed_call"), note("c2", "d1")], 10);
      await o.settle("c1:incoming_call:d2", "sent", 20, true);
      const dropped = await o.dropPending("c1", "incoming_call", 30, "superseded");
      assert.deepEqual(
        dropped.map((r) => [r.key, r.status]),
        [["c1:incoming_call:d1", "dropped"]],
      );
      assert.deepEqual(
        (await o.listForCall("c1")).map((r) => [r.key, r.status]),
        [
          ["c1:incoming_call:d1", "dropped"],
          ["c1:incoming_call:d2", "sent"],
          ["c1:missed_call:d1", "pending"],
        ],
      );
      assert.equal((await o.get("c1:incoming_call:d1"))?.lastError, "superseded");
      await o.close();
    });
  });
}

describe("sqlite outbox", () => {
  it("keeps pending rows across reopen", async () => {
    const path = join(dir, "reopen.db");
    const a = createSqliteNotificationOutbox({ path });
    await a.enqueue([note("c1", "d1")], 10);
    await a.close();
    const b = createSqliteNotificationOutbox({ path });
    assert.deepEqual(
      (await b.claimDue(10, 10, 100)).map((r) => r.key),
      ["c1:incoming_call:d1"],
    );
    await b.close();
  });
});
