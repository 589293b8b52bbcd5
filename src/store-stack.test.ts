/**
 * A stopping node waits for its call-store outbox (docs/cluster.md "Graceful drain"): what
 * Cassandra gets back in time is replayed before the process exits; what it does not stays in
 * the outbox file, for the next process on the same volume.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { pino } from "pino";
import { createSystemClock } from "./adapters/clock/system-clock.ts";
import { callOf } from "./adapters/store/call-store.contract.ts";
import { createOutboxCallStore } from "./adapters/store/outbox/outbox-call-store.ts";
import { createSqliteCallStore } from "./adapters/store/sqlite-call-store.ts";
import type { CallStore } from "./app/ports/call-store.ts";
import { createApp } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { DomainError } from "./domain/errors.ts";
import { drainOutbox } from "./store-stack.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-drain-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const clock = createSystemClock();
const silent = pino({ level: "silent" });

/** The embedded store, refusing writes with `unavailable` while `down` (Cassandra unreachable). */
function reachable(inner: CallStore) {
  const state = { down: true };
  const store: CallStore = {
    ...inner,
    recordStart: (c) => (state.down ? Promise.reject(new DomainError("unavailable", "down")) : inner.recordStart(c)),
  };
  return { store, state };
}

const outboxOver = (inner: CallStore, path: string) =>
  createOutboxCallStore({ inner, path, clock, retryMinMs: 5, retryMaxMs: 20 });

test("drainOutbox: returns once the outbox replayed; at the deadline leaves the rest in the file", async () => {
  const storeFile = join(dir, "store-a.db");
  const first = reachable(createSqliteCallStore(storeFile));
  const path = join(dir, "outbox-a.db");
  let outbox = outboxOver(first.store, path);
  await outbox.recordStart(callOf("c1", "alice", "bob", 1_000));
  assert.equal(outbox.pending(), 1);
  // Cassandra stays down: the deadline passes, the write stays queued.
  assert.equal(await drainOutbox(outbox, Date.now() + 50, silent), 1);
  await outbox.close();
  // The next process on the same file replays it once Cassandra is back, and its drain waits for that.
  const inner = createSqliteCallStore(storeFile);
  outbox = outboxOver(inner, path);
  assert.equal(outbox.pending(), 1);
  assert.equal(await drainOutbox(outbox, Date.now() + 60_000, silent), 0);
  assert.equal((await inner.get("c1"))?.callId, "c1");
  await outbox.close();
});

test("stop waits for the outbox to replay before it closes the store", async () => {
  const storeFile = join(dir, "store-b.db");
  const { store, state } = reachable(createSqliteCallStore(storeFile));
  const outbox = outboxOver(store, join(dir, "outbox-b.db"));
  await outbox.recordStart(callOf("c2", "carol", "dave", 1_000));
  // Cassandra comes back once the stopping node says it waits for the outbox.
  const logger = pino(
    { level: "info" },
    new Writable({
      write(line, _enc, done) {
        if (String(line).includes("waiting for the call-store outbox")) state.down = false;
        done();
      },
    }),
  );
  const config = loadConfig({
    CALLDROP_STORE__SQLITE_PATH: ":memory:",
    CALLDROP_SERVER__PORT: "0",
    CALLDROP_SERVER__HOST: "127.0.0.1",
    CALLDROP_SERVER__DRAIN_TIMEOUT_MS: "100",
  });
  const app = await createApp(config, { store: outbox, logger });
  await app.start();
  await app.stop();
  assert.equal(outbox.pending(), 0);
  const inner = createSqliteCallStore(storeFile);
  assert.equal((await inner.get("c2"))?.callId, "c2", "replayed before the store closed");
  await inner.close();
});
