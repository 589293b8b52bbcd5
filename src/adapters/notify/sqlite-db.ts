import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

/**
 * Opens an embedded SQLite database for the notification adapters: WAL (readers do
 * not block the writer, several connections may share one file), a busy timeout,
 * and synchronous=FULL so a committed enqueue survives a crash of the machine too.
 * Creates the file's directory when missing.
 */
export function openNotifyDatabase(path: string): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  return db;
}

/** Runs `fn` in one write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on throw). */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
