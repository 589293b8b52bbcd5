/**
 * Domain errors carry one code from a fixed set; the transport maps each code to a
 * Connect/gRPC status in one table (src/transport/error-codes.ts). The message is
 * safe to show to the client; internal details go in `cause`.
 */
export type DomainErrorCode =
  | "invalid_argument"
  | "limit_exceeded"
  | "not_found"
  | "not_participant"
  | "illegal_transition"
  | "rate_limited"
  | "unauthenticated"
  | "unavailable"
  | "resume_expired";

/** A typed, client-safe error raised by the domain or application layers. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;

  constructor(code: DomainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DomainError";
    this.code = code;
  }
}

/** True when `e` is a DomainError with the given code (or any code when omitted). */
export function isDomainError(e: unknown, code?: DomainErrorCode): e is DomainError {
  return e instanceof DomainError && (code === undefined || e.code === code);
}
