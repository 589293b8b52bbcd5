/**
 * The checkpointer thread of wal.ts: its own connection to the file, a PASSIVE checkpoint
 * every `intervalMs` (copies what it can from the WAL into the database and fsyncs, without
 * waiting for or blocking writers), a TRUNCATE one when told to stop.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 1000;");

const checkpoint = (mode: "PASSIVE" | "TRUNCATE") => {
  try {
    db.exec(`PRAGMA wal_checkpoint(${mode});`);
  } catch {
    // Busy or locked: the next round tries again.
  }
};

const timer = setInterval(() => checkpoint("PASSIVE"), intervalMs);
parentPort?.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint("TRUNCATE");
  db.close();
  parentPort?.close();
});
