/**
 * Domain errors carry one code from a fixed set; the transport maps each code to a
 * Connect/gRPC status in one table (src/codec/status-codes.ts). The message is
 * safe to show to the client; internal details go in `cause`.
 */
export const domainErrorCodes = [
  "invalid_argument",
  "limit_exceeded",
  "not_found",
  "not_participant",
  "illegal_transition",
  "rate_limited",
  "unauthenticated",
  "unavailable",
  "resume_expired",
  "permission_denied",
] as const;

/** One of the domain's error codes. */
export type DomainErrorCode = (typeof domainErrorCodes)[number];

/** `code` when it is a domain error code (as read off the wire), else undefined. */
export function asDomainErrorCode(code: string): DomainErrorCode | undefined {
  return (domainErrorCodes as readonly string[]).includes(code) ? (code as DomainErrorCode) : undefined;
}

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
