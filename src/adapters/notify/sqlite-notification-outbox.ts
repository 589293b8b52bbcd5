import type { NotificationOutbox, OutboxRecord, OutboxStatus } from "../../app/ports/notification-outbox.ts";
import { inTransaction, openNotifyDatabase } from "./sqlite-db.ts";

const schema = `
CREATE TABLE IF NOT EXISTS notification_outbox (
  key TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL,
  payload TEXT NOT NULL,
  urgency TEXT NOT NULL,
  topic TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  settled_at_ms INTEGER,
  last_error TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS notification_outbox_due
  ON notification_outbox (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notification_outbox_call ON notification_outbox (call_id);
CREATE INDEX IF NOT EXISTS notification_outbox_settled
  ON notification_outbox (settled_at_ms) WHERE status <> 'pending';
`;

interface Row {
  key: string;
  user_id: string;
  device_id: string;
  call_id: string;
  kind: string;
  channel: string;
  payload: string;
  urgency: string;
  topic: string;
  expires_at_ms: number;
  status: string;
  attempts: number;
  created_at_ms: number;
  next_attempt_at_ms: number;
  settled_at_ms: number | null;
  last_error: string | null;
}

function toRecord(r: Row): OutboxRecord {
  return {
    key: r.key,
    userId: r.user_id,
    deviceId: r.device_id,
    callId: r.call_id,
    kind: r.kind as OutboxRecord["kind"],
    channel: r.channel as OutboxRecord["channel"],
    payload: r.payload,
    urgency: r.urgency as OutboxRecord["urgency"],
    topic: r.topic,
    expiresAtMs: r.expires_at_ms,
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    createdAtMs: r.created_at_ms,
    nextAttemptAtMs: r.next_attempt_at_ms,
    ...(r.settled_at_ms === null ? {} : { settledAtMs: r.settled_at_ms }),
    ...(r.last_error === null ? {} : { lastError: r.last_error }),
  };
}

/** Options of the embedded outbox. */
export interface SqliteNotificationOutboxOptions {
  /** SQLite file (may be shared with other embedded stores), or ":memory:". */
  readonly path: string;
}

/**
 * The embedded NotificationOutbox on node:sqlite. Every write is committed
 * (synchronous=FULL) before its promise resolves, so pending rows survive a
 * restart and a new dispatcher on the same file resumes them.
 */
export function createSqliteNotificationOutbox(options: SqliteNotificationOutboxOptions): NotificationOutbox {
  const db = openNotifyDatabase(options.path);
  db.exec(schema);
  const insert = db.prepare(`
    INSERT INTO notification_outbox (key, user_id, device_id, call_id, kind, channel, payload, urgency, topic,
      expires_at_ms, status, attempts, created_at_ms, next_attempt_at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (key) DO NOTHING`);
  const selectDue = db.prepare(`
    SELECT * FROM notification_outbox WHERE status = 'pending' AND next_attempt_at_ms <= ?
    ORDER BY next_attempt_at_ms, created_at_ms LIMIT ?`);
  const lease = db.prepare("UPDATE notification_outbox SET next_attempt_at_ms = ? WHERE key = ?");
  const reschedule = db.prepare(`UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at_ms = ?,
    last_error = ? WHERE key = ? AND status = 'pending'`);
  const release = db.prepare(
    "UPDATE notification_outbox SET next_attempt_at_ms = ? WHERE key = ? AND status = 'pending'",
  );
  const settle = db.prepare(`UPDATE notification_outbox SET status = ?, settled_at_ms = ?,
    attempts = attempts + ?, last_error = coalesce(?, last_error) WHERE key = ? AND status = 'pending'`);
  const selectPendingOf = db.prepare(
    "SELECT * FROM notification_outbox WHERE call_id = ? AND kind = ? AND status = 'pending'",
  );
  const selectOne = db.prepare("SELECT * FROM notification_outbox WHERE key = ?");
  const selectCall = db.prepare("SELECT * FROM notification_outbox WHERE call_id = ? ORDER BY created_at_ms, rowid");
  const selectNextDue = db.prepare(
    "SELECT min(next_attempt_at_ms) AS due FROM notification_outbox WHERE status = 'pending'",
  );
  const countPending = db.prepare("SELECT count(*) AS n FROM notification_outbox WHERE status = 'pending'");
  const purge = db.prepare("DELETE FROM notification_outbox WHERE status <> 'pending' AND settled_at_ms < ?");

  return {
    async enqueue(notifications, nowMs) {
      return inTransaction(db, () =>
        notifications
          .filter(
            (n) =>
              Number(
                insert.run(
                  n.key,
                  n.userId,
                  n.deviceId,
                  n.callId,
                  n.kind,
                  n.channel,
                  n.payload,
                  n.urgency,
                  n.topic,
                  n.expiresAtMs,
                  nowMs,
                  nowMs,
                ).changes,
              ) > 0,
          )
          .map((n) => n.key),
      );
    },
    async claimDue(nowMs, limit, leaseMs) {
      return inTransaction(db, () => {
        const rows = selectDue.all(nowMs, limit) as unknown as Row[];
        for (const r of rows) lease.run(nowMs + leaseMs, r.key);
        return rows.map(toRecord);
      });
    },
    async reschedule(key, atMs, error) {
      reschedule.run(atMs, error, key);
    },
    async release(key, atMs) {
      release.run(atMs, key);
    },
    async settle(key, status, nowMs, attempted, error) {
      return Number(settle.run(status, nowMs, attempted ? 1 : 0, error ?? null, key).changes) > 0;
    },
    async dropPending(callId, kind, nowMs, reason) {
      return inTransaction(db, () => {
        const rows = selectPendingOf.all(callId, kind) as unknown as Row[];
        for (const r of rows) settle.run("dropped", nowMs, 0, reason, r.key);
        return rows.map((r) => toRecord({ ...r, status: "dropped", settled_at_ms: nowMs, last_error: reason }));
      });
    },
    async get(key) {
      const row = selectOne.get(key) as Row | undefined;
      return row && toRecord(row);
    },
    async listForCall(callId) {
      return (selectCall.all(callId) as unknown as Row[]).map(toRecord);
    },
    async nextDueAtMs() {
      const row = selectNextDue.get() as { due: number | null } | undefined;
      return row?.due ?? undefined;
    },
    async pendingCount() {
      return Number((countPending.get() as { n: number }).n);
    },
    async purgeSettled(beforeMs) {
      return Number(purge.run(beforeMs).changes);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
