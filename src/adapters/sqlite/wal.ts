/**
 * An embedded SQLite file in WAL mode whose checkpoints run off the event loop.
 * node:sqlite is synchronous, and a checkpoint fsyncs the WAL and the database file:
 * run on the serving thread (SQLite's automatic checkpoint, every ~4 MB of WAL), it
 * stalls every stream for milliseconds. Measured with `npm run bench -- steady-calls`
 * (signaling hop p99 at 200 / 500 / 1000 calls): 4.8–5.8 / 10.2–10.6 / 16.9–24.5 ms with
 * SQLite's automatic checkpoints, 2.3 / 5.2 / 10.0 ms with none at all, and 2.4–4.9 /
 * 3.9–12.4 / 9.4–11.8 ms with this worker (two runs each). So the serving connection never
 * checkpoints (`wal_autocheckpoint = 0`); a worker thread with its own connection
 * checkpoints the file every `checkpointIntervalMs` (PASSIVE: it never blocks writers).
 * Commits stay `synchronous = NORMAL`: durable across a process crash, and across a
 * machine crash up to the last checkpoint.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";

/** An open database and its checkpointer. */
export interface WalDatabase {
  readonly db: DatabaseSync;
  /** Stops the checkpointer (after a last checkpoint) and closes the database. */
  close(): Promise<void>;
}

/** Opens (creating its directory) `path`; `:memory:` gets no WAL and no checkpointer. */
export function openWalDatabase(path: string, checkpointIntervalMs = 1_000): WalDatabase {
  if (path === ":memory:") {
    const db = new DatabaseSync(path);
    return {
      db,
      async close() {
        if (db.isOpen) db.close();
      },
    };
  }
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec("PRAGMA wal_autocheckpoint = 0;");
  const worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url), {
    workerData: { path, intervalMs: checkpointIntervalMs },
  });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.on("error", () => {}); // a failed checkpointer leaves the WAL growing; the next open checkpoints it
  return {
    db,
    async close() {
      worker.postMessage("stop");
      await exited;
      if (db.isOpen) db.close();
    },
  };
}
