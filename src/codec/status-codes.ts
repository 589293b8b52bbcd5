/** The one table from domain error codes to Connect/gRPC codes and their names (docs/style.md 9). */
import { Code } from "@connectrpc/connect";
import type { DomainErrorCode } from "../domain/errors.ts";

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
  permission_denied: Code.PermissionDenied,
};

/** Every code the table gives clients: what an answer to bad input may carry (besides OK). */
export const clientErrorCodes: ReadonlySet<Code> = new Set(Object.values(table));

/** The Connect code for a domain error code. */
export function codeOf(code: DomainErrorCode): Code {
  return table[code];
}

/** Connect code names in snake_case ("ok", "permission_denied"), the `code` label's values. */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Status names back to the first domain code mapped to that status (`resource_exhausted` → limit_exceeded). */
const byName = new Map<string, DomainErrorCode>();
for (const [domain, code] of Object.entries(table) as [DomainErrorCode, Code][]) {
  if (!byName.has(codeName(code))) byName.set(codeName(code), domain);
}

/** A domain code that maps to the status named `name` (a `codeName`), or undefined for one the table never gives. */
export function domainCodeOfName(name: string): DomainErrorCode | undefined {
  return byName.get(name);
}
