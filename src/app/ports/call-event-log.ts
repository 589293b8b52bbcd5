import type { CallEventKind, EventPosition } from "../../domain/call-events.ts";
import type { CallRecord } from "./call-store.ts";

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

/** When the event's fact happened (the ring start, the answer, the end), from the call's record. */
export function occurredAtMs(event: LoggedCallEvent): number {
  const { call } = event;
  switch (event.kind) {
    case "started":
      return call.startedAtMs;
    case "answered":
      return call.answeredAtMs ?? call.startedAtMs;
    case "ended":
      return call.endedAtMs ?? call.startedAtMs;
  }
}
