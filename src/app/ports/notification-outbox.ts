import type { Notification } from "../../domain/call-types.ts";
import type { PushChannel } from "./push-registry.ts";

/** One notification for one device, as decided by the notifier. */
export interface OutboxNotification {
  /** Dedupe key, `${callId}:${kind}:${deviceId}`: a second enqueue with it is a no-op. */
  readonly key: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly callId: string;
  readonly kind: Notification["kind"];
  /** The channel of the device's target at enqueue time (metrics label). */
  readonly channel: PushChannel;
  /** The JSON text the device receives. */
  readonly payload: string;
  readonly urgency: "high" | "normal";
  /** Collapse key: a later message with the same topic replaces an undelivered earlier one. */
  readonly topic: string;
  /** Not delivered at or after this instant (an expired ring is dropped, never delivered late). */
  readonly expiresAtMs: number;
}

/** Where a notification is in its life: `pending` until settled once. */
export type OutboxStatus = "pending" | "sent" | "failed" | "dropped";

/** A notification and its delivery state. */
export interface OutboxRecord extends OutboxNotification {
  readonly status: OutboxStatus;
  /** Delivery attempts made so far. */
  readonly attempts: number;
  readonly createdAtMs: number;
  /** When a pending notification is next due (a claim pushes it forward by the lease). */
  readonly nextAttemptAtMs: number;
  readonly settledAtMs?: number;
  readonly lastError?: string;
}

/**
 * The durable notification outbox (docs/spec.md §8): a notification is stored
 * before the notifier resolves, delivered at least once by a dispatcher that
 * claims due rows with a lease (a crash mid-send makes the row due again when
 * the lease ends), and kept after settling so a duplicate enqueue stays a no-op
 * until purged.
 */
export interface NotificationOutbox {
  /** Stores new notifications, due at `nowMs`; returns the keys that were new (duplicates are ignored). */
  enqueue(notifications: readonly OutboxNotification[], nowMs: number): Promise<readonly string[]>;
  /**
   * Pending notifications due at `nowMs`, oldest due first, at most `limit`; each is
   * leased: not due again before `nowMs + leaseMs` unless rescheduled or settled.
   */
  claimDue(nowMs: number, limit: number, leaseMs: number): Promise<readonly OutboxRecord[]>;
  /** Counts an attempt and makes a pending notification due again at `atMs`. */
  reschedule(key: string, atMs: number, error: string): Promise<void>;
  /** Releases a claimed notification without counting an attempt (e.g. on shutdown). */
  release(key: string, atMs: number): Promise<void>;
  /**
   * Settles a pending notification; `attempted` counts an attempt. Returns false (and
   * changes nothing) when it was already settled, e.g. dropped as superseded meanwhile.
   */
  settle(
    key: string,
    status: Exclude<OutboxStatus, "pending">,
    nowMs: number,
    attempted: boolean,
    error?: string,
  ): Promise<boolean>;
  /** Drops the pending notifications of one call and kind (superseded); returns their records. */
  dropPending(
    callId: string,
    kind: Notification["kind"],
    nowMs: number,
    reason: string,
  ): Promise<readonly OutboxRecord[]>;
  /** The notification with that key, or undefined. */
  get(key: string): Promise<OutboxRecord | undefined>;
  /** Every notification of a call, oldest first. */
  listForCall(callId: string): Promise<readonly OutboxRecord[]>;
  /** When the earliest pending notification is due, or undefined when none is pending. */
  nextDueAtMs(): Promise<number | undefined>;
  /** Number of pending notifications. */
  pendingCount(): Promise<number>;
  /** Deletes notifications settled before `beforeMs`; returns how many. */
  purgeSettled(beforeMs: number): Promise<number>;
  /** Releases connections/files. */
  close(): Promise<void>;
}
