/**
 * Call lifecycle events for other backends (docs/spec.md §9 "Call events"): what they are, their
 * idempotency keys, and how the event log is split into partitions and the partitions between the
 * members of a consumer group. Pure: the store writes the log, the app reads it.
 */
import { DomainError } from "./errors.ts";
import { fnv1a } from "./hash.ts";

/** The kinds of event, in the order a call has them. A missed call is `ended` with outcome missed. */
export const callEventKinds = ["started", "answered", "ended"] as const;
export type CallEventKind = (typeof callEventKinds)[number];

/**
 * Partitions of the event log. Fixed: a call's partition is stored with its events, and a
 * different count would move calls between partitions under the consumers' cursors.
 */
export const eventPartitionCount = 16;

/** The event's stable id, the same on every write and replay of it: its idempotency key. */
export function callEventId(callId: string, kind: CallEventKind): string {
  return `${callId}:${kind}`;
}

/** The partition holding every event of `callId`. */
export function eventPartitionOf(callId: string): number {
  return fnv1a(callId) % eventPartitionCount;
}

/**
 * Where an event sits in its partition's log. Positions are ordered by `seq`, then `eventId`;
 * what `seq` counts is the store's (a commit sequence, or a write time in ms).
 */
export interface EventPosition {
  readonly seq: number;
  readonly eventId: string;
}

/** Whether `a` is before `b` in log order. */
export function isBefore(a: EventPosition, b: EventPosition): boolean {
  return a.seq < b.seq || (a.seq === b.seq && a.eventId < b.eventId);
}

/** One member's share of a consumer group. */
export interface GroupMember {
  readonly group: string;
  /** 0 ≤ index < count. */
  readonly index: number;
  /** 1 ≤ count ≤ eventPartitionCount. */
  readonly count: number;
}

/** Throws invalid_argument unless `index`/`count` name a member of a group (count 0 means 1). */
export function checkGroupMember(group: string, index: number, count: number): GroupMember {
  const members = count === 0 ? 1 : count;
  if (!Number.isInteger(members) || members < 1 || members > eventPartitionCount) {
    throw new DomainError("invalid_argument", `member_count must be 1–${eventPartitionCount} (the partition count)`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= members) {
    throw new DomainError("invalid_argument", `member_index must be 0–${members - 1} for ${members} member(s)`);
  }
  return { group, index, count: members };
}

/** The partitions member `index` of `count` reads: p with p mod count = index. */
export function partitionsOf(member: GroupMember): number[] {
  return Array.from({ length: eventPartitionCount }, (_, p) => p).filter((p) => p % member.count === member.index);
}
