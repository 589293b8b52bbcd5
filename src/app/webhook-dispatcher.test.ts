/**
 * The webhook dispatcher (docs/spec.md §9 "Webhooks") over the embedded store and state, on a
 * manual clock, with a scripted sender: in log order per partition, retried with backoff, the
 * schedule stored and continued by a new dispatcher, dead-lettered after the last attempt or at
 * once when refused, only the claimed partitions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { samePartitionId } from "../adapters/store/call-event-log.contract.ts";
import { callOf, missed } from "../adapters/store/call-store.contract.ts";
import { createSqliteCallStore } from "../adapters/store/sqlite-call-store.ts";
import { createSqliteWebhookState } from "../adapters/webhooks/sqlite-webhook-state.ts";
import type { AttemptResult } from "../domain/webhooks.ts";
import { createCallEventFeed } from "./call-event-feed.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { PartitionClaims } from "./ports/partition-claims.ts";
import type { WebhookEndpoint } from "./ports/webhook-sender.ts";
import type { WebhookState } from "./ports/webhook-state.ts";
import { createWebhookDispatcher } from "./webhook-dispatcher.ts";

const endpoint: WebhookEndpoint = {
  name: "chat",
  url: "http://unused",
  secrets: [],
  filter: { kinds: [], outcomes: [] },
};
const quiet = { attempted() {}, delivered() {}, deadLettered() {}, owned() {} };
const fail: AttemptResult = { result: "retry", error: "HTTP 500", status: 500 };
const ok: AttemptResult = { result: "delivered", status: 200 };

function setup(answer: (eventId: string, nth: number) => AttemptResult, claims?: PartitionClaims) {
  const clock = createManualClock();
  const store = createSqliteCallStore(":memory:");
  const state = createSqliteWebhookState(":memory:");
  const attempts: { eventId: string; atMs: number }[] = [];
  const build = (s: WebhookState = state) =>
    createWebhookDispatcher({
      endpoints: [endpoint],
      feed: createCallEventFeed({
        log: store,
        clock,
        metrics: { subscribed() {}, streamed() {} },
        pollIntervalMs: 100,
        heartbeatIntervalMs: 1000,
        pageSize: 10,
      }),
      state: s,
      sender: {
        async send(_e, event) {
          attempts.push({ eventId: event.eventId, atMs: clock.now() });
          return answer(event.eventId, attempts.filter((a) => a.eventId === event.eventId).length);
        },
      },
      claims: claims ?? { owns: () => true, async close() {} },
      clock,
      metrics: quiet,
      logger: pino({ level: "silent" }),
      retry: { maxAttempts: 4, initialBackoffMs: 1000, maxBackoffMs: 4000 },
      claimCheckIntervalMs: 100,
      random: () => 0.5,
    });
  /** Moves the clock in small steps, letting I/O run, until `done` holds. */
  const until = async (done: () => boolean | Promise<boolean>, what: string) => {
    for (let i = 0; i < 2000; i++) {
      if (await done()) return;
      clock.advance(50);
      await new Promise((r) => setImmediate(r));
    }
    assert.fail(`never: ${what} (attempts ${JSON.stringify(attempts)})`);
  };
  return { clock, store, state, attempts, build, until };
}

/** A call in `partition` that rings and is missed. */
async function missedCall(store: CallStore, partition: number, name: string) {
  const call = callOf(samePartitionId(partition, name), "alice", "bob", 1_700_000_001_000);
  await store.recordStart(call);
  await store.finalize(call, missed(call));
  return call.callId;
}

test("a failing event holds its partition back: retried with doubling backoff, then its call's later events", async () => {
  const t = setup((id, nth) => (id.endsWith(":started") && nth <= 2 ? fail : ok));
  const d = t.build();
  d.start();
  await t.until(async () => (await t.state.cursor("chat", 3)) !== undefined, "the worker's first cursor");
  const callId = await missedCall(t.store, 3, "hol");
  await t.until(() => t.attempts.some((a) => a.eventId === `${callId}:ended`), "the ended event");
  const ids = t.attempts.map((a) => a.eventId);
  assert.deepEqual(ids, [`${callId}:started`, `${callId}:started`, `${callId}:started`, `${callId}:ended`]);
  const [a, b, c] = t.attempts.map((x) => x.atMs) as [number, number, number];
  assert.ok(b - a >= 750 && b - a < 1000 + 100, `first retry after ~750 ms (jitter 0.5 of 1 s): ${b - a}`);
  assert.ok(c - b >= 1500 && c - b < 1500 + 100, `second after ~1.5 s: ${c - b}`);
  await d.stop();
  assert.equal((await t.state.cursor("chat", 3))?.pending, undefined, "nothing pending once delivered");
});

test("a new dispatcher on the stored state continues the schedule: attempts counted on, then dead-lettered", async () => {
  const t = setup(() => fail);
  const first = t.build();
  first.start();
  await t.until(async () => (await t.state.cursor("chat", 5)) !== undefined, "the worker's first cursor");
  const callId = await missedCall(t.store, 5, "restart");
  const started = `${callId}:started`;
  await t.until(async () => (await t.state.cursor("chat", 5))?.pending?.attempts === 2, "two failed attempts stored");
  await first.stop();
  const second = t.build();
  second.start();
  await t.until(async () => (await t.state.deadLetters("chat", 10)).length > 0, "the dead letter");
  assert.equal(t.attempts.filter((a) => a.eventId === started).length, 4, "four attempts in all, not 2 + 4");
  const [letter] = await t.state.deadLetters("chat", 10);
  assert.deepEqual(
    {
      eventId: letter?.eventId,
      attempts: letter?.attempts,
      lastError: letter?.lastError,
      partition: letter?.partition,
    },
    { eventId: started, attempts: 4, lastError: "HTTP 500", partition: 5 },
  );
  await t.until(() => t.attempts.some((a) => a.eventId === `${callId}:ended`), "the worker moved on to ended");
  await second.stop();
});

test("a refused event is dead-lettered at once and the partition moves on", async () => {
  const t = setup((id) => (id.endsWith(":started") ? { result: "rejected", error: "HTTP 400", status: 400 } : ok));
  const d = t.build();
  d.start();
  await t.until(async () => (await t.state.cursor("chat", 7)) !== undefined, "the worker's first cursor");
  const callId = await missedCall(t.store, 7, "refused");
  await t.until(() => t.attempts.some((a) => a.eventId === `${callId}:ended`), "the ended event");
  assert.deepEqual(
    t.attempts.map((a) => a.eventId),
    [`${callId}:started`, `${callId}:ended`],
  );
  assert.deepEqual(
    (await t.state.deadLetters("chat", 10)).map((l) => [l.eventId, l.attempts]),
    [[`${callId}:started`, 1]],
  );
  assert.equal(await t.state.removeDeadLetter("chat", `${callId}:started`), true);
  assert.deepEqual(await t.state.deadLetters("chat", 10), []);
  await d.stop();
});

test("only the partitions the claims hold are delivered, and a partition given up stops", async () => {
  let mine = new Set([1, 2]);
  const t = setup(() => ok, { owns: (_e, p) => mine.has(p), async close() {} });
  const d = t.build();
  d.start();
  await t.until(async () => (await t.state.cursor("chat", 2)) !== undefined, "partition 2's first cursor");
  assert.equal(await t.state.cursor("chat", 4), undefined, "partition 4 is not this node's");
  const theirs = await missedCall(t.store, 4, "theirs");
  const ours = await missedCall(t.store, 2, "ours");
  await t.until(() => t.attempts.some((a) => a.eventId === `${ours}:ended`), "our partition's events");
  mine = new Set([1]);
  t.clock.advance(200);
  await new Promise((r) => setImmediate(r));
  const later = await missedCall(t.store, 2, "later");
  t.clock.advance(2000);
  await t.until(async () => (await t.state.cursor("chat", 1)) !== undefined, "partition 1 runs on");
  for (let i = 0; i < 20; i++) {
    t.clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(!t.attempts.some((a) => a.eventId.startsWith(theirs) || a.eventId.startsWith(later)));
  await d.stop();
});
