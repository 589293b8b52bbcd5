/** The CallStore contract against a real Cassandra node (CALLDROP_TEST_CASSANDRA), plus schema checks. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { eventPartitionOf } from "../../../domain/call-events.ts";
import { isDomainError } from "../../../domain/errors.ts";
import type { QualitySample, QualitySummary } from "../../../domain/quality.ts";
import { callEventLogContract, readUntil, samePartitionId } from "../call-event-log.contract.ts";
import { callOf, callStoreContract, completed, missed, sampleAt } from "../call-store.contract.ts";
import { createCassandraCallStore } from "./cassandra-call-store.ts";
import { createCassandraClient } from "./cassandra-config.ts";
import { checkSchema, ddlTimeoutMs, migrate } from "./migrate.ts";
import { migrations } from "./schema.ts";
import { createTestKeyspace, type TestKeyspace, testConfig, testContactPoint } from "./test-support.ts";

const contactPoint = testContactPoint();
let keyspace: TestKeyspace;
let batched: TestKeyspace;

before(async () => {
  [keyspace, batched] = await Promise.all([
    // A short settle window, so the event log contract reads soon what it wrote (its reads poll); a
    // write slower than half of it is logged again (at-least-once), which a loaded machine must not cause.
    createTestKeyspace(contactPoint, { batchWrites: false, eventSettleMs: 2000 }),
    createTestKeyspace(contactPoint, { batchWrites: true, eventSettleMs: 2000 }),
  ]);
});
after(async () => {
  await Promise.all([keyspace?.drop(), batched?.drop()]);
});

callStoreContract("cassandra, parallel writes", async () => {
  await keyspace.reset();
  return createCassandraCallStore(keyspace.config);
});

callStoreContract("cassandra, batched writes", async () => {
  await batched.reset();
  return createCassandraCallStore(batched.config);
});

callEventLogContract("cassandra, parallel writes", async () => {
  await keyspace.reset();
  return createCassandraCallStore(keyspace.config);
});

callEventLogContract("cassandra, batched writes", async () => {
  await batched.reset();
  return createCassandraCallStore(batched.config);
});

test("migrate is idempotent and checkSchema accepts the migrated keyspace", async () => {
  const client = createCassandraClient(keyspace.config);
  try {
    assert.deepEqual(
      await migrate(client, keyspace.config.keyspace, { class: "SimpleStrategy", replication_factor: 1 }),
      [],
    );
    await checkSchema(client, keyspace.config.keyspace);
    await createCassandraCallStore(keyspace.config, client).checkSchema();
  } finally {
    await client.shutdown();
  }
});

test("a keyspace without the schema is refused with a clear unavailable error, by every store operation", async () => {
  const client = createCassandraClient(testConfig(contactPoint, "system"));
  const missing = (e: unknown) => isDomainError(e, "unavailable") && /npm run migrate/.test(e.message);
  try {
    await assert.rejects(checkSchema(client, "calldrop_missing"), missing);
    const store = createCassandraCallStore(testConfig(contactPoint, "calldrop_missing"), client);
    await assert.rejects(store.get("some-call"), missing);
  } finally {
    await client.shutdown();
  }
});

test("`npm run migrate` creates a keyspace with the given replication, and a re-run changes nothing", async () => {
  const ks = `calldrop_cli_${randomBytes(4).toString("hex")}`;
  const cli = () =>
    spawnSync(
      process.execPath,
      [
        "src/adapters/store/cassandra/migrate-cli.ts",
        "--contact-points",
        contactPoint,
        "--keyspace",
        ks,
        "--replication",
        '{"class":"NetworkTopologyStrategy","datacenter1":1}',
      ],
      { encoding: "utf8" },
    );
  const client = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    const first = cli();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${ks}: applied v1`));
    const second = cli();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /schema up to date/);
    const rs = await client.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", [ks]);
    assert.equal(rs.first()?.replication.class, "org.apache.cassandra.locator.NetworkTopologyStrategy");
    await checkSchema(client, ks);
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], { readTimeout: ddlTimeoutMs });
    await client.shutdown();
  }
});

const ddlOptions = { prepare: false, readTimeout: ddlTimeoutMs };

/** Creates keyspace `ks` as the code of schema `version` left it (migrations up to it applied and recorded), plus `rows`. */
async function keyspaceAt(version: number, ks: string, rows: readonly string[]): Promise<void> {
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    await admin.execute(
      `CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      [],
      ddlOptions,
    );
  } finally {
    await admin.shutdown();
  }
  const old = createCassandraClient(testConfig(contactPoint, ks), ks);
  try {
    await old.execute(
      "CREATE TABLE schema_migrations (version int PRIMARY KEY, description text, applied_at timestamp)",
      [],
      ddlOptions,
    );
    for (const m of migrations.filter((m) => m.version <= version)) {
      for (const statement of m.statements) await old.execute(statement, [], ddlOptions);
      await old.execute(
        "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
        [m.version, m.description],
        {
          prepare: true,
        },
      );
    }
    for (const row of rows) await old.execute(row, [], ddlOptions);
  } finally {
    await old.shutdown();
  }
}

const simple = { class: "SimpleStrategy", replication_factor: 1 };

/** A plain quality summary of `samples` samples. */
const summaryOf = (samples: number): QualitySummary => ({
  samples,
  avgFractionLost: 0,
  avgJitterMs: 1,
  avgRttMs: 20,
  avgBitrateBps: 900_000,
  resolutionChanges: 0,
});
const oldCall = `INSERT INTO calls_by_id (call_id, caller_user_id, caller_device_id, callee_user_id, video, started_at_ms,
    ring_deadline_ms, answered_at_ms, ended_at_ms, outcome, end_reason, quality)
  VALUES ('old', 'alice', 'alice-phone', 'bob', true, 1000, 31000, 5000, 60000, 'completed', 'hangup',
    {samples: 12, avg_fraction_lost: 0.0125, avg_jitter_ms: 3.75, avg_rtt_ms: 41.5, avg_bitrate_bps: 987654,
     resolution_changes: 2})`;

test("migrations 4 to 10 keep a v3 keyspace's calls: a summary written before scores reads back without one", async () => {
  const ks = `calldrop_v3_${randomBytes(4).toString("hex")}`;
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    await keyspaceAt(3, ks, [oldCall]);
    assert.deepEqual(await migrate(admin, ks, simple), [4, 5, 6, 7, 8, 9, 10]);
    await checkSchema(admin, ks);
    const store = createCassandraCallStore(testConfig(contactPoint, ks));
    try {
      const old = await store.get("old");
      assert.equal(old?.outcome, "completed");
      assert.deepEqual(old?.quality, {
        samples: 12,
        avgFractionLost: 0.0125,
        avgJitterMs: 3.75,
        avgRttMs: 41.5,
        avgBitrateBps: 987_654,
        resolutionChanges: 2,
      });
    } finally {
      await store.close();
    }
    assert.deepEqual(await migrate(admin, ks, simple), [], "re-run");
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], ddlOptions);
    await admin.shutdown();
  }
});

test("migrations 5 to 10 add ratings to a v4 keyspace: an old call has none, and can be rated (docs/spec.md §15)", async () => {
  const ks = `calldrop_v4_${randomBytes(4).toString("hex")}`;
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    await keyspaceAt(4, ks, [oldCall]);
    assert.deepEqual(await migrate(admin, ks, simple), [5, 6, 7, 8, 9, 10]);
    await checkSchema(admin, ks);
    const store = createCassandraCallStore(testConfig(contactPoint, ks));
    try {
      const old = await store.get("old");
      assert.equal(old?.callerRating, undefined);
      assert.equal(old?.calleeRating, undefined);
      const rating = { score: 3, reasons: ["echo" as const], ratedAtMs: 70_000 };
      await store.rate("old", "callee", rating);
      assert.deepEqual((await store.get("old"))?.calleeRating, rating);
      const [listed] = (await store.listForUser({ userId: "bob", limit: 5, missedOnly: false })).calls;
      assert.deepEqual(listed?.calleeRating, rating, "the rating reaches the history copy");
    } finally {
      await store.close();
    }
    assert.deepEqual(await migrate(admin, ks, simple), [], "re-run");
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], ddlOptions);
    await admin.shutdown();
  }
});

test("migrations 6 to 10 add the event log to a v5 keyspace: a call ringing before it logs its answer and end", async () => {
  const ks = `calldrop_v5_${randomBytes(4).toString("hex")}`;
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  const ringing = `INSERT INTO calls_by_id (call_id, caller_user_id, caller_device_id, callee_user_id, video,
      started_at_ms, ring_deadline_ms) VALUES ('ringing', 'alice', 'alice-phone', 'bob', true, 1000, 31000)`;
  try {
    await keyspaceAt(5, ks, [ringing]);
    assert.deepEqual(await migrate(admin, ks, simple), [6, 7, 8, 9, 10]);
    await checkSchema(admin, ks);
    const store = createCassandraCallStore(testConfig(contactPoint, ks, { eventSettleMs: 500 }));
    try {
      const head = await store.headPosition();
      const call = callOf("ringing", "alice", "bob", 1000);
      await store.recordStart(call); // written before: not logged again
      await store.recordAnswer("ringing", "bob-phone", 5000);
      assert.equal(await store.finalize(call, completed(call)), true);
      const { events } = await readUntil(store, eventPartitionOf("ringing"), head, (e) => e.length >= 2);
      assert.deepEqual(
        events.map((e) => e.eventId),
        ["ringing:answered", "ringing:ended"],
      );
    } finally {
      await store.close();
    }
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], ddlOptions);
    await admin.shutdown();
  }
});

test("migrating a v6 keyspace (7 adds the relay protocol): an old summary and sample have none, a new one keeps it", async () => {
  const ks = `calldrop_v6_${randomBytes(4).toString("hex")}`;
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  const oldSample = `INSERT INTO call_samples (call_id, at_ms, user_id, fraction_lost, jitter_ms, rtt_ms,
      available_outgoing_bitrate_bps, sent_bitrate_bps, frame_width, frame_height, frames_per_second, quality_step,
      quality_limitation_reason, path) VALUES ('old', 2000, 'alice', 0, 1, 20, 1000000, 900000, 640, 360, 30, 0, 'none', 'relay')`;
  try {
    await keyspaceAt(6, ks, [oldCall, oldSample]);
    assert.deepEqual(await migrate(admin, ks, simple), [7, 8, 9, 10]);
    await checkSchema(admin, ks);
    const store = createCassandraCallStore(testConfig(contactPoint, ks));
    try {
      assert.equal((await store.get("old"))?.quality?.relayProtocol, undefined);
      const [sample] = await store.listSamples("old");
      assert.equal(sample?.path, "relay");
      assert.equal(sample?.relayProtocol, undefined);
      // Written after the migration: kept (the store contract checks the round trip in detail).
      const call = callOf("tls", "alice", "bob", 1000);
      await store.recordStart(call);
      const relayed = { ...(sample as QualitySample), atMs: 6000, relayProtocol: "tls" as const, userId: "bob" };
      await store.addSampleWindow("tls", { key: "6000-n1-0", samples: [relayed] });
      assert.equal(await store.finalize(call, completed(call), { ...summaryOf(12), relayProtocol: "tls" }), true);
      assert.equal((await store.get("tls"))?.quality?.relayProtocol, "tls");
      assert.equal((await store.listSamples("tls"))[0]?.relayProtocol, "tls");
    } finally {
      await store.close();
    }
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], ddlOptions);
    await admin.shutdown();
  }
});

test("migration 9 adds sample windows to a v7 keyspace: samples stored one row each before are listed with them", async () => {
  const ks = `calldrop_v7_${randomBytes(4).toString("hex")}`;
  const admin = createCassandraClient(testConfig(contactPoint, "system"));
  const oldSample = `INSERT INTO call_samples (call_id, at_ms, user_id, fraction_lost, jitter_ms, rtt_ms,
      available_outgoing_bitrate_bps, sent_bitrate_bps, frame_width, frame_height, frames_per_second, quality_step,
      quality_limitation_reason, path, relay_protocol)
    VALUES ('old', 1000, 'alice', 0.015, 4.5, 38.25, 1250000.5, 1100000, 1280, 720, 29.97, 1, 'bandwidth', 'relay', 'tcp')`;
  try {
    await keyspaceAt(7, ks, [oldSample]);
    assert.deepEqual(await migrate(admin, ks, simple), [8, 9, 10]);
    await checkSchema(admin, ks);
    const store = createCassandraCallStore(testConfig(contactPoint, ks));
    try {
      const old = { ...sampleAt(1000), path: "relay" as const, relayProtocol: "tcp" as const, userId: "alice" };
      const later = { ...sampleAt(2000), userId: "bob" };
      await store.addSampleWindow("old", { key: "2000-n1-0", samples: [old, later] });
      assert.deepEqual(await store.listSamples("old"), [old, later]);
    } finally {
      await store.close();
    }
  } finally {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], ddlOptions);
    await admin.shutdown();
  }
});

test("a retried finalize whose first attempt lost its event row logs the event again, after readers' position", async () => {
  const store = createCassandraCallStore(keyspace.config);
  const client = createCassandraClient(keyspace.config, keyspace.config.keyspace);
  try {
    const head = await store.headPosition();
    const call = callOf(`lost-${randomBytes(3).toString("hex")}`, "alice", "bob", Date.now());
    const p = eventPartitionOf(call.callId);
    await store.recordStart(call);
    assert.equal(await store.finalize(call, missed(call)), true);
    const first = await readUntil(store, p, head, (e) => e.length >= 2);
    const lost = first.events[1]?.position.seq ?? 0;
    // As if the attempt had set the outcome and died before its batch: the row is gone, and the
    // reader has passed the position it had.
    await client.execute("DELETE FROM call_events WHERE part = ? AND hour = ? AND pos = ? AND event_id = ?", [
      p,
      Math.floor(lost / 3_600_000),
      lost,
      `${call.callId}:ended`,
    ]);
    assert.equal(await store.finalize(call, missed(call)), false, "the retry finds the outcome set");
    const again = await readUntil(store, p, first.next, (e) => e.length >= 1);
    assert.deepEqual(
      again.events.map((e) => e.eventId),
      [`${call.callId}:ended`],
    );
    // A second retry finds the row in place and logs nothing.
    assert.equal(await store.finalize(call, missed(call)), false);
    const marker = callOf(samePartitionId(p, `${call.callId}-m`), "alice", "bob", Date.now());
    await store.recordStart(marker);
    const rest = await readUntil(store, p, again.next, (e) => e.some((x) => x.call.callId === marker.callId));
    assert.deepEqual(
      rest.events.map((e) => e.eventId),
      [`${marker.callId}:started`],
    );
  } finally {
    await client.shutdown();
    await store.close();
  }
});

test("a reader far behind moves on by at most 12 hour partitions a read until it reaches the settled edge", async () => {
  const store = createCassandraCallStore(keyspace.config);
  try {
    const hour = 3_600_000;
    const from = { seq: Date.now() - 30 * hour, eventId: "" };
    const page = await store.readEvents(7, from, 10);
    assert.deepEqual(page.events, []);
    assert.equal(page.next.seq, (Math.floor(from.seq / hour) + 12) * hour, "twelve hours further");
    let next = page.next;
    for (let i = 0; i < 3; i++) next = (await store.readEvents(7, next, 10)).next;
    assert.ok(next.seq <= Date.now() - keyspace.config.eventSettleMs && next.seq > Date.now() - 60_000, "at the edge");
  } finally {
    await store.close();
  }
});
