/**
 * The cursor of CallEventsService.Subscribe (docs/spec.md §9 "Call events"): opaque to consumers,
 * it holds the group and a log position per partition of the member that was sent it. Several
 * cursors joined by "." are one cursor holding all their partitions (how a group changes its
 * member count: each new member gets the old members' cursors). Symmetric: `decodeEventCursor`
 * reads what `encodeEventCursor` writes, and refuses anything else with invalid_argument.
 */
import { type EventPosition, eventPartitionCount } from "../domain/call-events.ts";
import { DomainError } from "../domain/errors.ts";

/** A decoded cursor. */
export interface EventCursor {
  readonly group: string;
  readonly positions: ReadonlyMap<number, EventPosition>;
}

const version = 1;
/** Longer tokens are refused before they are parsed. */
const maxTokenChars = 64 * 1024;
const maxEventIdChars = 256;

/** Encodes `positions` of `group` as one cursor token. */
export function encodeEventCursor(group: string, positions: ReadonlyMap<number, EventPosition>): string {
  const entries = [...positions].map(([p, { seq, eventId }]) => (eventId ? [p, seq, eventId] : [p, seq]));
  return Buffer.from(JSON.stringify([version, group, entries])).toString("base64url");
}

/** Decodes a token of `encodeEventCursor`, or several joined by "."; anything else is invalid_argument. */
export function decodeEventCursor(token: string): EventCursor {
  if (token.length > maxTokenChars) throw bad(`is longer than ${maxTokenChars} characters`);
  let group: string | undefined;
  const positions = new Map<number, EventPosition>();
  for (const part of token.split(".")) {
    const [g, entries] = decodePart(part);
    if (group !== undefined && g !== group) throw bad("joins cursors of different groups");
    group = g;
    for (const [p, position] of entries) {
      if (positions.has(p)) throw bad(`names partition ${p} twice`);
      positions.set(p, position);
    }
  }
  return { group: group ?? "", positions };
}

function decodePart(part: string): [string, [number, EventPosition][]] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw bad("is not one this service issued");
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== version || typeof v[1] !== "string" || !Array.isArray(v[2])) {
    throw bad("is not one this service issued");
  }
  const entries = (v[2] as unknown[]).map((e): [number, EventPosition] => {
    if (!Array.isArray(e) || e.length < 2 || e.length > 3) throw bad("has a malformed position");
    const [p, seq, eventId = ""] = e as unknown[];
    const partition = Number.isInteger(p) && (p as number) >= 0 && (p as number) < eventPartitionCount;
    const validSeq = Number.isSafeInteger(seq) && (seq as number) >= 0;
    if (!partition || !validSeq || typeof eventId !== "string" || eventId.length > maxEventIdChars) {
      throw bad("has a malformed position");
    }
    return [p as number, { seq: seq as number, eventId }];
  });
  return [v[1], entries];
}

const bad = (why: string) => new DomainError("invalid_argument", `cursor ${why}`);
