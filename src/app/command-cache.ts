/**
 * Idempotency (docs/spec.md §3): the outcome of each (user, device, command id) is
 * remembered for `ttlMs`, so a retried command gets the first attempt's result or
 * error and has no second effect. Concurrent retries share the same promise.
 */
import { deviceKey } from "../domain/call-guards.ts";
import type { DeviceRef } from "../domain/call-types.ts";
import { isDomainError } from "../domain/errors.ts";

/** The idempotency key of a command: the sending device and its command id. */
export function commandKey(from: DeviceRef, commandId: string): string {
  return `${deviceKey(from)}\u0000${commandId}`;
}

export interface CommandCache {
  /** Runs `fn` once per key within the TTL; later calls get the same settled promise. */
  once<T>(key: string, nowMs: number, fn: () => Promise<T>): Promise<T>;
}

/** Creates a cache of at most `maxEntries` outcomes. */
export function createCommandCache(ttlMs: number, maxEntries = 500_000): CommandCache {
  const entries = new Map<string, { atMs: number; outcome: Promise<unknown> }>();
  return {
    once<T>(key: string, nowMs: number, fn: () => Promise<T>): Promise<T> {
      const hit = entries.get(key);
      if (hit && nowMs - hit.atMs < ttlMs) return hit.outcome as Promise<T>;
      const outcome = fn();
      const entry = { atMs: nowMs, outcome };
      // The caller observes the rejection (the cache must not leak an unhandled one). A
      // transient failure (unavailable: nothing happened) is forgotten, so a retry runs again.
      outcome.catch((err: unknown) => {
        if (isDomainError(err, "unavailable") && entries.get(key) === entry) entries.delete(key);
      });
      entries.delete(key);
      entries.set(key, entry);
      for (const [k, v] of entries) {
        if (entries.size <= maxEntries && nowMs - v.atMs < ttlMs) break;
        entries.delete(k);
      }
      return outcome;
    },
  };
}
