import { summarize } from "../../../lib/stats.ts";
import type { LoadResult } from "../protocol.ts";

/**
 * Tracks outstanding offers per pair (streams are ordered, so answers come back FIFO) and the
 * latencies of the offers sent inside the measurement window.
 */
export type RoundTrips = {
  /** Records an offer sent now by pair `i`. */
  sent(i: number): void;
  /** Records the answer to pair `i`'s oldest outstanding offer; false when none was outstanding. */
  answered(i: number): boolean;
  outstanding(i: number): number;
  totalOutstanding(): number;
  openWindow(): void;
  closeWindow(): void;
  result(extra: Pick<LoadResult, "errors" | "errorSamples" | "openMs">): LoadResult;
};

/** Creates a tracker; `now` is a monotonic millisecond clock (performance.now in the load generator). */
export function createRoundTrips(now: () => number): RoundTrips {
  const queues = new Map<number, { at: number; counted: boolean }[]>();
  const samples: number[] = [];
  let windowOpen = false;
  let windowStart = 0;
  let windowEnd = 0;
  let total = 0;
  const queue = (i: number) => {
    let q = queues.get(i);
    if (!q) {
      q = [];
      queues.set(i, q);
    }
    return q;
  };
  return {
    sent(i) {
      queue(i).push({ at: now(), counted: windowOpen });
      total += 1;
    },
    answered(i) {
      const head = queue(i).shift();
      if (!head) return false;
      total -= 1;
      if (head.counted) samples.push(now() - head.at);
      return true;
    },
    outstanding: (i) => queue(i).length,
    totalOutstanding: () => total,
    openWindow() {
      windowOpen = true;
      windowStart = now();
    },
    closeWindow() {
      windowOpen = false;
      windowEnd = now();
    },
    result(extra) {
      let unanswered = 0;
      for (const q of queues.values()) for (const e of q) if (e.counted) unanswered += 1;
      return {
        roundTrips: samples.length,
        measuredMs: windowEnd - windowStart,
        latency: summarize(samples),
        unanswered,
        ...extra,
      };
    },
  };
}
