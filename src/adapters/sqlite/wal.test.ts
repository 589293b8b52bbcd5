import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openWalDatabase } from "./wal.ts";

describe("WAL database with an off-thread checkpointer", () => {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-wal-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const size = (file: string) => statSync(file).size;

  it("never checkpoints on the serving connection; after close everything is in the file", async () => {
    const path = join(dir, "a", "calls.db");
    const wal = openWalDatabase(path, 60_000); // the worker's timer stays out of the way until close
    wal.db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const insert = wal.db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 3_000; i++) insert.run("x".repeat(500)); // ≈ 1.5 MB, one commit each
    assert.ok(size(`${path}-wal`) > 1_000_000, "the commits are in the WAL");
    assert.ok(size(path) < 100_000, "and not in the database file: the serving connection did not checkpoint");
    await wal.close();
    assert.ok(size(path) > 1_000_000, "the commits are in the database file");
    assert.ok(!existsSync(`${path}-wal`) || size(`${path}-wal`) === 0, "and nothing is left in the WAL");
  });

  it("checkpoints periodically while the database is in use", async () => {
    const path = join(dir, "b.db");
    const wal = openWalDatabase(path, 50);
    wal.db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const insert = wal.db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 2_000; i++) insert.run("y".repeat(500));
    for (let i = 0; i < 100 && size(path) < 1_000_000; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(size(path) > 1_000_000, "the worker copied them into the file while the serving connection did not");
    assert.equal((wal.db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 2_000);
    await wal.close();
  });

  it(":memory: has no WAL and no worker", async () => {
    const wal = openWalDatabase(":memory:");
    wal.db.exec("CREATE TABLE t (id INTEGER)");
    await wal.close();
    assert.equal(wal.db.isOpen, false);
  });
});
