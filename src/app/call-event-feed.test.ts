/** The call event feed (docs/spec.md §9 "Call events") over the embedded store, on a manual clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { samePartitionId } from "../adapters/store/call-event-log.contract.ts";
import { callOf, missed } from "../adapters/store/call-store.contract.ts";
import { createSqliteCallStore } from "../adapters/store/sqlite-call-store.ts";
import { checkGroupMember } from "../domain/call-events.ts";
import { isDomainError } from "../domain/errors.ts";
import { createCallEventFeed, type FeedItem } from "./call-event-feed.ts";

const quiet = { subscribed() {}, streamed() {} };

function setup() {
  const store = createSqliteCallStore(":memory:");
  const clock = createManualClock();
  const feed = createCallEventFeed({
    log: store,
    clock,
    metrics: quiet,
    pollIntervalMs: 100,
    heartbeatIntervalMs: 1000,
    pageSize: 2,
  });
  return { store, clock, feed };
}

test("a feed opens with a heartbeat, then sends its partitions' events with the positions after each", async () => {
  const { store, feed } = setup();
  const abort = new AbortController();
  const member = checkGroupMember("chat", 1, 2);
  const it = feed.open(member, undefined, abort.signal)[Symbol.asyncIterator]();
  const first = (await it.next()).value as FeedItem;
  assert.equal(first.event, undefined);
  assert.deepEqual([...first.positions.keys()], [1, 3, 5, 7, 9, 11, 13, 15]);
  const mine = callOf(samePartitionId(3, "feed-mine"), "alice", "bob", 1000);
  const other = callOf(samePartitionId(2, "feed-other"), "alice", "bob", 1000);
  for (const call of [other, mine]) {
    await store.recordStart(call);
    await store.finalize(call, missed(call));
  }
  const got: FeedItem[] = [(await it.next()).value as FeedItem, (await it.next()).value as FeedItem];
  assert.deepEqual(
    got.map((i) => i.event?.eventId),
    [`${mine.callId}:started`, `${mine.callId}:ended`],
  );
  assert.deepEqual(got[1]?.positions.get(3), got[1]?.event?.position);
  abort.abort();
  assert.equal((await it.next()).done, true, "the feed ends when its signal aborts");
  await store.close();
});

test("a feed resumed from positions lacking one of the member's partitions is invalid_argument", async () => {
  const { store, feed } = setup();
  const member = checkGroupMember("chat", 0, 1);
  const from = new Map([[0, { seq: 0, eventId: "" }]]);
  await assert.rejects(
    feed.open(member, from, new AbortController().signal)[Symbol.asyncIterator]().next(),
    (e: unknown) => isDomainError(e, "invalid_argument") && /no position for partition 1/.test(e.message),
  );
  await store.close();
});

test("member counts and indexes outside the partitions are invalid_argument", () => {
  for (const [index, count] of [
    [0, 17],
    [2, 2],
    [-1, 1],
    [0.5, 2],
  ] as const) {
    assert.throws(
      () => checkGroupMember("chat", index, count),
      (e: unknown) => isDomainError(e, "invalid_argument"),
    );
  }
  assert.equal(checkGroupMember("chat", 0, 0).count, 1, "0 means one member");
});
