/**
 * The embedded call store (single-node default): node:sqlite in WAL mode.
 * Survives restarts when given a file path; ":memory:" serves unit tests.
 *
 * The call event log (docs/spec.md §9 "Call events") is a table written in the transaction of the
 * write that changed the call. Its `seq` is the commit order (writers hold the file's write lock
 * from `BEGIN IMMEDIATE` to commit, also across processes sharing the file), so a reader that read
 * up to seq n never sees a later commit below n: events settle at commit, no window is needed.
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { LoggedCallEvent } from "../../app/ports/call-event-log.ts";
import type { CallRecord, CallStore, HistoryPage } from "../../app/ports/call-store.ts";
import { type CallEventKind, callEventId, eventPartitionOf } from "../../domain/call-events.ts";
import type { CallEnd, CallInfo, Outcome, PathType } from "../../domain/call-types.ts";
import { DomainError } from "../../domain/errors.ts";
import type { QualitySample, QualitySummary } from "../../domain/quality.ts";
import type { CallRating } from "../../domain/rating.ts";
import { expandWindows } from "../../domain/sample-rollup.ts";
import { openWalDatabase } from "../sqlite/wal.ts";
import { decodeCursor, encodeCursor } from "./history-cursor.ts";
import { decodeSampleWindow, encodeSampleWindow } from "./sample-window-codec.ts";

const migrations: readonly string[] = [
  `CREATE TABLE calls (
     call_id TEXT PRIMARY KEY,
     caller_user_id TEXT NOT NULL,
     callee_user_id TEXT NOT NULL,
     caller_device_id TEXT NOT NULL,
     video INTEGER NOT NULL,
     started_at_ms INTEGER NOT NULL,
     ring_deadline_ms INTEGER NOT NULL,
     answered_device_id TEXT,
     answered_at_ms INTEGER,
     ended_at_ms INTEGER,
     outcome TEXT,
     end_reason TEXT,
     path TEXT,
     setup_ms INTEGER,
     quality TEXT
   );
   CREATE INDEX calls_by_caller ON calls (caller_user_id, started_at_ms DESC, call_id DESC);
   CREATE INDEX calls_by_callee ON calls (callee_user_id, started_at_ms DESC, call_id DESC);
   CREATE INDEX calls_open ON calls (ring_deadline_ms) WHERE outcome IS NULL;
   CREATE TABLE call_samples (
     call_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     at_ms INTEGER NOT NULL,
     sample TEXT NOT NULL
   );
   CREATE INDEX call_samples_by_call ON call_samples (call_id, at_ms);`,
  // A retried addSamples must not duplicate samples: one sample per (call, user, time), as in Cassandra.
  `DELETE FROM call_samples WHERE rowid NOT IN (SELECT min(rowid) FROM call_samples GROUP BY call_id, user_id, at_ms);
   CREATE UNIQUE INDEX call_samples_once ON call_samples (call_id, user_id, at_ms);`,
  // The takeover sweep lists ringing calls only: answered ones leave its index.
  `DROP INDEX calls_open;
   CREATE INDEX calls_ringing ON calls (ring_deadline_ms) WHERE outcome IS NULL AND answered_at_ms IS NULL;`,
  // Post-call ratings (docs/spec.md §15), one JSON CallRating per participant.
  `ALTER TABLE calls ADD COLUMN caller_rating TEXT;
   ALTER TABLE calls ADD COLUMN callee_rating TEXT;`,
  // The call event log (docs/spec.md §9 "Call events"): one row per event id, in commit order.
  `CREATE TABLE call_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     part INTEGER NOT NULL,
     event_id TEXT NOT NULL UNIQUE,
     call_id TEXT NOT NULL,
     kind TEXT NOT NULL
   );
   CREATE INDEX call_events_by_part ON call_events (part, seq);`,
  // Quality samples rolled up per call (docs/spec.md §7 "Sample windows"): one row per window; rows of
  // call_samples (one per sample) written before stay readable and are listed with them.
  `CREATE TABLE call_sample_windows (
     call_id TEXT NOT NULL,
     window_key TEXT NOT NULL,
     samples TEXT NOT NULL,
     PRIMARY KEY (call_id, window_key)
   );`,
];

type Row = Record<string, SQLInputValue>;

/** Opens (creating and migrating) the store at `path`. */
export function createSqliteCallStore(path: string): CallStore {
  const wal = openWalDatabase(path);
  const { db } = wal;
  migrate(db);

  const insertStart = db.prepare(
    `INSERT INTO calls (call_id, caller_user_id, callee_user_id, caller_device_id, video, started_at_ms, ring_deadline_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`,
  );
  const answer = db.prepare(
    `UPDATE calls SET answered_device_id = ?, answered_at_ms = ?
     WHERE call_id = ? AND answered_device_id IS NULL AND outcome IS NULL`,
  );
  const end = db.prepare(
    `UPDATE calls SET outcome = ?, end_reason = ?, ended_at_ms = ?, answered_device_id = coalesce(answered_device_id, ?),
       answered_at_ms = coalesce(answered_at_ms, ?), path = ?, setup_ms = ?, quality = ?
     WHERE call_id = ? AND outcome IS NULL`,
  );
  const rateAs = {
    caller: db.prepare("UPDATE calls SET caller_rating = ? WHERE call_id = ?"),
    callee: db.prepare("UPDATE calls SET callee_rating = ? WHERE call_id = ?"),
  };
  const byId = db.prepare("SELECT * FROM calls WHERE call_id = ?");
  const insertWindow = db.prepare(
    "INSERT INTO call_sample_windows (call_id, window_key, samples) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const windowsOf = db.prepare("SELECT samples FROM call_sample_windows WHERE call_id = ?");
  const samplesOf = db.prepare("SELECT user_id, sample FROM call_samples WHERE call_id = ? ORDER BY at_ms, rowid");
  const insertEvent = db.prepare(
    "INSERT INTO call_events (part, event_id, call_id, kind) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
  );
  const eventsAfter = db.prepare(
    `SELECT e.seq, e.event_id, e.kind, c.* FROM call_events e JOIN calls c ON c.call_id = e.call_id
     WHERE e.part = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`,
  );
  const lastSeq = db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM call_events");
  const overdue = db.prepare(
    `SELECT * FROM calls WHERE outcome IS NULL AND answered_at_ms IS NULL AND ring_deadline_ms < ?
     ORDER BY ring_deadline_ms LIMIT ?`,
  );

  /** Appends `kind` of `callId` to the event log (a second append of one event id changes nothing). */
  function logEvent(callId: string, kind: CallEventKind): void {
    insertEvent.run(eventPartitionOf(callId), callEventId(callId, kind), callId, kind);
  }

  /** Runs `fn` in one write transaction. */
  function inTransaction<T>(fn: () => T): T {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec("COMMIT");
      return result;
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }

  function start(call: CallInfo): boolean {
    return (
      insertStart.run(
        call.callId,
        call.caller.userId,
        call.calleeUserId,
        call.caller.deviceId,
        call.video ? 1 : 0,
        call.startedAtMs,
        call.ringDeadlineMs,
      ).changes === 1
    );
  }

  return {
    async recordStart(call) {
      inTransaction(() => {
        if (start(call)) logEvent(call.callId, "started");
      });
    },
    async recordAnswer(callId, deviceId, answeredAtMs) {
      inTransaction(() => {
        if (answer.run(deviceId, answeredAtMs, callId).changes === 1) logEvent(callId, "answered");
      });
    },
    async finalize(call, e: CallEnd, quality?: QualitySummary) {
      return inTransaction(() => {
        // A finalize that creates the record (its start was lost) logs no `started`: `ended` says it all.
        start(call);
        const changed = end.run(
          e.outcome,
          e.reason,
          e.endedAtMs,
          e.answeredDeviceId ?? null,
          e.answeredAtMs ?? null,
          e.path ?? null,
          e.setupMs ?? null,
          quality ? JSON.stringify(quality) : null,
          call.callId,
        ).changes;
        if (changed === 1) logEvent(call.callId, "ended");
        return changed === 1;
      });
    },
    async rate(callId, side, rating) {
      rateAs[side].run(JSON.stringify(rating), callId);
    },
    async get(callId) {
      const row = byId.get(callId) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async listForUser(q): Promise<HistoryPage> {
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      const where = q.missedOnly
        ? "callee_user_id = :user AND outcome = 'missed'"
        : "(caller_user_id = :user OR callee_user_id = :user)";
      const page = after ? "AND (started_at_ms < :at OR (started_at_ms = :at AND call_id < :id))" : "";
      const rows = db
        .prepare(`SELECT * FROM calls WHERE ${where} ${page} ORDER BY started_at_ms DESC, call_id DESC LIMIT :limit`)
        .all({
          user: q.userId,
          limit: q.limit + 1,
          ...(after ? { at: after.startedAtMs, id: after.callId } : {}),
        }) as Row[];
      const calls = rows.slice(0, q.limit).map(toRecord);
      const last = calls.at(-1);
      return rows.length > q.limit && last ? { calls, nextCursor: encodeCursor(last) } : { calls };
    },
    async addSampleWindow(callId, window) {
      if (window.samples.length === 0) return;
      insertWindow.run(callId, window.key, encodeSampleWindow(window.samples));
    },
    async listSamples(callId) {
      const before = (samplesOf.all(callId) as Row[]).map((r) => ({
        ...(JSON.parse(String(r.sample)) as QualitySample),
        userId: String(r.user_id),
      }));
      const windows = (windowsOf.all(callId) as Row[]).map((r) => decodeSampleWindow(String(r.samples)));
      return expandWindows([before, ...windows]);
    },
    async listOverdueRinging(beforeMs, limit) {
      return (overdue.all(beforeMs, limit) as Row[]).map(toRecord);
    },
    async readEvents(partition, after, limit) {
      // Read first: every event up to it is committed, so a short page saw all of them.
      const settled = Number((lastSeq.get() as { seq: number }).seq);
      const events = (eventsAfter.all(partition, after.seq, limit) as Row[]).map(
        (r): LoggedCallEvent => ({
          partition,
          position: { seq: Number(r.seq), eventId: "" },
          eventId: String(r.event_id),
          kind: String(r.kind) as CallEventKind,
          call: toRecord(r),
        }),
      );
      const last = events.at(-1);
      const next =
        last && events.length >= limit
          ? last.position
          : { seq: Math.max(settled, after.seq, last?.position.seq ?? 0), eventId: "" };
      return { events, next };
    },
    async headPosition() {
      return { seq: Number((lastSeq.get() as { seq: number }).seq), eventId: "" };
    },
    close: () => wal.close(),
  };
}

function migrate(db: DatabaseSync): void {
  const { user_version: version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
  if (version > migrations.length) {
    throw new DomainError("unavailable", `store schema v${version} is newer than this server (v${migrations.length})`);
  }
  for (let v = version; v < migrations.length; v++) {
    db.exec("BEGIN");
    db.exec(migrations[v] as string);
    db.exec(`PRAGMA user_version = ${v + 1}`);
    db.exec("COMMIT");
  }
}

function toRecord(r: Row): CallRecord {
  const opt = <T>(v: SQLInputValue, f: (x: SQLInputValue) => T): T | undefined => (v === null ? undefined : f(v));
  return {
    callId: String(r.call_id),
    caller: { userId: String(r.caller_user_id), deviceId: String(r.caller_device_id) },
    calleeUserId: String(r.callee_user_id),
    video: r.video === 1,
    startedAtMs: Number(r.started_at_ms),
    ringDeadlineMs: Number(r.ring_deadline_ms),
    answeredDeviceId: opt(r.answered_device_id ?? null, String),
    answeredAtMs: opt(r.answered_at_ms ?? null, Number),
    endedAtMs: opt(r.ended_at_ms ?? null, Number),
    outcome: opt(r.outcome ?? null, (v) => String(v) as Outcome),
    endReason: opt(r.end_reason ?? null, (v) => String(v) as CallEnd["reason"]),
    path: opt(r.path ?? null, (v) => String(v) as PathType),
    setupMs: opt(r.setup_ms ?? null, Number),
    quality: opt(r.quality ?? null, (v) => JSON.parse(String(v)) as QualitySummary),
    callerRating: opt(r.caller_rating ?? null, (v) => JSON.parse(String(v)) as CallRating),
    calleeRating: opt(r.callee_rating ?? null, (v) => JSON.parse(String(v)) as CallRating),
  };
}
