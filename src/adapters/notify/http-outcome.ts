import type { SendOutcome } from "../../app/ports/push-sender.ts";

/**
 * Classifies an HTTP answer of a push service or gateway: 2xx sent; `goneStatuses`
 * gone (unregister the target); 408, 429 and 5xx retry (honouring Retry-After);
 * any other status rejected for good.
 */
export function classifyResponse(
  status: number,
  retryAfter: string | null,
  goneStatuses: readonly number[],
): SendOutcome {
  if (status >= 200 && status < 300) return { result: "sent" };
  const error = `HTTP ${status}`;
  if (goneStatuses.includes(status)) return { result: "gone", error };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return retryAfterMs === undefined ? { result: "retry", error } : { result: "retry", error, retryAfterMs };
  }
  return { result: "rejected", error };
}

/** Classifies a fetch that threw: timeouts and network errors are retried. */
export function classifyError(err: unknown): SendOutcome {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError") return { result: "retry", error: "timeout" };
  return { result: "retry", error: e?.cause?.code ?? e?.message ?? String(err) };
}

/** Retry-After as delay-seconds or HTTP-date, in ms; undefined when absent or malformed. Capped at 1 hour. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 3_600_000) : undefined;
}

/** A signal that aborts on `signal` or after `timeoutMs` (reported as a TimeoutError). */
export function withTimeout(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}
