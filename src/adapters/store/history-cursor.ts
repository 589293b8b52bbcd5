/** Opaque page tokens for history listings: the (startedAtMs, callId) of the last call on the page. */
import { DomainError } from "../../domain/errors.ts";

/** The position after which the next page starts. */
export interface HistoryPosition {
  readonly startedAtMs: number;
  readonly callId: string;
}

/** Encodes a position as a URL-safe token. */
export function encodeCursor(p: HistoryPosition): string {
  return Buffer.from(JSON.stringify([p.startedAtMs, p.callId])).toString("base64url");
}

/** Decodes a token from `encodeCursor`; anything else is an invalid_argument DomainError. */
export function decodeCursor(token: string): HistoryPosition {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === "string") {
      return { startedAtMs: v[0], callId: v[1] };
    }
  } catch {
    // fall through: not JSON
  }
  throw new DomainError("invalid_argument", "invalid page token");
}
