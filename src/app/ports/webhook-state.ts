import type { EventPosition } from "../../domain/call-events.ts";

/** An event of a partition being retried: which one, how often it failed, and when to try again. */
export interface PendingAttempt {
  readonly eventId: string;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly lastError: string;
}

/** Where the delivery of one partition to one endpoint stands. */
export interface WebhookCursor {
  /** Every event of the partition up to here was delivered, dead-lettered or filtered out. */
  readonly position: EventPosition;
  /** The next event's failed attempts, while it is being retried. */
  readonly pending?: PendingAttempt;
}

/** An event given up on: kept until it is replayed or removed. */
export interface DeadLetter {
  readonly endpoint: string;
  readonly eventId: string;
  readonly partition: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly deadAtMs: number;
}

/**
 * The webhook dispatcher's durable state (docs/spec.md §9 "Webhooks"), in the call store's
 * engine so that whichever node delivers a partition next continues from it: a cursor per
 * (endpoint, partition), and the dead letters.
 */
export interface WebhookState {
  /** The cursor of `partition` of `endpoint`; undefined before its first delivery. */
  cursor(endpoint: string, partition: number): Promise<WebhookCursor | undefined>;
  saveCursor(endpoint: string, partition: number, cursor: WebhookCursor): Promise<void>;
  /** Keeps `letter` and moves the partition's cursor past it (an event dead-lettered once is kept once). */
  deadLetter(letter: DeadLetter, cursor: WebhookCursor): Promise<void>;
  /** Up to `limit` dead letters of `endpoint`, oldest first. */
  deadLetters(endpoint: string, limit: number): Promise<DeadLetter[]>;
  /** Removes a dead letter (after its replay); false when there was none. */
  removeDeadLetter(endpoint: string, eventId: string): Promise<boolean>;
  close(): Promise<void>;
}
