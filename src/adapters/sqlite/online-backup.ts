/**
 * Backup and restore of the embedded store's file (docs/spec.md §7 "Backups"), with SQLite's online
 * backup API (node:sqlite `backup()`): pages are copied a batch per step from a connection of its
 * own, while the server keeps reading and writing the file. That connection holds one read
 * transaction around every step, so the copy is of one moment and never restarts (without it, any
 * write by the server between two steps restarts the copy from page 1, measured: a busy server
 * starves it). In WAL mode a reader blocks no writer; checkpoints just stop short of its snapshot
 * until the copy is done. Restore writes the copy beside the target and renames it over; the
 * server must be stopped.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync } from "node:fs";
import { backup, DatabaseSync } from "node:sqlite";

/** Pages copied per step (16 MiB of 4 KiB pages): the unit of progress. */
export const defaultPagesPerStep = 4096;

/** How far a copy is, after each step. */
export interface BackupProgress {
  readonly totalPages: number;
  readonly remainingPages: number;
}

/** What a finished backup or restore copied. */
export interface BackupResult {
  readonly pages: number;
  readonly schemaVersion: number;
}

/** Thrown for a problem the operator can fix (a missing file, a file that is not a database). */
export class BackupError extends Error {}

/** Copies the live database at `dbPath` to `toPath` (overwritten), consistent as of one moment. */
export async function backupSqlite(
  dbPath: string,
  toPath: string,
  options: { pagesPerStep?: number; onProgress?: (p: BackupProgress) => void } = {},
): Promise<BackupResult> {
  if (!existsSync(dbPath)) throw new BackupError(`no database at ${dbPath}`);
  checkIsSqlite(dbPath);
  const source = new DatabaseSync(dbPath);
  try {
    source.exec("PRAGMA busy_timeout = 5000;");
    // One read transaction around every step: the copy is of one snapshot and never restarts.
    source.exec("BEGIN");
    source.prepare("SELECT count(*) FROM sqlite_schema").get();
    const pages = await backup(source, toPath, {
      rate: options.pagesPerStep ?? defaultPagesPerStep,
      progress: (p) => options.onProgress?.(p),
    });
    source.exec("COMMIT");
    return { pages, schemaVersion: verify(toPath) };
  } finally {
    source.close();
  }
}

/**
 * Replaces the database at `dbPath` (and its WAL) with the backup at `fromPath`, after checking the
 * backup's integrity. Only while no server has the file open.
 */
export async function restoreSqlite(
  fromPath: string,
  dbPath: string,
  options: { onProgress?: (p: BackupProgress) => void } = {},
): Promise<BackupResult> {
  if (!existsSync(fromPath)) throw new BackupError(`no backup at ${fromPath}`);
  checkIsSqlite(fromPath);
  const schemaVersion = verify(fromPath);
  if (existsSync(dbPath)) checkNotInUse(dbPath);
  const staging = `${dbPath}.restoring`;
  const source = new DatabaseSync(fromPath);
  let pages: number;
  try {
    pages = await backup(source, staging, { rate: defaultPagesPerStep, progress: (p) => options.onProgress?.(p) });
  } finally {
    source.close();
  }
  for (const stale of [`${dbPath}-wal`, `${dbPath}-shm`]) rmSync(stale, { force: true });
  renameSync(staging, dbPath);
  return { pages, schemaVersion };
}

/**
 * Refuses a database another process has open: any open WAL connection, even idle, keeps an
 * exclusive lock from being taken.
 */
function checkNotInUse(path: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
  } catch {
    throw new BackupError(`${path} is in use (stop the server before a restore)`);
  } finally {
    db.close();
  }
}

/** A readable message instead of SQLite's "file is not a database" deep in a copy. */
function checkIsSqlite(path: string): void {
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== "SQLite format 3\0") throw new BackupError(`${path} is not an SQLite database`);
}

/** Runs SQLite's integrity check on `path`; returns its schema version (PRAGMA user_version). */
function verify(path: string): number {
  const db = new DatabaseSync(path);
  try {
    const check = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
    const problems = check.map((r) => r.quick_check).filter((r) => r !== "ok");
    if (problems.length > 0) throw new BackupError(`${path} fails its integrity check: ${problems.join("; ")}`);
    return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
}
