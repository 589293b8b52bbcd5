/**
 * The durable FIFO behind the outbox decorator: a node:sqlite file (WAL, synchronous=FULL).
 * Appends made in the same event-loop turn share one transaction (group commit), so a burst of
 * writes during an outage costs one fsync, not one each; `append` resolves once its entry is on disk.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** The store operations the outbox can hold, with their arguments (JSON-safe). */
export type OutboxOp =
  | { readonly op: "recordStart"; readonly callId: string; readonly args: readonly unknown[] }
  | { readonly op: "recordAnswer"; readonly callId: string; readonly args: readonly unknown[] }
  | { readonly op: "finalize"; readonly callId: string; readonly args: readonly unknown[] }
  | { readonly op: "addSampleWindow"; readonly callId: string; readonly args: readonly unknown[] }
  /** Queued by a process from before sample windows: one participant's samples (replayed as a window). */
  | { readonly op: "addSamples"; readonly callId: string; readonly args: readonly unknown[] }
  | { readonly op: "rate"; readonly callId: string; readonly args: readonly unknown[] };

/** A queued operation and its position. */
export type OutboxEntry = OutboxOp & { readonly seq: number };

/** The queue's interface to the decorator. */
export interface OutboxQueue {
  /** Entries queued, including those not yet committed. */
  count(): number;
  /** Queues `entry` behind all others; resolves once it is durable. */
  append(entry: OutboxOp): Promise<void>;
  /** Commits appends still buffered. */
  flush(): void;
  /** The oldest `n` committed entries, in order. */
  peek(n: number): OutboxEntry[];
  /** Removes replayed entries. */
  remove(seqs: readonly number[]): void;
  /** Moves an entry the store rejects for good to the dead-letter table. */
  bury(seq: number, error: string): void;
  /** Whether a finalize of `callId` is queued. */
  hasFinalize(callId: string): boolean;
  close(): void;
}

/** Opens (creating) the queue at `path` (":memory:" for tests); `now` stamps buried entries. */
export function openOutboxQueue(path: string, now: () => number): OutboxQueue {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, op TEXT NOT NULL, args TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_id, op);
    CREATE TABLE IF NOT EXISTS outbox_dead (
      seq INTEGER PRIMARY KEY, call_id TEXT NOT NULL, op TEXT NOT NULL, args TEXT NOT NULL,
      error TEXT NOT NULL, buried_at_ms INTEGER NOT NULL);`);
  const insert = db.prepare("INSERT INTO outbox (call_id, op, args) VALUES (?, ?, ?)");
  const oldest = db.prepare("SELECT seq, call_id, op, args FROM outbox ORDER BY seq LIMIT ?");
  const del = db.prepare("DELETE FROM outbox WHERE seq = ?");
  const finalizes = db.prepare("SELECT 1 FROM outbox WHERE call_id = ? AND op = 'finalize' LIMIT 1");
  const toDead = db.prepare("INSERT INTO outbox_dead SELECT seq, call_id, op, args, ?, ? FROM outbox WHERE seq = ?");
  let committed = Number((db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n);
  let buffer: { entry: OutboxOp; done: (e?: unknown) => void }[] = [];

  function flush(): void {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    try {
      db.exec("BEGIN IMMEDIATE");
      for (const { entry } of batch) insert.run(entry.callId, entry.op, JSON.stringify(entry.args));
      db.exec("COMMIT");
      committed += batch.length;
      for (const b of batch) b.done();
    } catch (e) {
      if (db.isTransaction) db.exec("ROLLBACK");
      for (const b of batch) b.done(e);
    }
  }

  const inTransaction = (fn: () => void) => {
    db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  };

  return {
    count: () => committed + buffer.length,
    append(entry) {
      return new Promise<void>((resolve, reject) => {
        if (buffer.length === 0) setImmediate(flush);
        buffer.push({ entry, done: (e) => (e === undefined ? resolve() : reject(e)) });
      });
    },
    flush,
    peek(n) {
      return (oldest.all(n) as { seq: number; call_id: string; op: OutboxOp["op"]; args: string }[]).map((r) => ({
        seq: Number(r.seq),
        callId: r.call_id,
        op: r.op,
        args: JSON.parse(r.args) as unknown[],
      }));
    },
    remove(seqs) {
      if (seqs.length === 0) return;
      inTransaction(() => {
        for (const seq of seqs) committed -= Number(del.run(seq).changes);
      });
    },
    bury(seq, error) {
      inTransaction(() => {
        toDead.run(error, now(), seq);
        committed -= Number(del.run(seq).changes);
      });
    },
    hasFinalize: (callId) =>
      buffer.some((b) => b.entry.op === "finalize" && b.entry.callId === callId) || finalizes.get(callId) !== undefined,
    close() {
      flush();
      if (db.isOpen) db.close();
    },
  };
}
