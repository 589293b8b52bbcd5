/**
 * Which driver errors mean "the store cannot be reached right now". Those become an
 * `unavailable` DomainError (the outbox queues the write; a read fails fast); anything
 * else (bad CQL, bad credentials, schema mismatch) is a bug or misconfiguration and is rethrown.
 */
import cassandra from "cassandra-driver";
import { DomainError } from "../../../domain/errors.ts";

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

/** Server answers that mean "not now" rather than "never". */
const transientCodes = new Set<number>([
  codes.serverError,
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.truncateError,
  codes.writeTimeout,
  codes.readTimeout,
  codes.readFailure,
  codes.writeFailure,
]);

/** True when `e` says the cluster is unreachable, overloaded or timed out. */
export function isTransient(e: unknown): boolean {
  if (e instanceof errors.NoHostAvailableError) return true;
  if (e instanceof errors.OperationTimedOutError) return true;
  if (e instanceof errors.BusyConnectionError) return true;
  if (e instanceof errors.ResponseError) return transientCodes.has(e.code) || e.code === 0x1700; // CAS write unknown
  // Bad credentials will not fix themselves; other driver errors are connection trouble.
  if (e instanceof errors.DriverError) {
    return !(
      e instanceof errors.ArgumentError ||
      e instanceof errors.NotSupportedError ||
      e instanceof errors.AuthenticationError
    );
  }
  // Socket errors surface as plain Errors with a POSIX code (ECONNREFUSED, ECONNRESET, EPIPE, …),
  // unlike Node's own ERR_* programming errors.
  return e instanceof Error && "code" in e && typeof e.code === "string" && /^E[A-Z]+$/.test(e.code);
}

/** Runs `op` of `store`, turning transient driver failures into `unavailable` DomainErrors. */
export async function guarded<T>(what: string, op: () => Promise<T>, store = "call history store"): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    if (isTransient(e)) throw new DomainError("unavailable", `${store} unavailable`, { cause: e });
    throw new Error(`${store} ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
