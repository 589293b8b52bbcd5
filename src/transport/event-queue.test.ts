import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SessionEvent } from "../app/session-events.ts";
import { isDomainError } from "../domain/errors.ts";
import { createEventQueue } from "./event-queue.ts";

const event = (seq: number): SessionEvent => ({
  seq,
  sentAtMs: seq,
  body: { type: "missed_call", callId: `c${seq}`, callerUserId: "x", startedAtMs: seq },
});

/** Takes every event until the queue ends; the error it ended with, if any. */
async function drain(events: AsyncIterable<SessionEvent>): Promise<{ seqs: number[]; error?: unknown }> {
  const seqs: number[] = [];
  try {
    for await (const e of events) seqs.push(e.seq);
    return { seqs };
  } catch (error) {
    return { seqs, error };
  }
}

describe("event queue", () => {
  test("a stream more than maxQueued events behind is closed with limit_exceeded, after what was queued", async () => {
    const queue = createEventQueue(3);
    queue.replayed();
    for (let seq = 1; seq <= 5; seq++) queue.sink.push(event(seq));
    const { seqs, error } = await drain(queue.events);
    assert.deepEqual(seqs, [1, 2, 3]);
    assert.ok(isDomainError(error) && error.code === "limit_exceeded", String(error));
    assert.match((error as Error).message, /client is not reading its stream; resume to catch up/);
  });

  test("the replay does not count against the bound: a resumed stream gets it all, then the bound applies to live events", async () => {
    const queue = createEventQueue(2);
    for (let seq = 1; seq <= 10; seq++) queue.sink.push(event(seq));
    queue.replayed();
    queue.sink.push(event(11));
    queue.sink.push(event(12));
    queue.sink.push(event(13)); // a third live event behind: cut off
    const { seqs, error } = await drain(queue.events);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.ok(isDomainError(error) && error.code === "limit_exceeded", String(error));
  });

  test("once the replay is taken, the bound counts every queued event again", async () => {
    const queue = createEventQueue(2);
    queue.sink.push(event(1));
    queue.replayed();
    const it = queue.events[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.seq, 1);
    for (let seq = 2; seq <= 4; seq++) queue.sink.push(event(seq));
    const rest: number[] = [];
    await assert.rejects(async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.seq);
    }, /client is not reading its stream/);
    assert.deepEqual(rest, [2, 3]);
  });
});
