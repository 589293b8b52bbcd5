/**
 * The call event log contract (src/app/ports/call-event-log.ts, docs/spec.md §9 "Call events"),
 * run by every CallStore adapter beside the CallStore contract. Stores may hold events back for a
 * settle window, so reads poll (with a deadline) until the events expected have settled.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { LoggedCallEvent } from "../../app/ports/call-event-log.ts";
import type { CallStore } from "../../app/ports/call-store.ts";
import { type EventPosition, eventPartitionCount, eventPartitionOf } from "../../domain/call-events.ts";
import { callOf, completed, missed, type OpenStore } from "./call-store.contract.ts";

/** Everything a reader of `partition` gets from `from` on, page by page (of `pageSize`), and where it ends. */
export async function readFrom(
  store: CallStore,
  partition: number,
  from: EventPosition,
  pageSize = 100,
): Promise<{ events: LoggedCallEvent[]; next: EventPosition }> {
  const events: LoggedCallEvent[] = [];
  let next = from;
  for (;;) {
    const page = await store.readEvents(partition, next, pageSize);
    events.push(...page.events);
    next = page.next;
    if (page.events.length < pageSize) return { events, next };
  }
}

/**
 * Reads `partition` from `from` until `done` holds for what was read (polling while the store
 * settles, failing after `timeoutMs`); returns the events and where a reader goes on.
 */
export async function readUntil(
  store: CallStore,
  partition: number,
  from: EventPosition,
  done: (events: readonly LoggedCallEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<{ events: LoggedCallEvent[]; next: EventPosition }> {
  const events: LoggedCallEvent[] = [];
  let next = from;
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const page = await readFrom(store, partition, next, 2);
    events.push(...page.events);
    next = page.next;
    if (done(events)) return { events, next };
    if (Date.now() > deadline) {
      throw new Error(`timed out reading partition ${partition}: ${JSON.stringify(events.map((e) => e.eventId))}`);
    }
    await delay(50);
  }
}

const idsOf = (events: readonly LoggedCallEvent[], callId?: string) =>
  events.filter((e) => callId === undefined || e.call.callId === callId).map((e) => e.eventId);

/** Runs the contract against stores from `open` (each test gets a fresh one and closes it). */
export function callEventLogContract(name: string, open: OpenStore): void {
  const withStore = (title: string, fn: (store: CallStore) => Promise<void>) =>
    test(title, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  const t0 = Date.now();

  describe(`CallEventLog contract: ${name}`, () => {
    withStore(
      "a call's start, answer and end are logged once each, in order, in the call's partition",
      async (store) => {
        const head = await store.headPosition();
        const call = callOf("ev-1", "alice", "bob", t0);
        const end = completed(call);
        await store.recordStart(call);
        await store.recordAnswer(call.callId, "bob-phone", end.answeredAtMs ?? 0);
        assert.equal(await store.finalize(call, end), true);
        const p = eventPartitionOf(call.callId);
        const { events } = await readUntil(store, p, head, (e) => e.length >= 3);
        assert.deepEqual(idsOf(events), ["ev-1:started", "ev-1:answered", "ev-1:ended"]);
        assert.deepEqual(
          events.map((e) => [e.kind, e.partition]),
          [
            ["started", p],
            ["answered", p],
            ["ended", p],
          ],
        );
        const ended = events[2]?.call;
        assert.equal(ended?.outcome, "completed");
        assert.equal(ended?.answeredDeviceId, "bob-phone");
        assert.equal(ended?.caller.userId, "alice");
        for (let other = 0; other < eventPartitionCount; other++) {
          if (other !== p) assert.deepEqual(idsOf((await readFrom(store, other, head)).events, call.callId), []);
        }
      },
    );

    withStore("retried writes, and writes that changed nothing, log nothing more", async (store) => {
      const head = await store.headPosition();
      const call = callOf("ev-2", "alice", "bob", t0);
      const end = completed(call);
      await store.recordStart(call);
      await store.recordStart(call);
      await store.recordAnswer(call.callId, "bob-phone", end.answeredAtMs ?? 0);
      await store.recordAnswer(call.callId, "bob-tablet", end.answeredAtMs ?? 0);
      assert.equal(await store.finalize(call, end), true);
      assert.equal(await store.finalize(call, missed(call)), false, "a second outcome is not set");
      await store.recordAnswer(call.callId, "bob-tablet", end.answeredAtMs ?? 0);
      // An answer of a call never started changes nothing and logs nothing.
      await store.recordAnswer("ev-none", "bob-phone", t0);
      const p = eventPartitionOf(call.callId);
      const first = await readUntil(store, p, head, (e) => e.length >= 3);
      // A marker call in the same partition written after: once it is read, nothing else can follow.
      const marker = callOf(samePartitionId(p, "ev-2-marker"), "carol", "dave", t0);
      await store.recordStart(marker);
      const rest = await readUntil(store, p, first.next, (e) => e.some((x) => x.call.callId === marker.callId));
      assert.deepEqual(idsOf([...first.events, ...rest.events]), [
        "ev-2:started",
        "ev-2:answered",
        "ev-2:ended",
        `${marker.callId}:started`,
      ]);
      assert.deepEqual(idsOf((await readFrom(store, eventPartitionOf("ev-none"), head)).events, "ev-none"), []);
    });

    withStore("a finalize that creates the record logs its end alone; a missed call ends missed", async (store) => {
      const head = await store.headPosition();
      const call = callOf("ev-3", "alice", "bob", t0);
      assert.equal(await store.finalize(call, missed(call)), true);
      const { events } = await readUntil(store, eventPartitionOf(call.callId), head, (e) => e.length >= 1);
      assert.deepEqual(idsOf(events), ["ev-3:ended"]);
      assert.equal(events[0]?.call.outcome, "missed");
    });

    withStore("a reader resuming page by page from each page's `next` gets every event once", async (store) => {
      const head = await store.headPosition();
      const p = 3;
      const calls = Array.from({ length: 5 }, (_, i) => callOf(samePartitionId(p, `ev-4-${i}`), "alice", "bob", t0));
      for (const call of calls) await store.recordStart(call);
      for (const call of calls) await store.finalize(call, missed(call));
      const all = await readUntil(store, p, head, (e) => e.length >= 10);
      let next = head;
      const paged: string[] = [];
      while (paged.length < 10) {
        const page = await store.readEvents(p, next, 3);
        paged.push(...page.events.map((e) => e.eventId));
        next = page.next;
      }
      assert.deepEqual(paged, idsOf(all.events));
      assert.deepEqual(paged, [...calls.map((c) => `${c.callId}:started`), ...calls.map((c) => `${c.callId}:ended`)]);
      assert.deepEqual((await store.readEvents(p, next, 3)).events, [], "nothing after the last event");
      const later = callOf(samePartitionId(p, "ev-4-later"), "alice", "bob", t0);
      await store.recordStart(later);
      const more = await readUntil(store, p, next, (e) => e.length >= 1);
      assert.deepEqual(idsOf(more.events), [`${later.callId}:started`]);
    });

    withStore("a reader starting at the head gets only events logged after it", async (store) => {
      const before = callOf(samePartitionId(5, "ev-5-before"), "alice", "bob", t0);
      await store.recordStart(before);
      const first = await readUntil(store, 5, { seq: 0, eventId: "" }, (e) => e.length >= 1);
      assert.deepEqual(idsOf(first.events), [`${before.callId}:started`]);
      const head = await store.headPosition();
      const afterHead = callOf(samePartitionId(5, "ev-5-after"), "alice", "bob", t0);
      await store.recordStart(afterHead);
      const { events } = await readUntil(store, 5, head, (e) => e.length >= 1);
      assert.deepEqual(idsOf(events), [`${afterHead.callId}:started`]);
    });
  });
}

/** A call id starting with `prefix` whose events are in `partition`. */
export function samePartitionId(partition: number, prefix: string): string {
  for (let i = 0; ; i++) if (eventPartitionOf(`${prefix}-${i}`) === partition) return `${prefix}-${i}`;
}
