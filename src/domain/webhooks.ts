/**
 * Webhook delivery rules (docs/spec.md §9 "Webhooks"), pure: which events an endpoint takes,
 * what an HTTP answer means, when the next attempt is due, and which node of a cluster delivers
 * a partition of an endpoint.
 */
import type { CallEventKind } from "./call-events.ts";
import type { Outcome } from "./call-types.ts";
import { fnv1a } from "./hash.ts";

/** The events an endpoint takes: every one when both lists are empty. */
export interface WebhookFilter {
  /** Only these kinds (empty: every kind). */
  readonly kinds: readonly CallEventKind[];
  /** Only `ended` events with these outcomes (empty: every outcome); other kinds pass as `kinds` says. */
  readonly outcomes: readonly Outcome[];
}

/**
 * Whether an event of `kind` (with the call's `outcome` for `ended`) passes `filter`. Outcomes
 * narrow `ended` only; naming outcomes without kinds means only those `ended` events (a
 * "missed calls" endpoint is `{ kinds: [], outcomes: ["missed"] }`).
 */
export function passesFilter(filter: WebhookFilter, kind: CallEventKind, outcome: Outcome | undefined): boolean {
  const kinds = filter.kinds.length > 0 ? filter.kinds : filter.outcomes.length > 0 ? ["ended"] : undefined;
  if (kinds && !kinds.includes(kind)) return false;
  if (kind !== "ended" || filter.outcomes.length === 0) return true;
  return outcome !== undefined && filter.outcomes.includes(outcome);
}

/** What one attempt achieved. */
export type AttemptResult =
  /** 2xx: delivered. */
  | { readonly result: "delivered"; readonly status: number }
  /** 408, 429, 5xx, timeout, network: try again (after Retry-After when given). */
  | { readonly result: "retry"; readonly error: string; readonly status?: number; readonly retryAfterMs?: number }
  /** Any other status (3xx, 4xx, 410 included): the receiver refuses the event; it is dead-lettered at once. */
  | { readonly result: "rejected"; readonly error: string; readonly status: number };

/** Classifies an HTTP status (and its Retry-After, already in ms). */
export function classifyStatus(status: number, retryAfterMs?: number): AttemptResult {
  if (status >= 200 && status < 300) return { result: "delivered", status };
  const error = `HTTP ${status}`;
  if (status === 408 || status === 429 || status >= 500) {
    return retryAfterMs === undefined
      ? { result: "retry", error, status }
      : { result: "retry", error, status, retryAfterMs };
  }
  return { result: "rejected", error, status };
}

/** The retry schedule of an endpoint. */
export interface RetryPolicy {
  /** Attempts in all (the first included) before an event is dead-lettered. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * The delay before attempt `attempts + 1` after `attempts` failed ones: exponential (doubling
 * from initialBackoffMs, capped at maxBackoffMs) with full jitter over its upper half, so
 * endpoints that failed together do not retry together. A Retry-After longer than that wins,
 * capped at maxBackoffMs too. `random` is in [0, 1).
 */
export function backoffMs(policy: RetryPolicy, attempts: number, random: number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  const jittered = Math.round(ceiling / 2 + (ceiling / 2) * random);
  return Math.min(policy.maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * The node that delivers `partition` of `endpoint` among `nodes` (rendezvous hashing): the
 * highest hash of (node, endpoint, partition). Every node computes the same owner from the same
 * list, and a node leaving moves only its own share. Undefined when `nodes` is empty.
 */
export function deliveringNode(nodes: readonly string[], endpoint: string, partition: number): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const node of nodes) {
    const score = mix(fnv1a(`${endpoint}/${partition}@${node}`));
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** MurmurHash3's finalizer: spreads FNV-1a's last characters over every bit. */
function mix(h: number): number {
  let x = h;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
