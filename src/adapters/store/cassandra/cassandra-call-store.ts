/**
 * The call store on Apache Cassandra (schema in schema.ts).
 *
 * calls_by_id is the source of truth and the anchor of the lightweight transactions: the answer
 * and the outcome are each set by one `UPDATE … IF` so a missed/answered race yields one outcome.
 * The history tables are denormalised copies, rewritten from the calls_by_id row after every
 * change. Every column is set at most once and a write never clears one (undefined = unset), so
 * copies written in any order, or retried, converge on the same row. The ratings are the
 * exception: a participant's new rating replaces the old, and two ratings of one side racing
 * may leave a history copy with the earlier one until the call's next write (GetCall reads
 * calls_by_id, always the latest).
 *
 * The call event log (cassandra-event-log.ts) is written with the history copies: each fact's LWT
 * (the start's `IF NOT EXISTS`, the answer's and the outcome's `IF`) also stores the event's
 * position, and only an applied LWT writes the event; one not applied repairs what an earlier
 * attempt of the same write left half-done. A start is an LWT for this reason: a retried plain
 * insert could not tell that it had been written, and would log its `started` twice. (A process
 * killed between an LWT and its batch leaves the copies, the ringing entry and the event to the
 * call's next write, as before for the copies.)
 *
 * Transient failures surface as `unavailable` DomainErrors (the outbox decorator queues writes).
 * The keyspace's schema version is checked before the first operation that reaches the cluster,
 * so a server started while Cassandra was unreachable checks it once Cassandra is back.
 */
import type cassandra from "cassandra-driver";
import type { CallRecord, CallStore, HistoryPage, HistoryQuery } from "../../../app/ports/call-store.ts";
import type { Clock } from "../../../app/ports/clock.ts";
import type { CallEventKind } from "../../../domain/call-events.ts";
import type { CallEnd, CallInfo } from "../../../domain/call-types.ts";
import type { QualitySummary } from "../../../domain/quality.ts";
import { expandWindows } from "../../../domain/sample-rollup.ts";
import { createSystemClock } from "../../clock/system-clock.ts";
import { decodeCursor, encodeCursor } from "../history-cursor.ts";
import { decodeSampleWindow, encodeSampleWindow } from "../sample-window-codec.ts";
import { type CassandraConfig, createCassandraClient } from "./cassandra-config.ts";
import { createCassandraEventLog, type Statement } from "./cassandra-event-log.ts";
import { guarded } from "./driver-errors.ts";
import { checkSchema } from "./migrate.ts";
import {
  type CallFacts,
  callColumnNames,
  callValues,
  minuteOf,
  monthOf,
  type Row,
  ratingValue,
  toRecord,
  toSample,
} from "./rows.ts";

const cols = callColumnNames.join(", ");
const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");
const q = {
  insertById: `INSERT INTO calls_by_id (call_id, ${cols}, started_pos) VALUES (?, ${marks(callColumnNames.length + 1)})
               IF NOT EXISTS`,
  insertByUser: `INSERT INTO calls_by_user (user_id, month, call_id, ${cols}) VALUES (?, ?, ?, ${marks(callColumnNames.length)})`,
  insertMissed: `INSERT INTO missed_calls_by_user (user_id, month, call_id, ${cols}) VALUES (?, ?, ?, ${marks(callColumnNames.length)})`,
  insertMonth: "INSERT INTO call_months_by_user (user_id, month) VALUES (?, ?)",
  insertRinging: "INSERT INTO ringing_by_deadline (minute, ring_deadline_ms, call_id) VALUES (?, ?, ?)",
  deleteRinging: "DELETE FROM ringing_by_deadline WHERE minute = ? AND ring_deadline_ms = ? AND call_id = ?",
  // `caller_user_id != null`: a call never started is left alone (a bare `= null` test would create it).
  answer: `UPDATE calls_by_id SET answered_device_id = ?, answered_at_ms = ?, answered_pos = ? WHERE call_id = ?
           IF caller_user_id != null AND answered_device_id = null AND outcome = null`,
  finalize: `UPDATE calls_by_id SET ${callColumnNames.map((c) => `${c} = ?`).join(", ")}, ended_pos = ?
             WHERE call_id = ? IF outcome = null`,
  rate: {
    caller: "UPDATE calls_by_id SET caller_rating = ? WHERE call_id = ?",
    callee: "UPDATE calls_by_id SET callee_rating = ? WHERE call_id = ?",
  },
  byId: "SELECT * FROM calls_by_id WHERE call_id = ?",
  months: "SELECT month FROM call_months_by_user WHERE user_id = ?",
  monthsUpTo: "SELECT month FROM call_months_by_user WHERE user_id = ? AND month <= ?",
  insertWindow: "INSERT INTO call_sample_windows (call_id, window_key, samples) VALUES (?, ?, ?)",
  windows: "SELECT samples FROM call_sample_windows WHERE call_id = ?",
  samples: "SELECT * FROM call_samples WHERE call_id = ?",
  ringing: "SELECT ring_deadline_ms, call_id FROM ringing_by_deadline WHERE minute = ? AND ring_deadline_ms < ?",
};

/** The Cassandra call store. */
export interface CassandraCallStore extends CallStore {
  /**
   * Checks the keyspace's schema version (migrate.ts `checkSchema`: `unavailable`, saying whether
   * Cassandra is unreachable or the schema wrong); once it passed it is not asked again.
   */
  checkSchema(): Promise<void>;
}

/**
 * A Cassandra call store over `config.keyspace` (which `npm run migrate` created). Connects on
 * first use; pass `client` to share one driver client (it is then not shut down by `close`).
 * `clock` positions the call events.
 */
export function createCassandraCallStore(
  config: CassandraConfig,
  client?: cassandra.Client,
  clock: Clock = createSystemClock(),
): CassandraCallStore {
  const db = client ?? createCassandraClient(config, config.keyspace);
  const idempotent = { prepare: true, isIdempotent: true };
  const lwt = { prepare: true, isIdempotent: false };
  let schemaChecked = false;

  async function schema(): Promise<void> {
    if (schemaChecked) return;
    await checkSchema(db, config.keyspace);
    schemaChecked = true;
  }

  async function exec(query: string, params: unknown[], options = idempotent): Promise<cassandra.types.ResultSet> {
    await schema();
    return db.execute(query, params, options);
  }

  /** Runs independent idempotent writes: one batch (logged when it spans partitions) or in parallel. */
  async function writeAll(statements: readonly Statement[], logged: boolean): Promise<void> {
    if (statements.length === 0) return;
    if (config.batchWrites && statements.length > 1) {
      await schema();
      await db.batch([...statements], { ...idempotent, logged });
    } else {
      await Promise.all(statements.map((s) => exec(s.query, s.params)));
    }
  }

  /** Every row of a call's partition in `query`, page by page. */
  async function allRows(query: string, callId: string, fetchSize: number): Promise<Row[]> {
    const out: Row[] = [];
    let pageState: string | undefined;
    do {
      await schema();
      const rs = await db.execute(query, [callId], { ...idempotent, fetchSize, pageState });
      out.push(...rs.rows.map((r) => r as Row));
      pageState = rs.pageState ?? undefined;
    } while (pageState);
    return out;
  }

  /** The history rows of a call: both participants' (and the callee's missed row once missed). */
  function historyRows(call: CallInfo, facts: CallFacts = {}): Statement[] {
    const month = monthOf(call.startedAtMs);
    const values = callValues(call, facts);
    const users = [...new Set([call.caller.userId, call.calleeUserId])];
    const rows = users.flatMap((user) => [
      { query: q.insertByUser, params: [user, month, call.callId, ...values] },
      { query: q.insertMonth, params: [user, month] },
    ]);
    if (facts.end?.outcome === "missed") {
      rows.push({ query: q.insertMissed, params: [call.calleeUserId, month, call.callId, ...values] });
    }
    return rows;
  }

  /** The calls_by_id row of a started call, or undefined. */
  async function rawRow(callId: string): Promise<Row | undefined> {
    const r = (await exec(q.byId, [callId])).first() as Row | null;
    return r && r.caller_user_id !== null ? r : undefined;
  }

  async function row(callId: string): Promise<CallRecord | undefined> {
    const r = await rawRow(callId);
    return r && toRecord(r);
  }

  const events = createCassandraEventLog({
    exec: (query, params, isLwt) => exec(query, params, isLwt ? lwt : idempotent),
    record: row,
    clock,
    settleMs: config.eventSettleMs,
  });

  /** Writes a fact's copies with its event, then moves the event if the write was slow. */
  async function withEvent(writes: Statement[], callId: string, kind: CallEventKind, pos: number): Promise<void> {
    await writeAll([...writes, events.row(callId, kind, pos)], true);
    await events.afterWrite(callId, kind, pos);
  }

  /**
   * Copies the stored row to the history tables (with `also`, e.g. the event just set) and drops it
   * from the ringing index once answered or ended; with `repairEvents`, also writes the events an
   * earlier attempt did not.
   */
  async function propagate(callId: string, repairEvents: boolean, also: Statement[] = []): Promise<void> {
    const raw = await rawRow(callId);
    if (!raw) return;
    if (repairEvents) await events.repair(callId, raw);
    const stored = toRecord(raw);
    const end: CallEnd | undefined =
      stored.outcome && stored.endReason && stored.endedAtMs !== undefined
        ? {
            outcome: stored.outcome,
            reason: stored.endReason,
            endedAtMs: stored.endedAtMs,
            path: stored.path,
            setupMs: stored.setupMs,
          }
        : undefined;
    const facts = {
      answeredDeviceId: stored.answeredDeviceId,
      answeredAtMs: stored.answeredAtMs,
      end,
      quality: stored.quality,
      callerRating: stored.callerRating,
      calleeRating: stored.calleeRating,
    };
    const writes = [...historyRows(stored, facts), ...also];
    if (end || stored.answeredDeviceId !== undefined) {
      writes.push({
        query: q.deleteRinging,
        params: [minuteOf(stored.ringDeadlineMs), stored.ringDeadlineMs, stored.callId],
      });
    }
    await writeAll(writes, true);
  }

  async function listPage(query: HistoryQuery): Promise<HistoryPage> {
    const table = query.missedOnly ? "missed_calls_by_user" : "calls_by_user";
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const afterMonth = after ? monthOf(after.startedAtMs) : undefined;
    const months = (
      afterMonth === undefined
        ? await exec(q.months, [query.userId])
        : await exec(q.monthsUpTo, [query.userId, afterMonth])
    ).rows.map((r) => Number(r.month));
    const want = query.limit + 1;
    const found: CallRecord[] = [];
    for (const month of months) {
      const rs =
        after && month === afterMonth
          ? await exec(
              `SELECT * FROM ${table} WHERE user_id = ? AND month = ? AND (started_at_ms, call_id) < (?, ?) LIMIT ?`,
              [query.userId, month, after.startedAtMs, after.callId, want - found.length],
            )
          : await exec(`SELECT * FROM ${table} WHERE user_id = ? AND month = ? LIMIT ?`, [
              query.userId,
              month,
              want - found.length,
            ]);
      found.push(...rs.rows.map((r) => toRecord(r as Row)));
      if (found.length >= want) break;
    }
    const calls = found.slice(0, query.limit);
    const last = calls.at(-1);
    return found.length > query.limit && last ? { calls, nextCursor: encodeCursor(last) } : { calls };
  }

  async function overdue(beforeMs: number, limit: number): Promise<CallRecord[]> {
    const first = minuteOf(beforeMs - config.overdueLookbackMs);
    const last = minuteOf(beforeMs - 1);
    const result: CallRecord[] = [];
    for (let from = first; from <= last && result.length < limit; from += 12) {
      const minutes = Array.from({ length: Math.min(12, last - from + 1) }, (_, i) => from + i);
      const pages = await Promise.all(minutes.map((m) => exec(q.ringing, [m, beforeMs])));
      const candidates = pages.flatMap((p) => p.rows.map((r) => String(r.call_id)));
      const records = await Promise.all(candidates.map((id) => row(id)));
      for (const [i, record] of records.entries()) {
        if (record && record.outcome === undefined && record.answeredDeviceId === undefined) {
          if (result.length < limit) result.push(record);
        } else if (record) {
          // A late or retried start re-added an answered or ended call: drop the stale entry.
          await exec(q.deleteRinging, [minuteOf(record.ringDeadlineMs), record.ringDeadlineMs, candidates[i]]);
        }
      }
    }
    return result;
  }

  return {
    recordStart: (call) =>
      guarded("recordStart", async () => {
        const pos = clock.now();
        const rs = await exec(q.insertById, [call.callId, ...callValues(call), pos], lwt);
        if (rs.first()?.["[applied]"] !== true) return propagate(call.callId, true); // a retry, or finalized first
        const ringing = [minuteOf(call.ringDeadlineMs), call.ringDeadlineMs, call.callId];
        await withEvent(
          [...historyRows(call), { query: q.insertRinging, params: ringing }],
          call.callId,
          "started",
          pos,
        );
      }),
    recordAnswer: (callId, deviceId, answeredAtMs) =>
      guarded("recordAnswer", async () => {
        const pos = clock.now();
        const rs = await exec(q.answer, [deviceId, answeredAtMs, pos, callId], lwt);
        if (rs.first()?.["[applied]"] !== true) {
          // Repairs the copies and the event after a write that failed half-way.
          return propagate(callId, true);
        }
        await propagate(callId, false, [events.row(callId, "answered", pos)]);
        await events.afterWrite(callId, "answered", pos);
      }),
    finalize: (call: CallInfo, end: CallEnd, quality?: QualitySummary) =>
      guarded("finalize", async () => {
        // Sets the start columns too, so a call whose start write was lost still gets its record.
        const pos = clock.now();
        const rs = await exec(q.finalize, [...callValues(call, { end, quality }), pos, call.callId], lwt);
        const applied = rs.first()?.["[applied]"] === true;
        if (applied) {
          // What was just written is the row's end state; an earlier answer's columns stay (unset, not null).
          const ringing = [minuteOf(call.ringDeadlineMs), call.ringDeadlineMs, call.callId];
          const copies = [...historyRows(call, { end, quality }), { query: q.deleteRinging, params: ringing }];
          await withEvent(copies, call.callId, "ended", pos);
        } else {
          await propagate(call.callId, true); // repairs copies and events a failed earlier attempt left behind
        }
        return applied;
      }),
    rate: (callId, side, rating) =>
      guarded("rate", async () => {
        await exec(q.rate[side], [ratingValue(rating), callId]);
        await propagate(callId, false);
      }),
    get: (callId) => guarded("get", () => row(callId)),
    listForUser: (query) => guarded("listForUser", () => listPage(query)),
    addSampleWindow: (callId, window) =>
      guarded("addSampleWindow", async () => {
        if (window.samples.length === 0) return;
        await exec(q.insertWindow, [callId, window.key, encodeSampleWindow(window.samples)]);
      }),
    listSamples: (callId) =>
      guarded("listSamples", async () => {
        const [before, windows] = await Promise.all([
          allRows(q.samples, callId, 5000),
          allRows(q.windows, callId, 500),
        ]);
        return expandWindows([
          before.map((r) => toSample(r)),
          ...windows.map((r) => decodeSampleWindow(String(r.samples))),
        ]);
      }),
    listOverdueRinging: (beforeMs, limit) => guarded("listOverdueRinging", () => overdue(beforeMs, limit)),
    readEvents: (partition, after, limit) => guarded("readEvents", () => events.readEvents(partition, after, limit)),
    headPosition: () => events.headPosition(),
    checkSchema: () => guarded("checkSchema", schema),
    async close() {
      if (!client) await db.shutdown();
    },
  };
}
