import type { CallEventKind } from "../../domain/call-events.ts";
import type { CallRecord } from "./call-store.ts";

/**
 * Where an event sits in its partition's log. Positions are ordered by `seq`, then `eventId`;
 * what `seq` counts is the store's (a commit sequence, or a write time in ms).
 */
export interface EventPosition {
  readonly seq: number;
  readonly eventId: string;
}

/** One event read from the log, with its call's record as stored now. */
export interface LoggedCallEvent {
  readonly partition: number;
  readonly position: EventPosition;
  readonly eventId: string;
  readonly kind: CallEventKind;
  readonly call: CallRecord;
}

/** One read of a partition: its events, and where the next read starts. */
export interface EventPage {
  readonly events: readonly LoggedCallEvent[];
  /**
   * After the last event when the page is full; else after everything settled so far, so a
   * reader of a quiet partition moves on (and its cursor stays fresh) without any event.
   */
  readonly next: EventPosition;
}

/** Whether `a` is before `b` in log order. */
export function isBefore(a: EventPosition, b: EventPosition): boolean {
  return a.seq < b.seq || (a.seq === b.seq && a.eventId < b.eventId);
}

/**
 * The call event log (docs/spec.md §9 "Call events"), written by the call store in the same write
 * as the fact it reports (recordStart → started, recordAnswer → answered, finalize → ended), and
 * only when that write changed the record, so each event is in the log once.
 */
export interface CallEventLog {
  /**
   * Up to `limit` events of `partition` after `after`, in log order. Only settled events are
   * returned: no event later enters the log before `next`, so a reader that resumes there misses none.
   */
  readEvents(partition: number, after: EventPosition, limit: number): Promise<EventPage>;
  /** A position, valid in every partition, before every event that enters the log from now on. */
  headPosition(): Promise<EventPosition>;
}
