/** The CallStore and CallEventLog contracts against the embedded node:sqlite store (in memory), and its upgrade path. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { callEventLogContract } from "./call-event-log.contract.ts";
import { callStoreContract, sampleAt } from "./call-store.contract.ts";
import { createSqliteCallStore } from "./sqlite-call-store.ts";

callStoreContract("sqlite", async () => createSqliteCallStore(":memory:"));
callEventLogContract("sqlite", async () => createSqliteCallStore(":memory:"));

test("samples stored one row each before sample windows are listed with the windows", async () => {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-sqlite-"));
  const path = join(dir, "calls.db");
  const store = createSqliteCallStore(path);
  try {
    const old = sampleAt(1_000);
    const raw = new DatabaseSync(path);
    raw
      .prepare("INSERT INTO call_samples (call_id, user_id, at_ms, sample) VALUES (?, ?, ?, ?)")
      .run("c1", "alice", old.atMs, JSON.stringify(old));
    raw.close();
    const later = { ...sampleAt(2_000), userId: "bob" };
    await store.addSampleWindow("c1", { key: "2000-n1-0", samples: [{ ...old, userId: "alice" }, later] });
    assert.deepEqual(await store.listSamples("c1"), [{ ...old, userId: "alice" }, later]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
