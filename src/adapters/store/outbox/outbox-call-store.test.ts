/** The outbox decorator over the embedded store made to fail on demand. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { CallStore } from "../../../app/ports/call-store.ts";
import { eventPartitionOf } from "../../../domain/call-events.ts";
import { DomainError, isDomainError } from "../../../domain/errors.ts";
import { createSystemClock } from "../../clock/system-clock.ts";
import { callEventLogContract, readUntil } from "../call-event-log.contract.ts";
import { allPages, callOf, callStoreContract, completed, missed, sampleAt } from "../call-store.contract.ts";
import { createSqliteCallStore } from "../sqlite-call-store.ts";
import { createOutboxCallStore, type OutboxCallStore, type OutboxLogger } from "./outbox-call-store.ts";
import { openOutboxQueue } from "./outbox-queue.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-outbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const clock = createSystemClock();
const t0 = Date.UTC(2026, 2, 1, 12);
let files = 0;

/** A store that throws `unavailable` (or hangs, holds writes, or rejects for good) on demand. */
function flaky(inner: CallStore) {
  const state = {
    down: false,
    hang: false,
    poison: new Set<string>(),
    lostAnswer: new Set<string>(),
    gate: undefined as Promise<void> | undefined,
  };
  const guard = <T>(callId: string | undefined, fn: () => Promise<T>): Promise<T> => {
    if (state.hang) return new Promise<T>(() => {});
    // Writes wait for the gate (a slow store); reads do not.
    if (state.gate && callId) return state.gate.then(fn);
    if (state.down) return Promise.reject(new DomainError("unavailable", "down"));
    if (callId && state.poison.has(callId)) return Promise.reject(new Error("bad row"));
    if (callId && state.lostAnswer.delete(callId)) {
      return fn().then(() => Promise.reject(new DomainError("unavailable", "connection reset")));
    }
    return fn();
  };
  const store: CallStore = {
    recordStart: (c) => guard(c.callId, () => inner.recordStart(c)),
    recordAnswer: (id, d, at) => guard(id, () => inner.recordAnswer(id, d, at)),
    finalize: (c, e, q) => guard(c.callId, () => inner.finalize(c, e, q)),
    get: (id) => guard(undefined, () => inner.get(id)),
    listForUser: (q) => guard(undefined, () => inner.listForUser(q)),
    addSampleWindow: (id, w) => guard(id, () => inner.addSampleWindow(id, w)),
    rate: (id, side, r) => guard(id, () => inner.rate(id, side, r)),
    listSamples: (id) => guard(undefined, () => inner.listSamples(id)),
    listOverdueRinging: (b, l) => guard(undefined, () => inner.listOverdueRinging(b, l)),
    readEvents: (p, a, l) => guard(undefined, () => inner.readEvents(p, a, l)),
    headPosition: () => guard(undefined, () => inner.headPosition()),
    close: () => inner.close(),
  };
  return { store, state };
}

function outbox(
  inner: CallStore,
  path = join(dir, `q${files++}.db`),
  maxPending?: number,
  logger?: OutboxLogger,
): OutboxCallStore {
  return createOutboxCallStore({
    inner,
    path,
    clock,
    ...(logger ? { logger } : {}),
    retryMinMs: 5,
    retryMaxMs: 20,
    readTimeoutMs: 100,
    ...(maxPending ? { maxPending } : {}),
  });
}

// The decorator must not change what the store means.
callStoreContract("outbox over sqlite", async () => outbox(createSqliteCallStore(":memory:")));
callEventLogContract("outbox over sqlite", async () => outbox(createSqliteCallStore(":memory:")));

test("writes during an outage are queued, replayed in order when the store returns, each once", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner);
  const set: string[] = [];
  store.onOutcomeSet((call, end) => set.push(`${call.callId}:${end.outcome}`));
  try {
    const before = callOf("before", "alice", "bob", t0);
    await store.recordStart(before);
    state.down = true;
    const calls = [0, 1, 2, 3].map((i) => callOf(`out-${i}`, "alice", "bob", t0 + (i + 1) * 60_000));
    for (const call of calls) {
      await store.recordStart(call);
      await store.recordAnswer(call.callId, "bob-phone", call.startedAtMs + 1000);
      const sample = { ...sampleAt(call.startedAtMs + 2000), userId: "alice" };
      await store.addSampleWindow(call.callId, { key: `${call.startedAtMs}-n1-0`, samples: [sample] });
      // Whether it sets the outcome is known on replay only (another node may set one first).
      assert.equal(await store.finalize(call, completed(call)), false, "queued, not yet set");
      assert.equal(await store.finalize(call, missed(call)), false, "second finalize while queued");
      await store.rate(call.callId, "callee", { score: 4, reasons: ["echo"], ratedAtMs: call.startedAtMs + 9000 });
    }
    assert.equal(store.pending(), 24);
    await assert.rejects(store.get("before"), (e: unknown) => isDomainError(e, "unavailable"));
    await assert.rejects(store.listForUser({ userId: "bob", limit: 5, missedOnly: false }), (e: unknown) =>
      isDomainError(e, "unavailable"),
    );
    state.down = false;
    await store.drained();
    assert.equal(store.pending(), 0);
    assert.deepEqual(set.sort(), ["out-0:completed", "out-1:completed", "out-2:completed", "out-3:completed"]);
    assert.deepEqual(await allPages(store, "bob", 2), ["out-3", "out-2", "out-1", "out-0", "before"]);
    for (const call of calls) {
      const got = await store.get(call.callId);
      assert.equal(got?.outcome, "completed");
      assert.equal(got?.answeredAtMs, call.startedAtMs + 1000);
      assert.equal((await store.listSamples(call.callId)).length, 1);
      assert.equal(got?.calleeRating?.score, 4, "the rating queued behind the finalize");
    }
  } finally {
    await store.close();
  }
});

test("a queue left by a closed process is replayed by the next one", async () => {
  const path = join(dir, "restart.db");
  const db = join(dir, "restart-store.db");
  const first = flaky(createSqliteCallStore(db));
  first.state.down = true;
  const store1 = outbox(first.store, path);
  const call = callOf("kept", "alice", "bob", t0);
  await store1.recordStart(call);
  await store1.finalize(call, missed(call));
  assert.equal(store1.pending(), 2);
  await store1.close();

  const store2 = outbox(createSqliteCallStore(db), path);
  try {
    await store2.drained();
    // Replayed before anyone listened: kept for the first listener (the server subscribes after building the store).
    const set: string[] = [];
    store2.onOutcomeSet((c, end) => set.push(`${c.callId}:${end.outcome}`));
    assert.deepEqual(set, ["kept:missed"], "the process that replayed the finalize learns it set the outcome");
    assert.equal((await store2.get("kept"))?.outcome, "missed");
    assert.deepEqual(await allPages(store2, "bob", 5, true), ["kept"]);
  } finally {
    await store2.close();
  }
});

test("samples queued one participant at a time by a process from before sample windows replay as a window", async () => {
  const path = join(dir, "legacy.db");
  const queue = openOutboxQueue(path, () => t0);
  const samples = [sampleAt(t0 + 2000), sampleAt(t0 + 4000)];
  await queue.append({ op: "addSamples", callId: "old", args: ["old", "alice", samples] });
  await queue.append({ op: "addSamples", callId: "old", args: ["old", "alice", samples] });
  queue.close();
  const store = outbox(createSqliteCallStore(":memory:"), path);
  try {
    await store.drained();
    assert.deepEqual(
      await store.listSamples("old"),
      samples.map((s) => ({ ...s, userId: "alice" })),
    );
  } finally {
    await store.close();
  }
});

test("an entry the store rejects for good is set aside; the rest still replay", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner);
  try {
    state.down = true;
    await store.recordStart(callOf("bad", "alice", "bob", t0));
    await store.recordStart(callOf("good", "alice", "bob", t0 + 1));
    state.poison.add("bad");
    state.down = false;
    await store.drained();
    assert.equal(await store.get("bad"), undefined);
    assert.ok(await store.get("good"));
  } finally {
    await store.close();
  }
});

test("a full outbox fails writes loudly", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner, undefined, 2);
  try {
    state.down = true;
    await store.recordStart(callOf("a", "alice", "bob", t0));
    await store.recordStart(callOf("b", "alice", "bob", t0));
    await assert.rejects(store.recordStart(callOf("c", "alice", "bob", t0)), (e: unknown) =>
      isDomainError(e, "unavailable"),
    );
    state.down = false;
    await store.drained();
  } finally {
    await store.close();
  }
});

test("a read the store never answers fails with unavailable instead of hanging", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner);
  try {
    state.hang = true;
    await assert.rejects(store.get("x"), (e: unknown) => isDomainError(e, "unavailable"));
    state.hang = false;
  } finally {
    await store.close();
  }
});

test("an outage is logged in two lines: its cause when writes start queueing, its counts once replayed", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, msg, obj: { ...obj } });
  const store = outbox(inner, undefined, undefined, { info: at("info"), warn: at("warn"), error: at("error") });
  try {
    state.down = true;
    for (let i = 0; i < 5; i++) {
      const call = callOf(`c-${i}`, "alice", "bob", t0 + i);
      await store.recordStart(call);
      await store.finalize(call, missed(call));
    }
    await assert.rejects(store.get("c-0"));
    await assert.rejects(store.get("c-1"));
    state.down = false;
    await store.drained();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        ["warn", "call store unavailable: queueing writes in the outbox"],
        ["info", "call store reachable again: outbox replayed"],
      ],
    );
    assert.equal(lines[0]?.obj.reason, "down", "the cause, in one line");
    assert.equal(lines[0]?.obj.err, undefined, "no stack trace");
    const end = lines[1]?.obj ?? {};
    assert.equal(end.queued, 10);
    assert.equal(end.readsRefused, 2);
    assert.ok(typeof end.downForMs === "number" && end.downForMs >= 0);
    assert.ok(typeof end.replayMs === "number" && end.replayMs >= 0);
  } finally {
    await store.close();
  }
});

test("only a replayed finalize that set the outcome is reported, not one that lost to another writer", async () => {
  const sqlite = createSqliteCallStore(":memory:");
  const { store: inner, state } = flaky(sqlite);
  const store = outbox(inner);
  const set: string[] = [];
  store.onOutcomeSet((c) => set.push(c.callId));
  try {
    const [lost, won] = [callOf("lost", "alice", "bob", t0), callOf("won", "carol", "dave", t0)];
    await store.recordStart(lost);
    await store.recordStart(won);
    state.down = true;
    await store.finalize(lost, missed(lost));
    await store.finalize(won, missed(won));
    // Another node, which took the call over, sets the outcome first.
    assert.equal(await sqlite.finalize(lost, completed(lost)), true);
    state.down = false;
    await store.drained();
    assert.deepEqual(set, ["won"]);
    assert.equal((await store.get("lost"))?.outcome, "completed");
  } finally {
    await store.close();
  }
});

test("a call whose finalize waits in the outbox is not listed as overdue (the sweep would ring it out again)", async () => {
  const path = join(dir, "overdue.db");
  const db = join(dir, "overdue-store.db");
  const sqlite = createSqliteCallStore(db);
  const call = callOf("queued", "alice", "bob", t0);
  await sqlite.recordStart(call);
  const first = flaky(createSqliteCallStore(db));
  first.state.down = true;
  const store1 = outbox(first.store, path);
  await store1.finalize(call, missed(call));
  await store1.close();
  // The next process replays it, and the store is slow to take it: the listing comes first.
  const second = flaky(createSqliteCallStore(db));
  let release = () => {};
  second.state.gate = new Promise<void>((r) => {
    release = r;
  });
  const store2 = outbox(second.store, path);
  try {
    assert.deepEqual(
      (await sqlite.listOverdueRinging(t0 + 120_000, 10)).map((r) => r.callId),
      ["queued"],
    );
    assert.deepEqual(await store2.listOverdueRinging(t0 + 120_000, 10), []);
    release();
    await store2.drained();
    assert.equal((await store2.get("queued"))?.outcome, "missed");
  } finally {
    release();
    await store2.close();
    await sqlite.close();
  }
});

test("a finalize that set the outcome but whose answer was lost is reported once replayed", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner);
  const set: string[] = [];
  store.onOutcomeSet((c) => set.push(c.callId));
  try {
    const call = callOf("reset", "alice", "bob", t0);
    await store.recordStart(call);
    state.lostAnswer.add("reset");
    assert.equal(await store.finalize(call, missed(call)), false, "unknown yet");
    await store.drained();
    assert.deepEqual(set, ["reset"], "its own write set it: this node sends the missed call");
  } finally {
    await store.close();
  }
});

test("writes queued during an outage log their events when replayed, once, also when an attempt's answer was lost", async () => {
  const { store: inner, state } = flaky(createSqliteCallStore(":memory:"));
  const store = outbox(inner);
  try {
    const head = await store.headPosition();
    const call = callOf("ev-outage", "alice", "bob", t0);
    const end = completed(call);
    // The start is written but its answer lost: the outbox queues it and replays it.
    state.lostAnswer.add(call.callId);
    await store.recordStart(call);
    state.down = true;
    await store.recordAnswer(call.callId, "bob-phone", end.answeredAtMs ?? 0);
    assert.equal(await store.finalize(call, end), false, "decided on replay");
    state.down = false;
    await store.drained();
    const { events } = await readUntil(store, eventPartitionOf(call.callId), head, (e) => e.length >= 3);
    assert.deepEqual(
      events.map((e) => e.eventId),
      ["ev-outage:started", "ev-outage:answered", "ev-outage:ended"],
    );
    assert.deepEqual((await store.readEvents(eventPartitionOf(call.callId), head, 10)).events.length, 3);
  } finally {
    await store.close();
  }
});
