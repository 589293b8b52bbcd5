/** The one table from domain error codes to Connect/gRPC codes (STYLE.md 9). */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { type DomainErrorCode, isDomainError } from "../domain/errors.ts";

const table: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  limit_exceeded: Code.ResourceExhausted,
  not_found: Code.NotFound,
  not_participant: Code.PermissionDenied,
  illegal_transition: Code.FailedPrecondition,
  rate_limited: Code.ResourceExhausted,
  unauthenticated: Code.Unauthenticated,
  unavailable: Code.Unavailable,
  resume_expired: Code.FailedPrecondition,
};

/** Every code the table gives clients: what an answer to bad input may carry (besides OK). */
export const clientErrorCodes: ReadonlySet<Code> = new Set(Object.values(table));

/** The Connect code for a domain error code. */
export function codeOf(code: DomainErrorCode): Code {
  return table[code];
}

/** Turns any thrown value into a ConnectError; unexpected ones are logged and hidden behind Internal. */
export function toConnectError(err: unknown, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isDomainError(err)) return new ConnectError(err.message, codeOf(err.code), undefined, undefined, err);
  logger.error({ err }, "unexpected error");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}
