/**
 * The call event log on Cassandra (docs/spec.md §9 "Call events"), used by the call store.
 *
 * Table call_events: partition (part, hour of pos), clustered by (pos, event_id). `pos` is the
 * writer's clock when it set the fact, and is stored with the fact in calls_by_id by the same
 * statement (the LWT that inserted the call, set the answer or the outcome): the event row is
 * then written with the call's history copies. A retried write that finds the fact already set
 * repairs the row from the stored position instead of writing a second one, so a replayed write
 * adds no event. A repair that finds the row missing (a write that died half-way), or a write
 * that took more than half the settle window, writes the event again at a new position (and
 * moves the stored one), so readers that passed the old position still get it: an event lost
 * would be worse than one delivered twice under the same id.
 *
 * Readers read only positions older than now − eventSettleMs: every write that could still land
 * before that line was started more than a settle window ago, and a slower one moved itself.
 */
import type cassandra from "cassandra-driver";
import type { EventPage, LoggedCallEvent } from "../../../app/ports/call-event-log.ts";
import type { CallRecord } from "../../../app/ports/call-store.ts";
import type { Clock } from "../../../app/ports/clock.ts";
import {
  type CallEventKind,
  callEventId,
  callEventKinds,
  type EventPosition,
  eventPartitionOf,
  isBefore,
} from "../../../domain/call-events.ts";
import { num, type Row } from "./rows.ts";

/** The calls_by_id column holding each kind's position. */
export const positionColumn: Record<CallEventKind, string> = {
  started: "started_pos",
  answered: "answered_pos",
  ended: "ended_pos",
};

const hourMs = 3_600_000;
/** How long event rows live (the table's default TTL): older hours are empty, not read. */
export const eventRetentionMs = 7 * 24 * hourMs;
/** Hour partitions one read visits at most, so a reader far behind moves on in reads of bounded time. */
const maxHoursPerRead = 12;
const hourOf = (pos: number) => Math.floor(pos / hourMs);

const q = {
  insert: "INSERT INTO call_events (part, hour, pos, event_id, call_id, kind) VALUES (?, ?, ?, ?, ?, ?)",
  exists: "SELECT event_id FROM call_events WHERE part = ? AND hour = ? AND pos = ? AND event_id = ?",
  page: `SELECT pos, event_id, call_id, kind FROM call_events WHERE part = ? AND hour = ?
         AND (pos, event_id) > (?, ?) AND (pos, event_id) < (?, '') LIMIT ?`,
  move: (kind: CallEventKind) =>
    `UPDATE calls_by_id SET ${positionColumn[kind]} = ? WHERE call_id = ? IF ${positionColumn[kind]} = ?`,
};

/** A statement of the store's batches. */
export interface Statement {
  readonly query: string;
  readonly params: unknown[];
}

/** What the log needs of the store. */
export interface EventLogDeps {
  readonly exec: (query: string, params: unknown[], lwt?: boolean) => Promise<cassandra.types.ResultSet>;
  readonly record: (callId: string) => Promise<CallRecord | undefined>;
  readonly clock: Clock;
  readonly settleMs: number;
}

/** The event log's part of the call store. */
export interface CassandraEventLog {
  /** The event row of `kind` of `callId` at `pos`. */
  row(callId: string, kind: CallEventKind, pos: number): Statement;
  /** After a write of an event at `pos` that started at `pos`: moves it when the write was slow. */
  afterWrite(callId: string, kind: CallEventKind, pos: number): Promise<void>;
  /** Writes the event rows a calls_by_id row's positions name but the log lacks. */
  repair(callId: string, stored: Row): Promise<void>;
  readEvents(partition: number, after: EventPosition, limit: number): Promise<EventPage>;
  headPosition(): Promise<EventPosition>;
}

/** Creates the log over the store's executor. */
export function createCassandraEventLog(deps: EventLogDeps): CassandraEventLog {
  const { exec, clock, settleMs } = deps;
  const row = (callId: string, kind: CallEventKind, pos: number): Statement => ({
    query: q.insert,
    params: [eventPartitionOf(callId), hourOf(pos), pos, callEventId(callId, kind), callId, kind],
  });

  /** Writes the event again at now, moving the stored position (only one mover wins). */
  async function move(callId: string, kind: CallEventKind, from: number): Promise<void> {
    const pos = clock.now();
    const rs = await exec(q.move(kind), [pos, callId, from], true);
    if (rs.first()?.["[applied]"] !== true) return;
    const s = row(callId, kind, pos);
    await exec(s.query, s.params);
  }

  return {
    row,
    async afterWrite(callId, kind, pos) {
      if (clock.now() - pos > settleMs / 2) await move(callId, kind, pos);
    },
    async repair(callId, stored) {
      for (const kind of callEventKinds) {
        const pos = num(stored[positionColumn[kind]]);
        if (pos === undefined) continue;
        const found = await exec(q.exists, [eventPartitionOf(callId), hourOf(pos), pos, callEventId(callId, kind)]);
        if (found.rowLength === 0) await move(callId, kind, pos);
      }
    },
    async readEvents(partition, after, limit) {
      const until = clock.now() - settleMs;
      const found: { pos: number; eventId: string; callId: string; kind: CallEventKind }[] = [];
      const first = hourOf(Math.max(after.seq, until - eventRetentionMs));
      const last = Math.min(hourOf(until), first + maxHoursPerRead - 1);
      for (let hour = first; hour <= last && found.length < limit; hour++) {
        const rs = await exec(q.page, [partition, hour, after.seq, after.eventId, until, limit - found.length]);
        for (const r of rs.rows) {
          found.push({
            pos: num(r.pos) ?? 0,
            eventId: String(r.event_id),
            callId: String(r.call_id),
            kind: String(r.kind) as CallEventKind,
          });
        }
      }
      const calls = new Map<string, Promise<CallRecord | undefined>>();
      for (const f of found) if (!calls.has(f.callId)) calls.set(f.callId, deps.record(f.callId));
      const events: LoggedCallEvent[] = [];
      for (const f of found) {
        const call = await calls.get(f.callId);
        if (!call) continue; // a row of a call whose record is gone (expired with its TTL): nothing to report
        events.push({
          partition,
          position: { seq: f.pos, eventId: f.eventId },
          eventId: f.eventId,
          kind: f.kind,
          call,
        });
      }
      const newest = found.at(-1);
      // Not full: everything up to the end of the hours visited (or the settled edge) was read.
      const settled = { seq: Math.min(until, (last + 1) * hourMs), eventId: "" };
      const next = newest && found.length >= limit ? { seq: newest.pos, eventId: newest.eventId } : settled;
      return { events, next: isBefore(next, after) ? after : next };
    },
    async headPosition() {
      return { seq: clock.now(), eventId: "" };
    },
  };
}
