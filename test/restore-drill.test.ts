/**
 * The restore drill (docs/backup.md, docs/spec.md §7 "Backups"), on the real engines: calls of every
 * kind written through the store adapters, `npm run backup`, the data destroyed (the sqlite file
 * deleted, the Cassandra keyspace dropped), `npm run restore`, and every record found again with
 * every field: the call, its samples, both users' histories (missed and all), the ringing index and
 * the block lists. The sqlite backup is taken while the store is open and writing. Bad arguments
 * end in one line and a non-zero exit.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { callOf, completed, missed, sampleAt } from "../src/adapters/store/call-store.contract.ts";
import { createCassandraBlockList } from "../src/adapters/store/cassandra/cassandra-block-list.ts";
import { createCassandraCallStore } from "../src/adapters/store/cassandra/cassandra-call-store.ts";
import { createTestKeyspace, testContactPoint } from "../src/adapters/store/cassandra/test-support.ts";
import { createSqliteBlockList } from "../src/adapters/store/sqlite-block-list.ts";
import { createSqliteCallStore } from "../src/adapters/store/sqlite-call-store.ts";
import type { BlockList } from "../src/app/ports/block-list.ts";
import type { CallStore } from "../src/app/ports/call-store.ts";
import { summarizeQuality } from "../src/domain/quality.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "src", "backup-cli.ts");
const dir = mkdtempSync(join(tmpdir(), "calldrop-restore-drill-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run backup|restore -- …args`; resolves with its exit code and stderr. */
async function backupCli(
  command: "backup" | "restore",
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [cli, command, ...args], {
      env: { ...process.env, CALLDROP_CONFIG: "", ...env },
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? String(err) };
  }
}

const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
const t0 = Date.UTC(2026, 0, 31, 22, 0); // calls cross a month boundary (Cassandra partitions by month)
const callCount = 240;

/** Writes calls of every kind, their samples and some blocks; returns the call ids. */
async function writeDataSet(store: CallStore, blocks: BlockList): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < callCount; i++) {
    const caller = users[i % users.length] as string;
    const callee = users[(i * 5 + 1) % users.length] as string;
    const call = callOf(`drill-${i}`, caller, callee, t0 + i * 37_000, i % 4 !== 0);
    ids.push(call.callId);
    switch (i % 5) {
      case 0: {
        const samples = [sampleAt(call.startedAtMs + 7_000), sampleAt(call.startedAtMs + 9_000, 360)];
        const window = [
          ...samples.map((s) => ({ ...s, userId: caller })),
          { ...sampleAt(call.startedAtMs + 8_000, 540), userId: callee },
        ];
        await store.addSampleWindow(call.callId, { key: `${call.startedAtMs}-drill-0`, samples: window });
        await store.finalize(call, completed(call), summarizeQuality(samples));
        break;
      }
      case 1:
        await store.finalize(call, missed(call));
        break;
      case 2:
        await store.finalize(call, { outcome: "declined", reason: "declined", endedAtMs: call.startedAtMs + 3_000 });
        break;
      case 3:
        await store.recordStart(call); // still ringing
        break;
      default:
        await store.recordStart(call);
        await store.recordAnswer(call.callId, `${callee}-tablet`, call.startedAtMs + 4_000); // in progress
    }
  }
  for (const [i, user] of users.entries()) await blocks.block(user, users[(i + 3) % users.length] as string, t0 + i);
  return ids;
}

/** Everything a reader can see of the data set, through the ports. */
async function readDataSet(store: CallStore, blocks: BlockList, ids: readonly string[]) {
  const calls = await Promise.all(
    ids.map(async (id) => ({ record: await store.get(id), samples: await store.listSamples(id) })),
  );
  const histories: Record<string, unknown> = {};
  for (const userId of users) {
    for (const missedOnly of [false, true]) {
      const pages = [];
      let cursor: string | undefined;
      do {
        const page = await store.listForUser({ userId, limit: 7, missedOnly, ...(cursor ? { cursor } : {}) });
        pages.push(page.calls);
        cursor = page.nextCursor;
      } while (cursor);
      histories[`${userId}/${missedOnly ? "missed" : "all"}`] = pages.flat();
    }
    histories[`${userId}/blocked`] = await blocks.list(userId);
  }
  const ringing = await store.listOverdueRinging(t0 + 365 * 86_400_000, 1000);
  return { calls, histories, ringing };
}

describe("restore drill: sqlite (npm start's embedded store)", () => {
  const db = join(dir, "calldrop.db");
  const backupFile = join(dir, "calldrop-backup.db");

  test("a backup taken while the store writes restores every record after the file is deleted", async () => {
    const store = createSqliteCallStore(db);
    const blocks = createSqliteBlockList(db);
    const ids = await writeDataSet(store, blocks);
    const before = await readDataSet(store, blocks, ids);
    assert.equal(before.calls.filter((c) => c.record).length, callCount);

    // Serving: calls keep being finalized from this connection while another process copies the file.
    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const call = callOf(`during-${i}`, "user-0", "user-1", t0 + 86_400_000 + i);
        await store.finalize(call, completed(call));
        during.push(call.callId);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const backedUp = await backupCli("backup", ["--to", backupFile, "--db", db, "--pages-per-step", "16"]);
    writing = false;
    await writer;
    assert.equal(backedUp.code, 0, backedUp.stderr);
    assert.match(backedUp.stderr, /backup: \d+% \(\d+\/\d+ pages\)/, "progress is shown");
    assert.ok(during.length > 0, "the store was written while the backup ran");
    const written = await Promise.all(during.map((id) => store.get(id)));
    await store.close();
    await blocks.close();

    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    assert.equal(existsSync(db), false);
    const restored = await backupCli("restore", ["--from", backupFile, "--db", db]);
    assert.equal(restored.code, 0, restored.stderr);

    const store2 = createSqliteCallStore(db);
    const blocks2 = createSqliteBlockList(db);
    try {
      const after = await readDataSet(store2, blocks2, ids);
      assert.deepEqual(after.calls, before.calls);
      assert.deepEqual(after.ringing, before.ringing);
      // Histories also hold the calls written during the backup; those in the copy are whole.
      const kept = (await Promise.all(during.map((id) => store2.get(id)))).map((r, i) => [r, written[i]] as const);
      for (const [got, wrote] of kept) if (got) assert.deepEqual(got, wrote);
      const keptIds = new Set(kept.flatMap(([got]) => (got ? [got.callId] : [])));
      const withoutDuring = (h: Record<string, unknown>) =>
        Object.fromEntries(
          Object.entries(h).map(([k, v]) => [
            k,
            (v as { callId?: string }[]).filter((c) => !c.callId?.startsWith("during-")),
          ]),
        );
      assert.deepEqual(withoutDuring(after.histories), withoutDuring(before.histories));
      assert.ok(keptIds.size <= during.length);
    } finally {
      await store2.close();
      await blocks2.close();
    }
  });

  test("a restore refuses a database the server has open", async () => {
    const store = createSqliteCallStore(db);
    try {
      const refused = await backupCli("restore", ["--from", backupFile, "--db", db]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is in use \(stop the server before a restore\)/);
    } finally {
      await store.close();
    }
  });

  test("bad arguments and bad files get one line and a non-zero exit, never a stack trace", async () => {
    const notADb = join(dir, "notes.txt");
    writeFileSync(notADb, "not a database\n");
    const cases: [cmd: "backup" | "restore", args: string[], code: number, message: RegExp][] = [
      ["backup", [], 2, /--to FILE is required/],
      ["backup", ["--to"], 2, /argument missing/],
      ["backup", ["--to", join(dir, "x.db"), "--frobnicate"], 2, /Unknown option '--frobnicate'/],
      ["backup", ["--to", join(dir, "no-such-dir", "x.db"), "--db", db], 2, /directory .*no-such-dir does not exist/],
      ["backup", ["--to", join(dir, "x.db"), "--pages-per-step", "0"], 2, /--pages-per-step must be an integer ≥ 1/],
      ["backup", ["--to", db, "--db", db], 2, /cannot be the database itself/],
      ["backup", ["--to", join(dir, "x.db"), "--db", join(dir, "missing.db")], 1, /no database at .*missing\.db/],
      ["restore", [], 2, /--from FILE is required/],
      ["restore", ["--from", join(dir, "missing.db"), "--db", db], 2, /no backup at .*missing\.db/],
      ["restore", ["--from", notADb, "--db", join(dir, "r.db")], 1, /notes\.txt is not an SQLite database/],
    ];
    for (const [cmd, args, code, message] of cases) {
      const r = await backupCli(cmd, args);
      assert.equal(r.code, code, `${cmd} ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    }
  });
});

describe("restore drill: Cassandra (the production store)", () => {
  test("an export restores every record after the keyspace is dropped", async () => {
    const keyspace = await createTestKeyspace(testContactPoint());
    const { contactPoints, localDataCenter, keyspace: name } = keyspace.config;
    const env = {
      CALLDROP_STORE__KIND: "cassandra",
      CALLDROP_STORE__CASSANDRA: JSON.stringify({ contactPoints, localDataCenter, keyspace: name, consistency: "ONE" }),
    };
    const exportFile = join(dir, `${name}.jsonl`);
    try {
      const store = createCassandraCallStore(keyspace.config);
      const blocks = createCassandraBlockList(keyspace.config);
      const ids = await writeDataSet(store, blocks);
      const before = await readDataSet(store, blocks, ids);
      await store.close();
      await blocks.close();
      assert.equal(before.calls.filter((c) => c.record).length, callCount);

      const backedUp = await backupCli("backup", ["--to", exportFile], env);
      assert.equal(backedUp.code, 0, backedUp.stderr);
      assert.match(backedUp.stderr, /backup: \d+ rows \(calls_by_id\)/, "progress is shown");

      await keyspace.drop();
      const restored = await backupCli("restore", ["--from", exportFile], env);
      assert.equal(restored.code, 0, restored.stderr);

      const store2 = createCassandraCallStore(keyspace.config);
      const blocks2 = createCassandraBlockList(keyspace.config);
      try {
        await store2.checkSchema();
        assert.deepEqual(await readDataSet(store2, blocks2, ids), before);
      } finally {
        await store2.close();
        await blocks2.close();
      }

      const again = await backupCli("restore", ["--from", exportFile], env);
      assert.equal(again.code, 0, `a restore can run again: ${again.stderr}`);
    } finally {
      await keyspace.drop();
    }
  });

  test("a cut-off or foreign export is refused with one line", async () => {
    const env = {
      CALLDROP_STORE__KIND: "cassandra",
      CALLDROP_STORE__CASSANDRA: JSON.stringify({
        contactPoints: [testContactPoint()],
        localDataCenter: "datacenter1",
        keyspace: "calldrop_drill_absent",
        consistency: "ONE",
      }),
    };
    const foreign = join(dir, "foreign.jsonl");
    writeFileSync(foreign, '{"hello":"world"}\n');
    const other = join(dir, "other.jsonl");
    writeFileSync(
      other,
      `${JSON.stringify({ format: "calldrop-cassandra-export", formatVersion: 1, keyspace: "calldrop_other", schemaVersion: 3, exportedAtMs: 0, schema: [] })}\n`,
    );
    const cutOff = join(dir, "cut-off.jsonl");
    writeFileSync(
      cutOff,
      `${JSON.stringify({ format: "calldrop-cassandra-export", formatVersion: 1, keyspace: "calldrop_drill_absent", schemaVersion: 3, exportedAtMs: 0, schema: [] })}\n`,
    );
    for (const [file, message] of [
      [cutOff, /cut-off\.jsonl is cut off: 0 rows read, no end line/],
      [foreign, /foreign\.jsonl is not a CallDrop Cassandra export/],
      [other, /an export of keyspace calldrop_other, not of calldrop_drill_absent/],
    ] as const) {
      const r = await backupCli("restore", ["--from", file], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    const withDb = await backupCli("backup", ["--to", join(dir, "x.jsonl"), "--db", "x.db"], env);
    assert.equal(withDb.code, 2);
    assert.match(withDb.stderr, /--db is for the sqlite store/);
  });
});
