/**
 * The webhook dispatcher's state on node:sqlite (docs/spec.md §9 "Webhooks"), in the call store's
 * file: nodes sharing that file (one machine) share the cursors, as they share the event log.
 */
import type { DeadLetter, WebhookCursor, WebhookState } from "../../app/ports/webhook-state.ts";
import { inTransaction, openNotifyDatabase } from "../notify/sqlite-db.ts";

const schema = `
CREATE TABLE IF NOT EXISTS webhook_cursors (
  endpoint TEXT NOT NULL,
  part INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  pending_event_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (endpoint, part)
) STRICT;
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
  endpoint TEXT NOT NULL,
  event_id TEXT NOT NULL,
  part INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  dead_at_ms INTEGER NOT NULL,
  PRIMARY KEY (endpoint, event_id)
) STRICT;
`;

interface CursorRow {
  seq: number;
  event_id: string;
  pending_event_id: string | null;
  attempts: number;
  next_attempt_at_ms: number;
  last_error: string;
}

interface LetterRow {
  endpoint: string;
  event_id: string;
  part: number;
  attempts: number;
  last_error: string;
  dead_at_ms: number;
}

/** Opens the state in the SQLite file at `path` (or ":memory:"). */
export function createSqliteWebhookState(path: string): WebhookState {
  const db = openNotifyDatabase(path);
  db.exec(schema);
  const get = db.prepare("SELECT * FROM webhook_cursors WHERE endpoint = ? AND part = ?");
  const put = db.prepare(
    `INSERT INTO webhook_cursors (endpoint, part, seq, event_id, pending_event_id, attempts, next_attempt_at_ms, last_error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (endpoint, part) DO UPDATE SET seq = excluded.seq, event_id = excluded.event_id,
       pending_event_id = excluded.pending_event_id, attempts = excluded.attempts,
       next_attempt_at_ms = excluded.next_attempt_at_ms, last_error = excluded.last_error`,
  );
  const keep = db.prepare(
    `INSERT INTO webhook_dead_letters (endpoint, event_id, part, attempts, last_error, dead_at_ms)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const letters = db.prepare(
    "SELECT * FROM webhook_dead_letters WHERE endpoint = ? ORDER BY dead_at_ms, event_id LIMIT ?",
  );
  const remove = db.prepare("DELETE FROM webhook_dead_letters WHERE endpoint = ? AND event_id = ?");

  const save = (endpoint: string, partition: number, c: WebhookCursor) => {
    const p = c.pending;
    put.run(
      endpoint,
      partition,
      c.position.seq,
      c.position.eventId,
      p?.eventId ?? null,
      p?.attempts ?? 0,
      p?.nextAttemptAtMs ?? 0,
      p?.lastError ?? "",
    );
  };

  return {
    async cursor(endpoint, partition) {
      const r = get.get(endpoint, partition) as unknown as CursorRow | undefined;
      if (!r) return undefined;
      const position = { seq: r.seq, eventId: r.event_id };
      if (r.pending_event_id === null) return { position };
      return {
        position,
        pending: {
          eventId: r.pending_event_id,
          attempts: r.attempts,
          nextAttemptAtMs: r.next_attempt_at_ms,
          lastError: r.last_error,
        },
      };
    },
    async saveCursor(endpoint, partition, cursor) {
      save(endpoint, partition, cursor);
    },
    async deadLetter(l, cursor) {
      inTransaction(db, () => {
        keep.run(l.endpoint, l.eventId, l.partition, l.attempts, l.lastError, l.deadAtMs);
        save(l.endpoint, l.partition, cursor);
      });
    },
    async deadLetters(endpoint, limit) {
      return (letters.all(endpoint, limit) as unknown as LetterRow[]).map(
        (r): DeadLetter => ({
          endpoint: r.endpoint,
          eventId: r.event_id,
          partition: r.part,
          attempts: r.attempts,
          lastError: r.last_error,
          deadAtMs: r.dead_at_ms,
        }),
      );
    },
    async removeDeadLetter(endpoint, eventId) {
      return Number(remove.run(endpoint, eventId).changes) > 0;
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
