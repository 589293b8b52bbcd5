/**
 * The Cassandra outage scenario, run by cassandra-outage.test.ts in a process of its own
 * (PRODUCT.md §7, §12): calls keep flowing through the outbox-wrapped Cassandra store while
 * a private node is killed and restarted; afterwards every call, outcome and sample is in
 * Cassandra exactly once. Its own process because cassandra-driver can leave a pool's
 * reconnection timer running after `shutdown()` (a client whose connect failed while the node
 * was down): in a test file's process that timer kept the file from ever finishing. This
 * script ends itself after printing `RESULT <json>`; it asserts, and reports a failure there.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CassandraNode, startNode } from "../scripts/cassandra/node.ts";
import { createSystemClock } from "../src/adapters/clock/system-clock.ts";
import { allPages, callOf, completed, missed, sampleAt } from "../src/adapters/store/call-store.contract.ts";
import { createCassandraCallStore } from "../src/adapters/store/cassandra/cassandra-call-store.ts";
import { createTestKeyspace } from "../src/adapters/store/cassandra/test-support.ts";
import { createOutboxCallStore, type OutboxCallStore } from "../src/adapters/store/outbox/outbox-call-store.ts";
import type { CallInfo, Outcome } from "../src/domain/call-types.ts";
import { isDomainError } from "../src/domain/errors.ts";

/** What the scenario prints. */
export interface OutageResult {
  /** Calls made in all (before, during and after the outage). */
  readonly calls: number;
  /** Writes waiting in the outbox when the node came back. */
  readonly queuedAtRestart: number;
  /** Calls whose record, outcome and samples were checked in Cassandra afterwards. */
  readonly checked: number;
  readonly error?: string;
}

const log = (line: string) => process.stderr.write(`[outage] ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), "calldrop-outage-"));
let node: CassandraNode | undefined;
let result: OutageResult = { calls: 0, queuedAtRestart: 0, checked: 0 };

/** Calls made by the traffic workers, with the outcome each should end with. */
interface Made {
  readonly call: CallInfo;
  readonly outcome: Outcome;
}

async function scenario(): Promise<void> {
  node = await startNode({ log });
  const keyspace = await createTestKeyspace(node.contactPoint, { requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  const outageNode = node;
  let queuedAtRestart = 0;
  const store: OutboxCallStore = createOutboxCallStore({
    inner: createCassandraCallStore(keyspace.config),
    path: join(dir, "outbox.db"),
    clock: createSystemClock(),
    retryMinMs: 100,
    retryMaxMs: 1000,
    readTimeoutMs: 3000,
    logger: {
      info: (o, msg) => log(`outbox: ${msg} ${JSON.stringify(o)}`),
      warn: (o, msg) => log(`outbox: ${msg} ${JSON.stringify(o)}`),
      error: (o, msg) => {
        rejected.push(`${msg}: ${String((o as { err?: unknown }).err)}`);
        log(`outbox: ${msg} ${String((o as { err?: unknown }).err)}`);
      },
    },
  });
  const rejected: string[] = [];
  const made: Made[] = [];
  let running = true;
  let paused = false;
  let seq = 0;
  const t0 = Date.UTC(2026, 4, 31, 23, 58); // calls straddle a month boundary

  async function worker(w: number): Promise<void> {
    while (running) {
      if (paused) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const n = seq++;
      const call = callOf(`call-${n}`, `caller-${n % 5}`, `callee-${(n + w) % 4}`, t0 + n * 1000);
      const answered = n % 3 !== 0;
      await store.recordStart(call);
      await store.addSamples(call.callId, call.caller.userId, [sampleAt(call.startedAtMs + 500)]);
      if (answered) await store.recordAnswer(call.callId, `${call.calleeUserId}-phone`, call.startedAtMs + 2000);
      await store.addSamples(call.callId, call.calleeUserId, [sampleAt(call.startedAtMs + 2500, 360)]);
      const won = await store.finalize(call, answered ? completed(call) : missed(call));
      assert.equal(won, true, `finalize of ${call.callId}`);
      made.push({ call, outcome: answered ? "completed" : "missed" });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const until = async (what: string, cond: () => boolean) => {
    const deadline = Date.now() + 120_000;
    let next = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      if (Date.now() > next) {
        log(`waiting for ${what}: ${made.length} calls made, ${store.pending()} writes queued`);
        next += 5000;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const workers = [0, 1, 2, 3].map(worker);
  try {
    await until("traffic before the outage", () => made.length >= 20);
    log(`killing the node after ${made.length} calls`);
    await outageNode.kill();
    const atKill = made.length;
    await until("calls during the outage", () => made.length >= atKill + 40);
    assert.ok(store.pending() > 0, "writes were queued during the outage");

    // Reads during the outage fail with unavailable, and promptly (a hang would trip this guard).
    const hangGuard = new Promise((_, reject) => setTimeout(() => reject(new Error("read hung")), 10_000));
    await assert.rejects(
      Promise.race([store.listForUser({ userId: "callee-0", limit: 10, missedOnly: false }), hangGuard]),
      (e: unknown) => isDomainError(e, "unavailable"),
    );
    await assert.rejects(Promise.race([store.get("call-0"), hangGuard]), (e: unknown) =>
      isDomainError(e, "unavailable"),
    );

    queuedAtRestart = store.pending();
    log(`restarting the node with ${queuedAtRestart} writes queued, ${made.length} calls made`);
    paused = true; // keeps the queue small while the JVM boots; traffic resumes against the replay
    await outageNode.restart();
    paused = false;
    const atRestart = made.length;
    await until("calls after the restart", () => made.length >= atRestart + 20);
  } finally {
    running = false;
    await Promise.all(workers);
  }
  await store.drained();
  await store.close();
  log(`${made.length} calls made; outbox drained`);
  assert.deepEqual(rejected, [], "the store rejected no queued write");

  // Check with a plain Cassandra store: nothing lost, nothing doubled.
  const check = createCassandraCallStore(keyspace.config);
  try {
    const users = new Map<string, string[]>();
    const missedBy = new Map<string, string[]>();
    for (const { call, outcome } of made) {
      for (const u of [call.caller.userId, call.calleeUserId]) users.set(u, [...(users.get(u) ?? []), call.callId]);
      if (outcome === "missed")
        missedBy.set(call.calleeUserId, [...(missedBy.get(call.calleeUserId) ?? []), call.callId]);
      const got = await check.get(call.callId);
      assert.equal(got?.outcome, outcome, `outcome of ${call.callId}`);
      assert.equal(got?.answeredDeviceId !== undefined, outcome === "completed");
      assert.equal((await check.listSamples(call.callId)).length, 2, `samples of ${call.callId}`);
    }
    const newestFirst = (ids: string[]) => [...ids].sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
    for (const [user, ids] of users) {
      assert.deepEqual(await allPages(check, user, 25), newestFirst(ids), `history of ${user}`);
    }
    for (const [user, ids] of missedBy) {
      assert.deepEqual(await allPages(check, user, 25, true), newestFirst(ids), `missed calls of ${user}`);
    }
    assert.deepEqual(await check.listOverdueRinging(t0 + seq * 1000 + 60_000, 100), [], "no call left ringing");
  } finally {
    await check.close();
  }
  result = { calls: made.length, queuedAtRestart, checked: made.length };
}

try {
  await scenario();
} catch (e) {
  result = { ...result, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
} finally {
  await node?.stop().catch((e: unknown) => log(`stopping the node failed: ${String(e)}`));
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}
