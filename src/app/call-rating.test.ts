/** Unit tests of the rating service over the embedded store (docs/spec.md §15 "Post-call rating"). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { callOf, completed } from "../adapters/store/call-store.contract.ts";
import { createSqliteCallStore } from "../adapters/store/sqlite-call-store.ts";
import { type DomainErrorCode, isDomainError } from "../domain/errors.ts";
import type { CallRating } from "../domain/rating.ts";
import { createCallRatings } from "./call-rating.ts";

const ids = {
  answered: "0190f3a2-0000-7000-8000-000000000001",
  ringing: "0190f3a2-0000-7000-8000-000000000002",
  declined: "0190f3a2-0000-7000-8000-000000000003",
  inProgress: "0190f3a2-0000-7000-8000-000000000004",
};

async function setUp(sampleRate = 1) {
  const store = createSqliteCallStore(":memory:");
  const clock = createManualClock(1_000_000);
  const counted: CallRating[] = [];
  const ratings = createCallRatings({ store, clock, sampleRate, metrics: { rated: (r) => counted.push(r) } });
  const at = clock.now();
  const answered = callOf(ids.answered, "alice", "bob", at);
  await store.recordStart(answered);
  await store.finalize(answered, completed(answered));
  const declined = callOf(ids.declined, "alice", "bob", at);
  await store.finalize(declined, { outcome: "declined", reason: "declined", endedAtMs: at + 3000 });
  await store.recordStart(callOf(ids.ringing, "alice", "bob", at));
  await store.recordStart(callOf(ids.inProgress, "alice", "bob", at));
  await store.recordAnswer(ids.inProgress, "bob-phone", at + 1000);
  return { store, clock, ratings, counted };
}

const refused = (code: DomainErrorCode, message: RegExp) => (e: unknown) =>
  isDomainError(e, code) && message.test(e.message);

test("a participant's rating is stored on their side and counted once; a retry writes nothing", async () => {
  const { store, clock, ratings, counted } = await setUp();
  clock.advance(60_000);
  const record = await ratings.rate("bob", ids.answered, { score: 4, reasons: ["echo"], comment: " ok " });
  const want = { score: 4, reasons: ["echo"], comment: "ok", ratedAtMs: clock.now() };
  assert.deepEqual(record.calleeRating, want);
  assert.deepEqual((await store.get(ids.answered))?.calleeRating, want);
  clock.advance(1000);
  assert.deepEqual(
    (await ratings.rate("bob", ids.answered, { score: 4, reasons: ["echo"], comment: "ok" })).calleeRating,
    want,
    "a retry keeps the first rating's time",
  );
  assert.equal(counted.length, 1);
  await ratings.rate("alice", ids.answered, { score: 5, reasons: [], comment: "" });
  assert.equal((await store.get(ids.answered))?.callerRating?.score, 5);
  assert.equal(counted.length, 2);
  await store.close();
});

test("a later rating replaces the earlier one without being counted again", async () => {
  const { store, ratings, counted } = await setUp();
  await ratings.rate("bob", ids.answered, { score: 4, reasons: [], comment: "" });
  await ratings.rate("bob", ids.answered, { score: 2, reasons: ["dropped"], comment: "" });
  assert.equal((await store.get(ids.answered))?.calleeRating?.score, 2);
  assert.deepEqual(
    counted.map((r) => r.score),
    [4],
  );
  await store.close();
});

test("refusals: bad input, unknown call, outsider, not ended, not answered, not asked", async () => {
  const { store, ratings, counted } = await setUp();
  const ok = { score: 3, reasons: [], comment: "" };
  await assert.rejects(ratings.rate("bob", ids.answered, { ...ok, score: 0 }), refused("invalid_argument", /1 to 5/));
  await assert.rejects(ratings.rate("bob", "nope", ok), refused("invalid_argument", /call_id/));
  await assert.rejects(
    ratings.rate("bob", "0190f3a2-0000-7000-8000-00000000ffff", ok),
    refused("not_found", /no such/),
  );
  await assert.rejects(ratings.rate("eve", ids.answered, ok), refused("permission_denied", /participants/));
  await assert.rejects(ratings.rate("bob", ids.ringing, ok), refused("illegal_transition", /not ended/));
  await assert.rejects(ratings.rate("bob", ids.inProgress, ok), refused("illegal_transition", /not ended/));
  await assert.rejects(ratings.rate("bob", ids.declined, ok), refused("illegal_transition", /answered/));
  assert.equal(counted.length, 0);
  await store.close();

  const unsampled = await setUp(0);
  const record = await unsampled.store.get(ids.answered);
  assert.ok(record && !unsampled.ratings.requested(record));
  await assert.rejects(unsampled.ratings.rate("bob", ids.answered, ok), refused("illegal_transition", /not asked/));
  await unsampled.store.close();
});

test("requested: only answered, ended calls in the sample", async () => {
  const { store, ratings } = await setUp();
  const asked = async (id: string) => ratings.requested((await store.get(id)) ?? assert.fail(id));
  assert.deepEqual(await Promise.all([ids.answered, ids.declined, ids.ringing, ids.inProgress].map(asked)), [
    true,
    false,
    false,
    false,
  ]);
  await store.close();
});
